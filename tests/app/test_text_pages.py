"""Data is shown as text: names, headers and segment names written in Markdown never render as Markdown.

A dataset whose name, column headers, run name and segment name are Markdown (an image pointing at
127.0.0.1:9, bold, an HTML tag) is opened on every page; every element Streamlit renders as Markdown
(text elements, alerts, captions, headings, widget labels and help) must carry them escaped.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pages.text import plain
from segmentation import FeatureSettings, ImportSettings, open_workspace
from tests.app.conftest import run_app
from tests.conftest import SAMPLE

IMG = "![px](http://127.0.0.1:9/px.png)"
BOLD = "**bold**"
TAG = "<img src=x>"
DATASET = f"MD {IMG} {BOLD} {TAG}"
RUN = f"Run {IMG}"
SEGMENT = f"{IMG} {BOLD} {TAG}"
CHURN = f"Churned {BOLD}"
# Unescaped Markdown of the data: an image, an HTML tag, bold, a link target.
RAW = re.compile(r"(?<!\\)!\[|(?<!\\)<img|\*\*bold|(?<!\\)\]\(")
MARKDOWN_ELEMENTS = ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader")
WIDGETS = ("button", "selectbox", "multiselect", "text_input", "number_input", "slider", "radio", "checkbox",
           "toggle", "date_input", "metric")


def test_plain_escapes_markdown_and_keeps_plain_text():
    assert plain(IMG) == r"\!\[px\]\(http\://127.0.0.1\:9/px.png\)"
    assert plain(BOLD) == r"\*\*bold\*\*"
    assert plain(TAG) == r"\<img src=x\>"
    assert plain("# 12. a_b\nnext") == r"\# 12. a\_b next"
    assert plain("12. x") == r"12\. x"
    assert plain("- a") == r"\- a"
    assert plain("a@b.fr www.x.fr `c` $x$ ~s~ [l](u) a|b &amp;") == \
        r"a\@b.fr www\.x.fr \`c\` \$x\$ \~s\~ \[l\]\(u\) a\|b \&amp;"
    assert plain("Île-de-France, 3.5 (k = 4).") == r"Île-de-France, 3.5 \(k = 4\)."
    assert plain(None) == ""


def build_markdown_store(folder: Path) -> Path:
    """A store with one dataset whose name, headers, run and segment name are Markdown (also for the browser)."""
    frame = pd.read_csv(SAMPLE / "customers.csv", sep=";", encoding="cp1252", dtype=str,
                        keep_default_na=False).iloc[:400]
    frame = frame.rename(columns={"Secteur": IMG, "Taille": BOLD, "Région": TAG})
    frame[CHURN] = ["oui" if (i * 7) % 10 < 3 else "non" for i in range(len(frame))]
    frame.to_csv(folder / "md.csv", sep=";", index=False)
    path = folder / "md.duckdb"
    ws = open_workspace(path)
    try:
        ds = ws.ingest.import_path(folder / "md.csv", ImportSettings(name=DATASET, kind="customers"))
        ds.segments.run(FeatureSettings(numeric=("Valeur contrat", "Tickets support"), categorical=(IMG, BOLD, TAG)),
                        3, name=RUN)
        ds.segments.rename_segment(RUN, 0, SEGMENT)
        assert ws.names() == [DATASET]
    finally:
        ws.close()
    return path


@pytest.fixture(scope="module")
def markdown_template(tmp_path_factory) -> Path:
    return build_markdown_store(tmp_path_factory.mktemp("markdown"))


@pytest.fixture
def markdown_db(tmp_path, monkeypatch, opened_stores, markdown_template) -> Path:
    path = tmp_path / "x.duckdb"
    shutil.copy(markdown_template, path)
    monkeypatch.setenv("SEGMENT_STUDIO_DB", str(path))
    return path


def sources(at) -> list[str]:
    """The Markdown source of every element and widget label or help the page drew."""
    out = [e.value for kind in MARKDOWN_ELEMENTS for e in getattr(at, kind)]
    for kind in WIDGETS:
        for w in getattr(at, kind):
            out += [w.label, getattr(w, "help", None) or ""]
    return out


def assert_shown_as_text(at, *expected: str) -> None:
    assert not at.exception, [e.value for e in at.exception]
    texts = sources(at)
    raw = [t for t in texts if RAW.search(t)]
    assert not raw, raw
    for text in expected:  # the data is on the page, escaped
        assert any(plain(text) in t for t in texts), (plain(text), texts)


def open_page(page: str):
    at = run_app()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_segment_page_shows_names_as_text(markdown_db, opened_stores):
    at = open_page("pages/segment.py")
    assert_shown_as_text(at)
    at.text_input(key="seg_run_name").set_value(f"Other {TAG} {BOLD}").run()
    at.button(key="run").click().run()
    assert_shown_as_text(at, f"Other {TAG} {BOLD}")           # the "Run … saved" message
    at.button(key="delete_run").click().run()                 # the confirmation quotes the run name
    assert_shown_as_text(at, f"Other {TAG} {BOLD}")


def test_profile_page_shows_names_as_text(markdown_db, opened_stores):
    at = open_page("pages/profile.py")
    assert_shown_as_text(at)
    at.text_input(key="rename_name_0").set_value(f"{BOLD} {IMG} again").run()
    at.button(key="rename_button_0").click().run()
    assert_shown_as_text(at, f"{BOLD} {IMG} again")          # the "Segment 0 is now …" message


def test_deduplicate_page_shows_names_as_text(markdown_db, opened_stores):
    at = open_page("pages/deduplicate.py")
    at.button(key="find").click().run()
    at.button(key="bulk_merge").click().run()
    assert_shown_as_text(at)
    at.button(key="undo_all").click().run()                   # the confirmation quotes the dataset name
    assert_shown_as_text(at, DATASET)


def test_audiences_page_shows_headers_as_text(markdown_db, opened_stores):
    at = open_page("pages/audiences.py")
    assert_shown_as_text(at)
    at.selectbox(key="cond_column").set_value(IMG).run()
    at.selectbox(key="cond_op").set_value("not_empty").run()
    at.button(key="add_condition").click().run()
    assert_shown_as_text(at, IMG)                             # the condition "… is not empty"


def test_behaviour_page_shows_names_as_text(markdown_db, opened_stores):
    at = open_page("pages/behaviour.py")
    assert_shown_as_text(at)
    at.selectbox(key="score_target").set_value(CHURN).run()
    at.text_input(key="score_name").set_value(f"churn {TAG}").run()
    at.button(key="score_train").click().run()
    assert not at.error, [e.value for e in at.error]
    drivers = [c.value for c in at.caption if c.value.startswith("What drives it")]
    assert len(drivers) == 1, [c.value for c in at.caption]
    assert_shown_as_text(at)
    assert any(plain(name) in drivers[0] for name in (IMG, BOLD, TAG)), drivers

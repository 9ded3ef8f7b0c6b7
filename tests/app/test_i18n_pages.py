"""Every page in French and in English, and the catalogue behind them (issue 20).

Three kinds of checks:

- **sources** (no app run): every ``_("…")`` of ``app.py``, ``app_state.py`` and ``pages/`` is a literal
  English text (an f-string would never match the catalogue) that has a French entry; every engine
  ``message("…")`` of ``segmentation/`` too; no two ``.po`` files translate one English text differently,
  and no translation loses or invents a ``{placeholder}``;
- **rendered pages** (AppTest, all seven pages, both languages): the French page shows none of the English
  catalogue texts that have a French translation, and no sentence in English words; the English page shows
  none of the French translations;
- a failure names the page (or the source file) and the texts, so whoever owns that page knows what to do.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from streamlit.testing.v1 import AppTest

from pages.text import plain
from segmentation import i18n
from tests.app.conftest import APP, TIMEOUT, app_store, sample_customers
from tests.conftest import ROOT, SAMPLE

PAGES = {  # page file -> what a failure calls it
    "pages/import_data.py": "Import",
    "pages/deduplicate.py": "Deduplicate",
    "pages/behaviour.py": "Behaviour",
    "pages/segment.py": "Segment",
    "pages/profile.py": "Profile",
    "pages/audiences.py": "Audiences",
    "pages/refresh.py": "Refresh",
}
FRAME_SOURCES = ["app.py", "app_state.py", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "pages").glob("*.py"))]
ENGINE_SOURCES = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "segmentation").rglob("*.py"))
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")

# English function words: two of them in one text of a French page means the text was left in English.
ENGLISH_WORDS = frozenset({"the", "and", "with", "your", "this", "that", "are", "is", "of", "to", "for", "from",
                           "which", "has", "have", "will", "been", "not", "no", "yet", "what", "when", "how", "there",
                           "these", "those", "its", "it", "be", "can"})
ALLOWED = frozenset({"Segment Studio", "English", "Français"})  # shown as they are in every language


# --- catalogue and sources ------------------------------------------------------------------------------------


def po_files(language: str = "fr") -> list[Path]:
    return sorted((i18n.LOCALES_DIR / language / "LC_MESSAGES").glob("*.po"))


def po_entries(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=path.parents[1].name)
    out = {}
    for entry in catalogue:
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        for msgid, text in zip(ids, strings, strict=False):
            if text and not entry.fuzzy:
                out[msgid] = text
    return out


def extracted(path: str, keyword: str) -> list[tuple[int, str]]:
    """(line, English text) of every ``keyword("…")`` in ``path`` (and of ``n_("…", "…", n)``, both texts)."""
    keywords = {keyword: (1,), "n_": (1, 2)} if keyword == "_" else {keyword: (1,)}
    found = extract_from_file("python", str(ROOT / path), keywords=keywords)
    out = []
    for line, text, _comments, _context in found:
        for one in (text if isinstance(text, tuple) else (text,)):
            if one:
                out.append((line, one))
    return out


def non_literal_calls(path: str, keyword: str) -> list[tuple[int, str]]:
    """``keyword(x)`` calls whose first argument is not a plain string literal (f-strings, variables)."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == keyword
                and node.args and not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str))):
            bad.append((node.lineno, ast.unparse(node.args[0])[:80]))
    return bad


def test_every_page_text_is_a_literal_with_a_french_entry():
    french = i18n.catalogue.__wrapped__("fr")
    problems = defaultdict(list)
    for path in FRAME_SOURCES:
        for line, text in extracted(path, "_"):
            if text not in french:
                problems[path].append(f"line {line}: no French for {text!r}")
        for line, arg in [*non_literal_calls(path, "_"), *non_literal_calls(path, "n_")]:
            problems[path].append(f"line {line}: _() of {arg} (not a literal: extraction cannot find it)")
    assert not problems, "texts without a French translation, by page file:\n" + "\n".join(
        f"{path}:\n    " + "\n    ".join(items) for path, items in sorted(problems.items()))


def test_every_engine_message_is_a_literal_with_a_french_entry():
    french = i18n.catalogue.__wrapped__("fr")
    problems = defaultdict(list)
    for path in ENGINE_SOURCES:
        if path.startswith("segmentation/cli/"):  # the CLI stays in English
            continue
        for line, text in extracted(path, "message"):
            if text not in french:
                problems[path].append(f"line {line}: no French for {text!r}")
        if path != "segmentation/i18n/__init__.py":
            for line, arg in non_literal_calls(path, "message"):
                problems[path].append(f"line {line}: message() of {arg} (not a literal)")
    assert not problems, "engine messages without a French translation, by file:\n" + "\n".join(
        f"{path}:\n    " + "\n    ".join(items) for path, items in sorted(problems.items()))


def test_no_two_po_files_translate_one_text_differently():
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in po_files():
        for msgid, text in po_entries(path).items():
            if msgid in seen and seen[msgid][1] != text:
                clashes.append(f"{msgid!r}: {seen[msgid][0]} says {seen[msgid][1]!r}, {path.name} says {text!r}")
            seen.setdefault(msgid, (path.name, text))
    assert not clashes, "one English text, two French translations:\n" + "\n".join(clashes)


def test_translations_keep_every_placeholder():
    wrong = []
    for path in po_files():
        for msgid, text in po_entries(path).items():
            if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append(f"{path.name}: {msgid!r} -> {text!r}")
    assert not wrong, "translations whose {placeholders} differ from the English text:\n" + "\n".join(wrong)


def test_every_po_file_parses_and_says_it_is_french():
    for path in po_files():
        with path.open("rb") as handle:
            catalogue = read_po(handle, locale="fr")
        assert str(catalogue.locale) == "fr", path.name
        assert po_entries(path), f"{path.name} translates nothing"


# --- rendered pages -------------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = re.sub(r"\\(.)", r"\1", text)          # plain()'s backslashes
    text = re.sub(r":material/[a-z_]+:", "", text)  # icons
    return " ".join(text.split())


def _strings(message, out: list[str]) -> None:
    """Every string field of a protobuf element (labels, bodies, help, options, placeholders...)."""
    for descriptor, value in message.ListFields():
        name = descriptor.name
        if name in {"id", "form_id", "key", "url", "page_script_hash", "data", "arrow_data", "styler", "theme",
                    "default", "format", "type", "dtype", "column_config", "element_id", "script_hash",
                    "code_text", "language", "icon", "material_icon"}:
            continue
        items = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) else [value]
        for item in items:
            if isinstance(item, str):
                if name == "spec":  # a plotly figure: its titles, axes, legends and trace names
                    out.extend(_figure_texts(item))
                elif item and len(item) < 3000:
                    out.append(item)
            elif hasattr(item, "ListFields"):
                _strings(item, out)


def _figure_texts(spec: str) -> list[str]:
    try:
        figure = json.loads(spec)
    except ValueError:
        return []
    found: list[str] = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in {"text", "name", "title", "hovertemplate", "legendgrouptitle"}:
            found.append(re.sub(r"<[^>]+>|%\{[^}]*\}", " ", node))

    walk({"layout": figure.get("layout", {}), "data": [{"name": t.get("name"), "hovertemplate": t.get(
        "hovertemplate")} for t in figure.get("data", [])]})
    return found


def page_texts(at: AppTest) -> list[str]:
    """Every text the page shows: element strings, table headers, chart titles; cleaned of escapes and icons."""
    out: list[str] = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            _strings(proto, out)
        if type(node).__name__ in {"Dataframe", "Table"}:
            with contextlib.suppress(Exception):  # a table that cannot be read back has no headers to check
                out.extend(str(c) for c in node.value.columns)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [t for t in (_clean(x) for x in out) if t and t not in ALLOWED]


def _pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{[^{}]*\}", _clean(template))
    return re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)


def foreign_texts(texts: list[str], other: dict[str, str], data: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Texts that are (or contain, for long ones) a text of the other language: ``other`` maps it to ours.

    A text of the other language that is also user data (``data``: a column of the sample, such as "Date de
    création") is not looked for: the user's own words are shown as they are.
    """
    fixed = {_clean(k) for k, v in other.items() if k != v and not PLACEHOLDER.search(k)} - set(data)
    templates = [_pattern(k) for k, v in other.items() if k != v and PLACEHOLDER.search(k)
                 and len(PLACEHOLDER.sub("", k).strip()) >= 4]
    long_ones = [k for k in fixed if len(k.split()) >= 3]
    found = []
    for text in texts:
        if text in fixed or any(p.fullmatch(text) for p in templates) or any(k in text for k in long_ones):
            found.append(text)
    return found


def english_sentences(texts: list[str]) -> list[str]:
    """Texts with two English function words (paths, file names and identifiers left out of the count)."""
    def words(text: str) -> set[str]:
        kept = " ".join(w for w in text.split() if not re.search(r"[/\\_.=@]\S", w))
        return set(re.findall(r"[a-z]+", kept.lower()))
    return [t for t in texts if len(ENGLISH_WORDS & words(t)) >= 2]


@functools.cache
def user_texts() -> frozenset[str]:
    """The sample data's own column names: user data, shown as they are in both languages."""
    names = set(sample_customers().columns)
    orders = SAMPLE / "orders.csv"
    if orders.exists():
        names |= set(pd.read_csv(orders, sep=None, engine="python", nrows=1, encoding="cp1252").columns)
    return frozenset(names)


def render(page: str, language: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["language"] = language
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "pages/import_data.py":
        at.switch_page(page).run()
        assert not at.exception, (PAGES[page], [e.value for e in at.exception])
    return at


@pytest.mark.parametrize("page", list(PAGES))
def test_french_page_shows_no_english(seeded_db, page):
    texts = [t for t in page_texts(render(page, "fr")) if t not in user_texts()]
    assert texts, f"{PAGES[page]}: the page shows no text at all"
    french = i18n.catalogue("fr")
    english_to_french = {k: v for k, v in french.items()}
    left = sorted(set(foreign_texts(texts, english_to_french, user_texts())) | set(english_sentences(texts)))
    assert not left, f"page {PAGES[page]} ({page}) in French still shows English:\n  " + "\n  ".join(left)


@pytest.mark.parametrize("page", list(PAGES))
def test_english_page_shows_no_french(seeded_db, page):
    texts = [t for t in page_texts(render(page, "en")) if t not in user_texts()]
    french_to_english = {v: k for k, v in i18n.catalogue("fr").items()}
    left = sorted(set(foreign_texts(texts, french_to_english, user_texts())))
    assert not left, f"page {PAGES[page]} ({page}) in English shows French:\n  " + "\n  ".join(left)


def test_the_checks_catch_english_on_a_french_page():
    """The detectors themselves: an untranslated catalogue text and a bare English sentence are both found."""
    catalogue = {"Import customers": "Importer des clients", "{count} rows read": "{count} lignes lues"}
    texts = ["Importer des clients", "Import customers", "5,480 rows read", "Choose the file and import it",
             "Date de création", "sample customers"]
    assert foreign_texts(texts, catalogue) == ["Import customers", "5,480 rows read"]
    assert english_sentences(texts) == ["Choose the file and import it"]


# --- choosing the language; deep links -------------------------------------------------------------------------


def test_the_browser_language_then_the_sidebar_choice_kept_in_the_store(seeded_db, opened_stores):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.context = {"locale": "fr-FR"}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Importer des clients"
    rows = {m.label: m.value for m in at.metric}["Lignes"]
    assert rows == i18n.format_number(len(sample_customers()), "fr") == "5\u202f480"
    store = app_store(opened_stores)
    version = store.version()
    assert store.preference("language") is None            # following the browser writes nothing
    switch = at.sidebar.selectbox(key="language_choice")
    assert (switch.label, switch.value, switch.options) == ("Langue", "fr", ["Français", "English"])
    switch.set_value("en").run()
    assert at.title[0].value == "Import customers"
    assert {m.label: m.value for m in at.metric}["Rows"] == "5,480"
    assert store.preference("language") == "en" and store.version() == version

    again = AppTest.from_file(APP, default_timeout=TIMEOUT)  # a new visit from the French browser
    again.context = {"locale": "fr-FR"}
    again.run()
    assert again.title[0].value == "Import customers"        # the choice kept in the store wins


def test_a_language_the_app_does_not_offer_gives_english(seeded_db, opened_stores):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.context = {"locale": "de-DE"}
    at.run()
    assert at.title[0].value == "Import customers"
    assert at.sidebar.selectbox(key="language_choice").value == "en"


def _audiences(language: str, **params) -> AppTest:
    at = render("pages/import_data.py", language)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page("pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_link_opens_a_saved_audience(seeded_db, opened_stores):
    from segmentation import AudienceSpec, Condition, open_workspace

    with open_workspace(seeded_db) as ws:
        ws.dataset("sample customers").audiences.save("Bretagne", AudienceSpec(
            dataset="sample customers", channel="email", holdout=0.1, seed=4,
            groups=((Condition("Région", "eq", "Bretagne"),),)))
    at = _audiences("fr", audience="Bretagne")
    assert at.text_input(key="audience_name").value == "Bretagne"
    assert at.slider(key="audience_holdout").value == 10
    assert [m.value for m in at.markdown if "Bretagne" in m.value] == ["Groupe 1 : **Région est Bretagne**"]
    texts = [t for t in page_texts(at) if t not in user_texts()]
    left = sorted(set(foreign_texts(texts, i18n.catalogue("fr"), user_texts())) | set(english_sentences(texts)))
    assert not left, left
    missing = _audiences("fr", audience="Nobody")
    assert [w.value for w in missing.warning] == [
        "Aucune audience enregistrée ne s'appelle Nobody dans ce fichier."]


def test_a_link_starts_an_audience_with_a_segment_of_a_run(seeded_db, opened_stores):
    from segmentation import open_workspace

    with open_workspace(seeded_db) as ws:
        segments = ws.dataset("sample customers").segments
        segments.run(segments.default_features(), k=3, name="Q1")
        segments.rename_segment("Q1", 1, "Fidèles")
        sizes = segments.sizes("Q1")
    at = _audiences("en", run="Q1", segment="1")
    picker = at.multiselect(key="audience_segments")
    assert picker.value == [1] and "1 · Fidèles" in picker.options
    assert {m.label: m.value for m in at.metric}["In the segments"] == i18n.format_number(sizes["1"], "en")
    wrong = _audiences("en", run="Q9", segment="1")
    assert [w.value for w in wrong.warning] == ["This dataset has no segment run called Q9."]


def test_the_refresh_page_after_a_refresh_and_two_snapshots_is_french(seeded_db, opened_stores, tmp_path):
    from segmentation import AudienceSpec, open_workspace
    from tests.conftest import SAMPLE as sample

    with open_workspace(seeded_db) as ws:
        ds = ws.dataset("sample customers")
        ds.segments.run(ds.segments.default_features(), k=3, name="Q1")
        for segment, name in enumerate(["Champions", "Fidèles", "À relancer"]):  # the user's names: data
            ds.segments.rename_segment("Q1", segment, name)
        ds.audiences.save("Segment 0", AudienceSpec(dataset="sample customers", segments=(0,)))
    at = render("pages/refresh.py", "fr")
    config_file = tmp_path / "project" / "pipeline.toml"
    at.text_input(key="refresh_config_file").set_value(str(config_file))
    at.text_input(key="refresh_src_0_sample-customers").set_value(str(sample / "customers.csv"))
    at.text_input(key="refresh_out_0_segment-0").set_value("out/segment 0.csv")
    at.run()
    at.button(key="refresh_save").click().run()
    at.text_input(key="refresh_run_file").set_value(str(config_file)).run()
    at.button(key="refresh_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith(plain("Mise à jour 1 terminée : sample customers : 0 nouveaux"))
    at.button(key="snapshot_take").click().run()   # nobody moved: none taken, said in French
    texts = [t for t in page_texts(at) if t not in user_texts()]
    left = sorted(set(foreign_texts(texts, i18n.catalogue("fr"), user_texts())) | set(english_sentences(texts)))
    assert not left, left
    shown = next(d.value for d in at.dataframe if "Ce qui a changé" in d.value.columns)
    assert shown["État"].tolist() == ["réussie"]


EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\U0001F000-\U0001F2FF]")


def test_no_emoji_icon_is_left_in_the_interface():
    """Emoji show as empty boxes without an emoji font (a stock Debian desktop): icons are Material symbols."""
    found = [f"{path}:{n}: {line.strip()}" for path in FRAME_SOURCES
             for n, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1) if EMOJI.search(line)]
    assert not found, "\n".join(found)
    assert EMOJI.search("icon='\U0001F3AF'") and not EMOJI.search('icon=":material/upload_file:"')


def test_the_import_page_with_a_file_to_import_is_french(seeded_db, opened_stores, french_csv):
    at = render("pages/import_data.py", "fr")
    at.file_uploader(key="uploader").set_value(("clients_fr.csv", french_csv, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [m.value for m in at.markdown if "Format" in m.value] == [
        "Format **CSV** · encodage **cp1252** · séparateur **;**"]
    texts = [t for t in page_texts(at) if t not in user_texts()]
    left = sorted(set(foreign_texts(texts, i18n.catalogue("fr"), user_texts())) | set(english_sentences(texts)))
    assert not left, left
    at.button(key="import").click().run()
    assert at.success[0].value.startswith("**4** lignes importées dans **clients\\_fr**")

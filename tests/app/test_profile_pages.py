"""The Profile page as segment cards: names, figures, traits and rules, renames in place, the way to an audience."""

from __future__ import annotations

import re

import pytest

from segmentation import FeatureSettings, open_workspace
from segmentation.segment import runs
from tests.app.conftest import run_app

FEATURES = FeatureSettings(numeric=("Valeur contrat", "Fréquence d'utilisation", "Tickets support",
                                    "Dernière activité (days ago)"), reference_date="2026-11-01")


@pytest.fixture
def with_run(seeded_db, opened_stores):
    """The seeded store with a 4-segment run "Autumn" (made before the app opens it)."""
    ws = open_workspace(seeded_db)
    try:
        ws.dataset("sample customers").segments.run(FEATURES, 4, name="Autumn")
    finally:
        ws.close()
    return seeded_db


def open_profile(**query) -> tuple:
    at = run_app()
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page("pages/profile.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def card_names(at) -> list[str]:
    """The cards' headings as a reader sees them (the page escapes Markdown in names)."""
    return [re.sub(r"\\(.)", r"\1", h.value) for h in at.subheader]


def test_no_run_yet_says_what_to_do(seeded_db, opened_stores):
    at = open_profile()
    assert [i.value for i in at.info] == ["Run a segmentation first (page Segment)."]


def test_one_card_per_segment_with_figures_traits_rule_and_distinct_names(with_run, opened_stores):
    at = open_profile()
    names = card_names(at)
    assert len(names) == 4 and len(set(names)) == 4
    assert not any("(2)" in n or n.startswith("Segment ") for n in names)
    customers = [m.value for m in at.metric if m.label == "Customers"]
    assert len(customers) == 4 and sum(int(v.replace(",", "")) for v in customers) == 5480
    assert len([m for m in at.metric if m.label == "Share of customers"]) == 4
    assert len([m for m in at.metric if m.label == "Share of value"]) == 4
    assert len([m for m in at.metric if m.label == "Reachable by e-mail"]) == 4
    rules = [c.value for c in at.caption if c.value.startswith("Rule: ")]
    assert len(rules) == 4 and all("no simple rule" not in r for r in rules)
    traits = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert len(traits) == 4
    assert all(3 <= t.count("\n- ") + 1 <= 5 for t in traits)
    assert all("all customers" in t for t in traits)
    assert [b.label for b in at.button if b.key and b.key.startswith("audience_")] == ["Build an audience"] * 4


def test_rename_in_place_persists_in_the_store_and_after_a_reload(with_run, opened_stores):
    at = open_profile()
    before = card_names(at)
    at.text_input(key="rename_name_1").set_value("Champions").run()
    at.button(key="rename_button_1").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert card_names(at) == [before[0], "Champions", before[2], before[3]]
    assert "Champions" in next(t.value for t in at.toast)
    # The store has it: a new session (a reload) shows it, and so does the engine.
    again = open_profile()
    assert card_names(again) == [before[0], "Champions", before[2], before[3]]
    ws = opened_stores[0]
    assert ws.query_value("SELECT name FROM segment_names WHERE segment = 1") == "Champions"


def test_build_an_audience_opens_audiences_with_the_segment_chosen(with_run, opened_stores):
    at = open_profile()
    at.button(key="audience_2").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["run"] == "Autumn" and at.query_params["segment"] == "2"
    assert at.title[0].value == "Audiences"
    assert at.multiselect(key="audience_segments").value == [2]


def test_a_rename_reaches_the_downloads_and_the_audiences(with_run, opened_stores):
    at = open_profile()
    before = card_names(at)
    at.text_input(key="rename_name_0").set_value("Fidèles").run()
    at.button(key="rename_button_0").click().run()
    assert card_names(at)[0] == "Fidèles"
    # The table the CSV and Excel downloads hold says the same.
    store = opened_stores[0]
    table = runs.profile_table(runs.profile_run(store, "Autumn"))
    assert table["name"].tolist() == ["Fidèles", *before[1:]] and table["size"].sum() == 5480
    at.switch_page("pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    options = at.multiselect(key="audience_segments").options
    assert options == ["0 · Fidèles", *(f"{k} · {before[k]}" for k in (1, 2, 3))]


def test_a_link_opens_the_run_it_names(with_run, opened_stores):
    at = open_profile(run="Autumn")
    assert at.selectbox(key="profile_run").value == "Autumn"
    assert len(card_names(at)) == 4


def test_french_cards(with_run, opened_stores):
    at = run_app()
    at.session_state["language"] = "fr"
    at.switch_page("pages/profile.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Portraits des segments"
    assert [m.label for m in at.metric][:4] == ["Clients", "Part des clients", "Part de la valeur",
                                                "Joignables par e-mail"]
    names = card_names(at)
    assert not any(w in n for n in names for w in ("High ", "Low ", "Recent ", " long ago"))
    assert [b.label for b in at.button if b.key and b.key.startswith("audience_")] == ["Créer une audience"] * 4


def test_details_show_the_charts_only_once_opened(with_run, opened_stores):
    at = open_profile()
    assert not at.get("plotly_chart")
    at.session_state["profile_details"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.get("plotly_chart")) == 4          # heat map, snake plot, box plot, map
    assert at.selectbox(key="profile_box").options == list(FEATURES.numeric)

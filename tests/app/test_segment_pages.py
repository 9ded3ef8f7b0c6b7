"""The Segment, Profile and Behaviour pages stay in step with the store (no page keeps a key of its own).

Each test reproduces a stale screen of before the write version: a page read once, the store changed by
another page or another session, the page read again.
"""

from __future__ import annotations

from datetime import date

import pytest

import app_state
from segmentation import FeatureSettings, Workspace
from segmentation.ingest.repository import DatasetsRepository
from tests.app.conftest import app_store, run_app

FEATURES = FeatureSettings(numeric=("Valeur contrat", "Fréquence d'utilisation", "Tickets support"),
                           reference_date="2026-11-01")


@pytest.fixture
def workspaces(opened_stores, monkeypatch) -> list[Workspace]:
    """Every workspace the app opens during the test (the tests drive the engine on the app's own store)."""
    opened: list[Workspace] = []
    recording = app_state.open_workspace  # the opened_stores fixture's, which closes them at the end

    def keep(*args, **kwargs):
        ws = recording(*args, **kwargs)
        opened.append(ws)
        return ws

    monkeypatch.setattr(app_state, "open_workspace", keep)
    return opened


def test_segment_page_offers_rfm_measures_computed_after_it_was_shown(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    ds_id = DatasetsRepository(s).dataset("sample customers").id
    at.switch_page("pages/segment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    before = at.multiselect(key=f"seg_numeric_{ds_id}").options
    assert "Valeur contrat" in before and not [o for o in before if o.startswith("RFM ")]
    # Compute RFM on the Behaviour page, then come back: the measures are features now.
    at.switch_page("pages/behaviour.py").run()
    at.date_input(key="rfm_as_of").set_value(date(2026, 11, 1)).run()
    at.button(key="rfm_compute").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.switch_page("pages/segment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    after = at.multiselect(key=f"seg_numeric_{ds_id}").options
    assert [o for o in after if o not in before] == ["RFM recency (days)", "RFM frequency", "RFM monetary",
                                                      "RFM average order", "RFM tenure (days)", "R score",
                                                      "F score", "M score", "RFM orders (all time)"]
    assert "RFM group" in at.multiselect(key=f"seg_categorical_{ds_id}").options


def profile_names(at) -> list[str]:
    tables = {tuple(d.value.columns)[:3]: d.value for d in at.dataframe}
    return tables[("segment", "name", "rule")]["name"].tolist()


def test_renamed_segment_keeps_its_name_after_a_reload_in_profile_csv_and_audiences(seeded_db, opened_stores,
                                                                                    workspaces):
    at = run_app()
    s = app_store(opened_stores)
    at.switch_page("pages/profile.py").run()
    assert [i.value for i in at.info] == ["Run a segmentation first (page Segment)."]
    handle = workspaces[0].dataset("sample customers")
    run = handle.segments.run(FEATURES, 3, name="Autumn")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    suggested = profile_names(at)
    assert suggested == [handle.segments.names("Autumn")[k] for k in range(3)] and "Champions" not in suggested
    at.selectbox(key="rename_segment").set_value(1).run()
    at.text_input(key="rename_name").set_value("Champions").run()
    at.button(key="rename_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert profile_names(at) == [suggested[0], "Champions", suggested[2]]

    # A reload is a new session on the same store and the same process-wide caches.
    again = run_app()
    assert app_store(opened_stores) is s
    again.switch_page("pages/profile.py").run()
    assert not again.exception, [e.value for e in again.exception]
    assert again.selectbox(key="profile_run").value == "Autumn"
    assert profile_names(again) == [suggested[0], "Champions", suggested[2]]
    # The table the CSV and Excel downloads hold says the same.
    table = handle.segments.profile_table("Autumn")
    assert table["name"].tolist() == [suggested[0], "Champions", suggested[2]]
    assert table["size"].sum() == run.customers == 5480
    # And so does the Audiences page.
    again.switch_page("pages/audiences.py").run()
    assert not again.exception, [e.value for e in again.exception]
    assert again.multiselect(key="audience_segments").options == [f"0 · {suggested[0]}", "1 · Champions",
                                                                  f"2 · {suggested[2]}"]


"""After a merge, the pages that read customers build the golden records first, under a progress bar (issue 21:
no bare spinner), once: the next run finds them built and shows no bar."""

from __future__ import annotations

import pytest

import app_state
from segmentation import open_workspace
from segmentation.customers import repository
from segmentation.ingest.repository import DatasetsRepository
from tests.app.conftest import app_store, run_app

DATASET = "sample customers"


@pytest.fixture
def merged_db(seeded_db):
    """The seeded store with two merges made after the golden records were last built (so they are stale)."""
    ws = open_workspace(seeded_db)
    try:
        handle = ws.dataset(DATASET)
        handle.dedupe.merge(pairs=[(1, 2), (3, 4)])
        assert not handle.customers.ready()
    finally:
        ws.close()
    return seeded_db


@pytest.fixture
def bars(monkeypatch) -> list[tuple[float, str]]:
    """Every (fraction, text) a page's progress bar showed, the text as the reader saw it."""
    shown: list[tuple[float, str]] = []
    original = app_state.progress_bar

    def recording():
        bar = original()

        def progress(fraction, message):
            shown.append((fraction, app_state.say(message)))
            bar(fraction, message)
        return progress

    monkeypatch.setattr(app_state, "progress_bar", recording)
    return shown


def golden_built(opened_stores) -> bool:
    store = app_store(opened_stores)
    return repository.golden_current(store, DatasetsRepository(store).dataset(DATASET))


@pytest.mark.parametrize(("page", "language", "first", "last"), [
    ("pages/audiences.py", "en", "Building the golden records (one per customer after the merges)",
     "Golden records ready"),
    ("pages/segment.py", "fr", "Construction des fiches de référence (une par client après les fusions)",
     "Fiches de référence prêtes"),
])
def test_a_page_after_a_merge_builds_the_golden_records_under_a_progress_bar(merged_db, opened_stores, bars, page,
                                                                             language, first, last):
    at = run_app()
    at.session_state["language"] = language
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert golden_built(opened_stores)
    assert bars[0] == (0.0, first) and bars[-1] == (1.0, last), bars
    assert not at.get("progress")                    # the bar goes once the records are built
    bars.clear()
    at.run()
    assert not at.exception and bars == []           # built once: no bar on the next run


def test_no_bar_without_merges(seeded_db, opened_stores, bars):
    at = run_app()
    at.switch_page("pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert bars == []

"""Shared pieces of the app tests: a store per test, the seeded template, running the app.

Each test runs the real ``app.py`` (router, cached workspace, page) on a store of its own, named by
``SEGMENT_STUDIO_DB``; Streamlit's caches are cleared around every test and every store the app
opened is closed, so no test sees another's data or keeps a file open.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

import app_state
from segmentation import open_workspace
from segmentation.core.store import Store
from segmentation.ingest.repository import DatasetsRepository
from tests.conftest import ROOT, SAMPLE

APP = str(ROOT / "app.py")
# Seconds for one script run. The first run seeds the store from sample_data/ (a few seconds); on 2 shared cores,
# with the other test worker and a browser test's server busy beside it, a run takes several times as long.
TIMEOUT = 180


def sample_customers() -> pd.DataFrame:
    """sample_data/customers.csv, read independently of the app's reader."""
    return pd.read_csv(SAMPLE / "customers.csv", sep=";", encoding="cp1252", dtype=str, keep_default_na=False)


def sample_customer_count() -> int:
    return len(sample_customers())


def clear_streamlit_caches() -> None:
    # cache_data entries are keyed by upload and dataset ids, which restart at 1 in every store.
    st.cache_data.clear()
    st.cache_resource.clear()
    app_state.get_workspace.clear()


@pytest.fixture(autouse=True)
def error_details():
    """The app's config hides tracebacks from users; a failing test should show them."""
    with patch_config_options({"client.showErrorDetails": "full"}):
        yield


@pytest.fixture
def opened_stores(monkeypatch):
    """The store of every workspace the app opens during the test; closed at the end so the files are released."""
    opened: list[Store] = []

    def recording_open(*args, **kwargs):
        ws = open_workspace(*args, **kwargs)
        opened.append(ws.store)
        return ws

    monkeypatch.setattr(app_state, "open_workspace", recording_open)
    clear_streamlit_caches()
    yield opened
    clear_streamlit_caches()
    for s in opened:
        s.close()


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> Path:
    """A store seeded once with the sample data, copied by the tests that do not test seeding."""
    path = tmp_path_factory.mktemp("template") / "seeded.duckdb"
    ws = open_workspace(path)
    try:
        app_state.seed(ws)
        assert ws.names() == ["sample orders", "sample customers"]
    finally:
        ws.close()
    return path


@pytest.fixture
def empty_db(tmp_path, monkeypatch, opened_stores) -> Path:
    path = tmp_path / "x.duckdb"
    monkeypatch.setenv("SEGMENT_STUDIO_DB", str(path))
    return path


@pytest.fixture
def seeded_db(tmp_path, monkeypatch, opened_stores, seeded_template) -> Path:
    path = tmp_path / "x.duckdb"
    shutil.copy(seeded_template, path)
    monkeypatch.setenv("SEGMENT_STUDIO_DB", str(path))
    return path


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def app_store(opened: list[Store]) -> Store:
    assert len(opened) == 1, f"the app should open exactly one store, opened {len(opened)}"
    return opened[0]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def dataset_summary(s: Store) -> list[tuple[str, int, str]]:
    return [(d.name, d.row_count, d.kind) for d in DatasetsRepository(s).datasets()]



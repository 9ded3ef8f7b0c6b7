"""Shared state of the Streamlit app: the cached store and every session key.

Session state holds ids and settings only; data stays in the DuckDB store.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import streamlit as st

from segmentation.errors import SegmentStudioError
from segmentation.importer import ImportSettings, import_path
from segmentation.store import Store

SAMPLE_DIR = Path(__file__).parent / "sample_data"
log = logging.getLogger("segment_studio")

# Every session key, with its default.
DEFAULTS: dict[str, object] = {
    "dataset": None,          # name of the dataset the pages work on
    "uploads": {},            # uploader file id -> store upload id
    "active_upload": None,    # upload id being previewed
    "flash": None,            # a message to show once, after a rerun
    "review_pos": 0,          # position in the Deduplicate review queue
    "imported": {},           # "upload id/sheet" -> dataset name, so one file is not imported twice
    "profile_run": None,      # run shown on the Profile page
    "names_version": 0,       # bumped when segment names are saved (refreshes cached profiles)
    "audience_conditions": [],  # conditions of the audience being built: {group, column, op, value}
    "audience_suppression": {},  # uploaded suppression file id -> its saved list id
}


def _db_argument() -> str | None:
    """``streamlit run app.py -- --db PATH`` (else the store's own default)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known.db


def seed(store: Store) -> None:
    """Import the bundled sample data into an empty store, so a new user sees something."""
    if store.datasets():
        return
    for file_name, kind in (("customers.csv", "customers"), ("orders.csv", "transactions")):
        path = SAMPLE_DIR / file_name
        if path.exists():
            try:
                import_path(store, path, ImportSettings(name=f"sample {Path(file_name).stem}", kind=kind))
            except SegmentStudioError:
                log.exception("Could not seed the store with %s", path)


@st.cache_resource(show_spinner="Opening the working store…", on_release=Store.close)
def get_store(path: str | None = None) -> Store:
    """The process-wide store (one DuckDB connection; a cursor per call)."""
    store = Store(path)
    seed(store)
    return store


def store() -> Store:
    """The store for this run of the script."""
    return get_store(_db_argument())


def init() -> None:
    """Give every session key its default; call once at the top of the app."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, dict | list) else value


def progress_bar():
    """A progress bar and the ``progress(fraction, message)`` callback the engine calls."""
    bar = st.progress(0.0)
    return lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message)


def show_flash() -> None:
    """Show, once, the message a page left before its ``st.rerun()``."""
    if st.session_state.flash:
        st.success(st.session_state.flash)
        st.session_state.flash = None


def _remember(key: str) -> None:
    st.session_state.dataset = st.session_state[key]


def pick_dataset(names: list[str], key: str, label: str = "Dataset") -> str:
    """A dataset selectbox that remembers the choice across pages in ``st.session_state.dataset``.

    The shared key is never a widget key: Streamlit forgets a widget's key on
    pages where the widget is not drawn.
    """
    current = st.session_state.get("dataset")
    if current not in names:
        current = names[0]
    # Another page (or an import) may have changed the shared choice since this widget was drawn.
    st.session_state[key] = current
    choice = st.selectbox(label, names, key=key, on_change=_remember, args=(key,))
    st.session_state.dataset = choice
    return choice

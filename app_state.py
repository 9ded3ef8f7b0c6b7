"""Shared state of the Streamlit app: the workspace, the version-keyed cache and every session key.

Session state holds ids and settings only; data stays in the DuckDB store.
Pages reach the engine through :func:`workspace` and :func:`dataset` only, and
cache what they read with :func:`cached`, which keys on the store's write
version: any committed write anywhere makes every cached read fresh again.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

import streamlit as st

from segmentation import DatasetHandle, ImportSettings, SegmentStudioError, Workspace, i18n, open_workspace

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
    "audience_conditions": [],  # conditions of the audience being built: {group, column, op, value}
    "audience_suppression": {},  # uploaded suppression file id -> its saved list id
    "language": None,         # "fr" or "en": the store's choice, else the browser's (see language())
}


def _db_argument() -> str | None:
    """``streamlit run app.py -- --db PATH`` (else the store's own default)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known.db


def seed(ws: Workspace, progress=None) -> None:
    """Import the bundled sample data into an empty store, so a new user sees something.

    ``progress(fraction, message)``, if given, is told how far the two imports have gone.
    """
    if ws.datasets():
        return
    files = (("customers.csv", "customers"), ("orders.csv", "transactions"))
    for i, (file_name, kind) in enumerate(files):
        path = SAMPLE_DIR / file_name
        if path.exists():
            told = None if progress is None else (
                lambda fraction, _message, i=i, file_name=file_name: progress(
                    (i + fraction) / len(files), _("Loading the sample data ({file})…", file=file_name)))
            try:
                ws.ingest.import_path(path, ImportSettings(name=f"sample {Path(file_name).stem}", kind=kind),
                                      progress=told)
            except SegmentStudioError:
                log.exception("Could not seed the store with %s", path)


@st.cache_resource(show_spinner=False, on_release=Workspace.close)
def get_workspace(path: str | None = None) -> Workspace:
    """The process-wide workspace (one DuckDB connection; a cursor per call); seeded by :func:`opening_workspace`."""
    return open_workspace(path)


@st.cache_resource(show_spinner=False)
def _seeding(path: str | None) -> dict:
    """Whether the store at ``path`` was seeded (or found with data) in this process: once per store and process,
    so a user who deletes every dataset is not given the sample again on the next click."""
    return {"done": False}


_SEED_LOCK = threading.Lock()  # two sessions opening a new store at once: one seeds it, the other waits


def routed() -> None:
    """Make sure ``app.py`` routes this run: a deep link opened first on a fresh server runs the page alone.

    Until ``st.navigation`` has run once in the process, Streamlit treats ``pages/`` as an old-style
    multipage folder: ``/profile?run=…`` as a first request runs ``pages/profile.py`` without the router
    (no session defaults, a menu listing every module of ``pages/``). The page is then run again through
    ``app.py``, which keeps the address and its query parameters. A session the router has set up
    already is left alone (``AppTest`` runs a page it switched to that way, with the session of the app).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory and "flash" not in st.session_state:
        PagesManager.uses_pages_directory = False
        st.rerun()


def workspace() -> Workspace:
    """The workspace for this run of the script."""
    routed()
    return get_workspace(_db_argument())


def opening_workspace() -> Workspace:
    """:func:`workspace`, with a spinner the first time (opening takes a moment), then the sample data imported into
    an empty store under a progress bar (seconds), once per store and process (:func:`seed`)."""
    with st.spinner(_("Opening the working store…")):
        ws = workspace()
    seeding = _seeding(_db_argument())
    if not seeding["done"]:
        with _SEED_LOCK:
            if not seeding["done"]:
                if not ws.datasets():
                    with (slot := st.empty()):
                        seed(ws, progress_bar())
                    slot.empty()
                seeding["done"] = True
    return ws


def dataset(name: str | None = None, kind: str = "customers") -> DatasetHandle:
    """A handle on the dataset ``name`` (else the newest of ``kind``) of the workspace."""
    return workspace().dataset(name, kind)


@st.cache_data(show_spinner=False, max_entries=256)
def _memo(version: int, store_path: str, owner: str, method: str, args: tuple, kwargs: tuple, _call):
    return _call()


def cached(owner, method: str, *args, **kwargs):
    """``getattr(owner, method)(*args, **kwargs)``, cached until the store's next committed write.

    ``owner`` is the workspace, a dataset handle or one of its stages; the key
    is the store's write version, the owner (its class and dataset id), the
    method's name and the arguments (which must be hashable by Streamlit:
    settings dataclasses, strings, numbers). No page builds a key of its own.
    """
    ws = workspace()
    handle = getattr(owner, "handle", owner)
    who = f"{type(owner).__name__}:{getattr(handle, 'id', '')}"
    return _memo(ws.version, str(ws.path), who, method, args, tuple(sorted(kwargs.items())),
                 lambda: getattr(owner, method)(*args, **kwargs))


def init() -> None:
    """Give every session key its default; call once at the top of the app."""
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value.copy() if isinstance(value, dict | list) else value


def prepare_customers(handle) -> None:
    """Build a dataset handle's golden records now if a merge, an undo or new rules left them stale, under a
    progress bar that goes once they are built (a million records take seconds; reading them after is quick)."""
    if handle.customers.ready():
        return
    with (slot := st.empty()):
        handle.customers.prepare(progress_bar())
    slot.empty()


def progress_bar():
    """A progress bar and the ``progress(fraction, message)`` callback the engine calls."""
    bar = st.progress(0.0)
    return lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=say(message))


def show_flash() -> None:
    """Show, once, the message a page left before its ``st.rerun()``."""
    if st.session_state.flash:
        st.success(say(st.session_state.flash))
        st.session_state.flash = None


def _remember(key: str) -> None:
    st.session_state.dataset = st.session_state[key]


def pick_dataset(names: list[str], key: str, label: str | None = None) -> str:
    """A dataset selectbox that remembers the choice across pages in ``st.session_state.dataset``.

    The shared key is never a widget key: Streamlit forgets a widget's key on
    pages where the widget is not drawn.
    """
    current = st.session_state.get("dataset")
    if current not in names:
        current = names[0]
    # Another page (or an import) may have changed the shared choice since this widget was drawn.
    st.session_state[key] = current
    choice = st.selectbox(label or _("Dataset"), names, key=key, on_change=_remember, args=(key,))
    st.session_state.dataset = choice
    return choice



LANGUAGE_KEY = "language"  # the store preference (and the session key) of the interface language


def language() -> str:
    """The interface language: the session's, else the one chosen before (kept in the store), else the browser's.

    The browser's is ``st.context.locale`` (``"fr-FR"`` -> ``"fr"``); a language the app does not offer
    gives English.
    """
    routed()
    chosen = st.session_state.get(LANGUAGE_KEY)
    if chosen not in i18n.LANGUAGES:
        try:
            chosen = workspace().preference(LANGUAGE_KEY)
        except (SegmentStudioError, OSError):  # the store cannot be opened: the browser decides
            chosen = None
        if chosen not in i18n.LANGUAGES:
            chosen = i18n.pick_language(getattr(st.context, "locale", None))
        st.session_state[LANGUAGE_KEY] = chosen
    return chosen


def _choose_language() -> None:
    chosen = st.session_state.get("language_choice")
    if chosen in i18n.LANGUAGES:
        st.session_state[LANGUAGE_KEY] = chosen
        try:
            workspace().set_preference(LANGUAGE_KEY, chosen)
        except (SegmentStudioError, OSError):  # kept for this session only
            log.exception("Could not keep the language choice in the store")


def language_switch(container) -> None:
    """The sidebar's language choice (remembered in the store for the next visit)."""
    st.session_state["language_choice"] = language()
    container.selectbox(_("Language"), list(i18n.LANGUAGES), format_func=i18n.LANGUAGE_NAMES.get,
                        key="language_choice", on_change=_choose_language)


def _(text: str, /, **values) -> str:
    """``text`` (English, a catalogue msgid) in the interface language, ``values`` filled in and formatted."""
    return i18n.translate(text, language(), **values)


def n_(singular: str, plural: str, count, /, **values) -> str:
    """:func:`_` for a text that depends on a number: ``n_("{count} customer", "{count} customers", n)``."""
    return i18n.translate_plural(singular, plural, count, language(), **values)


def say(item) -> str:
    """An engine :class:`segmentation.i18n.Message`, an error, or an English text, in the interface language."""
    return i18n.render(item, language())


def number(value, digits: int | None = None) -> str:
    """A number for the interface language (``5 480`` / ``5,480``)."""
    return i18n.format_number(value, language(), digits)


def money(value, currency: str = "EUR", digits: int = 0) -> str:
    """An amount for the interface language (``3 885 €`` / ``€3,885``)."""
    return i18n.format_money(value, language(), currency, digits)


def percent(share, digits: int = 1) -> str:
    """A share (0.125) for the interface language (``12,5 %`` / ``12.5%``)."""
    return i18n.format_percent(share, language(), digits)


def datetime(value) -> str:
    """A date and time for the interface language (``23/04/2021 14:05`` / ``2021-04-23 14:05``)."""
    return i18n.format_datetime(value, language())


def datetime_columns(*labels: str) -> dict:
    """``column_config`` showing these table columns' dates and times as the language writes them."""
    shown = "DD/MM/YYYY HH:mm" if language() == "fr" else "YYYY-MM-DD HH:mm"
    return {label: st.column_config.DatetimeColumn(label, format=shown) for label in labels}


def date(value) -> str:
    """A date for the interface language (``23/04/2021`` / ``2021-04-23``)."""
    return i18n.format_date(value, language())

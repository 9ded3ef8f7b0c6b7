"""Destructive actions ask first: the button opens an ``st.dialog``; the action runs only on "Yes, …".

The pending question is kept in ``st.session_state["confirm_pending"]``: the button's key, the question
and the action's arguments *as they were when the button was clicked* (ids and names, never data), so
the dialog is drawn again on every run until it is answered, and acts on what the user saw even if
another session changed the lists meanwhile: "Yes, …" runs the action once and
reruns the page, "Cancel" (or closing the dialog) forgets the question and changes nothing. An
action that fails with a :class:`SegmentStudioError` shows its message in the dialog.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app_state import _, say
from pages.text import plain
from segmentation import SegmentStudioError

PENDING = "confirm_pending"


def _ask(key: str, question: str, args: tuple, kwargs: dict) -> None:
    st.session_state[PENDING] = {"key": key, "question": question, "args": args, "kwargs": kwargs}


def _forget() -> None:
    st.session_state.pop(PENDING, None)


def confirm_button(container, label: str, key: str, *, question: str, yes: str, action: Callable,
                   args: tuple = (), kwargs: dict | None = None, flash: str | None = None,
                   **button_kwargs) -> None:
    """Draw ``label`` in ``container``; a click asks ``question`` (Markdown: escape data with ``plain``).

    ``label``, ``question``, ``yes`` and ``flash`` are shown as given: pass them through ``_()``.

    The dialog's buttons have the keys ``f"{key}_yes"`` and ``f"{key}_cancel"``. ``flash`` is shown
    once after the action ran.
    """
    container.button(label, key=key, on_click=_ask, args=(key, question, args, kwargs or {}), **button_kwargs)
    pending = st.session_state.get(PENDING)
    if not pending or pending["key"] != key:
        return

    def body() -> None:
        st.markdown(pending["question"])
        yes_col, cancel_col = st.columns(2)
        if yes_col.button(yes, key=f"{key}_yes", type="primary"):
            _forget()
            try:
                action(*pending["args"], **pending["kwargs"])
            except SegmentStudioError as exc:
                st.error(plain(say(exc)))
                return
            if flash:
                st.session_state.flash = flash
            st.rerun()
        if cancel_col.button(_("Cancel"), key=f"{key}_cancel"):
            _forget()
            st.rerun()

    st.dialog(label, on_dismiss=_forget)(body)()

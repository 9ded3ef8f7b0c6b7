"""Segment Studio: the entry point and router (``streamlit run app.py``)."""

import streamlit as st

import app_state
from pages.text import plain
from segmentation import SegmentStudioError

st.set_page_config(page_title="Segment Studio", page_icon="🎯", layout="wide")
app_state.init()
try:
    app_state.workspace()
except (SegmentStudioError, OSError) as exc:  # locked by another Segment Studio, damaged, not a store: why, what to do
    st.title("Segment Studio")
    st.error(plain(f"The working store cannot be opened. {exc}"))
    st.info("What to do: if another Segment Studio uses this store (the app in another window or terminal, or a "
            "`python -m segmentation` command still running, such as a scheduled refresh), close it and reload "
            "this page. Otherwise start the app on another store: `streamlit run app.py -- --db other.duckdb`.")
    st.stop()

pages = st.navigation([
    st.Page("pages/import_data.py", title="Import", icon="📥", default=True),
    st.Page("pages/deduplicate.py", title="Deduplicate", icon="🧬"),
    st.Page("pages/behaviour.py", title="Behaviour and prediction", icon="🛒"),
    st.Page("pages/segment.py", title="Segment", icon="🎯"),
    st.Page("pages/profile.py", title="Profile", icon="🔎"),
    st.Page("pages/audiences.py", title="Audiences", icon="📤"),
    st.Page("pages/refresh.py", title="Refresh", icon="🔁"),
])
with st.sidebar:
    st.caption(f"Working store: {plain(str(app_state.workspace().path))}")
pages.run()

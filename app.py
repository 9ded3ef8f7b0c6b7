"""Segment Studio: the entry point and router (``streamlit run app.py``)."""

import streamlit as st

import app_state

st.set_page_config(page_title="Segment Studio", page_icon="🎯", layout="wide")
app_state.init()

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
    st.caption(f"Working store: `{app_state.workspace().path}`")
pages.run()

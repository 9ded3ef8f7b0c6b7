"""Segment Studio: the entry point and router (``streamlit run app.py``)."""

import streamlit as st
from PIL import Image

import app_state
from app_state import _
from pages.text import plain
from segmentation import SegmentStudioError

# The favicon is drawn here: a Material page icon would make the browser fetch its SVG from Google, and without a
# page_icon each page's Material icon becomes the favicon (fetched the same way).
_FAVICON = Image.new("RGB", (32, 32), (255, 75, 75))  # PIL comes with Streamlit
st.set_page_config(page_title="Segment Studio", page_icon=_FAVICON, layout="wide")
app_state.init()
try:
    app_state.opening_workspace()
except (SegmentStudioError, OSError) as exc:  # locked by another Segment Studio, damaged, not a store: why, what to do
    st.title("Segment Studio")
    st.error(plain(_("The working store cannot be opened. {reason}", reason=app_state.say(exc))))
    st.info(_("What to do: if another Segment Studio uses this store (the app in another window or terminal, or a "
              "`python -m segmentation` command still running, such as a scheduled refresh), close it and reload "
              "this page. Otherwise start the app on another store: `streamlit run app.py -- --db other.duckdb`."))
    st.stop()

pages = st.navigation([
    st.Page("pages/import_data.py", title=_("Import"), icon=":material/upload_file:", default=True),
    st.Page("pages/deduplicate.py", title=_("Deduplicate"), icon=":material/join_inner:"),
    st.Page("pages/behaviour.py", title=_("Behaviour and prediction"), icon=":material/shopping_cart:"),
    st.Page("pages/segment.py", title=_("Segment"), icon=":material/donut_small:"),
    st.Page("pages/profile.py", title=_("Profile"), icon=":material/person_search:"),
    st.Page("pages/audiences.py", title=_("Audiences"), icon=":material/campaign:"),
    st.Page("pages/refresh.py", title=_("Refresh"), icon=":material/autorenew:"),
])
with st.sidebar:
    app_state.language_switch(st)
    st.caption(_("Working store: {path}", path=plain(str(app_state.workspace().path))))
pages.run()

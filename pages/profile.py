"""Profile: what is in each segment, how it differs from the whole base, a rule in words and a name."""

import streamlit as st

import app_state
from pages import charts
from pages.text import plain
from segmentation import ProfileSettings, SegmentStudioError, to_csv_bytes, to_xlsx_bytes

st.title("Segment profiles")

customers = app_state.workspace().names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
segments = app_state.dataset(app_state.pick_dataset(customers, key="profile_dataset")).segments
saved = app_state.cached(segments, "runs")
if saved.empty:
    st.info("Run a segmentation first (page Segment).")
    st.stop()
current = saved.loc[saved["current"], "name"]
default = current.iloc[0] if len(current) else saved["name"].iloc[0]
if st.session_state.profile_run not in set(saved["name"]):
    st.session_state.profile_run = default
run_name = st.selectbox("Run", saved["name"], key="profile_run")
run = app_state.cached(segments, "get_run", run_name)
app_state.show_flash()

min_share = st.sidebar.slider("Flag segments smaller than", 0.01, 0.2, 0.05, 0.01, format="%.2f",
                              key="profile_min_share")
profile_settings = ProfileSettings(min_share=min_share)
profile = app_state.cached(segments, "profile", run.name, profile_settings)
names = profile.names

for hint in profile.hints:
    st.warning(plain(hint))
sizes = profile.sizes.merge(profile.reach, on="segment")
sizes.insert(1, "name", sizes["segment"].map(names))
st.dataframe(sizes, hide_index=True, key="sizes_table", column_config={
    "share": st.column_config.NumberColumn("share of customers", format="percent"),
    "value_share": st.column_config.NumberColumn("share of value", format="percent"),
    "email": "reachable by e-mail (consent)", "phone": "reachable by phone (consent)"})

st.subheader("What sets each segment apart")
st.caption("Index = segment mean ÷ mean of all customers × 100: 100 is like everyone, 200 twice as much. "
           "Every chart has a camera button to download it as PNG.")
st.plotly_chart(charts.index_heatmap(profile.numeric, names), key="index_heatmap")
st.plotly_chart(charts.snake_plot(profile.standardised, names), key="snake")
if not profile.categorical.empty:
    mix = profile.categorical.assign(segment=lambda f: f["segment"].map(names))
    feature = st.selectbox("Mix of", mix["feature"].unique(), key="profile_mix")
    table = mix[mix["feature"] == feature].pivot(index="category", columns="segment", values="share")
    table["all customers"] = mix[mix["feature"] == feature].groupby("category")["overall_share"].first()
    st.dataframe(table, key="mix_table", column_config={c: st.column_config.NumberColumn(format="percent")
                                                         for c in table.columns})

st.subheader("Rules in plain words")
st.caption(f"A decision tree of depth 3 agrees with the segments for {profile.agreement:.0%} of customers: "
           "read the rules as a summary, not as the definition.")
rules = profile.rules.assign(name=lambda f: f["segment"].map(names))[["segment", "name", "rule", "precision",
                                                                      "coverage"]]
st.dataframe(rules, hide_index=True, key="rules_table", column_config={
    "precision": st.column_config.NumberColumn(format="percent"),
    "coverage": st.column_config.NumberColumn(format="percent")})

try:  # the charts need the run's model; one saved by an earlier version (a pickle) is refused, not loaded
    sample = app_state.cached(segments, "sample", run.name)
except SegmentStudioError as exc:
    st.error(plain(str(exc)))
else:
    left, right = st.columns(2)
    feature = left.selectbox("Distribution of", list(run.settings.numeric) or list(run.settings.columns),
                             key="profile_box")
    if feature in run.settings.numeric:
        left.plotly_chart(charts.box_by_segment(sample, feature, names), key="box")
    right.plotly_chart(charts.segment_map(sample, names), key="pca_map")

st.subheader("Names")
n1, n2 = st.columns([1, 2])
segment = n1.selectbox("Segment", list(names), format_func=lambda k: f"{k} · {names[k]}", key="rename_segment")
new_name = n2.text_input("New name", key="rename_name", placeholder=names[segment])
if st.button("Rename segment", key="rename_button", disabled=not new_name.strip()):
    try:
        segments.rename_segment(run.name, int(segment), new_name)
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
    else:
        st.session_state.flash = (f"Segment {segment} is now **{plain(new_name.strip())}**: audiences and exports "
                                  "use it.")
        st.rerun()

table = segments.profile_table(profile=profile)  # from the profile shown, names included
d1, d2 = st.columns(2)
d1.download_button("Download the profile (CSV)", to_csv_bytes(table), f"{run.name} profile.csv", "text/csv",
                   key="profile_csv")
d2.download_button("Download the profile (Excel)", to_xlsx_bytes(table, "Profile"), f"{run.name} profile.xlsx",
                   key="profile_xlsx")

"""Segment: pick features, see how many segments the data supports, run K-means, manage saved runs."""

import pandas as pd
import streamlit as st

import app_state
from pages import charts
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import CATEGORICAL_WEIGHT, FeatureSettings, SegmentStudioError, describe_steps

st.title("Segment customers")

customers = app_state.workspace().names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
dataset = app_state.pick_dataset(customers, key="segment_dataset")
ds = app_state.dataset(dataset)
segments = ds.segments
app_state.show_flash()

table = app_state.cached(segments, "candidates")
default = table[table["default"]]
numeric_options = list(table.loc[table["kind"] == "numeric", "feature"])
category_options = list(table.loc[table["kind"] == "categorical", "feature"])
st.subheader("Features")
c1, c2 = st.columns(2)
numeric = c1.multiselect("Numeric measures", numeric_options, key=f"seg_numeric_{ds.id}",
                         default=[f for f in default["feature"] if f in numeric_options],
                         help="Dates count as days before today (tenure, recency).")
categorical = c2.multiselect("Categorical attributes", category_options, key=f"seg_categorical_{ds.id}")
if not numeric and not categorical:
    st.info("Pick at least one feature to segment on.")
    st.stop()

with st.expander("Preprocessing"):
    p1, p2 = st.columns(2)
    scaling = p1.radio("Scaling", ["standard", "robust"], horizontal=True, key="seg_scaling", format_func={
        "standard": "Standard (mean 0, sd 1)", "robust": "Robust (outliers weigh less)"}.get)
    auto_log = p2.toggle("Log-transform skewed amounts and counts automatically", True, key="seg_auto_log")
    log = None if auto_log else tuple(p2.multiselect("Log-transform", numeric, key="seg_log"))
    cat_weight = p1.slider("Weight of categorical attributes", 0.1, 2.0, CATEGORICAL_WEIGHT, 0.01,
                           key="seg_cat_weight", disabled=not categorical,
                           help="At 0.71 a categorical attribute weighs about half a numeric feature.")
    weights = st.data_editor(pd.DataFrame({"Feature": [*numeric, *categorical], "Weight": 1.0}), hide_index=True,
                             disabled=["Feature"], key=f"seg_weights_{ds.id}_{len(numeric)}_{len(categorical)}")
settings = FeatureSettings(numeric=tuple(numeric), categorical=tuple(categorical), log=log, scaling=scaling,
                           categorical_weight=cat_weight,
                           weights={f: float(w) for f, w in zip(weights["Feature"], weights["Weight"], strict=True)
                                    if pd.notna(w) and float(w) != 1.0})
st.plotly_chart(charts.feature_histograms(app_state.cached(segments, "feature_sample", settings)),
                key="feature_hist")

st.subheader("How many segments?")
k_min, k_max = st.slider("Try k from … to …", 2, 20, (2, 10), key="seg_k_range")
if st.button(f"Score k = {k_min}…{k_max}", type="primary", key="scan"):
    try:
        segments.scan(settings, k_min, k_max, progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
found = app_state.cached(segments, "last_scan")
recommended = None
if found is not None:
    same = (found.settings.columns == settings.columns)
    st.plotly_chart(charts.elbow_chart(found.scores, found.knee, found.recommended_k), key="elbow")
    st.info(f"**Recommended: {found.reason}**")
    st.caption(plain(" ".join(describe_steps(found.steps))) + f" Scored {found.scanned_at:%Y-%m-%d %H:%M}"
               + ("." if same else " with other features: score again to compare."))
    recommended = found.recommended_k if same else None

r1, r2 = st.columns(2)
k = r1.number_input("Number of segments (k)", 2, 30, value=recommended or 5, key=f"seg_k_{ds.id}_{recommended}")
name = r2.text_input("Run name", placeholder=f"{ds.name} · k={k}", key="seg_run_name")
if st.button(f"Run K-means with {k} segments", key="run"):
    try:
        run = segments.run(settings, int(k), name=name or None, progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
    else:
        st.session_state.flash = f"Run **{plain(run.name)}** saved: {run.customers:,} customers in {run.k} segments."
        st.rerun()

st.subheader("Saved runs")
saved = app_state.cached(segments, "runs")
if saved.empty:
    st.caption("No run yet.")
    st.stop()
st.dataframe(saved.drop(columns=["settings", "dataset"]), hide_index=True, key="runs_table")
current = app_state.cached(segments, "current_run")
if current is not None:
    st.plotly_chart(charts.sizes_chart(app_state.cached(segments, "sizes", current.name)), key="sizes")
    st.caption(f"Current run: **{plain(current.name)}** · "
               f"silhouette {current.scores.get('silhouette', float('nan')):.2f}")
picked = st.selectbox("Run", saved["name"], key="seg_run_pick")
a1, a2, a3 = st.columns(3)
if a1.button("Make current", key="make_current"):
    segments.set_current(picked)
    st.rerun()
new_name = a2.text_input("New name", key="seg_new_name", label_visibility="collapsed", placeholder="New name")
if a2.button("Rename", key="rename") and new_name:
    try:
        segments.rename_run(picked, new_name)
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
    else:
        st.rerun()
confirm_button(a3, "Delete this run", "delete_run", action=segments.delete_run, args=(picked,),
               question=f"Delete run **{plain(picked)}**, its segments, names and memberships? Audiences saved on "
                        "it lose their segments.", yes="Yes, delete the run")
if a1.button("Assign customers again (new and changed ones)", key="assign"):
    result = segments.assign(picked, progress=app_state.progress_bar())
    st.session_state.flash = f"{result.assigned:,} customers assigned with run **{plain(result.run)}**."
    st.rerun()
if len(saved) > 1:
    with st.expander("Compare two runs"):
        x, y = st.columns(2)
        run_a = x.selectbox("Run A", saved["name"], index=1, key="cmp_a")
        run_b = y.selectbox("Run B", saved["name"], index=0, key="cmp_b")
        st.dataframe(app_state.cached(segments, "compare_runs", run_a, run_b), key="migration")

"""Segment: pick features, see how many segments the data supports, run K-means, manage saved runs."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

import app_state
from app_state import _, say
from pages import charts
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import CATEGORICAL_WEIGHT, FeatureSettings, SegmentStudioError, describe_steps

SCORE_MEANINGS = {  # what each score tells a marketer, behind "Details"
    "silhouette": _("Silhouette: how clearly each customer belongs to its own segment rather than the next one "
                  "(from −1 to 1; above 0.25 the segments are distinct enough to be addressed differently)."),
    "calinski_harabasz": _("Calinski-Harabasz: how far apart the segments are compared with how spread out each one "
                         "is (higher is better; compare it between numbers of segments only)."),
    "davies_bouldin": _("Davies-Bouldin: how much each segment resembles its closest neighbour (lower is better; below "
                      "1 the segments are easy to tell apart)."),
    "smallest_share": _("Smallest segment: the share of customers in the smallest segment (under 2 % a segment is too "
                      "small for a campaign of its own)."),
    "stability": _("Stability: how much the segments stay the same when computed on other customers (1: identical; "
                 "under 0.75 they depend on chance)."),
}


def elbow_figure(scores: pd.DataFrame, knee: int | None, recommended: int) -> go.Figure:
    """Inertia by number of segments, the knee and the recommended k marked."""
    fig = go.Figure(go.Scatter(x=scores["k"], y=scores["inertia"], mode="lines+markers", showlegend=False,
                               line={"color": "#3b6ea8"}))
    chosen = scores[scores["k"] == recommended]
    fig.add_trace(go.Scatter(x=chosen["k"], y=chosen["inertia"], mode="markers", marker={"size": 14, "symbol": "star",
                             "color": "#d64545"}, name=_("recommended: {k} segments", k=recommended)))
    if knee is not None:
        fig.add_vline(x=knee, line_dash="dot", line_color="#888", annotation_text=_("elbow at {k}", k=knee))
    fig.update_layout(height=340, margin={"t": 30, "b": 10}, legend={"orientation": "h", "y": -0.25},
                      xaxis={"dtick": 1, "title": _("number of segments")},
                      yaxis={"title": _("spread within segments (inertia)")})
    return fig


st.title(_("Segment customers"))

customers = app_state.workspace().names("customers")
if not customers:
    st.info(_("Import a customers file first (page Import)."))
    st.page_link("pages/import_data.py", label=_("Go to Import"), icon=":material/upload_file:")
    st.stop()
dataset = app_state.pick_dataset(customers, key="segment_dataset", label=_("Dataset"))
ds = app_state.dataset(dataset)
segments = ds.segments
app_state.prepare_customers(ds)  # after a merge: the golden records are built once, and the wait shows
app_state.show_flash()

table = app_state.cached(segments, "candidates")
default = table[table["default"]]
numeric_options = list(table.loc[table["kind"] == "numeric", "feature"])
category_options = list(table.loc[table["kind"] == "categorical", "feature"])
st.subheader(_("Features"))
c1, c2 = st.columns(2)
numeric = c1.multiselect(_("Numeric measures"), numeric_options, key=f"seg_numeric_{ds.id}",
                         default=[f for f in default["feature"] if f in numeric_options],
                         help=_("Dates count as days before today (tenure, recency)."))
categorical = c2.multiselect(_("Categorical attributes"), category_options, key=f"seg_categorical_{ds.id}",
                             help=_("A category with many values counts as its 29 most frequent values plus "
                                    "“other”."))
if not numeric and not categorical:
    st.info(_("Pick at least one feature to segment on."))
    st.stop()
st.caption(_("Segmenting on: {features}", features=plain(", ".join([*numeric, *categorical]))))

with st.expander(_("Preprocessing")):
    p1, p2 = st.columns(2)
    scaling = p1.radio(_("Scaling"), ["standard", "robust"], horizontal=True, key="seg_scaling", format_func={
        "standard": _("Standard (mean 0, sd 1)"), "robust": _("Robust (outliers weigh less)")}.get)
    auto_log = p2.toggle(_("Log-transform skewed amounts and counts automatically"), True, key="seg_auto_log")
    log = None if auto_log else tuple(p2.multiselect(_("Log-transform"), numeric, key="seg_log"))
    cat_weight = p1.slider(_("Weight of categorical attributes"), 0.1, 2.0, CATEGORICAL_WEIGHT, 0.01,
                           key="seg_cat_weight", disabled=not categorical,
                           help=_("At 0.71 a categorical attribute weighs about half a numeric feature."))
    feature, weight = _("Feature"), _("Weight")
    weights = st.data_editor(pd.DataFrame({feature: [*numeric, *categorical], weight: 1.0}), hide_index=True,
                             disabled=[feature],
                             key=f"seg_weights_{ds.id}_{len(numeric)}_{len(categorical)}_{app_state.language()}")
settings = FeatureSettings(numeric=tuple(numeric), categorical=tuple(categorical), log=log, scaling=scaling,
                           categorical_weight=cat_weight,
                           weights={f: float(w) for f, w in zip(weights[feature], weights[weight], strict=True)
                                    if pd.notna(w) and float(w) != 1.0})
distributions = st.expander(_("Distribution of each feature"), key="seg_distributions", on_change="rerun")
with distributions:
    if distributions.open:  # the sample is read (and the chart sent) only once the reader opens it
        st.plotly_chart(charts.feature_histograms(app_state.cached(segments, "feature_sample", settings)),
                        key="feature_hist")

st.subheader(_("How many segments?"))
k_min, k_max = st.slider(_("Try k from … to …"), 2, 20, (2, 10), key="seg_k_range")
if st.button(_("Score k = {k_min}…{k_max}", k_min=k_min, k_max=k_max), type="primary", key="scan",
             icon=":material/query_stats:"):
    try:
        segments.scan(settings, k_min, k_max, progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
found = app_state.cached(segments, "last_scan")
recommended = None
if found is not None:
    same = found.settings.columns == settings.columns
    st.plotly_chart(elbow_figure(found.scores, found.knee, found.recommended_k), key="elbow")
    st.info("**" + _("Recommended: {reason}", reason=say(found.reason)) + "**")
    steps = " ".join(say(m) for m in describe_steps(found.steps))
    st.caption(_("Scored on {features}. {steps} Scored {when}.", features=plain(", ".join(found.settings.columns)),
                 steps=plain(steps), when=found.scanned_at.strftime("%Y-%m-%d %H:%M"))
               + ("" if same else " " + _("Other features are picked now: score again to compare.")))
    with st.expander(_("Details: the other scores")):
        for line in SCORE_MEANINGS.values():
            st.markdown("- " + line)
        st.plotly_chart(charts.elbow_chart(found.scores, found.knee, found.recommended_k), key="elbow_details")
    recommended = found.recommended_k if same else None

r1, r2 = st.columns(2)
k = r1.number_input(_("Number of segments (k)"), 2, 30, value=recommended or 5, key=f"seg_k_{ds.id}_{recommended}")
name = r2.text_input(_("Run name"), placeholder=f"{ds.name} · k={k}", key="seg_run_name")
if st.button(_("Run K-means with {k} segments", k=int(k)), key="run", icon=":material/play_arrow:"):
    try:
        run = segments.run(settings, int(k), name=name or None, progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
    else:
        st.session_state.flash = _("Run **{name}** saved: {count} customers in {k} segments.", name=plain(run.name),
                                   count=run.customers, k=run.k)
        st.session_state.seg_run_pick = run.name  # the new run is the one picked below
        st.rerun()

st.subheader(_("Saved runs"))
saved = app_state.cached(segments, "runs")
if saved.empty:
    st.caption(_("No run yet."))
    st.stop()
shown = saved.drop(columns=["settings", "dataset"]).rename(columns={
    "name": _("Run"), "created_at": _("Created"), "k": _("Segments"), "customers": _("Customers"),
    "current": _("Current")})
st.dataframe(shown, hide_index=True, key="runs_table")
current = app_state.cached(segments, "current_run")
if current is not None:
    st.plotly_chart(charts.sizes_chart(app_state.cached(segments, "sizes", current.name)), key="sizes")
    st.caption(_("Current run: **{name}** · features: {features}", name=plain(current.name),
                 features=plain(", ".join(current.settings.columns))))
linked = st.query_params.get("run")  # ?run=NAME: a link to one run selects it (once)
if linked in set(saved["name"]) and st.session_state.get("seg_run_linked") != linked:
    st.session_state.seg_run_pick = st.session_state.seg_run_linked = linked
picked = st.selectbox(_("Run"), saved["name"], key="seg_run_pick")
a1, a2, a3 = st.columns(3)
if a1.button(_("Make current"), key="make_current"):
    segments.set_current(picked)
    st.rerun()
new_name = a2.text_input(_("New name"), key="seg_new_name", label_visibility="collapsed", placeholder=_("New name"))
if a2.button(_("Rename"), key="rename") and new_name:
    try:
        segments.rename_run(picked, new_name)
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
    else:
        st.rerun()
confirm_button(a3, _("Delete this run"), "delete_run", action=segments.delete_run, args=(picked,),
               question=_("Delete run **{name}**, its segments, names and memberships? Audiences saved on it lose "
                          "their segments.", name=plain(picked)), yes=_("Yes, delete the run"))
if a1.button(_("Assign customers again (new and changed ones)"), key="assign"):
    result = segments.assign(picked, progress=app_state.progress_bar())
    st.session_state.flash = _("{count} customers assigned with run **{name}**.", count=result.assigned,
                               name=plain(result.run))
    st.rerun()
if len(saved) > 1:
    with st.expander(_("Compare two runs")):
        x, y = st.columns(2)
        run_a = x.selectbox(_("Run A"), saved["name"], index=1, key="cmp_a")
        run_b = y.selectbox(_("Run B"), saved["name"], index=0, key="cmp_b")
        st.dataframe(app_state.cached(segments, "compare_runs", run_a, run_b), key="migration")
st.page_link("pages/profile.py", label=_("Next: describe your segments →"), icon=":material/arrow_forward:")

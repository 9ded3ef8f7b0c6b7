"""Behaviour and prediction: RFM from an orders file, propensity scores; both become customer attributes."""

from datetime import date

import pandas as pd
import streamlit as st

import app_state
from pages import charts
from pages.text import plain
from segmentation import RFMSettings, ScoreSettings, SegmentStudioError, to_csv_bytes

st.title("Behaviour and prediction")

ws = app_state.workspace()
customers = ws.names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
behaviour = app_state.dataset(app_state.pick_dataset(customers, key="rfm_dataset")).behaviour
orders = ws.names("transactions")


def rfm_section() -> None:
    st.header("RFM from orders")
    if not orders:
        st.info("Import an orders file with kind *transactions* (page Import) to compute RFM.")
        return
    c1, c2, c3 = st.columns(3)
    orders_name = c1.selectbox("Orders", orders, key="rfm_orders")
    as_of = c2.date_input("As of", date.today(), key="rfm_as_of")
    window = c3.number_input("Frequency window (days)", 30, 3650, 365, key="rfm_window")
    if st.button("Compute RFM", type="primary", key="rfm_compute"):
        with st.spinner("Computing RFM in DuckDB…"):
            try:
                behaviour.rfm(app_state.dataset(orders_name, "transactions"),
                              RFMSettings(as_of=as_of.isoformat(), window_days=int(window)))
            except SegmentStudioError as exc:
                st.error(plain(str(exc)))
    info = app_state.cached(behaviour, "last_rfm")
    if info is None:
        st.caption("No RFM yet for this dataset.")
        return
    m = st.columns(3)
    m[0].metric("Customers with orders", f"{info.customers_with_orders:,}")
    m[1].metric("Orders of unknown customers", f"{info.unknown_customer_orders:,}")
    m[2].metric("As of", info.as_of)
    st.caption(f"Orders linked by their column **{plain(info.link_column)}**; orders of merged records count for the "
               f"golden record. Computed {info.computed_at:%Y-%m-%d %H:%M}: compute again after new merges or "
               "orders.")
    left, right = st.columns(2)
    left.plotly_chart(charts.rfm_grid(app_state.cached(behaviour, "grid")), key="rfm_grid")
    right.plotly_chart(charts.sizes_chart(dict(info.groups)), key="rfm_groups")
    st.dataframe(behaviour.groups_table(), hide_index=True, key="rfm_rules")
    st.caption("RFM measures and groups are attributes of the customers now: pick them as features on *Segment*, "
               "read them on *Profile*, filter on them on *Audiences*.")
    if info.unknown_customer_orders:
        st.download_button(f"Download the {info.unknown_customer_orders:,} orders of unknown customers (CSV)",
                           lambda: to_csv_bytes(behaviour.unknown_orders()), "unknown customers orders.csv",
                           "text/csv", key="rfm_unknown")


def propensity_section() -> None:
    st.header("Propensity scores")
    targets = app_state.cached(behaviour, "candidate_targets")
    if not targets:
        st.info("No yes/no column to predict (such as churned or converted), and no RFM to derive one from.")
        return
    p1, p2, p3 = st.columns(3)
    target = p1.selectbox("Predict", targets, key="score_target")
    within = None
    if target == "RFM recency (days)":
        within = int(p2.number_input("Bought in the last … days", 7, 3650, 90, key="score_within"))
    name = p3.text_input("Model name", value="churn" if "churn" in target.lower() else "propensity",
                         key="score_name")
    if st.button("Train and score", type="primary", key="score_train"):
        with st.spinner("Cross-validating two models…"):
            try:
                behaviour.score(ScoreSettings(target=target, name=name, within_days=within))
            except SegmentStudioError as exc:
                st.error(plain(str(exc)))
    saved = app_state.cached(behaviour, "models")
    if not saved:
        return
    model = saved[0]
    for warning in model.warnings:
        st.warning(plain(warning))
    k = st.columns(4)
    k[0].metric("ROC AUC (cross-validated)", f"{model.auc_mean:.2f} ± {model.auc_std:.2f}")
    k[1].metric("Top-decile precision", f"{model.top_decile_precision:.0%}",
                help=f"Share of the 10% highest scores that had the target, against {model.base_rate:.0%} "
                     "of all customers.")
    k[2].metric("Chosen model", model.chosen)
    k[3].metric("Score column", model.column)
    top = pd.DataFrame(model.importance).head(5)
    st.caption("What drives it: " + ", ".join(f"**{plain(f)}**" for f in top["feature"])
               + f". On *Audiences*, filter on **{plain(model.column)}** (a probability) or on "
                 f"**{plain(model.column)} top %** "
               "(at most 20: the 20% most likely).")
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.lift_chart(model.lift), key="lift")
    c2.plotly_chart(charts.calibration_chart(model.calibration), key="calibration")


rfm_section()
propensity_section()

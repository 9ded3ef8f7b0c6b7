"""Behaviour: RFM from an orders file, as customer attributes for segments, profiles and audiences."""

from datetime import date

import streamlit as st

import app_state
from segmentation import charts, rfm
from segmentation.errors import SegmentStudioError
from segmentation.export import to_csv_bytes

store = app_state.store()
st.title("Behaviour: RFM from orders")

customers = [d.name for d in store.datasets("customers")]
orders = [d.name for d in store.datasets("transactions")]
if not customers or not orders:
    st.info("Import a customers file and an orders file (kind *transactions*) first (page Import).")
    st.stop()
dataset = app_state.pick_dataset(customers, key="rfm_dataset")
c1, c2, c3 = st.columns(3)
orders_name = c1.selectbox("Orders", orders, key="rfm_orders")
as_of = c2.date_input("As of", date.today(), key="rfm_as_of")
window = c3.number_input("Frequency window (days)", 30, 3650, 365, key="rfm_window")
if st.button("Compute RFM", type="primary", key="rfm_compute"):
    with st.spinner("Computing RFM in DuckDB…"):
        try:
            rfm.compute(store, dataset, orders_name, rfm.RFMSettings(as_of=as_of.isoformat(), window_days=int(window)))
        except SegmentStudioError as exc:
            st.error(str(exc))

info = rfm.last(store, dataset)
if info is None:
    st.caption("No RFM yet for this dataset.")
    st.stop()
m = st.columns(3)
m[0].metric("Customers with orders", f"{info['customers_with_orders']:,}")
m[1].metric("Orders of unknown customers", f"{info['unknown_customer_orders']:,}")
m[2].metric("As of", info["as_of"])
st.caption(f"Orders linked by their column **{info['link_column']}**; orders of merged records count for the "
           f"golden record. Computed {info['computed_at']:%Y-%m-%d %H:%M}: compute again after new merges or orders.")
left, right = st.columns(2)
left.plotly_chart(charts.rfm_grid(rfm.grid(store, dataset)), key="rfm_grid")
right.plotly_chart(charts.sizes_chart({k: v for k, v in info["groups"].items()}), key="rfm_groups")
st.dataframe(rfm.groups_table(), hide_index=True, key="rfm_rules")
st.caption("RFM measures and groups are now attributes of the customers: pick them as features on *Segment*, "
           "read them on *Profile*, filter on them on *Audiences*.")
if info["unknown_customer_orders"]:
    st.download_button(f"Download the {info['unknown_customer_orders']:,} orders of unknown customers (CSV)",
                       lambda: to_csv_bytes(rfm.unknown_orders(store, dataset)), "unknown customers orders.csv",
                       "text/csv", key="rfm_unknown")

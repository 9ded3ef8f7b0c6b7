"""Behaviour and prediction: RFM from an orders file, propensity scores; both become customer attributes."""

from datetime import date

import pandas as pd
import streamlit as st

import app_state
from app_state import _, number, percent, say
from pages import charts
from pages.text import plain
from segmentation import RFMSettings, ScoreSettings, SegmentStudioError, to_csv_bytes

st.title(_("Behaviour and prediction"))

ws = app_state.workspace()
customers = ws.names("customers")
if not customers:
    st.info(_("Import a customers file first (page Import)."))
    st.stop()
behaviour = app_state.dataset(app_state.pick_dataset(customers, key="rfm_dataset")).behaviour
orders = ws.names("transactions")


def order_column_widgets(orders_name: str) -> dict:
    """A choice per order role, the guesses first; returns the RFMSettings fields ("" = no such column)."""
    guess = app_state.cached(behaviour, "order_columns", orders_name)
    choices = app_state.cached(behaviour, "order_column_choices", orders_name)
    none = _("(none)")
    roles = [  # order role, settings field, label, help, can be left out
        ("customer", "link_column", _("Customer id (link)"),
         _("The column holding the customer's record id of the customers file."), False),
        ("order_date", "date_column", _("Order date"), None, False),
        ("order_id", "order_column", _("Order id (invoice)"),
         _("Lines with the same order id are one order. Without one, each line is an order."), True),
        ("status", "status_column", _("Status (cancelled / returned)"),
         _("A line whose status says cancelled or returned adds nothing and is not an order."), True),
        ("amount", "amount_column", _("Amount"),
         _("What was paid per line. Without one: quantity × unit price."), True),
        ("quantity", "quantity_column", _("Quantity"), _("A negative quantity is a return."), True),
        ("unit_price", "price_column", _("Unit price"), None, True),
        ("category", "category_column", _("Category"), _("Gives each customer's favourite category."), True),
    ]
    chosen = {}
    cells = st.columns(4)
    for i, (role, setting, label, help_text, optional) in enumerate(roles):
        options = ([none] if optional else []) + choices.get(role, [])
        if not options:
            options = [none]
        default = getattr(guess, role)
        index = options.index(default) if default in options else 0
        value = cells[i % 4].selectbox(label, options, index=index, help=help_text,
                                       key=f"rfm_col_{role}_{orders_name}")
        chosen[setting] = "" if value == none else value
    return chosen


def rfm_form() -> None:
    c1, c2, c3 = st.columns(3)
    orders_name = c1.selectbox(_("Orders"), orders, key="rfm_orders")
    as_of = c2.date_input(_("As of"), date.today(), key="rfm_as_of")
    window = c3.number_input(_("Window (days)"), 30, 3650, 365, key="rfm_window",
                             help=_("Frequency and monetary count the orders of this many days up to the date."))
    with st.expander(_("Order columns (guessed: check them)"), expanded=True, icon=":material/table_view:"):
        columns = order_column_widgets(orders_name)
        p1, p2 = st.columns(2)
        prefix = p1.text_input(_("Cancellation invoice prefix"), "C", key="rfm_prefix",
                               help=_("An order id made of this prefix and digits (C536379) is a cancellation. "
                                      "Leave empty if your order ids have none."))
        lifetime = p2.checkbox(_("Also compute lifetime measures (repeat purchases, age, time between first and "
                                 "last order)"), key="rfm_lifetime",
                               help=_("As the lifetimes package defines them, for lifetime value models."))
    if st.button(_("Compute RFM"), type="primary", key="rfm_compute", icon=":material/calculate:"):
        try:
            behaviour.rfm(app_state.dataset(orders_name, "transactions"),
                          RFMSettings(as_of=as_of.isoformat(), window_days=int(window), cancel_prefix=prefix,
                                      lifetime=lifetime, **columns), progress=app_state.progress_bar())
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))


def used_columns(info) -> None:
    cols = info.columns
    if cols.get("amount"):
        monetary = _("the sum of **{amount}**", amount=plain(cols["amount"]))
    else:
        monetary = _("the sum of **{quantity}** × **{price}**", quantity=plain(cols.get("quantity")),
                     price=plain(cols.get("unit_price")))
    orders_read = (_("one order per order id **{order}**", order=plain(cols["order_id"])) if cols.get("order_id")
                   else _("each line is an order (no order id)"))
    st.caption(_("Columns used: customer id **{customer}**, order date **{date}**; {orders}; monetary is {monetary}.",
                 customer=plain(info.link_column), date=plain(cols.get("order_date")), orders=orders_read,
                 monetary=monetary))
    notes = []
    if cols.get("status"):
        notes.append(_("status **{status}**", status=plain(cols["status"])))
    if cols.get("order_id") and info.cancel_prefix:
        notes.append(_("order ids starting with **{prefix}** and a digit", prefix=plain(info.cancel_prefix)))
    if cols.get("quantity"):
        notes.append(_("negative quantities"))
    st.caption(_("Cancellations and returns ({how}, negative amounts) take their value off monetary and are "
                 "not orders. Orders of merged records count for the golden record.",
                 how=", ".join(notes) if notes else _("none marked")))


def rfm_results():
    """The figures of the last computation (and its charts); returns them (None before any)."""
    info = app_state.cached(behaviour, "last_rfm")
    if info is None:
        st.caption(_("No RFM yet for this dataset."))
        return None
    m = st.columns(4)
    m[0].metric(_("Customers with orders"), number(info.customers_with_orders))
    m[1].metric(_("Orders (all time)"), number(info.orders))
    m[2].metric(_("Monetary, last {days} days", days=info.window_days), number(round(info.monetary)))
    m[3].metric(_("Monetary, all time"), number(round(info.monetary_all_time)))
    n = st.columns(4)
    n[0].metric(_("Cancelled lines"), number(info.cancelled_lines))
    n[1].metric(_("Returned lines"), number(info.returned_lines))
    n[2].metric(_("Customers with only returns (not buyers)"), number(info.return_only_customers))
    n[3].metric(_("Guest lines (no customer id)"), number(info.guest_lines))
    o = st.columns(4)
    o[0].metric(_("Orders of unknown customers"), number(info.unknown_customer_orders))
    o[1].metric(_("As of"), app_state.date(date.fromisoformat(info.as_of)))
    o[2].metric(_("Order lines read"), number(info.order_lines))
    used_columns(info)
    st.caption(_("Computed {when}: compute again after new merges or orders.",
                 when=info.computed_at))
    if info.settings is not None and info.settings.lifetime:
        st.caption(_("Lifetime measures (as the lifetimes package defines them, in days) are in the RFM table "
                     "below: repeat_frequency, lifetime_recency, lifetime_t, lifetime_monetary."))
    left, right = st.columns(2)
    left.plotly_chart(charts.rfm_grid(app_state.cached(behaviour, "grid")), key="rfm_grid")
    right.plotly_chart(charts.sizes_chart({say(name): n for name, n in info.groups.items()}), key="rfm_groups")
    st.caption(_("RFM measures and groups are attributes of the customers now: pick them as features on "
                 "*Segment*, read them on *Profile*, filter on them on *Audiences*."))
    st.download_button(_("Download the RFM table (CSV)"), lambda: to_csv_bytes(behaviour.rfm_table()),
                       "rfm.csv", "text/csv", key="rfm_table", icon=":material/download:")
    if info.unknown_customer_orders:
        st.download_button(_("Download the {count} orders of unknown customers (CSV)",
                             count=info.unknown_customer_orders),
                           lambda: to_csv_bytes(behaviour.unknown_orders()), "unknown customers orders.csv",
                           "text/csv", key="rfm_unknown", icon=":material/download:")
    return info


def segment_map(groups: dict[str, int]) -> None:
    """The R × F map and the groups with their scores, meaning and customers (none before a computation)."""
    st.subheader(_("The segment map"))
    st.caption(_("Scores 1 to 5 (5 best) by quintile: customers with equal values share the lower score; no order "
                 "in the window gives F = 1. Each R × F cell belongs to one group."))
    grid = behaviour.segment_map()
    shown = grid.map(say)
    shown.index = [_("R {score}", score=r) for r in grid.index]
    shown.columns = [_("F {score}", score=f) for f in grid.columns]
    left, right = st.columns([3, 4])
    left.dataframe(shown, key="rfm_map")
    table = behaviour.groups_table()
    right.dataframe(pd.DataFrame({
        _("Group"): table["group"].map(say), _("R score"): table["R"], _("F score"): table["F"],
        _("Meaning"): table["meaning"].map(say),
        _("Customers"): table["group"].map(lambda g: number(groups.get(g, 0)))}),
        hide_index=True, key="rfm_rules")


def rfm_section() -> None:
    st.header(_("RFM from orders"))
    if not orders:
        st.info(_("Import an orders file with kind *transactions* (page Import) to compute RFM."))
        return
    rfm_form()
    info = rfm_results()
    segment_map(dict(info.groups) if info is not None else {})


def propensity_section() -> None:
    st.header(_("Propensity scores"))
    targets = app_state.cached(behaviour, "candidate_targets")
    if not targets:
        st.info(_("No yes/no column to predict (such as churned or converted), and no RFM to derive one from."))
        return
    p1, p2, p3 = st.columns(3)
    target = p1.selectbox(_("Predict"), targets, key="score_target")
    within = None
    if target == "RFM recency (days)":
        within = int(p2.number_input(_("Bought in the last … days"), 7, 3650, 90, key="score_within"))
    name = p3.text_input(_("Model name"), value="churn" if "churn" in target.lower() else "propensity",
                         key="score_name")
    if st.button(_("Train and score"), type="primary", key="score_train", icon=":material/model_training:"):
        try:  # the bars say the stage under way and the time left (the golden records first, after a merge)
            app_state.prepare_customers(behaviour.handle)
            behaviour.score(ScoreSettings(target=target, name=name, within_days=within),
                            progress=app_state.progress_bar())
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
    saved = app_state.cached(behaviour, "models")
    if not saved:
        return
    model = saved[0]
    for warning in model.warnings:
        st.warning(plain(say(warning)))
    k = st.columns(4)
    k[0].metric(_("ROC AUC (cross-validated)"), f"{number(model.auc_mean, 2)} ± {number(model.auc_std, 2)}")
    k[1].metric(_("Top-decile precision"), percent(model.top_decile_precision, 0),
                help=_("Share of the 10% highest scores that had the target, against {rate} of all customers.",
                       rate=percent(model.base_rate, 0)))
    models = {"logistic regression": _("logistic regression"), "gradient boosting": _("gradient boosting")}
    k[2].metric(_("Chosen model"), models.get(model.chosen, model.chosen))
    k[3].metric(_("Score column"), model.column)
    if 0 < model.trained_on < model.customers:
        st.caption(_("Trained on a stratified sample of {sample} of the {customers} customers (each answer keeps its "
                     "share); every customer is scored.", sample=model.trained_on, customers=model.customers))
    top = pd.DataFrame(model.importance).head(5)
    st.caption(_("What drives it: {features}. On *Audiences*, filter on **{column}** (a probability) or on "
                 "**{column} top %** (at most 20: the 20% most likely).",
                 features=", ".join(f"**{plain(f)}**" for f in top["feature"]), column=plain(model.column)))
    c1, c2 = st.columns(2)
    c1.plotly_chart(charts.lift_chart(model.lift), key="lift")
    c2.plotly_chart(charts.calibration_chart(model.calibration), key="calibration")


rfm_section()
propensity_section()
st.page_link("pages/segment.py", label=_("Next: segment your customers, RFM measures and scores included"),
             icon=":material/arrow_forward:")

"""Deduplicate: find duplicate customers, review pairs side by side, merge into golden records, undo."""

import streamlit as st

import app_state
from pages import charts
from segmentation.core.errors import SegmentStudioError
from segmentation.customers.golden import RULES, rules_from_table, rules_table
from segmentation.dedupe import review as dedupe
from segmentation.dedupe.matching import MatchSettings

store = app_state.store()
st.title("Deduplicate customers")

customers = [d.name for d in store.datasets("customers")]
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
dataset = app_state.pick_dataset(customers, key="dedupe_dataset")
ds = store.dataset(dataset)
defaults = MatchSettings()

with st.expander("Matching settings"):
    c1, c2 = st.columns(2)
    upper = c1.slider("Sure match above", 0.5, 1.0, defaults.upper, 0.01, key="dedupe_upper")
    lower = c2.slider("Review above", 0.0, 1.0, defaults.lower, 0.01, key="dedupe_lower")
    compared = st.multiselect("Compare these columns (empty: every column with a comparable role)",
                              ds.columns, key="dedupe_columns")

if st.button("Find duplicates", type="primary", key="find"):
    try:
        dedupe.find_pairs(store, dataset, MatchSettings(upper=upper, lower=min(lower, upper)),
                          match_columns=compared or None, progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(str(exc))

run = dedupe.last_run(store, dataset)
if run is None:
    st.info("Click **Find duplicates** to compare the records.")
    st.stop()

app_state.show_flash()
m = st.columns(5)
m[0].metric("Records", f"{run.records:,}")
m[1].metric("Pairs compared", f"{run.pairs_compared:,}")
m[2].metric("Sure matches", f"{run.sure_matches:,}")
m[3].metric("Pairs to review", f"{run.to_review:,}")
m[4].metric("Customers after merges", f"{dedupe.record_count(store, dataset):,}")
if run.blocks_capped:
    st.warning(f"{run.blocks_capped:,} very large blocks (a value shared by many records, such as a switchboard "
               f"number) were split or skipped to keep matching fast. {run.note}")

pairs = dedupe.pairs_table(store, dataset)
st.plotly_chart(charts.score_histogram(pairs, upper, lower), key="score_hist")

b1, b2 = st.columns(2)
if b1.button(f"Merge every pair scoring at least {upper:.2f}", key="bulk_merge"):
    result = dedupe.merge(store, dataset, above=upper, source="bulk")
    st.session_state.flash = (
        f"{result['groups_merged']:,} groups merged: {result['records_before']:,} → {result['records_after']:,} "
        "customers." + (f" {result['refused_chains']} groups were split because two of their records were marked "
                        "as different customers; the links between the parts were not merged."
                        if result["refused_chains"] else ""))
    st.rerun()

st.subheader("Review pairs")
status = st.radio("Show", ["review", "sure", "all"], horizontal=True, key="review_status",
                  format_func={"review": "To review", "sure": "Sure matches", "all": "All"}.get)
queue = dedupe.pairs_table(store, dataset, status=None if status == "all" else status, undecided_only=True)
if queue.empty:
    st.success("Nothing left to review here.")
else:
    pos = st.session_state.review_pos % len(queue)  # Skip on the last pair wraps around
    pair = queue.iloc[pos]
    st.caption(f"Pair {pos + 1} of {len(queue):,} · score **{pair['score']:.2f}** · "
               f"{pair['left_id']} ↔ {pair['right_id']}")
    side = dedupe.pair_records(store, int(pair["left_row"]), int(pair["right_row"]), dataset)
    records, evidence = st.columns([3, 2])
    records.dataframe(side.style.apply(lambda r: ["background-color: #fde2e1" if r["differs"] else ""] * len(r),
                                       axis=1), hide_index=True, column_config={"differs": None}, key="side_by_side")
    evidence.dataframe(dedupe.pair_evidence(pair["levels"], ds.roles), hide_index=True, key="evidence",
                       column_config={"comparison": "Field score", "result": "Found"})
    with st.expander("Golden record if merged"):
        st.dataframe(dedupe.preview_golden(store, [int(pair["left_row"]), int(pair["right_row"])], dataset),
                     hide_index=True)
    k1, k2, k3 = st.columns(3)
    rows = [(int(pair["left_row"]), int(pair["right_row"]))]
    if k1.button("✅ Same customer: merge", key="accept", type="primary", shortcut="Y"):
        dedupe.merge(store, dataset, pairs=rows, source="review")
        st.rerun()
    if k2.button("❌ Different customers", key="reject", shortcut="N"):
        dedupe.decide(store, rows, "no_match", dataset)
        st.rerun()
    if k3.button("Skip", key="skip", shortcut="S"):
        st.session_state.review_pos = pos + 1
        st.rerun()
    st.caption("Keyboard: **Y** same customer · **N** different customers · **S** skip. "
               "Each decision is saved at once; the next pair follows.")
    if st.button(f"Accept all {len(queue):,} pairs shown and merge", key="accept_all"):
        result = dedupe.merge(store, dataset, source="bulk", pairs=list(zip(
            queue["left_row"].astype(int), queue["right_row"].astype(int), strict=True)))
        st.session_state.flash = f"{result['records_after']:,} customers after merges."
        st.rerun()

with st.expander("Golden record rules (which value survives a merge)"):
    table = rules_table(ds, dedupe.saved_survivorship(store, dataset))
    edited = st.data_editor(table, hide_index=True, disabled=["Column"], key=f"rules_{ds.id}", column_config={
        "Rule": st.column_config.SelectboxColumn("Rule", options=list(RULES.values()), required=True)})
    if st.button("Save rules", key="save_rules"):
        dedupe.save_survivorship(store, rules_from_table(edited), dataset)
        st.session_state.flash = "Golden record rules saved."
        st.rerun()

st.subheader("Merged customers")
groups = dedupe.merge_groups(store, dataset)
if groups.empty:
    st.caption("No merge yet.")
else:
    st.dataframe(groups, hide_index=True)
    g1, g2 = st.columns(2)
    group = g1.selectbox("Group", groups["group_id"], key="split_group")
    if g1.button("Split this group again", key="split"):
        dedupe.unmerge(store, dataset, group=int(group))
        st.rerun()
    if g2.button("Undo all merges", key="undo_all"):
        dedupe.unmerge(store, dataset, everything=True)
        st.rerun()
with st.expander("Audit log"):
    st.dataframe(dedupe.audit_log(store, dataset), hide_index=True)

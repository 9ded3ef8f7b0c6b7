"""Deduplicate: find duplicate customers, review pairs side by side, merge into golden records, undo.

Every read and write goes through the dataset handle's dedupe stage (``handle.dedupe``); reads are cached
by :func:`app_state.cached`, which keys on the store's write version.
"""

import streamlit as st

import app_state
from pages import charts
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import RULES, MatchSettings, SegmentStudioError


def merge_pairs(stage, pairs: tuple, source: str = "review") -> None:
    result = stage.merge(pairs=pairs, source=source)
    if source == "bulk":
        st.session_state.flash = f"{result.records_after:,} customers after merges."


def reject_pairs(stage, pairs: tuple) -> None:
    stage.decide(pairs, "no_match")


st.title("Deduplicate customers")

customers = app_state.workspace().names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
dataset = app_state.pick_dataset(customers, key="dedupe_dataset")
handle = app_state.dataset(dataset)
dedupe = handle.dedupe
defaults = MatchSettings()

with st.expander("Matching settings"):
    c1, c2 = st.columns(2)
    upper = c1.slider("Sure match above", 0.5, 1.0, defaults.upper, 0.01, key="dedupe_upper")
    lower = c2.slider("Review above", 0.0, 1.0, defaults.lower, 0.01, key="dedupe_lower")
    compared = st.multiselect("Compare these columns (empty: every column with a comparable role)",
                              handle.columns, key="dedupe_columns")

if st.button("Find duplicates", type="primary", key="find"):
    try:
        dedupe.find(MatchSettings(upper=upper, lower=min(lower, upper)), match_columns=compared or None,
                    progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))

run = app_state.cached(dedupe, "last_run")
if run is None:
    st.info("Click **Find duplicates** to compare the records.")
    st.stop()

app_state.show_flash()
m = st.columns(5)
m[0].metric("Records", f"{run.records:,}")
m[1].metric("Pairs compared", f"{run.pairs_compared:,}")
m[2].metric("Sure matches", f"{run.sure_matches:,}")
m[3].metric("Pairs to review", f"{run.to_review:,}")
m[4].metric("Customers after merges", f"{app_state.cached(dedupe, 'record_count'):,}")
if run.blocks_capped:
    st.warning(f"{run.blocks_capped:,} very large blocks (a value shared by many records, such as a switchboard "
               f"number) were split or skipped to keep matching fast. {plain(run.note)}")

pairs = app_state.cached(dedupe, "pairs")
st.plotly_chart(charts.score_histogram(pairs, upper, lower), key="score_hist")

b1, b2 = st.columns(2)
if b1.button(f"Merge every pair scoring at least {upper:.2f}", key="bulk_merge"):
    result = dedupe.merge(above=upper, source="bulk")
    st.session_state.flash = (
        f"{result.groups_merged:,} groups merged: {result.records_before:,} → {result.records_after:,} "
        "customers." + (f" {result.refused_chains} groups were split because two of their records were marked "
                        "as different customers; the links between the parts were not merged."
                        if result.refused_chains else ""))
    st.rerun()

st.subheader("Review pairs")
status = st.radio("Show", ["review", "sure", "all"], horizontal=True, key="review_status",
                  format_func={"review": "To review", "sure": "Sure matches", "all": "All"}.get)
queue = app_state.cached(dedupe, "pairs", None if status == "all" else status, undecided_only=True)
if queue.empty:
    st.success("Nothing left to review here.")
else:
    pos = st.session_state.review_pos % len(queue)  # Skip on the last pair wraps around
    pair = queue.iloc[pos]
    left, right = int(pair["left_row"]), int(pair["right_row"])
    st.caption(f"Pair {pos + 1} of {len(queue):,} · score **{pair['score']:.2f}** · "
               f"{plain(pair['left_id'])} ↔ {plain(pair['right_id'])}")
    side = app_state.cached(dedupe, "pair_records", left, right)
    records, evidence = st.columns([3, 2])
    records.dataframe(side.style.apply(lambda r: ["background-color: #fde2e1" if r["differs"] else ""] * len(r),
                                       axis=1), hide_index=True, column_config={"differs": None}, key="side_by_side")
    evidence.dataframe(dedupe.pair_evidence(pair["levels"]), hide_index=True, key="evidence",
                       column_config={"comparison": "Field score", "result": "Found"})
    with st.expander("Golden record if merged"):
        st.dataframe(app_state.cached(dedupe, "preview_golden", (left, right)), hide_index=True)
    k1, k2, k3 = st.columns(3)
    # The buttons act on the pair they were drawn for (callback arguments), not on whichever pair the queue
    # puts first when the click is handled: another reviewer may have merged this one a moment ago.
    rows = ((left, right),)
    k1.button("✅ Same customer: merge", key="accept", type="primary", shortcut="Y",
              on_click=merge_pairs, args=(dedupe, rows))
    k2.button("❌ Different customers", key="reject", shortcut="N", on_click=reject_pairs, args=(dedupe, rows))
    if k3.button("Skip", key="skip", shortcut="S"):
        st.session_state.review_pos = pos + 1
        st.rerun()
    st.caption("Keyboard: **Y** same customer · **N** different customers · **S** skip. "
               "Each decision is saved at once; the next pair follows.")
    shown = tuple(zip(queue["left_row"].astype(int), queue["right_row"].astype(int), strict=True))
    st.button(f"Accept all {len(queue):,} pairs shown and merge", key="accept_all",
              on_click=merge_pairs, args=(dedupe, shown, "bulk"))

with st.expander("Golden record rules (which value survives a merge)"):
    table = app_state.cached(dedupe, "survivorship_table")
    edited = st.data_editor(table, hide_index=True, disabled=["Column"], key=f"rules_{handle.id}", column_config={
        "Rule": st.column_config.SelectboxColumn("Rule", options=list(RULES.values()), required=True)})
    if st.button("Save rules", key="save_rules"):
        dedupe.save_survivorship(edited)
        st.session_state.flash = "Golden record rules saved."
        st.rerun()

st.subheader("Merged customers")
groups = app_state.cached(dedupe, "groups")
if groups.empty:
    st.caption("No merge yet.")
else:
    st.dataframe(groups, hide_index=True)
    g1, g2 = st.columns(2)
    group = g1.selectbox("Group", groups["group_id"], key="split_group")
    # Both ask first (st.dialog); another session may have split the group a moment ago: the dialog says so.
    confirm_button(g1, "Split this group again", "split", action=dedupe.unmerge, kwargs={"group": int(group)},
                   question=f"Split merge group **{int(group)}** back into its records? Its golden record goes away.",
                   yes="Yes, split it")
    confirm_button(g2, "Undo all merges", "undo_all", action=dedupe.unmerge, kwargs={"everything": True},
                   question=f"Undo **all {len(groups):,} merges** of dataset {plain(dataset)}? Every merged customer "
                            "is split back into its records (the audit log keeps what happened).",
                   yes="Yes, undo all merges")
with st.expander("Audit log"):
    st.dataframe(app_state.cached(dedupe, "audit_log"), hide_index=True)

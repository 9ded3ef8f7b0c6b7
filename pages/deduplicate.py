"""Deduplicate: find duplicate customers, review pairs side by side, merge into golden records, undo.

Every read and write goes through the dataset handle's dedupe stage (``handle.dedupe``); reads are cached
by :func:`app_state.cached`, which keys on the store's write version. The review pair is an ``st.fragment``:
a decision (Y, N, S) reruns the pair only, which reads one pair, never the whole queue. ``?pair=LEFT-RIGHT``
(two record ids) opens that pair.
"""

import re

import numpy as np
import pandas as pd
import streamlit as st

import app_state
from app_state import _, number, say
from pages import charts
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import RULES, MatchSettings, SegmentStudioError

CHART_SAMPLE = 50_000  # pairs drawn in the score chart (a sample beyond that)
SHOWN = 1_000          # merge groups and log lines listed
PINNED, SEEN_LINK, ERROR = "dedupe_pinned", "dedupe_link_seen", "dedupe_error"
STATUSES = {"review": _("To review"), "sure": _("Sure matches"), "all": _("All")}
RULE_LABELS = {key: say(label) for key, label in RULES.items()}
SOURCES = {"review": _("one by one"), "bulk": _("in bulk"), "cli": _("command line"), "undo": _("undo"),
           "refresh": _("scheduled refresh")}
ACTIONS = {"match": _("same customer"), "no_match": _("different customers"), "undone": _("back to review")}


def _act(action, *args, **kwargs) -> None:
    """Run a decision (a button's callback); a failure is kept for the pair to show, the store unchanged."""
    st.session_state.pop(ERROR, None)
    try:
        action(*args, **kwargs)
    except SegmentStudioError as exc:
        st.session_state[ERROR] = say(exc)


def decide(stage, pair: tuple, decision: str) -> None:
    """Y or N on the pair drawn (callback arguments: not whichever pair comes first when the click lands)."""
    if decision == "match":
        _act(stage.merge, pairs=(pair,), source="review")
    else:
        _act(stage.decide, (pair,), "no_match")
    _unpin()


def skip(position: int) -> None:
    st.session_state.review_pos = position + 1
    _unpin()


def _unpin() -> None:
    if st.session_state.pop(PINNED, None) is not None and "pair" in st.query_params:
        del st.query_params["pair"]


def accept_all(stage, status: str | None) -> None:
    shown = stage.pairs(status, undecided_only=True)
    result = stage.merge(pairs=shown[["left_row", "right_row"]], source="bulk")
    st.session_state.flash = _("{count} customers after merges.", count=result.records_after)


st.title(_("Deduplicate customers"))
st.write(_("Find the customers entered more than once, check the doubtful pairs, and merge each customer into "
           "one record."))

customers = app_state.workspace().names("customers")
if not customers:
    st.info(_("Import a customers file first (page Import)."))
    st.stop()
dataset = app_state.pick_dataset(customers, key="dedupe_dataset")
handle = app_state.dataset(dataset)
dedupe = handle.dedupe
defaults = MatchSettings()

with st.expander(_("Matching settings"), icon=":material/tune:"):
    c1, c2 = st.columns(2)
    upper = c1.slider(_("Sure match above"), 0.5, 1.0, defaults.upper, 0.01, key="dedupe_upper",
                      help=_("Pairs scoring at least this are merged by the bulk merge below."))
    lower = c2.slider(_("Review above"), 0.0, 1.0, defaults.lower, 0.01, key="dedupe_lower",
                      help=_("Pairs between the two thresholds wait for a person."))
    compared = st.multiselect(_("Compare these columns (empty: every column with a comparable role)"),
                              handle.columns, key="dedupe_columns", placeholder=_("Every comparable column"))

if st.button(_("Find duplicates"), type="primary", key="find", icon=":material/search:"):
    try:
        dedupe.find(MatchSettings(upper=upper, lower=min(lower, upper)), match_columns=compared or None,
                    progress=app_state.progress_bar())
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))

run = app_state.cached(dedupe, "last_run")
if run is None:
    st.info(_("Click Find duplicates to compare the records."))
    st.stop()

app_state.show_flash()
m = st.columns(4)
m[0].metric(_("Records"), number(run.records))
m[1].metric(_("Pairs compared"), number(run.pairs_compared))
m[2].metric(_("Sure matches"), number(run.sure_matches))
m[3].metric(_("Pairs to review"), number(run.to_review))
if run.blocks_capped:
    st.warning(_("{count} very large blocks (a value shared by many records, such as a switchboard number) were "
                 "split or skipped to keep matching fast.", count=run.blocks_capped))

scores = app_state.cached(dedupe, "score_sample", CHART_SAMPLE)
st.plotly_chart(charts.score_histogram(scores, upper, lower), key="score_hist")
if run.candidate_pairs > len(scores):
    st.caption(_("The chart shows a sample of {shown} of the {count} pairs.", shown=len(scores),
                 count=run.candidate_pairs))

if st.button(_("Merge every pair scoring at least {score}", score=round(upper, 2)), key="bulk_merge",
             icon=":material/merge:"):
    try:
        result = dedupe.merge(above=upper, source="bulk")
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
    else:
        text = _("{groups} groups merged: {before} → {after} customers.", groups=result.groups_merged,
                 before=result.records_before, after=result.records_after)
        if result.refused_chains:
            text += " " + _("{count} groups were split because two of their records were marked as different "
                            "customers; the links between the parts were not merged.", count=result.refused_chains)
        st.session_state.flash = text
        st.rerun()


def _pinned_pair():
    """The pair a ``?pair=`` link asks for, once per link (then the queue takes over)."""
    link = st.query_params.get("pair")
    if link and link != st.session_state.get(SEEN_LINK):
        st.session_state[SEEN_LINK] = link
        try:
            st.session_state[PINNED] = dedupe.pair_from_link(link)
        except SegmentStudioError:
            st.session_state.pop(PINNED, None)
            st.warning(_("The link names no pair of the last run: {link}", link=plain(link)))
    return st.session_state.get(PINNED)


def _side_by_side(side: pd.DataFrame, left_id: str, right_id: str) -> None:
    heads = (left_id, right_id) if left_id != right_id else (_("First record"), _("Second record"))
    table = side.rename(columns={"field": _("Field"), "left": heads[0], "right": heads[1]})
    st.dataframe(table.style.apply(lambda r: ["background-color: #fde2e1" if r["differs"] else ""] * len(r),
                                   axis=1), hide_index=True, column_config={"differs": None}, key="side_by_side")


@st.fragment
def review_pair() -> None:
    """One pair: its records, the reasons it waits, the evidence and the three decisions."""
    st.subheader(_("Review pairs"))
    # Here, not with the run's figures above: each decision reruns this part only, and this count follows it.
    st.metric(_("Customers after merges"), number(app_state.cached(dedupe, "record_count")))
    status = st.radio(_("Show"), list(STATUSES), horizontal=True, key="review_status", format_func=STATUSES.get)
    wanted = None if status == "all" else status
    if st.session_state.get(ERROR):
        st.error(plain(st.session_state.pop(ERROR)))
    pair = _pinned_pair()
    size = app_state.cached(dedupe, "queue_size", wanted)
    position = st.session_state.review_pos % size if size else 0
    if pair is None:
        pair = app_state.cached(dedupe, "queue_pair", wanted, position) if size else None
    if pair is None:
        st.success(_("Nothing left to review here."), icon=":material/task_alt:")
        return
    left, right = pair["left_row"], pair["right_row"]
    pinned = st.session_state.get(PINNED) is not None
    where = _("Pair from the link") if pinned else _("Pair {position} of {count}", position=position + 1, count=size)
    st.caption(_("{where} · score {score} · {left} ↔ {right}", where=where, score=round(pair["score"], 2),
                 left=plain(pair["left_id"]), right=plain(pair["right_id"])))
    review = app_state.cached(dedupe, "pair_review", left, right, pair["levels"], pair["in_chain"])
    st.info(plain(_("Why: {reasons}", reasons=say(review.why))), icon=":material/help:")
    records, evidence = st.columns([3, 2])
    with records:
        _side_by_side(app_state.cached(dedupe, "pair_records", left, right), str(pair["left_id"]),
                      str(pair["right_id"]))
    evidence.dataframe(pd.DataFrame({_("Field"): [say(e.field) for e in review.evidence],
                                     _("Found"): [say(e.result) for e in review.evidence]}),
                       hide_index=True, key="evidence")
    with st.expander(_("Golden record if merged"), icon=":material/person:"):
        golden = app_state.cached(dedupe, "preview_golden", (left, right))
        if not golden.empty:
            row = golden.drop(columns=["customer_id", "source_rows"], errors="ignore").iloc[0]
            labels = [_("Records merged") if c == "source_ids" else c for c in row.index]
            st.dataframe(pd.DataFrame({_("Field"): labels, _("Value"): [_text(v) for v in row.to_numpy()]}),
                         hide_index=True)
    k1, k2, k3 = st.columns(3)
    rows = (left, right)
    k1.button(_("Same customer: merge"), key="accept", type="primary", shortcut="Y", icon=":material/check:",
              on_click=decide, args=(dedupe, rows, "match"))
    k2.button(_("Different customers"), key="reject", shortcut="N", icon=":material/close:",
              on_click=decide, args=(dedupe, rows, "no_match"))
    k3.button(_("Skip"), key="skip", shortcut="S", icon=":material/skip_next:", on_click=skip, args=(position,))
    st.caption(_("Keyboard: Y same customer · N different customers · S skip. Each decision is saved at once; "
                 "the next pair follows."))
    everything = _("Accept all {count} pairs shown and merge", count=size) if size > 1 else \
        _("Accept this pair and merge")
    if st.button(everything, key="accept_all", icon=":material/done_all:"):
        _act(accept_all, dedupe, wanted)
        st.rerun()


def _text(value) -> str:
    if isinstance(value, list | tuple | np.ndarray):
        return "; ".join(str(v) for v in value)
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


review_pair()

with st.expander(_("Details: how the score works"), icon=":material/info:"):
    st.markdown("\n".join([
        "- " + _("Fellegi–Sunter: each field that agrees adds evidence that two records are one customer, each "
                 "field that differs takes some away; rare values (an unusual name) count more than common ones "
                 "(a switchboard number)."),
        "- " + _("EM: the app learns from your own file how often each field agrees for real duplicates and for "
                 "different customers, so no one has to label examples first."),
        "- " + _("Score: from 0 (surely different) to 1 (surely the same customer); pairs above the upper "
                 "threshold are merged in bulk, pairs between the thresholds wait for you."),
    ]))

with st.expander(_("Golden record rules (which value survives a merge)"), icon=":material/rule:"):
    st.caption(_("Ties are broken the same way every time: the most complete record first, then the most recent, "
                 "then the first one imported."))
    table = app_state.cached(dedupe, "survivorship_table")
    keys = {label: key for key, label in RULES.items()}
    shown = pd.DataFrame({_("Column"): table["Column"], _("Rule"): [RULE_LABELS[keys[r]] for r in table["Rule"]]})
    edited = st.data_editor(shown, hide_index=True, disabled=[_("Column")], key=f"rules_{handle.id}", column_config={
        _("Rule"): st.column_config.SelectboxColumn(_("Rule"), options=list(RULE_LABELS.values()), required=True)})
    if st.button(_("Save rules"), key="save_rules", icon=":material/save:"):
        back = {label: key for key, label in RULE_LABELS.items()}
        try:
            dedupe.save_survivorship(dict(zip(edited[_("Column")], (back[r] for r in edited[_("Rule")]),
                                              strict=True)))
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.session_state.flash = _("Golden record rules saved.")
            st.rerun()

st.subheader(_("Merged customers"))
groups = app_state.cached(dedupe, "groups", SHOWN)
if groups.empty:
    st.caption(_("No merge yet."))
else:
    total = app_state.cached(dedupe, "group_count")
    if total > len(groups):
        st.caption(_("The {shown} newest of {count} merge groups.", shown=len(groups), count=total))
    st.dataframe(groups.assign(source=groups["source"].map(lambda s: SOURCES.get(s, s))).rename(columns={
        "group_id": _("Group"), "created_at": _("Merged on"), "source": _("How"), "records": _("Records"),
        "record_ids": _("Record ids")}), hide_index=True, key="groups")
    g1, g2 = st.columns(2)
    group = g1.selectbox(_("Group"), groups["group_id"], key="split_group")
    # Both ask first (st.dialog); another session may have split the group a moment ago: the dialog says so.
    confirm_button(g1, _("Split this group again"), "split", action=dedupe.unmerge, kwargs={"group": int(group)},
                   question=_("Split merge group {group} back into its records? Its golden record goes away.",
                              group=str(int(group))), yes=_("Yes, split it"), icon=":material/call_split:")
    confirm_button(g2, _("Undo all merges"), "undo_all", action=dedupe.unmerge, kwargs={"everything": True},
                   question=_("Undo all {count} merges of dataset {name}? Every merged customer is split back into "
                              "its records (the audit log keeps what happened).", count=total, name=plain(dataset)),
                   yes=_("Yes, undo all merges"), icon=":material/undo:")


def _action(text: str) -> str:
    found = re.fullmatch(r"(merged|split) group (\d+)", str(text))
    if found:
        return (_("merged group {group}", group=found.group(2)) if found.group(1) == "merged"
                else _("split group {group}", group=found.group(2)))
    return ACTIONS.get(text, text)


with st.expander(_("Audit log"), icon=":material/history:"):
    log = app_state.cached(dedupe, "audit_log", SHOWN)
    st.dataframe(log.assign(source=log["source"].map(lambda s: SOURCES.get(s, s)),
                            action=log["action"].map(_action)).rename(columns={
        "time": _("When"), "source": _("How"), "action": _("What"), "left_row": _("First row"),
        "right_row": _("Second row"), "score": _("Score")}), hide_index=True)

st.page_link("pages/segment.py", label=_("Next: segment your customers"), icon=":material/arrow_forward:")

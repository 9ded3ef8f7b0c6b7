"""Audiences: segments plus conditions, consent respected, a live count, a safe list to download."""

import streamlit as st

import app_state
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import (
    NO_CONSENT_CHOICES,
    OPERATORS,
    PRESETS,
    AudienceSpec,
    Condition,
    SegmentStudioError,
    to_csv_bytes,
)

st.title("Audiences")

customers = app_state.workspace().names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
ds = app_state.dataset(app_state.pick_dataset(customers, key="audience_dataset"))
audiences = ds.audiences
app_state.show_flash()



def reopen(name: str, spec_json: str) -> None:
    """Load a saved audience into the builder's widgets (a callback, before they are drawn)."""
    spec = AudienceSpec.from_json(spec_json)
    state = st.session_state
    if spec.run:
        state[f"audience_run_{ds.id}"] = spec.run
    state.audience_segments = list(spec.segments)
    state.audience_conditions = [{"dataset": ds.id, "group": g + 1, "column": c.column, "op": c.op, "value": c.value}
                                 for g, group in enumerate(spec.groups) for c in group]
    state.audience_channel = spec.channel
    state.audience_include_no_consent = spec.include_no_consent
    state.audience_no_consent_column = spec.no_consent_column
    state.audience_holdout = round(spec.holdout * 100)
    state.audience_seed = spec.seed
    state.audience_name = name
    if spec.columns:
        state[f"audience_columns_{ds.id}_{spec.channel}"] = list(spec.columns)


runs = app_state.cached(ds.segments, "runs")
run_names = list(runs["name"])
current = list(runs.loc[runs["current"], "name"])
run = None
if run_names:  # one key per dataset: a choice made on another dataset's runs does not carry over
    run = st.selectbox("Segment run", run_names, index=run_names.index(current[0]) if current else 0,
                       key=f"audience_run_{ds.id}")
else:
    st.caption("No segment run on this dataset yet: the audience takes from every customer.")
chosen: list[int] = []
if run is not None:
    names = app_state.cached(ds.segments, "names", run)
    chosen = st.multiselect("Segments (empty: all)", list(names), format_func=lambda k: f"{k} · {names[k]}",
                            key="audience_segments")

st.subheader("Conditions")
st.caption("Conditions of one group must all hold; a customer matching any group is in.")
a1, a2, a3, a4 = st.columns([3, 2, 3, 1])
kinds = app_state.cached(audiences, "attribute_kinds")
column = a1.selectbox("Column", [*ds.columns, *kinds], key="cond_column")
op = a2.selectbox("Operator", list(OPERATORS), format_func=OPERATORS.get, key="cond_op")
value = a3.text_input("Value (one of: separate with commas; dates: YYYY-MM-DD)", key="cond_value",
                      disabled=op in ("empty", "not_empty"))
group = a4.number_input("Group", 1, 9, 1, key="cond_group")
picked: list[str] = []
if column in app_state.cached(audiences, "category_columns") and op in ("eq", "ne", "in", "not_in"):
    p1, p2 = st.columns([2, 5])
    search = p1.text_input("Search values", key="cond_search", placeholder="ile de france")
    found = app_state.cached(audiences, "category_values", column, search.strip(), 50)
    counts = dict(zip(found["value"], found["customers"], strict=True))
    label = "Pick values (their customers; case, accents and spaces do not matter)"
    picked = p2.multiselect(label, list(counts), format_func=lambda v: f"{v} ({counts[v]:,})", key="cond_pick")
if st.button("Add condition", key="add_condition"):
    typed = [v.strip() for v in value.split(",") if v.strip()] if op in ("in", "not_in") else value.strip()
    if picked:
        typed = [*(typed if isinstance(typed, list) else []), *picked] if op in ("in", "not_in") else picked[0]
    st.session_state.audience_conditions.append({"dataset": ds.id, "group": int(group), "column": column, "op": op,
                                                 "value": typed})
    st.rerun()
by_group: dict[int, list[Condition]] = {}
for i, cond in enumerate(st.session_state.audience_conditions):
    if cond.get("dataset", ds.id) != ds.id:  # conditions are kept per dataset
        continue
    rule = Condition(cond["column"], cond["op"], cond["value"])
    left, right = st.columns([8, 1])
    if audiences.applies(rule):
        left.write(f"Group {cond['group']}: **{plain(rule.label)}**")
        by_group.setdefault(cond["group"], []).append(rule)
    else:
        left.write(f"Group {cond['group']}: ~~{plain(rule.label)}~~ (not applicable: this dataset has no column "
                   f"{plain(cond['column'])}; left out)")
    if right.button("Remove", key=f"remove_condition_{i}"):
        st.session_state.audience_conditions.pop(i)
        st.rerun()

st.subheader("Contact and consent")
c1, c2 = st.columns(2)
channel = c1.radio("Channel", ["email", "phone", None], horizontal=True, key="audience_channel", format_func={
    "email": "E-mail", "phone": "Phone", None: "None (no contact point needed)"}.get)
include = c2.checkbox("Include customers without consent or who opted out (recorded in the export log)",
                      key="audience_include_no_consent")
upload = c2.file_uploader("Suppression list (CSV of e-mails or record ids)", type=["csv", "txt", "xlsx"],
                          key="suppression_file")
if upload is not None and st.session_state.audience_suppression.get("file") != upload.file_id:
    try:
        list_id = audiences.save_suppression_file(upload.name, upload.getvalue())
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
    else:
        st.session_state.audience_suppression = {"file": upload.file_id, "id": list_id}
suppression = st.session_state.audience_suppression.get("id") if upload is not None else None

no_consent_column = None
if channel is not None and not {"consent", "opt_out"} & set(ds.roles.values()):
    c1.warning("This dataset has no consent or opt-out column: nothing says who may be contacted. Choose what "
               "that means before downloading; the choice is written in the export log.")
    words = {None: "Not chosen yet", "treat-as-consenting": "Treat everyone as consenting",
             "exclude": "Exclude everyone"}
    no_consent_column = c1.radio("Without a consent column", [None, *NO_CONSENT_CHOICES], format_func=words.get,
                                 key="audience_no_consent_column")
base = AudienceSpec(dataset=ds.name, run=run, segments=tuple(chosen),
                    groups=tuple(tuple(g) for _, g in sorted(by_group.items())), channel=channel,
                    include_no_consent=include, suppression=suppression, no_consent_column=no_consent_column)
st.subheader("Columns and holdout")
h1, h2, h3 = st.columns([4, 2, 1])
available = [*ds.columns, *app_state.cached(audiences, "contact_columns"), "segment_name", *kinds]
columns = h1.multiselect("Columns in the file", available, default=audiences.default_columns(base),
                         key=f"audience_columns_{ds.id}_{channel}")
personal = audiences.personal_columns(base, columns)
h1.caption("Personal data leaving the tool: "
           + (", ".join(f"**{plain(c)}**" for c in personal) if personal else "none"))
holdout = h2.slider("Holdout (control group)", 0, 50, 0, format="%d%%", key="audience_holdout")
seed = h3.number_input("Seed", 0, 10_000, 0, key="audience_seed")
spec = AudienceSpec(**{**base.__dict__, "columns": tuple(columns), "holdout": holdout / 100, "seed": int(seed)})

try:
    with st.spinner("Counting…"):  # the first count after merges builds the golden records once
        figures = app_state.cached(audiences, "count", spec)
        preview = app_state.cached(audiences, "select", spec, limit=20)
except SegmentStudioError as exc:
    st.error(plain(str(exc)))
    st.stop()
m = st.columns(5)
m[0].metric("In the segments", f"{figures.in_segments:,}")
m[1].metric("Matching the conditions", f"{figures.matching:,}")
m[2].metric("Without consent (excluded)" if not include else "Without consent (included)",
            f"{figures.excluded_no_consent:,}" if not include else "-")
m[3].metric("In the audience", f"{figures.final:,}")
m[4].metric("Holdout", f"{figures.holdout:,}")
excluded = {**{f"fails: {k}": v for k, v in figures.excluded_by_rule.items()},
            f"no {channel}": figures.excluded_no_contact, "suppression list": figures.excluded_suppressed}
if channel is None:
    excluded.pop("no None")
st.caption(" · ".join(f"{plain(label)}: {n:,}" for label, n in excluded.items()))
st.dataframe(preview, hide_index=True, key="audience_preview")

st.subheader("Download")
GENERAL = {"excel-fr": ("csv-excel", "CSV for Excel (FR: ; and BOM)"), "csv": ("csv", "CSV (UTF-8, comma)"),
           "xlsx": ("xlsx", "Excel (.xlsx)"), "parquet": ("parquet", "Parquet")}
d1, d2 = st.columns(2)
destination = d1.selectbox("Destination", [*GENERAL, *PRESETS], key="audience_preset",
                           format_func=lambda k: GENERAL[k][1] if k in GENERAL else PRESETS[k].title)
preset = PRESETS.get(destination)
hashed = d1.toggle("Hash identifiers (SHA-256)", key="audience_hash", disabled=not (preset and preset.hashable),
                   help="E-mails, phones and names normalised as the destination's guide says, then SHA-256.")
if preset is not None:
    d1.caption(f"Follows [{plain(preset.title)}]({preset.docs_url}). {plain(preset.limits)} "
               f"Columns: {plain(', '.join(preset.headers(hashed and preset.hashable)))}.")
    warning = preset.size_warning(figures.contacts)
    if warning:
        d1.warning(plain(warning))
name = d2.text_input("Audience name", key="audience_name", placeholder="e.g. IDF SMEs, engaged")
file_format = GENERAL[destination][0] if preset is None else preset.file_format
extension = preset.extension if preset else {"xlsx": "xlsx", "parquet": "parquet"}.get(file_format, "csv")
stem = f"{name or 'audience'}{f' ({preset.name})' if preset else ''}"
consent_missing = channel is not None and not figures.consent_column and not include and no_consent_column is None
if consent_missing:
    d1.info("Choose what the missing consent column means (above) to download.")
options = {"preset": preset.name if preset else None, "hashed": bool(hashed and preset and preset.hashable)}
d1.download_button(f"Download {figures.contacts:,} customers to contact", key="audience_download",
                   data=lambda: audiences.render(spec, file_format, audience=name or None, **options),
                   file_name=f"{stem}.{extension}", type="primary", disabled=consent_missing)
if figures.holdout:
    d1.download_button(f"Download the holdout ({figures.holdout:,}, not to contact)", key="audience_download_holdout",
                       data=lambda: audiences.render(spec, file_format, audience=name or None, part="holdout",
                                                     **options),
                       file_name=f"{stem} (holdout).{extension}", disabled=consent_missing)
if d2.button("Save audience", key="save_audience", disabled=not name.strip()):
    try:
        audiences.save(name, spec)
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
    else:
        st.session_state.flash = f"Audience **{plain(name.strip())}** saved."
        st.rerun()

saved = app_state.cached(audiences, "saved_with_sizes")
if not saved.empty:
    st.subheader("Saved audiences")
    st.dataframe(saved[["name", "saved_at", "customers", "status"]], hide_index=True, key="saved_audiences")
    s1, s2, s3, s4 = st.columns([3, 1, 3, 1])
    chosen_saved = s1.selectbox("Saved audience", list(saved["name"]), key="saved_pick")
    spec_json = saved.loc[saved["name"] == chosen_saved, "spec"].iloc[0]
    s2.button("Open in the builder", key="saved_open", on_click=reopen, args=(chosen_saved, spec_json))
    copy_name = s3.text_input("Copy as", key="saved_copy_name", placeholder=f"{chosen_saved} (copy)")
    if s4.button("Duplicate", key="saved_duplicate"):
        try:
            new_name = audiences.duplicate(chosen_saved, copy_name.strip() or f"{chosen_saved} (copy)")
        except SegmentStudioError as exc:
            st.error(plain(str(exc)))
        else:
            st.session_state.flash = f"Audience **{plain(new_name)}** saved."
            st.rerun()
    confirm_button(s2, "Delete", "saved_delete", question=f"Delete the saved audience **{plain(chosen_saved)}**? "
                   "Its exports stay in the log.", yes="Yes, delete it", action=audiences.delete, args=(chosen_saved,),
                   flash=f"Audience **{plain(chosen_saved)}** deleted.")
    picked = st.multiselect("Overlap between", saved["name"], default=list(saved["name"])[:3], key="overlap_pick")
    if len(picked) >= 2:
        overlap = app_state.cached(audiences, "overlap", tuple(picked))
        st.dataframe(overlap, key="overlap")
        st.download_button("Download the overlap (CSV)", key="overlap_download", file_name="overlap.csv",
                           data=lambda: to_csv_bytes(overlap.rename_axis("audience").reset_index()))
with st.expander("Export log"):
    log = app_state.cached(audiences, "export_log")
    st.dataframe(log, hide_index=True)
    st.download_button("Download the export log (CSV)", key="export_log_download", file_name="export log.csv",
                       data=lambda: to_csv_bytes(log))

"""Audiences: segments plus conditions, consent respected, a live count, a safe list to download."""

import streamlit as st

import app_state
from pages.text import plain
from segmentation import OPERATORS, AudienceSpec, Condition, SegmentStudioError

st.title("Audiences")

customers = app_state.workspace().names("customers")
if not customers:
    st.info("Import a customers file first (page Import).")
    st.stop()
ds = app_state.dataset(app_state.pick_dataset(customers, key="audience_dataset"))
audiences = ds.audiences
app_state.show_flash()

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
if st.button("Add condition", key="add_condition"):
    items = [v.strip() for v in value.split(",") if v.strip()] if op in ("in", "not_in") else value.strip()
    st.session_state.audience_conditions.append({"group": int(group), "column": column, "op": op, "value": items})
    st.rerun()
for i, cond in enumerate(st.session_state.audience_conditions):
    left, right = st.columns([8, 1])
    left.write(f"Group {cond['group']}: **{plain(Condition(cond['column'], cond['op'], cond['value']).label)}**")
    if right.button("Remove", key=f"remove_condition_{i}"):
        st.session_state.audience_conditions.pop(i)
        st.rerun()
by_group: dict[int, list[Condition]] = {}
for cond in st.session_state.audience_conditions:
    by_group.setdefault(cond["group"], []).append(Condition(cond["column"], cond["op"], cond["value"]))

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

base = AudienceSpec(dataset=ds.name, run=run, segments=tuple(chosen),
                    groups=tuple(tuple(g) for _, g in sorted(by_group.items())), channel=channel,
                    include_no_consent=include, suppression=suppression)
st.subheader("Columns and holdout")
h1, h2, h3 = st.columns([4, 2, 1])
available = [*ds.columns, "segment_name", *kinds]
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

d1, d2 = st.columns(2)
file_format = d1.radio("Format", ["csv-excel", "csv", "xlsx"], horizontal=True, key="audience_format",
                       format_func={"csv-excel": "CSV for Excel (FR: ; and BOM)", "csv": "CSV (UTF-8, comma)",
                                    "xlsx": "Excel (.xlsx)"}.get)
name = d2.text_input("Audience name", key="audience_name", placeholder="e.g. IDF SMEs, engaged")
extension = "xlsx" if file_format == "xlsx" else "csv"
d1.download_button(f"Download {figures.final:,} customers", key="audience_download",
                   data=lambda: audiences.render(spec, file_format, audience=name or None),
                   file_name=f"{name or 'audience'}.{extension}", type="primary")
if d2.button("Save audience", key="save_audience", disabled=not name.strip()):
    try:
        audiences.save(name, spec)
    except SegmentStudioError as exc:
        st.error(plain(str(exc)))
    else:
        st.session_state.flash = f"Audience **{plain(name.strip())}** saved."
        st.rerun()

saved = app_state.cached(audiences, "saved")
if not saved.empty:
    st.subheader("Saved audiences")
    st.dataframe(saved[["name", "saved_at"]], hide_index=True, key="saved_audiences")
    picked = st.multiselect("Overlap between", saved["name"], default=list(saved["name"])[:3], key="overlap_pick")
    if len(picked) >= 2:
        st.dataframe(app_state.cached(audiences, "overlap", tuple(picked)), key="overlap")
with st.expander("Export log"):
    st.dataframe(app_state.cached(audiences, "export_log"), hide_index=True)

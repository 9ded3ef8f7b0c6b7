"""Import: upload CRM exports, check the guessed column roles, see the data-quality report.

Every call goes through the facade (``workspace.ingest`` and ``handle.ingest``); reads are cached with
:func:`app_state.cached`, keyed on the store's write version.
"""

import pandas as pd
import streamlit as st

import app_state
from pages import charts
from segmentation import KINDS, ROLES, ImportSettings, QualitySettings, SegmentStudioError

ws = app_state.workspace()
ROLE_LABELS = list(ROLES.values())
ROLE_KEYS = {label: key for key, label in ROLES.items()}

st.title("Import customers")
st.write("Upload CRM exports (CSV, TSV or Excel). Encoding and delimiter are detected; "
         "check the column roles, then import.")


def role_editor(columns: list[str], roles: dict[str, str], key: str, examples: list | None = None) -> dict:
    """Editable table of column roles; returns column -> role key."""
    table = pd.DataFrame({"Column": columns, "Role": [ROLES[roles[c]] for c in columns]})
    if examples is not None:
        table["Example"] = examples
    edited = st.data_editor(table, hide_index=True, disabled=["Column", "Example"], key=key, column_config={
        "Role": st.column_config.SelectboxColumn("Role", options=ROLE_LABELS, required=True)})
    return {c: ROLE_KEYS[r] for c, r in zip(edited["Column"], edited["Role"], strict=True)}


def upload_section(files) -> None:
    """Preview, roles and the Import button for the uploaded files."""
    pending = {st.session_state.uploads[f.file_id]: f.name for f in files}
    if st.session_state.active_upload not in pending:
        st.session_state.active_upload = next(iter(pending))
    if len(pending) > 1:
        st.selectbox("File to import", list(pending), format_func=pending.get, key="active_upload")
    upload_id = st.session_state.active_upload
    file_name = pending[upload_id]
    try:
        preview = app_state.cached(ws.ingest, "preview", upload_id, None)
        sheet = None
        if len(preview.sheets) > 1:
            sheet = st.selectbox("Sheet", preview.sheets, index=preview.sheets.index(preview.sheet))
            if sheet != preview.sheet:
                preview = app_state.cached(ws.ingest, "preview", upload_id, sheet)
    except SegmentStudioError as exc:
        st.error(str(exc))
        return
    facts = [f"Format **{preview.file_format.upper()}**"]
    if preview.encoding:
        facts.append(f"encoding **{preview.encoding}**")
    if preview.delimiter:
        facts.append(f"delimiter **{'tab' if preview.delimiter == chr(9) else preview.delimiter}**")
    st.markdown(" · ".join(facts))
    for warning in preview.warnings:
        st.warning(warning)
    st.dataframe(preview.frame, hide_index=True, height=240)
    imported = st.session_state.imported.get(f"{upload_id}/{sheet}")
    if imported:
        st.success(f"Imported as dataset **{imported}**. Remove the file above, or upload another one.")
        return

    st.subheader("Column roles")
    roles = role_editor(preview.columns, preview.roles, f"roles_{upload_id}_{sheet}",
                        [next(iter(preview.frame[c].dropna()), "") for c in preview.columns])
    existing = ws.names("customers")
    target = None
    if existing:
        target = st.selectbox("Import into", [None, *existing], key=f"append_{upload_id}",
                              format_func=lambda n: "A new dataset" if n is None else
                              f"{n}: a later export of the same CRM (same record id = updated record)")
    left, right = st.columns(2)
    if target is None:
        name = left.text_input("Dataset name", value=file_name.rsplit(".", 1)[0], key=f"name_{upload_id}")
        kind = right.selectbox("The rows are", KINDS, key=f"kind_{upload_id}")
    else:
        name, kind = None, "customers"
        st.caption(f"The roles and normalisation of **{target}** apply. Run **Deduplicate** afterwards to match "
                   "the new records against its customers: merges and review decisions already made are kept.")
    if st.button("Import", type="primary", key="import"):
        try:
            handle = ws.ingest.import_upload(
                upload_id, ImportSettings(name=name, sheet=sheet, kind=kind, roles=roles, append_to=target),
                progress=app_state.progress_bar(), file_name=file_name)
        except SegmentStudioError as exc:
            st.error(str(exc))
            return
        done = handle.ingest.import_result()
        st.session_state.dataset = done.dataset
        st.session_state.imported[f"{upload_id}/{sheet}"] = done.dataset
        if not done.appended:
            st.success(f"Imported **{done.rows:,}** rows into dataset **{done.dataset}**"
                       + (f"; {done.rejected_rows:,} rows could not be read (see the report)."
                          if done.rejected_rows else "."))
        else:
            st.success(f"Added to **{done.dataset}**: {done.rows_added:,} new records, "
                       f"{done.rows_updated:,} records updated, {done.rows_unchanged:,} rows already there "
                       f"as they were; {done.rows:,} records in all.")


files = st.file_uploader("CRM exports", type=["csv", "tsv", "txt", "xlsx", "xls"],
                         accept_multiple_files=True, key="uploader")
for f in files or []:
    if f.file_id not in st.session_state.uploads:
        # Keep the bytes in the store once: the uploader's buffer does not survive every rerun.
        st.session_state.uploads[f.file_id] = ws.ingest.save_upload(f.name, f.getvalue())
        st.session_state.active_upload = st.session_state.uploads[f.file_id]
if files:
    upload_section(files)

datasets = ws.datasets()
if not datasets:
    st.info("No dataset yet: upload a file above.")
    st.stop()

st.divider()
names = [d.name for d in datasets]
if st.session_state.dataset not in names:
    customers = [d.name for d in datasets if d.kind == "customers"]
    st.session_state.dataset = (customers or names)[0]
current = app_state.pick_dataset(names, key="import_dataset")
handle = next(d for d in datasets if d.name == current)
ds = handle.info
c1, c2, c3, c4 = st.columns(4)
c1.metric("Rows", f"{ds.row_count:,}")
c2.metric("Columns", len(ds.columns))
c3.metric("Unreadable rows", f"{ds.rejected_rows:,}")
c4.metric("Kind", ds.kind)
st.caption(f"From `{ds.source_file}` · imported {ds.imported_at:%Y-%m-%d %H:%M} · "
           f"encoding {ds.encoding or '-'} · delimiter {ds.delimiter!r}" if ds.delimiter
           else f"From `{ds.source_file}` · imported {ds.imported_at:%Y-%m-%d %H:%M}")

batches = app_state.cached(handle.ingest, "batches")
if not batches.empty:
    with st.expander(f"Later exports added ({len(batches)})"):
        st.dataframe(batches, hide_index=True)

with st.expander("Change column roles"):
    changed = role_editor(ds.columns, ds.roles, f"ds_roles_{ds.id}")
    if st.button("Apply roles and normalise again", key="apply_roles"):
        try:
            handle.ingest.set_roles(changed, progress=app_state.progress_bar())
        except SegmentStudioError as exc:
            st.error(str(exc))
        else:
            st.rerun()

st.subheader("Data quality")
stale_months = st.number_input("Stale after (months without activity)", 1, 120, 12, key="stale_months")
settings = QualitySettings(stale_months=int(stale_months))
report = app_state.cached(handle.ingest, "quality", settings)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Exact duplicate records", f"{report.exact_duplicates:,}")
m2.metric("Shared emails/phones", f"{sum(report.duplicate_keys.values()):,}")
m3.metric("Stale profiles", "-" if report.stale_profiles is None else f"{report.stale_profiles:,}")
m4.metric("Invalid values", f"{int(report.columns['invalid'].sum()):,}")
st.plotly_chart(charts.missing_chart(report), key="missing_chart")
corr = charts.correlation_chart(report)
if corr is not None:
    st.caption("Correlation between numeric columns")
    st.plotly_chart(corr, key="corr_chart")
st.dataframe(charts.column_quality_frame(report), hide_index=True, column_config={
    "Missing %": st.column_config.NumberColumn(format="%.1f %%"),
    "Invalid %": st.column_config.NumberColumn(format="%.1f %%")})

issues = charts.issues_frame(report)
if issues.empty:
    st.success("No issue found.")
else:
    st.dataframe(issues.drop(columns=["key"]), hide_index=True)
    labels = dict(zip(issues["key"], issues["Issue"], strict=True))
    key = st.selectbox("Rows concerned by", list(labels), format_func=labels.get, key="issue")
    rows = app_state.cached(handle.ingest, "issue_rows", key, settings)
    st.dataframe(rows.head(200), hide_index=True, height=200)
    st.download_button(f"Download these {len(rows):,} rows (CSV)",
                       app_state.cached(handle.ingest, "issue_rows_csv", key, settings),
                       file_name=f"{ds.name} - {labels[key]}.csv", mime="text/csv", key="issue_download")

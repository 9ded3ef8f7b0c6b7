"""Import: upload CRM exports, check the guessed column roles, see the data-quality report.

Every call goes through the facade (``workspace.ingest`` and ``handle.ingest``); reads are cached with
:func:`app_state.cached`, keyed on the store's write version.
"""

import pandas as pd
import streamlit as st

import app_state
from pages import charts
from pages.confirm import confirm_button
from pages.text import plain
from segmentation import (
    KINDS,
    MISSING_WORDS,
    PHONE_REGIONS,
    ROLES,
    ImportSettings,
    InputFileError,
    QualitySettings,
    ReadReport,
    SegmentStudioError,
)

ws = app_state.workspace()
ROLE_LABELS = list(ROLES.values())
ROLE_KEYS = {label: key for key, label in ROLES.items()}
DATE_ORDERS = {"auto": "Decide from the values", "dmy": "Day first (31/12/2024)", "mdy": "Month first (12/31/2024)",
               "ymd": "Year first (2024/12/31)"}
DECIMALS = {"auto": "Decide from the values", ",": "Comma (1 234,50)", ".": "Point (1,234.50)"}

st.title("Import customers")
st.write("Upload CRM exports (CSV, TSV or Excel). Encoding and delimiter are detected; "
         "check the column roles, then import.")
# Uploads are kept only as long as needed: one refused is deleted at once, one left when the session moves
# on (the file removed from the uploader) is deleted then, and one left by a closed tab when it is a day old.
st.session_state.setdefault("refused_uploads", {})  # uploader file id -> why the file was refused
app_state.show_flash()
if not st.session_state.get("stale_uploads_checked"):
    ws.ingest.discard_stale_uploads()
    st.session_state.stale_uploads_checked = True


def role_editor(columns: list[str], roles: dict[str, str], key: str, examples: list | None = None) -> dict:
    """Editable table of column roles; returns column -> role key."""
    table = pd.DataFrame({"Column": columns, "Role": [ROLES[roles[c]] for c in columns]})
    if examples is not None:
        table["Example"] = examples
    edited = st.data_editor(table, hide_index=True, disabled=["Column", "Example"], key=key, column_config={
        "Role": st.column_config.SelectboxColumn("Role", options=ROLE_LABELS, required=True)})
    return {c: ROLE_KEYS[r] for c, r in zip(edited["Column"], edited["Role"], strict=True)}


def read_report(report: ReadReport, key: str) -> None:
    """The read report table, and one warning per column with too few values read (saying what to change)."""
    st.dataframe(report.frame(), hide_index=True, key=key,
                 column_config={"Read %": st.column_config.NumberColumn(format="%.1f %%")})
    for warning in report.warnings:
        st.warning(plain(warning))


def reading_options(upload_id: int) -> dict:
    """Default phone region, date order, decimal mark and missing-value words, as ImportSettings fields."""
    c1, c2, c3 = st.columns(3)
    region = c1.selectbox("Default phone region", PHONE_REGIONS, index=PHONE_REGIONS.index("FR"),
                          key=f"region_{upload_id}", help="For numbers written without a country prefix")
    order = c2.selectbox("Date order", list(DATE_ORDERS), format_func=DATE_ORDERS.get, key=f"date_order_{upload_id}")
    decimal = c3.selectbox("Decimal mark", list(DECIMALS), format_func=DECIMALS.get, key=f"decimal_{upload_id}")
    missing = st.text_input("Cells meaning no value (separated by commas)", ", ".join(MISSING_WORDS),
                            key=f"missing_{upload_id}")
    return {"default_region": region, "date_order": order, "decimal": decimal,
            "missing": tuple(missing.split(","))}


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
        preview = app_state.cached(ws.ingest, "preview", upload_id, None, report=False)
        sheet = None
        if len(preview.sheets) > 1:
            sheet = st.selectbox("Sheet", preview.sheets, index=preview.sheets.index(preview.sheet))
            if sheet != preview.sheet:
                preview = app_state.cached(ws.ingest, "preview", upload_id, sheet, report=False)
    except SegmentStudioError as exc:
        st.error(plain(exc))
        return
    facts = [f"Format **{plain(preview.file_format.upper())}**"]
    if preview.encoding:
        facts.append(f"encoding **{plain(preview.encoding)}**")
    if preview.delimiter:
        facts.append(f"delimiter **{'tab' if preview.delimiter == chr(9) else plain(preview.delimiter)}**")
    st.markdown(" · ".join(facts))
    for warning in preview.warnings:
        st.warning(plain(warning))
    st.dataframe(preview.frame, hide_index=True, height=240)
    imported = st.session_state.imported.get(f"{upload_id}/{sheet}")
    if imported:
        st.success(f"Imported as dataset **{plain(imported)}**. Remove the file above, or upload another one.")
        return

    existing = ws.names("customers")
    target = None
    if existing:
        target = st.selectbox("Import into", [None, *existing], key=f"append_{upload_id}",
                              format_func=lambda n: "A new dataset" if n is None else
                              f"{plain(n)}: a later export of the same CRM (same record id = updated record)")
    roles, options = {}, {}
    if target is None:  # a later export takes the dataset's own roles and reading options
        st.subheader("Column roles")
        roles = role_editor(preview.columns, preview.roles, f"roles_{upload_id}_{sheet}",
                            [next(iter(preview.frame[c].dropna()), "") for c in preview.columns])
        options = reading_options(upload_id)
        try:
            checked = app_state.cached(ws.ingest, "preview", upload_id, sheet,
                                       ImportSettings(sheet=sheet, roles=roles, **options))
        except SegmentStudioError as exc:
            st.error(plain(exc))
            return
        st.subheader("How the values would be read")
        st.caption(f"On {checked.report.rows:,} rows spread across the file. A value that cannot be read is left "
                   "empty in the normalised data; its raw text is kept.")
        read_report(checked.report, f"read_report_{upload_id}")
    left, right = st.columns(2)
    if target is None:
        name = left.text_input("Dataset name", value=file_name.rsplit(".", 1)[0], key=f"name_{upload_id}")
        kind = right.selectbox("The rows are", KINDS, key=f"kind_{upload_id}")
    else:
        name, kind = None, "customers"
        st.caption(f"The roles and normalisation of **{plain(target)}** apply. Run **Deduplicate** afterwards to match "
                   "the new records against its customers: merges and review decisions already made are kept.")
    if st.button("Import", type="primary", key="import"):
        try:
            handle = ws.ingest.import_upload(
                upload_id, ImportSettings(name=name, sheet=sheet, kind=kind, roles=roles, append_to=target, **options),
                progress=app_state.progress_bar(), file_name=file_name)
        except InputFileError as exc:  # the file itself is refused: its bytes are not kept
            ws.ingest.discard_upload(upload_id)
            file_id = next(k for k, v in st.session_state.uploads.items() if v == upload_id)
            st.session_state.refused_uploads[file_id] = str(exc)
            del st.session_state.uploads[file_id]
            st.rerun()
        except SegmentStudioError as exc:
            st.error(plain(exc))
            return
        done = handle.ingest.import_result()
        st.session_state.dataset = done.dataset
        st.session_state.imported[f"{upload_id}/{sheet}"] = done.dataset
        if not done.appended:
            st.success(f"Imported **{done.rows:,}** rows into dataset **{plain(done.dataset)}**"
                       + (f"; {done.rejected_rows:,} rows could not be read (see the report)."
                          if done.rejected_rows else "."))
        else:
            st.success(f"Added to **{plain(done.dataset)}**: {done.rows_added:,} new records, "
                       f"{done.rows_updated:,} records updated, {done.rows_unchanged:,} rows already there "
                       f"as they were; {done.rows:,} records in all.")


files = st.file_uploader("CRM exports", type=["csv", "tsv", "tab", "txt", "xlsx", "xlsm", "xls", "ods"],
                         accept_multiple_files=True, key="uploader")
present = {f.file_id for f in files or []}
for file_id in [k for k in st.session_state.uploads if k not in present]:
    # The session moved on (the file was removed from the uploader): an upload never imported is deleted.
    ws.ingest.discard_upload(st.session_state.uploads.pop(file_id))
for file_id in [k for k in st.session_state.refused_uploads if k not in present]:
    del st.session_state.refused_uploads[file_id]
for f in files or []:
    if f.file_id in st.session_state.refused_uploads:
        st.error(plain(st.session_state.refused_uploads[f.file_id]))
        continue
    if f.file_id not in st.session_state.uploads:
        # Keep the bytes in the store once: the uploader's buffer does not survive every rerun.
        upload_id = ws.ingest.save_upload(f.name, f.getvalue())
        try:
            app_state.cached(ws.ingest, "preview", upload_id, None, report=False)
        except SegmentStudioError as exc:  # refused: its bytes are not kept
            ws.ingest.discard_upload(upload_id)
            st.session_state.refused_uploads[f.file_id] = str(exc)
            st.error(plain(exc))
            continue
        st.session_state.uploads[f.file_id] = upload_id
        st.session_state.active_upload = upload_id
accepted = [f for f in files or [] if f.file_id in st.session_state.uploads]
if accepted:
    upload_section(accepted)



def forget_person(by: str, who: str) -> None:
    """The "Forget a person" action: erase them, and say what was removed (counts, never the person)."""
    done = ws.ingest.forget(**{by: who})
    removed = ", ".join(f"{n:,} {plain(table)}" for table, n in done.removed.items()) or "nothing was found"
    extra = (f" Stored workbooks deleted (they held the person): {', '.join(plain(n) for n in done.uploads_deleted)}."
             if done.uploads_deleted else "")
    st.session_state.flash = (f"The person was forgotten: {removed}.{extra} Later imports of files that still "
                              "hold them skip their rows.")


stored = app_state.cached(ws.ingest, "uploads")
sizes = app_state.cached(ws.ingest, "dataset_sizes")
with st.expander(f"Stored files ({len(stored)}) and datasets ({len(sizes)})"):
    st.caption("Uploaded files are kept in the store only while needed: a refused file not at all, a file "
               "removed from the uploader before it was imported then, any file not imported after a day.")
    st.dataframe(stored.rename(columns={"file_name": "File", "bytes": "Bytes", "uploaded_at": "Uploaded",
                                        "used_by": "Imported as"}).drop(columns=["id"]),
                 hide_index=True, key="stored_uploads")
    if len(stored):
        labels = dict(zip(stored["id"].tolist(), stored["file_name"].tolist(), strict=True))
        chosen = st.selectbox("Stored file", list(labels), format_func=labels.get, key="delete_upload_pick")
        confirm_button(st, "Delete this stored file", "delete_upload", yes="Yes, delete",
                       question=f"Delete the stored copy of the file {plain(labels[chosen])}? "
                                "Datasets imported from it stay.",
                       action=ws.ingest.delete_upload, args=(int(chosen),),
                       flash=f"Stored file {plain(labels[chosen])} deleted.")
    st.dataframe(sizes.rename(columns={"name": "Dataset", "kind": "Kind", "rows": "Rows", "bytes": "Bytes"}),
                 hide_index=True, key="dataset_sizes")
    if len(sizes):
        doomed = st.selectbox("Dataset", sizes["name"].tolist(), key="delete_dataset_pick")
        confirm_button(st, "Delete this dataset", "delete_dataset", yes="Yes, delete",
                       question=f"Delete dataset {plain(doomed)} and everything every step kept about it "
                                "(matches, merges, segments, scores)? This cannot be undone.",
                       action=ws.ingest.delete, args=(doomed,), flash=f"Dataset {plain(doomed)} deleted.")

with st.expander("Forget a person (right to erasure)"):
    st.caption("Removes the person from every dataset, match, merge, segment, score, snapshot, stored file "
               "and export log, and keeps an audit line without their data. Later imports skip their rows.")
    by = st.radio("Find them by", ["email", "id"], key="forget_by", horizontal=True,
                  format_func={"email": "E-mail", "id": "Record id"}.get)
    who = st.text_input("E-mail" if by == "email" else "Record id", key="forget_who").strip()
    confirm_button(st, "Forget this person", "forget", yes="Yes, forget them", disabled=not who,
                   question=f"Remove {plain(who)} from every table of the store? This cannot be undone.",
                   action=forget_person, args=(by, who))

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
st.caption(f"From {plain(ds.source_file)} · imported {ds.imported_at:%Y-%m-%d %H:%M} · "
           f"encoding {plain(ds.encoding or '-')} · delimiter {plain(repr(ds.delimiter))}" if ds.delimiter
           else f"From {plain(ds.source_file)} · imported {ds.imported_at:%Y-%m-%d %H:%M}")

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

st.subheader("How the values were read")
read_report(app_state.cached(handle.ingest, "read_report"), "dataset_read_report")

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

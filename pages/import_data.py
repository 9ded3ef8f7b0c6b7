"""Import: upload CRM exports, check the guessed column roles, see the data-quality report.

Every call goes through the facade (``workspace.ingest`` and ``handle.ingest``); reads are cached with
:func:`app_state.cached`, keyed on the store's write version.
"""

import pandas as pd
import streamlit as st

import app_state
from app_state import _, n_, number, say
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
SHOWN_ROWS = 200  # rows of a quality issue shown on the page (all of them in the download)
ROLE_LABELS = [say(label) for label in ROLES.values()]
ROLE_KEYS = {say(label): key for key, label in ROLES.items()}
DATE_ORDERS = {"auto": _("Decide from the values"), "dmy": _("Day first (31/12/2024)"),
               "mdy": _("Month first (12/31/2024)"), "ymd": _("Year first (2024/12/31)")}
DECIMALS = {"auto": _("Decide from the values"), ",": _("Comma (1 234,50)"), ".": _("Point (1,234.50)")}
KIND_WORDS = {"customers": _("customers"), "transactions": _("orders (transactions)")}
HINTS = {"date": _("Check the day/month order (date order), or set the role to Text if these are not dates."),
         "number": _("Check the decimal mark, or set the role to Text if these are codes rather than amounts."),
         "phone": _("Choose the default region of numbers written without a country prefix, or give the file a "
                    "Country column."),
         "email": _("Check the role: these do not look like e-mail addresses."),
         "boolean": _("Check the role: these are not yes/no values.")}

st.title(_("Import customers"))
st.write(_("Bring in your customer files, as your CRM exports them (CSV, TSV or Excel). The app recognises the "
           "file and what each column holds: check its guesses, then click **Import**."))
# Uploads are kept only as long as needed: one refused is deleted at once, one left when the session moves
# on (the file removed from the uploader) is deleted then, and one left by a closed tab when it is a day old.
st.session_state.setdefault("refused_uploads", {})  # uploader file id -> why the file was refused
app_state.show_flash()
if not st.session_state.get("stale_uploads_checked"):
    ws.ingest.discard_stale_uploads()
    st.session_state.stale_uploads_checked = True


def role_editor(columns: list[str], roles: dict[str, str], key: str, examples: list | None = None) -> dict:
    """Editable table of column roles; returns column -> role key."""
    column, role, example = _("Column"), _("Role"), _("Example")
    table = pd.DataFrame({column: columns, role: [say(ROLES[roles[c]]) for c in columns]})
    if examples is not None:
        table[example] = examples
    edited = st.data_editor(table, hide_index=True, disabled=[column, example], key=key, column_config={
        role: st.column_config.SelectboxColumn(role, options=ROLE_LABELS, required=True)})
    return {c: ROLE_KEYS[r] for c, r in zip(edited[column], edited[role], strict=True)}


def read_report(report: ReadReport, key: str) -> None:
    """The read report table, and one warning per column with too few values read (saying what to change)."""
    headers = {"Column": _("Column"), "Role": _("Role"), "Read": _("Read"), "Invalid": _("Invalid"),
               "Missing": _("Missing"), "Read %": _("Read %"), "Examples not read": _("Examples not read")}
    frame = report.frame().rename(columns=headers)
    frame[headers["Role"]] = frame[headers["Role"]].map(say)
    st.dataframe(frame, hide_index=True, key=key,
                 column_config={headers["Read %"]: st.column_config.NumberColumn(format="localized")})
    for c in report.columns:
        if c.hint is not None:
            st.warning(plain(_("Column {column} ({role}): only {share} of its {values} values were read; {invalid} "
                               "could not be (e.g. {examples}) and would be left empty, their raw text kept. {hint}",
                               column=repr(c.name), role=say(ROLES.get(c.role, c.role)),
                               share=app_state.percent(c.share_read, 0), values=c.read + c.invalid,
                               invalid=c.invalid, examples=", ".join(repr(v) for v in c.examples_unread),
                               hint=HINTS.get(c.kind, _("Check the column's role.")))))


def reading_options(upload_id: int) -> dict:
    """Default phone region, date order, decimal mark and missing-value words, as ImportSettings fields."""
    c1, c2, c3 = st.columns(3)
    region = c1.selectbox(_("Default phone region"), PHONE_REGIONS, index=PHONE_REGIONS.index("FR"),
                          key=f"region_{upload_id}", help=_("For numbers written without a country prefix"))
    order = c2.selectbox(_("Date order"), list(DATE_ORDERS), format_func=DATE_ORDERS.get,
                         key=f"date_order_{upload_id}")
    decimal = c3.selectbox(_("Decimal mark"), list(DECIMALS), format_func=DECIMALS.get, key=f"decimal_{upload_id}")
    missing = st.text_input(_("Cells meaning no value (separated by commas)"), ", ".join(MISSING_WORDS),
                            key=f"missing_{upload_id}")
    return {"default_region": region, "date_order": order, "decimal": decimal,
            "missing": tuple(missing.split(","))}


def upload_section(files) -> None:
    """Preview, roles and the Import button for the uploaded files."""
    pending = {st.session_state.uploads[f.file_id]: f.name for f in files}
    if st.session_state.active_upload not in pending:
        st.session_state.active_upload = next(iter(pending))
    if len(pending) > 1:
        st.selectbox(_("File to import"), list(pending), format_func=pending.get, key="active_upload")
    upload_id = st.session_state.active_upload
    file_name = pending[upload_id]
    try:
        preview = app_state.cached(ws.ingest, "preview", upload_id, None, report=False)
        sheet = None
        if len(preview.sheets) > 1:
            sheet = st.selectbox(_("Sheet"), preview.sheets, index=preview.sheets.index(preview.sheet))
            if sheet != preview.sheet:
                preview = app_state.cached(ws.ingest, "preview", upload_id, sheet, report=False)
    except SegmentStudioError as exc:
        st.error(plain(say(exc)))
        return
    facts = [_("Format **{format}**", format=plain(preview.file_format.upper()))]
    if preview.encoding:
        facts.append(_("encoding **{encoding}**", encoding=plain(preview.encoding)))
    if preview.delimiter:
        facts.append(_("delimiter **{delimiter}**",
                       delimiter=_("tab") if preview.delimiter == chr(9) else plain(preview.delimiter)))
    st.markdown(" · ".join(facts))
    for warning in preview.warnings:
        st.warning(plain(say(warning)))
    st.dataframe(preview.frame, hide_index=True, height=240)
    imported = st.session_state.imported.get(f"{upload_id}/{sheet}")
    if imported:
        st.success(_("Imported as dataset **{name}**. Remove the file above, or upload another one.",
                     name=plain(imported)))
        return

    existing = ws.names("customers")
    target = None
    if existing:
        target = st.selectbox(_("Import into"), [None, *existing], key=f"append_{upload_id}",
                              format_func=lambda n: _("A new dataset") if n is None else
                              _("{name}: a later export of the same CRM (same record id = updated record)",
                                name=plain(n)))
    roles, options = {}, {}
    if target is None:  # a later export takes the dataset's own roles and reading options
        st.subheader(_("Column roles"))
        roles = role_editor(preview.columns, preview.roles, f"roles_{upload_id}_{sheet}",
                            [next(iter(preview.frame[c].dropna()), "") for c in preview.columns])
        options = reading_options(upload_id)
        try:
            checked = app_state.cached(ws.ingest, "preview", upload_id, sheet,
                                       ImportSettings(sheet=sheet, roles=roles, **options))
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
            return
        st.subheader(_("How the values would be read"))
        st.caption(_("On {rows} rows spread across the file. A value that cannot be read is left empty in the "
                     "normalised data; its raw text is kept.", rows=checked.report.rows))
        read_report(checked.report, f"read_report_{upload_id}")
    left, right = st.columns(2)
    if target is None:
        name = left.text_input(_("Dataset name"), value=file_name.rsplit(".", 1)[0], key=f"name_{upload_id}")
        kind = right.selectbox(_("The rows are"), KINDS, key=f"kind_{upload_id}", format_func=KIND_WORDS.get)
    else:
        name, kind = None, "customers"
        st.caption(_("The roles and normalisation of **{name}** apply. Run **Deduplicate** afterwards to match the "
                     "new records against its customers: merges and review decisions already made are kept.",
                     name=plain(target)))
    if st.button(_("Import"), type="primary", key="import", icon=":material/upload:"):
        try:
            handle = ws.ingest.import_upload(
                upload_id, ImportSettings(name=name, sheet=sheet, kind=kind, roles=roles, append_to=target, **options),
                progress=app_state.progress_bar(), file_name=file_name)
        except InputFileError as exc:  # the file itself is refused: its bytes are not kept
            ws.ingest.discard_upload(upload_id)
            file_id = next(k for k, v in st.session_state.uploads.items() if v == upload_id)
            st.session_state.refused_uploads[file_id] = say(exc)
            del st.session_state.uploads[file_id]
            st.rerun()
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
            return
        done = handle.ingest.import_result()
        st.session_state.dataset = done.dataset
        st.session_state.imported[f"{upload_id}/{sheet}"] = done.dataset
        if not done.appended:
            st.success(_("Imported **{rows}** rows into dataset **{name}**; {rejected} rows could not be read (see "
                         "the report).", rows=done.rows, name=plain(done.dataset), rejected=done.rejected_rows)
                       if done.rejected_rows else
                       _("Imported **{rows}** rows into dataset **{name}**.", rows=done.rows, name=plain(done.dataset)))
        else:
            st.success(_("Added to **{name}**: {added} new records, {updated} records updated, {unchanged} rows "
                         "already there as they were; {rows} records in all.", name=plain(done.dataset),
                         added=done.rows_added, updated=done.rows_updated, unchanged=done.rows_unchanged,
                         rows=done.rows))


files = st.file_uploader(_("CRM exports"), type=["csv", "tsv", "tab", "txt", "xlsx", "xlsm", "xls", "ods"],
                         accept_multiple_files=True, key="uploader")
present = {f.file_id for f in files or []}
for file_id in [k for k in st.session_state.uploads if k not in present]:
    # The session moved on (the file was removed from the uploader): an upload never imported is deleted.
    ws.ingest.discard_upload(st.session_state.uploads.pop(file_id))
for file_id in [k for k in st.session_state.refused_uploads if k not in present]:
    del st.session_state.refused_uploads[file_id]
for f in files or []:
    if f.file_id in st.session_state.refused_uploads:
        st.error(plain(say(st.session_state.refused_uploads[f.file_id])))
        continue
    if f.file_id not in st.session_state.uploads:
        # Keep the bytes in the store once: the uploader's buffer does not survive every rerun.
        upload_id = ws.ingest.save_upload(f.name, f.getvalue())
        try:
            app_state.cached(ws.ingest, "preview", upload_id, None, report=False)
        except SegmentStudioError as exc:  # refused: its bytes are not kept
            ws.ingest.discard_upload(upload_id)
            st.session_state.refused_uploads[f.file_id] = say(exc)
            st.error(plain(say(exc)))
            continue
        st.session_state.uploads[f.file_id] = upload_id
        st.session_state.active_upload = upload_id
accepted = [f for f in files or [] if f.file_id in st.session_state.uploads]
if accepted:
    upload_section(accepted)



def forget_person(by: str, who: str) -> None:
    """The "Forget a person" action: erase them, and say what was removed (counts, never the person)."""
    done = ws.ingest.forget(**{by: who})
    removed = ", ".join(f"{number(n)} {plain(say(table))}" for table, n in done.removed.items()) or _(
        "nothing was found")
    extra = (" " + _("Stored workbooks deleted (they held the person): {files}.",
                     files=", ".join(plain(n) for n in done.uploads_deleted)) if done.uploads_deleted else "")
    st.session_state.flash = _("The person was forgotten: {removed}.", removed=removed) + extra + " " + _(
        "Later imports of files that still hold them skip their rows.")


stored = app_state.cached(ws.ingest, "uploads")
sizes = app_state.cached(ws.ingest, "dataset_sizes")
with st.expander(_("Stored files ({files}) and datasets ({datasets})", files=len(stored), datasets=len(sizes)),
                 icon=":material/inventory_2:"):
    st.caption(_("Uploaded files are kept in the store only while needed: a refused file not at all, a file "
                 "removed from the uploader before it was imported then, any file not imported after a day."))
    st.dataframe(stored.rename(columns={"file_name": _("File"), "bytes": _("Bytes"), "uploaded_at": _("Uploaded"),
                                        "used_by": _("Imported as")}).drop(columns=["id"]),
                 hide_index=True, key="stored_uploads", column_config=app_state.datetime_columns(_("Uploaded")))
    if len(stored):
        labels = dict(zip(stored["id"].tolist(), stored["file_name"].tolist(), strict=True))
        chosen = st.selectbox(_("Stored file"), list(labels), format_func=labels.get, key="delete_upload_pick")
        confirm_button(st, _("Delete this stored file"), "delete_upload", yes=_("Yes, delete"),
                       question=_("Delete the stored copy of the file {name}? Datasets imported from it stay.",
                                  name=plain(labels[chosen])),
                       action=ws.ingest.delete_upload, args=(int(chosen),),
                       flash=_("Stored file {name} deleted.", name=plain(labels[chosen])))
    st.dataframe(sizes.assign(kind=sizes["kind"].map(lambda k: KIND_WORDS.get(k, k))).rename(columns={
        "name": _("Dataset"), "kind": _("Kind"), "rows": _("Rows"), "bytes": _("Bytes")}),
                 hide_index=True, key="dataset_sizes")
    if len(sizes):
        doomed = st.selectbox(_("Dataset"), sizes["name"].tolist(), key="delete_dataset_pick")
        confirm_button(st, _("Delete this dataset"), "delete_dataset", yes=_("Yes, delete"),
                       question=_("Delete dataset {name} and everything every step kept about it (matches, merges, "
                                  "segments, scores)? This cannot be undone.", name=plain(doomed)),
                       action=ws.ingest.delete, args=(doomed,), flash=_("Dataset {name} deleted.", name=plain(doomed)))

with st.expander(_("Forget a person (right to erasure)"), icon=":material/person_remove:"):
    st.caption(_("Removes the person from every dataset, match, merge, segment, score, snapshot, stored file and "
                 "export log, and keeps an audit line without their data. Later imports skip their rows."))
    by = st.radio(_("Find them by"), ["email", "id"], key="forget_by", horizontal=True,
                  format_func={"email": _("E-mail"), "id": _("Record id")}.get)
    who = st.text_input(_("E-mail") if by == "email" else _("Record id"), key="forget_who").strip()
    confirm_button(st, _("Forget this person"), "forget", yes=_("Yes, forget them"), disabled=not who,
                   question=_("Remove {who} from every table of the store? This cannot be undone.", who=plain(who)),
                   action=forget_person, args=(by, who))

datasets = ws.datasets()
if not datasets:
    st.info(_("No dataset yet: upload a file above."))
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
c1.metric(_("Rows"), number(ds.row_count))
c2.metric(_("Columns"), number(len(ds.columns)))
c3.metric(_("Unreadable rows"), number(ds.rejected_rows))
c4.metric(_("Kind"), KIND_WORDS.get(ds.kind, ds.kind))
origin = _("From {file} · imported {when}", file=plain(ds.source_file), when=app_state.datetime(ds.imported_at))
if ds.delimiter:
    origin += " · " + _("encoding {encoding} · delimiter {delimiter}", encoding=plain(ds.encoding or "-"),
                        delimiter=plain(repr(ds.delimiter)))
st.caption(origin)

batches = app_state.cached(handle.ingest, "batches")
if not batches.empty:
    with st.expander(_("Later exports added ({count})", count=len(batches))):
        st.dataframe(batches.rename(columns={
            "batch": _("Export"), "file_name": _("File"), "imported_at": _("Imported"), "rows_read": _("Rows read"),
            "rows_added": _("Records added"), "rows_updated": _("Records updated")}), hide_index=True,
            column_config=app_state.datetime_columns(_("Imported")))

with st.expander(_("Change column roles"), icon=":material/edit:"):
    changed = role_editor(ds.columns, ds.roles, f"ds_roles_{ds.id}")
    if st.button(_("Apply roles and normalise again"), key="apply_roles"):
        try:
            handle.ingest.set_roles(changed, progress=app_state.progress_bar())
        except SegmentStudioError as exc:
            st.error(plain(say(exc)))
        else:
            st.rerun()

st.subheader(_("How the values were read"))
read_report(app_state.cached(handle.ingest, "read_report"), "dataset_read_report")

st.subheader(_("Data quality"))
st.caption(_("What may need cleaning before you segment: empty or unreadable values, records entered twice, "
             "customers with no recent activity. The rows behind each finding can be downloaded below."))
stale_months = st.number_input(_("Stale after (months without activity)"), 1, 120, 12, key="stale_months")
settings = QualitySettings(stale_months=int(stale_months))
report = app_state.cached(handle.ingest, "quality", settings)
m1, m2, m3, m4 = st.columns(4)
m1.metric(_("Exact duplicate records"), number(report.exact_duplicates))
m2.metric(_("Shared emails/phones"), number(sum(report.duplicate_keys.values())))
m3.metric(_("Stale profiles"), "-" if report.stale_profiles is None else number(report.stale_profiles))
m4.metric(_("Invalid values"), number(int(report.columns["invalid"].sum())))
st.plotly_chart(charts.missing_chart(report), key="missing_chart")
corr = charts.correlation_chart(report)
with st.expander(_("Details: correlation between numeric columns"), icon=":material/info:"):
    st.caption(_("Correlation: how much two measures rise and fall together, from -1 (one rises when the other "
                 "falls) to 1 (they move together); near 0, they are unrelated. Two measures near 1 tell the same "
                 "story: segmenting on both counts it twice."))
    if corr is not None:
        st.plotly_chart(corr, key="corr_chart")
quality = charts.column_quality_frame(report)
st.dataframe(quality, hide_index=True, column_config={
    _("Missing %"): st.column_config.NumberColumn(format="localized"),
    _("Invalid %"): st.column_config.NumberColumn(format="localized")})

issues = charts.issues_frame(report)
if issues.empty:
    st.success(_("No issue found."))
else:
    st.dataframe(issues.drop(columns=["key"]), hide_index=True)
    labels = dict(zip(issues["key"], issues[_("Issue")], strict=True))
    key = st.selectbox(_("Rows concerned by"), list(labels), format_func=labels.get, key="issue")
    # Only the first rows are read to be shown (the user may hide them); all of them when the file is downloaded.
    if st.toggle(_("Show the first {count} rows", count=SHOWN_ROWS), value=True, key="issue_show"):
        rows = app_state.cached(handle.ingest, "issue_rows", key, settings, limit=SHOWN_ROWS)
        st.dataframe(rows.rename(columns={"row": _("row"), "_row": _("row")}), hide_index=True, height=200)
    count = next((i.count for i in report.issues if i.key == key), 0)
    st.download_button(n_("Download this row (CSV)", "Download these {count} rows (CSV)", count),
                       lambda: handle.ingest.issue_rows_csv(key, settings), on_click="ignore",
                       file_name=f"{ds.name} - {labels[key]}.csv", mime="text/csv", key="issue_download",
                       icon=":material/download:")

st.divider()
st.page_link("pages/deduplicate.py", label=_("Next: find the customers entered twice"), icon=":material/arrow_forward:")

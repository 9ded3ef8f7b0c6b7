"""The Import page on the facade: its cached reads follow the store's write version."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from pages.text import plain
from segmentation.ingest import stage
from segmentation.ingest.importer import ImportSettings, import_file, set_roles
from segmentation.ingest.quality import rows_of
from segmentation.ingest.repository import DatasetsRepository
from tests.app.conftest import app_store, metrics, run_app, sample_customer_count, sample_customers


def issue_counts(at: AppTest) -> dict[str, int]:
    found = [d.value for d in at.dataframe if list(d.value.columns) == ["Issue", "Rows"]]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return {issue: int(rows) for issue, rows in zip(found[0]["Issue"], found[0]["Rows"], strict=True)}


def download_label(at: AppTest) -> str:
    buttons = [b for b in at.get("download_button") if b.key == "issue_download"]
    assert len(buttons) == 1
    return buttons[0].label


def test_quality_report_counts_the_rows_of_a_later_export(seeded_db, opened_stores):
    at = run_app()
    blank_emails = int(sample_customers()["E-mail"].str.strip().eq("").sum())
    assert issue_counts(at)["Missing E-mail"] == blank_emails
    assert at.selectbox(key="issue").value == "missing:E-mail"
    assert download_label(at) == f"Download these {blank_emails:,} rows (CSV)"

    # A later export of the same CRM: three new records without an e-mail, added through "Import into".
    later = sample_customers().iloc[:3].copy()
    later["ID client"] = ["NEW-1", "NEW-2", "NEW-3"]
    later["E-mail"] = ""
    at.file_uploader(key="uploader").set_value(
        ("april export.csv", later.to_csv(sep=";", index=False).encode("utf-8"), "text/csv")).run()
    upload_id = next(iter(at.session_state["uploads"].values()))
    at.selectbox(key=f"append_{upload_id}").select("sample customers").run()
    at.button(key="import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    total = sample_customer_count() + 3
    assert [m.value for m in at.success] == [
        f"Added to **sample customers**: 3 new records, 0 records updated, 0 rows already there as they were; "
        f"{total:,} records in all."]

    # The report shown after the import counts the new rows (it used to keep the old, cached counts).
    assert metrics(at)["Rows"] == f"{total:,}"
    assert issue_counts(at)["Missing E-mail"] == blank_emails + 3
    assert download_label(at) == f"Download these {blank_emails + 3:,} rows (CSV)"
    s = app_store(opened_stores)
    assert DatasetsRepository(s).dataset("sample customers").row_count == total

    # The list of later exports shows this one.
    batches = [d.value for d in at.dataframe if "Records added" in d.value.columns]
    assert len(batches) == 1
    assert batches[0][["Export", "File", "Rows read", "Records added", "Records updated"]].values.tolist() == [
        [2, "april export.csv", 3, 3, 0]]


def test_a_write_by_another_session_shows_on_the_next_run(seeded_db, opened_stores):
    at = run_app()
    before = issue_counts(at)
    # Another session (a second browser tab) adds a later export with two records without an e-mail,
    # and gives the phone column another role: the next run of this page shows both.
    later = sample_customers().iloc[:2].copy()
    later["ID client"] = ["TAB-1", "TAB-2"]
    later["E-mail"] = ""
    s = app_store(opened_stores)
    import_file(s, later.to_csv(sep=";", index=False).encode("utf-8"), "tab.csv",
                ImportSettings(append_to="sample customers"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    after = issue_counts(at)
    assert after["Missing E-mail"] == before["Missing E-mail"] + 2
    assert metrics(at)["Rows"] == f"{sample_customer_count() + 2:,}"
    set_roles(s, "sample customers", {"Téléphone": "text"})
    at.run()
    assert "Invalid Téléphone" in before and "Invalid Téléphone" not in issue_counts(at)


def upload_rows(s) -> list[tuple]:
    return s.query_rows("SELECT file_name, size FROM uploads ORDER BY id")


def test_a_refused_upload_is_not_kept(seeded_db, opened_stores):
    at = run_app()
    at.file_uploader(key="uploader").set_value(("garbage.xlsx", b"PK\x03\x04 not a workbook", "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "garbage" in at.error[0].value
    assert upload_rows(app_store(opened_stores)) == []
    assert at.session_state["uploads"] == {}
    at.run()  # the next run shows the same message, and stores nothing either
    assert len(at.error) == 1 and upload_rows(app_store(opened_stores)) == []


def test_an_abandoned_upload_is_deleted_when_the_file_is_removed(seeded_db, opened_stores):
    at = run_app()
    data = sample_customers().iloc[:3].to_csv(sep=";", index=False).encode("utf-8")
    at.file_uploader(key="uploader").set_value(("abandoned.csv", data, "text/csv")).run()
    assert upload_rows(app_store(opened_stores)) == [("abandoned.csv", len(data))]
    at.file_uploader(key="uploader").set_value(None).run()
    assert not at.exception, [e.value for e in at.exception]
    assert upload_rows(app_store(opened_stores)) == []


def test_the_page_lists_stored_uploads_and_deletes_one_after_confirmation(seeded_db, opened_stores):
    s = None
    at = run_app()
    data = sample_customers().iloc[:3].to_csv(sep=";", index=False).encode("utf-8")
    at.file_uploader(key="uploader").set_value(("kept.csv", data, "text/csv")).run()
    listed = [d.value for d in at.dataframe if "File" in d.value.columns]
    assert len(listed) == 1
    assert listed[0][["File", "Bytes"]].values.tolist() == [["kept.csv", len(data)]]
    sizes = [d.value for d in at.dataframe if "Dataset" in d.value.columns and "Rows" in d.value.columns]
    assert sizes[0][["Dataset", "Rows"]].values.tolist() == [
        ["sample orders", sizes[0]["Rows"].iloc[0]], ["sample customers", sample_customer_count()]]
    at.button(key="delete_upload").click().run()
    s = app_store(opened_stores)
    assert upload_rows(s) == [("kept.csv", len(data))]  # nothing deleted before the confirmation
    at.button(key="delete_upload_yes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert upload_rows(s) == []


def test_a_markdown_image_header_is_shown_as_text(seeded_db, opened_stores):
    at = run_app()
    header = "![px](http://127.0.0.1:9/px.png)"
    data = f"{header};{header};E-mail\n1;2;a@b.fr\n".encode()
    at.file_uploader(key="uploader").set_value(("![f](http://127.0.0.1:9/f.png).csv", data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [plain(f"1 duplicate header renamed: '{header}' -> '{header} (2)'")]
    assert "\\!\\[px\\]\\(http" in at.warning[0].value and "![px](" not in at.warning[0].value


def test_an_engine_message_quoting_the_file_name_is_escaped(seeded_db, opened_stores):
    at = run_app()
    at.file_uploader(key="uploader").set_value(("![f](http://127.0.0.1:9/f.png).xlsx", b"PK\x03\x04 x",
                                                "text/csv")).run()
    assert len(at.error) == 1
    assert "\\!\\[f\\]\\(http" in at.error[0].value and "![f](" not in at.error[0].value


def test_a_row_header_imports_from_the_page(seeded_db, opened_stores):
    at = run_app()
    data = b"_row;_batch;E-mail\n7;x;a@b.fr\n8;y;c@d.fr\n"
    at.file_uploader(key="uploader").set_value(("reserved.csv", data, "text/csv")).run()
    at.button(key="import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ds = DatasetsRepository(app_store(opened_stores)).dataset("reserved")
    assert ds.columns == ["_row (2)", "_batch (2)", "E-mail"] and ds.row_count == 2


def test_forget_a_person_from_the_page_after_confirmation(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    raw = DatasetsRepository(s).dataset("sample customers").raw_table
    email = s.query_value(f"SELECT \"E-mail\" FROM {raw} WHERE \"E-mail\" LIKE '%@%' ORDER BY _row LIMIT 1")
    held = s.query_value(f"SELECT count(*) FROM {raw} WHERE lower(trim(\"E-mail\")) = lower(trim(?))", [email])
    # Their orders go too (the orders' customer column holds their record ids).
    orders = DatasetsRepository(s).dataset("sample orders", "transactions").raw_table
    ordered = s.query_value(f"SELECT count(*) FROM {orders} WHERE customer_id IN (SELECT \"ID client\" FROM {raw} "
                            f"WHERE lower(trim(\"E-mail\")) = lower(trim(?)))", [email])
    at.text_input(key="forget_who").input(email).run()
    at.button(key="forget").click().run()
    assert s.query_value("SELECT count(*) FROM forgotten") == 0  # nothing before the confirmation
    at.button(key="forget_yes").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert s.query_value("SELECT count(*) FROM forgotten") == 1
    assert s.query_value(f"SELECT count(*) FROM {raw} WHERE lower(trim(\"E-mail\")) = lower(trim(?))",
                         [email]) == 0
    assert [m.value for m in at.success] == [
        f"The person was forgotten: {held + ordered:,} raw, {held + ordered:,} clean. Later imports of files that "
        "still hold them "
        "skip their rows."]


READ_FILE = ("id;Date de création;Montant;Téléphone;E-mail\n"
             "1;13/02/2024;1,5;0612345678;a@x.fr\n2;02/13/2024;2.25;020 7946 0958;b@x.fr\n"
             "3;2024-03-01;1.234,5;;c@x.fr\n4;bientôt;3;0712345678;d@x.fr\n").encode()


def read_tables(at: AppTest) -> list[list[list]]:
    """The read reports shown, in page order: the upload's (before import), then the dataset's."""
    return [d.value[["Column", "Read", "Invalid", "Missing", "Examples not read"]].values.tolist()
            for d in at.dataframe if "Examples not read" in d.value.columns]


def test_the_read_report_before_import_follows_the_reading_options(seeded_db, opened_stores):
    at = run_app()
    at.file_uploader(key="uploader").set_value(("reads.csv", READ_FILE, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    upload_id = next(iter(at.session_state["uploads"].values()))
    assert at.selectbox(key=f"region_{upload_id}").value == "FR"
    assert read_tables(at)[0] == [
        ["id", 4, 0, 0, ""], ["Date de création", 2, 2, 0, "02/13/2024, bientôt"], ["Montant", 3, 1, 0, "2.25"],
        ["Téléphone", 1, 2, 1, "020 7946 0958, 0712345678"], ["E-mail", 4, 0, 0, ""]]
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 3 and warnings[0] == plain(
        "Column 'Date de création' (Created date): only 50% of its 4 values were read; 2 could not be "
        "(e.g. '02/13/2024', 'bientôt') and would be left empty, their raw text kept. Check the day/month order "
        "(date order), or set the role to Text if these are not dates.")

    at.selectbox(key=f"region_{upload_id}").select("GB").run()
    at.selectbox(key=f"decimal_{upload_id}").select(".").run()
    at.selectbox(key=f"date_order_{upload_id}").select("mdy").run()
    at.text_input(key=f"missing_{upload_id}").input("NA, bientôt").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert read_tables(at)[0][1:4] == [
        ["Date de création", 2, 1, 1, "13/02/2024"], ["Montant", 2, 2, 0, "1,5, 1.234,5"],
        ["Téléphone", 1, 2, 1, "0612345678, 0712345678"]]

    at.button(key="import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ds = DatasetsRepository(app_store(opened_stores)).dataset("reads")
    assert (ds.options["default_region"], ds.options["date_order"], ds.options["decimal"],
            ds.options["missing"]) == ("GB", "mdy", ".", ["NA", "bientôt"])
    # After the import, the dataset's own report: the same figures, over every row.
    assert read_tables(at)[-1][1:4] == [
        ["Date de création", 2, 1, 1, "13/02/2024"], ["Montant", 2, 2, 0, "1,5, 1.234,5"],
        ["Téléphone", 1, 2, 1, "0612345678, 0712345678"]]


def test_only_the_first_rows_of_an_issue_are_read_to_be_shown(seeded_db, opened_stores, monkeypatch):
    asked = []
    original = stage.IngestStage.issue_rows

    def recording(self, key, settings=None, limit=None):
        asked.append((key, limit))
        return original(self, key, settings, limit)

    monkeypatch.setattr(stage.IngestStage, "issue_rows", recording)
    at = run_app()
    blank_emails = int(sample_customers()["E-mail"].str.strip().eq("").sum())
    # Every row is read only when the file is downloaded: the label counts them from the report.
    assert asked == [("missing:E-mail", 200)]
    assert download_label(at) == f"Download these {blank_emails:,} rows (CSV)"
    shown = [d.value for d in at.dataframe if "row" in d.value.columns]
    assert len(shown) == 1
    repo = DatasetsRepository(app_store(opened_stores))
    expected = rows_of(repo, repo.dataset("sample customers"), "missing:E-mail")
    assert len(expected) == blank_emails
    assert shown[0]["row"].tolist() == expected["row"].head(200).tolist()
    at.toggle(key="issue_show").set_value(False).run()  # hidden: no rows read, none shown
    assert not at.exception, [e.value for e in at.exception]
    assert asked == [("missing:E-mail", 200)]
    assert not [d for d in at.dataframe if "row" in d.value.columns]

"""The Import page on the facade: its cached reads follow the store's write version."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from segmentation.ingest.importer import ImportSettings, import_file, set_roles
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
    batches = [d.value for d in at.dataframe if "rows_added" in d.value.columns]
    assert len(batches) == 1
    assert batches[0][["batch", "file_name", "rows_read", "rows_added", "rows_updated"]].values.tolist() == [
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

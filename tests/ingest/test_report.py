"""The read report: per column, values read, invalid (with examples) and missing, before and after import."""

from __future__ import annotations

import pytest

from segmentation import ColumnRead, ImportSettings, ReadReport, open_workspace
from segmentation.workspace import Workspace

CRM = (
    "id;Inscription;Montant;E-mail;Nom\n"
    "1;01/02/2024;12,50;a@x.fr;Ana\n"
    "2;15/03/2024;7 mois;b@x.fr;Bo\n"
    "3;16/03/2024;3,5;c@x.fr;NA\n"
    "4;02/04/2024;1 234,50;;Cy\n"
    "5;bientôt;N/A;d@x;Di\n"
    "6;20/05/2024;8;e@x.fr;\n"
    "7;31/02/2024;7 mois;f@x.fr;Ed\n"
    "8;2024-06-01;;g@x.fr;Fa\n"
    "9;03/07/2024;10;h@x.fr;Gi\n"
    "10;04/08/2024;11,25;#N/A;Hu\n"
).encode()
ROLES = {"id": "id", "Inscription": "created_date", "Montant": "measure", "E-mail": "email", "Nom": "last_name"}
EXPECTED = [
    # name, role, kind, read, invalid, missing, examples
    ("id", "id", "id", 10, 0, 0, []),
    ("Inscription", "created_date", "date", 8, 2, 0, ["31/02/2024", "bientôt"]),
    ("Montant", "measure", "number", 6, 2, 2, ["7 mois"]),
    ("E-mail", "email", "email", 7, 1, 2, ["d@x"]),
    ("Nom", "last_name", "text", 8, 0, 2, []),
]


def figures(report: ReadReport) -> list[tuple]:
    return [(c.name, c.role, c.kind, c.read, c.invalid, c.missing, c.examples_unread) for c in report.columns]


def test_read_report_after_import_counts_every_column(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    report = handle.ingest.read_report()
    assert report.rows == 10
    assert figures(report) == EXPECTED
    assert [c.name for c in report.columns if c.hint] == ["Inscription", "Montant", "E-mail"]
    dates = report.columns[1]
    assert dates.share_read == 0.8
    assert dates.hint == "Check the day/month order (date order), or set the role to Text if these are not dates."
    assert report.warnings[0] == (
        "Column 'Inscription' (Created date): only 80% of its 10 values were read; 2 could not be "
        "(e.g. '31/02/2024', 'bientôt') and would be left empty, their raw text kept. " + dates.hint)
    assert report.columns[2].hint.startswith("Check the decimal mark, or set the role to Text")
    # The CLI's JSON: the import's figures with one item per column.
    columns = handle.ingest.import_result().to_dict()["columns"]
    assert columns[2] == {"name": "Montant", "role": "measure", "kind": "number", "read": 6, "invalid": 2,
                          "missing": 2, "share_read": 0.75, "examples_unread": ["7 mois"],
                          "hint": report.columns[2].hint}
    assert columns[4]["hint"] is None and columns[4]["share_read"] == 1.0


def test_preview_report_is_the_import_report_and_writes_nothing(ws):
    upload_id = ws.ingest.save_upload("crm.csv", CRM)
    version = ws.store.version()
    preview = ws.ingest.preview(upload_id, settings=ImportSettings(roles=ROLES))
    assert ws.store.version() == version
    assert preview.report.rows == 10 and figures(preview.report) == EXPECTED
    handle = ws.ingest.import_upload(upload_id, ImportSettings(roles=ROLES))
    assert handle.ingest.read_report() == preview.report


def test_preview_report_follows_the_settings(ws):
    upload_id = ws.ingest.save_upload("crm.csv", CRM)
    as_text = ws.ingest.preview(upload_id, settings=ImportSettings(roles={**ROLES, "Montant": "text"}))
    assert figures(as_text.report)[2] == ("Montant", "text", "text", 8, 0, 2, [])
    # Only "?" means no value: NA, N/A and #N/A are values, read as text or not read as e-mails and amounts.
    words = ws.ingest.preview(upload_id, settings=ImportSettings(roles=ROLES, missing=("?",)))
    assert figures(words.report)[2:] == [("Montant", "measure", "number", 6, 3, 1, ["7 mois", "N/A"]),
                                         ("E-mail", "email", "email", 7, 2, 1, ["#N/A", "d@x"]),
                                         ("Nom", "last_name", "text", 9, 0, 1, [])]


def test_read_report_counts_the_current_version_of_each_record(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    later = b"id;Inscription;Montant;E-mail;Nom\n5;05/05/2024;9;d@x.fr;Di\n11;plus tard;1;k@x.fr;Ko\n"
    added = handle.ingest.append(later, "later.csv")
    report = added.ingest.read_report()
    assert report.rows == 11
    assert figures(report)[1] == ("Inscription", "created_date", "date", 9, 2, 0, ["31/02/2024", "plus tard"])
    assert figures(report)[3] == ("E-mail", "email", "email", 9, 0, 2, [])


def test_hint_below_ninety_percent_read():
    assert ColumnRead("a", "date", "date", read=9, invalid=1, missing=5).hint is None
    below = ColumnRead("a", "phone", "phone", read=8, invalid=1, missing=0, examples_unread=["12"])
    assert below.share_read == pytest.approx(8 / 9)
    assert below.hint == ("Choose the default region of numbers written without a country prefix, or give the "
                          "file a Country column.")
    assert ColumnRead("a", "measure", "number", read=0, invalid=0, missing=3).share_read == 1.0
    assert ColumnRead("a", "consent", "boolean", read=1, invalid=9, missing=0).hint == (
        "Check the role: these are not yes/no values.")
    report = ReadReport(rows=10, columns=[below, ColumnRead("b", "text", "text", 10, 0, 0)])
    assert report.warnings == [below.warning] and len(report.warnings) == 1
    assert report.frame().to_dict("records")[0] == {
        "Column": "a", "Role": "Phone", "Read": 8, "Invalid": 1, "Missing": 0, "Read %": 88.9,
        "Examples not read": "12"}


# -- the kept reports (issue 21): computed once, read again while the dataset's records are unchanged ----------
def kept_kinds(ws, handle) -> list[str]:
    table = f"reports_{handle.id}"
    if not ws.store.table_exists(table):
        return []
    return [r[0] for r in ws.store.query_rows(f"SELECT kind FROM {table} ORDER BY kind")]


def no_second_pass(monkeypatch, handle):
    """Make computing the report fail: what is returned then can only be the kept report."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("the report was computed again")
    monkeypatch.setattr(type(handle.ingest.repository), "column_pass", refuse)


def test_a_kept_read_report_equals_the_computed_one_and_moves_no_version(ws, monkeypatch):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    version = ws.store.version()
    computed = handle.ingest.read_report()
    assert ws.store.version() == version  # kept as derived data: no page cache is made stale
    assert kept_kinds(ws, handle) == ["columns", "read"]
    assert computed == handle.ingest.repository.read_report(handle.info)  # the same as the plain computation
    no_second_pass(monkeypatch, handle)
    kept = ws.dataset("crm").ingest.read_report()
    assert kept == computed and figures(kept) == EXPECTED


def test_a_later_export_recomputes_the_kept_read_report(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    assert figures(handle.ingest.read_report())[1] == EXPECTED[1]
    later = b"id;Inscription;Montant;E-mail;Nom\n5;05/05/2024;9;d@x.fr;Di\n11;plus tard;1;k@x.fr;Ko\n"
    added = handle.ingest.append(later, "later.csv")
    assert figures(added.ingest.read_report())[1] == ("Inscription", "created_date", "date", 9, 2, 0,
                                                      ["31/02/2024", "plus tard"])
    assert figures(ws.dataset("crm").ingest.read_report())[3] == ("E-mail", "email", "email", 9, 0, 2, [])


def test_a_merge_an_audience_and_a_run_keep_the_reports(ws, monkeypatch):
    from segmentation import AudienceSpec, Condition, FeatureSettings

    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    read, quality = handle.ingest.read_report(), handle.ingest.quality()
    rows = ws.store.rows_version(handle.id)
    handle.dedupe.merge(pairs=[(1, 2)])                 # who the customers are changes, not the rows read
    handle.audiences.save("Big", AudienceSpec(channel=None, groups=((Condition("Montant", "ge", 10),),)))
    handle.segments.run(FeatureSettings(numeric=("Montant",), log=()), 2, name="r")
    assert ws.store.rows_version(handle.id) == rows and ws.store.records_version(handle.id) > rows
    no_second_pass(monkeypatch, handle)
    again = ws.dataset("crm").ingest
    assert again.read_report() == read and again.quality().to_json() == quality.to_json()


def test_a_role_change_recomputes_the_kept_read_report(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    assert figures(handle.ingest.read_report())[2] == EXPECTED[2]
    changed = handle.ingest.set_roles({"Montant": "text"})
    assert figures(changed.ingest.read_report())[2] == ("Montant", "text", "text", 8, 0, 2, [])
    assert figures(ws.dataset("crm").ingest.read_report())[2] == ("Montant", "text", "text", 8, 0, 2, [])


def test_a_forget_drops_the_kept_reports_and_their_examples(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    assert handle.ingest.read_report().columns[3].examples_unread == ["d@x"]
    handle.ingest.quality()
    assert kept_kinds(ws, handle) == ["columns", "quality", "read"]
    bodies = f"SELECT string_agg(body, ' ') FROM reports_{handle.id}"
    assert "d@x" in ws.store.query_value(bodies)
    ws.ingest.forget(id="5")  # the record whose e-mail "d@x" could not be read
    assert kept_kinds(ws, handle) == []  # gone at once, not only unused
    after = ws.dataset("crm").ingest.read_report()
    assert after.rows == 9
    assert figures(after)[3] == ("E-mail", "email", "email", 7, 0, 2, [])
    assert "d@x" not in ws.store.query_value(bodies)


def test_deleting_the_dataset_drops_its_kept_reports(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    handle.ingest.read_report()
    assert ws.store.table_exists(f"reports_{handle.id}")
    ws.ingest.delete("crm")
    assert not ws.store.table_exists(f"reports_{handle.id}")


def test_a_report_computed_before_a_write_is_not_kept(ws):
    handle = ws.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    repo = handle.ingest.repository
    before = ws.store.rows_version(handle.id)
    handle.ingest.set_roles({"Montant": "text"})  # a write came while the report was computed
    repo.keep_report(handle.id, "read", "k", "{}", before)
    assert repo.kept_report(handle.id, "read", "k") is None
    repo.keep_report(handle.id, "read", "k", "{}", ws.store.rows_version(handle.id))
    assert repo.kept_report(handle.id, "read", "k") == "{}"


def test_a_store_opened_read_only_computes_the_report_without_keeping_it(tmp_path):
    path = tmp_path / "ro.duckdb"
    writer = open_workspace(path)
    writer.ingest.import_bytes(CRM, "crm.csv", ImportSettings(roles=ROLES))
    writer.close()
    reader = Workspace(path, read_only=True)
    try:
        assert figures(reader.dataset("crm").ingest.read_report()) == EXPECTED
        assert reader.dataset("crm").ingest.quality().rows == 10
        assert not reader.store.table_exists("reports_1")
    finally:
        reader.close()

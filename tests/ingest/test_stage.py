"""The ingest stage on the facade: ``workspace.ingest`` and ``handle.ingest``."""

from __future__ import annotations

import threading

import pytest

from segmentation import (
    DatasetHandle,
    DatasetNotFoundError,
    DatasetSummary,
    ImportSettings,
    QualitySettings,
)

HEADER = "id;E-mail;Ville;Consentement\n"
FIRST = HEADER + "A1;a@x.fr;Paris;1.0\nA2;;Lyon;0.0\nA3;c@x.fr;Paris;1.0\n"


def test_import_bytes_returns_a_handle_and_the_cli_figures(ws):
    handle = ws.ingest.import_bytes(FIRST.encode(), "crm.csv")
    assert isinstance(handle, DatasetHandle) and (handle.name, handle.kind) == ("crm", "customers")
    result = handle.ingest.import_result().to_dict()
    assert [c["name"] for c in result.pop("columns")] == ["id", "E-mail", "Ville", "Consentement"]
    assert result == {"dataset": "crm", "rows": 3, "encoding": "utf-8", "delimiter": ";", "rejected_rows": 0,
                      "warnings": []}
    assert handle.roles["Consentement"] == "consent"
    assert ws.ingest.summaries() == [DatasetSummary("crm", "customers", 3, handle.info.imported_at.isoformat(
        timespec="seconds"))]


def test_append_a_later_export_and_its_batches(ws):
    handle = ws.ingest.import_bytes(FIRST.encode(), "crm.csv")
    version = handle.version
    later = HEADER + "A1;a@x.fr;Paris;1.0\nA2;b@x.fr;Lyon;0.0\nA4;;Nantes;1.0\n"
    added = handle.ingest.append(later.encode(), "later.csv")
    result = added.ingest.import_result().to_dict()
    assert [(c["name"], c["read"], c["missing"]) for c in result.pop("columns")] == [
        ("id", 4, 0), ("E-mail", 3, 1), ("Ville", 4, 0), ("Consentement", 4, 0)]
    assert result == {"dataset": "crm", "rows": 4, "encoding": "utf-8", "delimiter": ";", "rejected_rows": 0,
                      "warnings": [], "rows_read": 3, "rows_added": 1, "rows_updated": 1, "rows_unchanged": 1}
    assert added.version > version
    batches = added.ingest.batches()
    assert batches[["batch", "file_name", "rows_read", "rows_added", "rows_updated"]].values.tolist() == [
        [2, "later.csv", 3, 1, 1]]
    report = added.ingest.quality(QualitySettings())
    assert report.rows == 4
    assert report.to_dict()["missing"]["E-mail"] == 1  # A2 got an e-mail, A4 came without one
    assert added.ingest.issue_rows("missing:E-mail")["id"].tolist() == ["A4"]
    assert added.ingest.issue_rows_csv("missing:E-mail").decode().splitlines()[1].startswith("6,A4,")


def test_uploads_preview_and_import_upload(ws):
    upload_id = ws.ingest.save_upload("crm.csv", FIRST.encode())
    assert ws.ingest.save_upload("again.csv", FIRST.encode()) == upload_id
    assert ws.ingest.upload(upload_id) == ("crm.csv", FIRST.encode())
    preview = ws.ingest.preview(upload_id)
    assert preview.columns == ["id", "E-mail", "Ville", "Consentement"] and preview.roles["E-mail"] == "email"
    handle = ws.ingest.import_upload(upload_id, ImportSettings(name="clients"), file_name="clients.csv")
    assert (handle.name, handle.info.source_file, handle.info.row_count) == ("clients", "clients.csv", 3)


def test_set_roles_returns_the_handle_reloaded(ws):
    handle = ws.ingest.import_bytes(FIRST.encode(), "crm.csv")
    changed = handle.ingest.set_roles({"Ville": "text"})
    assert changed.roles["Ville"] == "text" and handle.roles["Ville"] == "city"
    assert ws.dataset("crm").roles["Ville"] == "text"


def test_rejected_rows(ws):
    handle = ws.ingest.import_bytes(b"a,b\n1,2\n3,4,5\n", "ragged.csv")
    assert handle.ingest.rejected_rows()[["line", "raw"]].values.tolist() == [[3, "3,4,5"]]


def test_delete_removes_the_dataset_everywhere(ws):
    keep = ws.ingest.import_bytes(FIRST.encode(), "keep.csv")
    gone = ws.ingest.import_bytes(FIRST.encode(), "gone.csv")
    gone.ingest.append((HEADER + "A9;z@x.fr;Brest;0\n").encode(), "later.csv")
    store = ws.store
    with store.transaction(gone.id, keep.id) as tx:  # rows other stages keep about both datasets
        for ds_id in (gone.id, keep.id):
            tx.execute("INSERT INTO merge_groups VALUES (nextval('merge_group_ids'), ?, now(), NULL, 'test')", [ds_id])
            tx.execute("INSERT INTO merge_members SELECT max(id), 1 FROM merge_groups WHERE dataset_id = ?", [ds_id])
            tx.execute("INSERT INTO decisions VALUES (?, 1, 2, 'match', 1.0, now(), 'test')", [ds_id])
            tx.execute(f"CREATE TABLE golden_{ds_id} AS SELECT 1 AS x")
    ws.ingest.delete("gone")
    assert ws.names() == ["keep"]
    tables = {r[0] for r in store.query_rows("SELECT table_name FROM information_schema.tables")}
    assert not {f"{p}_{gone.id}" for p in ("raw", "clean", "rejects", "golden")} & tables
    assert {f"{p}_{keep.id}" for p in ("raw", "clean", "rejects", "golden")} <= tables
    assert store.query_rows("SELECT DISTINCT dataset_id FROM merge_groups") == [(keep.id,)]
    assert store.query_value("SELECT count(*) FROM merge_members") == 1
    assert store.query_rows("SELECT DISTINCT dataset_id FROM decisions") == [(keep.id,)]
    assert store.query_value("SELECT count(*) FROM import_batches") == 0
    with pytest.raises(DatasetNotFoundError, match="No dataset named 'gone'; the store has \\['keep'\\]"):
        ws.ingest.delete("gone")


def test_two_later_exports_added_at_once_both_count(ws):
    handle = ws.ingest.import_bytes(FIRST.encode(), "crm.csv")
    files = [(HEADER + "".join(f"{p}{i};{p}{i}@x.fr;Paris;1\n" for i in range(5)) + "bad;line;with;too;many\n")
             .encode() for p in ("B", "C")]
    errors: list[BaseException] = []

    def add(data: bytes, name: str) -> None:
        try:
            handle.ingest.append(data, name)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=add, args=(data, f"{i}.csv")) for i, data in enumerate(files)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ds = handle.reload().info
    assert (ds.row_count, ds.rejected_rows) == (13, 2)
    assert sorted(handle.ingest.batches()["rows_added"].tolist()) == [5, 5]
    assert ws.store.query_value(f"SELECT count(*) FROM {ds.raw_table}") == 13


def test_the_import_json_says_what_the_reader_warned_of(ws):
    """Rows set aside and renamed headers are in the CLI's JSON, not only in the store."""
    text = "id;Nom;Nom\nA1;Durand;x\nA2;Martin\nA3;Petit;y\n"
    result = ws.ingest.import_bytes(text.encode(), "crm.csv").ingest.import_result().to_dict()
    assert result["rejected_rows"] == 1
    assert len(result["warnings"]) >= 2 and any("Nom" in w for w in result["warnings"])

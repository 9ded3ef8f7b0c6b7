"""The right to be forgotten: ``forget`` removes a person from every table, keeps an audit, survives re-imports."""

from __future__ import annotations

import io

import openpyxl
import pytest

from segmentation import FeatureSettings, ImportSettings, SettingError
from segmentation.cli import main

EMAIL = "Zoe.Forget@Example.FR"
HEADER = "id;Nom;Prénom;E-mail;Ville;Montant\n"
ROWS = [
    "A1;Martin;Paul;paul.martin@x.fr;Paris;10",
    f"A2;Forget;Zoé;{EMAIL};Lyon;20",
    "A3;Durand;Marie;marie.durand@x.fr;Nantes;30",
    f"A4;Forget;Zoe;{EMAIL.lower()};Lyon;25",
    "A5;Petit;Luc;luc.petit@x.fr;Lille;40",
    "A6;Moreau;Anne;anne.moreau@x.fr;Nice;50",
]
EXPORT = (HEADER + "\n".join(ROWS) + "\n").encode("utf-8")
NEEDLE = "zoe.forget@example.fr"


def text_hits(ws, needle: str) -> dict[str, int]:
    """Rows of every table whose text (any column cast to text) or bytes hold ``needle``, case-insensitively."""
    store = ws.store
    hits = {}
    tables = [r[0] for r in store.query_rows("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'main' ORDER BY 1")]
    for table in tables:
        columns = store.query_rows("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = ? ORDER BY ordinal_position", [table])
        for column, data_type in columns:
            quoted = '"' + column.replace('"', '""') + '"'
            text = f"decode({quoted}, 'replace')" if data_type == "BLOB" else f"CAST({quoted} AS VARCHAR)"
            n = store.query_value(f"SELECT count(*) FROM {table} WHERE contains(lower({text}), ?)", [needle])
            if n:
                hits[f"{table}.{column}"] = n
    return hits


def build(ws) -> None:
    upload = ws.ingest.save_upload("crm.csv", EXPORT)
    handle = ws.ingest.import_upload(upload, ImportSettings(name="crm"))
    handle.dedupe.find()
    handle.dedupe.decide(handle.dedupe.pairs(), "match")
    handle.dedupe.merge(above=0.0)
    handle.segments.run(FeatureSettings(numeric=("Montant",), categorical=("Ville",)), k=2, name="run")
    handle.segments.take_snapshot("run")


def test_forget_leaves_no_trace_and_reports_exact_counts(ws):
    build(ws)
    assert text_hits(ws, NEEDLE)  # the person is there before
    result = ws.ingest.forget(email=EMAIL)
    assert text_hits(ws, NEEDLE) == {}
    handle = ws.dataset("crm")
    assert handle.info.row_count == 4
    out = result.to_dict()
    assert handle.customers.count() == 4 and handle.segments.sizes("run") == {"0": 2, "1": 2}
    assert out["identifier"] == "email" and out["datasets"] == ["crm"]
    assert out["uploads_rewritten"] == ["crm.csv"] and out["uploads_deleted"] == []
    # Two records (A2, A4) merged into one customer C2: one pair, its decision, the group's two members,
    # one segment member and one snapshot member; the golden records are dropped, to be rebuilt, and so is
    # the run's saved profile (totals computed with the person, kept when the run was fitted).
    assert out["removed"] == {"match_pairs": 1, "decisions": 1, "merge_members": 2, "segment_members": 1,
                              "snapshot_members": 1, "raw": 2, "clean": 2, "golden (rebuilt)": 1, "uploads": 1,
                              "segment_profiles": 1}
    # The stored upload is the export without the person's two lines; the audit line holds no personal data.
    _, data = ws.ingest.upload(int(ws.ingest.uploads()["id"].iloc[0]))
    assert data == (HEADER + "\n".join(r for i, r in enumerate(ROWS) if i not in (1, 3)) + "\n").encode("utf-8")
    audit = ws.store.query_rows("SELECT identifier, length(hash), lifted_at FROM forgotten")
    assert audit == [("email", 64, None)]


def test_a_later_import_skips_the_person_until_lifted(ws):
    build(ws)
    ws.ingest.forget(email=EMAIL)
    again = ws.dataset("crm").ingest.append(EXPORT, "crm again.csv").ingest.import_result()
    assert again.forgotten_rows_skipped == 2 and again.rows_added == 0
    assert again.to_dict()["forgotten_rows_skipped"] == 2
    assert text_hits(ws, NEEDLE) == {}
    new = ws.ingest.import_bytes(EXPORT, "crm.csv", ImportSettings(name="other")).ingest.import_result()
    assert new.rows == 4 and new.forgotten_rows_skipped == 2
    assert ws.ingest.lift(email=EMAIL.upper()).to_dict() == {"identifier": "email", "lifted": 1}
    back = ws.dataset("crm").ingest.append(EXPORT, "crm later.csv").ingest.import_result()
    assert back.forgotten_rows_skipped == 0 and back.rows_added == 2
    assert ws.store.query_rows("SELECT count(*) FROM forgotten WHERE lifted_at IS NOT NULL") == [(1,)]


def test_forget_by_id_in_one_dataset(ws):
    ws.ingest.import_bytes(EXPORT, "crm.csv", ImportSettings(name="crm"))
    ws.ingest.import_bytes(EXPORT, "crm.csv", ImportSettings(name="copy"))
    result = ws.ingest.forget(id="A5", dataset="copy")
    assert result.to_dict()["removed"] == {"raw": 1, "clean": 1}
    assert ws.dataset("copy").info.row_count == 5 and ws.dataset("crm").info.row_count == 6


def test_forget_needs_one_identifier(ws):
    with pytest.raises(SettingError):
        ws.ingest.forget()
    with pytest.raises(SettingError):
        ws.ingest.forget(email=" ")


def test_the_cli_forgets_and_lifts(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    export = tmp_path / "crm.csv"
    export.write_bytes(EXPORT)
    assert main(["--db", str(db), "import", str(export), "--name", "crm"]) in (0, None)
    capsys.readouterr()
    assert main(["--db", str(db), "forget", "--email", EMAIL, "--json"]) in (0, None)
    assert '"raw": 2' in capsys.readouterr().out
    assert main(["--db", str(db), "forget", "--lift", "--email", EMAIL, "--json"]) in (0, None)
    assert '"lifted": 1' in capsys.readouterr().out


def test_old_uploads_no_dataset_came_from_are_deleted(ws):
    kept = ws.ingest.save_upload("imported.csv", EXPORT)
    ws.ingest.import_upload(kept, ImportSettings(name="crm"))
    abandoned = ws.ingest.save_upload("abandoned.csv", EXPORT.replace(b"Paris", b"Rouen"))
    recent = ws.ingest.save_upload("recent.csv", EXPORT.replace(b"Paris", b"Caen"))
    with ws.store.transaction() as tx:
        tx.execute("UPDATE uploads SET uploaded_at = uploaded_at - INTERVAL 25 HOUR WHERE id IN (?, ?)",
                   [kept, abandoned])
    assert ws.ingest.discard_stale_uploads() == 1
    assert ws.ingest.uploads()["file_name"].tolist() == ["recent.csv", "imported.csv"]
    assert ws.ingest.discard_upload(recent) is True and ws.ingest.discard_upload(kept) is False
    assert ws.ingest.uploads()[["file_name", "used_by"]].values.tolist() == [["imported.csv", "crm"]]


def test_forget_deletes_a_workbook_upload_that_held_the_person(ws):
    book = openpyxl.Workbook()
    sheet = book.active
    for line in (HEADER.strip(), *ROWS):
        sheet.append(line.split(";"))
    buffer = io.BytesIO()
    book.save(buffer)
    upload = ws.ingest.save_upload("crm.xlsx", buffer.getvalue())
    ws.ingest.import_upload(upload, ImportSettings(name="crm"))
    result = ws.ingest.forget(email=EMAIL)
    assert result.uploads_deleted == ["crm.xlsx"] and result.removed == {"raw": 2, "clean": 2, "uploads": 1}
    assert ws.ingest.uploads().empty


def test_a_refresh_of_the_same_export_does_not_bring_the_person_back(ws, tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "crm.csv").write_bytes(EXPORT)
    build(ws)
    config = ws.refresh.config_from_store("crm", files={"crm": "exports/crm.csv"})
    config_file = ws.refresh.save_config(config, tmp_path / "pipeline.toml")
    ws.ingest.forget(email=EMAIL)
    result = ws.refresh.run_file(config_file)
    assert [s.status for s in result.steps] == ["done"] * len(result.steps)
    assert text_hits(ws, NEEDLE) == {}
    assert ws.dataset("crm").info.row_count == 4


ORDERS = (b"order;client;date;montant;quantite\n"
          b"O1;A1;2024-01-05;100;1\nO2;A2;2024-02-05;200;2\nO3;A4;2024-03-05;300;3\nO4;A3;2024-04-05;400;A2\n"
          b"O5;A2;2024-05-05;500;5\n")


def test_forget_follows_the_person_into_their_orders(ws):
    """Orders reach a person through the customer-reference column (as RFM links them): by e-mail, the
    person's record ids (A2, A4) find their orders O2, O3, O5; a value equal to an id in another column
    (O4's quantity) does not."""
    ws.ingest.import_bytes(EXPORT, "crm.csv", ImportSettings(name="crm"))
    orders = ws.ingest.import_bytes(ORDERS, "orders.csv", ImportSettings(
        name="orders", kind="transactions", roles={"client": "text", "quantite": "text"}))
    result = ws.ingest.forget(email=EMAIL)
    assert sorted(result.datasets) == ["crm", "orders"]
    left = ws.store.query_rows(f"SELECT \"order\" FROM {orders.reload().info.raw_table} ORDER BY 1")
    assert left == [("O1",), ("O4",)]
    assert ws.dataset("orders", "transactions").info.row_count == 2


def test_forget_by_id_removes_that_customers_orders(ws):
    ws.ingest.import_bytes(EXPORT, "crm.csv", ImportSettings(name="crm"))
    ws.ingest.import_bytes(ORDERS, "orders.csv", ImportSettings(name="orders", kind="transactions",
                                                                 roles={"client": "text"}))
    ws.ingest.forget(id="A1")
    raw = ws.dataset("orders", "transactions").info.raw_table
    assert ws.store.query_rows(f"SELECT \"order\" FROM {raw} ORDER BY 1") == [("O2",), ("O3",), ("O4",), ("O5",)]


def test_a_record_whose_quoted_note_spans_lines_is_removed_whole():
    from segmentation.ingest.forget import without_person

    data = ('id;Nom;Note;E-mail\r\nA1;Martin;"court";paul@x.fr\r\n'
            'A2;Forget;"Rappeler Zoé\r\nau 06 12 34 56 78, ""urgent""\r\nmerci";zoe.forget@example.fr\r\n'
            'A3;Durand;"";marie@x.fr\r\n').encode("cp1252")
    kept, removed = without_person(data, "email", EMAIL)
    assert removed == 1
    assert kept == 'id;Nom;Note;E-mail\r\nA1;Martin;"court";paul@x.fr\r\nA3;Durand;"";marie@x.fr\r\n'.encode("cp1252")


def test_forget_scrubs_the_email_from_warnings_and_refresh_logs(ws):
    build(ws)
    with ws.store.transaction(versioned=False) as tx:
        tx.execute("UPDATE datasets SET warnings = ? WHERE name = 'crm'",
                   [f'["Line 3 was set aside: {EMAIL}; 1 field"]'])
        tx.execute("INSERT INTO refreshes VALUES (99, now(), now(), 'p.toml', 'failed', 'import', ?, NULL)",
                   [f"bad value {EMAIL.upper()}"])
    result = ws.ingest.forget(email=EMAIL)
    assert text_hits(ws, NEEDLE) == {}
    assert result.removed["log_texts"] == 2
    assert ws.store.query_value("SELECT error FROM refreshes WHERE id = 99") == "bad value [forgotten]"
    assert ws.dataset("crm").info.warnings == ["Line 3 was set aside: [forgotten]; 1 field"]

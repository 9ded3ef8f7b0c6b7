"""The working store: path resolution, migrations, transactions, quoting."""

from __future__ import annotations

import threading

import pytest

from segmentation.core import store as store_module
from segmentation.core.errors import NotFoundError, StoreError
from segmentation.core.store import SCHEMA_VERSION, Store, quote, resolve_path


def test_path_resolution_order(monkeypatch, tmp_path):
    monkeypatch.delenv("SEGMENT_STUDIO_DB", raising=False)
    assert str(resolve_path()) == "workspace.duckdb"
    monkeypatch.setenv("SEGMENT_STUDIO_DB", str(tmp_path / "env.duckdb"))
    assert resolve_path() == tmp_path / "env.duckdb"
    assert resolve_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"


def test_new_store_is_at_current_schema_version(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.datasets() == []


def test_migration_runs_only_new_steps(tmp_path, monkeypatch):
    path = tmp_path / "m.duckdb"
    Store(path).close()
    extra = [*store_module.MIGRATIONS, ["CREATE TABLE later_step (x INTEGER)"]]
    monkeypatch.setattr(store_module, "MIGRATIONS", extra)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(extra))
    s = Store(path)
    assert s.schema_version() == len(extra)
    assert s.table_exists("later_step")
    s.close()


def test_newer_store_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "n.duckdb"
    s = Store(path)
    with s.transaction() as tx:
        tx.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    s.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_transaction_rolls_back_everything(store):
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.execute("CREATE TABLE t (x INTEGER)")
        tx.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("half way")
    assert not store.table_exists("t")


def test_quote_makes_sql_in_names_harmless(store):
    name = 'Nom"; DROP TABLE datasets; --'
    with store.transaction() as tx:
        tx.execute(f"CREATE TABLE odd ({quote(name)} VARCHAR)")
        tx.execute("INSERT INTO odd VALUES ('x')")
    assert list(store.query_df("SELECT * FROM odd").columns) == [name]
    assert store.table_exists("datasets")


def test_uploads_kept_once_by_content(store):
    first = store.save_upload("a.csv", b"x,y\n1,2\n")
    again = store.save_upload("b.csv", b"x,y\n1,2\n")
    other = store.save_upload("c.csv", b"x,y\n3,4\n")
    assert first == again != other
    assert store.upload(first) == ("a.csv", b"x,y\n1,2\n")
    with pytest.raises(NotFoundError):
        store.upload(999)


def test_missing_dataset_message_lists_names(store):
    with pytest.raises(NotFoundError, match="import a file first"):
        store.dataset()
    with pytest.raises(NotFoundError, match="'nope'"):
        store.dataset("nope")


def test_concurrent_writes_are_serialised(store):
    with store.transaction() as tx:
        tx.execute("CREATE TABLE counter (n INTEGER)")
        tx.execute("INSERT INTO counter VALUES (0)")

    def bump():
        for _ in range(20):
            with store.transaction() as tx:
                tx.execute("UPDATE counter SET n = n + 1")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.query_value("SELECT n FROM counter") == 80


def test_atomic_block_keeps_all_or_nothing(store, french_csv):
    from segmentation.ingest.importer import import_file

    tables = store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1")
    with pytest.raises(RuntimeError, match="later step"), store.atomic():
        ds = import_file(store, french_csv, "crm.csv")                # two transactions of its own, joined
        assert store.dataset(ds.name).row_count == 4                   # reads see the block's writes
        raise RuntimeError("later step")
    assert store.datasets() == []
    assert store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1") == tables
    with store.atomic():
        import_file(store, french_csv, "crm.csv")
    assert [d.name for d in store.datasets()] == ["crm"]
    with pytest.raises(StoreError, match="cannot be nested"), store.atomic(), store.atomic():
        pass

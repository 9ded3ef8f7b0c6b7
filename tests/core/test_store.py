"""The working store: path resolution, migrations, transactions, quoting."""

from __future__ import annotations

import threading

import pytest

from segmentation.core import schema
from segmentation.core.errors import DatasetNotFoundError, NotFoundError, StoreError
from segmentation.core.schema import SCHEMA_VERSION
from segmentation.core.store import Store, quote, resolve_path
from segmentation.ingest.importer import import_file
from segmentation.ingest.repository import DatasetsRepository


def test_path_resolution_order(monkeypatch, tmp_path):
    monkeypatch.delenv("SEGMENT_STUDIO_DB", raising=False)
    assert str(resolve_path()) == "workspace.duckdb"
    monkeypatch.setenv("SEGMENT_STUDIO_DB", str(tmp_path / "env.duckdb"))
    assert resolve_path() == tmp_path / "env.duckdb"
    assert resolve_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"


def test_new_store_is_at_current_schema_version(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert DatasetsRepository(store).datasets() == []


def test_migration_runs_only_new_steps(tmp_path, monkeypatch):
    path = tmp_path / "m.duckdb"
    Store(path).close()
    extra = [*schema.MIGRATIONS, ["CREATE TABLE later_step (x INTEGER)"]]
    monkeypatch.setattr(schema, "MIGRATIONS", extra)
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
    repo = DatasetsRepository(store)
    first = repo.save_upload("a.csv", b"x,y\n1,2\n")
    again = repo.save_upload("b.csv", b"x,y\n1,2\n")
    other = repo.save_upload("c.csv", b"x,y\n3,4\n")
    assert first == again != other
    assert repo.upload(first) == ("a.csv", b"x,y\n1,2\n")
    with pytest.raises(NotFoundError):
        repo.upload(999)


def test_missing_dataset_message_lists_names(store, french_csv):
    repo = DatasetsRepository(store)
    with pytest.raises(DatasetNotFoundError, match="import a file first"):
        repo.dataset()
    import_file(store, french_csv, "crm.csv")
    with pytest.raises(DatasetNotFoundError, match=r"No dataset named 'nope'; the store has \['crm'\]") as caught:
        repo.dataset("nope")
    assert (caught.value.name, caught.value.available) == ("nope", ["crm"])
    with pytest.raises(DatasetNotFoundError, match="Dataset 99 is no longer in the store"):
        repo.dataset_by_id(99)
    assert DatasetsRepository(store).dataset("crm") == repo.dataset("crm")  # the store's transitional lookups delegate


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
    tables = store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1")
    with pytest.raises(RuntimeError, match="later step"), store.atomic():
        ds = import_file(store, french_csv, "crm.csv")                # two transactions of its own, joined
        assert DatasetsRepository(store).dataset(ds.name).row_count == 4  # reads see the block's writes
        raise RuntimeError("later step")
    assert DatasetsRepository(store).datasets() == []
    assert store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1") == tables
    with store.atomic():
        import_file(store, french_csv, "crm.csv")
    assert [d.name for d in DatasetsRepository(store).datasets()] == ["crm"]
    with pytest.raises(StoreError, match="cannot be nested"), store.atomic(), store.atomic():
        pass


def test_writes_that_leave_the_records_alone_do_not_move_their_version(store):
    def versions(i):
        return store.version(), store.version(i), store.records_version(i)

    assert versions(7) == (1, 0, 0)
    with store.transaction(7) as tx:                     # a writer that says nothing: the records may have changed
        tx.execute("CREATE TABLE t (x INTEGER)")
    assert versions(7) == (2, 1, 1)
    with store.transaction(7, records=False) as tx:      # derived data only
        tx.execute("INSERT INTO t VALUES (1)")
    assert versions(7) == (3, 2, 1)
    with store.transaction() as tx:
        tx.touch(7, 8, records=False)
    assert versions(7) == (4, 3, 1) and (store.version(8), store.records_version(8)) == (1, 0)
    with store.transaction(7, versioned=False) as tx:    # a log: nothing moves
        tx.execute("INSERT INTO t VALUES (2)")
    assert versions(7) == (4, 3, 1)
    with store.atomic():                                 # one writer of the block changed the records: they moved
        with store.transaction(7, records=False) as tx:
            tx.execute("INSERT INTO t VALUES (3)")
        with store.transaction(7) as tx:
            tx.execute("INSERT INTO t VALUES (4)")
    assert versions(7) == (5, 4, 2)
    with store.atomic(), store.transaction(7, records=False) as tx:
        tx.execute("INSERT INTO t VALUES (5)")
    assert versions(7) == (6, 5, 2)
    with pytest.raises(ValueError), store.transaction(7) as tx:  # rolled back: nothing moves
        tx.execute("INSERT INTO t VALUES (6)")
        raise ValueError
    assert versions(7) == (6, 5, 2)


def test_the_attributes_version_moves_with_the_records_and_with_computed_attributes(store):
    def versions(i):
        return store.version(i), store.records_version(i), store.attributes_version(i)

    with store.transaction(3) as tx:                                       # records: attributes too
        tx.execute("CREATE TABLE t (x INTEGER)")
    assert versions(3) == (1, 1, 1)
    with store.transaction(3, records=False, attributes=True) as tx:       # RFM, a score
        tx.execute("INSERT INTO t VALUES (1)")
    assert versions(3) == (2, 1, 2)
    with store.transaction(3, records=False) as tx:                        # a run, a name, an audience
        tx.execute("INSERT INTO t VALUES (2)")
    assert versions(3) == (3, 1, 2)
    with store.transaction() as tx:
        tx.touch(3, records=False, attributes=True)
    assert versions(3) == (4, 1, 3)
    with store.atomic():
        with store.transaction(3, records=False) as tx:
            tx.execute("INSERT INTO t VALUES (3)")
        with store.transaction(3, records=False, attributes=True) as tx:
            tx.execute("INSERT INTO t VALUES (4)")
    assert versions(3) == (5, 1, 4)


def test_the_rows_version_moves_with_the_records_unless_only_the_customers_changed(store):
    def versions(i):
        return store.records_version(i), store.rows_version(i)

    with store.transaction(4) as tx:                                       # an import: rows and records
        tx.execute("CREATE TABLE t (x INTEGER)")
    assert versions(4) == (1, 1)
    with store.transaction(4, rows=False) as tx:                           # a merge, a rule
        tx.execute("INSERT INTO t VALUES (1)")
    assert versions(4) == (2, 1)
    with store.transaction(4, records=False) as tx:                        # derived data: neither
        tx.execute("INSERT INTO t VALUES (2)")
    assert versions(4) == (2, 1)
    with store.atomic():                                                   # a merge and an import in one block
        with store.transaction(4, rows=False) as tx:
            tx.execute("INSERT INTO t VALUES (3)")
        with store.transaction() as tx:
            tx.touch(4)
            tx.execute("INSERT INTO t VALUES (4)")
    assert versions(4) == (3, 2)

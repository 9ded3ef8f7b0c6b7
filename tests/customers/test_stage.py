"""Who is a customer: one definition (customers/identity.py), run by the customers repository, seen by the facade."""

from __future__ import annotations

import pytest

from segmentation import MissingColumnsError
from segmentation.customers import identity, repository
from segmentation.ingest.importer import import_file
from tests.dedupe.test_review import CSV, add_pairs


@pytest.fixture
def handle(ws):
    ds = import_file(ws.store, CSV, "crm.csv")
    add_pairs(ws.store, ds, [(1, 2, 0.97), (3, 4, 0.7), (2, 5, 0.3)])
    return ws.dataset(ds.name)


def test_the_sql_texts():
    assert identity.customer_id(7) == "C7"
    assert identity.customer_id_sql("t._row") == "'C' || (t._row)"
    assert identity.customer_order_sql() == "CAST(substr(customer_id, 2) AS BIGINT)"


def test_before_any_merge_every_record_is_a_customer(handle):
    customers = handle.customers
    assert not customers.has_merges() and customers.count() == 5
    table = customers.table(["id", "value"])
    assert table["customer_id"].tolist() == ["C1", "C2", "C3", "C4", "C5"]
    assert table["id"].tolist() == ["A1", "A2", "A3", "A4", "A5"]
    assert customers.rows(limit=2)["id"].tolist() == ["A1", "A2"]
    assert customers.rows(keep_id=True).columns[0] == "customer_id"
    assert customers.raw_rows()["_row"].tolist() == [1, 2, 3, 4, 5]
    relation = handle.store.query_df(f"SELECT customer_id, id FROM ({customers.relation()}) ORDER BY 1")
    assert relation.values.tolist() == [["C1", "A1"], ["C2", "A2"], ["C3", "A3"], ["C4", "A4"], ["C5", "A5"]]
    with pytest.raises(MissingColumnsError, match="nope"):
        customers.table(["nope"])


def test_after_merges_customers_are_golden_records(handle):
    handle.dedupe.merge(pairs=[(1, 2), (3, 4)])
    customers = handle.customers
    assert customers.has_merges() and customers.count() == 3
    table = customers.table(["id", "value"])
    assert table.values.tolist() == [["C1", "A1", 250], ["C3", "A4", 90], ["C5", "A5", 10]]  # the most recent id
    assert customers.rows()["source_ids"].tolist() == ["A1;A2", "A3;A4", "A5"]
    records = handle.store.query_df(f"SELECT _row, customer_id FROM ({customers.records_relation()}) ORDER BY 1")
    assert records["customer_id"].tolist() == ["C1", "C1", "C3", "C3", "C5"]
    relation = handle.store.query_df(f"SELECT customer_id FROM ({customers.relation(attributes=True)}) ORDER BY 1")
    assert relation["customer_id"].tolist() == ["C1", "C3", "C5"]
    golden = handle.store.query_df(f"SELECT customer_id, source_rows FROM ({customers.golden_relation()})")
    assert [list(r) for r in golden["source_rows"]] == [[1, 2], [3, 4], [5]]
    unmerged = handle.store.query_df(f"SELECT customer_id FROM ({customers.unmerged_relation()})")
    assert len(unmerged) == 5


def test_the_golden_table_follows_merges_and_rules(handle):
    customers, store = handle.customers, handle.store
    handle.dedupe.merge(pairs=[(1, 2)])
    table = customers.golden_table()
    assert store.query_value(f"SELECT value FROM {table} WHERE customer_id = 'C1'") == 250
    version = store.version()
    assert customers.golden_table() == table and store.version() == version   # a fresh table: not rebuilt
    handle.dedupe.save_survivorship({"value": "sum"})
    assert store.query_value(f"SELECT value FROM {customers.golden_table()} WHERE customer_id = 'C1'") == 350
    handle.dedupe.merge(pairs=[(2, 5)])
    assert store.query_value(f"SELECT value FROM {customers.golden_table()} WHERE customer_id = 'C1'") == 360
    assert store.query_value(f"SELECT count(*) FROM {customers.golden_table()}") == customers.count() == 3


def test_the_repository_answers_for_a_resolved_dataset(ws, handle):
    store = ws.store
    handle.dedupe.merge(pairs=[(1, 2)])
    ds = handle.info
    assert repository.customer_table(store, ds, ["id"])["customer_id"].tolist() == ["C1", "C3", "C4", "C5"]
    assert repository.customer_rows(store, ds)["source_ids"].tolist()[0] == "A1;A2"
    assert repository.raw_rows(store, ds)["id"].tolist() == ["A1", "A2", "A3", "A4", "A5"]
    assert repository.golden_table(store, ds) == f"golden_{handle.id}"

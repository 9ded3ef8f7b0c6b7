"""The schema: migrations, and the one list of what belongs to a dataset (for deleting it)."""

from __future__ import annotations

from segmentation.core import schema


def test_every_table_keyed_by_a_dataset_is_listed(store):
    keyed = {t for (t,) in store.query_rows(
        "SELECT DISTINCT table_name FROM information_schema.columns WHERE column_name = 'dataset_id'")}
    assert keyed <= set(schema.DATASET_ROWS)
    # Child tables point at a parent that is itself keyed by the dataset.
    for table, (key, parent) in schema.DATASET_ROWS.items():
        assert store.table_exists(table), table
        columns = {c for (c,) in store.query_rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table])}
        assert key in columns, (table, key)
        if parent is not None:
            assert schema.DATASET_ROWS[parent] == ("dataset_id", None)
            assert list(schema.DATASET_ROWS).index(table) < list(schema.DATASET_ROWS).index(parent)
    assert list(schema.DATASET_ROWS)[-1] == schema.DATASETS


def test_delete_statements_drop_the_tables_then_the_rows():
    statements = schema.delete_dataset_sql(7)
    assert statements[:7] == [(f"DROP TABLE IF EXISTS {p}_7", []) for p in
                              ("raw", "clean", "rejects", "rfm", "scores", "golden", "reports")]
    assert statements[7] == (
        "DELETE FROM merge_members WHERE group_id IN (SELECT id FROM merge_groups WHERE dataset_id = ?)", [7])
    assert statements[-1] == ("DELETE FROM datasets WHERE id = ?", [7])
    assert len(statements) == 7 + len(schema.DATASET_ROWS)


def test_dataset_tables_and_pattern():
    assert schema.dataset_tables(3) == ["raw_3", "clean_3", "rejects_3", "rfm_3", "scores_3", "golden_3", "reports_3"]
    assert schema.DATASET_TABLE_PATTERN == "^(raw|clean|rejects|rfm|scores|golden|reports)_[0-9]+$"

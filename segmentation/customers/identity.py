"""The customer rows that later steps (export, segments, audiences) work on.

A dataset's normalised rows, or its golden records once duplicates have
been merged: every later step reads customers through this module.
"""

from __future__ import annotations

import pandas as pd

from ..core.errors import ColumnError
from ..core.store import Store, quote
from ..dedupe.review import ACTIVE_MEMBERS, golden_rows, has_merges, saved_survivorship
from .golden import golden_sql


def customer_rows(store: Store, dataset: str | None = None, limit: int | None = None,
                  keep_id: bool = False) -> pd.DataFrame:
    """Customers of a dataset under their original column headers, in file order.

    Normalised rows; once merges exist, golden records instead, with a
    ``source_ids`` column listing the record ids each one came from.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str, optional
        Dataset name; the most recent customers dataset by default.
    limit : int, optional
        At most this many rows.
    keep_id : bool
        Keep the ``customer_id`` column first (see :func:`customer_table`).
    """
    ds = store.dataset(dataset or None)
    if has_merges(store, ds.name):
        rows = golden_rows(store, ds.name, limit=limit).drop(columns=["source_rows"])
        return rows if keep_id else rows.drop(columns=["customer_id"])
    if not keep_id:
        return store.read_table(ds.clean_table, ds.columns, limit=limit)
    cols = "".join(f", {quote(c)}" for c in ds.columns)
    sql = f"SELECT 'C' || _row AS customer_id{cols} FROM {ds.clean_table} ORDER BY _row"
    return store.query_df(sql + (f" LIMIT {int(limit)}" if limit is not None else ""))


def customer_table(store: Store, dataset: str | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """``customer_id`` and ``columns`` of every customer (golden records once merges exist), in file order.

    ``customer_id`` is ``C<row>``, the row number of the customer's first
    record: it stays the same when later records join the customer, so
    segments and audiences can refer to it.
    """
    from .attributes import computed, join_sql

    ds = store.dataset(dataset or None)
    columns = list(ds.columns if columns is None else columns)
    extra = [c for c in columns if c in computed(store, ds)]  # computed attributes (RFM, scores)
    missing = [c for c in columns if c not in ds.columns and c not in extra]
    if missing:
        raise ColumnError(f"Missing columns {missing}; found {ds.columns}")
    cols = "".join(f", {quote(c)}" for c in columns if c not in extra)
    if has_merges(store, ds.name):
        sql = f"SELECT customer_id{cols} FROM {golden_table(store, ds)}"
    else:
        sql = f"SELECT 'C' || _row AS customer_id{cols} FROM {ds.clean_table}"
    if extra:
        sql = join_sql(store, ds, extra, sql)
    # File order: a customer's id is the row number of its first record.
    frame = store.query_df(f"SELECT * FROM ({sql}) ORDER BY CAST(substr(customer_id, 2) AS BIGINT)")
    return frame[["customer_id", *columns]]


def golden_table(store: Store, ds) -> str:
    """A table of the dataset's golden records, rebuilt only when merges, rules or rows changed.

    Audiences count on every change of a condition: aggregating a million records into golden records each
    time would take seconds, reading this table takes a fraction of one.
    """
    import json

    survivorship = saved_survivorship(store, ds.name)
    version = json.dumps([store.query_rows(
        "SELECT count(*), coalesce(max(id), 0), CAST(max(coalesce(undone_at, created_at)) AS VARCHAR), "
        "count(undone_at) FROM merge_groups WHERE dataset_id = ?", [ds.id]),
        store.query_value("SELECT count(*) FROM import_batches WHERE dataset_id = ?", [ds.id]),
        survivorship.rules, ds.roles, ds.row_count], default=str)
    table, key = f"golden_{int(ds.id)}", f"golden_version_{int(ds.id)}"
    if store.table_exists(table) and store.query_value("SELECT value FROM meta WHERE key = ?", [key]) == version:
        return table
    with store.transaction() as tx:
        tx.execute(f"CREATE OR REPLACE TABLE {table} AS "
                   f"{golden_sql(ds, ACTIVE_MEMBERS.format(id=int(ds.id)), survivorship)}")
        tx.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, version])
    return table


def raw_rows(store: Store, dataset: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Raw rows of a dataset exactly as read, with the ``_row`` number first."""
    ds = store.dataset(dataset or None)
    return store.read_table(ds.raw_table, ["_row", *ds.columns], limit=limit)


__all__ = ["customer_rows", "customer_table", "golden_table", "raw_rows"]

"""The customer rows that later steps (export, segments, audiences) work on.

A dataset's normalised rows, or its golden records once duplicates have
been merged: every later step reads customers through this module.
"""

from __future__ import annotations

import pandas as pd

from .dedupe import golden_rows, has_merges
from .store import Store


def customer_rows(store: Store, dataset: str | None = None, limit: int | None = None) -> pd.DataFrame:
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
    """
    ds = store.dataset(dataset or None)
    if has_merges(store, ds.name):
        return golden_rows(store, ds.name, limit=limit).drop(columns=["customer_id", "source_rows"])
    return store.read_table(ds.clean_table, ds.columns, limit=limit)


def raw_rows(store: Store, dataset: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Raw rows of a dataset exactly as read, with the ``_row`` number first."""
    ds = store.dataset(dataset or None)
    return store.read_table(ds.raw_table, ["_row", *ds.columns], limit=limit)


__all__ = ["customer_rows", "raw_rows"]

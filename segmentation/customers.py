"""The customer rows that later steps (export, segments, audiences) work on.

Today these are a dataset's normalised rows; deduplication will put golden
records here, so every later step reads customers through this module.
"""

from __future__ import annotations

import pandas as pd

from .store import Store


def customer_rows(store: Store, dataset: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Normalised rows of a dataset, under their original column headers, in file order.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str, optional
        Dataset name; the most recent customers dataset by default.
    limit : int, optional
        At most this many rows.
    """
    ds = store.dataset(dataset) if dataset else store.dataset()
    return store.read_table(ds.clean_table, ds.columns, limit=limit)


def raw_rows(store: Store, dataset: str | None = None, limit: int | None = None) -> pd.DataFrame:
    """Raw rows of a dataset exactly as read, with the ``_row`` number first."""
    ds = store.dataset(dataset) if dataset else store.dataset()
    return store.read_table(ds.raw_table, ["_row", *ds.columns], limit=limit)


__all__ = ["customer_rows", "raw_rows"]

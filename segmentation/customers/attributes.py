"""Computed customer attributes (RFM from orders, propensity scores) beside the imported columns.

Each lives in a table keyed by ``customer_id``; pages, features and audiences
see them as columns. This module says which exist and builds the join.
"""

from __future__ import annotations

from ..behaviour.rfm import COLUMNS as RFM_COLUMNS
from ..behaviour.rfm import NUMERIC as RFM_NUMERIC
from ..core.store import Dataset, Store, quote


def computed(store: Store, ds: Dataset) -> dict[str, tuple[str, str, str]]:
    """Attribute name -> (table, column, kind ``"number"`` or ``"category"``), for those computed so far."""
    found: dict[str, tuple[str, str, str]] = {}
    rfm = f"rfm_{int(ds.id)}"
    if store.table_exists(rfm):
        found.update({name: (rfm, col, "number" if col in RFM_NUMERIC else "category")
                      for col, name in RFM_COLUMNS.items()})
    scores = f"scores_{int(ds.id)}"
    if store.table_exists(scores):
        for (col,) in store.query_rows("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                       "AND column_name <> 'customer_id' ORDER BY ordinal_position", [scores]):
            found[col] = (scores, col, "number")
    return found


def kinds(store: Store, ds: Dataset) -> dict[str, str]:
    """Attribute name -> kind."""
    return {name: kind for name, (_t, _c, kind) in computed(store, ds).items()}


def join_sql(store: Store, ds: Dataset, names: list[str], base: str) -> str:
    """``base`` (a query with ``customer_id``) with the attributes ``names`` joined on (NULL when absent)."""
    attrs = computed(store, ds)
    tables = sorted({attrs[n][0] for n in names if n in attrs})
    if not tables:
        return base
    picked = ", ".join(f"t{tables.index(attrs[n][0])}.{quote(attrs[n][1])} AS {quote(n)}" for n in names if n in attrs)
    joins = " ".join(f"LEFT JOIN {t} t{i} ON t{i}.customer_id = b.customer_id" for i, t in enumerate(tables))
    return f"SELECT b.*, {picked} FROM ({base}) b {joins}"


__all__ = ["computed", "join_sql", "kinds"]

"""Who is a customer: the one definition, as SQL text.

A customer is a record of a dataset that no merge put into another's group,
or a merge group as a whole. Its id is ``C<row>``, the row number of its first
record, so a customer keeps its id when later records join it. Every stage
that needs customers composes the texts built here (:func:`customer_id_sql`,
:func:`record_customers_sql`, :func:`customers_sql`); nothing here runs SQL:
:mod:`segmentation.customers.repository` is the customers stage's only SQL
executor. The old entry points (:func:`customer_rows`, :func:`customer_table`,
:func:`golden_table`, :func:`raw_rows`) are kept as thin wrappers over the
repository for the stages not yet moved onto ``handle.customers``.
"""

from __future__ import annotations

from ..core.store import Dataset, quote
from ..dedupe.sql import active_members_sql

PREFIX = "C"


def customer_id(row: int) -> str:
    """The id of the customer whose first record is row ``row``."""
    return f"{PREFIX}{int(row)}"


def customer_id_sql(row_expr: str) -> str:
    """SQL of the customer id of the row number ``row_expr`` (``'C' || row``)."""
    return f"'{PREFIX}' || ({row_expr})"


def customer_order_sql(id_expr: str = "customer_id") -> str:
    """An ``ORDER BY`` term putting customer ids in file order (the row number of their first record)."""
    return f"CAST(substr({id_expr}, {len(PREFIX) + 1}) AS BIGINT)"


def members_sql(ds: Dataset) -> str:
    """``(row, group_id)`` of the records that merges put together (the dedupe stage's active groups)."""
    return active_members_sql(ds.id)


def anchors_sql(members: str) -> str:
    """``(row, anchor)``: every record of ``members`` (``row``, ``group_id``) with its group's first record."""
    return f"SELECT row, min(row) OVER (PARTITION BY group_id) AS anchor FROM ({members})"


def record_customers_sql(ds: Dataset, alias: str = "t") -> str:
    """``(_row, customer_id)`` of every record of ``ds``: the customer it belongs to after merges."""
    return (f"SELECT {alias}._row, {customer_id_sql(f'coalesce(m.anchor, {alias}._row)')} AS customer_id "
            f"FROM {ds.clean_table} {alias} LEFT JOIN ({anchors_sql(members_sql(ds))}) m ON m.row = {alias}._row")


def customers_sql(ds: Dataset, golden_relation: str | None = None, columns: list[str] | None = None) -> str:
    """The relation of one row per customer: ``customer_id`` then its columns (every column by default).

    ``golden_relation`` is the dataset's golden records (a table or a
    subquery), to be given once merges exist; without it every record is a
    customer. With ``columns=None`` golden records keep their ``(all)`` lists
    and ``source_ids``.
    """
    if golden_relation is not None:
        base = f"({golden_relation})" if golden_relation.lstrip().upper().startswith(("SELECT", "WITH")) \
            else golden_relation
        if columns is None:
            return f"SELECT * EXCLUDE (source_rows) FROM {base}"
        return f"SELECT customer_id{''.join(f', {quote(c)}' for c in columns)} FROM {base}"
    picked = "* EXCLUDE (_row)" if columns is None else ", ".join(quote(c) for c in columns)
    return f"SELECT {customer_id_sql('_row')} AS customer_id{', ' if picked else ''}{picked} FROM {ds.clean_table}"


__all__ = ["anchors_sql", "customer_id", "customer_id_sql", "customer_order_sql", "customers_sql",
           "members_sql", "record_customers_sql"]

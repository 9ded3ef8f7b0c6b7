"""The customers stage as a dataset handle carries it (``handle.customers``): who the customers are.

A customer is a record no merge put into another's group, or a merge group
as a whole (its golden record); its id is ``C<row>``. The SQL text is built by
:mod:`segmentation.customers.identity` and :mod:`segmentation.customers.golden`
and run by :mod:`segmentation.customers.repository`, the stage's only SQL
executor. Other stages ask this class for customers (frames, or SQL text to
compose into their own statements) instead of reading the tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..core.stage import Stage
from . import repository
from .golden import Survivorship
from .identity import customers_sql, record_customers_sql


class CustomersStage(Stage):
    """The customers of one dataset: golden records once merges exist, else its normalised records."""

    # -- frames ----------------------------------------------------------------
    def table(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """``customer_id`` and ``columns`` (default every column; computed attributes allowed), in file order."""
        return repository.customer_table(self.store, self.dataset, None if columns is None else list(columns))

    def rows(self, limit: int | None = None, keep_id: bool = False) -> pd.DataFrame:
        """Customers under their original headers, in file order (golden records with ``source_ids`` once
        merged); ``keep_id`` keeps ``customer_id`` first."""
        return repository.customer_rows(self.store, self.dataset, limit=limit, keep_id=keep_id)

    def count(self) -> int:
        """How many customers (records less those merged into another)."""
        return repository.count(self.store, self.dataset)

    def raw_rows(self, limit: int | None = None) -> pd.DataFrame:
        """The raw rows exactly as read, ``_row`` first."""
        return repository.raw_rows(self.store, self.dataset, limit=limit)

    def golden_rows(self, survivorship: Survivorship | None = None, limit: int | None = None) -> pd.DataFrame:
        """One golden record per customer (with ``survivorship``, default the saved rules), ``source_rows`` kept."""
        return repository.golden_rows(self.store, self.dataset, survivorship, limit=limit)

    def has_merges(self) -> bool:
        """Whether any merge is active (customers are then golden records)."""
        return repository.has_merges(self.store, self.dataset)

    # -- golden records ----------------------------------------------------------------
    def ready(self) -> bool:
        """Whether the customers can be read at once: no merge, or golden records already built for the records,
        merges and rules as they are now (a few small reads)."""
        return not self.has_merges() or repository.golden_current(self.store, self.dataset)

    def prepare(self, progress: repository.Progress | None = None) -> bool:
        """Build the golden records now if merges, rules or records changed since they were built; True if stale.

        Reading customers after a merge builds them anyway (a million records take seconds): a page calls this
        first, with its progress bar, so that the wait shows. ``progress(fraction, message)`` is told how far
        the build has gone; nothing is built, nor said, when :meth:`ready`.
        """
        if self.ready():
            return False
        repository.golden_table(self.store, self.dataset, progress)
        return True

    # -- SQL text for other stages to compose ---------------------------------------
    def golden_table(self) -> str:
        """The name of the golden-records table, rebuilt first if merges, rules or rows changed."""
        return repository.golden_table(self.store, self.dataset)

    def relation(self, attributes: bool | Sequence[str] = False) -> str:
        """SQL text of one row per customer: ``customer_id`` and every column (golden records once merged;
        their ``(all)`` lists and ``source_ids`` kept), with the computed attributes joined on when
        ``attributes`` is True (all) or names some."""
        sql = repository.customers_relation(self.store, self.dataset)
        if attributes:
            names = list(self.attribute_kinds()) if attributes is True else list(attributes)
            sql = repository.join_sql(self.store, self.dataset, names, sql) if names else sql
        return sql

    def golden_relation(self) -> str:
        """SQL text of the golden records (``customer_id``, every column, ``(all)`` lists, ``source_ids`` and
        ``source_rows``), merges or not: the golden table, rebuilt first if stale."""
        return f"SELECT * FROM {self.golden_table()}"

    def records_relation(self) -> str:
        """SQL text of ``(_row, customer_id)``: the customer each record of the dataset belongs to."""
        return record_customers_sql(self.dataset)

    def unmerged_relation(self) -> str:
        """SQL text of every record as a customer of its own (``customer_id``, every column), merges ignored."""
        return customers_sql(self.dataset)

    # -- computed attributes ----------------------------------------------------------
    def attributes(self) -> dict[str, tuple[str, str, str]]:
        """Computed attributes so far: name -> (table, column, kind)."""
        return repository.computed(self.store, self.dataset)

    def attribute_kinds(self) -> dict[str, str]:
        """Computed attribute name -> kind (``number`` or ``category``)."""
        return repository.kinds(self.store, self.dataset)

    def join_attributes(self, names: Sequence[str], base: str) -> str:
        """``base`` (SQL with ``customer_id``) with the computed attributes ``names`` joined on."""
        return repository.join_sql(self.store, self.dataset, list(names), base)

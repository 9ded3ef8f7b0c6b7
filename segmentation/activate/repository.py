"""The activate stage's repository: the only code of the stage that runs SQL.

It owns the stage's tables: ``audiences`` (saved definitions), ``suppression_lists`` and
``suppression_values`` (e-mails or ids never to contact) and ``export_log`` (every list that left the
tool). It also runs the audience queries that :mod:`segmentation.activate.audiences` builds as text (counts
and rows over the customers of a dataset); it builds no domain SQL of its own beyond its tables.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd

from ..core.store import Store


class AudiencesRepository:
    """Saved audiences, suppression lists and the export log of one store, and the audience queries."""

    def __init__(self, store: Store):
        self.store = store

    # -- audience queries (SQL text from audiences.py) ---------------------
    def figures(self, sql: str, params: list) -> tuple:
        """The one row of a counting query."""
        return self.store.query_rows(sql, params)[0]

    def frame(self, sql: str, params: list) -> pd.DataFrame:
        """The rows of a selecting query."""
        return self.store.query_df(sql, params)

    # -- saved audiences ---------------------------------------------------
    def save_audience(self, dataset_id: int | None, name: str, spec_json: str) -> None:
        """Keep a definition under ``name`` (replacing one of that name, whatever its case), in one transaction."""
        with self.store.transaction(dataset_id, records=False) as tx:  # a definition: the records stay
            tx.execute("DELETE FROM audiences WHERE lower(name) = lower(?)", [name])
            tx.execute("INSERT INTO audiences VALUES (?, ?, ?)", [name, datetime.now(), spec_json])

    def audience_spec(self, name: str) -> str | None:
        """The saved definition (JSON text) of ``name``, compared without case; None if there is none."""
        return self.store.query_value("SELECT CAST(spec AS VARCHAR) FROM audiences WHERE lower(name) = lower(?)",
                                      [name])

    def delete_audience(self, name: str) -> None:
        """Remove the saved definition ``name`` (compared without case)."""
        with self.store.transaction() as tx:
            tx.execute("DELETE FROM audiences WHERE lower(name) = lower(?)", [name])

    def audience_names(self) -> list[str]:
        """Every saved audience's name, in order."""
        return [r[0] for r in self.store.query_rows("SELECT name FROM audiences ORDER BY name")]

    def saved(self) -> pd.DataFrame:
        """Saved audiences: ``name``, ``saved_at``, ``spec`` (JSON text), by name."""
        return self.store.query_df("SELECT name, saved_at, CAST(spec AS VARCHAR) AS spec FROM audiences "
                                   "ORDER BY name")

    # -- suppression lists -------------------------------------------------
    def save_suppression(self, name: str, values: list[str]) -> int:
        """Keep a suppression list of already-cleaned values; returns its id (chosen under the write lock)."""
        with self.store.transaction() as tx:
            list_id = tx.next_id("suppression_lists")
            tx.execute("INSERT INTO suppression_lists VALUES (?, ?, ?, ?)",
                       [list_id, name, datetime.now(), len(values)])
            tx.register("_values", pd.DataFrame({"value": values}))
            tx.execute("INSERT INTO suppression_values SELECT ?, value FROM _values", [list_id])
            tx.unregister("_values")
        return list_id

    # -- the export log ----------------------------------------------------
    def log_export(self, audience: str | None, spec_json: str, include_no_consent: bool, rows: int,
                   columns: list[str], file_name: str, members: list[str] | None = None,
                   dataset_id: int | None = None) -> None:
        """Record an export (a log of what left the tool: it moves the overall write version only); with
        ``members``, the customer ids the saved ``audience`` held (customers of ``dataset_id``), replacing
        those of its previous export."""
        with self.store.transaction() as tx:
            now = datetime.now()
            tx.execute("INSERT INTO export_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [now, audience, rows, json.dumps(columns, ensure_ascii=False), file_name,
                        include_no_consent, spec_json])
            if members is not None:
                tx.execute("DELETE FROM export_members WHERE lower(audience) = lower(?)", [audience])
                tx.register("_members", pd.DataFrame({"customer_id": pd.Series(members, dtype=object)}))
                tx.execute("INSERT INTO export_members SELECT ?, ?, ?, customer_id FROM _members",
                           [dataset_id, audience, now])
                tx.unregister("_members")

    def last_members(self, audience: str) -> list[str]:
        """The customer ids of the last export of the saved ``audience`` (empty if it was never exported)."""
        return [r[0] for r in self.store.query_rows("SELECT customer_id FROM export_members WHERE lower(audience) = "
                                                     "lower(?) ORDER BY customer_id", [audience])]

    def export_log(self) -> pd.DataFrame:
        """Every export, newest first."""
        return self.store.query_df("SELECT exported_at, audience, rows, CAST(columns AS VARCHAR) AS columns, "
                                   "file_name, include_no_consent, CAST(spec AS VARCHAR) AS spec FROM export_log "
                                   "ORDER BY exported_at DESC")

    def last_export_rows(self, audience: str, file_name: str) -> int | None:
        """Rows of the last export of ``audience`` to a file of that name (None if there was none)."""
        return self.store.query_value("SELECT rows FROM export_log WHERE audience = ? AND file_name = ? "
                                      "ORDER BY exported_at DESC LIMIT 1", [audience, file_name])


__all__ = ["AudiencesRepository"]

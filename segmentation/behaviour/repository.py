"""The behaviour stage's repository: the only module of the stage that executes SQL.

It owns the tables ``rfm_runs`` and ``rfm_<customers dataset id>`` (RFM per
customer), ``score_models`` and ``scores_<customers dataset id>``
(propensity scores per customer). :mod:`segmentation.behaviour.rfm` builds
the RFM statements as text (:func:`segmentation.behaviour.rfm.rfm_sql`);
this module runs them. Every write names the customers dataset it changes
(``store.transaction(dataset_id, records=False, attributes=True)``): RFM
measures and scores are attributes of its customers, so every cache of that
dataset is fresh again, but not its records (the golden records are not
rebuilt).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from ..core.store import Dataset, Store, quote


def rfm_table_name(dataset_id: int) -> str:
    """The per-customer RFM table of a customers dataset."""
    return f"rfm_{int(dataset_id)}"


def scores_table_name(dataset_id: int) -> str:
    """The per-customer propensity scores table of a customers dataset."""
    return f"scores_{int(dataset_id)}"


class BehaviourRepository:
    """RFM runs and tables, propensity models and score tables of one store."""

    def __init__(self, store: Store):
        self.store = store

    # -- reading the inputs -----------------------------------------------
    def share(self, sql: str, params: list | dict | None = None) -> float | None:
        """The single number a share query built by :mod:`segmentation.behaviour.rfm` gives (None: no rows)."""
        value = self.store.query_value(sql, params)
        return None if value is None else float(value)

    def distinct_values(self, ds: Dataset, column: str) -> int:
        """How many distinct values a column of the dataset's normalised rows has."""
        return int(self.store.query_value(f"SELECT count(DISTINCT {quote(column)}) FROM {ds.clean_table}") or 0)

    def non_missing(self, table: str, column: str) -> int:
        """Customers with a value in a column of one of this stage's tables (``rfm_<id>``, ``scores_<id>``)."""
        return int(self.store.query_value(f"SELECT count({quote(column)}) FROM {table}") or 0)

    # -- what exists (the customers stage's computed attributes ask here) --
    def has_rfm(self, dataset_id: int) -> bool:
        """Whether RFM was computed for the customers dataset (its ``rfm_<id>`` table exists)."""
        return self.store.table_exists(rfm_table_name(dataset_id))

    def score_columns(self, dataset_id: int) -> list[str]:
        """The score columns of ``scores_<id>`` (``score_<name>``, ``score_<name> top %``), in table order."""
        return [c for (c,) in self.store.query_rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND column_name <> "
            "'customer_id' ORDER BY ordinal_position", [scores_table_name(dataset_id)])]

    # -- RFM ---------------------------------------------------------------
    def sample(self, ds: Dataset, rows: int = 2000) -> pd.DataFrame:
        """Normalised values of up to ``rows`` rows spread evenly over the dataset (every n-th row)."""
        step = max(1, int(ds.row_count or 0) // int(rows))
        return self.store.query_df(f"SELECT * EXCLUDE (_row) FROM {ds.clean_table} WHERE _row % {step} = 0 "
                                   f"LIMIT {int(rows)}")

    def write_rfm(self, customers_id: int, orders_id: int, statements: dict, params: dict,
                  settings_json: str, summarise: Callable[[dict[str, int], dict], dict],
                  progress: Callable[[int, int], None] | None = None) -> dict:
        """Build ``rfm_<customers id>`` from the statements of :func:`segmentation.behaviour.rfm.rfm_sql` and
        record the run, in one transaction.

        ``statements["temporary"]`` lists ``(table, SQL)`` pairs kept as
        temporary tables, in order (the order lines once, the figures per
        customer), dropped at the end; ``table`` builds the RFM table from
        them and ``counts`` the run's figures (one row). ``summarise(groups,
        counts)`` turns the customers per group and those figures into what is
        kept with the run (and returned). Each statement gets the ``params``
        it names (``$as_of``...). ``progress(step, steps)`` is told before each statement.
        """
        table = rfm_table_name(customers_id)
        steps = len(statements["temporary"]) + 2
        tell = progress or (lambda _step, _steps: None)

        def used(sql: str) -> dict | None:
            return {k: v for k, v in params.items() if f"${k}" in sql} or None

        with self.store.transaction(customers_id, records=False, attributes=True) as tx:
            made = []
            try:
                for step, (name, sql) in enumerate(statements["temporary"]):
                    tell(step, steps)
                    tx.execute(f"CREATE OR REPLACE TEMP TABLE {quote(name)} AS {sql}", used(sql))
                    made.append(name)
                tell(steps - 2, steps)
                tx.execute(f"CREATE OR REPLACE TABLE {table} AS {statements['table']}", used(statements["table"]))
                tell(steps - 1, steps)
                counts = tx.df(statements["counts"]).iloc[0].to_dict()
            finally:
                for name in reversed(made):
                    tx.execute(f"DROP TABLE IF EXISTS {quote(name)}")
            groups = {name: int(n) for name, n in tx.execute(f"SELECT rfm_group, count(*) FROM {table} GROUP BY 1")}
            stats = summarise(groups, counts)
            tx.execute("INSERT OR REPLACE INTO rfm_runs VALUES (?, ?, ?, ?, ?)",
                       [customers_id, orders_id, datetime.now(), settings_json, json.dumps(stats)])
        return stats

    def rfm_run(self, customers_id: int) -> tuple | None:
        """``orders_id, computed_at, settings, stats`` of the dataset's last RFM (JSON as text), or None."""
        rows = self.store.query_rows("SELECT orders_id, computed_at, settings, stats FROM rfm_runs "
                                     "WHERE dataset_id = ?", [customers_id])
        return rows[0] if rows else None

    def rfm_rows(self, customers_id: int) -> pd.DataFrame:
        """Every row of ``rfm_<customers id>``, by customer id."""
        return self.store.query_df(f"SELECT * FROM {rfm_table_name(customers_id)} ORDER BY customer_id")

    def rfm_grid(self, customers_id: int) -> pd.DataFrame:
        """Customers and total value per (R, F) cell."""
        return self.store.query_df(f"SELECT r, f, count(*) AS customers, sum(monetary) AS value "
                                   f"FROM {rfm_table_name(customers_id)} GROUP BY ALL ORDER BY r, f")

    def rows(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """The rows of a query built by :mod:`segmentation.behaviour.rfm` (the orders of unknown customers);
        named parameters the query does not use are left out."""
        if isinstance(params, dict):
            params = {k: v for k, v in params.items() if f"${k}" in sql} or None
        return self.store.query_df(sql, params)

    # -- propensity scores -------------------------------------------------
    def write_scores(self, dataset_id: int, name: str, column: str, scores: pd.DataFrame, settings_json: str,
                     report_json: str, model: bytes) -> None:
        """Keep a model and every customer's score (``column``) and rank (``column top %``), in one transaction.

        ``scores`` has ``customer_id``, ``score`` and ``top``.
        """
        table = scores_table_name(dataset_id)
        with self.store.transaction(dataset_id, records=False, attributes=True) as tx:
            tx.execute(f"CREATE TABLE IF NOT EXISTS {table} (customer_id VARCHAR PRIMARY KEY)")
            tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quote(column)} DOUBLE")
            tx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quote(column + ' top %')} DOUBLE")
            tx.register("_scores", scores)
            try:
                tx.execute(f"INSERT INTO {table} (customer_id) SELECT customer_id FROM _scores ON CONFLICT DO NOTHING")
                tx.execute(f"UPDATE {table} SET {quote(column)} = s.score, {quote(column + ' top %')} = s.top "
                           f"FROM _scores s WHERE {table}.customer_id = s.customer_id")
            finally:
                tx.unregister("_scores")
            tx.execute("INSERT OR REPLACE INTO score_models VALUES (?, ?, ?, ?, ?, ?)",
                       [dataset_id, name, datetime.now(), settings_json, report_json, model])

    def models(self, dataset_id: int) -> list[tuple]:
        """``name, trained_at, settings, report`` of the dataset's models, newest first (JSON as text)."""
        return self.store.query_rows("SELECT name, trained_at, settings, report FROM score_models "
                                     "WHERE dataset_id = ? ORDER BY trained_at DESC", [dataset_id])

    def model_blob(self, dataset_id: int, name: str) -> bytes | None:
        """The saved model of that name (see :mod:`segmentation.core.models`; older ones: a pickle, never loaded)."""
        return self.store.query_value("SELECT model FROM score_models WHERE dataset_id = ? AND name = ?",
                                      [dataset_id, name])


__all__ = ["BehaviourRepository", "rfm_table_name", "scores_table_name"]

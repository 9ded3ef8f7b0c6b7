"""The customers stage's repository: the only module of the stage that runs SQL.

It owns the golden-records table ``golden_<dataset id>`` (a derived table,
rebuilt when the dataset's records, merges, rules or rows change) and
runs every "who is a customer" read: the customers of a dataset (golden
records once merges exist, else its normalised records), their computed
attributes (RFM, propensity scores) and the raw rows. The SQL text comes from
:mod:`segmentation.customers.identity` and :mod:`segmentation.customers.golden`;
the merge groups and survivorship rules are asked of the dedupe stage's
repository, which owns them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pandas as pd

from ..core import schema
from ..core.errors import MissingColumnsError
from ..core.store import Dataset, Store, quote
from ..dedupe import repository as dedupe_repository
from ..i18n import Message, message
from ..ingest.repository import DatasetsRepository
from .golden import Survivorship, golden_rows_sql
from .identity import customer_order_sql, customers_sql


def resolve(store: Store, dataset: str | Dataset | None) -> Dataset:
    """A dataset's description: ``dataset`` itself when it is one, else looked up by name (newest if None)."""
    return dataset if isinstance(dataset, Dataset) else DatasetsRepository(store).dataset(dataset or None)


def golden_table_name(ds: Dataset) -> str:
    """The golden-records table of a dataset (owned by this repository)."""
    return schema.dataset_table("golden", ds.id)


# -- golden records ----------------------------------------------------------------
def has_merges(store: Store, ds: Dataset) -> bool:
    """Whether any merge group of the dataset is active (then customers are golden records)."""
    return dedupe_repository.has_merges(store, ds)


def survivorship(store: Store, ds: Dataset) -> Survivorship:
    """The survivorship rules saved for the dataset."""
    return dedupe_repository.survivorship(store, ds)


def _golden_key(db, store: Store, ds: Dataset, rules: Survivorship) -> str:
    # The version of the dataset's records moves with every import, re-normalisation, forget, merge, undo
    # and saved rule (each names the dataset), not with writes of derived data only (audiences, runs, names,
    # RFM, scores: ``records=False``), so a saved audience does not rebuild a million golden records. The
    # merges, rules, columns, roles, options and row count are kept beside it so that a write which forgot to
    # name the dataset still rebuilds the table.
    return json.dumps([store.records_version(ds.id), dedupe_repository.merge_fingerprint(db, ds), rules.rules,
                       ds.columns, ds.roles, ds.options, ds.row_count], default=str, sort_keys=True)


Progress = Callable[[float, Message], None]
BUILDING = message("Building the golden records (one per customer after the merges)")
BUILT = message("Golden records ready")
_POLL_SECONDS = 0.15  # how often a build's progress is read (DuckDB's progress of the running statement)


def _golden_meta(ds: Dataset) -> tuple[str, str]:
    return golden_table_name(ds), f"golden_version_{int(ds.id)}"


def golden_current(store: Store, ds: Dataset) -> bool:
    """Whether the golden table is built for the dataset's records, merges and rules as they are now (cheap)."""
    table, meta_key = _golden_meta(ds)
    key = _golden_key(store, store, ds, survivorship(store, ds))
    return store.table_exists(table) and store.query_value(f"SELECT value FROM {schema.META} WHERE key = ?",
                                                           [meta_key]) == key


def golden_table(store: Store, ds: Dataset, progress: Progress | None = None) -> str:
    """A table of the dataset's golden records, rebuilt only when its inputs changed; returns its name.

    Audiences count on every change of a condition: aggregating a million records into golden records each
    time would take seconds, reading this table takes a fraction of one. The table is keyed on the version of
    the dataset's records (:meth:`Store.records_version`: writes of derived data such as audiences, runs or
    scores leave it) and, to be safe, on its merges, rules, columns, roles, options and rows; the check is made
    again under the write lock before a rebuild, so two sessions never rebuild it on top of each other. A
    rebuild is derived data and does not move the write version. ``progress(fraction, message)`` is told how
    far a rebuild has gone (nothing is said when the table is current).
    """
    table, meta_key = _golden_meta(ds)
    meta = schema.META
    if golden_current(store, ds):
        return table
    with store.transaction(versioned=False) as tx:
        rules = dedupe_repository.survivorship(tx, ds)
        key = _golden_key(tx, store, ds, rules)
        built = tx.fetchone("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])[0]
        if built and (tx.fetchone(f"SELECT value FROM {meta} WHERE key = ?", [meta_key]) or [None])[0] == key:
            return table
        statement = f"CREATE OR REPLACE TABLE {table} AS {golden_rows_sql(ds, rules)}"
        left = None
        if progress is None:
            tx.execute(statement)
        else:
            left = _execute_reporting(tx, statement, progress)
        tx.execute(f"INSERT OR REPLACE INTO {meta} VALUES (?, ?)", [meta_key, key])
    if left is not None:  # the page was left during the build: the records are kept, the page stops as asked
        raise left
    if progress is not None:
        progress(1.0, BUILT)
    return table


def _execute_reporting(tx, statement: str, progress: Progress) -> BaseException | None:
    """Run ``statement`` in ``tx`` on a worker thread while this thread tells ``progress`` how far it has gone.

    DuckDB measures the progress of the statement running on a connection (``query_progress()``, a percentage,
    -1 before it is known) and answers it from another thread while the statement runs; the callback is called
    from the calling thread only (a Streamlit page's progress bar must be). If the callback raises (the page
    was left, or rerun by a click), it is told nothing more and the statement runs to its end, so that its work
    is not lost: the callback's exception is returned, for the caller to raise once the transaction is
    committed. Any other interruption (Ctrl-C) interrupts the statement and is raised at once.
    """
    tx.execute("SET enable_progress_bar_print = false")
    tx.execute("SET enable_progress_bar = true")
    failed: list[BaseException] = []

    def run() -> None:
        try:
            tx.execute(statement)
        except BaseException as exc:  # handed to the calling thread, which raises it
            failed.append(exc)

    progress(0.0, BUILDING)
    worker = threading.Thread(target=run, name="golden records", daemon=True)
    worker.start()
    left: BaseException | None = None
    try:
        while worker.is_alive():
            worker.join(_POLL_SECONDS)
            done = tx.query_progress() if worker.is_alive() and left is None else -1
            if done >= 0:
                try:
                    progress(0.99 * min(done, 100.0) / 100.0, BUILDING)
                except BaseException as exc:  # the page is going away: finish the build without it
                    left = exc
    except BaseException:
        tx.interrupt()
        worker.join()
        raise
    if failed:
        raise failed[0]
    return left


def golden_rows(store: Store, ds: Dataset, rules: Survivorship | None = None,
                limit: int | None = None) -> pd.DataFrame:
    """One golden record per customer after merges (with ``rules``, default the saved ones)."""
    statement = golden_rows_sql(ds, rules if rules is not None else survivorship(store, ds))
    return store.query_df(statement + (f" LIMIT {int(limit)}" if limit is not None else ""))


def customers_relation(store: Store, ds: Dataset) -> str:
    """SQL text of the dataset's customers (``customer_id``, every column; golden records once merged)."""
    return customers_sql(ds, golden_table(store, ds) if has_merges(store, ds) else None)


# -- computed attributes ------------------------------------------------------------
def computed(store: Store, ds: Dataset) -> dict[str, tuple[str, str, str]]:
    """Attribute name -> (table, column, kind ``"number"`` or ``"category"``), for those computed so far."""
    found: dict[str, tuple[str, str, str]] = {}
    rfm = schema.dataset_table("rfm", ds.id)
    if store.table_exists(rfm):
        found.update({name: (rfm, col, "number" if col in schema.RFM_NUMERIC else "category")
                      for col, name in schema.RFM_COLUMNS.items()})
    scores = schema.dataset_table("scores", ds.id)
    if store.table_exists(scores):
        for (col,) in store.query_rows("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                       "AND column_name <> 'customer_id' ORDER BY ordinal_position", [scores]):
            found[col] = (scores, col, "number")
    return found


def kinds(store: Store, ds: Dataset) -> dict[str, str]:
    """Attribute name -> kind."""
    return {name: kind for name, (_t, _c, kind) in computed(store, ds).items()}


def attributes_join_sql(attrs: dict[str, tuple[str, str, str]], names: list[str], base: str) -> str:
    """``base`` (a query with ``customer_id``) with the attributes ``names`` joined on (NULL when absent)."""
    tables = sorted({attrs[n][0] for n in names if n in attrs})
    if not tables:
        return base
    picked = ", ".join(f"t{tables.index(attrs[n][0])}.{quote(attrs[n][1])} AS {quote(n)}" for n in names if n in attrs)
    joins = " ".join(f"LEFT JOIN {t} t{i} ON t{i}.customer_id = b.customer_id" for i, t in enumerate(tables))
    return f"SELECT b.*, {picked} FROM ({base}) b {joins}"


def join_sql(store: Store, ds: Dataset, names: list[str], base: str) -> str:
    """``base`` with the computed attributes ``names`` of the dataset joined on."""
    return attributes_join_sql(computed(store, ds), names, base)


# -- customers as frames -------------------------------------------------------------
def customer_rows(store: Store, ds: Dataset, limit: int | None = None, keep_id: bool = False) -> pd.DataFrame:
    """Customers under their original column headers, in file order.

    Normalised rows; once merges exist, golden records instead, with a
    ``source_ids`` column listing the record ids each one came from.
    ``keep_id`` keeps the ``customer_id`` column first.
    """
    if has_merges(store, ds):
        rows = golden_rows(store, ds, limit=limit).drop(columns=["source_rows"])
        return rows if keep_id else rows.drop(columns=["customer_id"])
    if not keep_id:
        return store.read_table(ds.clean_table, ds.columns, limit=limit)
    statement = f"{customers_sql(ds, columns=list(ds.columns))} ORDER BY _row"
    return store.query_df(statement + (f" LIMIT {int(limit)}" if limit is not None else ""))


def customer_table(store: Store, ds: Dataset, columns: list[str] | None = None) -> pd.DataFrame:
    """``customer_id`` and ``columns`` of every customer (golden records once merges exist), in file order.

    ``columns`` may name computed attributes (RFM, scores) beside the dataset's columns.
    """
    columns = list(ds.columns if columns is None else columns)
    attrs = computed(store, ds)
    extra = [c for c in columns if c in attrs]
    missing = [c for c in columns if c not in ds.columns and c not in extra]
    if missing:
        raise MissingColumnsError(missing, ds.columns)
    own = [c for c in columns if c not in extra]
    statement = customers_sql(ds, golden_table(store, ds) if has_merges(store, ds) else None, own)
    if extra:
        statement = attributes_join_sql(attrs, extra, statement)
    # File order: a customer's id is the row number of its first record.
    frame = store.query_df(f"SELECT * FROM ({statement}) ORDER BY {customer_order_sql()}")
    return frame[["customer_id", *columns]]


def count(store: Store, ds: Dataset) -> int:
    """How many customers the dataset has (golden records once merged)."""
    return dedupe_repository.record_count(store, ds)


def raw_rows(store: Store, ds: Dataset, limit: int | None = None) -> pd.DataFrame:
    """Raw rows exactly as read, with the ``_row`` number first."""
    return store.read_table(ds.raw_table, ["_row", *ds.columns], limit=limit)

"""The dedupe stage's repository: the only module of the stage that runs SQL.

It owns the tables ``match_runs``, ``match_pairs``, ``decisions``,
``merge_groups``, ``merge_members`` and ``survivorship``. The statements are
built by :mod:`segmentation.dedupe.sql` (text only) and run here; the
workflow (matching, the chain guard, which groups to write) is
:mod:`segmentation.dedupe.review`.

Reads take the :class:`~segmentation.core.store.Store`, or the
:class:`~segmentation.core.store.Transaction` of :func:`writing` when a
read decides a write: a read-modify-write (merge, unmerge, decide, saving
rules) reads and writes through one transaction, under the store's write
lock, so two sessions doing the same thing at once end as one session doing
it once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pandas as pd

from ..core.store import Dataset, Store, Transaction, quote
from ..customers.golden import Survivorship, golden_sql
from ..customers.identity import customer_id
from ..ingest.repository import DatasetsRepository
from ..ingest.statements import raw_text_sql
from . import sql
from .comparisons import raw_column

Reader = Store | Transaction


def _df(db: Reader, statement: str, params: list | None = None) -> pd.DataFrame:
    return db.df(statement, params) if isinstance(db, Transaction) else db.query_df(statement, params)


def _value(db: Reader, statement: str, params: list | None = None):
    row = db.fetchone(statement, params) if isinstance(db, Transaction) else next(
        iter(db.query_rows(statement, params)), None)
    return row[0] if row else None


def _rows(db: Reader, statement: str, params: list | None = None) -> list[tuple]:
    return db.execute(statement, params) if isinstance(db, Transaction) else db.query_rows(statement, params)


@contextmanager
def writing(store: Store, ds: Dataset, records: bool = True) -> Iterator[Transaction]:
    """One write transaction on the dataset (its write version moves on commit), under the write lock.

    ``records=False``: it writes neither merges nor rules (a matching run's pairs, decisions alone), so the
    golden records are not rebuilt after it. Nothing here writes the imported rows (``rows=False``): the
    read and quality reports stay valid after a merge.
    """
    with store.transaction(ds.id, records=records, rows=False) as tx:
        yield tx


# -- matching runs and candidate pairs -------------------------------------------
def records(store: Store, ds: Dataset, columns: list[str]) -> pd.DataFrame:
    """The normalised records' ``columns``, indexed by row number (what the matcher compares).

    E-mail and phone columns come with their text as written too (:func:`.comparisons.raw_column`): an
    address without a domain or a short local number does not normalise, yet two records that wrote it
    alike are evidence all the same.
    """
    frame = store.read_table(ds.clean_table, ["_row", *columns]).set_index("_row")
    raw = {c: raw_column(c) for c in columns if ds.roles.get(c) in ("email", "phone")}
    if not raw:
        return frame
    source = DatasetsRepository(store).raw_source(ds)  # each record's current version
    text = store.query_df(raw_text_sql(source, raw, ds.options.get("missing"))).set_index("_row")
    return frame.join(text, how="left")


def save_run(store: Store, ds: Dataset, pairs: pd.DataFrame, settings: dict, stats: dict) -> None:
    """Replace the dataset's candidate pairs and keep the run's settings and figures, in one transaction."""
    with writing(store, ds, records=False) as tx:  # pairs only: no merge, no rule
        tx.execute("DELETE FROM match_pairs WHERE dataset_id = ?", [ds.id])
        tx.register("_pairs", pairs)
        tx.execute("INSERT INTO match_pairs SELECT dataset_id, left_row, right_row, score, status, "
                   "CAST(levels AS JSON), in_chain FROM _pairs")
        tx.unregister("_pairs")
        tx.execute("INSERT OR REPLACE INTO match_runs VALUES (?, ?, ?, ?)",
                   [ds.id, datetime.now(), json.dumps(settings, default=str), json.dumps(stats)])


def run_stats(store: Store, ds: Dataset) -> dict | None:
    """The figures of the dataset's last matching run, if any."""
    stats = _value(store, "SELECT stats FROM match_runs WHERE dataset_id = ?", [ds.id])
    return json.loads(stats) if stats else None


def run_settings(store: Store, ds: Dataset) -> dict | None:
    """The settings of the dataset's last matching run, if any."""
    settings = _value(store, "SELECT settings FROM match_runs WHERE dataset_id = ?", [ds.id])
    return json.loads(settings) if settings else None


def run_time(store: Store, ds: Dataset) -> str | None:
    """When the dataset's last matching run happened (text), if any."""
    return _value(store, "SELECT CAST(run_at AS VARCHAR) FROM match_runs WHERE dataset_id = ?", [ds.id])


def pairs_table(store: Store, ds: Dataset, status: str | None = None, undecided_only: bool = False,
                min_score: float = 0.0) -> pd.DataFrame:
    """Candidate pairs with their latest decision and record ids, best first (see :func:`sql.pairs_table_sql`)."""
    return _df(store, *sql.pairs_table_sql(ds, status, undecided_only, min_score))


def waiting_for_review(store: Store, ds: Dataset, status: str | None = "review") -> int:
    """How many pairs wait for a person (of ``status``; None: any status)."""
    return int(_value(store, *sql.waiting_sql(ds, status)))


def queue_pair(store: Store, ds: Dataset, status: str | None, position: int) -> pd.DataFrame:
    """The pair at ``position`` of the review queue of ``status`` (no row past its end)."""
    return _df(store, *sql.queue_pair_sql(ds, status, position))


def pair(store: Store, ds: Dataset, left_row: int, right_row: int) -> pd.DataFrame:
    """One candidate pair by its row numbers (no row if the run did not keep it)."""
    return _df(store, *sql.pair_sql(ds, left_row, right_row))


def rows_of_ids(store: Store, ds: Dataset, ids: list[str]) -> dict[str, int]:
    """Record id (as text) -> row number, for ``ids`` only (row numbers stand for ids without an id column)."""
    if not ids:
        return {}
    return {str(k): int(v) for k, v in _rows(store, sql.rows_of_ids_sql(ds, len(ids)), [str(i) for i in ids])}


def score_sample(store: Store, ds: Dataset, limit: int) -> pd.DataFrame:
    """``score``, ``status`` of the candidate pairs (a repeatable sample of ``limit`` when there are more)."""
    return _df(store, sql.score_sample_sql(ds.id, limit))


# -- decisions ---------------------------------------------------------------------
def insert_decisions(tx: Transaction, ds: Dataset, pairs: pd.DataFrame, decision: str, source: str,
                     when: datetime) -> int:
    """Record ``decision`` on ``pairs`` (``left_row`` < ``right_row``) whose standing decision differs.

    A pair already standing at ``decision`` is not logged again, so two people
    pressing the same button at once leave the log as one of them would.
    Returns how many decisions were written.
    """
    tx.register("_decided", pairs)
    try:
        written = tx.fetchone(
            f"WITH d AS ({sql.latest_decisions_sql(ds.id)}), "
            "todo AS (SELECT DISTINCT x.left_row, x.right_row FROM _decided x LEFT JOIN d USING (left_row, right_row) "
            "WHERE d.decision IS DISTINCT FROM ?) "
            "SELECT count(*) FROM todo", [decision])[0]
        tx.execute(f"INSERT INTO decisions SELECT ?, x.left_row, x.right_row, ?, p.score, ?, ? FROM "
                   f"(SELECT DISTINCT left_row, right_row FROM _decided) x "
                   f"LEFT JOIN ({sql.latest_decisions_sql(ds.id)}) d USING (left_row, right_row) "
                   "LEFT JOIN match_pairs p ON p.dataset_id = ? AND p.left_row = x.left_row "
                   "AND p.right_row = x.right_row WHERE d.decision IS DISTINCT FROM ?",
                   [ds.id, decision, when, source, ds.id, decision])
    finally:
        tx.unregister("_decided")
    return int(written)


# -- merges ------------------------------------------------------------------------
def record_count(db: Reader, ds: Dataset) -> int:
    """Customers after merges: the dataset's records less those merged into another."""
    return ds.row_count - int(_value(db, sql.merged_away_sql(ds.id)) or 0)


def has_merges(db: Reader, ds: Dataset) -> bool:
    """Whether the dataset has any active merge group."""
    return bool(_value(db, sql.has_merges_sql(), [ds.id]))


def merge_fingerprint(db: Reader, ds: Dataset) -> list:
    """A cheap summary of the dataset's merge groups that changes whenever a merge or an undo happens."""
    return [list(r) for r in _rows(
        db, "SELECT count(*), coalesce(max(id), 0), CAST(max(coalesce(undone_at, created_at)) AS VARCHAR), "
        "count(undone_at) FROM merge_groups WHERE dataset_id = ?", [ds.id])]


def active_members(db: Reader, ds: Dataset) -> pd.DataFrame:
    """``row``, ``group_id`` of every record in an active merge group."""
    return _df(db, sql.active_members_sql(ds.id))


def merge_edges(tx: Transaction, ds: Dataset, above: float | None) -> pd.DataFrame:
    """``left_row``, ``right_row``, ``priority``: the links a merge considers (see :func:`sql.merge_edges_sql`)."""
    return _df(tx, *sql.merge_edges_sql(ds.id, above))


def rejected_pairs(db: Reader, ds: Dataset) -> pd.DataFrame:
    """``a``, ``b``: the pairs a person told apart (standing decision ``no_match``)."""
    return _df(db, sql.rejected_sql(ds.id))


def new_group_ids(tx: Transaction, count: int) -> list[int]:
    """``count`` fresh merge group ids, in order."""
    return sorted(r[0] for r in tx.execute(f"SELECT nextval('merge_group_ids') FROM range({int(count)})"))


def write_groups(tx: Transaction, ds: Dataset, new_groups: list[int], absorbed: pd.DataFrame,
                 joiners: pd.DataFrame, source: str, when: datetime) -> None:
    """Create ``new_groups``, fold each ``absorbed.group`` into ``absorbed.keep`` (closing it), add ``joiners``
    (``keep``, ``row``) as members: a statement per table, not per group."""
    tx.register("_new_groups", pd.DataFrame({"id": pd.Series(new_groups, dtype="int64"), "dataset_id": ds.id}))
    tx.execute("INSERT INTO merge_groups SELECT id, dataset_id, ?, NULL, ? FROM _new_groups", [when, source])
    tx.unregister("_new_groups")
    if len(absorbed):  # two groups joined: the oldest id survives
        tx.register("_absorbed", absorbed)
        tx.execute("UPDATE merge_members SET group_id = a.keep FROM _absorbed a "
                   "WHERE merge_members.group_id = a.\"group\"")
        tx.execute("UPDATE merge_groups SET undone_at = ? WHERE id IN (SELECT \"group\" FROM _absorbed)", [when])
        tx.unregister("_absorbed")
    tx.register("_joiners", joiners)
    tx.execute("INSERT INTO merge_members SELECT keep, row FROM _joiners")
    tx.unregister("_joiners")


def is_active_group(tx: Transaction, ds: Dataset, group: int) -> bool:
    """Whether ``group`` is an active merge group of the dataset."""
    return tx.fetchone("SELECT id FROM merge_groups WHERE id = ? AND dataset_id = ? AND undone_at IS NULL",
                       [group, ds.id]) is not None


def close_group(tx: Transaction, ds: Dataset, group: int, when: datetime) -> None:
    """Split one group: it is marked undone and its pairs go back to review (decision ``undone``)."""
    tx.execute("UPDATE merge_groups SET undone_at = ? WHERE id = ? AND dataset_id = ?", [when, group, ds.id])
    # Its pairs are not merged again automatically: they go back to review.
    tx.execute("INSERT INTO decisions SELECT ?, a.row, b.row, 'undone', NULL, ?, 'undo' "
               "FROM merge_members a JOIN merge_members b ON a.group_id = b.group_id AND a.row < b.row "
               "WHERE a.group_id = ?", [ds.id, when, group])


def close_all_groups(tx: Transaction, ds: Dataset, when: datetime) -> None:
    """Undo every merge of the dataset."""
    tx.execute("UPDATE merge_groups SET undone_at = ? WHERE dataset_id = ? AND undone_at IS NULL", [when, ds.id])


def merge_groups(store: Store, ds: Dataset, limit: int | None = None) -> pd.DataFrame:
    """Active merge groups (the newest ``limit``): ``group_id``, ``created_at``, ``source``, ``records``,
    ``record_ids``."""
    return _df(store, *sql.merge_groups_sql(ds, limit))


def group_count(store: Store, ds: Dataset) -> int:
    """How many active merge groups the dataset has."""
    return int(_value(store, sql.group_count_sql(), [ds.id]) or 0)


def audit_log(store: Store, ds: Dataset, limit: int | None = None) -> pd.DataFrame:
    """Every decision and merge change (the newest ``limit``), newest first."""
    return _df(store, *sql.audit_log_sql(ds.id, limit))


# -- survivorship rules ----------------------------------------------------------
def survivorship(db: Reader, ds: Dataset) -> Survivorship:
    """The survivorship rules saved for the dataset (defaults for the other columns)."""
    return Survivorship(dict(_rows(db, 'SELECT "column", rule FROM survivorship WHERE dataset_id = ?', [ds.id])))


def replace_survivorship(tx: Transaction, ds: Dataset, rules: dict[str, str]) -> None:
    """Replace the dataset's saved rules by ``rules`` (inside the caller's transaction)."""
    tx.execute("DELETE FROM survivorship WHERE dataset_id = ?", [ds.id])
    if rules:
        tx.execute('INSERT INTO survivorship SELECT ?, unnest(?::VARCHAR[]), unnest(?::VARCHAR[])',
                   [ds.id, list(rules), list(rules.values())])


# -- records of a pair ----------------------------------------------------------------
def id_lookup(store: Store, ds: Dataset, id_column: str) -> dict[str, int]:
    """Record id (as text) -> row number."""
    rows = _rows(store, f"SELECT CAST({quote(id_column)} AS VARCHAR) AS id, _row FROM {ds.clean_table}")
    return dict(rows)


def two_records(store: Store, ds: Dataset, left_row: int, right_row: int) -> pd.DataFrame:
    """The normalised records ``left_row`` then ``right_row`` (fewer rows if one is missing)."""
    # One point lookup per record (a union): read through the row-number zone maps, not a scan of every row.
    return _df(store, f"SELECT * FROM {ds.clean_table} WHERE _row = ? UNION ALL "
               f"SELECT * FROM {ds.clean_table} WHERE _row = ? AND _row <> ?", [left_row, right_row, left_row])


def count_shared(store: Store, ds: Dataset, wanted: dict[str, dict[str, object]]) -> dict[str, int]:
    """Per name of ``wanted`` (``{column: value}``), how many records of the dataset hold those values."""
    if not wanted:
        return {}
    row = next(iter(store.query_rows(*sql.shared_counts_sql(ds, wanted))), None) or [0] * len(wanted)
    return {name: int(n) for name, n in zip(wanted, row, strict=True)}


def preview_golden(store: Store, ds: Dataset, rows: list[int], survivorship: Survivorship) -> pd.DataFrame:
    """The golden record that merging ``rows`` would give (nothing is written)."""
    members = "SELECT unnest(?::BIGINT[]) AS row, -1 AS group_id"
    # Only these records are read: a preview on a million records takes the time of two.
    rows = sorted(set(map(int, rows)))
    records = "(" + " UNION ALL ".join(f"SELECT * FROM {ds.clean_table} WHERE _row = ?" for _ in rows) + ")"
    statement = golden_sql(ds, members, survivorship, records=records)
    return _df(store, f"SELECT * FROM ({statement}) WHERE customer_id = ?", [rows, *rows, customer_id(min(rows))])

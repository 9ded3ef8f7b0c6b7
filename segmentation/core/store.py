"""The DuckDB working store: the one module that talks to DuckDB.

One database file holds everything a user has done: uploads, imported
datasets (raw rows exactly as read, normalised rows, rejected rows) and,
later, merges, segment runs and audiences. Other modules build SQL strings
or work on frames and hand them to a :class:`Store`.

Concurrency: one connection per process (DuckDB lets a single process open a
file for writing); each call takes its own cursor, and writes are serialised
by a lock so that several browser tabs can use one store.

Steps of an unattended refresh run inside :meth:`Store.atomic`: every
transaction and read of the engine joins one transaction, so a step that
fails leaves the store exactly as it was before the step.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from .errors import NotFoundError, StoreError

DEFAULT_DB = "workspace.duckdb"
ENV_DB = "SEGMENT_STUDIO_DB"


def quote(name: str) -> str:
    """Quote a user-provided identifier for DuckDB SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def resolve_path(db: str | os.PathLike | None = None) -> Path:
    """Store path: ``db`` if given, else ``$SEGMENT_STUDIO_DB``, else ``workspace.duckdb``."""
    return Path(db or os.environ.get(ENV_DB) or DEFAULT_DB)


# Each entry moves the schema one version up; never edit a released entry.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE SEQUENCE dataset_ids START 1",
        """CREATE TABLE uploads (
            id INTEGER PRIMARY KEY, sha256 VARCHAR UNIQUE NOT NULL, file_name VARCHAR NOT NULL,
            size BIGINT NOT NULL, uploaded_at TIMESTAMP NOT NULL, data BLOB NOT NULL)""",
        """CREATE TABLE datasets (
            id INTEGER PRIMARY KEY, name VARCHAR UNIQUE NOT NULL, source_file VARCHAR,
            kind VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, row_count BIGINT NOT NULL,
            rejected_rows BIGINT NOT NULL DEFAULT 0, file_format VARCHAR, encoding VARCHAR,
            delimiter VARCHAR, sheet VARCHAR, columns JSON NOT NULL, roles JSON NOT NULL,
            options JSON NOT NULL, warnings JSON, upload_id INTEGER)""",
        # Room for later steps: each later step adds its tables in a migration of its own.
    ],
    [  # 2: deduplication — candidate pairs, decisions (an audit log), reversible merge groups.
        """CREATE TABLE match_runs (dataset_id INTEGER PRIMARY KEY, run_at TIMESTAMP NOT NULL,
            settings JSON NOT NULL, stats JSON NOT NULL)""",
        """CREATE TABLE match_pairs (dataset_id INTEGER NOT NULL, left_row BIGINT NOT NULL,
            right_row BIGINT NOT NULL, score DOUBLE NOT NULL, status VARCHAR NOT NULL, levels JSON,
            PRIMARY KEY (dataset_id, left_row, right_row))""",
        """CREATE TABLE decisions (dataset_id INTEGER NOT NULL, left_row BIGINT NOT NULL,
            right_row BIGINT NOT NULL, decision VARCHAR NOT NULL, score DOUBLE, decided_at TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL)""",
        "CREATE SEQUENCE merge_group_ids START 1",
        """CREATE TABLE merge_groups (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL, undone_at TIMESTAMP, source VARCHAR NOT NULL)""",
        "CREATE TABLE merge_members (group_id INTEGER NOT NULL, row BIGINT NOT NULL)",
        """CREATE TABLE survivorship (dataset_id INTEGER NOT NULL, "column" VARCHAR NOT NULL,
            rule VARCHAR NOT NULL, PRIMARY KEY (dataset_id, "column"))""",
    ],
    [  # 3: later exports of the same CRM added to a dataset (incremental matching).
        """CREATE TABLE import_batches (dataset_id INTEGER NOT NULL, batch INTEGER NOT NULL,
            file_name VARCHAR, imported_at TIMESTAMP NOT NULL, rows_read BIGINT NOT NULL,
            rows_added BIGINT NOT NULL, rows_updated BIGINT NOT NULL, upload_id INTEGER,
            PRIMARY KEY (dataset_id, batch))""",
    ],
    [  # 4: segment runs: settings, scores, the fitted pipeline (pickled), each customer's segment.
        "CREATE SEQUENCE segment_run_ids START 1",
        """CREATE TABLE segment_runs (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, name VARCHAR UNIQUE NOT NULL,
            created_at TIMESTAMP NOT NULL, k INTEGER NOT NULL, settings JSON NOT NULL, scores JSON NOT NULL,
            steps JSON NOT NULL, model BLOB NOT NULL, is_current BOOLEAN NOT NULL, customers BIGINT NOT NULL,
            assigned_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE segment_members (run_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL,
            segment INTEGER NOT NULL)""",
        """CREATE TABLE segment_names (run_id INTEGER NOT NULL, segment INTEGER NOT NULL, name VARCHAR NOT NULL,
            PRIMARY KEY (run_id, segment))""",
        """CREATE TABLE segment_scans (dataset_id INTEGER PRIMARY KEY, scanned_at TIMESTAMP NOT NULL,
            settings JSON NOT NULL, k_min INTEGER NOT NULL, k_max INTEGER NOT NULL, scores JSON NOT NULL,
            knee INTEGER, recommended_k INTEGER NOT NULL, reason VARCHAR NOT NULL, steps JSON NOT NULL)""",
    ],
    [  # 5: pairs within a chain (A~B~C, A and C clearly different) are never merged without a person.
        "ALTER TABLE match_pairs ADD COLUMN in_chain BOOLEAN DEFAULT false",
    ],
    [  # 6: audiences: saved definitions, suppression lists, the log of every export.
        "CREATE TABLE audiences (name VARCHAR PRIMARY KEY, saved_at TIMESTAMP NOT NULL, spec JSON NOT NULL)",
        """CREATE TABLE suppression_lists (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL,
            uploaded_at TIMESTAMP NOT NULL, size BIGINT NOT NULL)""",
        "CREATE TABLE suppression_values (list_id INTEGER NOT NULL, value VARCHAR NOT NULL)",
        """CREATE TABLE export_log (exported_at TIMESTAMP NOT NULL, audience VARCHAR, rows BIGINT NOT NULL,
            columns JSON NOT NULL, file_name VARCHAR, include_no_consent BOOLEAN NOT NULL, spec JSON NOT NULL)""",
    ],
    [  # 7: RFM computed from an orders dataset (the per-customer table is rfm_<customers dataset id>).
        """CREATE TABLE rfm_runs (dataset_id INTEGER PRIMARY KEY, orders_id INTEGER NOT NULL,
            computed_at TIMESTAMP NOT NULL, settings JSON NOT NULL, stats JSON NOT NULL)""",
    ],
    [  # 8: propensity models (scores per customer are columns of scores_<customers dataset id>).
        """CREATE TABLE score_models (dataset_id INTEGER NOT NULL, name VARCHAR NOT NULL, trained_at TIMESTAMP NOT NULL,
            settings JSON NOT NULL, report JSON NOT NULL, model BLOB NOT NULL, PRIMARY KEY (dataset_id, name))""",
    ],
    [  # 9: unattended refreshes (a log of runs and their steps) and snapshots of segment membership.
        "CREATE SEQUENCE refresh_ids START 1",
        """CREATE TABLE refreshes (id INTEGER PRIMARY KEY, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
            config_file VARCHAR, status VARCHAR NOT NULL, failed_step VARCHAR, error VARCHAR, summary JSON)""",
        """CREATE TABLE refresh_steps (refresh_id INTEGER NOT NULL, position INTEGER NOT NULL, step VARCHAR NOT NULL,
            status VARCHAR NOT NULL, seconds DOUBLE, state VARCHAR, detail JSON, error VARCHAR,
            PRIMARY KEY (refresh_id, position))""",
        "CREATE SEQUENCE snapshot_ids START 1",
        """CREATE TABLE segment_snapshots (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, run_id INTEGER NOT NULL,
            run_name VARCHAR NOT NULL, taken_at TIMESTAMP NOT NULL, refresh_id INTEGER, customers BIGINT NOT NULL,
            names JSON NOT NULL)""",
        """CREATE TABLE snapshot_members (snapshot_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL,
            segment INTEGER NOT NULL)""",
    ],
]
MIGRATIONS.append([  # 10: the write version, overall ('*') and per dataset ('<id>'); caches key on it.
    "CREATE TABLE write_versions (scope VARCHAR PRIMARY KEY, version BIGINT NOT NULL)",
    "INSERT INTO write_versions VALUES ('*', 1)",
])
SCHEMA_VERSION = len(MIGRATIONS)
_READ_ONLY_SQL = ("SELECT", "WITH", "FROM", "DESCRIBE", "SHOW", "PRAGMA", "EXPLAIN")


@dataclass
class Dataset:
    """One imported file, as the store describes it."""

    id: int
    name: str
    source_file: str | None
    kind: str
    imported_at: datetime
    row_count: int
    rejected_rows: int
    file_format: str | None
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    columns: list[str]
    roles: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: Figures of the file just added to the dataset (not stored): rows_read, rows_added, rows_updated,
    #: rows_unchanged, batch (None when nothing was new).
    last_import: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def raw_table(self) -> str:
        """Table of raw rows exactly as read (all VARCHAR) plus ``_row``."""
        return f"raw_{self.id}"

    @property
    def clean_table(self) -> str:
        """Table of normalised rows (typed) plus ``_row``."""
        return f"clean_{self.id}"

    @property
    def rejects_table(self) -> str:
        """Table of rows that could not be read: ``line``, ``reason``, ``raw``."""
        return f"rejects_{self.id}"

    def columns_with_role(self, *roles: str) -> list[str]:
        """Columns whose role is one of ``roles``, in file order."""
        return [c for c in self.columns if self.roles.get(c) in roles]


_DATASET_COLUMNS = ("id, name, source_file, kind, imported_at, row_count, rejected_rows, file_format, "
                    "encoding, delimiter, sheet, columns, roles, options, warnings")


def _dataset_from_row(row: tuple) -> Dataset:
    values = list(row)
    for i in (11, 12, 13, 14):
        values[i] = json.loads(values[i]) if values[i] is not None else ([] if i == 14 else {})
    return Dataset(*values)


class _Writes:
    """What one ``BEGIN ... COMMIT`` wrote: whether anything, and which datasets it touched."""

    def __init__(self, versioned: bool = True):
        self.wrote = False
        self.versioned = versioned
        self.datasets: set[int] = set()


class Transaction:
    """A cursor inside ``BEGIN ... COMMIT``: everything or nothing.

    A statement that is not a read marks the transaction as a write: its
    commit bumps the store's write version (:meth:`Store.version`), and that
    of every dataset named with :meth:`touch`.
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, writes: _Writes | None = None):
        self._cur = cursor
        self._writes = writes if writes is not None else _Writes()

    def _run(self, sql: str, params: list | tuple | dict | None) -> duckdb.DuckDBPyConnection:
        if not self._writes.wrote and not sql.lstrip().lstrip("(").upper().startswith(_READ_ONLY_SQL):
            self._writes.wrote = True
        return self._cur.execute(sql, params) if params is not None else self._cur.execute(sql)

    def touch(self, *dataset_ids: int | None) -> None:
        """Say that this transaction changes these datasets (their write versions move on commit)."""
        self._writes.datasets.update(int(i) for i in dataset_ids if i is not None)
        self._writes.wrote = True

    def execute(self, sql: str, params: list | tuple | dict | None = None) -> list[tuple]:
        """Run one statement and return all its rows (DuckDB wants results fetched before more work)."""
        return self._run(sql, params).fetchall()

    def fetchone(self, sql: str, params: list | tuple | dict | None = None) -> tuple | None:
        """First row of a query, or None."""
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a query and return its result as a data frame."""
        return self._run(sql, params).df()

    def register(self, name: str, data: Any) -> None:
        """Make a data frame or Arrow table visible to SQL under ``name`` for this cursor."""
        self._cur.register(name, data)

    def unregister(self, name: str) -> None:
        """Forget a view made by :meth:`register`."""
        self._cur.unregister(name)

    def nextval(self, sequence: str) -> int:
        """Next value of a store sequence (unique even across concurrent transactions)."""
        return int(self.fetchone(f"SELECT nextval('{sequence}')")[0])

    def next_id(self, table: str) -> int:
        """Next integer id for ``table`` (a store table, not a user name)."""
        return int(self.fetchone(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")[0])


class Store:
    """The working store on one DuckDB file.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Database file; see :func:`resolve_path` for the default.
    read_only : bool
        Open without writing (for inspection; fails while the app holds the file).
    """

    def __init__(self, path: str | os.PathLike | None = None, read_only: bool = False):
        self.path = resolve_path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only, config={
                # Customer data must never make DuckDB reach the network.
                "autoinstall_known_extensions": False,
                "autoload_known_extensions": False,
            })
        except duckdb.IOException as exc:
            raise StoreError(
                f"Cannot open the working store '{self.path}': {exc}. Another Segment Studio "
                "(app or command) may be using it: close it, or pass another file with --db.") from exc
        except duckdb.Error as exc:
            raise StoreError(f"'{self.path}' is not a Segment Studio store: {exc}") from exc
        self._lock = threading.RLock()
        self._local = threading.local()  # the cursor of an atomic() block, per thread
        self._pending: dict[int, int] = {}  # dataset ids whose tables an import is writing -> how many holders
        if not read_only:
            self.migrate()
            self.drop_orphan_tables()

    # -- plumbing ---------------------------------------------------------
    def close(self) -> None:
        """Close the connection (the file stays)."""
        self._con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for the calling thread."""
        return self._con.cursor()

    @property
    def in_atomic(self) -> bool:
        """Whether the calling thread is inside :meth:`atomic`."""
        return getattr(self._local, "cursor", None) is not None

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The atomic block's cursor (reads must see its writes), else a cursor of its own."""
        shared = getattr(self._local, "cursor", None)
        if shared is not None:
            yield shared
            return
        cur = self.cursor()
        try:
            yield cur
        finally:
            cur.close()

    @contextmanager
    def _begun(self, writes: _Writes) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own inside ``BEGIN ... COMMIT`` (``ROLLBACK`` if the block raises), writes serialised.

        Just before the commit, the write version moves on if the block wrote anything.
        """
        with self._lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION").fetchall()
            try:
                yield cur
                if writes.wrote and writes.versioned:
                    scopes = ["*", *(str(i) for i in sorted(writes.datasets))]
                    cur.execute("INSERT INTO write_versions SELECT s, 1 FROM unnest(?::VARCHAR[]) t(s) "
                                "ON CONFLICT (scope) DO UPDATE SET version = write_versions.version + 1",
                                [scopes]).fetchall()
            except BaseException:
                cur.execute("ROLLBACK").fetchall()
                raise
            else:
                cur.execute("COMMIT").fetchall()
            finally:
                cur.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Make everything in the block one transaction: all of it is kept, or none.

        The engine's own :meth:`transaction` blocks and reads in the calling
        thread join it; other threads wait for their writes until it ends.
        """
        if self.in_atomic:
            raise StoreError("Atomic blocks cannot be nested.")
        writes = _Writes()
        with self._begun(writes) as cur:
            self._local.cursor = cur
            self._local.writes = writes
            try:
                yield
            finally:
                self._local.cursor = None
                self._local.writes = None

    @contextmanager
    def transaction(self, *datasets: int | None, versioned: bool = True) -> Iterator[Transaction]:
        """Serialised write transaction; rolled back entirely if the block raises.

        ``datasets`` are the ids of the datasets the block changes (see
        :meth:`Transaction.touch`). ``versioned=False`` is for logs that no
        cache depends on (the refresh log): they do not move the write version.
        Inside :meth:`atomic` it is part of the atomic block's transaction.
        """
        shared = getattr(self._local, "cursor", None)
        if shared is not None:
            tx = Transaction(shared, self._local.writes if versioned else _Writes(versioned=False))
            tx._writes.datasets.update(int(i) for i in datasets if i is not None)
            yield tx
            return
        writes = _Writes(versioned)
        writes.datasets.update(int(i) for i in datasets if i is not None)
        with self._begun(writes) as cur:
            yield Transaction(cur, writes)

    def version(self, dataset_id: int | None = None) -> int:
        """The write version: how many committed writes changed the store (or that dataset) so far.

        Every page cache, every "is this input unchanged" check and every
        rebuilt summary keys on it.
        """
        scope = "*" if dataset_id is None else str(int(dataset_id))
        return int(self.query_value("SELECT version FROM write_versions WHERE scope = ?", [scope]) or 0)

    @contextmanager
    def pending(self, *dataset_ids: int) -> Iterator[None]:
        """Keep :meth:`drop_orphan_tables` away from these datasets' tables while an import writes them."""
        with self._lock:
            for i in dataset_ids:
                self._pending[int(i)] = self._pending.get(int(i), 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for i in dataset_ids:
                    left = self._pending.pop(int(i)) - 1
                    if left:
                        self._pending[int(i)] = left

    def query_df(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        """Run a read query on a cursor of its own and return a data frame."""
        with self._reading() as cur:
            return (cur.execute(sql, params) if params is not None else cur.execute(sql)).df()

    def query_rows(self, sql: str, params: list | tuple | None = None) -> list[tuple]:
        """Run a read query and return its rows as tuples."""
        with self._reading() as cur:
            return (cur.execute(sql, params) if params is not None else cur.execute(sql)).fetchall()

    def query_value(self, sql: str, params: list | tuple | None = None) -> Any:
        """First column of the first row of a query, or None."""
        rows = self.query_rows(sql, params)
        return rows[0][0] if rows else None

    def schema_version(self) -> int:
        """Schema version of the open file (0 for a new file)."""
        exists = self.query_value(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
        if not exists:
            return 0
        value = self.query_value("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(value or 0)

    def migrate(self) -> None:
        """Bring the file's schema up to :data:`SCHEMA_VERSION`, one migration per transaction."""
        current = self.schema_version()
        if current > SCHEMA_VERSION:
            raise StoreError(f"The store '{self.path}' has schema version {current}, newer than this "
                             f"Segment Studio ({SCHEMA_VERSION}): update the app.")
        for version in range(current + 1, SCHEMA_VERSION + 1):
            with self.transaction(versioned=False) as tx:  # write_versions itself comes with a migration
                for statement in MIGRATIONS[version - 1]:
                    tx.execute(statement)
                tx.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])

    # -- uploads ----------------------------------------------------------
    def save_upload(self, file_name: str, data: bytes) -> int:
        """Keep an uploaded file's bytes once (by content hash); returns its id."""
        digest = hashlib.sha256(data).hexdigest()
        with self.transaction() as tx:
            found = tx.fetchone("SELECT id FROM uploads WHERE sha256 = ?", [digest])
            if found:
                return int(found[0])
            upload_id = tx.next_id("uploads")
            tx.execute("INSERT INTO uploads VALUES (?, ?, ?, ?, ?, ?)",
                       [upload_id, digest, file_name, len(data), datetime.now(), data])
            return upload_id

    def upload(self, upload_id: int) -> tuple[str, bytes]:
        """File name and bytes of a saved upload."""
        rows = self.query_rows("SELECT file_name, data FROM uploads WHERE id = ?", [upload_id])
        if not rows:
            raise NotFoundError(f"Upload {upload_id} is not in the store; upload the file again.")
        return rows[0][0], bytes(rows[0][1])

    # -- datasets ---------------------------------------------------------
    def datasets(self, kind: str | None = None) -> list[Dataset]:
        """Every dataset, newest first, optionally of one kind."""
        sql = f"SELECT {_DATASET_COLUMNS} FROM datasets"
        params: list = []
        if kind:
            sql += " WHERE kind = ?"
            params.append(kind)
        return [_dataset_from_row(r) for r in self.query_rows(sql + " ORDER BY imported_at DESC, id DESC", params)]

    def dataset_by_id(self, dataset_id: int) -> Dataset:
        """A dataset by its id (runs and RFM refer to datasets by id)."""
        rows = self.query_rows(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE id = ?", [dataset_id])
        if not rows:
            raise NotFoundError(f"Dataset {dataset_id} is no longer in the store.")
        return _dataset_from_row(rows[0])

    def dataset(self, name: str | None = None, kind: str = "customers") -> Dataset:
        """A dataset by name, or the most recent one of ``kind`` when ``name`` is None."""
        if name is None:
            found = self.datasets(kind)
            if not found:
                raise NotFoundError(f"No {kind} dataset in the store yet: import a file first.")
            return found[0]
        rows = self.query_rows(f"SELECT {_DATASET_COLUMNS} FROM datasets WHERE name = ?", [name])
        if not rows:
            names = [d.name for d in self.datasets()]
            raise NotFoundError(f"No dataset named {name!r}; the store has {names}.")
        return _dataset_from_row(rows[0])

    def unique_dataset_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted (2)``, ``(3)``... if a dataset has that name."""
        return self.unique_name("datasets", wanted)

    def unique_name(self, table: str, wanted: str) -> str:
        """``wanted``, or ``wanted (2)``, ``(3)``... if a row of ``table`` (a store table) has that name."""
        taken = {r[0].lower() for r in self.query_rows(f"SELECT name FROM {table}")}
        name, n = wanted, 1
        while name.lower() in taken:
            n += 1
            name = f"{wanted} ({n})"
        return name

    def insert_dataset(self, tx: Transaction, ds: Dataset, upload_id: int | None) -> None:
        """Record a dataset's description (inside the caller's transaction)."""
        tx.execute(
            f"INSERT INTO datasets ({_DATASET_COLUMNS}, upload_id) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ds.id, ds.name, ds.source_file, ds.kind, ds.imported_at, ds.row_count, ds.rejected_rows,
             ds.file_format, ds.encoding, ds.delimiter, ds.sheet, json.dumps(ds.columns),
             json.dumps(ds.roles), json.dumps(ds.options), json.dumps(ds.warnings), upload_id])

    def update_roles(self, tx: Transaction, dataset_id: int, roles: dict[str, str], options: dict) -> None:
        """Save changed column roles and options (inside the caller's transaction)."""
        tx.execute("UPDATE datasets SET roles = ?, options = ? WHERE id = ?",
                   [json.dumps(roles), json.dumps(options), dataset_id])

    def update_counts(self, tx: Transaction, ds: Dataset) -> None:
        """Save a dataset's row and rejected-row counts and warnings after rows were added."""
        tx.execute("UPDATE datasets SET row_count = ?, rejected_rows = ?, warnings = ? WHERE id = ?",
                   [ds.row_count, ds.rejected_rows, json.dumps(ds.warnings), ds.id])

    def import_batches(self, dataset_id: int) -> pd.DataFrame:
        """The files added to a dataset after its first import, in order."""
        return self.query_df("SELECT batch, file_name, imported_at, rows_read, rows_added, rows_updated "
                             "FROM import_batches WHERE dataset_id = ? ORDER BY batch", [dataset_id])

    def drop_orphan_tables(self) -> list[str]:
        """Drop dataset tables left without a dataset row (an import stopped half way)."""
        if self.in_atomic:  # the atomic block's rollback removes them, and its transaction may be aborted
            return []
        with self.transaction() as tx:  # chosen and dropped under the write lock, in one transaction
            known = {r[0] for r in tx.execute("SELECT id FROM datasets")} | set(self._pending)
            orphans = [name for (name,) in tx.execute(
                "SELECT table_name FROM information_schema.tables WHERE regexp_matches(table_name, "
                "'^(raw|clean|rejects|rfm|scores|golden)_[0-9]+$')") if int(name.rsplit("_", 1)[1]) not in known]
            for name in orphans:
                tx.execute(f"DROP TABLE IF EXISTS {name}")
        return orphans

    def delete_dataset(self, name: str) -> None:
        """Remove a dataset and its tables."""
        ds = self.dataset(name)
        with self.transaction() as tx:
            for table in (ds.raw_table, ds.clean_table, ds.rejects_table, f"rfm_{int(ds.id)}", f"scores_{int(ds.id)}",
                          f"golden_{int(ds.id)}"):
                tx.execute(f"DROP TABLE IF EXISTS {table}")
            tx.execute("DELETE FROM merge_members WHERE group_id IN (SELECT id FROM merge_groups "
                       "WHERE dataset_id = ?)", [ds.id])
            tx.execute("DELETE FROM snapshot_members WHERE snapshot_id IN (SELECT id FROM segment_snapshots "
                       "WHERE dataset_id = ?)", [ds.id])
            for table in ("segment_members", "segment_names"):
                tx.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT id FROM segment_runs "
                           "WHERE dataset_id = ?)", [ds.id])
            for table in ("merge_groups", "match_runs", "match_pairs", "decisions", "survivorship",
                          "import_batches", "segment_runs", "segment_scans", "rfm_runs", "score_models",
                          "segment_snapshots"):
                tx.execute(f"DELETE FROM {table} WHERE dataset_id = ?", [ds.id])
            tx.execute("DELETE FROM datasets WHERE id = ?", [ds.id])

    def table_exists(self, table: str) -> bool:
        """Whether a table of that name exists."""
        return bool(self.query_value(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]))

    def read_table(self, table: str, columns: list[str] | None = None, limit: int | None = None,
                   order_by: str = "_row") -> pd.DataFrame:
        """Rows of a store table (``columns`` are quoted here)."""
        cols = ", ".join(quote(c) for c in columns) if columns else "*"
        sql = f"SELECT {cols} FROM {table} ORDER BY {quote(order_by)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return self.query_df(sql)

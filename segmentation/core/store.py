"""The DuckDB working store: the connection, transactions, the write version, and no domain SQL.

One database file holds everything a user has done: uploads, imported
datasets (raw rows exactly as read, normalised rows, rejected rows) and,
later, merges, segment runs and audiences. The schema (migrations, table
names) is :mod:`segmentation.core.schema`; each stage's ``repository.py`` is
the only module of that stage that executes SQL, through a :class:`Store`
(its reads) and its :class:`Transaction` objects (its writes). Other modules
build SQL text or work on frames.

Concurrency: one connection per process (DuckDB lets a single process open a
file for writing); each call takes its own cursor, and writes are serialised
by a lock so that several browser tabs can use one store.

Steps of an unattended refresh run inside :meth:`Store.atomic`: every
transaction and read of the engine joins one transaction, so a step that
fails leaves the store exactly as it was before the step.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from . import schema
from .errors import StoreError

DEFAULT_DB = "workspace.duckdb"
ENV_DB = "SEGMENT_STUDIO_DB"


def quote(name: str) -> str:
    """Quote a user-provided identifier for DuckDB SQL."""
    return '"' + str(name).replace('"', '""') + '"'


def resolve_path(db: str | os.PathLike | None = None) -> Path:
    """Store path: ``db`` if given, else ``$SEGMENT_STUDIO_DB``, else ``workspace.duckdb``."""
    return Path(db or os.environ.get(ENV_DB) or DEFAULT_DB)


# Files a store path must never be: DuckDB 2.0 opens an existing CSV, TSV, Parquet or JSON file as an in-memory
# database over it, so every write would vanish at exit.
_DATA_SUFFIXES = frozenset((".csv", ".tsv", ".txt", ".tab", ".parquet", ".json", ".jsonl", ".ndjson", ".xlsx",
                            ".xlsm", ".xls", ".ods", ".gz", ".zip"))


def _looks_like(head: bytes) -> str:
    """What the first bytes of a file that is not a DuckDB database suggest it is, in words."""
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    if head.startswith(b"PK\x03\x04"):
        return "a zip archive (an Excel workbook?)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Excel (.xls) file"
    if head.startswith(b"SQLite format 3"):
        return "an SQLite database"
    if head.lstrip()[:1] in (b"{", b"["):
        return "a JSON file"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in head:  # UTF-16 with its BOM, or 8-bit text
        return "a text file (CSV or similar)"
    return "a binary file of another program"


def check_store_path(path: Path) -> Path:
    """``path`` if it can be the working store, else a :class:`StoreError` saying what it is.

    An existing file must be a DuckDB database (its header says ``DUCK``); a
    new file must not be named like a data file (``.csv``, ``.parquet``…), and
    a new name without a suffix gets ``.duckdb``. Nothing is written either way.
    """
    if path.is_dir():
        raise StoreError(f"'{path}' is a folder, not a store file: give --db a file name such as "
                         f"'{path / DEFAULT_DB}'.")
    if path.exists():
        with open(path, "rb") as f:
            head = f.read(64)
        if head and head[8:12] != b"DUCK":
            raise StoreError(f"'{path}' is not a Segment Studio store: it looks like {_looks_like(head)}. "
                             "Give --db a .duckdb file (a new name creates one); the file was not touched.")
        return path
    if path.suffix.lower() in _DATA_SUFFIXES:
        raise StoreError(f"'{path}' is named like a {path.suffix} data file, not a store: give --db a name "
                         f"ending in .duckdb, such as '{path.with_suffix('.duckdb')}'.")
    if not path.suffix:  # a new store gets the .duckdb name; any other suffix (.db, .store…) is the user's choice
        return path.with_suffix(".duckdb")
    return path


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
        return schema.dataset_table("raw", self.id)

    @property
    def clean_table(self) -> str:
        """Table of normalised rows (typed) plus ``_row``."""
        return schema.dataset_table("clean", self.id)

    @property
    def rejects_table(self) -> str:
        """Table of rows that could not be read: ``line``, ``reason``, ``raw``."""
        return schema.dataset_table("rejects", self.id)

    def columns_with_role(self, *roles: str) -> list[str]:
        """Columns whose role is one of ``roles``, in file order."""
        return [c for c in self.columns if self.roles.get(c) in roles]


_PREFERENCE = "preference:"  # meta keys of user preferences (the interface language...)


#: The write-version scope of a dataset's records (see :meth:`Store.records_version`): ``records:<id>``.
RECORDS_SCOPE = "records:"
#: The scope of what describes its customers, records and computed attributes (:meth:`Store.attributes_version`).
ATTRIBUTES_SCOPE = "attributes:"
#: The scope of its imported rows alone, raw and normalised (:meth:`Store.rows_version`): ``rows:<id>``.
ROWS_SCOPE = "rows:"


class _Writes:
    """What one ``BEGIN ... COMMIT`` wrote: whether anything, which datasets it touched, and whose records."""

    def __init__(self, versioned: bool = True):
        self.wrote = False
        self.versioned = versioned
        self.datasets: set[int] = set()
        #: Datasets whose records may have changed (every dataset named, unless the writer said otherwise).
        self.records: set[int] = set()
        #: Datasets whose records or computed attributes (RFM, scores) may have changed.
        self.attributes: set[int] = set()
        #: Datasets whose imported rows (raw, normalised) may have changed: those whose records may have,
        #: unless the writer said its records change without their rows (merges, rules).
        self.rows: set[int] = set()

    def name(self, dataset_ids: tuple[int | None, ...], records: bool = True, attributes: bool = False,
             rows: bool | None = None) -> None:
        """Count these datasets as changed (and their records too, unless ``records=False``; their computed
        attributes when their records or ``attributes``; their rows with their records unless ``rows=False``)."""
        ids = {int(i) for i in dataset_ids if i is not None}
        self.datasets |= ids
        if records:
            self.records |= ids
        if records or attributes:
            self.attributes |= ids
        if records and rows is not False:
            self.rows |= ids

    def scopes(self) -> list[str]:
        """The write-version scopes this transaction moves: the store's, each dataset's, each dataset's records."""
        return ["*", *(str(i) for i in sorted(self.datasets)), *(f"{RECORDS_SCOPE}{i}" for i in sorted(self.records)),
                *(f"{ATTRIBUTES_SCOPE}{i}" for i in sorted(self.attributes)),
                *(f"{ROWS_SCOPE}{i}" for i in sorted(self.rows))]


class Transaction:
    """A cursor inside ``BEGIN ... COMMIT``: everything or nothing.

    A statement that is not a read marks the transaction as a write: its
    commit bumps the store's write version (:meth:`Store.version`), and that
    of every dataset named with :meth:`touch`, and the version of those
    datasets' records (:meth:`Store.records_version`) unless the writer
    declared that it leaves them alone (``records=False``).
    """

    def __init__(self, cursor: duckdb.DuckDBPyConnection, writes: _Writes | None = None):
        self._cur = cursor
        self._writes = writes if writes is not None else _Writes()

    def _run(self, sql: str, params: list | tuple | dict | None) -> duckdb.DuckDBPyConnection:
        if not self._writes.wrote and not sql.lstrip().lstrip("(").upper().startswith(_READ_ONLY_SQL):
            self._writes.wrote = True
        return self._cur.execute(sql, params) if params is not None else self._cur.execute(sql)

    def touch(self, *dataset_ids: int | None, records: bool = True, attributes: bool = False,
              rows: bool | None = None) -> None:
        """Say that this transaction changes these datasets (their write versions move on commit).

        ``records=False`` says it changes only data derived from their records (a run, RFM, a score, an
        audience, a name...): the records' version (:meth:`Store.records_version`) stays, so the golden
        records are not rebuilt. When in doubt, leave the default: a needless rebuild is only slow.
        ``attributes=True`` (with ``records=False``) says it changes computed attributes of the customers
        (RFM, scores): :meth:`Store.attributes_version` moves (it moves with the records anyway).
        ``rows=False`` (with the records) says the customers change but not the imported rows (merges, undos,
        survivorship rules): :meth:`Store.rows_version` stays.
        """
        self._writes.name(dataset_ids, records, attributes, rows)
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

    def query_progress(self) -> float:
        """How far the statement running in this transaction (on another thread) has gone, in percent; -1 when
        DuckDB cannot tell yet. Needs ``SET enable_progress_bar = true`` in the transaction."""
        return self._cur.query_progress()

    def interrupt(self) -> None:
        """Stop the statement running in this transaction (on another thread); it raises there."""
        self._cur.interrupt()

    def nextval(self, sequence: str) -> int:
        """Next value of a store sequence (unique even across concurrent transactions)."""
        return int(self.fetchone(f"SELECT nextval('{sequence}')")[0])

    def next_id(self, table: str) -> int:
        """Next integer id for ``table`` (a store table, not a user name)."""
        return int(self.fetchone(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")[0])



def _rollback(cur: duckdb.DuckDBPyConnection) -> None:
    """Roll back, if DuckDB still has a transaction to roll back (a failed COMMIT may have ended it)."""
    with suppress(duckdb.Error):
        cur.execute("ROLLBACK").fetchall()

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
        self.path = check_store_path(resolve_path(path))
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
            raise StoreError(f"'{self.path}' is not a Segment Studio store, or it is damaged: {exc}. The file was "
                             "left as it is: open a backup copy of it, or pass another file with --db (a new "
                             "name creates an empty store).") from exc
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
                    cur.execute(f"INSERT INTO {schema.WRITE_VERSIONS} SELECT s, 1 FROM unnest(?::VARCHAR[]) t(s) "
                                f"ON CONFLICT (scope) DO UPDATE SET version = {schema.WRITE_VERSIONS}.version + 1",
                                [writes.scopes()]).fetchall()
            except (duckdb.IOException, duckdb.TransactionException) as exc:  # a write failed: a full disk
                _rollback(cur)
                raise self._not_saved(exc) from exc
            except BaseException:
                _rollback(cur)
                raise
            else:
                try:
                    cur.execute("COMMIT").fetchall()
                except (duckdb.IOException, duckdb.TransactionException) as exc:
                    _rollback(cur)
                    raise self._not_saved(exc) from exc
            finally:
                cur.close()

    def _not_saved(self, exc: Exception) -> StoreError:
        """The message of a write that the store could not keep (rolled back: nothing changed)."""
        return StoreError(f"the working store could not save this change: {str(exc).splitlines()[0]}. Nothing of "
                          "it was kept; free some space on the store's disk (or check it can be written) and try "
                          "again.")

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
    def transaction(self, *datasets: int | None, versioned: bool = True, records: bool = True,
                    attributes: bool = False, rows: bool | None = None) -> Iterator[Transaction]:
        """Serialised write transaction; rolled back entirely if the block raises.

        ``datasets`` are the ids of the datasets the block changes (see
        :meth:`Transaction.touch`); ``records=False`` declares that the block
        leaves their records alone (it writes derived data only: runs, RFM,
        scores, audiences, names), so their records' version does not move;
        ``attributes=True`` that it changes their computed attributes (RFM,
        scores: :meth:`attributes_version`); ``rows=False`` that it changes
        the customers but not the imported rows (merges, rules:
        :meth:`rows_version`).
        ``versioned=False`` is for logs that no cache depends on (the refresh
        log): they do not move the write version. Inside :meth:`atomic` it is
        part of the atomic block's transaction (whose commit moves the records'
        version if any of its writers did not say ``records=False``).
        """
        shared = getattr(self._local, "cursor", None)
        if shared is not None:
            tx = Transaction(shared, self._local.writes if versioned else _Writes(versioned=False))
            tx._writes.name(datasets, records, attributes, rows)
            yield tx
            return
        writes = _Writes(versioned)
        writes.name(datasets, records, attributes, rows)
        with self._begun(writes) as cur:
            yield Transaction(cur, writes)

    def version(self, dataset_id: int | None = None) -> int:
        """The write version: how many committed writes changed the store (or that dataset) so far.

        Every page cache, every "is this input unchanged" check and every
        rebuilt summary keys on it.
        """
        scope = "*" if dataset_id is None else str(int(dataset_id))
        return int(self.query_value(f"SELECT version FROM {schema.WRITE_VERSIONS} WHERE scope = ?", [scope]) or 0)

    def records_version(self, dataset_id: int) -> int:
        """How many committed writes may have changed the dataset's records so far.

        It moves with every write naming the dataset except those declared
        ``records=False`` (derived data only), so what is built from the
        records alone (the golden records) keys on it and survives a saved
        audience, a run or a rename.
        """
        return int(self.query_value(f"SELECT version FROM {schema.WRITE_VERSIONS} WHERE scope = ?",
                                    [f"{RECORDS_SCOPE}{int(dataset_id)}"]) or 0)

    def rows_version(self, dataset_id: int) -> int:
        """How many committed writes may have changed the dataset's imported rows (raw and normalised) so far.

        It moves with :meth:`records_version` except for writes declared
        ``rows=False`` (merges, undos, survivorship rules: they change who the
        customers are, not the rows read from the files), so what is computed
        from the rows alone (the read and quality reports) survives a merge.
        """
        return int(self.query_value(f"SELECT version FROM {schema.WRITE_VERSIONS} WHERE scope = ?",
                                    [f"{ROWS_SCOPE}{int(dataset_id)}"]) or 0)

    def attributes_version(self, dataset_id: int) -> int:
        """How many committed writes may have changed what describes the dataset's customers so far.

        It moves with :meth:`records_version` and with every write declared
        ``attributes=True`` (RFM, scores), not with runs, names, audiences:
        what describes customers with their attributes (a profile) keys on it.
        """
        return int(self.query_value(f"SELECT version FROM {schema.WRITE_VERSIONS} WHERE scope = ?",
                                    [f"{ATTRIBUTES_SCOPE}{int(dataset_id)}"]) or 0)

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
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [schema.META])
        if not exists:
            return 0
        value = self.query_value(f"SELECT value FROM {schema.META} WHERE key = 'schema_version'")
        return int(value or 0)

    def migrate(self) -> None:
        """Bring the file's schema up to :data:`schema.SCHEMA_VERSION`, one migration per transaction."""
        current, latest = self.schema_version(), len(schema.MIGRATIONS)
        if current > latest:
            raise StoreError(f"The store '{self.path}' has schema version {current}, newer than this "
                             f"Segment Studio ({latest}): update the app.")
        for version in range(current + 1, latest + 1):
            with self.transaction(versioned=False) as tx:  # write_versions itself comes with a migration
                for statement in schema.MIGRATIONS[version - 1]:
                    tx.execute(statement)
                tx.execute(f"INSERT OR REPLACE INTO {schema.META} VALUES ('schema_version', ?)", [str(version)])

    def preference(self, key: str) -> str | None:
        """A user preference kept in the store (``meta`` key ``preference:<key>``), or None."""
        return self.query_value(f"SELECT value FROM {schema.META} WHERE key = ?", [_PREFERENCE + str(key)])

    def set_preference(self, key: str, value: str | None) -> None:
        """Keep (or forget, with None) a user preference; it moves no write version (no cached data depends on it)."""
        if self.preference(key) == value:
            return
        with self.transaction(versioned=False) as tx:
            if value is None:
                tx.execute(f"DELETE FROM {schema.META} WHERE key = ?", [_PREFERENCE + str(key)])
            else:
                tx.execute(f"INSERT OR REPLACE INTO {schema.META} VALUES (?, ?)", [_PREFERENCE + str(key), str(value)])

    def drop_orphan_tables(self) -> list[str]:
        """Drop dataset tables left without a dataset row (an import stopped half way).

        The tables of a dataset held by :meth:`pending` (an import still
        writing them) are never orphans. Chosen and dropped under the write
        lock, in one transaction.
        """
        if self.in_atomic:  # the atomic block's rollback removes them, and its transaction may be aborted
            return []
        with self.transaction() as tx:
            known = {r[0] for r in tx.execute(f"SELECT id FROM {schema.DATASETS}")} | set(self._pending)
            orphans = [name for (name,) in tx.execute(
                "SELECT table_name FROM information_schema.tables WHERE regexp_matches(table_name, ?)",
                [schema.DATASET_TABLE_PATTERN]) if int(name.rsplit("_", 1)[1]) not in known]
            for name in orphans:
                tx.execute(f"DROP TABLE IF EXISTS {name}")
        return orphans

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


def unique_name(tx: Transaction, table: str, wanted: str) -> str:
    """``wanted``, or ``wanted (2)``, ``(3)``... if a row of ``table`` (a store table) has that name.

    Read through ``tx``: inside the transaction that then writes the name, no
    other writer can take it in between.
    """
    taken = {r[0].lower() for r in tx.execute(f"SELECT name FROM {table}")}
    name, n = wanted, 1
    while name.lower() in taken:
        n += 1
        name = f"{wanted} ({n})"
    return name

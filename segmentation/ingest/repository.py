"""The ingest stage's repository: the only module of the stage that executes SQL.

It owns the ingest tables: ``uploads``, ``datasets``, ``import_batches``
and each dataset's ``raw_<id>``, ``clean_<id>`` and ``rejects_<id>``. The
SQL text it runs is built by :mod:`segmentation.ingest.statements` (imports)
and :mod:`segmentation.ingest.quality` (the report); other stages ask this
repository (through the stage classes) and never read these tables directly.

Every write names its dataset (``store.transaction(ds.id)``), and every
read that decides a write (a dataset's counts, a free name) is made through
the writing transaction, under the store's write lock.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

import duckdb
import pandas as pd
import pyarrow as pa

from ..core import schema
from ..core.errors import DatasetNotFoundError, NotFoundError
from ..core.store import ROWS_SCOPE, Dataset, Store, Transaction, quote, unique_name
from ..i18n import message
from . import forget, report, statements
from .normalize import ColumnPlan, NormalizeOptions, evidence_sql, plan_columns

Progress = Callable[[float, str], None]

_DATASET_COLUMNS = ("id, name, source_file, kind, imported_at, row_count, rejected_rows, file_format, "
                    "encoding, delimiter, sheet, columns, roles, options, warnings")
_REJECT_TYPES = {"line": "int64", "reason": object, "raw": object}


class _Doubt(Exception):
    """A fast path met something it does not handle exactly: roll back and take the careful path."""


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def _dataset_from_row(row: tuple) -> Dataset:
    values = list(row)
    for i in (11, 12, 13, 14):
        values[i] = json.loads(values[i]) if values[i] is not None else ([] if i == 14 else {})
    return Dataset(*values)


def _register_mapping(tx: Transaction, view: str, distinct: pd.DataFrame, norm: pd.Series) -> str:
    """Make a raw -> normalised mapping visible to SQL as ``view``."""
    norm = pd.Series(norm, dtype=object).reset_index(drop=True)
    mapping = {"value": distinct["value"].astype(object).reset_index(drop=True)}
    if "context" in distinct:  # the row's context value (a phone's country) is part of the key
        mapping["context"] = distinct["context"].astype(object).reset_index(drop=True)
    mapping["norm"] = norm.where(pd.notna(norm), None)
    tx.register(view, pd.DataFrame(mapping))
    return view


def _mapping_views(tx: Transaction, plans: list[ColumnPlan], source: str,
                   progress: Progress = _no_progress) -> dict[int, str]:
    """Register the mapped values of every plan with a mapper and no ``fill`` (categories): position -> view."""
    views: dict[int, str] = {}
    for i, plan in enumerate(plans):
        if plan.mapper is not None and not plan.fill:
            progress(0.5, message("Normalising {column}", column=plan.column))
            distinct = tx.df(statements.distinct_values_sql(plan, source))
            views[i] = _register_mapping(tx, f"_map_{i}", distinct, plan.mapper(distinct))
    return views


class DatasetsRepository:
    """Uploads, dataset descriptions, import batches and each dataset's raw, clean and rejected rows."""

    def __init__(self, store: Store):
        self.store = store

    # -- uploads ----------------------------------------------------------
    def save_upload(self, file_name: str, data: bytes) -> int:
        """Keep an uploaded file's bytes once (by content hash); returns its id."""
        digest = hashlib.sha256(data).hexdigest()
        with self.store.transaction() as tx:
            found = tx.fetchone(f"SELECT id FROM {schema.UPLOADS} WHERE sha256 = ?", [digest])
            if found:
                return int(found[0])
            upload_id = tx.next_id(schema.UPLOADS)
            tx.execute(f"INSERT INTO {schema.UPLOADS} VALUES (?, ?, ?, ?, ?, ?)",
                       [upload_id, digest, file_name, len(data), datetime.now(), data])
            return upload_id

    def upload(self, upload_id: int) -> tuple[str, bytes]:
        """File name and bytes of a saved upload."""
        rows = self.store.query_rows(f"SELECT file_name, data FROM {schema.UPLOADS} WHERE id = ?", [upload_id])
        if not rows:
            raise NotFoundError(f"Upload {upload_id} is not in the store; upload the file again.")
        return rows[0][0], bytes(rows[0][1])

    def uploads(self) -> pd.DataFrame:
        """Every stored upload: ``id``, ``file_name``, ``bytes``, ``uploaded_at`` and ``used_by`` (datasets)."""
        return self.store.query_df(statements.uploads_sql())

    def dataset_sizes(self) -> pd.DataFrame:
        """Every dataset: ``name``, ``kind``, ``rows`` and ``bytes`` (of the files it was imported from)."""
        return self.store.query_df(statements.dataset_sizes_sql())

    def delete_upload(self, upload_id: int) -> bool:
        """Delete a stored upload (the datasets imported from it stay, no longer linked to it)."""
        with self.store.transaction() as tx:
            if not tx.fetchone(f"SELECT count(*) FROM {schema.UPLOADS} WHERE id = ?", [int(upload_id)])[0]:
                return False
            for table in (schema.DATASETS, schema.IMPORT_BATCHES):
                tx.execute(f"UPDATE {table} SET upload_id = NULL WHERE upload_id = ?", [int(upload_id)])
            tx.execute(f"DELETE FROM {schema.UPLOADS} WHERE id = ?", [int(upload_id)])
            return True

    def discard_upload(self, upload_id: int) -> bool:
        """Delete a stored upload no dataset was imported from (a refused or abandoned one); True if deleted."""
        with self.store.transaction() as tx:
            sql, params = statements.unused_uploads_sql(upload_id=int(upload_id))
            if not tx.fetchone(f"SELECT count(*) FROM ({sql})", params)[0]:
                return False
            tx.execute(f"DELETE FROM {schema.UPLOADS} WHERE id = ?", [int(upload_id)])
            return True

    def discard_stale_uploads(self, older_than: datetime) -> int:
        """Delete the uploads made before ``older_than`` that no dataset was imported from; how many."""
        sql, params = statements.unused_uploads_sql(before=older_than)
        if not self.store.query_value(f"SELECT count(*) FROM ({sql})", params):
            return 0  # nothing to do: no write, the write version stays
        with self.store.transaction() as tx:
            found = [r[0] for r in tx.execute(sql, params)]
            if found:
                tx.execute(f"DELETE FROM {schema.UPLOADS} WHERE id IN (SELECT unnest(?))", [found])
            return len(found)

    # -- datasets ---------------------------------------------------------
    def datasets(self, kind: str | None = None) -> list[Dataset]:
        """Every dataset, newest first, optionally of one kind."""
        sql = f"SELECT {_DATASET_COLUMNS} FROM {schema.DATASETS}"
        params: list = []
        if kind:
            sql += " WHERE kind = ?"
            params.append(kind)
        rows = self.store.query_rows(sql + " ORDER BY imported_at DESC, id DESC", params)
        return [_dataset_from_row(r) for r in rows]

    def names(self, kind: str | None = None) -> list[str]:
        """The names of :meth:`datasets`."""
        return [d.name for d in self.datasets(kind)]

    def dataset(self, name: str | None = None, kind: str = "customers") -> Dataset:
        """A dataset by name, or the most recent one of ``kind`` when ``name`` is None.

        Raises
        ------
        DatasetNotFoundError
            No dataset of that name (or none of that kind).
        """
        if name is None:
            found = self.datasets(kind)
            if not found:
                raise DatasetNotFoundError(None, [], kind)
            return found[0]
        rows = self.store.query_rows(f"SELECT {_DATASET_COLUMNS} FROM {schema.DATASETS} WHERE name = ?", [name])
        if not rows:
            raise DatasetNotFoundError(name, self.names(), kind)
        return _dataset_from_row(rows[0])

    def dataset_by_id(self, dataset_id: int) -> Dataset:
        """A dataset by its id (runs and RFM refer to datasets by id)."""
        return self._by_id(self.store.query_rows, dataset_id)

    @staticmethod
    def _by_id(run: Callable[[str, list], list[tuple]], dataset_id: int) -> Dataset:
        """The dataset ``dataset_id``, read with ``run`` (``store.query_rows``, or ``tx.execute`` in a write)."""
        rows = run(f"SELECT {_DATASET_COLUMNS} FROM {schema.DATASETS} WHERE id = ?", [int(dataset_id)])
        if not rows:
            names = [r[0] for r in run(f"SELECT name FROM {schema.DATASETS} ORDER BY name", [])]
            error = DatasetNotFoundError(f"#{dataset_id}", names)
            error.args = (f"Dataset {dataset_id} is no longer in the store.",)
            raise error
        return _dataset_from_row(rows[0])

    def import_batches(self, dataset_id: int) -> pd.DataFrame:
        """The files added to a dataset after its first import, in order."""
        return self.store.query_df(
            f"SELECT batch, file_name, imported_at, rows_read, rows_added, rows_updated "
            f"FROM {schema.IMPORT_BATCHES} WHERE dataset_id = ? ORDER BY batch", [int(dataset_id)])

    def batch_count(self, dataset_id: int) -> int:
        """How many later exports were added to a dataset."""
        return int(self.store.query_value(
            f"SELECT count(*) FROM {schema.IMPORT_BATCHES} WHERE dataset_id = ?", [int(dataset_id)]) or 0)

    def unique_dataset_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted (2)``, ``(3)``... if a dataset has that name."""
        with self.store.transaction() as tx:  # a read only: the version does not move
            return unique_name(tx, schema.DATASETS, wanted)

    def delete(self, dataset_id: int) -> None:
        """Remove a dataset: its own tables and its rows in every stage's tables, in one transaction.

        The list of what belongs to a dataset is :data:`segmentation.core.schema.DATASET_ROWS`
        and :data:`~segmentation.core.schema.DATASET_TABLE_PREFIXES`.
        """
        with self.store.transaction(dataset_id) as tx:
            self._by_id(tx.execute, dataset_id)
            for sql, params in schema.delete_dataset_sql(dataset_id):
                tx.execute(sql, params)

    def drop_orphan_tables(self) -> list[str]:
        """Drop dataset tables without a dataset row (see :meth:`Store.drop_orphan_tables`)."""
        return self.store.drop_orphan_tables()

    # -- the right to be forgotten -------------------------------------------
    def forgotten_hashes(self) -> tuple[str | None, set[str]]:
        """The store's salt and the hashes of the people forgotten (and not lifted), for imports to skip."""
        salt = self.store.query_value(f"SELECT value FROM {schema.META} WHERE key = ?", [forget.SALT_KEY])
        if salt is None:
            return None, set()
        rows = self.store.query_rows(f"SELECT hash FROM {schema.FORGOTTEN} WHERE lifted_at IS NULL")
        return salt, {r[0] for r in rows}

    def lift(self, kind: str, value: str) -> int:
        """Let a forgotten person be imported again (the audit lines stay, marked lifted); how many."""
        with self.store.transaction(versioned=False) as tx:
            salt = (tx.fetchone(f"SELECT value FROM {schema.META} WHERE key = ?", [forget.SALT_KEY]) or [None])[0]
            if salt is None:
                return 0
            digest = forget.person_hash(salt, kind, value)
            found = tx.fetchone(f"SELECT count(*) FROM {schema.FORGOTTEN} WHERE hash = ? AND lifted_at IS NULL",
                                [digest])[0]
            tx.execute(f"UPDATE {schema.FORGOTTEN} SET lifted_at = ? WHERE hash = ? AND lifted_at IS NULL",
                       [datetime.now(), digest])
            return int(found)

    def forget(self, kind: str, value: str, dataset: str | None = None) -> forget.ForgetResult:
        """Remove a person (by e-mail or record id) from every table that holds them, in one transaction.

        Their records (every version, and the records merged with them) go from each dataset's raw,
        normalised and rejected rows, pairs, decisions, merges, segment memberships, snapshots, RFM and
        score rows (:func:`segmentation.core.schema.forget_person_sql`); golden records are dropped (rebuilt
        on the next read); stored text uploads are re-written without their lines, workbooks that held
        them deleted; export logs and suppression lists naming their e-mail are deleted. An audit line
        (a salted hash and the counts) is added; later imports skip rows with that e-mail or id.
        """
        folded = forget.fold(kind, value)
        datasets = [self.dataset(dataset)] if dataset is not None else self.datasets()
        removed: dict[str, int] = {}
        touched: list[Dataset] = []

        def count(label: str, rows: list[tuple]) -> None:
            n = int(rows[0][0]) if rows and rows[0] and isinstance(rows[0][0], int) else 0
            if n:
                removed[label] = removed.get(label, 0) + n

        with self.store.transaction(*(d.id for d in datasets)) as tx:
            salt = (tx.fetchone(f"SELECT value FROM {schema.META} WHERE key = ?", [forget.SALT_KEY]) or [None])[0]
            if salt is None:
                salt = secrets.token_hex(16)
                tx.execute(f"INSERT INTO {schema.META} VALUES (?, ?)", [forget.SALT_KEY, salt])
            # Every dataset's rows of the person, before anything is deleted: customers first, whose record
            # ids then find the person's orders in transactions datasets.
            person_ids: set[str] = {folded} if kind == "id" else set()
            found: list[tuple[Dataset, list[int]]] = []
            for ds in sorted(datasets, key=lambda d: d.kind != "customers"):
                ds = self._by_id(tx.execute, ds.id)
                rows = self._person_rows(tx, ds, kind, folded)
                if ds.kind == "customers":
                    person_ids |= self._record_ids(tx, ds, rows)
                else:
                    customers = [d for d, _ in found if d.kind == "customers"]
                    rows = sorted(set(rows) | set(self._order_rows(tx, ds, person_ids, customers)))
                found.append((ds, rows))
            for ds, rows in found:
                if rows:
                    touched.append(ds)
                    tx.register("_forget_rows_df", pd.DataFrame({"row": pd.Series(rows, dtype="int64")}))
                    tx.execute("CREATE OR REPLACE TEMP TABLE _forget_rows AS SELECT row FROM _forget_rows_df")
                    tx.execute("CREATE OR REPLACE TEMP TABLE _forget_customers AS "
                               "SELECT 'C' || row AS customer_id FROM _forget_rows")
                    tx.unregister("_forget_rows_df")
                    for table, sql, params in schema.forget_person_sql(ds.id, "_forget_rows", "_forget_customers"):
                        if self._exists(tx, table):
                            count(table.rsplit("_", 1)[0] if table[-1].isdigit() else table, tx.execute(sql, params))
                    tx.execute("DROP TABLE _forget_rows")
                    tx.execute("DROP TABLE _forget_customers")
                    golden = schema.dataset_table("golden", ds.id)
                    if self._exists(tx, golden):
                        tx.execute(f"DROP TABLE {golden}")
                        tx.execute(f"DELETE FROM {schema.META} WHERE key = ?", [f"golden_version_{ds.id}"])
                        removed["golden (rebuilt)"] = removed.get("golden (rebuilt)", 0) + 1
                # The kept reports quote raw values (examples not read): dropped, computed again when read.
                tx.execute(f"DROP TABLE IF EXISTS {schema.dataset_table('reports', ds.id)}")
                if kind == "email":
                    count("rejects", tx.execute(f"DELETE FROM {ds.rejects_table} WHERE contains(lower(raw), ?)",
                                                [folded]))
                else:
                    count("rejects", tx.execute(f"DELETE FROM {ds.rejects_table} WHERE regexp_matches(raw, ?)",
                                                [forget.id_pattern(folded)]))
                tx.execute(f"UPDATE {schema.DATASETS} SET row_count = (SELECT count(*) FROM {ds.clean_table}), "
                           f"rejected_rows = (SELECT count(*) FROM {ds.rejects_table}) WHERE id = ?", [ds.id])
            if kind == "email":
                count("log_texts", self._scrub_logs(tx, folded))
                count("export_log", tx.execute(
                    "DELETE FROM export_log WHERE contains(lower(CAST(spec AS VARCHAR)), ?) "
                    "OR contains(lower(coalesce(file_name, '')), ?)", [folded, folded]))
                count("suppression_values", tx.execute(
                    "DELETE FROM suppression_values WHERE lower(trim(value)) = ?", [folded]))
            rewritten, deleted = self._forget_in_uploads(tx, kind, folded, datasets, touched, dataset is None)
            if rewritten or deleted:
                removed["uploads"] = len(rewritten) + len(deleted)
            tx.execute(f"INSERT INTO {schema.FORGOTTEN} VALUES (?, ?, ?, ?, ?, NULL)",
                       [datetime.now(), dataset, kind, forget.person_hash(salt, kind, folded),
                        json.dumps(removed)])
        return forget.ForgetResult(identifier=kind, datasets=[d.name for d in touched], removed=removed,
                                   uploads_rewritten=rewritten, uploads_deleted=deleted)

    @staticmethod
    def _exists(tx: Transaction, table: str) -> bool:
        return bool(tx.fetchone("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table])[0])

    @staticmethod
    def _person_rows(tx: Transaction, ds: Dataset, kind: str, folded: str) -> list[int]:
        """The record rows of a person in a dataset: matching rows, every version of their record ids, and
        the records an active merge put with them."""
        columns = ds.columns_with_role("email" if kind == "email" else "id")
        if not columns:
            return []
        test = "lower(trim({}))" if kind == "email" else "trim({})"
        where = " OR ".join(f"{test.format(quote(c))} = ?" for c in columns)
        rows = {r[0] for r in tx.execute(f"SELECT _row FROM {ds.raw_table} WHERE {where}", [folded] * len(columns))}
        ids = ds.columns_with_role("id")
        if rows and ids:
            same = " OR ".join(f"trim({quote(c)}) IN (SELECT trim({quote(c)}) FROM {ds.raw_table} "
                               f"WHERE _row IN (SELECT unnest(?)))" for c in ids)
            rows |= {r[0] for r in tx.execute(f"SELECT _row FROM {ds.raw_table} WHERE {same}",
                                              [sorted(rows)] * len(ids))}
        if rows:
            rows |= {r[0] for r in tx.execute(
                "SELECT m.row FROM merge_members m JOIN merge_groups g ON g.id = m.group_id "
                "WHERE g.dataset_id = ? AND g.undone_at IS NULL AND m.group_id IN "
                "(SELECT group_id FROM merge_members WHERE row IN (SELECT unnest(?)))", [ds.id, sorted(rows)])}
        return sorted(int(r) for r in rows)

    @staticmethod
    def _scrub_logs(tx: Transaction, folded: str) -> list[tuple]:
        """Replace an e-mail by ``[forgotten]`` in the texts that may quote data: dataset warnings, refresh
        errors and step details (the lines stay: they are the history of the store). Returns [(changed,)]."""
        pattern = "(?i)" + re.escape(folded)
        changed = 0
        for table, columns in ((schema.DATASETS, ("warnings",)), ("refreshes", ("error", "summary")),
                               ("refresh_steps", ("detail", "error", "state"))):
            if not DatasetsRepository._exists(tx, table):
                continue
            for column in columns:
                q = quote(column)
                hits = tx.fetchone(f"SELECT count(*) FROM {table} WHERE contains(lower(CAST({q} AS VARCHAR)), ?)",
                                   [folded])[0]
                if hits:
                    tx.execute(f"UPDATE {table} SET {q} = regexp_replace(CAST({q} AS VARCHAR), ?, '[forgotten]', "
                               f"'g') WHERE contains(lower(CAST({q} AS VARCHAR)), ?)", [pattern, folded])
                    changed += int(hits)
        return [(changed,)]

    @staticmethod
    def _record_ids(tx: Transaction, ds: Dataset, rows: list[int]) -> set[str]:
        """The trimmed record ids of some rows of a customers dataset."""
        ids = ds.columns_with_role("id")
        if not rows or not ids:
            return set()
        listed = ", ".join(quote(c) for c in ids)
        found = tx.execute(f"SELECT DISTINCT trim(CAST(v AS VARCHAR)) FROM (SELECT unnest([{listed}]) AS v "
                           f"FROM {ds.raw_table} WHERE _row IN (SELECT unnest(?))) WHERE v IS NOT NULL", [rows])
        return {r[0] for r in found if r[0]}

    def _order_rows(self, tx: Transaction, ds: Dataset, person_ids: set[str], customers: list[Dataset]) -> list[int]:
        """The rows of a transactions dataset that belong to the person: a customer-reference column holds
        one of their record ids. A column is a customer reference when most of its values are record ids of
        the customers datasets (as RFM links orders), so that an amount or a quantity equal to an id is kept."""
        if not person_ids:
            return []
        rows: set[int] = set()
        references = [c for c in ds.columns if ds.roles.get(c) in ("id", "text", "category", "exact")]
        known = " UNION ALL ".join(
            f"SELECT trim(CAST({quote(c)} AS VARCHAR)) AS rid FROM {d.raw_table}"
            for d in customers for c in d.columns_with_role("id"))
        for col in references:
            q = quote(col)
            if known:
                share = tx.fetchone(f"SELECT avg(CAST(v IN (SELECT rid FROM ({known})) AS DOUBLE)) FROM "
                                    f"(SELECT trim(CAST({q} AS VARCHAR)) AS v FROM {ds.raw_table} "
                                    f"WHERE {q} IS NOT NULL LIMIT 5000)")[0]
                if share is None or share < 0.5:
                    continue
            rows |= {r[0] for r in tx.execute(f"SELECT _row FROM {ds.raw_table} WHERE trim(CAST({q} AS VARCHAR)) "
                                              f"IN (SELECT unnest(?))", [sorted(person_ids)])}
        return sorted(int(r) for r in rows)

    @staticmethod
    def _forget_in_uploads(tx: Transaction, kind: str, folded: str, datasets: list[Dataset],
                           touched: list[Dataset], every: bool) -> tuple[list[str], list[str]]:
        """Re-write stored text uploads without the person's lines; delete workbooks of datasets that held them."""
        ids = [d.id for d in datasets]
        held = {d.id for d in touched}
        owners = tx.execute(f"SELECT u.id, list(DISTINCT d.id) FILTER (WHERE d.id IS NOT NULL) FROM {schema.UPLOADS} u "
                            f"LEFT JOIN (SELECT id, upload_id FROM {schema.DATASETS} UNION ALL "
                            f"SELECT dataset_id, upload_id FROM {schema.IMPORT_BATCHES}) d ON d.upload_id = u.id "
                            "GROUP BY u.id ORDER BY u.id")
        rewritten: list[str] = []
        deleted: list[str] = []
        for upload_id, used_by in owners:
            used_by = set(used_by or [])
            if not every and not used_by & set(ids):
                continue
            name, data = tx.fetchone(f"SELECT file_name, data FROM {schema.UPLOADS} WHERE id = ?", [upload_id])
            data = bytes(data)
            if forget.is_workbook(data):
                if not used_by & held:
                    continue
                new = None
            else:
                try:
                    new, lines = forget.without_person(data, kind, folded)
                except UnicodeDecodeError:
                    continue
                if not lines:
                    continue
            digest = None if new is None else hashlib.sha256(new).hexdigest()
            same = digest and tx.fetchone(f"SELECT id FROM {schema.UPLOADS} WHERE sha256 = ? AND id <> ?",
                                          [digest, upload_id])
            if new is None or same:
                for table in (schema.DATASETS, schema.IMPORT_BATCHES):
                    tx.execute(f"UPDATE {table} SET upload_id = ? WHERE upload_id = ?",
                               [same[0] if same else None, upload_id])
                tx.execute(f"DELETE FROM {schema.UPLOADS} WHERE id = ?", [upload_id])
                (deleted if new is None else rewritten).append(name)
            else:
                tx.execute(f"UPDATE {schema.UPLOADS} SET data = ?, size = ?, sha256 = ? WHERE id = ?",
                           [new, len(new), digest, upload_id])
                rewritten.append(name)
        return rewritten, deleted

    # -- rows -------------------------------------------------------------
    def raw_sample(self, ds: Dataset, limit: int) -> pd.DataFrame:
        """The first ``limit`` raw rows of a dataset, its columns only."""
        return self.store.read_table(ds.raw_table, ds.columns, limit=limit)

    def rejected_rows(self, ds: Dataset) -> pd.DataFrame:
        """Rows that could not be read, with their line number and the reason."""
        return self.store.query_df(f"SELECT line, reason, raw FROM {ds.rejects_table} ORDER BY line")

    def raw_source(self, ds: Dataset) -> str:
        """SQL text of a dataset's current raw rows (``_row`` as in the clean table): the raw table, or,
        once later exports were added, the latest version of each record (see
        :func:`~segmentation.ingest.statements.current_versions_sql`)."""
        if self.store.query_value(statements.has_batches_sql(), [ds.raw_table]):
            return f"({statements.current_versions_sql(ds)})"
        return ds.raw_table

    def first_rows(self, queries: list[tuple[str, list | None]]) -> list[tuple]:
        """The first row of each read-only query (built by :mod:`segmentation.ingest.quality`)."""
        return [self.store.query_rows(sql, params)[0] for sql, params in queries]

    def frame(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """A read-only query of the stage's tables (built by :mod:`segmentation.ingest.quality`) as a frame."""
        return self.store.query_df(sql, params)

    # -- imports ----------------------------------------------------------
    def next_dataset_id(self) -> int:
        """A new dataset id (unique even across concurrent imports)."""
        with self.store.transaction() as tx:
            return tx.nextval("dataset_ids")

    def store_raw(self, ds: Dataset, table: pa.Table, rejected: pd.DataFrame) -> None:
        """Create the raw and rejected-rows tables of a new dataset (``table`` has ``_row``).

        A transaction of its own: DuckDB scans a table created in the same
        transaction about 2.5 times slower. Hold :meth:`Store.pending` around
        this and :meth:`commit_new` so the orphan clean-up leaves them alone.
        """
        with self.store.transaction(ds.id) as tx:
            tx.register("_incoming", table)
            cols = ", ".join([quote(c) for c in ds.columns] + ["_row"])  # _row last, as store_raw_csv writes it
            tx.execute(f"CREATE TABLE {ds.raw_table} AS SELECT {cols} FROM _incoming")
            tx.unregister("_incoming")
            tx.register("_rejects", rejected.astype(_REJECT_TYPES))
            tx.execute(f"CREATE TABLE {ds.rejects_table} AS {statements.rejects_select_sql('_rejects')}")
            tx.unregister("_rejects")

    def store_raw_csv(self, ds: Dataset, path: str, delimiter: str, rows: int, max_line_bytes: int) -> bool:
        """Create a new dataset's raw table straight from a plain CSV file of ``rows`` records; False on doubt.

        ``path`` holds the records only (see :func:`segmentation.ingest.readers.plain_csv`).
        Any reading error, or another number of rows than ``rows``, rolls the
        table back and returns False: the caller then reads the file with
        :func:`~segmentation.ingest.readers.read_file` (today's careful way).
        """
        try:
            with self.store.transaction(ds.id) as tx:
                try:
                    tx.execute(statements.raw_from_csv_sql(ds, delimiter, max_line_bytes), [path])
                except duckdb.IOException:
                    raise
                except duckdb.Error as exc:
                    raise _Doubt from exc
                if tx.fetchone(f"SELECT count(*) FROM {ds.raw_table}")[0] != rows:
                    raise _Doubt
                tx.register("_rejects", pd.DataFrame({c: pd.Series(dtype=t) for c, t in _REJECT_TYPES.items()}))
                tx.execute(f"CREATE TABLE {ds.rejects_table} AS {statements.rejects_select_sql('_rejects')}")
                tx.unregister("_rejects")
            # The row numbers in a second transaction: a committed table's rowids are its rows' places in order.
            with self.store.transaction(ds.id) as tx:
                for statement in statements.raw_row_numbers_sql(ds):
                    tx.execute(statement)
                numbered = tx.fetchone(statements.raw_row_range_sql(ds)) == (rows, 1, rows)
            if not numbered:  # never seen; the careful path then writes the tables anew
                with self.store.transaction(ds.id) as tx:
                    tx.execute(f"DROP TABLE {ds.raw_table}")
                    tx.execute(f"DROP TABLE {ds.rejects_table}")
                raise _Doubt
        except _Doubt:
            return False
        return True

    def raw_rows_at(self, ds: Dataset, rows: list[int] | None) -> pd.DataFrame:
        """A new dataset's raw cells (without ``_row``) at these 1-based row numbers, in order; all if None."""
        cols = ", ".join(quote(c) for c in ds.columns)
        where = "" if rows is None else " WHERE _row IN (SELECT unnest(?::BIGINT[]))"
        return self.store.query_df(f"SELECT {cols} FROM {ds.raw_table}{where} ORDER BY _row",
                                   None if rows is None else [rows])

    def commit_new(self, ds: Dataset, plans: list[ColumnPlan], wanted_name: str, upload_id: int | None,
                   progress: Progress = _no_progress) -> None:
        """Normalise a new dataset's raw rows and record it under a free name: the dataset becomes visible."""
        with self.store.transaction(ds.id) as tx:
            self.build_clean_table(tx, ds, plans, progress)
            ds.name = unique_name(tx, schema.DATASETS, wanted_name)
            tx.execute(
                f"INSERT INTO {schema.DATASETS} ({_DATASET_COLUMNS}, upload_id) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ds.id, ds.name, ds.source_file, ds.kind, ds.imported_at, ds.row_count, ds.rejected_rows,
                 ds.file_format, ds.encoding, ds.delimiter, ds.sheet, json.dumps(ds.columns),
                 json.dumps(ds.roles), json.dumps(ds.options), json.dumps(ds.warnings), upload_id])

    def append(self, dataset_id: int, table: pa.Table, rejected: pd.DataFrame, file_name: str,
               warnings: list[str], upload_id: int | None, sample_rows: int,
               progress: Progress = _no_progress) -> Dataset:
        """Add a later export's rows (``table``: the dataset's columns and ``_row``) in one transaction.

        The dataset's description and counts are read inside the writing
        transaction, so two files added at once both count. Returns the
        dataset as it now is, with ``last_import`` set.
        """
        with self.store.transaction(dataset_id) as tx:
            ds = self._by_id(tx.execute, dataset_id)
            sample = tx.df(f"SELECT {', '.join(quote(c) for c in ds.columns)} FROM {ds.raw_table} "
                           f"ORDER BY _row LIMIT {int(sample_rows)}")
            opts = NormalizeOptions(**ds.options)
            cols = ", ".join(quote(c) for c in ds.columns)
            tx.register("_incoming", table)
            tx.execute(f"CREATE OR REPLACE TEMP TABLE _fresh AS {statements.fresh_rows_sql(ds)}")  # anti-join once
            tx.unregister("_incoming")
            kept = tx.fetchone("SELECT count(*) FROM _fresh")[0]
            if not kept:  # the same export again: nothing to add, and nothing is written
                tx.execute("DROP TABLE _fresh")
                ds.last_import = {"rows_read": table.num_rows, "rows_added": 0, "rows_updated": 0,
                                  "rows_unchanged": table.num_rows, "batch": None}
                return ds
            if not tx.fetchone(statements.has_batches_sql(), [ds.raw_table])[0]:
                tx.execute(f"ALTER TABLE {ds.raw_table} ADD COLUMN _batch INTEGER DEFAULT 1")
            offset, batch = tx.fetchone(f"SELECT coalesce(max(_row), 0), coalesce(max(_batch), 1) + 1 "
                                        f"FROM {ds.raw_table}")
            tx.execute(f"INSERT INTO {ds.raw_table} (_row, {cols}, _batch) "
                       f"SELECT _row + {int(offset)}, {cols}, {int(batch)} FROM _fresh ORDER BY _row")
            tx.execute("DROP TABLE _fresh")
            rejected = rejected.astype(_REJECT_TYPES)
            rejected["reason"] = (file_name + ": " + rejected["reason"].astype(str)).astype(object)
            for (column,) in tx.execute(statements.untyped_rejects_sql(), [ds.rejects_table]):
                # Stores made before the types were explicit: a file without rejects typed them NULL.
                tx.execute(f"ALTER TABLE {ds.rejects_table} ALTER {quote(column)} TYPE VARCHAR")
            tx.register("_rejects", rejected)
            tx.execute(f"INSERT INTO {ds.rejects_table} {statements.rejects_select_sql('_rejects')}")
            tx.unregister("_rejects")
            updated = 0
            if ds.columns_with_role("id"):
                updated = tx.fetchone(statements.updated_records_sql(ds), [batch, batch])[0]
            before = ds.row_count
            plans = plan_columns(ds.roles, sample, opts, self._evidence(tx, ds, ds.roles, opts))
            self.build_clean_table(tx, ds, plans, progress)
            ds.row_count = tx.fetchone(f"SELECT count(*) FROM {ds.clean_table}")[0]
            ds.rejected_rows += len(rejected)
            ds.warnings = [*ds.warnings, *(f"{file_name}: {w}" for w in warnings)]
            tx.execute(f"UPDATE {schema.DATASETS} SET row_count = ?, rejected_rows = ?, warnings = ? WHERE id = ?",
                       [ds.row_count, ds.rejected_rows, json.dumps(ds.warnings), ds.id])
            tx.execute(f"INSERT INTO {schema.IMPORT_BATCHES} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [ds.id, batch, file_name, datetime.now(), table.num_rows, ds.row_count - before, updated,
                        upload_id])
        ds.last_import = {"rows_read": table.num_rows, "rows_added": ds.row_count - before,
                          "rows_updated": updated, "rows_unchanged": table.num_rows - kept, "batch": int(batch)}
        return ds

    def renormalise(self, dataset_id: int, roles: dict[str, str], options: NormalizeOptions | None,
                    sample_rows: int, progress: Progress = _no_progress) -> Dataset:
        """Give columns new roles (and options) and rebuild the clean table, in one transaction."""
        with self.store.transaction(dataset_id) as tx:
            ds = self._by_id(tx.execute, dataset_id)
            opts = options or NormalizeOptions(**ds.options)
            new_roles = {**ds.roles, **roles}
            sample = tx.df(f"SELECT {', '.join(quote(c) for c in ds.columns)} FROM {ds.raw_table} "
                           f"ORDER BY _row LIMIT {int(sample_rows)}")
            plans = plan_columns(new_roles, sample, opts, self._evidence(tx, ds, new_roles, opts))
            ds.roles, ds.options = new_roles, asdict(opts)
            self.build_clean_table(tx, ds, plans, progress)
            tx.execute(f"UPDATE {schema.DATASETS} SET roles = ?, options = ? WHERE id = ?",
                       [json.dumps(ds.roles), json.dumps(ds.options), ds.id])
        return ds

    def evidence(self, ds: Dataset, roles: dict[str, str], options: NormalizeOptions) -> dict[str, dict]:
        """Every column's evidence over all its raw rows (:func:`segmentation.ingest.normalize.evidence_sql`)."""
        with self.store.transaction(versioned=False) as tx:
            return self._evidence(tx, ds, roles, options)

    @staticmethod
    def _evidence(tx: Transaction, ds: Dataset, roles: dict[str, str], options: NormalizeOptions) -> dict[str, dict]:
        batched = tx.fetchone(statements.has_batches_sql(), [ds.raw_table])[0]
        source = f"({statements.current_versions_sql(ds)})" if batched else ds.raw_table
        return DatasetsRepository._evidence_over(tx, source, roles, options)

    @staticmethod
    def _evidence_over(tx: Transaction, source: str, roles: dict[str, str],
                       options: NormalizeOptions) -> dict[str, dict]:
        """Column -> evidence name -> value, over every row of ``source`` (one query)."""
        wanted = evidence_sql(roles)
        if not wanted:
            return {}
        sql, order = statements.evidence_query_sql(source, wanted, tuple(options.missing))
        row = tx.fetchone(sql)
        result: dict[str, dict] = {}
        for (column, name), value in zip(order, row, strict=True):
            result.setdefault(column, {})[name] = value
        return result

    def build_clean_table(self, tx: Transaction, ds: Dataset, plans: list[ColumnPlan],
                          progress: Progress = _no_progress) -> None:
        """(Re)create the dataset's normalised table from its raw table, inside ``tx``.

        SQL plans run in one ``CREATE TABLE AS``; mapper plans are computed once
        per distinct raw value and joined back (categories), or fill afterwards
        what the SQL left NULL (phones that are not French).
        """
        progress(0.45, message("Normalising"))
        batched = tx.fetchone(statements.has_batches_sql(), [ds.raw_table])[0]
        source = f"({statements.current_versions_sql(ds)})" if batched else ds.raw_table
        views = _mapping_views(tx, plans, source, progress)
        progress(0.6, message("Writing normalised rows"))
        tx.execute(f"DROP TABLE IF EXISTS {ds.clean_table}")
        tx.execute(statements.clean_table_sql(ds, plans, source, views))
        fills = []
        for i, plan in enumerate(plans):
            if plan.mapper is None or not plan.fill:
                continue
            progress(0.85, message("Normalising {column}", column=plan.column))
            distinct = tx.df(statements.unfilled_values_sql(plan, source, ds.clean_table))
            norm = pd.Series(plan.mapper(distinct), dtype=object).reset_index(drop=True)
            read = norm.notna().to_numpy()
            if not read.any():  # nothing more read (invalid values): no update to join
                continue
            fills.append(_register_mapping(tx, f"_fill_{i}", distinct.reset_index(drop=True)[read], norm[read]))
            tx.execute(statements.fill_sql(plan, source, ds.clean_table, fills[-1]))
        for view in [*views.values(), *fills]:
            tx.unregister(view)

    # -- the read report ------------------------------------------------------
    def read_report(self, ds: Dataset, counts: tuple | None = None) -> report.ReadReport:
        """Per column, how many raw values were read, invalid or missing, over every current row (a read).

        ``counts`` is the :func:`~segmentation.ingest.report.counts_sql` row if already computed.
        """
        columns = report.report_columns({c: ds.roles.get(c, "text") for c in ds.columns}, ds.options.get("missing"))
        source = self.raw_source(ds)
        if counts is None:
            counts = self.store.query_rows(report.counts_sql(columns, source, ds.clean_table))[0]
        unread = report.unread_columns(columns, counts)
        examples = report.examples_by_column(columns, self.store.query_rows(
            report.examples_sql(unread, source, ds.clean_table))) if unread else {}
        return report.build_report(columns, counts, examples)

    def column_pass(self, ds: Dataset) -> tuple:
        """The row of :func:`~segmentation.ingest.report.column_pass_sql` (both reports' column figures)."""
        columns = report.report_columns({c: ds.roles.get(c, "text") for c in ds.columns}, ds.options.get("missing"))
        return tuple(self.store.query_rows(report.column_pass_sql(columns, self.raw_source(ds), ds.clean_table))[0])

    def kept_report(self, dataset_id: int, kind: str, key: str) -> str | None:
        """The report ``kind`` of a dataset as kept (JSON) if it was computed with inputs of this ``key``."""
        table = schema.dataset_table("reports", dataset_id)
        if not self.store.table_exists(table):
            return None
        return self.store.query_value(f"SELECT body FROM {table} WHERE kind = ? AND key = ?", [kind, key])

    def keep_report(self, dataset_id: int, kind: str, key: str, body: str, rows_version: int) -> None:
        """Keep a report (JSON) computed with inputs of this ``key``: derived data, the write version stays.

        ``rows_version`` is the dataset's :meth:`Store.rows_version` read before computing it: when
        a write (an import, a forget...) came meanwhile, or the dataset went, nothing is kept; nor in a store
        opened read-only (the report is then computed on each read).
        """
        table = schema.dataset_table("reports", dataset_id)
        if self.store.query_value("SELECT readonly FROM duckdb_databases() WHERE database_name = current_database()"):
            return
        with self.store.transaction(versioned=False) as tx:
            now = tx.fetchone(f"SELECT version FROM {schema.WRITE_VERSIONS} WHERE scope = ?",
                              [f"{ROWS_SCOPE}{int(dataset_id)}"])
            exists = tx.fetchone(f"SELECT count(*) FROM {schema.DATASETS} WHERE id = ?", [int(dataset_id)])[0]
            if not exists or int(now[0] if now else 0) != int(rows_version):
                return
            tx.execute(f"CREATE TABLE IF NOT EXISTS {table} (kind VARCHAR PRIMARY KEY, key VARCHAR NOT NULL, "
                       "body VARCHAR NOT NULL)")
            tx.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)", [kind, key, body])

    def preview_read_report(self, sample: pd.DataFrame, roles: dict[str, str],
                            options: NormalizeOptions) -> report.ReadReport:
        """The read report of a file not imported yet, on a sample of its rows; nothing is written.

        The sample is normalised with the plans an import would choose
        (:func:`~segmentation.ingest.normalize.plan_columns`, evidence taken
        from the sample), evaluated by queries over the registered frame.
        """
        raw = pa.table({"_row": pa.array(range(1, len(sample) + 1), pa.int64()),
                        **{c: pa.array(sample[c].astype(object).where(sample[c].notna(), None), pa.string())
                           for c in roles}})
        columns = report.report_columns(roles, options.missing)
        with self.store.transaction(versioned=False) as tx:  # reads only: registered views, no table
            tx.register("_preview_raw", raw)
            views: dict[int, str] = {}
            fills: dict[int, str] = {}
            try:
                plans = plan_columns(roles, sample, options, self._evidence_over(tx, "_preview_raw", roles, options))
                views = _mapping_views(tx, plans, "_preview_raw")
                # The import's own SELECT without its CREATE TABLE (the same expressions as the import),
                # evaluated once: the plans' expressions are long to compile.
                tx.register("_preview_sql", tx.df(statements.clean_select_sql(plans, "_preview_raw", views)))
                for i, plan in enumerate(plans):
                    if plan.mapper is not None and plan.fill:
                        distinct = tx.df(statements.unfilled_values_sql(plan, "_preview_raw", "_preview_sql"))
                        fills[i] = _register_mapping(tx, f"_fill_{i}", distinct, plan.mapper(distinct))
                tx.register("_preview_clean", tx.df(report.filled_sql("SELECT * FROM _preview_sql", plans, fills,
                                                                      "_preview_raw")))
                counts = tx.fetchone(report.counts_sql(columns, "_preview_raw", "_preview_clean"))
                unread = report.unread_columns(columns, counts)
                examples = report.examples_by_column(columns, tx.execute(
                    report.examples_sql(unread, "_preview_raw", "_preview_clean"))) if unread else {}
            finally:
                for view in ["_preview_raw", "_preview_sql", "_preview_clean", *views.values(), *fills.values()]:
                    tx.unregister(view)
        return report.build_report(columns, counts, examples)

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
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime

import pandas as pd
import pyarrow as pa

from ..core import schema
from ..core.errors import DatasetNotFoundError, NotFoundError
from ..core.store import Dataset, Store, Transaction, quote, unique_name
from . import statements
from .normalize import ColumnPlan, NormalizeOptions, plan_columns

Progress = Callable[[float, str], None]

_DATASET_COLUMNS = ("id, name, source_file, kind, imported_at, row_count, rejected_rows, file_format, "
                    "encoding, delimiter, sheet, columns, roles, options, warnings")
_REJECT_TYPES = {"line": "int64", "reason": object, "raw": object}


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def _dataset_from_row(row: tuple) -> Dataset:
    values = list(row)
    for i in (11, 12, 13, 14):
        values[i] = json.loads(values[i]) if values[i] is not None else ([] if i == 14 else {})
    return Dataset(*values)


def _register_mapping(tx: Transaction, view: str, distinct: pd.DataFrame, norm: pd.Series) -> str:
    """Make a raw -> normalised mapping visible to SQL as ``view``."""
    norm = pd.Series(norm, dtype=object)
    tx.register(view, pd.DataFrame({"value": distinct["value"].astype(object),
                                    "norm": norm.where(pd.notna(norm), None)}))
    return view


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
            cols = ", ".join(["_row"] + [quote(c) for c in ds.columns])
            tx.execute(f"CREATE TABLE {ds.raw_table} AS SELECT {cols} FROM _incoming")
            tx.unregister("_incoming")
            tx.register("_rejects", rejected.astype(_REJECT_TYPES))
            tx.execute(f"CREATE TABLE {ds.rejects_table} AS {statements.rejects_select_sql('_rejects')}")
            tx.unregister("_rejects")

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
            plans = plan_columns(ds.roles, sample, NormalizeOptions(**ds.options))
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
            plans = plan_columns(new_roles, sample, opts)
            ds.roles, ds.options = new_roles, asdict(opts)
            self.build_clean_table(tx, ds, plans, progress)
            tx.execute(f"UPDATE {schema.DATASETS} SET roles = ?, options = ? WHERE id = ?",
                       [json.dumps(ds.roles), json.dumps(ds.options), ds.id])
        return ds

    def build_clean_table(self, tx: Transaction, ds: Dataset, plans: list[ColumnPlan],
                          progress: Progress = _no_progress) -> None:
        """(Re)create the dataset's normalised table from its raw table, inside ``tx``.

        SQL plans run in one ``CREATE TABLE AS``; mapper plans are computed once
        per distinct raw value and joined back (categories), or fill afterwards
        what the SQL left NULL (phones that are not French).
        """
        progress(0.45, "Normalising")
        batched = tx.fetchone(statements.has_batches_sql(), [ds.raw_table])[0]
        source = f"({statements.current_versions_sql(ds)})" if batched else ds.raw_table
        views: dict[int, str] = {}
        for i, plan in enumerate(plans):
            if plan.mapper is not None and not plan.fill:
                progress(0.5, f"Normalising {plan.column}")
                distinct = tx.df(statements.distinct_values_sql(plan, source))
                views[i] = _register_mapping(tx, f"_map_{i}", distinct, plan.mapper(distinct))
        progress(0.6, "Writing normalised rows")
        tx.execute(f"DROP TABLE IF EXISTS {ds.clean_table}")
        tx.execute(statements.clean_table_sql(ds, plans, source, views))
        fills = []
        for i, plan in enumerate(plans):
            if plan.mapper is None or not plan.fill:
                continue
            progress(0.85, f"Normalising {plan.column}")
            distinct = tx.df(statements.unfilled_values_sql(plan, source, ds.clean_table))
            fills.append(_register_mapping(tx, f"_fill_{i}", distinct, plan.mapper(distinct)))
            tx.execute(statements.fill_sql(plan, source, ds.clean_table, fills[-1]))
        for view in [*views.values(), *fills]:
            tx.unregister(view)

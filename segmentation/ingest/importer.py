"""Import: a file's bytes in, a dataset out (raw rows, normalised rows, rejects).

Reading is :mod:`segmentation.readers`, role guessing :mod:`segmentation.roles`,
the normalisation plan :mod:`segmentation.normalize`; this module puts them
together and hands the SQL to the store, all in one transaction, so a failed
import leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..core.errors import ColumnError, InputFileError, check_choices
from ..core.store import Dataset, Store, Transaction, quote
from .normalize import ColumnPlan, NormalizeOptions, plan_columns
from .readers import ReadResult, read_file
from .roles import ROLES, guess_roles

Progress = Callable[[float, str], None]
KINDS = ("customers", "transactions")
SAMPLE_ROWS = 5000  # for decisions on values, such as the day/month order of dates
GUESS_ROWS = 2000  # for guessing roles: enough to see what a column holds
PREVIEW_BYTES = 512 * 1024


def _no_progress(_fraction: float, _message: str) -> None:
    return None


@dataclass(frozen=True)
class ImportSettings:
    """What to import and how; built the same way by the page, the CLI and the tests.

    Parameters
    ----------
    name : str, optional
        Dataset name; defaults to the file name without extension.
    sheet : str, optional
        Excel sheet; defaults to the first non-empty one.
    kind : {"customers", "transactions"}
        What the rows are.
    id_column : str, optional
        Column holding the record id (overrides the guess).
    roles : dict, optional
        Column → role, overriding the guessed roles for the columns named.
    default_region : str
        Region for phone numbers without a country prefix.
    date_order : {"auto", "dmy", "mdy"}
        Day/month order of ambiguous dates.
    max_bytes : int, optional
        Refuse larger files.
    append_to : str, optional
        Add the rows to this existing dataset instead (a later export of the
        same CRM): its columns, roles and options apply, and a row whose
        record id is already there updates that record (see
        :func:`current_versions_sql`).
    """

    name: str | None = None
    sheet: str | None = None
    kind: str = "customers"
    id_column: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    default_region: str = "FR"
    date_order: str = "auto"
    max_bytes: int | None = None
    append_to: str | None = None

    def normalize_options(self) -> NormalizeOptions:
        """The options the normaliser needs."""
        return NormalizeOptions(default_region=self.default_region, date_order=self.date_order)


@dataclass
class Preview:
    """What the user sees before importing: the first rows and the guesses."""

    frame: pd.DataFrame
    columns: list[str]
    roles: dict[str, str]
    file_format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]
    warnings: list[str]
    partial: bool


def _head_bytes(data: bytes, limit: int) -> tuple[bytes, bool]:
    """The first complete lines of a text file, at most about ``limit`` bytes."""
    if len(data) <= limit:
        return data, False
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    newline = b"\n\x00" if data[:2] == b"\xff\xfe" else (b"\x00\n" if utf16 else b"\n")
    cut = data.rfind(newline, 0, limit)
    if cut <= 0:
        return data, False
    end = cut + len(newline)
    if utf16 and end % 2:
        end += 1
    return data[:end], True


def preview_file(data: bytes, file_name: str, settings: ImportSettings = ImportSettings(),
                 rows: int = 20) -> Preview:
    """Read enough of a file to show its first rows and the guessed roles.

    CSV files are read from their first half megabyte only, so a preview of a
    large export is immediate; the full read happens on import.
    """
    is_zip = data[:4] == b"PK\x03\x04"
    head, partial = (data, False) if is_zip else _head_bytes(data, PREVIEW_BYTES)
    try:
        result = read_file(head, file_name, sheet=settings.sheet, max_bytes=settings.max_bytes)
    except InputFileError:
        if not partial:
            raise
        # A quoted cell may straddle the cut: read everything instead.
        result, partial = read_file(data, file_name, sheet=settings.sheet, max_bytes=settings.max_bytes), False
    if settings.max_bytes is not None and len(data) > settings.max_bytes:
        read_file(data, file_name, max_bytes=settings.max_bytes)  # raises the size error
    sample = result.table.slice(0, SAMPLE_ROWS).to_pandas()
    roles = _roles_for(result.columns, sample, settings)
    return Preview(frame=sample.head(rows), columns=result.columns, roles=roles,
                   file_format=result.file_format, encoding=result.encoding, delimiter=result.delimiter,
                   sheet=result.sheet, sheets=result.sheets, warnings=result.warnings, partial=partial)


def _roles_for(columns: list[str], sample: pd.DataFrame, settings: ImportSettings) -> dict[str, str]:
    roles = guess_roles(columns, sample)
    wanted = dict(settings.roles)
    if settings.id_column is not None:
        wanted.setdefault(settings.id_column, "id")
    check_choices(wanted, columns, ROLES, "roles")
    roles.update(settings.roles)
    if settings.id_column is not None:
        for col, role in roles.items():
            if role == "id" and col != settings.id_column:
                roles[col] = "text"
        roles[settings.id_column] = "id"
    return roles


def _with_row_numbers(table: pa.Table) -> pa.Table:
    return table.append_column("_row", pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64)))


RESERVED = ("_row", "_batch")


def _rename_reserved(result: ReadResult) -> ReadResult:
    """A user column called ``_row`` or ``_batch`` would collide with the store's own columns."""
    if not any(c.lower() in RESERVED for c in result.columns):
        return result
    taken = {c.lower() for c in result.columns}
    fixed = []
    for c in result.columns:
        if c.lower() in RESERVED:
            n = 2
            while f"{c} ({n})".lower() in taken:
                n += 1
            c = f"{c} ({n})"
            taken.add(c.lower())
        fixed.append(c)
    result.table = result.table.rename_columns(fixed)
    result.warnings.append(f"Columns called {list(RESERVED)} were renamed: those names are reserved.")
    result.columns = fixed
    return result


def build_clean_table(tx: Transaction, ds: Dataset, plans: list[ColumnPlan],
                      progress: Progress = _no_progress) -> None:
    """(Re)create the dataset's normalised table from its raw table.

    SQL plans run in one ``CREATE TABLE AS``; mapper plans are computed once
    per distinct raw value and joined back (categories), or fill afterwards
    what the SQL left NULL (phones that are not French).
    """
    progress(0.45, "Normalising")
    batched = tx.fetchone("SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
                          "AND column_name = '_batch'", [ds.raw_table])[0]
    source = f"({current_versions_sql(ds)})" if batched else ds.raw_table
    selects, joins = ["r._row"], []
    views = []
    for i, plan in enumerate(plans):
        col = f"r.{quote(plan.column)}"
        mapped_value = "NULL"
        if plan.mapper is not None and not plan.fill:
            progress(0.5, f"Normalising {plan.column}")
            distinct = tx.df(f"SELECT {col} AS value, count(*) AS n FROM {source} r "
                             f"WHERE {col} IS NOT NULL GROUP BY 1")
            views.append(_register_mapping(tx, f"_map_{i}", distinct, plan.mapper(distinct)))
            joins.append(f"LEFT JOIN {views[-1]} m{i} ON m{i}.value = {col}")
            mapped_value = f"m{i}.norm"
        expr = plan.expr.replace("{v}", col).replace("{m}", mapped_value)
        selects.append(f"CAST({expr} AS {plan.sql_type}) AS {quote(plan.column)}")
    progress(0.6, "Writing normalised rows")
    tx.execute(f"DROP TABLE IF EXISTS {ds.clean_table}")
    tx.execute(f"CREATE TABLE {ds.clean_table} AS SELECT {', '.join(selects)} "
               f"FROM {source} r {' '.join(joins)}")
    for i, plan in enumerate(plans):
        if plan.mapper is None or not plan.fill:
            continue
        progress(0.85, f"Normalising {plan.column}")
        q = quote(plan.column)
        distinct = tx.df(f"SELECT r.{q} AS value, count(*) AS n FROM {source} r "
                         f"JOIN {ds.clean_table} c USING (_row) WHERE c.{q} IS NULL AND r.{q} IS NOT NULL "
                         f"GROUP BY 1")
        views.append(_register_mapping(tx, f"_fill_{i}", distinct, plan.mapper(distinct)))
        tx.execute(f"UPDATE {ds.clean_table} SET {q} = CAST(m.norm AS {plan.sql_type}) "
                   f"FROM {source} r JOIN {views[-1]} m ON m.value = r.{q} "
                   f"WHERE {ds.clean_table}._row = r._row AND m.norm IS NOT NULL")
    for view in views:
        tx.unregister(view)


def current_versions_sql(ds: Dataset) -> str:
    """Raw rows to normalise once later files were added to a dataset.

    A later export of the same CRM repeats most records. A row whose record
    id first came in an earlier file is a newer version of that record: the
    last such row replaces it *under the record's first row number*, so
    merges, decisions and customer ids made on the record stay valid. Rows
    without an id, new ids, and repeated ids within one file are all kept.
    Every version stays in the raw table.
    """
    ids = ds.columns_with_role("id")
    if not ids:
        return f"SELECT * FROM {ds.raw_table}"
    key = f"coalesce(nullif(trim({quote(ids[0])}), ''), '#' || _row)"
    return (
        f"SELECT * EXCLUDE (_first, _first_batch, _last_batch, _last) "
        f"REPLACE (CASE WHEN _batch > _first_batch THEN _first ELSE _row END AS _row) FROM ("
        f"SELECT *, min(_row) OVER w AS _first, min(_batch) OVER w AS _first_batch, "
        f"max(_batch) OVER w AS _last_batch, max(_row) OVER w AS _last FROM {ds.raw_table} "
        f"WINDOW w AS (PARTITION BY {key})) "
        f"WHERE CASE WHEN _last_batch = _first_batch THEN true "
        f"WHEN _batch = _first_batch THEN _row <> _first ELSE _row = _last END"
    )


def _register_mapping(tx: Transaction, view: str, distinct: pd.DataFrame, norm: pd.Series) -> str:
    """Make a raw → normalised mapping visible to SQL as ``view``."""
    norm = pd.Series(norm, dtype=object)
    tx.register(view, pd.DataFrame({"value": distinct["value"].astype(object),
                                    "norm": norm.where(pd.notna(norm), None)}))
    return view


def import_file(store: Store, data: bytes, file_name: str, settings: ImportSettings = ImportSettings(),
                progress: Progress = _no_progress, upload_id: int | None = None) -> Dataset:
    """Read a CRM export and store it as a new dataset, normalised.

    Parameters
    ----------
    store : Store
        The working store.
    data : bytes
        The file's content.
    file_name : str
        Its name (shown to the user, used for the default dataset name).
    settings : ImportSettings
        Name, sheet, kind, roles and normalisation options.
    progress : callable, optional
        Called with a fraction in 0..1 and a message.
    upload_id : int, optional
        Id of the saved upload these bytes came from (the page keeps uploads;
        a file named on the command line stays where it is).

    Returns
    -------
    Dataset
        The new dataset's description.

    Raises
    ------
    InputFileError
        The file cannot be read; the store is unchanged.
    ColumnError
        A column named in the settings does not exist.
    """
    if settings.kind not in KINDS:
        raise InputFileError(f"Unknown kind {settings.kind!r}; expected one of {list(KINDS)}.")
    progress(0.05, f"Reading {file_name}")
    result = _rename_reserved(read_file(data, file_name, sheet=settings.sheet, max_bytes=settings.max_bytes))
    if settings.append_to:
        return _append(store, result, file_name, settings, progress, upload_id)
    sample = result.table.slice(0, SAMPLE_ROWS).to_pandas()
    roles = _roles_for(result.columns, sample.head(GUESS_ROWS), settings)
    options = asdict(settings.normalize_options())
    plans = plan_columns(roles, sample, settings.normalize_options())
    progress(0.3, "Storing raw rows")
    ds = Dataset(
        id=0, name="", source_file=file_name, kind=settings.kind, imported_at=datetime.now(),
        row_count=result.table.num_rows, rejected_rows=len(result.rejected),
        file_format=result.file_format, encoding=result.encoding, delimiter=result.delimiter,
        sheet=result.sheet, columns=result.columns, roles=roles, options=options, warnings=result.warnings)
    # Two transactions: DuckDB scans a table created in the same transaction ~2.5x slower.
    # The dataset becomes visible only with its row, written last; a failure drops the tables.
    with store.transaction() as tx:
        ds.id = tx.nextval("dataset_ids")
        tx.register("_incoming", _with_row_numbers(result.table))
        cols = ", ".join(["_row"] + [quote(c) for c in result.columns])
        tx.execute(f"CREATE TABLE {ds.raw_table} AS SELECT {cols} FROM _incoming")
        tx.unregister("_incoming")
        tx.register("_rejects", result.rejected.astype({"line": "int64", "reason": object, "raw": object}))
        tx.execute(f"CREATE TABLE {ds.rejects_table} AS SELECT line, reason, raw FROM _rejects")
        tx.unregister("_rejects")
    try:
        with store.transaction() as tx:
            build_clean_table(tx, ds, plans, progress)
            ds.name = store.unique_dataset_name(settings.name or Path(file_name).stem or "dataset")
            store.insert_dataset(tx, ds, upload_id)
    except BaseException:
        store.drop_orphan_tables()
        raise
    progress(1.0, "Imported")
    return ds


def _append(store: Store, result: ReadResult, file_name: str, settings: ImportSettings, progress: Progress,
            upload_id: int | None) -> Dataset:
    """Add a later export's rows to an existing dataset, all in one transaction."""
    ds = store.dataset(settings.append_to)
    fold = lambda c: c.strip().casefold()  # noqa: E731 - headers as a person reads them
    found = {fold(c): c for c in result.columns}
    missing = [c for c in ds.columns if fold(c) not in found]
    if missing:
        raise ColumnError(f"Missing columns {missing} that dataset {ds.name!r} has; found {result.columns}. "
                          "Add a file with the same columns, or import it as a new dataset.")
    known = {fold(c) for c in ds.columns}
    extra = [c for c in result.columns if fold(c) not in known]
    if extra:
        result.warnings.append(f"Columns {extra} are not in dataset {ds.name!r} and were left out.")
    table = _with_row_numbers(result.table.select([found[fold(c)] for c in ds.columns]).rename_columns(ds.columns))
    sample = store.read_table(ds.raw_table, ds.columns, limit=SAMPLE_ROWS)
    plans = plan_columns(ds.roles, sample, NormalizeOptions(**ds.options))
    ids = ds.columns_with_role("id")
    progress(0.3, "Adding rows")
    cols = ", ".join(quote(c) for c in ds.columns)
    fresh = _fresh_rows_sql(ds)
    with store.transaction() as tx:
        tx.register("_incoming", table)
        tx.execute(f"CREATE OR REPLACE TEMP TABLE _fresh AS {fresh}")  # the anti-join runs once
        tx.unregister("_incoming")
        kept = tx.fetchone("SELECT count(*) FROM _fresh")[0]
        if not kept:  # the same export again: nothing to add, and nothing is written
            tx.execute("DROP TABLE _fresh")
            ds.last_import = {"rows_read": table.num_rows, "rows_added": 0, "rows_updated": 0,
                              "rows_unchanged": table.num_rows, "batch": None}
            progress(1.0, f"Nothing new: every row of {file_name} is already in {ds.name}")
            return ds
        if not tx.fetchone("SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
                           "AND column_name = '_batch'", [ds.raw_table])[0]:
            tx.execute(f"ALTER TABLE {ds.raw_table} ADD COLUMN _batch INTEGER DEFAULT 1")
        offset, batch = tx.fetchone(f"SELECT coalesce(max(_row), 0), coalesce(max(_batch), 1) + 1 "
                                    f"FROM {ds.raw_table}")
        tx.execute(f"INSERT INTO {ds.raw_table} (_row, {cols}, _batch) "
                   f"SELECT _row + {int(offset)}, {cols}, {int(batch)} FROM _fresh ORDER BY _row")
        tx.execute("DROP TABLE _fresh")
        rejected = result.rejected.astype({"line": "int64", "reason": object, "raw": object})
        rejected["reason"] = file_name + ": " + rejected["reason"].astype(str)
        tx.register("_rejects", rejected)
        tx.execute(f"INSERT INTO {ds.rejects_table} SELECT line, reason, raw FROM _rejects")
        tx.unregister("_rejects")
        updated = 0
        if ids:
            q = quote(ids[0])
            updated = tx.fetchone(
                f"SELECT count(DISTINCT trim({q})) FROM {ds.raw_table} WHERE _batch = ? AND trim({q}) IN "
                f"(SELECT trim({q}) FROM {ds.raw_table} WHERE _batch < ?)", [batch, batch])[0]
        before = ds.row_count
        build_clean_table(tx, ds, plans, progress)
        ds.row_count = tx.fetchone(f"SELECT count(*) FROM {ds.clean_table}")[0]
        ds.rejected_rows += len(rejected)
        ds.warnings = [*ds.warnings, *(f"{file_name}: {w}" for w in result.warnings)]
        store.update_counts(tx, ds)
        tx.execute("INSERT INTO import_batches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [ds.id, batch, file_name, datetime.now(), table.num_rows, ds.row_count - before, updated,
                    upload_id])
    ds.last_import = {"rows_read": table.num_rows, "rows_added": ds.row_count - before, "rows_updated": updated,
                      "rows_unchanged": table.num_rows - kept, "batch": int(batch)}
    progress(1.0, f"{ds.row_count - before:,} new and {updated:,} updated records added to {ds.name}")
    return ds


def _fresh_rows_sql(ds: Dataset) -> str:
    """Rows of ``_incoming`` that are new or changed: a later export repeats most records as they were.

    A row is left out when it equals, column for column, the latest version
    of its record id (without an id column, or with an empty id: any stored
    row), so adding the same export twice adds nothing.
    """
    cols = [quote(c) for c in ds.columns]
    same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM l.{c}" for c in cols)
    ids = ds.columns_with_role("id")
    if ids:
        q = quote(ids[0])
        latest = (f"SELECT {', '.join(cols)} FROM {ds.raw_table} "
                  f"QUALIFY nullif(trim({q}), '') IS NULL "
                  f"OR row_number() OVER (PARTITION BY trim({q}) ORDER BY _row DESC) = 1")
    else:
        latest = f"SELECT DISTINCT {', '.join(cols)} FROM {ds.raw_table}"
    return f"SELECT i.* FROM _incoming i ANTI JOIN ({latest}) l ON {same}"


def import_upload(store: Store, upload_id: int, settings: ImportSettings = ImportSettings(),
                  progress: Progress = _no_progress, file_name: str | None = None) -> Dataset:
    """Import a file already saved with :meth:`Store.save_upload` (``file_name`` as uploaded this time)."""
    stored_name, data = store.upload(upload_id)
    return import_file(store, data, file_name or stored_name, settings, progress, upload_id=upload_id)


def import_path(store: Store, path: str | Path, settings: ImportSettings = ImportSettings(),
                progress: Progress = _no_progress) -> Dataset:
    """Import a file from disk (the CLI and the sample-data seeding)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"Cannot read {str(path)!r}: {exc.strerror}. Check the path.") from exc
    return import_file(store, data, path.name, settings, progress)


def set_roles(store: Store, dataset: str, roles: dict[str, str], options: NormalizeOptions | None = None,
              progress: Progress = _no_progress) -> Dataset:
    """Change column roles (and normalisation options) of a dataset and re-normalise it."""
    ds = store.dataset(dataset)
    check_choices(roles, ds.columns, ROLES, "roles")
    opts = options or NormalizeOptions(**ds.options)
    new_roles = {**ds.roles, **roles}
    sample = store.read_table(ds.raw_table, ds.columns, limit=SAMPLE_ROWS)
    plans = plan_columns(new_roles, sample, opts)
    ds.roles, ds.options = new_roles, asdict(opts)
    with store.transaction() as tx:
        build_clean_table(tx, ds, plans, progress)
        store.update_roles(tx, ds.id, new_roles, ds.options)
    progress(1.0, "Normalised")
    return ds


def rejected_rows(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Rows that could not be read, with their line number and the reason."""
    ds = store.dataset(dataset)
    return store.query_df(f"SELECT line, reason, raw FROM {ds.rejects_table} ORDER BY line")


def read_pairs_file(path: str | Path) -> pd.DataFrame:
    """A CSV of record-id pairs (``left_id,right_id``), as written by ``dedupe --pairs-out``."""
    path = Path(path)
    try:
        result = read_file(path.read_bytes(), path.name)
    except OSError as exc:
        raise InputFileError(f"Cannot read {str(path)!r}: {exc.strerror}. Check the path.") from exc
    frame = result.table.to_pandas()
    missing = [c for c in ("left_id", "right_id") if c not in frame.columns]
    if missing:
        raise ColumnError(f"Missing columns {missing}; found {list(frame.columns)}")
    return frame[["left_id", "right_id"]].dropna()

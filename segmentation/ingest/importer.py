"""Import: a file's bytes in, a dataset out (raw rows, normalised rows, rejects).

Reading is :mod:`segmentation.ingest.readers`, role guessing
:mod:`segmentation.ingest.roles`, the normalisation plan
:mod:`segmentation.ingest.normalize`; this module puts them together. It
executes no SQL: :class:`~segmentation.ingest.repository.DatasetsRepository`
(the ingest stage's only SQL executor) writes the rows, with the SQL text of
:mod:`segmentation.ingest.statements`. A failed import leaves the store as
it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..core.errors import InputFileError, MissingColumnsError, SettingError, check_choices
from ..core.store import Dataset, Store
from ..core.vocabulary import KINDS, MISSING_WORDS, ROLES
from ..i18n import message
from . import forget
from .dates import ORDERS
from .normalize import NormalizeOptions, plan_columns
from .readers import MAX_CELL_CHARS, CsvLayout, ReadResult, plain_csv, read_file
from .report import ReadReport
from .repository import DatasetsRepository
from .roles import guess_roles

Progress = Callable[[float, str], None]
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
        Region for phone numbers without a country prefix (and without a
        country column saying otherwise).
    date_order : {"auto", "dmy", "mdy", "ymd"}
        Day/month order of ambiguous dates; ``"auto"`` decides per column.
    decimal : {"auto", ",", "."}
        Decimal mark of amounts; ``"auto"`` decides per column.
    missing : tuple of str, optional
        Cell texts meaning "no value" (default
        :data:`segmentation.core.vocabulary.MISSING_WORDS`).
    max_bytes : int, optional
        Refuse larger files.
    append_to : str, optional
        Add the rows to this existing dataset instead (a later export of the
        same CRM): its columns, roles and options apply, and a row whose
        record id is already there updates that record (see
        :func:`segmentation.ingest.statements.current_versions_sql`).
    """

    name: str | None = None
    sheet: str | None = None
    kind: str = "customers"
    id_column: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    default_region: str = "FR"
    date_order: str = "auto"
    decimal: str = "auto"
    missing: tuple[str, ...] | None = None
    max_bytes: int | None = None
    append_to: str | None = None

    def normalize_options(self) -> NormalizeOptions:
        """The options the normaliser needs."""
        if self.date_order not in ("auto", *ORDERS):
            raise SettingError("date_order", self.date_order, f"one of {['auto', *ORDERS]}")
        if self.decimal not in ("auto", ",", "."):
            raise SettingError("decimal", self.decimal, "one of ['auto', ',', '.']")
        missing = MISSING_WORDS if self.missing is None else tuple(w.strip() for w in self.missing if w.strip())
        return NormalizeOptions(default_region=self.default_region.upper(), date_order=self.date_order,
                                decimal=self.decimal, missing=missing)


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
    #: How the previewed rows' values would be read with these roles and options (with a store only).
    report: ReadReport | None = None


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
                 rows: int = 20, repo: DatasetsRepository | None = None) -> Preview:
    """Read enough of a file to show its first rows and the guessed roles.

    CSV files are read from their first half megabyte (and windows spread over
    the rest, for the guesses: :func:`spread_rows`), so a preview of a large
    export is immediate; the full read happens on import. With ``repo``,
    the preview has the read report of its rows (up to :data:`SAMPLE_ROWS`,
    spread across them) with the settings' roles and options, nothing written.
    """
    head, partial = (data, False) if forget.is_workbook(data) else _head_bytes(data, PREVIEW_BYTES)
    try:
        result = read_file(head, file_name, sheet=settings.sheet, max_bytes=settings.max_bytes)
    except InputFileError:
        if not partial:
            raise
        # A quoted cell may straddle the cut: read everything instead.
        result, partial = read_file(data, file_name, sheet=settings.sheet, max_bytes=settings.max_bytes), False
    # The same column names the import will use (a ``_row`` header is renamed there): the page's roles,
    # keyed on these names, then name columns that exist.
    result = _rename_reserved(result)
    if settings.max_bytes is not None and len(data) > settings.max_bytes:
        read_file(data, file_name, max_bytes=settings.max_bytes)  # raises the size error
    # A large file: the roles and the read report also see rows spread over the rest of it.
    rest = spread_rows(data, result, file_name) if partial else None
    seen = result.table if rest is None else pa.concat_tables([result.table, rest])
    roles = _roles_for(result.columns, spread_sample(seen, GUESS_ROWS), settings)
    report = None
    if repo is not None:
        report = repo.preview_read_report(spread_sample(seen, SAMPLE_ROWS), roles, settings.normalize_options())
    return Preview(frame=result.table.slice(0, rows).to_pandas(), columns=result.columns, roles=roles,
                   file_format=result.file_format, encoding=result.encoding, delimiter=result.delimiter,
                   sheet=result.sheet, sheets=result.sheets, warnings=result.warnings, partial=partial,
                   report=report)


def spread_sample(table: pa.Table, rows: int) -> pd.DataFrame:
    """At most ``rows`` rows drawn evenly across the whole table (first and last included), as strings.

    Roles and value decisions see the whole file, not only its first rows
    (an export sorted by date, or whose late rows differ, is judged right).
    """
    picks = _spread_picks(table.num_rows, rows)
    return table.to_pandas() if picks is None else table.take(pa.array(picks)).to_pandas()


def _spread_picks(n: int, rows: int) -> np.ndarray | None:
    """The 0-based positions :func:`spread_sample` draws from ``n`` rows; None for all of them."""
    if n <= rows:
        return None
    return np.unique(np.linspace(0, n - 1, rows).round().astype(np.int64))


def _stored_spread(repo: DatasetsRepository, ds: Dataset, rows: int) -> pd.DataFrame:
    """:func:`spread_sample` of a dataset's raw table just stored (the same rows, read back)."""
    picks = _spread_picks(ds.row_count, rows)
    return repo.raw_rows_at(ds, None if picks is None else (picks + 1).tolist())


def _check_setting_roles(columns: list[str], settings: ImportSettings) -> None:
    """The columns and roles the settings name exist (:class:`ColumnError` otherwise)."""
    wanted = dict(settings.roles)
    if settings.id_column is not None:
        wanted.setdefault(settings.id_column, "id")
    check_choices(wanted, columns, ROLES, "roles")


def _roles_for(columns: list[str], sample: pd.DataFrame, settings: ImportSettings) -> dict[str, str]:
    roles = guess_roles(columns, sample)
    _check_setting_roles(columns, settings)
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
    fixed = _reserved_free(result.columns)
    if fixed is None:
        return result
    result.table = result.table.rename_columns(fixed)
    result.warnings.append(RESERVED_WARNING)
    result.columns = fixed
    return result


RESERVED_WARNING = f"Columns called {list(RESERVED)} were renamed: those names are reserved."


def _reserved_free(columns: list[str]) -> list[str] | None:
    """``columns`` with ``_row`` and ``_batch`` renamed (``_row (2)``); None if none is reserved."""
    if not any(c.lower() in RESERVED for c in columns):
        return None
    taken = {c.lower() for c in columns}
    fixed = []
    for c in columns:
        if c.lower() in RESERVED:
            n = 2
            while f"{c} ({n})".lower() in taken:
                n += 1
            c = f"{c} ({n})"
            taken.add(c.lower())
        fixed.append(c)
    return fixed


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
        raise SettingError("kind", settings.kind, f"one of {list(KINDS)}")
    repo = DatasetsRepository(store)
    progress(0.05, message("Reading {file}", file=file_name))
    dataset_id = None
    if not settings.append_to:
        plain = _import_plain(repo, data, file_name, settings, progress, upload_id)
        if isinstance(plain, Dataset):
            return plain
        dataset_id = plain
    result = _rename_reserved(read_file(data, file_name, sheet=settings.sheet, max_bytes=settings.max_bytes))
    if settings.append_to:
        return _append(repo, result, file_name, settings, progress, upload_id)
    roles = _roles_for(result.columns, spread_sample(result.table, GUESS_ROWS), settings)
    result.table, skipped = _skip_forgotten(repo, result.table, roles)
    sample = spread_sample(result.table, SAMPLE_ROWS)
    normalize_options = settings.normalize_options()
    options = asdict(normalize_options)
    progress(0.3, message("Storing raw rows"))
    ds = Dataset(
        id=0, name="", source_file=file_name, kind=settings.kind, imported_at=datetime.now(),
        row_count=result.table.num_rows, rejected_rows=len(result.rejected),
        file_format=result.file_format, encoding=result.encoding, delimiter=result.delimiter,
        sheet=result.sheet, columns=result.columns, roles=roles, options=options, warnings=result.warnings)
    # Two transactions (DuckDB scans a table created in the same transaction ~2.5x slower); the dataset
    # becomes visible only with its row, written last. Until then its tables are "pending": the orphan
    # clean-up of another session leaves them alone. A failure drops them.
    ds.id = repo.next_dataset_id() if dataset_id is None else dataset_id
    try:
        with store.pending(ds.id):
            repo.store_raw(ds, _with_row_numbers(result.table), result.rejected)
            progress(0.4, NORMALISING)
            plans = plan_columns(roles, sample, normalize_options, repo.evidence(ds, roles, normalize_options))
            repo.commit_new(ds, plans, settings.name or Path(file_name).stem or "dataset", upload_id, progress)
    except BaseException:
        repo.drop_orphan_tables()
        raise
    ds.last_import = {"forgotten_rows_skipped": skipped} if skipped else None
    progress(1.0, message("Import finished"))
    return ds


def _import_plain(repo: DatasetsRepository, data: bytes, file_name: str, settings: ImportSettings,
                  progress: Progress, upload_id: int | None) -> Dataset | int | None:
    """The import of a plain CSV file (:func:`~segmentation.ingest.readers.plain_csv`), parsed by DuckDB.

    DuckDB's multi-threaded reader writes the raw table straight from the
    file's records (no Arrow table, no copy in Python); roles and value
    decisions see the same spread rows, read back. Returns the dataset; or,
    at the first doubt (not a plain file, a row DuckDB refuses, another row
    count, people to skip), nothing written and the dataset id taken, if any,
    for :func:`import_file`'s careful path, which gives the same result.
    """
    layout = plain_csv(data, file_name, settings.max_bytes)
    if layout is None or repo.forgotten_hashes()[1]:
        return None
    columns = _reserved_free(layout.columns)
    warnings = list(layout.warnings) if columns is None else [*layout.warnings, RESERVED_WARNING]
    columns = columns or layout.columns
    _check_setting_roles(columns, settings)
    normalize_options = settings.normalize_options()
    progress(0.3, message("Storing raw rows"))
    ds = Dataset(
        id=repo.next_dataset_id(), name="", source_file=file_name, kind=settings.kind, imported_at=datetime.now(),
        row_count=layout.rows, rejected_rows=0, file_format="csv", encoding=layout.encoding,
        delimiter=layout.delimiter, sheet=None, columns=columns, roles={}, options=asdict(normalize_options),
        warnings=warnings)
    try:
        with repo.store.pending(ds.id):
            with _records_file(layout) as path:
                if not repo.store_raw_csv(ds, path, layout.delimiter, layout.rows, _LINE_LIMIT):
                    return ds.id
            ds.roles = _roles_for(columns, _stored_spread(repo, ds, GUESS_ROWS), settings)
            sample = _stored_spread(repo, ds, SAMPLE_ROWS)
            progress(0.4, NORMALISING)
            plans = plan_columns(ds.roles, sample, normalize_options, repo.evidence(ds, ds.roles, normalize_options))
            repo.commit_new(ds, plans, settings.name or Path(file_name).stem or "dataset", upload_id, progress)
    except BaseException:
        repo.drop_orphan_tables()
        raise
    progress(1.0, message("Import finished"))
    return ds


# Bytes: a line no longer than a cell's most characters holds no cell over them (DuckDB refuses a longer line,
# then read_file measures its cells). Two bytes less, for a line end DuckDB might count.
_LINE_LIMIT = MAX_CELL_CHARS - 2
#: Normalisation starts with the formats of each column (day/month order, decimal mark), decided from all its values.
NORMALISING = message("Normalising: reading each column's formats")


@contextmanager
def _records_file(layout: CsvLayout) -> Iterator[str]:
    """The layout's records written to a private temporary file (in memory, ``/dev/shm``, where there is room)."""
    size = layout.end - layout.start
    where = None
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        with_room = shutil.disk_usage("/dev/shm").free > 2 * size
        where = "/dev/shm" if with_room else None
    handle, path = tempfile.mkstemp(prefix="segment-studio-", suffix=".csv", dir=where)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(memoryview(layout.body)[layout.start:layout.end])
        yield path
    finally:
        os.unlink(path)


def _skip_forgotten(repo: DatasetsRepository, table: pa.Table, roles: dict[str, str]) -> tuple[pa.Table, int]:
    """The rows of ``table`` not of a forgotten person (by e-mail or record id); and how many were skipped."""
    salt, hashes = repo.forgotten_hashes()
    columns = {kind: [c for c, r in roles.items() if r == kind] for kind in forget.IDENTIFIERS}
    return forget.forgotten_mask(table, columns, salt, hashes)


def _append(repo: DatasetsRepository, result: ReadResult, file_name: str, settings: ImportSettings,
            progress: Progress, upload_id: int | None) -> Dataset:
    """Add a later export's rows to an existing dataset, all in one transaction."""
    ds = repo.dataset(settings.append_to)
    fold = lambda c: c.strip().casefold()  # noqa: E731 - headers as a person reads them
    found = {fold(c): c for c in result.columns}
    missing = [c for c in ds.columns if fold(c) not in found]
    if missing:
        raise MissingColumnsError(missing, result.columns, where=file_name,
                                  hint=f"Dataset {ds.name!r} has them: add a file with the same columns, "
                                       "or import it as a new dataset")
    known = {fold(c) for c in ds.columns}
    extra = [c for c in result.columns if fold(c) not in known]
    if extra:
        result.warnings.append(f"Columns {extra} are not in dataset {ds.name!r} and were left out.")
    chosen = result.table.select([found[fold(c)] for c in ds.columns]).rename_columns(ds.columns)
    chosen, skipped = _skip_forgotten(repo, chosen, ds.roles)
    table = _with_row_numbers(chosen)
    progress(0.3, message("Adding rows"))
    ds = repo.append(ds.id, table, result.rejected, file_name, result.warnings, upload_id, SAMPLE_ROWS, progress)
    added = ds.last_import
    if skipped:
        added["forgotten_rows_skipped"] = skipped
    if added["batch"] is None:
        progress(1.0, message("Nothing new: every row of {file} is already in {dataset}", file=file_name,
                              dataset=ds.name))
    else:
        progress(1.0, message("{added} new and {updated} updated records added to {dataset}", added=added["rows_added"],
                               updated=added["rows_updated"], dataset=ds.name))
    return ds


def import_upload(store: Store, upload_id: int, settings: ImportSettings = ImportSettings(),
                  progress: Progress = _no_progress, file_name: str | None = None) -> Dataset:
    """Import a file already saved with :meth:`DatasetsRepository.save_upload` (``file_name`` as uploaded this time)."""
    stored_name, data = DatasetsRepository(store).upload(upload_id)
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
    repo = DatasetsRepository(store)
    ds = repo.dataset(dataset)
    check_choices(roles, ds.columns, ROLES, "roles")
    ds = repo.renormalise(ds.id, roles, options, SAMPLE_ROWS, progress)
    progress(1.0, message("Normalised"))
    return ds


def rejected_rows(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Rows that could not be read, with their line number and the reason."""
    repo = DatasetsRepository(store)
    return repo.rejected_rows(repo.dataset(dataset))


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
        raise MissingColumnsError(missing, list(frame.columns), where=path.name)
    return frame[["left_id", "right_id"]].dropna()


SPREAD_CHUNKS = 32  # windows of a large text file read for the preview's role guesses
SPREAD_CHUNK_BYTES = 16 * 1024


def spread_rows(data: bytes, head: ReadResult, file_name: str) -> pa.Table | None:
    """Rows from windows spread over a large text file beyond its head, read like the head; None if none.

    The preview reads only the first half megabyte; role guesses must also see
    the rest of the file (an export sorted by date, late rows that differ).
    Each window is cut to whole lines and read under the head's header; rows
    a window cuts badly (inside a quoted cell) are set aside by the reader.
    """
    if head.file_format != "csv" or (head.encoding or "").startswith("utf-16"):
        return None
    start = data.find(b"\n") + 1
    if start <= 0 or len(data) <= PREVIEW_BYTES + SPREAD_CHUNK_BYTES:
        return None
    pieces = [data[:start]]
    for offset in np.linspace(PREVIEW_BYTES, len(data) - SPREAD_CHUNK_BYTES, SPREAD_CHUNKS).astype(np.int64):
        window = data[offset:offset + SPREAD_CHUNK_BYTES]
        first, last = window.find(b"\n"), window.rfind(b"\n")
        if 0 <= first < last:
            pieces.append(window[first + 1:last + 1])
    try:
        table = read_file(b"".join(pieces), file_name).table
    except InputFileError:
        return None
    if table.num_columns != head.table.num_columns:
        return None
    return table.rename_columns(head.table.column_names)

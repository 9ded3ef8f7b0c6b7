"""The ingest stage on the facade: ``workspace.ingest`` (uploads, imports, datasets) and ``handle.ingest``.

Thin methods over :mod:`segmentation.ingest.importer` and
:mod:`segmentation.ingest.quality`; every SQL statement of the stage runs in
:mod:`segmentation.ingest.repository`, the stage's only SQL executor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..activate.export import to_csv_bytes
from ..core.errors import SettingError
from ..core.stage import Stage
from ..core.store import Dataset
from . import importer, quality, report
from .forget import ForgetResult
from .importer import ImportSettings, Preview
from .normalize import NormalizeOptions
from .quality import QualityReport, QualitySettings
from .report import ReadReport
from .repository import DatasetsRepository

if TYPE_CHECKING:  # the workspace imports this module; the stage only needs its shape
    from ..workspace import DatasetHandle, Workspace

Progress = Callable[[float, str], None]
#: The format of the kept reports (part of their key): changed with the way they are computed.
REPORTS_FORMAT = 1
#: Hours after which an upload no dataset was imported from (an abandoned one) is deleted.
STALE_UPLOAD_HOURS = 24


def _no_progress(_fraction: float, _message: str) -> None:
    return None


@dataclass(frozen=True)
class ImportResult:
    """What an import did; :meth:`to_dict` is the JSON of the CLI's ``import`` command.

    The ``rows_*`` figures are set when the file was added to an existing
    dataset (a later export): rows read, new records, updated records and
    rows already there as they were; ``batch`` is None when nothing was new.
    ``report`` is the read report of every column (the JSON's ``columns``);
    ``warnings`` what the reader said of the file (lines set aside, a header
    renamed, formulas without a saved value...), in English.
    """

    dataset: str
    rows: int
    columns: list[str]
    encoding: str | None
    delimiter: str | None
    rejected_rows: int
    rows_read: int | None = None
    rows_added: int | None = None
    rows_updated: int | None = None
    rows_unchanged: int | None = None
    batch: int | None = None
    forgotten_rows_skipped: int = 0
    report: ReadReport | None = None
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, ds: Dataset, report: ReadReport | None = None) -> ImportResult:
        """The result of the import that returned ``ds`` (with the dataset's read report, if given)."""
        added = ds.last_import or {}
        return cls(dataset=ds.name, report=report, rows=ds.row_count, columns=list(ds.columns), encoding=ds.encoding,
                   delimiter=ds.delimiter, rejected_rows=ds.rejected_rows, rows_read=added.get("rows_read"),
                   rows_added=added.get("rows_added"), rows_updated=added.get("rows_updated"),
                   rows_unchanged=added.get("rows_unchanged"), batch=added.get("batch"),
                   forgotten_rows_skipped=added.get("forgotten_rows_skipped", 0),
                   warnings=tuple(str(w) for w in ds.warnings or ()))

    @property
    def appended(self) -> bool:
        """Whether the file was added to an existing dataset."""
        return self.rows_read is not None

    def to_dict(self) -> dict:
        """Plain JSON-ready figures (the later-export figures only for a later export).

        ``columns`` lists, with a report, each column's read figures
        (:meth:`~segmentation.ingest.report.ColumnRead.to_dict`: ``name``, ``role``,
        ``read``, ``invalid``, ``missing``, ``examples_unread``...); without one, the names.
        """
        columns = self.columns if self.report is None else [c.to_dict() for c in self.report.columns]
        out = {"dataset": self.dataset, "rows": self.rows, "columns": columns, "encoding": self.encoding,
               "delimiter": self.delimiter, "rejected_rows": self.rejected_rows, "warnings": list(self.warnings)}
        if self.appended:
            out.update({"rows_read": self.rows_read, "rows_added": self.rows_added,
                        "rows_updated": self.rows_updated, "rows_unchanged": self.rows_unchanged})
        if self.forgotten_rows_skipped:  # rows of people erased with ``forget``, still in the source export
            out["forgotten_rows_skipped"] = self.forgotten_rows_skipped
        return out


@dataclass(frozen=True)
class DatasetSummary:
    """One line of the list of datasets; :meth:`to_dict` is the CLI's ``datasets`` JSON."""

    name: str
    kind: str
    rows: int
    imported_at: str

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "rows": self.rows, "imported_at": self.imported_at}


def _identifier(email: str | None, id: str | None) -> tuple[str, str]:
    if (email is None) == (id is None):
        raise SettingError("person", None, "an e-mail or a record id (one of them)",
                           "Name the person to forget by --email or by --id (one of them).")
    return ("email", email) if email is not None else ("id", id)


class IngestStage(Stage):
    """The ingest operations of one dataset: roles, the quality report, rejected rows, later exports."""

    @cached_property
    def repository(self) -> DatasetsRepository:
        return DatasetsRepository(self.store)

    def import_result(self) -> ImportResult:
        """The dataset's import figures and read report; on a handle an import returned, what that file added."""
        return ImportResult.of(self.dataset, self.read_report())

    def read_report(self) -> ReadReport:
        """Per column, how many values were read, could not be read (with examples) or were missing.

        Kept once computed (see :meth:`_inputs`): read again while the dataset's records are unchanged.
        """
        version, key = self._inputs()

        def compute() -> ReadReport:
            counts, _ = report.split_pass(self._column_pass(version, key))
            return self.repository.read_report(self.dataset, counts)

        return self._kept("read", key, version, compute, ReadReport.to_json, ReadReport.from_json)

    def _kept(self, kind: str, key: str, version: int, compute: Callable[[], object],
              encode: Callable[[object], str], decode: Callable[[str], object]):
        """The report ``kind`` kept under ``key``; else computed, kept (at the rows' ``version``) and returned."""
        kept = self.repository.kept_report(self.dataset.id, kind, key)
        if kept is not None:
            return decode(kept)
        found = compute()
        self.repository.keep_report(self.dataset.id, kind, key, encode(found), version)
        return found

    def _inputs(self) -> tuple[int, str]:
        """The version of the dataset's records and the key of the reports' inputs.

        The rows' version moves with every write naming the dataset that may change its imported rows (an
        import, a later export, new roles, a forget; not a merge, a rule, a run, RFM or an audience); its
        columns, roles, options and counts are in the key too, and :data:`REPORTS_FORMAT`, so that a report
        computed by another version of the code is not read.
        """
        ds = self.dataset
        version = self.store.rows_version(ds.id)
        return version, json.dumps([REPORTS_FORMAT, version, ds.columns, ds.roles, ds.options, ds.row_count,
                                    ds.rejected_rows], default=str, sort_keys=True)

    def _column_pass(self, version: int, key: str) -> tuple:
        """Both reports' per-column figures (one pass over the rows), kept like the reports."""
        return self._kept("columns", key, version, lambda: self.repository.column_pass(self.dataset),
                          lambda row: json.dumps([int(v) for v in row]), lambda text: tuple(json.loads(text)))

    def summary(self) -> DatasetSummary:
        """Name, kind, rows and import time."""
        ds = self.dataset
        return DatasetSummary(ds.name, ds.kind, ds.row_count, ds.imported_at.isoformat(timespec="seconds"))

    def set_roles(self, roles: dict[str, str], options: NormalizeOptions | None = None,
                  progress: Progress | None = None) -> DatasetHandle:
        """Give columns other roles (and options) and normalise the dataset again; returns the handle reloaded."""
        importer.set_roles(self.store, self.dataset.name, roles, options, progress or _no_progress)
        return self.handle.reload()

    def quality(self, settings: QualitySettings | None = None) -> QualityReport:
        """The data-quality report (missing, invalid, outliers, duplicates, stale profiles, correlations).

        Kept once computed, for the last settings (and reference date) asked, like :meth:`read_report`.
        """
        settings = settings or QualitySettings()
        version, key = self._inputs()
        # Every setting is part of the key (a new one too), the reference date as the day it is today.
        wanted = json.dumps([key, {**asdict(settings), "today": settings.reference_date().isoformat()}],
                            sort_keys=True)

        def compute() -> QualityReport:
            _, columns = report.split_pass(self._column_pass(version, key))
            return quality.report(self.repository, self.dataset, settings, column_row=columns)

        return self._kept("quality", wanted, version, compute, QualityReport.to_json,
                          lambda text: replace(QualityReport.from_json(text), dataset=self.dataset.name))

    def issue_rows(self, key: str, settings: QualitySettings | None = None, limit: int | None = None) -> pd.DataFrame:
        """The rows behind one issue of :meth:`quality` (an :class:`~segmentation.ingest.quality.Issue` key).

        ``limit`` gives the first rows only (to show some).
        """
        return quality.rows_of(self.repository, self.dataset, key, settings or QualitySettings(), limit)

    def issue_rows_csv(self, key: str, settings: QualitySettings | None = None) -> bytes:
        """:meth:`issue_rows` as a CSV file (formula cells neutralised), for download."""
        return to_csv_bytes(self.issue_rows(key, settings))

    def rejected_rows(self) -> pd.DataFrame:
        """Rows that could not be read: ``line``, ``reason``, ``raw``."""
        return self.repository.rejected_rows(self.dataset)

    def batches(self) -> pd.DataFrame:
        """The later exports added to this dataset, in order."""
        return self.repository.import_batches(self.handle.id)

    def append(self, data: bytes, file_name: str, progress: Progress | None = None,
               upload_id: int | None = None) -> DatasetHandle:
        """Add a later export of the same CRM (same record id = updated record); see :meth:`import_result`."""
        ds = importer.import_file(self.store, data, file_name, ImportSettings(append_to=self.dataset.name),
                                  progress or _no_progress, upload_id=upload_id)
        return self.handle.workspace.ingest.handle_of(ds)


class WorkspaceIngest:
    """Uploads, imports of new files and datasets as a whole (``workspace.ingest``)."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.store = workspace.store

    @cached_property
    def repository(self) -> DatasetsRepository:
        """The ingest stage's tables (uploads, datasets, import batches)."""
        return DatasetsRepository(self.store)

    def handle_of(self, ds: Dataset) -> DatasetHandle:
        """A handle on the dataset an import returned, read again, with what the import did."""
        handle = self.workspace.dataset_by_id(ds.id)
        handle.info.last_import = ds.last_import
        return handle

    # -- uploads ------------------------------------------------------------
    def save_upload(self, file_name: str, data: bytes) -> int:
        """Keep an uploaded file's bytes in the store once (by content); returns the upload's id."""
        return self.repository.save_upload(file_name, data)

    def upload(self, upload_id: int) -> tuple[str, bytes]:
        """File name and bytes of a saved upload."""
        return self.repository.upload(upload_id)

    def uploads(self) -> pd.DataFrame:
        """Every stored upload: ``id``, ``file_name``, ``bytes``, ``uploaded_at``, ``used_by`` (dataset names)."""
        return self.repository.uploads()

    def dataset_sizes(self) -> pd.DataFrame:
        """Every dataset: ``name``, ``kind``, ``rows``, ``bytes`` (of the uploads it was imported from)."""
        return self.repository.dataset_sizes()

    def delete_upload(self, upload_id: int) -> bool:
        """Delete a stored upload on request (datasets imported from it stay); False if it was not there."""
        return self.repository.delete_upload(upload_id)

    def discard_upload(self, upload_id: int) -> bool:
        """Delete an upload no dataset was imported from (refused, or abandoned); True if it was deleted."""
        return self.repository.discard_upload(upload_id)

    def discard_stale_uploads(self, hours: float = STALE_UPLOAD_HOURS) -> int:
        """Delete the uploads older than ``hours`` that no dataset was imported from; returns how many.

        An upload is kept only as long as needed: the page previews it, then imports it (the dataset keeps
        a link to its bytes) or moves on. One left behind by a closed browser tab is deleted when the app
        next opens the store, once it is :data:`STALE_UPLOAD_HOURS` (24) hours old.
        """
        return self.repository.discard_stale_uploads(datetime.now() - timedelta(hours=hours))

    def preview(self, upload_id: int, sheet: str | None = None, settings: ImportSettings | None = None,
                report: bool = True) -> Preview:
        """The first rows of a saved upload, the guessed roles and the read report, before importing it.

        ``settings`` are the roles and options the user chose so far (their
        ``sheet`` unless ``sheet`` is given); the report reads the previewed
        rows with them, writing nothing. ``report=False`` leaves it out (only
        the guesses are wanted).
        """
        file_name, data = self.repository.upload(upload_id)
        settings = settings or ImportSettings()
        if sheet is not None:
            settings = replace(settings, sheet=sheet)
        return importer.preview_file(data, file_name, settings, repo=self.repository if report else None)

    # -- imports ------------------------------------------------------------
    def import_upload(self, upload_id: int, settings: ImportSettings | None = None,
                      progress: Progress | None = None, file_name: str | None = None) -> DatasetHandle:
        """Import a saved upload as a new dataset (or into ``settings.append_to``)."""
        return self.handle_of(importer.import_upload(self.store, upload_id, settings or ImportSettings(),
                                                     progress or _no_progress,
                                                     file_name=file_name))

    def import_path(self, path: str | Path, settings: ImportSettings | None = None,
                    progress: Progress | None = None) -> DatasetHandle:
        """Import a file from disk as a new dataset (or into ``settings.append_to``)."""
        return self.handle_of(importer.import_path(self.store, path, settings or ImportSettings(),
                                                   progress or _no_progress))

    def import_bytes(self, data: bytes, file_name: str, settings: ImportSettings | None = None,
                     progress: Progress | None = None) -> DatasetHandle:
        """Import a file's bytes as a new dataset (or into ``settings.append_to``)."""
        return self.handle_of(importer.import_file(self.store, data, file_name, settings or ImportSettings(),
                                                   progress or _no_progress))

    # -- the right to be forgotten -----------------------------------------------
    def forget(self, email: str | None = None, id: str | None = None, dataset: str | None = None) -> ForgetResult:
        """Remove a person (by e-mail, or record id) from every table of every dataset (or of ``dataset``).

        See :meth:`DatasetsRepository.forget`; later imports and refreshes skip the person's rows
        until :meth:`lift`.
        """
        kind, value = _identifier(email, id)
        return self.repository.forget(kind, value, dataset)

    def lift(self, email: str | None = None, id: str | None = None) -> ForgetResult:
        """Let a forgotten person be imported again (the audit lines stay, marked lifted)."""
        kind, value = _identifier(email, id)
        return ForgetResult(identifier=kind, lifted=self.repository.lift(kind, value))

    # -- datasets -----------------------------------------------------------
    def summaries(self, kind: str | None = None) -> list[DatasetSummary]:
        """Every dataset, newest first: name, kind, rows, import time."""
        return [h.ingest.summary() for h in self.workspace.datasets(kind)]

    def delete(self, name: str) -> None:
        """Remove a dataset, its tables and everything every stage kept about it."""
        self.repository.delete(self.repository.dataset(name).id)

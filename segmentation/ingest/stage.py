"""The ingest stage as a dataset handle carries it (``handle.ingest``)."""

from __future__ import annotations

from functools import cached_property

from ..core.stage import Stage
from ..core.store import Dataset
from .importer import ImportSettings, import_path
from .repository import DatasetsRepository


class IngestStage(Stage):
    """The ingest operations of one dataset."""


class WorkspaceIngest:
    """Imports and datasets as a whole (``workspace.ingest``)."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.store = workspace.store

    @cached_property
    def repository(self) -> DatasetsRepository:
        """The ingest stage's tables (uploads, datasets, import batches)."""
        return DatasetsRepository(self.store)

    def import_path(self, path, settings: ImportSettings | None = None, progress=None) -> Dataset:
        """Import a file from disk as a new dataset (or into ``settings.append_to``)."""
        kwargs = {"progress": progress} if progress else {}
        return import_path(self.store, path, settings or ImportSettings(), **kwargs)

"""The facade: a workspace (one store file) and the dataset handles it hands out.

Pages, ``app_state`` and the CLI use only this module (through
:mod:`segmentation`). A handle is resolved once and carries its stages, the
way Splink's ``Linker`` carries its components and sqlite-utils' ``Database``
hands out ``Table`` objects::

    ws = open_workspace("workspace.duckdb")
    ds = ws.dataset("sample customers")
    ds.dedupe.find()
    ds.segments.scan(features, 2, 10)
    ds.audiences.count(spec)

Each stage package (``ingest``, ``dedupe``, ``customers``, ``segment``,
``behaviour``, ``activate``, ``automate``) defines its stage class in its
``stage.py``; the handle builds them on first use.
"""

from __future__ import annotations

import os
from functools import cached_property

from .activate.stage import AudiencesStage
from .automate.stage import RefreshStage
from .behaviour.stage import BehaviourStage
from .core.store import Dataset, Store
from .customers.stage import CustomersStage
from .dedupe.stage import DedupeStage
from .ingest.stage import IngestStage, WorkspaceIngest
from .segment.stage import SegmentsStage


class Workspace:
    """One working store, opened once per process.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The store file (``--db``); else ``$SEGMENT_STUDIO_DB``, else ``workspace.duckdb``.
    read_only : bool
        Open without writing.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False):
        self.store = Store(path, read_only=read_only)

    # -- the file ----------------------------------------------------------
    @property
    def path(self):
        """Where the store file is."""
        return self.store.path

    @property
    def version(self) -> int:
        """The store's write version: bumped by every committed write; caches key on it."""
        return self.store.version()

    def close(self) -> None:
        """Close the store (the file stays)."""
        self.store.close()

    def preference(self, key: str) -> str | None:
        """A preference the user chose (``"language"``: ``"fr"`` or ``"en"``), kept in the store; None if never set."""
        return self.store.preference(key)

    def set_preference(self, key: str, value: str | None) -> None:
        """Remember a preference in the store (None forgets it); caches stay valid (no write version moves)."""
        self.store.set_preference(key, value)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- datasets ----------------------------------------------------------
    def datasets(self, kind: str | None = None) -> list[DatasetHandle]:
        """Every dataset, newest first, optionally of one kind (``customers`` or ``transactions``)."""
        return [DatasetHandle(self, info) for info in self.ingest.repository.datasets(kind)]

    def names(self, kind: str | None = None) -> list[str]:
        """The names of :meth:`datasets`."""
        return [d.name for d in self.datasets(kind)]

    def dataset(self, name: str | None = None, kind: str = "customers") -> DatasetHandle:
        """A dataset by name, or the newest of ``kind`` when ``name`` is None (:class:`NotFoundError` if none)."""
        return DatasetHandle(self, self.ingest.repository.dataset(name, kind))

    def dataset_by_id(self, dataset_id: int) -> DatasetHandle:
        """A dataset by its id."""
        return DatasetHandle(self, self.ingest.repository.dataset_by_id(dataset_id))

    # -- workspace-level stages -------------------------------------------
    @cached_property
    def ingest(self) -> WorkspaceIngest:
        """Uploads, imports of new files, and datasets as a whole (delete, list)."""
        return WorkspaceIngest(self)

    @cached_property
    def refresh(self) -> RefreshStage:
        """The pipeline file, unattended refreshes and their log."""
        return RefreshStage(self)


class DatasetHandle:
    """One dataset of a workspace, with its stages.

    The description (:attr:`info`) is read once, when the handle is made;
    :meth:`reload` reads it again after a change of roles or rows.
    """

    def __init__(self, workspace: Workspace, info: Dataset):
        self.workspace = workspace
        self.store = workspace.store
        self.info = info

    def __repr__(self) -> str:
        return f"DatasetHandle({self.name!r}, id={self.id}, kind={self.kind!r})"

    @property
    def id(self) -> int:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def roles(self) -> dict[str, str]:
        return self.info.roles

    @property
    def columns(self) -> list[str]:
        return self.info.columns

    @property
    def version(self) -> int:
        """This dataset's write version (bumped by every committed write that touched it)."""
        return self.store.version(self.id)

    def reload(self) -> DatasetHandle:
        """The same dataset, its description read again."""
        return self.workspace.dataset_by_id(self.id)

    @cached_property
    def ingest(self) -> IngestStage:
        """Roles, the quality report, rejected rows, later exports of the same CRM."""
        return IngestStage(self)

    @cached_property
    def dedupe(self) -> DedupeStage:
        """Candidate pairs, review decisions, merges and golden-record rules."""
        return DedupeStage(self)

    @cached_property
    def customers(self) -> CustomersStage:
        """Who the customers are: golden records, their attributes."""
        return CustomersStage(self)

    @cached_property
    def segments(self) -> SegmentsStage:
        """Features, the k scan, segment runs, profiles, names and snapshots."""
        return SegmentsStage(self)

    @cached_property
    def behaviour(self) -> BehaviourStage:
        """RFM from an orders dataset and propensity scores."""
        return BehaviourStage(self)

    @cached_property
    def audiences(self) -> AudiencesStage:
        """Audiences: counts, lists, saved definitions, exports."""
        return AudiencesStage(self)


def open_workspace(path: str | os.PathLike | None = None, *, read_only: bool = False) -> Workspace:
    """Open (or create) the working store at ``path``; see :class:`Workspace`."""
    return Workspace(path, read_only=read_only)

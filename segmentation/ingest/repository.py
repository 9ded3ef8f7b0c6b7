"""The ingest stage's repository: the only code that reads and writes uploads, datasets and import batches."""

from __future__ import annotations

from ..core.store import Dataset, Store


class DatasetsRepository:
    """Uploads, dataset descriptions and import batches of one store."""

    def __init__(self, store: Store):
        self.store = store

    def datasets(self, kind: str | None = None) -> list[Dataset]:
        """Every dataset, newest first, optionally of one kind."""
        return self.store.datasets(kind)

    def dataset(self, name: str | None = None, kind: str = "customers") -> Dataset:
        """A dataset by name, or the most recent one of ``kind`` when ``name`` is None."""
        return self.store.dataset(name, kind)

    def dataset_by_id(self, dataset_id: int) -> Dataset:
        """A dataset by its id."""
        return self.store.dataset_by_id(dataset_id)

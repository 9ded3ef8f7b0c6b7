"""The base of every stage class that a dataset handle carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the handle imports the stages; the stages only need its shape
    from ..workspace import DatasetHandle


class Stage:
    """One stage of one dataset: the handle it belongs to, its store and description.

    Stage classes hold no state of their own beyond the handle: every call
    reads the store, so two handles on one dataset always agree.
    """

    def __init__(self, handle: DatasetHandle):
        self.handle = handle
        self.store = handle.store

    @property
    def dataset(self):
        """The dataset's description (:class:`segmentation.core.store.Dataset`)."""
        return self.handle.info

"""The dedupe stage as a dataset handle carries it (``handle.dedupe``)."""

from __future__ import annotations

from ..core.stage import Stage


class DedupeStage(Stage):
    """The dedupe operations of one dataset."""

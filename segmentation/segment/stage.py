"""The segment stage as a dataset handle carries it (``handle.segment``)."""

from __future__ import annotations

from ..core.stage import Stage


class SegmentsStage(Stage):
    """The segment operations of one dataset."""

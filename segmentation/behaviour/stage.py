"""The behaviour stage as a dataset handle carries it (``handle.behaviour``)."""

from __future__ import annotations

from ..core.stage import Stage


class BehaviourStage(Stage):
    """The behaviour operations of one dataset."""

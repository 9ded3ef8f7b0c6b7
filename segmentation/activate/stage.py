"""The activate stage as a dataset handle carries it (``handle.activate``)."""

from __future__ import annotations

from ..core.stage import Stage


class AudiencesStage(Stage):
    """The activate operations of one dataset."""

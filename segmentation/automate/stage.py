"""Unattended refreshes as the workspace carries them (``workspace.refresh``)."""

from __future__ import annotations


class RefreshStage:
    """The pipeline file, refreshes and their log."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.store = workspace.store

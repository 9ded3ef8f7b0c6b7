"""Unattended refreshes as the workspace carries them (``workspace.refresh``).

Thin methods over :mod:`segmentation.automate.config` (the pipeline file, from
the engine's own settings dataclasses), :mod:`segmentation.automate.runner`
and :mod:`segmentation.automate.steps`; :mod:`segmentation.automate.repository`
(the refresh log) is the stage's only SQL executor. What a marketer set up is
read from the other stages through the dataset handles.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..behaviour.propensity import ScoreSettings
from ..behaviour.repository import BehaviourRepository
from ..behaviour.rfm import RFMSettings
from ..core.errors import NotFoundError
from ..ingest.importer import ImportSettings
from ..segment.features import FeatureSettings
from . import config as pipeline
from . import runner
from .config import (
    AudienceOutput,
    DedupeConfig,
    PipelineConfig,
    RFMConfig,
    ScoreConfig,
    SegmentConfig,
    SourceConfig,
)
from .repository import RefreshRepository
from .runner import Progress, RefreshResult


class RefreshStage:
    """The pipeline file, refreshes and their log, for one workspace."""

    def __init__(self, workspace):
        self.workspace = workspace
        self.store = workspace.store

    # -- the pipeline file ------------------------------------------------
    def config_from_store(self, dataset: str | None = None, files: dict[str, str] | None = None,
                          outputs: dict[str, str] | None = None, segment_mode: str = "assign",
                          auto_merge: bool = True, segment_k: int | None = None) -> PipelineConfig:
        """The pipeline a user set up for a customers dataset (default: the most recent), as a config.

        Sources (the customers and, when RFM was computed, the orders) with their roles and the file each was
        last read from, the deduplication settings last used, RFM and score settings, the current segment run
        and every saved audience of the dataset; then the choices of :meth:`with_choices`.
        """
        handle = self.workspace.dataset(dataset)

        def source(h) -> SourceConfig:
            batches = h.ingest.batches()
            info = h.info
            last_file = str(batches["file_name"].iloc[-1]) if len(batches) else info.source_file
            return SourceConfig(dataset=h.name, file=last_file or f"{h.name}.csv", settings=ImportSettings(
                sheet=info.sheet, kind=info.kind, roles=dict(info.roles),
                default_region=info.options.get("default_region", "FR"),
                date_order=info.options.get("date_order", "auto")))

        sources = [source(handle)]
        match = handle.dedupe.last_settings()
        dedupe = DedupeConfig(handle.name, replace(match, columns=None)) if match is not None else None
        rfm_config = None
        last = handle.behaviour.last_rfm()
        if last is not None:
            orders = self.workspace.dataset_by_id(last.orders_id)
            sources.append(source(orders))
            saved = last.settings or RFMSettings()
            rfm_config = RFMConfig(handle.name, orders.name, replace(saved, as_of=None))  # the user's columns kept
        scores = []
        # Oldest first, the order they were trained in. (Settings of saved models: no stage method yet.)
        for name, _at, settings, _report in reversed(BehaviourRepository(self.store).models(handle.id)):
            saved = json.loads(settings)
            features = pipeline.build(FeatureSettings, saved["features"], "features") if saved.get("features") \
                else None
            scores.append(ScoreConfig(handle.name, ScoreSettings(
                target=saved["target"], name=name, features=features, folds=int(saved.get("folds", 5)),
                within_days=saved.get("within_days"))))
        segment_config = None
        with contextlib.suppress(NotFoundError):  # no segment run yet: no segments step
            segment_config = SegmentConfig(handle.name, handle.segments.get_run().name)
        audiences = tuple(AudienceOutput(name, f"audiences/{pipeline.slug(name)}.csv")
                          for name in handle.audiences.saved()["name"])
        config = PipelineConfig(sources=tuple(sources), dedupe=dedupe, rfm=rfm_config, scores=tuple(scores),
                                segments=segment_config, audiences=audiences)
        return self.with_choices(config, files=files, outputs=outputs, segment_mode=segment_mode,
                                 auto_merge=auto_merge, segment_k=segment_k)

    @staticmethod
    def with_choices(config: PipelineConfig, files: dict[str, str] | None = None,
                     outputs: dict[str, str] | None = None, segment_mode: str = "assign", auto_merge: bool = True,
                     segment_k: int | None = None) -> PipelineConfig:
        """``config`` with the user's choices applied (see :func:`segmentation.automate.config.with_choices`)."""
        return pipeline.with_choices(config, files=files, outputs=outputs, segment_mode=segment_mode,
                                     auto_merge=auto_merge, segment_k=segment_k)

    @staticmethod
    def to_toml(config: PipelineConfig, name: str = "pipeline.toml") -> str:
        """The config as the TOML text of a pipeline file named ``name``."""
        return pipeline.to_toml(config, name)

    @staticmethod
    def save_config(config: PipelineConfig, path: str | Path) -> Path:
        """Write the config to ``path``; returns the path."""
        return pipeline.save(config, path)

    @staticmethod
    def load_config(path: str | Path) -> PipelineConfig:
        """Read and check a pipeline file."""
        return pipeline.load(path)

    @staticmethod
    def slug(name: str) -> str:
        """A file-name-safe form of a name (widget keys, default audience files)."""
        return pipeline.slug(name)

    # -- running ----------------------------------------------------------
    def run(self, config: PipelineConfig, progress: Progress | None = None,
            config_file: str | None = None) -> RefreshResult:
        """Run every step of a pipeline, each in its own transaction; :class:`RefreshError` if one fails."""
        return runner.run(self.workspace, config, config_file=config_file, progress=progress or runner._no_progress)

    def run_file(self, path: str | Path, progress: Progress | None = None) -> RefreshResult:
        """Load a pipeline file and run it (the CLI's ``refresh --config``)."""
        return runner.run_file(self.workspace, path, progress=progress or runner._no_progress)

    # -- the log ----------------------------------------------------------
    def mark_interrupted(self) -> list[int]:
        """Mark refreshes a stopped process left "running" as interrupted (when found); their ids."""
        return RefreshRepository(self.store).mark_interrupted()

    def history(self, limit: int = 20) -> pd.DataFrame:
        """The last refreshes, newest first, with what changed in words."""
        return runner.history(self.store, limit)

    def steps_of(self, refresh_id: int) -> pd.DataFrame:
        """The steps of one refresh."""
        return runner.steps_of(self.store, refresh_id)

    @staticmethod
    def changes(summary: dict) -> str:
        """A refresh's summary in a few words."""
        return runner.changes(summary)

"""The steps of a refresh: what each does, and the state of its inputs that says whether it has to run.

:mod:`segmentation.automate.runner` runs them, each in a transaction of its
own. A step's inputs are stated without reading any table: the settings it
runs with (the engine's own dataclasses, from the pipeline file), the
contents of the files it reads, and the **write versions** of the datasets
it reads (:attr:`DatasetHandle.version`, bumped by every committed write on
the dataset) **less the writes of this step and of the steps after it**: the
runner counts, per step, how many writes each of its runs made on each
dataset (``offsets``: dataset id -> writes of this step and the later ones,
over every refresh logged). So the RFM step's state does not move when the
score step after it writes its scores on the same customers, nor when RFM
itself writes its table: a step's input state never includes its own
outputs or a later step's, and a second refresh on unchanged inputs skips
every step and writes nothing. A step's own output file is no input either:
the audience step is skipped only while its file is the one a refresh last
wrote (:attr:`Step.intact`). Other stages are reached through the workspace
and their modules; nothing here runs SQL (the stage's repository is
:mod:`segmentation.automate.repository`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path

from ..activate import audiences, export
from ..activate.audiences import AudienceSpec
from ..core.errors import ConfigError, NotFoundError, SegmentStudioError
from ..ingest.importer import ImportSettings
from ..ingest.readers import read_file
from . import config as pipeline
from .repository import RefreshRepository


@dataclass
class Step:
    """One step of a refresh: its label, its settings, and what it does."""

    label: str
    settings: object
    state: Callable[[dict[int, int]], object]  # the inputs' state (given the offsets), compared with the last one
    work: Callable[[], dict]              # does the step inside the transaction; returns its figures
    after: Callable[[], None] | None = None  # after the commit (moving written files into place)
    cleanup: Callable[[], None] | None = None  # after a failure (removing files written for nothing)
    intact: Callable[[], bool] | None = None  # whether the step's own outputs are as it left them


# ------------------------------------------------------------------ state of the inputs

def _version(ws, name: str | None, offsets: dict[int, int]) -> list | None:
    """A dataset's id and write version less ``offsets`` (the writes of this step and the later ones): None while
    it does not exist."""
    try:
        handle = ws.dataset(name)
    except NotFoundError:
        return None
    return [handle.id, handle.version - offsets.get(handle.id, 0)]


def versions(ws) -> dict[int, int]:
    """Every dataset's write version, by id (the runner counts each step's writes with it)."""
    return {handle.id: handle.version for handle in ws.datasets()}


def _file_digest(path: Path) -> str | None:
    """The file's sha256 (None when there is none), read once while its size and time stay the same."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return _digest(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _digest(path: str, _size: int, _mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ the steps

def _import_step(ws, config: pipeline.PipelineConfig, source: pipeline.SourceConfig) -> Step:
    path = config.path(source.file)

    def work() -> dict:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read {str(path)!r}: {exc.strerror}. Check sources.file of "
                              f"{source.dataset!r} in the config.") from exc
        existing = {d.name.casefold(): d for d in ws.datasets()}.get(source.dataset.casefold())
        wanted = source.settings
        if existing is not None and existing.kind != wanted.kind:
            raise ConfigError(f"Dataset {existing.name!r} holds {existing.kind}, but the config says {wanted.kind}.")
        if existing is None:
            settings = replace(wanted, name=source.dataset, append_to=None)
        else:
            if wanted.roles and {**existing.roles, **wanted.roles} != existing.roles:  # the file says otherwise
                existing = existing.ingest.set_roles(wanted.roles)
            settings = ImportSettings(sheet=wanted.sheet, kind=wanted.kind, append_to=existing.name)
        ds = ws.ingest.import_bytes(data, path.name, settings).info
        if existing is None:
            return {"dataset": ds.name, "file": str(path), "rows_added": ds.row_count, "rows_updated": 0,
                    "rows_unchanged": 0, "rejected_rows": ds.rejected_rows, "rows": ds.row_count}
        added = ds.last_import
        return {"dataset": ds.name, "file": str(path), "rows_added": added["rows_added"],
                "rows_updated": added["rows_updated"], "rows_unchanged": added["rows_unchanged"],
                "rejected_rows": ds.rejected_rows - existing.info.rejected_rows, "rows": ds.row_count}

    def state(offsets: dict[int, int]) -> list:
        own = _version(ws, source.dataset, offsets)
        # A dataset this step created holds nothing but refresh writes: the same state as before it existed.
        return [_file_digest(path), None if own is None or own[1] == 0 else own]

    return Step(f"import {source.dataset}", pipeline.dump(source), state, work)


def _dedupe_step(ws, config: pipeline.DedupeConfig) -> Step:
    def work() -> dict:
        stage = ws.dataset(config.dataset).dedupe
        summary = stage.find(config.settings, config.match_columns or None)
        groups, before, after = 0, summary.records, summary.records
        if config.auto_merge:  # sure matches only: pairs to review wait for a person
            merged = stage.merge(above=config.settings.upper, source="refresh")
            groups, before, after = merged.groups_merged, merged.records_before, merged.records_after
        return {"dataset": config.dataset, "records": summary.records, "pairs_compared": summary.pairs_compared,
                "sure_matches": summary.sure_matches, "to_review": summary.to_review, "groups_merged": groups,
                "records_merged": before - after, "customers": after}

    return Step(f"deduplicate {config.dataset}", pipeline.dump(config),
                lambda offsets: [_version(ws, config.dataset, offsets)], work)


def _rfm_step(ws, config: pipeline.RFMConfig) -> Step:
    settings = replace(config.settings, as_of=config.settings.as_of or date.today().isoformat())

    def work() -> dict:
        result = ws.dataset(config.customers).behaviour.rfm(ws.dataset(config.orders, kind="transactions"),
                                                             settings)
        return {"customers_with_orders": result.customers_with_orders,
                "unknown_customer_orders": result.unknown_customer_orders, "as_of": result.as_of,
                "groups": dict(result.groups)}

    return Step(f"RFM {config.customers}", pipeline.dump(replace(config, settings=settings)),
                lambda offsets: [_version(ws, config.customers, offsets), _version(ws, config.orders, offsets)],
                work)


def _score_step(ws, config: pipeline.ScoreConfig) -> Step:
    settings = replace(config.settings, name=config.name)

    def work() -> dict:
        result = ws.dataset(config.dataset).behaviour.score(settings)
        return {"model": result.model, "auc_mean": result.auc_mean, "chosen": result.chosen,
                "warnings": list(result.warnings)}

    return Step(f"score {config.name}", pipeline.dump(config), lambda offsets: [_version(ws, config.dataset, offsets)],
                work)


def _segment_step(ws, config: pipeline.SegmentConfig, refresh_id: int) -> Step:
    def work() -> dict:
        handle = ws.dataset(config.dataset)
        owner = handle.segments.dataset_of_run(config.run)
        if owner.name.casefold() != config.dataset.casefold():
            raise ConfigError(f"Run {config.run!r} segments dataset {owner.name!r}, not {config.dataset!r}.")
        segments = handle.segments
        saved = segments.get_run(config.run)
        if config.mode == "refit":  # the run's features and k, fitted on today's customers
            previous = segments.get_run()
            run = segments.run(replace(saved.settings, reference_date=None), config.k or saved.k,
                               name=f"{saved.name} · {date.today().isoformat()}")
            segments.carry_names(previous, run)
            name, assigned = run.name, run.customers
        else:
            result = segments.assign(saved)
            name, assigned = result.run, result.assigned
        snapshot = segments.take_snapshot(name, refresh_id=refresh_id)
        names = segments.names(name)
        return {"run": name, "customers": assigned, "snapshot": snapshot,
                "sizes": {names[int(s)]: n for s, n in segments.sizes(name).items()}}

    return Step(f"segments {config.run}", asdict(config), lambda offsets: [_version(ws, config.dataset, offsets)],
                work)


def _may_overwrite(log: RefreshRepository, target: Path, output: pipeline.AudienceOutput) -> None:
    """Nothing, if ``target`` is absent or is a file a refresh wrote, unchanged since; else a ConfigError."""
    if target.is_dir():
        raise ConfigError(f"audiences.out of {output.name!r} is {output.out!r}, a folder: give a file name.")
    digest = _file_digest(target)
    if digest is not None and not log.written(str(target.resolve()), digest) \
            and not _written_before_upgrade(log, target, output):
        raise ConfigError(f"'{target}' already exists and was not written by a refresh (or was changed since): "
                          f"it was not overwritten. Move it away, or give audience {output.name!r} another "
                          "file name in the config.")


def _written_before_upgrade(log: RefreshRepository, target: Path, output: pipeline.AudienceOutput) -> bool:
    """Whether ``target`` is this audience's file as a version that kept no record of its files wrote it.

    Such a store has no line for the path in ``refresh_outputs``; the export log then names the audience's
    last export under this file name, with exactly as many rows as the file holds.
    """
    if log.recorded(str(target.resolve())):
        return False
    rows = audiences.last_export_rows(log.store, output.name, target.name)
    if rows is None:
        return False
    try:
        return read_file(target.read_bytes(), target.name).table.num_rows == rows
    except SegmentStudioError:
        return False


def _audience_step(ws, config: pipeline.PipelineConfig, output: pipeline.AudienceOutput,
                   segment_config: pipeline.SegmentConfig | None, refresh_id: int | None = None) -> Step:
    store = ws.store
    path = config.path(output.out)
    pending: dict = {}
    log = RefreshRepository(store)

    def saved() -> AudienceSpec:
        return audiences.get_audience(store, output.name)

    def spec() -> AudienceSpec:
        chosen = saved()
        if segment_config and segment_config.mode == "refit" and chosen.run in (None, segment_config.run):
            # A re-fitted run replaces the one the audience was saved on: take its segments by name.
            segments = ws.dataset(segment_config.dataset).segments
            old_names = segments.names(chosen.run or segment_config.run)
            current = segments.get_run()
            new_by_name = {v: k for k, v in segments.names(current).items()}
            wanted = [old_names[s] for s in chosen.segments]
            lost = [n for n in wanted if n not in new_by_name]
            if lost:
                raise ConfigError(f"Audience {output.name!r} takes segments {lost}, which the re-fitted run "
                                  f"{current.name!r} does not have; its segments are {list(new_by_name)}.")
            chosen = replace(chosen, run=current.name, segments=tuple(new_by_name[n] for n in wanted))
        return chosen

    def state(offsets: dict[int, int]):
        definition = None
        with contextlib.suppress(SegmentStudioError):  # the step itself will say what is wrong
            definition = saved()
        return [definition.to_json() if definition else None,
                _version(ws, definition.dataset if definition else None, offsets)]

    def intact() -> bool:
        """Whether the audience file is the one a refresh last wrote (not removed, not edited since)."""
        digest = _file_digest(path)
        return digest is not None and digest == log.last_written(str(path.resolve()))

    def work() -> dict:
        chosen = spec()
        handle = ws.dataset(chosen.dataset)
        frame = handle.audiences.select(chosen)
        figures = handle.audiences.count(chosen)
        files = audiences.holdout_files(frame, path)
        for target in files:
            _may_overwrite(log, target, output)
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, part in files.items():  # written beside the target, moved into place after the commit
            data = export.encode(part, output.settings.format, "Audience")
            try:
                pending[export.stage(data, target)] = target
            except OSError as exc:  # disk full, no permission: say which file
                raise OSError(exc.errno, exc.strerror, str(target)) from exc
            log.wrote(str(target.resolve()), hashlib.sha256(data).hexdigest(), refresh_id)
        main = files[path]
        audiences.log_export(store, output.name, chosen, len(main), list(main.columns), path.name)
        return {"audience": output.name, "out": str(path), "rows": len(main),
                "holdout_rows": int(frame["holdout"].sum()) if "holdout" in frame else 0,
                "excluded_no_consent": figures.excluded_no_consent}

    def after() -> None:
        for temp, target in pending.items():
            os.replace(temp, target)
        pending.clear()

    def cleanup() -> None:
        for temp in pending:
            temp.unlink(missing_ok=True)
        pending.clear()

    return Step(f"audience {output.name}", pipeline.dump(output), state, work, after, cleanup, intact)


def build(ws, config: pipeline.PipelineConfig, refresh_id: int) -> list[Step]:
    """The steps of a pipeline, in the order they run (``ws``: the :class:`segmentation.Workspace`)."""
    steps = [_import_step(ws, config, s) for s in config.sources]
    if config.dedupe:
        steps.append(_dedupe_step(ws, config.dedupe))
    if config.rfm:
        steps.append(_rfm_step(ws, config.rfm))
    steps += [_score_step(ws, s) for s in config.scores]
    if config.segments:
        steps.append(_segment_step(ws, config.segments, refresh_id))
    steps += [_audience_step(ws, config, a, config.segments, refresh_id) for a in config.audiences]
    return steps


__all__ = ["Step", "build", "versions"]

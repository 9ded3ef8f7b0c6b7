"""The steps of a refresh: what each does, and the state of its inputs that says whether it has to run.

:mod:`segmentation.refresh` runs them, each in a transaction of its own. A
step's state is compared with the state its last successful run left; while
they are equal, the step is skipped.
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

from ..core.errors import ConfigError, NotFoundError, SegmentStudioError
from ..core.store import Store
from . import config as pipeline


@dataclass
class Step:
    """One step of a refresh: its label, its settings, and what it does."""

    label: str
    settings: object
    state: Callable[[], object]           # the inputs' state, compared with the last successful run
    work: Callable[[], dict]              # does the step inside the transaction; returns its figures
    after: Callable[[], None] | None = None  # after the commit (moving written files into place)
    cleanup: Callable[[], None] | None = None  # after a failure (removing files written for nothing)


# ------------------------------------------------------------------ state of the inputs

def _dataset_state(store: Store, name: str, merges: bool = True) -> object:
    """What a dataset holds, cheaply: rows, files added, and (``merges``) merges, decisions, survivorship rules."""
    try:
        ds = store.dataset(name)
    except NotFoundError:
        return None
    rows = [ds.id, ds.row_count, ds.roles, str(ds.imported_at),
            store.query_value("SELECT count(*) FROM import_batches WHERE dataset_id = ?", [ds.id])]
    if not merges:
        return rows
    return [*rows, store.query_rows(
        "SELECT (SELECT count(*) FROM merge_groups WHERE dataset_id = $id), "
        "(SELECT CAST(max(coalesce(undone_at, created_at)) AS VARCHAR) FROM merge_groups WHERE dataset_id = $id), "
        "(SELECT count(undone_at) FROM merge_groups WHERE dataset_id = $id), "
        "(SELECT count(*) FROM decisions WHERE dataset_id = $id), "
        "(SELECT CAST(max(decided_at) AS VARCHAR) FROM decisions WHERE dataset_id = $id), "
        "(SELECT string_agg(\"column\" || '=' || rule, ',' ORDER BY \"column\") FROM survivorship "
        "WHERE dataset_id = $id)".replace("$id", str(int(ds.id))))]


def _dataset_id(store: Store, name: str) -> int | None:
    try:
        return store.dataset(name).id
    except NotFoundError:
        return None


def _attributes_state(store: Store, name: str) -> object:
    """When RFM and scores of a customers dataset were last computed (they are features and filters)."""
    if (dataset_id := _dataset_id(store, name)) is None:
        return None
    return store.query_rows(
        "SELECT 'rfm', CAST(computed_at AS VARCHAR) FROM rfm_runs WHERE dataset_id = ? UNION ALL "
        "SELECT name, CAST(trained_at AS VARCHAR) FROM score_models WHERE dataset_id = ? ORDER BY 1",
        [dataset_id, dataset_id])


def _runs_state(store: Store, name: str) -> object:
    """The dataset's segment runs: which is current, when each assigned, their names, the last snapshot."""
    if (dataset_id := _dataset_id(store, name)) is None:
        return None
    return store.query_rows(
        "SELECT r.id, r.name, r.is_current, CAST(r.assigned_at AS VARCHAR), "
        "(SELECT string_agg(segment || '=' || n.name, ',' ORDER BY segment) FROM segment_names n "
        "WHERE n.run_id = r.id), (SELECT max(id) FROM segment_snapshots s WHERE s.run_id = r.id) "
        "FROM segment_runs r WHERE r.dataset_id = ? ORDER BY r.id", [dataset_id])


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


def _import_step(store: Store, config: pipeline.PipelineConfig, source: pipeline.SourceConfig) -> Step:
    from ..ingest.importer import ImportSettings, import_file, set_roles

    path = config.path(source.file)

    def work() -> dict:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read {str(path)!r}: {exc.strerror}. Check sources.file of "
                              f"{source.dataset!r} in the config.") from exc
        existing = {d.name.casefold(): d for d in store.datasets()}.get(source.dataset.casefold())
        if existing is not None and existing.kind != source.kind:
            raise ConfigError(f"Dataset {existing.name!r} holds {existing.kind}, but the config says {source.kind}.")
        if existing is None:
            settings = ImportSettings(name=source.dataset, sheet=source.sheet, kind=source.kind, roles=source.roles,
                                      default_region=source.default_region, date_order=source.date_order)
        else:
            if source.roles and {**existing.roles, **source.roles} != existing.roles:  # the file says otherwise
                set_roles(store, existing.name, source.roles)
            settings = ImportSettings(sheet=source.sheet, kind=source.kind, append_to=existing.name)
        ds = import_file(store, data, path.name, settings)
        if existing is None:
            return {"dataset": ds.name, "file": str(path), "rows_added": ds.row_count, "rows_updated": 0,
                    "rows_unchanged": 0, "rejected_rows": ds.rejected_rows, "rows": ds.row_count}
        added = ds.last_import
        return {"dataset": ds.name, "file": str(path), "rows_added": added["rows_added"],
                "rows_updated": added["rows_updated"], "rows_unchanged": added["rows_unchanged"],
                "rejected_rows": ds.rejected_rows - existing.rejected_rows, "rows": ds.row_count}

    return Step(f"import {source.dataset}", asdict(source),
                 lambda: [_file_digest(path), _dataset_state(store, source.dataset, merges=False)], work)


def _dedupe_step(store: Store, config: pipeline.DedupeConfig) -> Step:
    from ..dedupe import review as dedupe
    from ..dedupe.matching import MatchSettings

    def state():
        return [_dataset_state(store, config.dataset),
                store.query_value("SELECT CAST(run_at AS VARCHAR) FROM match_runs m JOIN datasets d ON "
                                  "d.id = m.dataset_id WHERE d.name = ?", [config.dataset])]

    def work() -> dict:
        summary = dedupe.find_pairs(store, config.dataset, MatchSettings(upper=config.upper, lower=config.lower),
                                    match_columns=list(config.match_columns) or None)
        merged = {"groups_merged": 0, "records_before": summary.records, "records_after": summary.records}
        if config.auto_merge:  # sure matches only: pairs to review wait for a person
            merged = dedupe.merge(store, config.dataset, above=config.upper, source="refresh")
        return {"dataset": config.dataset, "records": summary.records, "pairs_compared": summary.pairs_compared,
                "sure_matches": summary.sure_matches, "to_review": summary.to_review,
                "groups_merged": merged["groups_merged"],
                "records_merged": merged["records_before"] - merged["records_after"],
                "customers": merged["records_after"]}

    return Step(f"deduplicate {config.dataset}", asdict(config), state, work)


def _rfm_step(store: Store, config: pipeline.RFMConfig) -> Step:
    from ..behaviour import rfm

    as_of = config.as_of or date.today().isoformat()
    settings = rfm.RFMSettings(as_of=as_of, window_days=config.window_days, link_column=config.link_column)

    def work() -> dict:
        stats = rfm.compute(store, config.customers, config.orders, settings)
        return {"customers_with_orders": stats["customers_with_orders"],
                "unknown_customer_orders": stats["unknown_customer_orders"], "as_of": stats["as_of"],
                "groups": stats["groups"]}

    return Step(f"RFM {config.customers}", {**asdict(config), "as_of": as_of},
                 lambda: [_dataset_state(store, config.customers), _dataset_state(store, config.orders),
                          _attributes_state(store, config.customers)], work)


def _score_step(store: Store, config: pipeline.ScoreConfig) -> Step:
    from ..behaviour import propensity

    name = config.name or config.target

    def work() -> dict:
        result = propensity.score(store, config.dataset, propensity.ScoreSettings(
            target=config.target, name=name, features=config.features, folds=config.folds,
            within_days=config.within_days))
        return {"model": result["model"], "auc_mean": result["auc_mean"], "chosen": result["chosen"],
                "warnings": result["warnings"]}

    return Step(f"score {name}", asdict(config),
                 lambda: [_dataset_state(store, config.dataset), _attributes_state(store, config.dataset)], work)


def _segment_step(store: Store, config: pipeline.SegmentConfig, refresh_id: int) -> Step:
    from ..segment import runs as segments
    from ..segment import snapshots

    def work() -> dict:
        saved = segments.get_run(store, config.run)
        ds = store.dataset_by_id(saved.dataset_id)
        if ds.name.casefold() != config.dataset.casefold():
            raise ConfigError(f"Run {saved.name!r} segments dataset {ds.name!r}, not {config.dataset!r}.")
        if config.mode == "refit":  # the run's features and k, fitted on today's customers
            previous = segments.get_run(store, dataset=ds.name)
            run = segments.run_segments(store, ds.name, replace(saved.settings, reference_date=None),
                                        config.k or saved.k, name=f"{saved.name} · {date.today().isoformat()}")
            segments.carry_names(store, previous.name, run.name)
            name, assigned = run.name, run.customers
        else:
            result = segments.assign(store, saved.name)
            name, assigned = result["run"], result["assigned"]
        snapshot = snapshots.take(store, name, refresh_id=refresh_id)
        names = segments.names_of(store, name)
        sizes = segments.segment_sizes(store, name)
        return {"run": name, "customers": assigned, "snapshot": snapshot,
                "sizes": {names[int(s)]: n for s, n in sizes.items()}}

    return Step(f"segments {config.run}", asdict(config),
                 lambda: [_dataset_state(store, config.dataset), _attributes_state(store, config.dataset),
                          _runs_state(store, config.dataset)], work)


def _audience_step(store: Store, config: pipeline.PipelineConfig, output: pipeline.AudienceOutput,
                   segment_config: pipeline.SegmentConfig | None) -> Step:
    from ..activate import audiences, export
    from ..segment import runs as segments

    path = config.path(output.out)
    pending: dict = {}

    def spec() -> audiences.AudienceSpec:
        saved = audiences.get_audience(store, output.name)
        if segment_config and segment_config.mode == "refit" and saved.run in (None, segment_config.run):
            # A re-fitted run replaces the one the audience was saved on: take its segments by name.
            old_names = segments.names_of(store, saved.run or segment_config.run)
            current = segments.get_run(store, dataset=segment_config.dataset)
            new_by_name = {v: k for k, v in segments.names_of(store, current.name).items()}
            wanted = [old_names[s] for s in saved.segments]
            lost = [n for n in wanted if n not in new_by_name]
            if lost:
                raise ConfigError(f"Audience {output.name!r} takes segments {lost}, which the re-fitted run "
                                  f"{current.name!r} does not have; its segments are {list(new_by_name)}.")
            saved = replace(saved, run=current.name, segments=tuple(new_by_name[n] for n in wanted))
        return saved

    def state():
        dataset = None
        with contextlib.suppress(SegmentStudioError):  # the step itself will say what is wrong
            dataset = spec().dataset
        name = dataset or store.dataset().name
        return [_dataset_state(store, name), _attributes_state(store, name), _runs_state(store, name),
                store.query_rows("SELECT CAST(saved_at AS VARCHAR), CAST(spec AS VARCHAR) FROM audiences "
                                 "WHERE lower(name) = lower(?)", [output.name]),
                store.query_rows("SELECT count(*), max(id) FROM suppression_lists"),
                # the file as it is, or as it will be once this step's commit moves it into place
                _file_digest(next((temp for temp, target in pending.items() if target == path), path))]

    def work() -> dict:
        chosen = spec()
        frame = audiences.select(store, chosen)
        figures = audiences.count(store, chosen)
        files = audiences.holdout_files(frame, path, output.holdout_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, part in files.items():  # written beside the target, moved into place after the commit
            pending[export.stage(export.encode(part, output.format, "Audience"), target)] = target
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

    return Step(f"audience {output.name}", asdict(output), state, work, after, cleanup)


def build(store: Store, config: pipeline.PipelineConfig, refresh_id: int) -> list[Step]:
    """The steps of a pipeline, in the order they run."""
    steps = [_import_step(store, config, s) for s in config.sources]
    if config.dedupe:
        steps.append(_dedupe_step(store, config.dedupe))
    if config.rfm:
        steps.append(_rfm_step(store, config.rfm))
    steps += [_score_step(store, s) for s in config.scores]
    if config.segments:
        steps.append(_segment_step(store, config.segments, refresh_id))
    steps += [_audience_step(store, config, a, config.segments) for a in config.audiences]
    return steps



__all__ = ["Step", "build"]

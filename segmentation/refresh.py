"""The whole pipeline, unattended: import the new exports, deduplicate, score, segment, write the audiences.

:func:`run` follows a :class:`segmentation.pipeline.PipelineConfig`. Each
step is one transaction (:meth:`Store.atomic`): a step that fails leaves the
store as it was before it, the refresh stops there and says which step
failed. Each step remembers the state of its inputs when it last succeeded
and is skipped while they have not changed, so running a refresh twice on
the same inputs changes nothing. Every refresh, failed ones too, is logged
with its steps for the Refresh page.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from . import pipeline
from .errors import ConfigError, NotFoundError, RefreshError, SegmentStudioError
from .store import Store

Progress = Callable[[float, str], None]


def _no_progress(_fraction: float, _message: str) -> None:
    return None


@dataclass
class StepResult:
    """What one step did: ``status`` is ``done``, ``unchanged`` (skipped, inputs as last time) or ``failed``."""

    step: str
    status: str
    seconds: float = 0.0
    detail: dict = field(default_factory=dict)
    error: str | None = None


@dataclass
class RefreshResult:
    """A refresh's log entry: its id, ``ok`` or ``failed``, the steps, and the summary the CLI prints."""

    id: int
    status: str
    steps: list[StepResult]
    summary: dict


@dataclass
class _Step:
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


def _fingerprint(settings: object, state: object) -> str:
    text = json.dumps([settings, state], default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _last_state(store: Store, label: str) -> str | None:
    return store.query_value("SELECT state FROM refresh_steps WHERE step = ? AND status IN ('done', 'unchanged') "
                             "ORDER BY refresh_id DESC LIMIT 1", [label])


# ------------------------------------------------------------------ the steps

def _import_step(store: Store, config: pipeline.PipelineConfig, source: pipeline.SourceConfig) -> _Step:
    from .importer import ImportSettings, import_file, set_roles

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

    return _Step(f"import {source.dataset}", asdict(source),
                 lambda: [_file_digest(path), _dataset_state(store, source.dataset, merges=False)], work)


def _dedupe_step(store: Store, config: pipeline.DedupeConfig) -> _Step:
    from . import dedupe
    from .matching import MatchSettings

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

    return _Step(f"deduplicate {config.dataset}", asdict(config), state, work)


def _rfm_step(store: Store, config: pipeline.RFMConfig) -> _Step:
    from . import rfm

    as_of = config.as_of or date.today().isoformat()
    settings = rfm.RFMSettings(as_of=as_of, window_days=config.window_days, link_column=config.link_column)

    def work() -> dict:
        stats = rfm.compute(store, config.customers, config.orders, settings)
        return {"customers_with_orders": stats["customers_with_orders"],
                "unknown_customer_orders": stats["unknown_customer_orders"], "as_of": stats["as_of"],
                "groups": stats["groups"]}

    return _Step(f"RFM {config.customers}", {**asdict(config), "as_of": as_of},
                 lambda: [_dataset_state(store, config.customers), _dataset_state(store, config.orders),
                          _attributes_state(store, config.customers)], work)


def _score_step(store: Store, config: pipeline.ScoreConfig) -> _Step:
    from . import propensity

    name = config.name or config.target

    def work() -> dict:
        result = propensity.score(store, config.dataset, propensity.ScoreSettings(
            target=config.target, name=name, features=config.features, folds=config.folds,
            within_days=config.within_days))
        return {"model": result["model"], "auc_mean": result["auc_mean"], "chosen": result["chosen"],
                "warnings": result["warnings"]}

    return _Step(f"score {name}", asdict(config),
                 lambda: [_dataset_state(store, config.dataset), _attributes_state(store, config.dataset)], work)


def _carry_names(store: Store, old: str, new: str) -> dict[int, str]:
    """Give each segment of a re-fitted run the name of the old segment it takes most customers from."""
    from scipy.optimize import linear_sum_assignment

    from . import segments

    overlap = segments.compare_runs(store, old, new)
    overlap = overlap.drop(index="(none)", columns="(none)", errors="ignore")
    old_names, rows = segments.names_of(store, old), overlap.to_numpy()
    a, b = linear_sum_assignment(-rows)
    names = segments.names_of(store, new)
    for i, j in zip(a, b, strict=True):
        if rows[i, j] > 0:
            names[int(overlap.columns[j])] = old_names[int(overlap.index[i])]
    for segment, name in names.items():
        segments.rename_segment(store, new, segment, name)
    return names


def _segment_step(store: Store, config: pipeline.SegmentConfig, refresh_id: int) -> _Step:
    from . import segments, snapshots

    def work() -> dict:
        saved = segments.get_run(store, config.run)
        ds = store.dataset_by_id(saved.dataset_id)
        if ds.name.casefold() != config.dataset.casefold():
            raise ConfigError(f"Run {saved.name!r} segments dataset {ds.name!r}, not {config.dataset!r}.")
        if config.mode == "refit":  # the run's features and k, fitted on today's customers
            previous = segments.get_run(store, dataset=ds.name)
            run = segments.run_segments(store, ds.name, replace(saved.settings, reference_date=None),
                                        config.k or saved.k, name=f"{saved.name} · {date.today().isoformat()}")
            _carry_names(store, previous.name, run.name)
            name, assigned = run.name, run.customers
        else:
            result = segments.assign(store, saved.name)
            name, assigned = result["run"], result["assigned"]
        snapshot = snapshots.take(store, name, refresh_id=refresh_id)
        names = segments.names_of(store, name)
        sizes = segments.segment_sizes(store, name)
        return {"run": name, "customers": assigned, "snapshot": snapshot,
                "sizes": {names[int(s)]: n for s, n in sizes.items()}}

    return _Step(f"segments {config.run}", asdict(config),
                 lambda: [_dataset_state(store, config.dataset), _attributes_state(store, config.dataset),
                          _runs_state(store, config.dataset)], work)


def _audience_step(store: Store, config: pipeline.PipelineConfig, output: pipeline.AudienceOutput,
                   segment_config: pipeline.SegmentConfig | None) -> _Step:
    from . import audiences, export, segments

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

    return _Step(f"audience {output.name}", asdict(output), state, work, after, cleanup)


def _steps(store: Store, config: pipeline.PipelineConfig, refresh_id: int) -> list[_Step]:
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


# ------------------------------------------------------------------ running

def _summary(results: list[StepResult], store: Store, config: pipeline.PipelineConfig) -> dict:
    by_kind = lambda kind: [r for r in results if r.step.startswith(kind + " ")]  # noqa: E731
    summary: dict = {
        "rows_imported": {r.detail["dataset"]: {k: r.detail[k] for k in ("rows_added", "rows_updated",
                                                                         "rows_unchanged")}
                          for r in by_kind("import") if r.status == "done"},
        "merges": sum(r.detail.get("groups_merged", 0) for r in by_kind("deduplicate") if r.status == "done"),
        "records_merged": sum(r.detail.get("records_merged", 0) for r in by_kind("deduplicate")
                              if r.status == "done"),
        "assigned": {}, "audiences": [], "pairs_to_review": None,
        "steps": [{"step": r.step, "status": r.status, "seconds": round(r.seconds, 2),
                   **({"error": r.error} if r.error else {})} for r in results]}
    from . import dedupe, segments

    if config.dedupe:
        with contextlib.suppress(SegmentStudioError):
            summary["pairs_to_review"] = dedupe.waiting_for_review(store, config.dedupe.dataset)
    if config.segments:
        try:
            run = segments.get_run(store, dataset=config.segments.dataset)
            names = segments.names_of(store, run.name)
            summary["assigned"] = {names[int(s)]: n for s, n in segments.segment_sizes(store, run.name).items()}
            summary["run"] = run.name
        except SegmentStudioError:
            pass
    for output in config.audiences:
        done = next((r for r in results if r.step == f"audience {output.name}" and r.status == "done"), None)
        rows = done.detail["rows"] if done else store.query_value(
            "SELECT rows FROM export_log WHERE audience = ? AND file_name = ? ORDER BY exported_at DESC LIMIT 1",
            [output.name, Path(output.out).name])
        summary["audiences"].append({"name": output.name, "out": str(config.path(output.out)), "rows": rows,
                                     "written": done is not None})
    return summary


def run(store: Store, config: pipeline.PipelineConfig, config_file: str | None = None,
        progress: Progress = _no_progress) -> RefreshResult:
    """Run every step of a pipeline, each in its own transaction, and log the refresh.

    Parameters
    ----------
    store : Store
        The working store.
    config : PipelineConfig
        What to run (see :func:`segmentation.pipeline.load`).
    config_file : str, optional
        The file the config came from (shown in the log).
    progress : callable, optional
        Called with a fraction in 0..1 and the step under way.

    Returns
    -------
    RefreshResult
        The refresh's id, its steps and its summary: rows imported per
        dataset, merges, customers per segment, audiences written with their
        rows, pairs waiting for review.

    Raises
    ------
    RefreshError
        A step failed: the store is as it was before that step (earlier
        steps are kept), later steps did not run, and the failure is logged.
    """
    with store.transaction() as tx:
        refresh_id = tx.nextval("refresh_ids")
        tx.execute("INSERT INTO refreshes (id, started_at, config_file, status) VALUES (?, ?, ?, 'running')",
                   [refresh_id, datetime.now(), config_file])
    results: list[StepResult] = []
    failure: RefreshError | None = None
    steps = _steps(store, config, refresh_id)
    for position, step in enumerate(steps):
        progress(position / max(len(steps), 1), step.label)
        start = time.perf_counter()
        try:
            state = _fingerprint(step.settings, step.state())
            if state == _last_state(store, step.label):
                result = StepResult(step.label, "unchanged", time.perf_counter() - start)
                _log_step(store, refresh_id, position, result, state)
            else:
                with store.atomic():  # the work and its log entry are kept together, or neither
                    detail = step.work()
                    result = StepResult(step.label, "done", time.perf_counter() - start, detail)
                    _log_step(store, refresh_id, position, result, _fingerprint(step.settings, step.state()))
                if step.after:
                    step.after()
        except Exception as exc:  # any failure of a step is reported, named after the step
            message = str(exc) if isinstance(exc, SegmentStudioError) else f"{type(exc).__name__}: {exc}"
            failure = RefreshError(step.label, message.rstrip(".") + ".")
            if step.cleanup:
                step.cleanup()
            result = StepResult(step.label, "failed", time.perf_counter() - start, error=message)
            _log_step(store, refresh_id, position, result, None)
        results.append(result)
        if failure:
            break
    summary = _summary(results, store, config)
    with store.transaction() as tx:
        tx.execute("UPDATE refreshes SET finished_at = ?, status = ?, failed_step = ?, error = ?, summary = ? "
                   "WHERE id = ?", [datetime.now(), "failed" if failure else "ok",
                                    failure.step if failure else None, str(failure) if failure else None,
                                    json.dumps(summary, default=str, ensure_ascii=False), refresh_id])
    progress(1.0, "Refresh failed" if failure else "Refresh done")
    if failure:
        failure.refresh_id = refresh_id
        failure.summary = summary
        raise failure
    return RefreshResult(refresh_id, "ok", results, summary)


def _log_step(store: Store, refresh_id: int, position: int, result: StepResult, state: str | None) -> None:
    with store.transaction() as tx:
        # OR REPLACE: a step whose files could not be moved into place after its commit is failed after all
        tx.execute("INSERT OR REPLACE INTO refresh_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [refresh_id, position, result.step, result.status, round(result.seconds, 3), state,
                    json.dumps(result.detail, default=_json_default, ensure_ascii=False), result.error])


def _json_default(value):
    if isinstance(value, np.integer | np.floating):
        return value.item()
    return str(value)


def run_file(store: Store, path: str | Path, progress: Progress = _no_progress) -> RefreshResult:
    """Load a config file and run it (the CLI's ``refresh --config``)."""
    config = pipeline.load(path)
    return run(store, config, config_file=str(Path(path).resolve()), progress=progress)


# ------------------------------------------------------------------ the log

def history(store: Store, limit: int = 20) -> pd.DataFrame:
    """The last refreshes, newest first: ``id``, ``started_at``, ``seconds``, ``status``, ``failed_step``,
    ``error``, ``changed`` (what the done steps did, in words), ``config_file``."""
    frame = store.query_df(
        "SELECT id, started_at, date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds, status, "
        "failed_step, error, CAST(summary AS VARCHAR) AS summary, config_file FROM refreshes "
        "ORDER BY id DESC LIMIT ?", [limit])
    frame["changed"] = [changes(json.loads(s)) if isinstance(s, str) else "" for s in frame["summary"]]
    return frame.drop(columns=["summary"])


def changes(summary: dict) -> str:
    """A refresh's summary in a few words: what changed."""
    parts = []
    for dataset, rows in summary.get("rows_imported", {}).items():
        parts.append(f"{dataset}: {rows['rows_added']:,} new, {rows['rows_updated']:,} updated")
    if summary.get("merges"):
        parts.append(f"{summary['records_merged']:,} records merged into {summary['merges']:,} customers")
    done = {s["step"] for s in summary.get("steps", []) if s["status"] == "done"}
    if any(s.startswith("segments ") for s in done):
        parts.append("segments assigned")
    written = [a["name"] for a in summary.get("audiences", []) if a.get("written")]
    if written:
        parts.append(f"{len(written)} audience file{'s' if len(written) > 1 else ''} written")
    return "; ".join(parts) or "nothing changed"


def steps_of(store: Store, refresh_id: int) -> pd.DataFrame:
    """The steps of one refresh: ``step``, ``status``, ``seconds``, ``detail``, ``error``."""
    return store.query_df("SELECT step, status, seconds, CAST(detail AS VARCHAR) AS detail, error "
                          "FROM refresh_steps WHERE refresh_id = ? ORDER BY position", [refresh_id])


__all__ = ["RefreshResult", "StepResult", "changes", "history", "run", "run_file", "steps_of"]

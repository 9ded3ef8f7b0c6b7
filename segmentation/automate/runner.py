"""The whole pipeline, unattended: import the new exports, deduplicate, score, segment, write the audiences.

:func:`run` follows a :class:`segmentation.automate.config.PipelineConfig`. Each
step is one transaction (:meth:`Store.atomic`): a step that fails leaves the
store as it was before it, the refresh stops there and says which step
failed. Each step remembers the state of its inputs when it last succeeded
and is skipped while they have not changed, so running a refresh twice on
the same inputs changes nothing. Every refresh, failed ones too, is logged
with its steps for the Refresh page.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.errors import RefreshError, SegmentStudioError
from ..core.store import Store
from . import config as pipeline
from . import steps as refresh_steps

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


def _fingerprint(settings: object, state: object) -> str:
    text = json.dumps([settings, state], default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _last_state(store: Store, label: str) -> str | None:
    return store.query_value("SELECT state FROM refresh_steps WHERE step = ? AND status IN ('done', 'unchanged') "
                             "ORDER BY refresh_id DESC LIMIT 1", [label])


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
    from ..dedupe import review as dedupe
    from ..segment import runs as segments

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
        What to run (see :func:`segmentation.automate.config.load`).
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
    steps = refresh_steps.build(store, config, refresh_id)
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

"""The whole pipeline, unattended: import the new exports, deduplicate, score, segment, write the audiences.

:func:`run` follows a :class:`segmentation.automate.config.PipelineConfig`. Each
step is one transaction (:meth:`Store.atomic`): a step that fails leaves the
store as it was before it, the refresh stops there and says which step
failed. Each step's inputs have a state (settings, file contents, the write
versions of the datasets it reads less the writes of this step and the later
ones: see :mod:`segmentation.automate.steps`), recorded as the step runs; a
step is skipped while its inputs are in the state of its last good run (and
its own output files are as it left them), so running a refresh twice on the
same inputs changes nothing, not even the store's write version. A done
step's writes per dataset are logged with it (``store_writes``), which is how
the later refreshes leave them out of the earlier steps' states. Every
refresh, failed ones too, is logged with its steps for the Refresh page,
through :mod:`segmentation.automate.repository` (the stage's only SQL
executor).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..activate import audiences
from ..core.errors import RefreshError, SegmentStudioError
from ..core.store import Store
from . import config as pipeline
from . import steps as refresh_steps
from .repository import RefreshRepository

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

    def to_dict(self) -> dict:
        return {"step": self.step, "status": self.status, "seconds": round(self.seconds, 2),
                **({"error": self.error} if self.error else {})}


@dataclass
class RefreshResult:
    """A refresh's log entry: its id, ``ok`` or ``failed``, the steps, and the summary the CLI prints."""

    id: int
    status: str
    steps: list[StepResult]
    summary: dict

    def to_dict(self) -> dict:
        """The CLI's JSON: ``refresh``, ``status`` and the summary."""
        return {"refresh": self.id, "status": self.status, **self.summary}


def _fingerprint(settings: object, state: object) -> str:
    text = json.dumps([settings, state], default=str, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# ------------------------------------------------------------------ running

def _summary(ws, results: list[StepResult], config: pipeline.PipelineConfig) -> dict:
    store = ws.store
    by_kind = lambda kind: [r for r in results if r.step.startswith(kind + " ")]  # noqa: E731
    summary: dict = {
        "rows_imported": {r.detail["dataset"]: {k: r.detail[k] for k in ("rows_added", "rows_updated",
                                                                         "rows_unchanged")}
                          for r in by_kind("import") if r.status == "done"},
        "merges": sum(r.detail.get("groups_merged", 0) for r in by_kind("deduplicate") if r.status == "done"),
        "records_merged": sum(r.detail.get("records_merged", 0) for r in by_kind("deduplicate")
                              if r.status == "done"),
        "assigned": {}, "audiences": [], "pairs_to_review": None,
        "steps": [r.to_dict() for r in results]}
    if config.dedupe:
        with contextlib.suppress(SegmentStudioError):
            summary["pairs_to_review"] = ws.dataset(config.dedupe.dataset).dedupe.waiting_for_review()
    if config.segments:
        try:
            segments = ws.dataset(config.segments.dataset).segments
            run = segments.get_run()
            names = segments.names(run)
            summary["assigned"] = {names[int(s)]: n for s, n in segments.sizes(run).items()}
            summary["run"] = run.name
        except SegmentStudioError:
            pass
    for output in config.audiences:
        done = next((r for r in results if r.step == f"audience {output.name}" and r.status == "done"), None)
        rows = done.detail["rows"] if done else audiences.last_export_rows(store, output.name, Path(output.out).name)
        summary["audiences"].append({"name": output.name, "out": str(config.path(output.out)), "rows": rows,
                                     "written": done is not None})
    return summary


def run(ws, config: pipeline.PipelineConfig, config_file: str | None = None,
        progress: Progress = _no_progress) -> RefreshResult:
    """Run every step of a pipeline, each in its own transaction, and log the refresh.

    Parameters
    ----------
    ws : Workspace
        The workspace (see :func:`segmentation.open_workspace`).
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
    ConfigError
        An audience file is outside the config file's folder (and its ``output_dir``) or is one of its
        sources: nothing ran.
    RefreshError
        A step failed: the store is as it was before that step (earlier
        steps are kept), later steps did not run, and the failure is logged.
    """
    store = ws.store
    pipeline.check_outputs(config, config_file)  # before anything is logged or written
    log = RefreshRepository(store)
    log.mark_interrupted()  # refreshes a stopped process left "running"
    refresh_id = log.start(config_file)
    results: list[StepResult] = []
    failure: RefreshError | None = None
    steps = refresh_steps.build(ws, config, refresh_id)
    labels = [s.label for s in steps]
    written = log.writes_by_step()  # label -> dataset id -> writes of its done runs, every refresh so far
    for position, step in enumerate(steps):
        progress(position / max(len(steps), 1), step.label)
        start = time.perf_counter()
        try:
            state = _fingerprint(step.settings, step.state(_offsets(written, labels[position:])))
            if state == log.last_state(step.label) and (step.intact is None or step.intact()):
                result = StepResult(step.label, "unchanged", time.perf_counter() - start)
                _log_step(log, refresh_id, position, result, state)
            else:
                before = refresh_steps.versions(ws)
                with store.atomic():  # the work and its log entry are kept together, or neither
                    detail = step.work()
                    result = StepResult(step.label, "done", time.perf_counter() - start, detail)
                    _log_step(log, refresh_id, position, result, state)
                moved = {i: v - before.get(i, 0) for i, v in refresh_steps.versions(ws).items()
                         if v != before.get(i, 0)}
                if moved:  # this step's own writes: no input of its state (nor of the earlier steps') next time
                    log.set_writes(refresh_id, position, moved)
                    counts = written.setdefault(step.label, {})
                    for dataset, n in moved.items():
                        counts[dataset] = counts.get(dataset, 0) + n
                if step.after:
                    step.after()
        except Exception as exc:  # any failure of a step is reported, named after the step
            message = _message(exc)
            failure = RefreshError(step.label, message.rstrip(".") + ".")
            if step.cleanup:
                step.cleanup()
            result = StepResult(step.label, "failed", time.perf_counter() - start, error=message)
            _log_step(log, refresh_id, position, result, None)
        results.append(result)
        if failure:
            break
    summary = _summary(ws, results, config)
    log.finish(refresh_id, "failed" if failure else "ok", failure.step if failure else None,
               str(failure) if failure else None, json.dumps(summary, default=str, ensure_ascii=False))
    progress(1.0, "Refresh failed" if failure else "Refresh done")
    if failure:
        failure.refresh_id = refresh_id
        failure.summary = summary
        raise failure
    return RefreshResult(refresh_id, "ok", results, summary)


def _offsets(written: dict[str, dict[int, int]], labels: list[str]) -> dict[int, int]:
    """Per dataset id, the writes the done runs of these steps made (a step and the ones after it)."""
    total: dict[int, int] = {}
    for label in labels:
        for dataset, n in written.get(label, {}).items():
            total[dataset] = total.get(dataset, 0) + n
    return total


def _message(exc: Exception) -> str:
    """What stopped a step, in words: ours as they are, a file that could not be written with what to do."""
    if isinstance(exc, SegmentStudioError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f" '{exc.filename}'" if exc.filename else " a file"
        advice = ("the disk is full: free some space, or write the audience files to another disk"
                  if exc.errno == errno.ENOSPC else "check the path and that you may write there")
        return f"Cannot write{where}: {exc.strerror or exc}; {advice}"
    return f"{type(exc).__name__}: {exc}"


def _log_step(log: RefreshRepository, refresh_id: int, position: int, result: StepResult, state: str | None) -> None:
    log.log_step(refresh_id, position, result.step, result.status, result.seconds, state,
                 json.dumps(result.detail, default=_json_default, ensure_ascii=False), result.error)


def _json_default(value):
    if isinstance(value, np.integer | np.floating):
        return value.item()
    return str(value)


def run_file(ws, path: str | Path, progress: Progress = _no_progress) -> RefreshResult:
    """Load a config file and run it (the CLI's ``refresh --config``)."""
    config = pipeline.load(path)
    return run(ws, config, config_file=str(Path(path).resolve()), progress=progress)


# ------------------------------------------------------------------ the log

def history(store: Store, limit: int = 20) -> pd.DataFrame:
    """The last refreshes, newest first: ``id``, ``started_at``, ``seconds``, ``status``, ``failed_step``,
    ``error``, ``changed`` (what the done steps did, in words), ``config_file``."""
    frame = RefreshRepository(store).history(limit)
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
    return RefreshRepository(store).steps_of(refresh_id)


__all__ = ["RefreshResult", "StepResult", "changes", "history", "run", "run_file", "steps_of"]

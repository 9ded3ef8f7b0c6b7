"""The automate stage's repository: the only code of the stage that runs SQL.

It owns the refresh log, ``refreshes`` and ``refresh_steps``, and
``refresh_outputs`` (every file a refresh wrote, by path and sha256: a refresh
overwrites only a file it wrote itself, unchanged since). The log is
written with ``store.transaction(versioned=False)``: no cache depends on it,
so logging a refresh that changed nothing leaves the store's write version
where it was (and a refresh on unchanged inputs changes nothing at all).
"""

from __future__ import annotations

import json
import os
from datetime import datetime

import pandas as pd

from ..core.store import Store

#: Refreshes this process is running, as (store file, refresh id): a "running" entry not in it was left by a
#: process that stopped (the store is held by one process at a time).
RUNNING: set[tuple[str, int]] = set()


class RefreshRepository:
    """The refreshes of one store and their steps."""

    def __init__(self, store: Store):
        self.store = store
        self._key = os.path.abspath(str(store.path))

    def mark_interrupted(self) -> list[int]:
        """Mark as interrupted every refresh logged as running that this process is not running; their ids.

        The process that ran them was stopped (killed, a power cut): their steps were rolled back or kept as
        the log says, and the entry says when it was found.
        """
        mine = [i for key, i in RUNNING if key == self._key]
        with self.store.transaction(versioned=False) as tx:
            found = [int(i) for (i,) in tx.execute(
                "SELECT id FROM refreshes WHERE status = 'running' AND NOT list_contains(?::INTEGER[], id) "
                "ORDER BY id", [mine])]
            now = datetime.now()
            for refresh_id in found:
                tx.execute("UPDATE refreshes SET status = 'interrupted', finished_at = ?, error = ? WHERE id = ?",
                           [now, f"Interrupted: found still running on {now:%Y-%m-%d %H:%M:%S} by a later "
                            "process (the one running it was stopped). Steps it finished were kept; run it again.",
                            refresh_id])
        return found

    def wrote(self, path: str, sha256: str, refresh_id: int | None) -> None:
        """Record that a refresh writes ``path`` (resolved) with these contents."""
        with self.store.transaction(versioned=False) as tx:
            tx.execute("INSERT OR REPLACE INTO refresh_outputs VALUES (?, ?, ?, ?)",
                       [path, sha256, datetime.now(), refresh_id])

    def written(self, path: str, sha256: str) -> bool:
        """Whether a refresh wrote ``path`` with exactly these contents."""
        return bool(self.store.query_value("SELECT count(*) FROM refresh_outputs WHERE path = ? AND sha256 = ?",
                                           [path, sha256]))

    def last_written(self, path: str) -> str | None:
        """The sha256 of the contents a refresh last wrote to ``path`` (None: no refresh wrote it)."""
        return self.store.query_value("SELECT sha256 FROM refresh_outputs WHERE path = ? ORDER BY written_at DESC "
                                      "LIMIT 1", [path])

    def recorded(self, path: str) -> bool:
        """Whether a refresh ever recorded writing ``path`` (whatever its contents)."""
        return bool(self.store.query_value("SELECT count(*) FROM refresh_outputs WHERE path = ?", [path]))

    def start(self, config_file: str | None) -> int:
        """Log a refresh as running; returns its id."""
        with self.store.transaction(versioned=False) as tx:
            refresh_id = tx.nextval("refresh_ids")
            tx.execute("INSERT INTO refreshes (id, started_at, config_file, status) VALUES (?, ?, ?, 'running')",
                       [refresh_id, datetime.now(), config_file])
        RUNNING.add((self._key, refresh_id))
        return refresh_id

    def log_step(self, refresh_id: int, position: int, step: str, status: str, seconds: float,
                 state: str | None, detail_json: str, error: str | None) -> None:
        """Log one step (again: a step whose files could not be moved into place after its commit fails after all).

        Inside an atomic block (a step's work) the entry is part of the step's transaction.
        """
        with self.store.transaction(versioned=False) as tx:
            tx.execute("INSERT OR REPLACE INTO refresh_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [refresh_id, position, step, status, round(seconds, 3), state, detail_json, error])

    def set_writes(self, refresh_id: int, position: int, writes: dict[int, int]) -> None:
        """Record how many writes a done step made on each dataset (``store_writes`` of its detail)."""
        with self.store.transaction(versioned=False) as tx:
            tx.execute("UPDATE refresh_steps SET detail = json_merge_patch(coalesce(detail, '{}'), ?) "
                       "WHERE refresh_id = ? AND position = ?",
                       [json.dumps({"store_writes": {str(k): int(v) for k, v in writes.items()}}), refresh_id,
                        position])

    def writes_by_step(self) -> dict[str, dict[int, int]]:
        """Per step label, the writes its done runs made on each dataset (by id), over every refresh logged."""
        out: dict[str, dict[int, int]] = {}
        for step, writes in self.store.query_rows(
                "SELECT step, CAST(json_extract(detail, '$.store_writes') AS VARCHAR) FROM refresh_steps "
                "WHERE status = 'done' AND json_extract(detail, '$.store_writes') IS NOT NULL"):
            counts = out.setdefault(step, {})
            for dataset, n in json.loads(writes).items():
                counts[int(dataset)] = counts.get(int(dataset), 0) + int(n)
        return out

    def finish(self, refresh_id: int, status: str, failed_step: str | None, error: str | None,
               summary_json: str) -> None:
        """Close a refresh's log entry."""
        with self.store.transaction(versioned=False) as tx:
            tx.execute("UPDATE refreshes SET finished_at = ?, status = ?, failed_step = ?, error = ?, summary = ? "
                       "WHERE id = ?", [datetime.now(), status, failed_step, error, summary_json, refresh_id])
        RUNNING.discard((self._key, refresh_id))

    def last_state(self, step: str) -> str | None:
        """The state of a step's inputs at its last successful (done or unchanged) run."""
        return self.store.query_value("SELECT state FROM refresh_steps WHERE step = ? AND status IN "
                                      "('done', 'unchanged') ORDER BY refresh_id DESC LIMIT 1", [step])

    def history(self, limit: int = 20) -> pd.DataFrame:
        """The last refreshes, newest first, with their summary as JSON text."""
        return self.store.query_df(
            "SELECT id, started_at, date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds, "
            "status, failed_step, error, CAST(summary AS VARCHAR) AS summary, config_file FROM refreshes "
            "ORDER BY id DESC LIMIT ?", [int(limit)])

    def steps_of(self, refresh_id: int) -> pd.DataFrame:
        """The steps of one refresh: ``step``, ``status``, ``seconds``, ``detail``, ``error``."""
        return self.store.query_df("SELECT step, status, seconds, CAST(detail AS VARCHAR) AS detail, error "
                                   "FROM refresh_steps WHERE refresh_id = ? ORDER BY position", [int(refresh_id)])


__all__ = ["RefreshRepository"]

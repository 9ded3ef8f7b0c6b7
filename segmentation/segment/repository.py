"""The segment stage's repository: the only module of the stage that executes SQL.

It owns the tables ``segment_runs``, ``segment_members``, ``segment_names``,
``segment_scans``, ``segment_snapshots``, ``snapshot_members`` and
``segment_profiles`` (a run's profile kept as JSON): every read
and write of them is a method here, and no other stage touches them (they ask
:mod:`segmentation.segment.runs`, :mod:`segmentation.segment.snapshots` or
the dataset handle's ``segments`` stage).

Every write names the dataset it changes (``store.transaction(dataset_id,
records=False)``), so the dataset's write version moves and every cache keyed
on it is fresh again; none changes the dataset's records (runs, members, names,
scans, snapshots are derived data), so the golden records are not rebuilt.
A read that decides a write (a free run name, whether names are missing,
whether membership changed since the last snapshot) runs through the same
transaction as the write, under the store's write lock.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pandas as pd

from ..core.store import Dataset, Store, quote

#: Columns of ``segment_runs`` a :class:`segmentation.segment.runs.Run` is made of, in its field order.
RUN_COLUMNS = "id, dataset_id, name, created_at, k, settings, scores, steps, is_current, customers, assigned_at"


class SegmentRepository:
    """Segment runs, their members and names, the last k scan and the membership snapshots of one store."""

    def __init__(self, store: Store):
        self.store = store

    # -- what the clean rows offer as features ---------------------------
    def column_counts(self, ds: Dataset) -> tuple[int, dict[str, int], dict[str, int]]:
        """Rows of the dataset, then per column its non-missing values and (approximately) distinct ones.

        Reads the dataset's normalised rows (the ingest stage's table) once, for
        :func:`segmentation.segment.features.candidate_features`.
        """
        if not ds.columns:
            return 0, {}, {}
        parts = [f"count({quote(c)}) AS {quote('n:' + c)}, approx_count_distinct({quote(c)}) AS {quote('d:' + c)}"
                 for c in ds.columns]
        row = self.store.query_df(f"SELECT count(*) AS _n, {', '.join(parts)} FROM {ds.clean_table}").iloc[0]
        return (int(row["_n"]), {c: int(row["n:" + c]) for c in ds.columns},
                {c: int(row["d:" + c]) for c in ds.columns})

    # -- the k scan --------------------------------------------------------
    def save_scan(self, dataset_id: int, settings_json: str, k_min: int, k_max: int, scores_json: str,
                  knee: int | None, recommended_k: int, reason: str, steps_json: str) -> None:
        """Keep a dataset's last k scan (replacing the one before)."""
        with self.store.transaction(dataset_id, records=False) as tx:
            tx.execute("INSERT OR REPLACE INTO segment_scans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [dataset_id, datetime.now(), settings_json, k_min, k_max, scores_json, knee, recommended_k,
                        reason, steps_json])

    def last_scan(self, dataset_id: int) -> tuple | None:
        """``scanned_at, settings, k_min, k_max, scores, knee, recommended_k, reason, steps`` or None."""
        rows = self.store.query_rows(
            "SELECT scanned_at, settings, k_min, k_max, scores, knee, recommended_k, reason, steps "
            "FROM segment_scans WHERE dataset_id = ?", [dataset_id])
        return rows[0] if rows else None

    # -- runs --------------------------------------------------------------
    def insert_run(self, dataset_id: int, wanted_name: str, k: int, settings_json: str, scores_json: str,
                   steps_json: str, model: bytes, members: pd.DataFrame) -> str:
        """Save a run (made the dataset's current one) with its members; returns its name.

        The name is ``wanted_name``, or ``wanted_name (2)``, ``(3)``... if a run
        has it: chosen inside the transaction that inserts the run, so two
        sessions saving at once never pick the same name.
        """
        now = datetime.now()
        with self.store.transaction(dataset_id, records=False) as tx:
            taken = {r[0].lower() for r in tx.execute("SELECT name FROM segment_runs")}
            name, n = wanted_name, 1
            while name.lower() in taken:
                n += 1
                name = f"{wanted_name} ({n})"
            run_id = tx.nextval("segment_run_ids")
            tx.execute("UPDATE segment_runs SET is_current = false WHERE dataset_id = ?", [dataset_id])
            tx.execute("INSERT INTO segment_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?, ?)",
                       [run_id, dataset_id, name, now, k, settings_json, scores_json, steps_json, model,
                        len(members), now])
            self._insert_members(tx, run_id, members)
        return name

    @staticmethod
    def _insert_members(tx, run_id: int, members: pd.DataFrame) -> None:
        tx.register("_members", members)
        try:
            tx.execute("INSERT INTO segment_members SELECT ?, customer_id, segment FROM _members", [run_id])
        finally:
            tx.unregister("_members")

    def run_row(self, name: str, dataset_id: int | None = None) -> tuple | None:
        """The :data:`RUN_COLUMNS` of a run by name (within one dataset when ``dataset_id`` is given)."""
        sql, params = f"SELECT {RUN_COLUMNS} FROM segment_runs WHERE name = ?", [name]
        if dataset_id is not None:
            sql, params = sql + " AND dataset_id = ?", [name, dataset_id]
        rows = self.store.query_rows(sql, params)
        return rows[0] if rows else None

    def run_row_by_id(self, run_id: int) -> tuple | None:
        """The :data:`RUN_COLUMNS` of a run by id."""
        rows = self.store.query_rows(f"SELECT {RUN_COLUMNS} FROM segment_runs WHERE id = ?", [run_id])
        return rows[0] if rows else None

    def current_run_row(self, dataset_id: int) -> tuple | None:
        """The :data:`RUN_COLUMNS` of a dataset's current run."""
        rows = self.store.query_rows(f"SELECT {RUN_COLUMNS} FROM segment_runs WHERE dataset_id = ? AND is_current",
                                     [dataset_id])
        return rows[0] if rows else None

    def run_names(self, dataset_id: int | None = None) -> list[str]:
        """Names of the runs (of one dataset, or all), oldest first."""
        if dataset_id is None:
            return [r[0] for r in self.store.query_rows("SELECT name FROM segment_runs ORDER BY id")]
        return [r[0] for r in self.store.query_rows("SELECT name FROM segment_runs WHERE dataset_id = ? ORDER BY id",
                                                    [dataset_id])]

    def runs(self, dataset_id: int | None = None) -> pd.DataFrame:
        """Runs (of one dataset, or all), newest first: name, dataset_id, created_at, k, customers, current,
        settings."""
        where, params = ("WHERE dataset_id = ?", [dataset_id]) if dataset_id is not None else ("", [])
        return self.store.query_df(
            f"SELECT name, dataset_id, created_at, k, customers, is_current AS current, "
            f"CAST(settings AS VARCHAR) AS settings FROM segment_runs {where} ORDER BY created_at DESC, id DESC",
            params)

    def model(self, run_id: int) -> bytes:
        """The saved fitted pipeline of a run (:mod:`segmentation.core.models`; older runs: a pickle, never loaded)."""
        return self.store.query_value("SELECT model FROM segment_runs WHERE id = ?", [run_id])

    def replace_members(self, run_id: int, dataset_id: int, members: pd.DataFrame) -> None:
        """Every customer's segment of a run, replaced in one transaction (with the run's count and date)."""
        with self.store.transaction(dataset_id, records=False) as tx:
            tx.execute("DELETE FROM segment_members WHERE run_id = ?", [run_id])
            self._insert_members(tx, run_id, members)
            tx.execute("UPDATE segment_runs SET customers = ?, assigned_at = ? WHERE id = ?",
                       [len(members), datetime.now(), run_id])

    def segment_counts(self, run_id: int) -> dict[int, int]:
        """Customers per segment of a run (segments with members only)."""
        return {int(s): int(n) for s, n in self.store.query_rows(
            "SELECT segment, count(*) FROM segment_members WHERE run_id = ? GROUP BY 1", [run_id])}

    def members(self, run_id: int) -> pd.DataFrame:
        """``customer_id`` and ``segment`` of every customer of a run, by customer id."""
        return self.store.query_df("SELECT customer_id, segment FROM segment_members WHERE run_id = ? "
                                   "ORDER BY customer_id", [run_id])

    def set_current(self, run_id: int, dataset_id: int) -> None:
        """Make a run the current one of its dataset."""
        with self.store.transaction(dataset_id, records=False) as tx:
            tx.execute("UPDATE segment_runs SET is_current = (id = ?) WHERE dataset_id = ?", [run_id, dataset_id])

    def rename_run(self, run_id: int, dataset_id: int, new_name: str) -> bool:
        """Give a run another name; False (and nothing changed) when another run has that name already."""
        with self.store.transaction(dataset_id, records=False) as tx:
            if tx.fetchone("SELECT count(*) FROM segment_runs WHERE lower(name) = lower(?) AND id <> ?",
                           [new_name, run_id])[0]:
                return False
            tx.execute("UPDATE segment_runs SET name = ? WHERE id = ?", [new_name, run_id])
        return True

    def delete_run(self, run_id: int, dataset_id: int) -> None:
        """Delete a run, its members and names; if it was current, the dataset's newest remaining run is."""
        with self.store.transaction(dataset_id, records=False) as tx:
            was_current = tx.fetchone("SELECT is_current FROM segment_runs WHERE id = ?", [run_id])
            for table in ("segment_members", "segment_names", "segment_profiles"):
                tx.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
            tx.execute("DELETE FROM segment_runs WHERE id = ?", [run_id])
            if was_current and was_current[0]:
                tx.execute("UPDATE segment_runs SET is_current = (id = (SELECT max(id) FROM segment_runs "
                           "WHERE dataset_id = ?)) WHERE dataset_id = ?", [dataset_id, dataset_id])

    def summary(self, statement: str, params: list | None = None) -> pd.DataFrame:
        """A read-only summary of a run's customers (SQL text from :mod:`segmentation.segment.profiles`)."""
        return self.store.query_df(statement, params)

    def migration_pairs(self, run_a: int, run_b: int) -> pd.DataFrame:
        """Customers per (segment in run A, segment in run B), ``"(none)"`` for customers of one run only."""
        return self.store.query_df(
            "SELECT coalesce(CAST(x.segment AS VARCHAR), '(none)') AS a, coalesce(CAST(y.segment AS VARCHAR), "
            "'(none)') AS b, count(*) AS n FROM (SELECT * FROM segment_members WHERE run_id = ?) x FULL JOIN "
            "(SELECT * FROM segment_members WHERE run_id = ?) y USING (customer_id) GROUP BY ALL", [run_a, run_b])

    # -- segment names -----------------------------------------------------
    def names(self, run_id: int) -> dict[int, str]:
        """The saved names of a run's segments."""
        return {int(s): n for s, n in self.store.query_rows(
            "SELECT segment, name FROM segment_names WHERE run_id = ?", [run_id])}

    def has_names(self, run_id: int) -> bool:
        """Whether any segment of the run has a saved name."""
        return bool(self.store.query_value("SELECT count(*) FROM segment_names WHERE run_id = ?", [run_id]))

    def save_missing_names(self, run_id: int, dataset_id: int, suggested: dict[int, str]) -> dict[int, str]:
        """Save ``suggested`` names for the segments that have none yet; returns the saved names after.

        The read of the names already saved and the write are one transaction,
        so a rename made at the same moment by another session is never
        overwritten by a suggestion.
        """
        with self.store.transaction(dataset_id, records=False) as tx:
            names = {int(s): n for s, n in tx.execute("SELECT segment, name FROM segment_names WHERE run_id = ?",
                                                      [run_id])}
            for segment, name in suggested.items():
                if segment not in names:
                    tx.execute("INSERT INTO segment_names VALUES (?, ?, ?)", [run_id, segment, name])
                    names[segment] = name
        return names

    def set_name(self, run_id: int, dataset_id: int, segment: int, name: str) -> None:
        """Name one segment of a run."""
        with self.store.transaction(dataset_id, records=False) as tx:
            tx.execute("INSERT OR REPLACE INTO segment_names VALUES (?, ?, ?)", [run_id, segment, name])

    def set_names(self, run_id: int, dataset_id: int, names: dict[int, str]) -> None:
        """Name several segments of a run in one transaction."""
        with self.store.transaction(dataset_id, records=False) as tx:
            for segment, name in names.items():
                tx.execute("INSERT OR REPLACE INTO segment_names VALUES (?, ?, ?)", [run_id, int(segment), name])

    # -- kept profiles -----------------------------------------------------
    def kept_profile(self, run_id: int, settings_json: str, dataset_version: int, assigned_at: datetime,
                     computed_on: date) -> str | None:
        """The JSON of a run's profile kept for these settings, if its inputs are those given; else None."""
        return self.store.query_value(
            "SELECT CAST(profile AS VARCHAR) FROM segment_profiles WHERE run_id = ? AND settings = ? AND "
            "dataset_version = ? AND assigned_at = ? AND computed_on = ?",
            [run_id, settings_json, dataset_version, assigned_at, computed_on])

    def keep_profile(self, run_id: int, dataset_id: int, settings_json: str, dataset_version: int,
                     assigned_at: datetime, computed_on: date, profile_json: str) -> bool:
        """Keep a run's profile computed at ``dataset_version`` (the dataset's attributes version), in a
        transaction of its own; False (nothing kept) when its records or attributes changed since, or inside an
        atomic block.

        A derived summary that no cache keys on: the write moves no write version.
        The run's profiles kept at other versions (stale) are deleted with it.
        """
        if self.store.in_atomic:
            return False
        with self.store.transaction(dataset_id, versioned=False) as tx:
            if self.store.attributes_version(dataset_id) != dataset_version:
                return False
            tx.execute("DELETE FROM segment_profiles WHERE run_id = ? AND (dataset_version <> ? OR settings = ?)",
                       [run_id, dataset_version, settings_json])
            tx.execute("INSERT INTO segment_profiles VALUES (?, ?, ?, ?, ?, ?)",
                       [run_id, settings_json, dataset_version, assigned_at, computed_on, profile_json])
        return True

    # -- snapshots ---------------------------------------------------------
    def take_snapshot(self, run_id: int, dataset_id: int, run_name: str, names: dict[int, str],
                      refresh_id: int | None, only_if_changed: bool) -> int | None:
        """Copy a run's membership into a new snapshot; None when it equals the run's last snapshot.

        Whether membership changed is read in the transaction that writes the
        snapshot: two sessions taking one at once keep one.
        """
        with self.store.transaction(dataset_id, records=False) as tx:
            last = tx.fetchone("SELECT max(id) FROM segment_snapshots WHERE run_id = ?", [run_id])[0]
            if only_if_changed and last is not None and not tx.fetchone(
                    "SELECT count(*) FROM ((SELECT customer_id, segment FROM segment_members WHERE run_id = ? "
                    "EXCEPT SELECT customer_id, segment FROM snapshot_members WHERE snapshot_id = ?) UNION ALL "
                    "(SELECT customer_id, segment FROM snapshot_members WHERE snapshot_id = ? "
                    "EXCEPT SELECT customer_id, segment FROM segment_members WHERE run_id = ?))",
                    [run_id, last, last, run_id])[0]:
                return None
            snapshot = tx.nextval("snapshot_ids")
            tx.execute("INSERT INTO snapshot_members SELECT ?, customer_id, segment FROM segment_members "
                       "WHERE run_id = ?", [snapshot, run_id])
            customers = tx.fetchone("SELECT count(*) FROM snapshot_members WHERE snapshot_id = ?", [snapshot])[0]
            tx.execute("INSERT INTO segment_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [snapshot, dataset_id, run_id, run_name, datetime.now(), refresh_id, customers,
                        json.dumps({str(k): v for k, v in names.items()}, ensure_ascii=False)])
        return snapshot

    def snapshots(self, dataset_id: int) -> pd.DataFrame:
        """Snapshots of a dataset, oldest first: ``id``, ``taken_at``, ``run``, ``customers``, ``refresh_id``."""
        return self.store.query_df("SELECT id, taken_at, run_name AS run, customers, refresh_id "
                                   "FROM segment_snapshots WHERE dataset_id = ? ORDER BY id", [dataset_id])

    def snapshot_names(self, snapshot: int) -> dict[int, str] | None:
        """The segment names a snapshot kept, or None if there is no such snapshot."""
        found = self.store.query_value("SELECT names FROM segment_snapshots WHERE id = ?", [snapshot])
        return None if found is None else {int(k): v for k, v in json.loads(found).items()}

    def snapshot_counts(self, dataset_id: int) -> tuple[pd.DataFrame, list[tuple]]:
        """Customers per (snapshot, segment), and every snapshot's ``id, taken_at, names`` (segment -> name)."""
        counts = self.store.query_df(
            "SELECT s.id AS snapshot, s.taken_at, m.segment, count(*) AS customers FROM segment_snapshots s "
            "JOIN snapshot_members m ON m.snapshot_id = s.id WHERE s.dataset_id = ? GROUP BY ALL ORDER BY 1, 3",
            [dataset_id])
        listed = [(snapshot, taken_at, {int(k): v for k, v in json.loads(names).items()})
                  for snapshot, taken_at, names in self.store.query_rows(
                      "SELECT id, taken_at, names FROM segment_snapshots WHERE dataset_id = ? ORDER BY id",
                      [dataset_id])]
        return counts, listed

    def snapshot_pairs(self, before: int, after: int) -> pd.DataFrame:
        """Customers per (segment before, segment after): ``a``, ``b`` (NULL: not in that snapshot), ``n``."""
        return self.store.query_df(
            "SELECT x.segment AS a, y.segment AS b, count(*) AS n FROM "
            "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) x FULL JOIN "
            "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) y USING (customer_id) GROUP BY ALL",
            [before, after])

    def snapshot_movers(self, before: int, after: int) -> pd.DataFrame:
        """``customer_id``, ``a``, ``b``: customers whose segment differs between two snapshots."""
        return self.store.query_df(
            "SELECT customer_id, x.segment AS a, y.segment AS b FROM "
            "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) x FULL JOIN "
            "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) y USING (customer_id) "
            "WHERE x.segment IS DISTINCT FROM y.segment ORDER BY customer_id", [before, after])


__all__ = ["RUN_COLUMNS", "SegmentRepository"]

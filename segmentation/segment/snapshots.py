"""Snapshots of segment membership: who was in which segment when, and who moved between two dates.

A refresh takes a snapshot of its segment run whenever membership changed
since the run's last snapshot; a person can take one too. A snapshot keeps
the segment names of its day, so renaming a segment later does not rewrite
history.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd

from ..core.errors import NotFoundError
from ..core.store import Store

NONE = "(not a customer)"


def take(store: Store, run: str | None = None, dataset: str | None = None, refresh_id: int | None = None,
         only_if_changed: bool = True) -> int | None:
    """Keep the membership of a run as a snapshot.

    Parameters
    ----------
    store : Store
        The working store.
    run : str, optional
        Segment run (default: the current run of ``dataset``).
    dataset : str, optional
        Customers dataset whose current run is meant.
    refresh_id : int, optional
        The refresh that took it.
    only_if_changed : bool
        Take none when membership equals the run's last snapshot (a refresh
        run twice on the same data changes nothing).

    Returns
    -------
    int or None
        The snapshot's id, or None when nothing changed.
    """
    from .runs import get_run, names_of

    saved = get_run(store, run, dataset)
    last = store.query_value("SELECT max(id) FROM segment_snapshots WHERE run_id = ?", [saved.id])
    if only_if_changed and last is not None and not store.query_value(
            "SELECT count(*) FROM ((SELECT customer_id, segment FROM segment_members WHERE run_id = ? "
            "EXCEPT SELECT customer_id, segment FROM snapshot_members WHERE snapshot_id = ?) UNION ALL "
            "(SELECT customer_id, segment FROM snapshot_members WHERE snapshot_id = ? "
            "EXCEPT SELECT customer_id, segment FROM segment_members WHERE run_id = ?))",
            [saved.id, last, last, saved.id]):
        return None
    names = names_of(store, saved.name)
    with store.transaction() as tx:
        snapshot = tx.nextval("snapshot_ids")
        tx.execute("INSERT INTO snapshot_members SELECT ?, customer_id, segment FROM segment_members WHERE run_id = ?",
                   [snapshot, saved.id])
        customers = tx.fetchone("SELECT count(*) FROM snapshot_members WHERE snapshot_id = ?", [snapshot])[0]
        tx.execute("INSERT INTO segment_snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [snapshot, saved.dataset_id, saved.id, saved.name, datetime.now(), refresh_id, customers,
                    json.dumps({str(k): v for k, v in names.items()}, ensure_ascii=False)])
    return snapshot


def snapshots(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Snapshots of a customers dataset, oldest first: ``id``, ``taken_at``, ``run``, ``customers``, ``refresh_id``."""
    ds = store.dataset(dataset or None)
    return store.query_df("SELECT id, taken_at, run_name AS run, customers, refresh_id FROM segment_snapshots "
                          "WHERE dataset_id = ? ORDER BY id", [ds.id])


def _names(store: Store, snapshot: int) -> dict[int, str]:
    found = store.query_value("SELECT names FROM segment_snapshots WHERE id = ?", [snapshot])
    if found is None:
        raise NotFoundError(f"No snapshot {snapshot}; see the list of snapshots on the Refresh page "
                            "(or `python -m segmentation snapshots`).")
    return {int(k): v for k, v in json.loads(found).items()}


def sizes(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Customers per segment in every snapshot: ``snapshot``, ``taken_at``, ``segment``, ``name``, ``customers``.

    Segments are named as on the snapshot's day; a segment with nobody in a
    snapshot counts 0, so a chart shows it shrink to nothing.
    """
    ds = store.dataset(dataset or None)
    counts = store.query_df(
        "SELECT s.id AS snapshot, s.taken_at, m.segment, count(*) AS customers FROM segment_snapshots s "
        "JOIN snapshot_members m ON m.snapshot_id = s.id WHERE s.dataset_id = ? GROUP BY ALL ORDER BY 1, 3", [ds.id])
    frames = []
    for snapshot, taken_at, names in store.query_rows("SELECT id, taken_at, names FROM segment_snapshots "
                                                      "WHERE dataset_id = ? ORDER BY id", [ds.id]):
        names = {int(k): v for k, v in json.loads(names).items()}
        here = counts[counts["snapshot"] == snapshot].set_index("segment")["customers"]
        frames.append(pd.DataFrame({"snapshot": snapshot, "taken_at": taken_at, "segment": list(names),
                                    "name": list(names.values()),
                                    "customers": [int(here.get(s, 0)) for s in names]}))
    if not frames:
        return pd.DataFrame(columns=["snapshot", "taken_at", "segment", "name", "customers"])
    return pd.concat(frames, ignore_index=True)


def migration(store: Store, before: int, after: int) -> pd.DataFrame:
    """Customers in each segment of snapshot ``before`` (rows) and ``after`` (columns), by segment name.

    Customers in only one snapshot (new, or merged into another customer)
    are counted under ``"(not a customer)"``.
    """
    names_a, names_b = _names(store, before), _names(store, after)
    pairs = store.query_df(
        "SELECT x.segment AS a, y.segment AS b, count(*) AS n FROM "
        "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) x FULL JOIN "
        "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) y USING (customer_id) GROUP BY ALL", [before, after])
    label = lambda names, s: NONE if pd.isna(s) else names.get(int(s), str(s))  # noqa: E731
    pairs["a"] = [label(names_a, s) for s in pairs["a"]]
    pairs["b"] = [label(names_b, s) for s in pairs["b"]]
    rows, cols = [*names_a.values(), NONE], [*names_b.values(), NONE]
    table = pairs.pivot_table(index="a", columns="b", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(index=rows, columns=cols, fill_value=0)
    table = table.loc[(table.sum(axis=1) > 0) | (table.index != NONE),
                      (table.sum(axis=0) > 0) | (table.columns != NONE)]
    table.index.name, table.columns.name = f"snapshot {before}", f"snapshot {after}"
    return table.astype(np.int64)


def movers(store: Store, before: int, after: int, from_segment: str | None = None,
           to_segment: str | None = None) -> pd.DataFrame:
    """Customers whose segment differs between two snapshots: ``customer_id``, ``before``, ``after`` (names).

    ``from_segment`` / ``to_segment`` keep one cell of :func:`migration`
    (segment names, or ``"(not a customer)"``).
    """
    names_a, names_b = _names(store, before), _names(store, after)
    frame = store.query_df(
        "SELECT customer_id, x.segment AS a, y.segment AS b FROM "
        "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) x FULL JOIN "
        "(SELECT * FROM snapshot_members WHERE snapshot_id = ?) y USING (customer_id) "
        "WHERE x.segment IS DISTINCT FROM y.segment ORDER BY customer_id", [before, after])
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype(str),
                        "before": frame["a"].map(names_a).fillna(NONE).astype(str),
                        "after": frame["b"].map(names_b).fillna(NONE).astype(str)})
    if from_segment is not None:
        out = out[out["before"] == from_segment]
    if to_segment is not None:
        out = out[out["after"] == to_segment]
    return out.reset_index(drop=True)


__all__ = ["NONE", "migration", "movers", "sizes", "snapshots", "take"]

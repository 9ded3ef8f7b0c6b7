"""Snapshots of segment membership: who was in which segment when, and who moved between two dates.

A refresh takes a snapshot of its segment run whenever membership changed
since the run's last snapshot; a person can take one too. A snapshot keeps
the segment names of its day, so renaming a segment later does not rewrite
history. This module shapes the tables; the reads and writes are
:class:`segmentation.segment.repository.SegmentRepository`'s, the stage's
only SQL executor.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..core.errors import NotFoundError
from ..core.store import Dataset, Store
from ..ingest.repository import DatasetsRepository
from .repository import SegmentRepository
from .runs import Run, get_run, names_for

NONE = "(not a customer)"


# ------------------------------------------------------------------ on a resolved dataset and run

def take_of(store: Store, run: Run, refresh_id: int | None = None, only_if_changed: bool = True,
            ds: Dataset | None = None) -> int | None:
    """Keep the membership of a run as a snapshot; None when nothing changed (see :func:`take`)."""
    return SegmentRepository(store).take_snapshot(run.id, run.dataset_id, run.name, names_for(store, run, ds),
                                                  refresh_id, only_if_changed)


def snapshots_of(store: Store, ds: Dataset) -> pd.DataFrame:
    """Snapshots of a customers dataset, oldest first: ``id``, ``taken_at``, ``run``, ``customers``, ``refresh_id``."""
    return SegmentRepository(store).snapshots(ds.id)


def _names(store: Store, snapshot: int) -> dict[int, str]:
    found = SegmentRepository(store).snapshot_names(snapshot)
    if found is None:
        raise NotFoundError(f"No snapshot {snapshot}; see the list of snapshots on the Refresh page "
                            "(or `python -m segmentation snapshots`).")
    return found


def sizes_of(store: Store, ds: Dataset) -> pd.DataFrame:
    """Customers per segment in every snapshot: ``snapshot``, ``taken_at``, ``segment``, ``name``, ``customers``.

    Segments are named as on the snapshot's day; a segment with nobody in a
    snapshot counts 0, so a chart shows it shrink to nothing.
    """
    counts, listed = SegmentRepository(store).snapshot_counts(ds.id)
    frames = []
    for snapshot, taken_at, names in listed:
        here = counts[counts["snapshot"] == snapshot].set_index("segment")["customers"]
        frames.append(pd.DataFrame({"snapshot": snapshot, "taken_at": taken_at, "segment": list(names),
                                    "name": list(names.values()),
                                    "customers": [int(here.get(s, 0)) for s in names]}))
    if not frames:
        return pd.DataFrame(columns=["snapshot", "taken_at", "segment", "name", "customers"])
    return pd.concat(frames, ignore_index=True)


def migration_of(store: Store, before: int, after: int) -> pd.DataFrame:
    """Customers in each segment of snapshot ``before`` (rows) and ``after`` (columns), by segment name.

    Customers in only one snapshot (new, or merged into another customer)
    are counted under ``"(not a customer)"``.
    """
    names_a, names_b = _names(store, before), _names(store, after)
    pairs = SegmentRepository(store).snapshot_pairs(before, after)
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


def movers_of(store: Store, before: int, after: int, from_segment: str | None = None,
              to_segment: str | None = None) -> pd.DataFrame:
    """Customers whose segment differs between two snapshots: ``customer_id``, ``before``, ``after`` (names).

    ``from_segment`` / ``to_segment`` keep one cell of :func:`migration_of`
    (segment names, or ``"(not a customer)"``).
    """
    names_a, names_b = _names(store, before), _names(store, after)
    frame = SegmentRepository(store).snapshot_movers(before, after)
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype(str),
                        "before": frame["a"].map(names_a).fillna(NONE).astype(str),
                        "after": frame["b"].map(names_b).fillna(NONE).astype(str)})
    if from_segment is not None:
        out = out[out["before"] == from_segment]
    if to_segment is not None:
        out = out[out["after"] == to_segment]
    return out.reset_index(drop=True)


# ------------------------------------------------------------------ by name (older callers)

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
    return take_of(store, get_run(store, run, dataset), refresh_id, only_if_changed)


def snapshots(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Snapshots of a customers dataset, oldest first (see :func:`snapshots_of`)."""
    return snapshots_of(store, DatasetsRepository(store).dataset(dataset or None))


def sizes(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Customers per segment in every snapshot (see :func:`sizes_of`)."""
    return sizes_of(store, DatasetsRepository(store).dataset(dataset or None))


def migration(store: Store, before: int, after: int) -> pd.DataFrame:
    """Customers in each segment of snapshot ``before`` (rows) and ``after`` (columns) (see :func:`migration_of`)."""
    return migration_of(store, before, after)


def movers(store: Store, before: int, after: int, from_segment: str | None = None,
           to_segment: str | None = None) -> pd.DataFrame:
    """Customers whose segment differs between two snapshots (see :func:`movers_of`)."""
    return movers_of(store, before, after, from_segment, to_segment)


__all__ = ["NONE", "migration", "migration_of", "movers", "movers_of", "sizes", "sizes_of", "snapshots",
           "snapshots_of", "take", "take_of"]

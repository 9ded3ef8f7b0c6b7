"""Snapshots of segment membership and the migration between two of them, on a few inline customers."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from segmentation.core.errors import NotFoundError
from segmentation.ingest.importer import import_file
from segmentation.segment import runs as segments
from segmentation.segment import snapshots
from segmentation.segment.features import FeatureSettings


@pytest.fixture
def run(store):
    frame = pd.DataFrame({"id": [f"K{i}" for i in range(8)],
                          "Valeur contrat": ["100", "110", "120", "130", "9000", "9100", "9200", "9300"]})
    out = io.StringIO()
    frame.to_csv(out, index=False)
    import_file(store, out.getvalue().encode(), "crm.csv", )
    saved = segments.run_segments(store, "crm", FeatureSettings(numeric=("Valeur contrat",)), 2, name="value")
    low = segments.assignments(store, "value").set_index("customer_id").loc["C1", "segment"]
    segments.rename_segment(store, "value", int(low), "Small")
    segments.rename_segment(store, "value", 1 - int(low), "Big")
    return saved, int(low)


def test_take_only_when_membership_changed_and_migration(store, run):
    saved, low = run
    first = snapshots.take(store, "value")
    assert first is not None
    assert snapshots.take(store, "value") is None                       # nothing moved
    # Two small customers grow big, one customer is no longer there, a new one comes in.
    store.query_rows("UPDATE segment_members SET segment = ? WHERE run_id = ? AND customer_id IN ('C1', 'C2')",
                     [1 - low, saved.id])
    store.query_rows("DELETE FROM segment_members WHERE run_id = ? AND customer_id = 'C8'", [saved.id])
    store.query_rows("INSERT INTO segment_members VALUES (?, 'C9', ?)", [saved.id, low])
    segments.rename_segment(store, "value", 1 - low, "Large")          # later names do not rewrite history
    second = snapshots.take(store, "value")
    assert second == first + 1
    matrix = snapshots.migration(store, first, second)
    assert sorted(matrix.index) == sorted(["Small", "Big", snapshots.NONE])
    assert matrix.index[-1] == snapshots.NONE and matrix.columns[-1] == snapshots.NONE
    matrix = matrix.loc[["Small", "Big", snapshots.NONE], ["Small", "Large", snapshots.NONE]]
    assert matrix.to_numpy().tolist() == [[2, 2, 0], [0, 3, 1], [1, 0, 0]]
    moved = snapshots.movers(store, first, second)
    assert moved.values.tolist() == [["C1", "Small", "Large"], ["C2", "Small", "Large"],
                                     ["C8", "Big", snapshots.NONE], ["C9", snapshots.NONE, "Small"]]
    assert snapshots.movers(store, first, second, "Small", "Large")["customer_id"].tolist() == ["C1", "C2"]
    sizes = snapshots.sizes(store, "crm").sort_values(["snapshot", "name"])
    assert sizes[["snapshot", "name", "customers"]].values.tolist() == [
        [first, "Big", 4], [first, "Small", 4], [second, "Large", 5], [second, "Small", 3]]
    table = snapshots.snapshots(store, "crm")
    assert table["customers"].tolist() == [8, 8]


def test_unknown_snapshot(store, run):
    with pytest.raises(NotFoundError, match="No snapshot 42"):
        snapshots.migration(store, 42, 43)

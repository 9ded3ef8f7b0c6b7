"""The segment stage as a dataset handle carries it: runs named within their dataset, results, write versions,
and read-modify-write under one lock (two sessions doing the same thing at once)."""

from __future__ import annotations

import threading

import pytest

from segmentation import AssignResult, FeatureSettings, NotFoundError, Run, SettingError, open_workspace
from segmentation.ingest.importer import ImportSettings, import_file
from tests.segment.test_runs import CSV

SETTINGS = FeatureSettings(numeric=("value", "visits"), log=(), reference_date="2026-01-01")
SIZES = {"0": 6, "1": 6, "2": 4}


@pytest.fixture
def ws(tmp_path):
    workspace = open_workspace(tmp_path / "ws.duckdb")
    import_file(workspace.store, CSV, "crm.csv", ImportSettings(roles={"value": "measure", "visits": "measure"}))
    yield workspace
    workspace.close()


def together(*calls):
    """Run the calls in threads released at the same moment; their results (or exceptions), in order."""
    barrier = threading.Barrier(len(calls))
    out: list = [None] * len(calls)

    def work(i, call):
        barrier.wait()
        try:
            out[i] = call()
        except Exception as exc:  # the test looks at what each one raised
            out[i] = exc

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_runs_are_named_within_their_dataset(ws):
    crm = ws.dataset("crm")
    run = crm.segments.run(SETTINGS, 3, name="Spring")
    assert isinstance(run, Run) and (run.name, run.k, run.customers, run.is_current) == ("Spring", 3, 16, True)
    import_file(ws.store, CSV, "other.csv", ImportSettings(roles={"value": "measure", "visits": "measure"}))
    other = ws.dataset("other")
    assert other.segments.current_run() is None and other.segments.runs().empty
    with pytest.raises(NotFoundError, match=r"^No segment run named 'Spring'; dataset 'other' has \[\]\.$"):
        other.segments.get_run("Spring")
    assert other.segments.dataset_of_run("Spring").id == crm.id
    assert list(crm.segments.runs()["name"]) == ["Spring"] and crm.segments.get_run().id == run.id
    # Without a run, customers come back as they are; a run named that is not there is an error.
    plain = other.segments.with_segments()
    assert len(plain) == 16 and "segment" not in plain.columns
    with pytest.raises(NotFoundError, match="No segment run named 'Spring'"):
        other.segments.with_segments("Spring")


def test_run_assign_names_and_what_the_downloads_hold(ws):
    segments = ws.dataset("crm").segments
    run = segments.run(SETTINGS, 3)
    assert segments.sizes(run) == segments.sizes("crm · k=3") == SIZES
    assert run.to_dict()["features"] == ["value", "visits"]
    result = segments.assign()
    assert isinstance(result, AssignResult)
    assert result.to_dict() == {"run": "crm · k=3", "assigned": 16, "sizes": SIZES}
    names = segments.names(run)
    assert sorted(names) == [0, 1, 2] and len(set(names.values())) == 3
    version = ws.dataset("crm").version
    assert segments.rename_segment(run, 2, "  Core ") == {**names, 2: "Core"}
    assert ws.dataset("crm").version == version + 1                   # one committed write, on this dataset
    assert segments.profile_table(run)["name"].tolist() == [names[0], names[1], "Core"]
    rows = segments.with_segments()
    assert rows["segment"].value_counts().sort_index().to_dict() == {0: 6, 1: 6, 2: 4}
    assert set(rows.loc[rows["segment"] == 2, "segment_name"]) == {"Core"}
    members = ws.store.query_df(f"SELECT segment, count(*) AS n FROM ({segments.members_sql(run)}) GROUP BY 1 "
                                "ORDER BY 1")
    assert members["n"].tolist() == [6, 6, 4]
    with pytest.raises(SettingError, match=r"^Run 'crm · k=3' has segments 0\.\.2; got 3\.$"):
        segments.rename_segment(run, 3, "x")
    with pytest.raises(SettingError, match="A segment name cannot be empty"):
        segments.rename_segment(run, 0, "  ")


def test_two_sessions_saving_runs_of_one_name_at_once(ws):
    segments = ws.dataset("crm").segments
    first, second = together(lambda: segments.run(SETTINGS, 2, name="Q1"), lambda: segments.run(SETTINGS, 3, name="Q1"))
    assert sorted([first.name, second.name]) == ["Q1", "Q1 (2)"]
    table = segments.runs()
    assert sorted(table["name"]) == ["Q1", "Q1 (2)"] and int(table["current"].sum()) == 1


def test_two_sessions_renaming_two_runs_to_one_name_at_once(ws):
    segments = ws.dataset("crm").segments
    segments.run(SETTINGS, 2, name="A")
    segments.run(SETTINGS, 3, name="B")
    results = together(lambda: segments.rename_run("A", "Winter"), lambda: segments.rename_run("B", "winter"))
    renamed = [r for r in results if isinstance(r, Run)]
    refused = [r for r in results if isinstance(r, SettingError)]
    assert len(renamed) == 1 and len(refused) == 1, results
    assert "already exists: pick another name" in str(refused[0])
    assert sorted(n.lower() for n in segments.runs()["name"]) == sorted(["winter", "b" if renamed[0].k == 2 else "a"])


def test_two_sessions_taking_a_snapshot_at_once_keep_one(ws):
    segments = ws.dataset("crm").segments
    segments.run(SETTINGS, 3, name="S")
    segments.names("S")
    taken = together(segments.take_snapshot, segments.take_snapshot)
    assert sorted(taken, key=lambda t: t is None) == [1, None]
    assert segments.snapshots()["customers"].tolist() == [16]
    sizes = segments.snapshot_sizes()
    assert sizes["customers"].tolist() == [6, 6, 4]
    assert segments.migration(1, 1).to_numpy().diagonal().tolist() == [6, 6, 4]
    assert segments.movers(1, 1).empty

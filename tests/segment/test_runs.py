"""Segment runs over the store: default features, scan, run, assignment of new customers, compare, manage."""

from __future__ import annotations

import pytest

from segmentation.core.errors import NotFoundError
from segmentation.dedupe import review as dedupe
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.segment import runs as segments
from segmentation.segment.features import FeatureSettings
from tests.conftest import SAMPLE

CSV = (
    "id;name;value;visits;sector;created;email\n"
    + "".join(f"A{i};N{i};{v};{n};{s};01/0{1 + i % 9}/2024;a{i}@x.fr\n"
              for i, (v, n, s) in enumerate([(100, 1, "shop")] * 6 + [(5000, 20, "bank")] * 6 + [(900, 8, "shop")] * 4))
).encode()
SETTINGS = FeatureSettings(numeric=("value", "visits"), log=(), reference_date="2026-01-01")


@pytest.fixture
def ds(store):
    return import_file(store, CSV, "crm.csv", ImportSettings(roles={"value": "measure", "visits": "measure"}))


def test_default_features_are_measures_and_dates(store, ds):
    table = segments.candidates(store, ds.name).set_index("feature")
    assert table.loc["value", "kind"] == "numeric" and table.loc["value", "default"]
    assert table.loc["created (days ago)", "column"] == "created"
    assert table.loc["sector", "kind"] == "categorical" and not table.loc["sector", "default"]
    assert not {"id", "name", "email"} & set(table.index)
    assert segments.default_features(store, ds.name).numeric == ("value", "visits", "created (days ago)")


def test_run_saves_segments_and_assigns_new_customers(store, ds):
    scan = segments.scan(store, ds.name, SETTINGS, k_min=2, k_max=5)
    assert scan.recommended_k_ == 3
    run = segments.run_segments(store, ds.name, SETTINGS, k=3)
    assert (run.name, run.k, run.customers, run.is_current) == ("crm · k=3", 3, 16, True)
    assert segments.segment_sizes(store) == {"0": 6, "1": 6, "2": 4}
    members = segments.assignments(store).set_index("customer_id")["segment"]
    assert members["C1"] == members["C6"] != members["C7"] == members["C12"]  # shop 100 vs bank 5000
    assert {"silhouette", "calinski_harabasz", "davies_bouldin", "inertia"} <= set(run.scores)

    # A later export brings a new bank customer: assigned with the saved pipeline, nothing refitted.
    later = b"id;name;value;visits;sector;created;email\nA99;New;5200;21;bank;01/01/2025;n@x.fr\n"
    import_file(store, later, "feb.csv", ImportSettings(append_to=ds.name))
    result = segments.assign(store)
    bank = str(members["C7"])
    assert result["run"] == "crm · k=3" and result["assigned"] == 17
    assert result["sizes"] == {**{"0": 6, "1": 6, "2": 4}, bank: 7}
    members = segments.assignments(store).set_index("customer_id")["segment"]
    assert members["C17"] == members["C7"]


def test_runs_follow_merges_compare_rename_delete(store, ds):
    first = segments.run_segments(store, ds.name, SETTINGS, k=3, name="Spring")
    dedupe.merge(store, ds.name, pairs=[(1, 2)])          # two records of one customer
    second = segments.run_segments(store, ds.name, SETTINGS, k=2)
    assert second.customers == 15 and second.is_current and not segments.get_run(store, "Spring").is_current
    matrix = segments.compare_runs(store, "Spring", second.name)
    # Run B's segment 0 gathers both "shop" segments of run A; C2, merged into C1, is in run A only.
    assert matrix.to_dict() == {"0": {"0": 0, "1": 5, "2": 4}, "1": {"0": 6, "1": 0, "2": 0},
                                "(none)": {"0": 0, "1": 1, "2": 0}}
    renamed = segments.rename_run(store, "Spring", "Spring 2026")
    assert renamed.id == first.id
    segments.set_current(store, "Spring 2026")
    assert segments.get_run(store).name == "Spring 2026"
    segments.delete_run(store, "Spring 2026")
    assert segments.get_run(store).name == second.name            # the remaining run is current again
    assert list(segments.runs(store)["name"]) == [second.name]
    with pytest.raises(NotFoundError, match="No segment run named 'Spring 2026'"):
        segments.get_run(store, "Spring 2026")


def test_sample_customers_segment_end_to_end(store):
    data = (SAMPLE / "customers.csv").read_bytes()
    ds = import_file(store, data, "customers.csv")
    settings = segments.default_features(store, ds.name)
    assert "Valeur contrat" in settings.numeric
    scan = segments.scan(store, ds.name, settings)
    assert 2 <= scan.recommended_k_ <= 10 and scan.reason_
    run = segments.run_segments(store, ds.name, settings, k=scan.recommended_k_)
    sizes = segments.segment_sizes(store, run.name)
    assert sum(sizes.values()) == ds.row_count == run.customers

"""Segment runs over the store: default features, scan, run, assignment of new customers, compare, manage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from segmentation.core.errors import NotFoundError
from segmentation.dedupe import review as dedupe
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.segment import runs as segments
from segmentation.segment.features import FeatureSettings
from tests.conftest import ROOT, SAMPLE

REAL = ROOT / "tests" / "data" / "real"

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


def test_sample_customers_give_five_segments_with_and_without_taille_and_runs_reproduce_the_scan(store):
    ds = import_file(store, (SAMPLE / "customers.csv").read_bytes(), "customers.csv")
    settings = replace(segments.default_features(store, ds.name), reference_date="2026-12-01")
    assert settings.numeric == ("Date de création (days ago)", "Dernière activité (days ago)",
                                "Fréquence d'utilisation", "Tickets support", "Valeur contrat")
    scan = segments.scan(store, ds.name, settings)
    assert (scan.recommended_k_, scan.knee_) == (5, 5)
    with_size = replace(settings, categorical=("Taille",))   # one category must not swamp the decision
    scan = segments.scan(store, ds.name, with_size)
    assert (scan.recommended_k_, scan.knee_) == (5, 5)
    assert str(scan.reason_).startswith("5 segments: the elbow flattens after 5 (the deciding evidence)")
    kept = segments.last_scan(store, ds.name)                  # read back after a reload, in either language
    assert str(kept.reason) == str(scan.reason_)
    assert kept.reason.render("fr").startswith("5 segments : la courbe du coude s’aplatit après 5")

    # A run after the scan is the partition the scan scored; the same settings give the same segments.
    scanned = scan.scores_.set_index("k")["inertia"]
    run = segments.run_segments(store, ds.name, with_size, k=4)
    assert run.scores["inertia"] == pytest.approx(scanned[4], rel=1e-9)
    again = segments.run_segments(store, ds.name, with_size, k=4, name="again")
    assert again.scores["inertia"] == run.scores["inertia"]
    first, second = (segments.members_of(store, r).set_index("customer_id")["segment"] for r in (run, again))
    assert first.equals(second)
    assert sum(segments.sizes_of(store, run).values()) == ds.row_count == run.customers


def test_real_marketing_campaign_gets_the_published_number_of_segments(store):
    # Kaggle "Customer Personality Analysis" (300 customers of tests/data/real): published analyses use 4 or 5.
    ds = import_file(store, (REAL / "marketing_campaign.csv").read_bytes(), "marketing_campaign.csv",
                     ImportSettings(kind="customers"))
    table = segments.dataset_candidates(store, ds).set_index("feature")
    assert not {"Z_CostContact", "Z_Revenue"} & set(table.index)     # constant columns are never features
    settings = replace(segments.dataset_default_features(store, ds), reference_date="2026-12-01")
    assert "Income" in settings.numeric and "MntWines" in settings.numeric
    scan = segments.scan(store, ds.name, settings)
    assert 3 <= scan.recommended_k_ <= 6 and scan.knee_ in (4, 5)


def test_a_category_with_many_values_is_offered_as_its_top_values_plus_other(store):
    rows = "".join(f"A{i};{100 + i * 7 % 900};Country {i % 40:02d}\n" for i in range(400))
    ds = import_file(store, ("id;value;country\n" + rows).encode(), "many.csv",
                     ImportSettings(roles={"value": "measure", "country": "country"}))
    table = segments.dataset_candidates(store, ds).set_index("feature")
    assert table.loc["country", "kind"] == "categorical"
    assert table.loc["country", "note"] == 'its 29 most frequent values, the others as one "other" value'
    settings = FeatureSettings(numeric=("value",), categorical=("country",), log=(), reference_date="2026-01-01")
    run = segments.fit_run(store, ds, settings, k=3)
    assert run.customers == 400 and sum(segments.sizes_of(store, run).values()) == 400


# ------------------------------------------------------------------ saved models never run code (issue 19)

OLD_FORMAT = "was saved by an earlier version of Segment Studio as a pickle, which can run code when loaded"


class _Planted:
    """What a crafted store holds: unpickling it writes the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def _plant(store, run, blob: bytes) -> None:
    with store.transaction(run.dataset_id) as tx:
        tx.execute("UPDATE segment_runs SET model = ? WHERE id = ?", [blob, run.id])


def test_saved_pipeline_round_trip_gives_identical_segments(store, ds):
    import numpy as np

    from segmentation.core import models as saved_models
    from segmentation.segment.repository import SegmentRepository

    settings = FeatureSettings(numeric=("value", "visits", "created (days ago)"), categorical=("sector",),
                               reference_date="2026-01-01")
    run = segments.run_segments(store, ds.name, settings, k=3)
    blob = SegmentRepository(store).model(run.id)
    assert blob.startswith(saved_models.HEADER) and b"\x80\x04" not in blob[:64]
    frame = segments.features_of(store, ds, run.settings)
    pipeline = segments._model(store, run)
    saved = segments.members_of(store, run).set_index("customer_id")["segment"].reindex(frame.index.astype(str))
    np.testing.assert_array_equal(pipeline.predict(frame), saved.to_numpy())
    assert segments.assign_run(store, run, ds).sizes == segments.sizes_of(store, run)
    sample = segments.sample_of(store, run)  # the Profile page's map: the saved preprocessing, then PCA
    assert len(sample) == 16 and sample[["pc1", "pc2"]].notna().all().all()


def test_a_crafted_pickle_in_a_run_is_refused_and_never_runs(store, ds, tmp_path, capsys):
    import pickle

    from segmentation import open_workspace
    from segmentation.cli import main
    from segmentation.core.errors import StoreError

    run = segments.run_segments(store, ds.name, SETTINGS, k=3, name="Q")
    marker = tmp_path / "pwned"
    _plant(store, run, pickle.dumps(_Planted(marker)))
    before = segments.members_of(store, run)
    with pytest.raises(StoreError, match=f"^Segment run 'Q' {OLD_FORMAT}: it was not loaded. Re-run this "
                                         r"segmentation \(same features and k\)"):
        segments.assign(store, "Q")
    with pytest.raises(StoreError, match=f"^Segment run 'Q' {OLD_FORMAT}"):
        segments.sample_of(store, run)  # the Profile page's chart of the run
    assert segments.members_of(store, run).equals(before)  # nothing changed
    db = store.path
    store.close()

    ws = open_workspace(db)
    try:
        handle = ws.dataset(ds.name)
        with pytest.raises(StoreError, match=OLD_FORMAT):
            handle.segments.assign("Q")
        with pytest.raises(StoreError, match=OLD_FORMAT):
            handle.segments.sample("Q")
        assert handle.segments.profile("Q").sizes["size"].sum() == 16  # memberships only: no model read
        config = ws.refresh.config_from_store(ds.name, files={ds.name: "crm.csv"})
        (tmp_path / "crm.csv").write_bytes(CSV)
        config_file = ws.refresh.save_config(config, tmp_path / "pipeline.toml")
        from segmentation.core.errors import RefreshError
        with pytest.raises(RefreshError, match=f"step 'segments Q' failed: Segment run 'Q' {OLD_FORMAT}"):
            ws.refresh.run_file(config_file)
    finally:
        ws.close()

    assert main(["--db", str(db), "assign", "--run", "Q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: Segment run 'Q' {OLD_FORMAT}: it was not loaded. Re-run this segmentation (same "
                   "features and k) on the Segment page or with the `segment` command to use it."]
    assert not marker.exists()


def test_an_old_run_is_flagged_and_a_re_run_assigns_again(store, ds):
    import pickle

    from segmentation.core.errors import StoreError
    from segmentation.segment.clustering import SegmentModel

    run = segments.run_segments(store, ds.name, SETTINGS, k=3, name="old")
    frame = segments.features_of(store, ds, run.settings)
    _plant(store, run, pickle.dumps(SegmentModel(run.settings, k=3).fit(frame)))  # what earlier versions saved
    with pytest.raises(StoreError, match=OLD_FORMAT):
        segments.assign(store, "old")
    segments.run_segments(store, ds.name, run.settings, k=run.k, name="old again")
    assert segments.assign(store, "old again")["sizes"] == {"0": 6, "1": 6, "2": 4}


def test_a_safe_file_with_an_unexpected_type_or_model_is_refused(store, ds, tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import StandardScaler

    from segmentation.core import models as saved_models
    from segmentation.core.errors import StoreError

    run = segments.run_segments(store, ds.name, SETTINGS, k=3, name="Q")
    _plant(store, run, saved_models.HEADER + sio.dumps({"x": _Planted(tmp_path / "m")}))
    with pytest.raises(StoreError, match=r"^Segment run 'Q''s saved model names types Segment Studio does not "
                                         r"trust \(tests\.segment\.test_runs\._Planted\): it was not loaded\."):
        segments.assign(store, "Q")
    _plant(store, run, saved_models.HEADER + sio.dumps(StandardScaler().fit([[1.0], [2.0]])))
    with pytest.raises(StoreError, match=r"^Segment run 'Q''s saved model is a StandardScaler, not a Pipeline: "):
        segments.assign(store, "Q")
    _plant(store, run, saved_models.HEADER + b"PK\x03\x04 not a zip")
    with pytest.raises(StoreError, match=r"^Segment run 'Q''s saved model is damaged"):
        segments.assign(store, "Q")
    assert not (tmp_path / "m").exists()

"""A run's profile kept in the store (JSON): read back equal, carried over a rename, computed again on new data."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest

from segmentation import open_workspace
from segmentation.ingest.importer import ImportSettings
from segmentation.segment import profiles
from segmentation.segment.features import FeatureSettings
from segmentation.segment.profiling import Profile, ProfileSettings, build_profile

CSV = ("id;email;consent;value;visits;region\n" + "".join(
    f"A{i};{f'a{i}@x.fr' if i % 3 else ''};{'oui' if i % 2 else 'non'};{v};{n};{r}\n"
    for i, (v, n, r) in enumerate([(20000, 2, "Île-de-France")] * 8 + [(900, 30, "Bretagne")] * 12))).encode()
FEATURES = FeatureSettings(numeric=("value", "visits"), log=())


def assert_same(a: Profile, b: Profile) -> None:
    for f in fields(Profile):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True, check_index_type=True, check_column_type=True)
            assert type(x.index) is type(y.index), f.name
        else:
            assert x == y, f.name


@pytest.fixture
def computed(tmp_path, monkeypatch):
    """A store with a 2-segment run whose profile was computed once; then a fresh process (no memo) that
    counts the profiles it computes."""
    db = tmp_path / "w.duckdb"
    monkeypatch.setattr(profiles, "_MEMO", {})
    with open_workspace(db) as ws:
        stage = ws.ingest.import_bytes(CSV, "crm.csv", ImportSettings(roles={"value": "measure",
                                                                            "visits": "measure"})).segments
        run = stage.run(FEATURES, 2)
        first = stage.profile(run.name)
    monkeypatch.setattr(profiles, "_MEMO", {})
    calls = []
    compute = profiles._profile
    monkeypatch.setattr(profiles, "_profile", lambda *a: calls.append(a[1].id) or compute(*a))
    return db, run.name, first, calls


def test_a_kept_profile_is_read_back_equal_to_the_computed_one(computed):
    db, run_name, first, calls = computed
    with open_workspace(db) as ws:
        stage = ws.dataset().segments
        again = stage.profile(run_name)
        text = ws.store.query_value("SELECT CAST(profile AS VARCHAR) FROM segment_profiles")
    assert calls == []
    assert_same(again, first)
    assert again.sizes["size"].tolist() == [12, 8] and again.label(0) is not None
    assert set(json.loads(text)) == {f.name for f in fields(Profile)}  # JSON text, nothing executable


def test_a_rename_keeps_the_kept_profile_for_the_next_process(computed):
    db, run_name, first, calls = computed
    with open_workspace(db) as ws:
        ws.dataset().segments.rename_segment(run_name, 0, "Loyal")
    profiles._MEMO.clear()
    with open_workspace(db) as ws:
        again = ws.dataset().segments.profile(run_name)
    assert calls == []
    assert again.names == {0: "Loyal", 1: first.names[1]}
    assert again.label(0) == "Loyal" and again.label(1) == first.suggested[1]
    pd.testing.assert_frame_equal(again.numeric, first.numeric, check_exact=True)


def test_a_merge_or_a_new_assignment_computes_the_profile_again(computed):
    db, run_name, _first, calls = computed
    with open_workspace(db) as ws:
        handle = ws.dataset()
        handle.dedupe.merge(pairs=[(1, 2)])
        merged = handle.segments.profile(run_name)
        assert len(calls) == 1 and int(merged.sizes["size"].sum()) == 19
    profiles._MEMO.clear()
    with open_workspace(db) as ws:
        handle = ws.dataset()
        assert_same(handle.segments.profile(run_name), merged)  # kept again, read back
        assert len(calls) == 1
        handle.segments.assign(run_name)
        handle.segments.profile(run_name)
        assert len(calls) == 2
        # One profile kept per run and settings: the stale one went; another setting is one more row.
        assert ws.store.query_value("SELECT count(*) FROM segment_profiles") == 1
        handle.segments.profile(run_name, ProfileSettings(min_share=0.1))
        assert ws.store.query_value("SELECT count(*) FROM segment_profiles") == 2 and len(calls) == 3
        handle.segments.delete_run(run_name)
        assert ws.store.query_value("SELECT count(*) FROM segment_profiles") == 0


def test_a_profile_with_missing_values_and_categories_survives_json():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"Valeur": np.r_[rng.normal(100, 5, 30), rng.normal(300, 5, 30)],
                          "Canal": ["Web"] * 25 + [np.nan] * 5 + ["Boutique"] * 30})
    frame.loc[3, "Valeur"] = np.nan
    profile = build_profile(frame, np.repeat([0, 1], 30), 2, ["Valeur"], ["Canal"])
    again = profiles.profile_from_json(profiles.profile_to_json(profile))
    assert_same(again, profile)
    assert again.names == profile.names and again.traits[0] and again.rule_words[1] == profile.rule_words[1]


def test_a_profile_kept_yesterday_is_computed_again(computed, monkeypatch):
    import datetime as dt
    db, run_name, _first, calls = computed

    class Tomorrow(dt.date):  # days-ago measures and stale profiles count from today
        @classmethod
        def today(cls):
            return dt.date.today() + dt.timedelta(days=1)

    monkeypatch.setattr(profiles, "date", Tomorrow)
    with open_workspace(db) as ws:
        ws.dataset().segments.profile(run_name)
        assert len(calls) == 1
        assert ws.store.query_value("SELECT computed_on FROM segment_profiles") == Tomorrow.today()


def test_writes_that_describe_no_customer_keep_the_profile_and_rfm_or_scores_do_not(computed):
    from segmentation import AudienceSpec, Condition, RFMSettings
    from segmentation.behaviour.repository import BehaviourRepository

    db, run_name, first, calls = computed
    with open_workspace(db) as ws:
        handle = ws.dataset()
        handle.audiences.save("Rich", AudienceSpec(channel=None, groups=((Condition("value", "ge", 1000),),)))
        handle.segments.run(FEATURES, 3, name="another")
        handle.segments.rename_segment(run_name, 1, "Regulars")
        again = handle.segments.profile(run_name)
        assert calls == [handle.segments.get_run("another").id]   # only the new run's own profile
        assert again.names == {0: first.names[0], 1: "Regulars"}
        pd.testing.assert_frame_equal(again.numeric, first.numeric, check_exact=True)
        profiles._MEMO.clear()
        kept = handle.segments.profile(run_name)
        assert kept.names[1] == "Regulars" and len(calls) == 1      # read back: still valid
        orders = ws.ingest.import_bytes(b"order_id;customer_id;order_date;amount\nO1;A1;10/01/2026;40\n",
                                        "orders.csv", ImportSettings(kind="transactions"))
        handle.behaviour.rfm(orders, RFMSettings(as_of="2026-01-31"))
        handle.segments.profile(run_name)
        assert len(calls) == 2                                       # RFM describes customers: computed again
        scores = pd.DataFrame({"customer_id": ["C1"], "score": [0.5], "top": [10.0]})
        BehaviourRepository(ws.store).write_scores(handle.id, "churn", "score_churn", scores, "{}", "{}", b"")
        handle.segments.profile(run_name)
        assert len(calls) == 3
        pd.testing.assert_frame_equal(kept.sizes, first.sizes, check_exact=True)

"""K-means segmentation: preprocessing, scores, the recommended k, fitting and assigning."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from segmentation.core.errors import DataError, MissingColumnsError, SettingError
from segmentation.i18n import Message
from segmentation.segment.clustering import KScan, SegmentModel, find_knee, recommend_k
from segmentation.segment.features import FeatureSettings, build_preprocessor, describe_steps, feature_frame

DATA = Path(__file__).parent / "data"


def blobs(true_k: int, categorical: bool = False) -> pd.DataFrame:
    """``true_k`` groups of unequal sizes (150 to 700), four features on very different scales, and
    optionally a category that mostly follows the groups (one customer in ten has another value)."""
    rng = np.random.default_rng(true_k)
    sizes = [int(s) for s in rng.integers(150, 700, true_k)]
    x, y = make_blobs(n_samples=sizes, n_features=4, cluster_std=1.0, center_box=(-20, 20), random_state=true_k)
    frame = pd.DataFrame(x * [1, 100, 0.01, 1_000] + [0, 5_000, 0, 0], columns=list("abcd"))
    if categorical:
        level = np.where(rng.random(len(y)) < 0.1, rng.integers(0, 3, len(y)), y % 3)
        frame["kind"] = np.array(["x", "y", "z"])[level]
    return frame


@pytest.mark.parametrize("categorical", [False, True], ids=["numeric", "with a category"])
@pytest.mark.parametrize("true_k", range(3, 9))
def test_recommended_k_finds_the_groups(true_k, categorical):
    settings = FeatureSettings(numeric=tuple("abcd"), categorical=("kind",) if categorical else (), log=())
    scan = KScan(settings).fit(blobs(true_k, categorical))
    assert list(scan.scores_["k"]) == list(range(2, 11))
    assert (scan.recommended_k_, scan.knee_) == (true_k, true_k)
    assert isinstance(scan.reason_, Message)
    assert str(scan.reason_).startswith(f"{true_k} segments: the elbow flattens after {true_k} (the deciding "
                                        "evidence), they come back the same when fitted on other samples")
    row = scan.scores_.set_index("k").loc[true_k]
    assert row["stability"] > 0.9 and row["smallest_share"] > 0.05


def test_two_groups_only_when_the_data_clearly_has_two():
    x, _ = make_blobs(n_samples=[400, 900], n_features=3, cluster_std=1.0, center_box=(-20, 20), random_state=2)
    scan = KScan(FeatureSettings(numeric=("a", "b", "c"), log=())).fit(pd.DataFrame(x, columns=["a", "b", "c"]))
    assert scan.recommended_k_ == 2
    assert str(scan.reason_).startswith("2 segments: the customers fall into two clearly separated groups")


def table(inertia, stability, share=None, silhouette=None) -> pd.DataFrame:
    n = len(inertia)
    return pd.DataFrame({"k": range(2, 2 + n), "inertia": inertia, "stability": stability,
                         "smallest_share": share or [0.2] * n, "silhouette": silhouette or [0.3] * n,
                         "calinski_harabasz": [100.0 - i for i in range(n)],
                         "davies_bouldin": [1.0 + i / 10 for i in range(n)]})


def test_the_knee_decides_when_stability_and_size_confirm_it():
    scores = table([100.0, 80, 64, 52, 48, 45, 43], [0.99, 0.95, 0.97, 0.96, 0.7, 0.6, 0.6],
                   silhouette=[0.45, 0.3, 0.28, 0.27, 0.25, 0.24, 0.2])   # silhouette peaks at 2: not the vote
    assert find_knee(scores) == 5
    k, reason = recommend_k(scores, 5)
    assert k == 5
    assert str(reason) == ("5 segments: the elbow flattens after 5 (the deciding evidence), they come back the same "
                           "when fitted on other samples, and the smallest holds 20% of customers; the segments "
                           "are fairly distinct.")
    assert reason.render("fr").startswith("5 segments : la courbe du coude s’aplatit après 5")


def test_an_unstable_or_tiny_knee_gives_way_to_the_nearest_k_below():
    scores = table([100.0, 80, 64, 52, 48, 45], [0.99, 0.95, 0.8, 0.55, 0.7, 0.6])
    k, reason = recommend_k(scores, 5)
    assert k == 4
    assert str(reason) == ("4 segments: the elbow flattens after 5, but its segments change when fitted on other "
                           "samples; 4 is the nearest number of segments that is stable and large enough: they "
                           "mostly come back when fitted on other samples, and the smallest holds 20% of customers.")
    tiny = table([100.0, 80, 64, 52], [0.99, 0.95, 0.97, 0.96], share=[0.3, 0.2, 0.1, 0.005])
    k, reason = recommend_k(tiny, 5)
    assert k == 4 and "its smallest segment holds only 0.5% of customers" in str(reason)


def test_without_a_knee_the_separation_scores_decide_but_never_two():
    scores = table([100.0, 90, 80, 70], [0.99, 0.95, 0.97, 0.96], silhouette=[0.45, 0.31, 0.35, 0.2])
    scores["calinski_harabasz"] = [200.0, 150, 160, 100]
    scores["davies_bouldin"] = [0.9, 1.2, 1.0, 1.4]
    k, reason = recommend_k(scores, None)
    assert k == 4
    assert str(reason).startswith("4 segments: the elbow has no clear bend, so the separation scores decided")


def test_the_knee_is_read_on_the_chart_unless_the_log_shows_a_last_sharp_drop():
    smooth = table([6642.0, 5067, 4139, 3513, 3046, 2738, 2510, 2300, 2140], [1.0] * 9)  # Online Retail RFM
    assert find_knee(smooth) == 5
    sharp = table([1000.0, 600, 330, 200, 60, 55, 51, 48, 45], [1.0] * 9)   # well-separated groups: 6
    assert find_knee(sharp) == 6


def test_real_online_retail_rfm_gives_the_published_number_of_segments():
    # RFM of the 4,339 customers of UCI Online Retail (see data/README.md); published analyses use 4 and 5.
    rfm = pd.read_csv(DATA / "online_retail_rfm.csv")
    scan = KScan(FeatureSettings(numeric=("recency", "frequency", "monetary"))).fit(rfm)
    assert scan.steps_["log"] == ["recency", "frequency", "monetary"]
    assert scan.knee_ == 5
    assert 4 <= scan.recommended_k_ <= 5


def test_a_run_reproduces_the_scan_and_is_as_good_as_full_data_kmeans():
    frame = blobs(5)
    frame["a"] += np.random.default_rng(0).normal(0, 8, len(frame))   # overlapping groups: basins matter
    settings = FeatureSettings(numeric=tuple("abcd"), log=())
    scan = KScan(settings).fit(frame)
    scanned = scan.scores_.set_index("k")["inertia"]
    xt = build_preprocessor(frame, settings)[0].fit_transform(frame)
    for k in (3, 4, 6):
        run = SegmentModel(settings, k=k).fit(frame)
        assert run.inertia_ == pytest.approx(scanned[k], rel=1e-9)        # the partition the scan scored
        again = SegmentModel(settings, k=k).fit(frame)
        assert (again.labels_ == run.labels_).all()                       # same settings, same labels
        full = KMeans(k, n_init=10, random_state=0).fit(xt)
        assert (run.inertia_ <= full.inertia_ * (1 + 1e-6)
                or adjusted_rand_score(full.labels_, run.labels_) >= 0.9), k


def test_the_scores_are_scikit_learns():
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    from segmentation.segment.clustering import _ari, _separation, _Silhouette

    x = build_preprocessor(blobs(4), FeatureSettings(numeric=tuple("abcd"), log=()))[0].fit_transform(blobs(4))
    labels = KMeans(4, n_init=1, random_state=0).fit(x).labels_
    other = KMeans(5, n_init=1, random_state=1).fit(x).labels_
    total = float(((x - x.mean(axis=0)) ** 2).sum())
    mine = _separation(x, labels, 4, total)
    assert mine["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(x, labels), rel=1e-9)
    assert mine["davies_bouldin"] == pytest.approx(davies_bouldin_score(x, labels), rel=1e-9)
    assert _Silhouette(x[:500]).score(labels[:500], 4) == pytest.approx(silhouette_score(x[:500], labels[:500]),
                                                                        rel=1e-9)
    assert _ari(labels, other, 5) == pytest.approx(adjusted_rand_score(labels, other), rel=1e-12)


def test_preprocessing_imputes_logs_scales_and_weighs():
    customers = pd.DataFrame({
        "value": [100.0, 200, 300, np.nan, 50_000, 120, 80, 90],
        "created": pd.to_datetime(["2020-01-01", "2021-01-01", None, "2022-01-01", "2023-01-01", "2024-01-01",
                                   "2025-01-01", "2025-06-01"]),
        "sector": ["a", "b", None, "a", "a", "b", "a", "b"],
    })
    settings = FeatureSettings(numeric=("value", "created (days ago)"), categorical=("sector",),
                               reference_date="2026-01-01", weights={"value": 2.0})
    frame = feature_frame(customers, settings)
    assert frame["created (days ago)"].tolist()[:2] == [2192.0, 1826.0]
    prep, steps = build_preprocessor(frame, settings)
    assert steps["imputed"] == {"value": 1, "created (days ago)": 1, "sector": 1}
    assert steps["log"] == ["value"]               # skewed money; dates are not
    xt = prep.fit_transform(frame)
    assert xt.shape == (8, 4)                      # two numeric + two one-hot columns
    assert np.isclose(xt[:, 0].std(), 2.0)         # weight 2 on a standardised column
    assert set(np.round(np.unique(xt[:, 2:]), 2)) == {0.0, 0.71}  # one-hot times the categorical weight
    said = [str(m) for m in describe_steps(steps)]
    assert said == ["value: 1 missing values filled with the median.",
                    "created (days ago): 1 missing values filled with the median.",
                    "sector: 1 missing values filled with the most frequent value.",
                    "Log-transformed (skewed): value.", "Scaled to mean 0 and standard deviation 1.",
                    "Weights: value × 2."]


def test_a_category_with_many_values_is_its_top_values_plus_other():
    countries = [f"country {i:03d}" for i in range(243)]
    values = [countries[i] for i in range(243) for _ in range(243 - i)]     # country 000 most frequent
    frame = pd.DataFrame({"spend": np.arange(len(values), dtype=float), "country": values})
    settings = FeatureSettings(numeric=("spend",), categorical=("country",), log=())
    prep = build_preprocessor(frame, settings)[0].fit(frame)
    names = list(prep.get_feature_names_out())
    assert len(names) == 1 + 30 and names[1] == "cat:country__country_country 000"
    assert names[-1] == "cat:country__country_infrequent_sklearn"            # the 214 others together
    unseen = prep.transform(pd.DataFrame({"spend": [1.0], "country": ["Atlantis"]}))
    assert unseen[0, -1] == pytest.approx(0.71) and unseen[0, 1:-1].sum() == 0


def test_model_assigns_everyone_numbers_segments_by_size_and_round_trips():
    x, _ = make_blobs(n_samples=2000, centers=[[0, 0], [10, 10], [0, 10]], cluster_std=0.5, random_state=1)
    frame = pd.DataFrame(x, columns=["a", "b"])
    model = SegmentModel(FeatureSettings(numeric=("a", "b"), log=()), k=3).fit(frame)
    sizes = np.bincount(model.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)        # segment 0 is the largest
    assert sizes.sum() == 2000
    assert (model.predict(frame) == model.labels_).all()
    again = pickle.loads(pickle.dumps(model))
    assert (again.predict(frame) == model.labels_).all()
    new = pd.DataFrame({"a": [0.1, 9.8], "b": [0.2, 10.1]})
    centre = model.predict(frame.iloc[[int(np.argmin(np.hypot(x[:, 0], x[:, 1])))]])[0]
    assert model.predict(new)[0] == centre
    assert set(model.scores_) == {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "smallest_share",
                                  "stability"}
    with pytest.raises(NotFittedError):
        SegmentModel(FeatureSettings(numeric=("a",))).predict(frame)


def test_bad_settings_say_what_is_wrong():
    frame = pd.DataFrame({"a": [1.0, 2, 3], "b": [np.nan] * 3})
    with pytest.raises(SettingError, match=r"^Pick at least one feature to segment on\.$"):
        build_preprocessor(frame, FeatureSettings())
    with pytest.raises(SettingError, match=r"^scaling must be 'standard' or 'robust'; got 'minmax'\.$"):
        build_preprocessor(frame, FeatureSettings(numeric=("a",), scaling="minmax"))
    with pytest.raises(DataError, match=r"Features \['b'\] have no value at all"):
        build_preprocessor(frame, FeatureSettings(numeric=("a", "b")))
    with pytest.raises(MissingColumnsError, match=r"Missing columns \['c'\]"):
        feature_frame(frame, FeatureSettings(numeric=("c",)))
    with pytest.raises(DataError, match="too few"):
        KScan(FeatureSettings(numeric=("a",))).fit(frame.iloc[:2])
    with pytest.raises(SettingError, match=r"^The range of k must start at 2 or more and not be empty; got 1\.\.10\.$"):
        KScan(FeatureSettings(numeric=("a",)), k_min=1).fit(frame)
    with pytest.raises(DataError, match=r"^Cannot make 4 segments of 3 customers\.$"):
        SegmentModel(FeatureSettings(numeric=("a",)), k=4).fit(frame)


def test_a_row_as_near_two_centres_goes_to_the_first_and_fewer_distinct_points_than_k_still_fit():
    from segmentation.segment.clustering import _members, _with_ones, fit_partition, plan_for

    x = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 0.0]])                   # the last row is as near to both
    centers = np.array([[[[0.0, 0.0], [2.0, 0.0]]]])                     # 1 sample × 1 fit × 2 centres
    members = _members(np.ascontiguousarray(_with_ones(x[None]).transpose(0, 2, 1)), centers)
    assert members[0, 0].astype(int).tolist() == [[1, 0, 1], [0, 1, 0]]
    part = fit_partition(np.repeat(x, 5, axis=0), 5)                     # 3 distinct points, 5 segments
    assert part.inertia == pytest.approx(0.0, abs=1e-9)
    assert sorted(np.bincount(part.labels, minlength=5).tolist()) == [0, 0, 5, 5, 5]
    assert plan_for(10_000).refine_iter == 3 and plan_for(3_000).refine_iter == 10

"""K-means segmentation: preprocessing, scores, the recommended k, fitting and assigning."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError

from segmentation.core.errors import DataError, MissingColumnsError, SettingError
from segmentation.segment.clustering import KScan, SegmentModel, recommend_k
from segmentation.segment.features import FeatureSettings, build_preprocessor, describe_steps, feature_frame


@pytest.mark.parametrize("true_k", range(3, 9))
def test_recommended_k_finds_well_separated_groups(true_k):
    x, _ = make_blobs(n_samples=3000, centers=true_k, n_features=4, cluster_std=1.0, center_box=(-20, 20),
                      random_state=true_k)
    frame = pd.DataFrame(x, columns=list("abcd"))
    scan = KScan(FeatureSettings(numeric=tuple("abcd"), log=())).fit(frame)
    assert list(scan.scores_["k"]) == list(range(2, 11))
    assert scan.recommended_k_ == true_k
    assert scan.reason_.startswith(f"{true_k} segments: ")
    assert "they are the same on re-runs" in scan.reason_
    row = scan.scores_.set_index("k").loc[true_k]
    assert row["silhouette"] > 0.5 and row["stability"] > 0.9
    assert scan.scores_["inertia"].is_monotonic_decreasing or true_k < 10


def test_recommendation_skips_tiny_and_unstable_segments():
    scores = pd.DataFrame({"k": [2, 3, 4, 5], "inertia": [100.0, 50, 30, 25], "silhouette": [0.4, 0.45, 0.6, 0.3],
                           "smallest_share": [0.4, 0.2, 0.01, 0.1], "stability": [0.95, 0.95, 0.99, 0.5]})
    k, reason = recommend_k(scores, knee=4)      # the knee's smallest segment is 1% of customers
    assert k == 3
    assert reason == ("3 segments: the segments are best separated at 3, the segments are fairly distinct, "
                      "the smallest holds 20% of customers, and they are the same on re-runs.")


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
    assert "value: 1 missing values filled with the median." in describe_steps(steps)
    assert "sector: 1 missing values filled with the most frequent value." in describe_steps(steps)


def test_model_fits_on_a_sample_assigns_everyone_and_round_trips():
    x, _ = make_blobs(n_samples=2000, centers=[[0, 0], [10, 10], [0, 10]], cluster_std=0.5, random_state=1)
    frame = pd.DataFrame(x, columns=["a", "b"])
    model = SegmentModel(FeatureSettings(numeric=("a", "b"), log=()), k=3, fit_size=300).fit(frame)
    sizes = np.bincount(model.labels_)
    assert list(sizes) == sorted(sizes, reverse=True)        # segment 0 is the largest
    assert sizes.sum() == 2000
    again = pickle.loads(pickle.dumps(model))
    assert (again.predict(frame) == model.labels_).all()
    new = pd.DataFrame({"a": [0.1, 9.8], "b": [0.2, 10.1]})
    centre = model.predict(frame.iloc[[int(np.argmin(np.hypot(x[:, 0], x[:, 1])))]])[0]
    assert model.predict(new)[0] == centre
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

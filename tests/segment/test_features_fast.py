"""The k scan's preprocessing in numpy (features.fit_transform) gives the ColumnTransformer's matrix, bit for bit,
and the scan's shared k-means++ seeding gives every k the centres a fit of that k alone starts from."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation.core.errors import DataError
from segmentation.segment.clustering import KScan, _draws, _plus_plus, _seeds, fit_partition, plan_for
from segmentation.segment.features import (
    FeatureSettings,
    build_preprocessor,
    feature_frame,
    fit_transform,
    skewed,
)

ROOT = Path(__file__).resolve().parents[2]


def old_skewed(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """The seed's column-by-column test, as it was."""
    return [c for c in columns if len(v := frame[c].dropna()) > 2 and v.min() >= 0 and abs(v.skew()) > 1.0]


def assert_same(frame: pd.DataFrame, settings: FeatureSettings) -> np.ndarray:
    prep, steps = build_preprocessor(frame, settings)
    expected = np.asarray(prep.fit_transform(frame), dtype=float)
    got, got_steps = fit_transform(frame, settings)
    assert got.shape == expected.shape
    assert np.array_equal(got, expected)              # the same numbers to the last bit, not only close
    assert got.tobytes() == expected.tobytes()        # ... and the same signs of zero
    assert got_steps == steps
    return got


def sample_customers() -> pd.DataFrame:
    """The app's sample CRM export (French formats), its measures and dates parsed."""
    raw = pd.read_csv(ROOT / "sample_data" / "customers.csv", sep=";", encoding="cp1252", dtype=str)

    def number(col):
        text = raw[col].str.replace(r"[^0-9,\-]", "", regex=True).str.replace(",", ".")
        return pd.to_numeric(text, errors="coerce")

    return pd.DataFrame({
        "usage": number("Fréquence d'utilisation"), "tickets": number("Tickets support"),
        "value": number("Valeur contrat"),
        "created": pd.to_datetime(raw["Date de création"], format="%d/%m/%Y", errors="coerce"),
        "last": pd.to_datetime(raw["Dernière activité"], format="%d/%m/%Y", errors="coerce"),
        "sector": raw["Secteur"], "size": raw["Taille"], "region": raw["Région"],
    })


def test_the_sample_data_gives_the_same_matrix():
    customers = sample_customers()
    assert len(customers) > 1_000 and customers["value"].isna().any() and customers["last"].isna().any()
    numeric = ("usage", "tickets", "value", "created (days ago)", "last (days ago)")
    for settings in (FeatureSettings(numeric=numeric, reference_date="2026-12-01"),
                     FeatureSettings(numeric=numeric, categorical=("sector", "size", "region"),
                                     reference_date="2026-12-01", weights={"value": 2.0, "size": 0.5}),
                     FeatureSettings(numeric=numeric, scaling="robust", reference_date="2026-12-01"),
                     FeatureSettings(numeric=numeric, log=(), reference_date="2026-12-01")):
        frame = feature_frame(customers, settings)
        assert skewed(frame, list(numeric)) == old_skewed(frame, list(numeric)) == [
            "usage", "tickets", "value", "last (days ago)"]
        xt = assert_same(frame, settings)
        assert not np.isnan(xt).any()


def mixed(n: int, seed: int) -> pd.DataFrame:
    """NaNs, a constant column, skewed and not skewed columns, a negative one, integers, a category."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "money": np.round(rng.lognormal(6, 1.2, n), 2),           # skewed, logged
        "count": rng.poisson(0.7, n).astype(float),               # skewed counts
        "normal": rng.normal(50, 10, n),                          # not skewed
        "negative": rng.lognormal(0, 1.5, n) - 1,                 # skewed but negative: not logged
        "constant": np.full(n, 3.5),
        "tiny": rng.normal(1e6, 1e-7, n),                         # constant to the scaler (variance ~ 0)
        "seats": rng.integers(1, 40, n),                          # integers
        "kind": rng.choice(["a", "b", "c"], n),
    })
    holes = rng.random((n, 4)) < 0.07
    for j, col in enumerate(["money", "count", "normal", "constant"]):
        frame.loc[holes[:, j], col] = np.nan
    frame.loc[rng.random(n) < 0.05, "kind"] = None
    return frame


@pytest.mark.parametrize("n", [3, 10, 257, 5_000])
def test_a_frame_with_nans_constants_skewed_and_not_skewed_columns_gives_the_same_matrix(n):
    frame = mixed(n, n)
    numeric = ("money", "count", "normal", "negative", "constant", "tiny", "seats")
    found = skewed(frame, list(numeric))
    assert found == old_skewed(frame, list(numeric))
    if n >= 257:
        assert found == ["money", "count"]
    for settings in (FeatureSettings(numeric=numeric),
                     FeatureSettings(numeric=numeric, categorical=("kind",), weights={"normal": 3.0}),
                     FeatureSettings(numeric=numeric, scaling="robust"),
                     FeatureSettings(numeric=("normal",), log=()),
                     FeatureSettings(numeric=("money",)),
                     FeatureSettings(numeric=("normal", "money"), log=("normal", "money"))):
        assert_same(frame, settings)
    # Frames laid out otherwise in memory (built column by column, a slice, a copy): still the same.
    frame["late"] = frame["normal"] * 2
    assert_same(frame.iloc[::-1], FeatureSettings(numeric=("late", "money", "normal")))
    assert_same(frame[["money", "late"]].copy(), FeatureSettings(numeric=("late", "money")))


def test_infinite_values_say_what_is_wrong():
    frame = pd.DataFrame({"a": [1.0, np.inf, 3.0], "b": [1.0, 2.0, 3.0]})
    for call in (build_preprocessor, fit_transform):
        with pytest.raises(DataError, match=r"^Features \['a'\] have infinite values: expected finite numbers"):
            call(frame, FeatureSettings(numeric=("a", "b")))


def test_a_scan_seeds_once_per_number_of_candidates_and_every_k_starts_as_alone():
    x = np.random.default_rng(3).normal(size=(6_000, 4))
    x[:2_000] += 6
    plan = plan_for(len(x))
    scan = _draws(x, 0, plan, tuple(range(2, 13)))
    for k in range(2, 13):
        alone = _plus_plus(_draws(x, 0, plan).samples, k,
                           [np.random.default_rng(1_000 * r + t) for r in range(2) for t in range(plan.tries)])
        assert np.array_equal(_seeds(scan, k, 0, plan.tries), alone), k
    assert sorted((t, c.shape[2]) for t, c in scan.seeded.items()) == [(2, 2), (3, 7), (4, 12)]
    frame = pd.DataFrame(x, columns=list("abcd"))
    settings = FeatureSettings(numeric=tuple("abcd"), log=())
    scores = KScan(settings, k_max=12).fit(frame).scores_.set_index("k")
    xt = fit_transform(frame, settings)[0]
    for k in (2, 3, 7, 8, 12):                                      # a run of k is the partition the scan scored
        part = fit_partition(xt, k, 0)
        assert part.inertia == scores.loc[k, "inertia"] and part.stability == scores.loc[k, "stability"], k

"""K-means segmentation, scikit-learn style: choose k with several scores, fit, assign everyone.

Large files are handled by fitting K-means on a sample and assigning every
customer to the nearest centre (then computing inertia and the other scores
on everyone): on a million customers this stays within a fraction of a
percent of full-data K-means' inertia for a fraction of its time (see
``benchmarks/bench_segment.py``). Pure: frames and arrays in, fitted
estimators out; :mod:`segmentation.segment.runs` reads the customers and the
stage's repository (its only SQL executor) keeps the runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..core.errors import DataError, SettingError
from .features import FeatureSettings, build_preprocessor

Progress = Callable[[float, str], None]

MIN_SHARE = 0.02        # a segment smaller than 2% of customers is hard to act on
SEPARATION_SIZE = 100_000  # customers Calinski-Harabasz and Davies-Bouldin are computed on
JUDGE_SIZE = 100_000       # customers the candidate fits of each k are compared on
MIN_STABILITY = 0.75    # adjusted Rand index between re-runs below which segments are not trusted
SILHOUETTE_SLACK = 0.05  # the knee wins over the best-separated k unless clearly worse separated


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _fit_kmeans(xt: np.ndarray, k: int, n_init: int, seed: int) -> KMeans:
    # On small samples OpenMP threads spin-wait for each other: on a busy 2-core machine a 3,000-row
    # fit took 1.1 s with two threads and 0.04 s with one. Large fits keep every thread.
    with _threads(len(xt)), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k: shows as a 0% segment
        return KMeans(k, n_init=n_init, random_state=seed).fit(xt)


def _threads(rows: int):
    return threadpool_limits(1 if rows < 100_000 else None)


class SegmentModel(BaseEstimator, ClusterMixin):
    """Preprocessing + K-means as one pipeline, fitted on a sample, applied to everyone.

    Parameters
    ----------
    settings : FeatureSettings
        Features and preprocessing.
    k : int
        Number of segments.
    random_state : int
        Seed of the sample and of K-means.
    n_init : int
        K-means initialisations (the best is kept).
    fit_size : int
        Most customers K-means is fitted on.

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        ``prep`` (ColumnTransformer) then ``kmeans``; segments are numbered by size, 0 the largest.
    labels_ : numpy.ndarray
        Segment of each customer fitted on.
    inertia_ : float
        Sum of squared distances of every customer to its segment's centre.
    steps_ : dict
        What the preprocessing does (see :func:`segmentation.segment.features.build_preprocessor`).
    """

    def __init__(self, settings: FeatureSettings | None = None, k: int = 5, random_state: int = 0,
                 n_init: int = 4, fit_size: int = 200_000):
        self.settings = settings
        self.k = k
        self.random_state = random_state
        self.n_init = n_init
        self.fit_size = fit_size

    def fit(self, X: pd.DataFrame, y=None) -> SegmentModel:
        if not 1 <= self.k <= len(X):
            raise DataError(f"Cannot make {self.k} segments of {len(X):,} customers.")
        prep, steps = build_preprocessor(X, self.settings or FeatureSettings())
        xt = np.asarray(prep.fit_transform(X), dtype=float)
        km = _fit_kmeans(xt[_sample(len(xt), self.fit_size, self.random_state)], self.k, self.n_init,
                         self.random_state)
        labels, self.inertia_ = _assign(xt, km.cluster_centers_)
        order = np.argsort(-np.bincount(labels, minlength=self.k), kind="stable")
        km.cluster_centers_ = km.cluster_centers_[order]  # segment 0 is the largest
        self.labels_ = np.argsort(order)[labels]
        with _threads(len(xt)):
            self.scores_ = {"inertia": self.inertia_,
                            **_separation(xt, self.labels_, self.k, _sample(len(xt), 5_000, self.random_state + 1))}
        self.pipeline_ = Pipeline([("prep", prep), ("kmeans", km)])
        self.steps_ = steps
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Segment of each customer of ``X`` (a feature frame), without re-fitting."""
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict(X)


class KScan(BaseEstimator):
    """Scores of K-means for a range of k, and one recommended k with its reason.

    Parameters
    ----------
    settings : FeatureSettings
        Features and preprocessing.
    k_min, k_max : int
        Range of k (both included).
    random_state : int
        Seed of samples and fits.
    n_init : int
        K-means fits per k, each on a sample of its own; the one with the lowest inertia on a common
        100,000-customer sample is kept.
    fit_size : int
        Customers each K-means is fitted on; everyone is then assigned.
    silhouette_size : int
        Customers the silhouette is computed on (it costs n²).
    stability_runs, stability_size : int
        Re-fits on other samples and seeds, and their sample size.

    Attributes
    ----------
    scores_ : pandas.DataFrame
        Per k: ``inertia``, ``silhouette``, ``calinski_harabasz``,
        ``davies_bouldin``, ``smallest_share``, ``stability`` (mean adjusted
        Rand index against the re-fits).
    knee_ : int or None
        Where the inertia curve flattens (``kneed``).
    recommended_k_ : int
    reason_ : str
    """

    def __init__(self, settings: FeatureSettings | None = None, k_min: int = 2, k_max: int = 10,
                 random_state: int = 0, n_init: int = 4, fit_size: int = 30_000, silhouette_size: int = 3_000,
                 stability_runs: int = 2, stability_size: int = 10_000):
        self.settings = settings
        self.k_min = k_min
        self.k_max = k_max
        self.random_state = random_state
        self.n_init = n_init
        self.fit_size = fit_size
        self.silhouette_size = silhouette_size
        self.stability_runs = stability_runs
        self.stability_size = stability_size

    def fit(self, X: pd.DataFrame, y=None, progress: Progress = _no_progress) -> KScan:
        if self.k_min < 2 or self.k_max < self.k_min:
            error = SettingError("k range", f"{self.k_min}..{self.k_max}", "from 2 or more, not empty")
            error.args = (f"The range of k must start at 2 or more and not be empty; got {self.k_min}..{self.k_max}.",)
            raise error
        n = len(X)
        if n <= self.k_min:
            raise DataError(f"{n:,} customers are too few to try {self.k_min} segments or more.")
        progress(0.02, "Preparing features")
        prep, self.steps_ = build_preprocessor(X, self.settings or FeatureSettings())
        xt = np.asarray(prep.fit_transform(X), dtype=float)
        fit_idx = _sample(n, self.fit_size, self.random_state)
        sil_idx = _sample(n, self.silhouette_size, self.random_state + 1)
        self._sep_idx = _sample(n, SEPARATION_SIZE, self.random_state + 2)
        self._judge_idx = _sample(n, JUDGE_SIZE, self.random_state + 3)
        ks = list(range(self.k_min, min(self.k_max, n - 1) + 1))
        rows = []
        for i, k in enumerate(ks):
            progress(0.05 + 0.9 * i / len(ks), f"Trying {k} segments")
            rows.append(self._score(xt, k, fit_idx, sil_idx))
        self.scores_ = pd.DataFrame(rows)
        self.knee_ = find_knee(self.scores_)
        self.recommended_k_, self.reason_ = recommend_k(self.scores_, self.knee_)
        progress(1.0, "Done")
        return self

    def _score(self, xt: np.ndarray, k: int, fit_idx: np.ndarray, sil_idx: np.ndarray) -> dict:
        n = len(xt)
        with _threads(n):
            centers = _best_of_samples(xt, k, self.n_init, self.fit_size, self.random_state, self._judge_idx)
            labels, inertia = _assign(xt, centers)
            stability = []
            for r in range(self.stability_runs):
                other = _sample(n, self.stability_size, self.random_state + 100 + r)
                again = _fit_kmeans(xt[other], k, 1, self.random_state + 100 + r)
                stability.append(adjusted_rand_score(labels[sil_idx], again.predict(xt[sil_idx])))
            return {"k": k, "inertia": inertia,
                    **_separation(xt, labels, k, sil_idx, self._sep_idx),
                    "stability": float(np.mean(stability)) if stability else np.nan}


def _separation(xt: np.ndarray, labels: np.ndarray, k: int, sil_idx: np.ndarray,
                sep_idx: np.ndarray | None = None) -> dict:
    """Silhouette (on the rows ``sil_idx``), Calinski-Harabasz and Davies-Bouldin (on ``sep_idx``, default
    everyone) and the smallest segment's share (everyone)."""
    sep = slice(None) if sep_idx is None else sep_idx
    sep_labels = labels[sep]
    found = len(np.unique(sep_labels))
    sil_labels = labels[sil_idx]
    return {
        "silhouette": float(silhouette_score(xt[sil_idx], sil_labels))
        if 1 < len(np.unique(sil_labels)) < len(sil_idx) else np.nan,
        "calinski_harabasz": float(calinski_harabasz_score(xt[sep], sep_labels)) if found > 1 else np.nan,
        "davies_bouldin": float(davies_bouldin_score(xt[sep], sep_labels)) if found > 1 else np.nan,
        "smallest_share": float(np.bincount(labels, minlength=k).min() / len(xt)),
    }


def _best_of_samples(xt: np.ndarray, k: int, tries: int, size: int, seed: int, judge: np.ndarray) -> np.ndarray:
    """Centres of the best of ``tries`` K-means fits, each on a sample of its own, judged on the rows ``judge``.

    K-means' own ``n_init`` judges its inits on the sample it was fitted on, and a sample's best can be a
    worse basin on everyone (seen on 1M generated customers: +3.7% inertia at k=5 against full-data
    K-means). Other samples and seeds, judged on a larger common sample, find the better basin.
    """
    best, best_inertia = None, np.inf
    for t in range(tries):
        idx = _sample(len(xt), size, seed + t)
        centers = _fit_kmeans(xt[idx], k, 1, seed + t).cluster_centers_
        inertia = _assign(xt[judge], centers)[1]
        if inertia < best_inertia:
            best, best_inertia = centers, inertia
    return best


def _assign(xt: np.ndarray, centers: np.ndarray, chunk: int = 200_000) -> tuple[np.ndarray, float]:
    """Nearest centre of every row and the total squared distance, in one pass (chunked)."""
    labels = np.empty(len(xt), dtype=np.int64)
    total = 0.0
    sq = np.einsum("ij,ij->i", centers, centers)
    for start in range(0, len(xt), chunk):
        part = xt[start:start + chunk]
        d = np.einsum("ij,ij->i", part, part)[:, None] - 2 * part @ centers.T + sq[None, :]
        best = d.argmin(axis=1)
        labels[start:start + chunk] = best
        total += float(np.maximum(d[np.arange(len(part)), best], 0).sum())
    return labels, total


def find_knee(scores: pd.DataFrame) -> int | None:
    """Where the inertia curve flattens, within the range tried (``kneed``), or None.

    The knee is found on the logarithm of inertia: on the raw curve, the
    large first drops hide a last sharp drop and the knee comes too early
    (seen on well-separated groups: 5 found for 6).
    """
    if len(scores) < 3:
        return None
    knee = KneeLocator(scores["k"], np.log(scores["inertia"].clip(lower=1e-12)), curve="convex",
                       direction="decreasing").knee
    return int(knee) if knee is not None else None


def recommend_k(scores: pd.DataFrame, knee: int | None) -> tuple[int, str]:
    """One k, and why, in words a marketer reads.

    Among the k whose smallest segment holds at least 2% of customers and
    whose segments come back on re-runs (adjusted Rand index ≥ 0.75), take
    the knee of the inertia curve unless another k separates the segments
    clearly better (silhouette higher by more than 0.05); then the best
    separated one. If no k passes, the best separated k overall.
    """
    table = scores.set_index("k")
    usable = table[(table["smallest_share"] >= MIN_SHARE) & (table["stability"].fillna(1) >= MIN_STABILITY)]
    pool = usable if len(usable) else table
    sil = pool["silhouette"].fillna(-1)
    best = int(sil.idxmax())
    k = knee if knee in pool.index and sil[knee] >= sil[best] - SILHOUETTE_SLACK else best
    row = table.loc[k]
    why = [f"the curve flattens after {k}" if k == knee else f"the segments are best separated at {k}"]
    s = row["silhouette"]
    if not np.isnan(s):
        why.append("the segments are well separated" if s >= 0.5 else
                   "the segments are fairly distinct" if s >= 0.25 else "the segments overlap a good deal")
    why.append(f"the smallest holds {row['smallest_share']:.0%} of customers")
    st = row["stability"]
    if not np.isnan(st):
        why.append("they are the same on re-runs" if st >= 0.9 else "they are mostly the same on re-runs"
                   if st >= MIN_STABILITY else "they change between re-runs, so treat them with care")
    text = f"{k} segments: " + ", ".join(why[:-1]) + (", and " if len(why) > 1 else "") + why[-1] + "."
    if not len(usable):
        text += " No k gave segments both large and stable enough: consider other features."
    return k, text


__all__ = ["KScan", "SegmentModel", "find_knee", "recommend_k"]

"""K-means segmentation, scikit-learn style: choose k with several scores, fit, assign everyone.

One procedure makes the partition of a given k, for the k scan and for a run
alike (:func:`fit_partition`): K-means fitted on a few samples of the
customers (several seeds), the best judged on a common sample, then refined
by Lloyd iterations on every customer. The same data, settings and seed give
the same centres, so a run after a scan is the partition the scan scored. The
sample sizes grow with the data (:func:`plan_for`): at ten thousand customers
the samples are the data itself or a large part of it; at a million, fits on
samples and a few passes over everyone stay within a fraction of a percent of
full-data K-means' inertia for a fraction of its time (see
``benchmarks/bench_segment.py``).

Pure: frames and arrays in, fitted estimators and :class:`segmentation.i18n.Message`
reasons out; :mod:`segmentation.segment.runs` reads the customers and the
stage's repository (its only SQL executor) keeps the runs.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from ..core.errors import DataError, SettingError
from ..i18n import Message, message
from .features import FeatureSettings, build_preprocessor, fit_transform

Progress = Callable[[float, str], None]

MIN_SHARE = 0.02          # a segment smaller than 2% of customers is hard to act on
MIN_STABILITY = 0.75      # adjusted Rand index between fits on other samples below which segments are not trusted
TWO_GROUPS_SILHOUETTE = 0.5   # k = 2 only when two groups are this well separated ...
TWO_GROUPS_MARGIN = 0.1       # ... and clearly better separated than with more segments
SHARP_DROP = 2.0          # a drop of log inertia this many times the next one is a last sharp drop (see find_knee)
THREADS_FROM = 100_000    # rows from which K-means uses every thread (below, one: see _threads)
NUMPY_LLOYD_UNTIL = 50_000  # rows up to which Lloyd runs in numpy (above, scikit-learn's multi-threaded loop)


@dataclass(frozen=True)
class Plan:
    """How much of the data each step of a fit looks at (see :func:`plan_for`)."""

    fit_size: int         # customers each K-means try is fitted on
    tries: int            # K-means inits on each of the two resamples; the best on the judge sample is kept
    judge_size: int       # customers the tries are compared on (and stability measured on)
    refine_iter: int      # Lloyd iterations on everyone after the best try
    silhouette_size: int  # customers the silhouette is computed on (it costs n²)
    separation_size: int  # customers Calinski-Harabasz and Davies-Bouldin are computed on
    fit_iter: int = 10    # Lloyd iterations of each try on its sample (fewer when it has converged)


def plan_for(n: int) -> Plan:
    """Sample sizes sized to ``n`` customers: fits stay cheap at 10,000 customers and accurate at a million.

    Each try is fitted on a sample (80% of the customers up to 3,000, 1,500 at 10,000, 1 in 50 from
    75,000 on, at most 20,000); the tries are judged on a common sample; Lloyd iterations on everyone
    then move the best try's centres towards the optimum of the whole data (as full-data K-means would,
    started there): ten up to 3,000 customers, three above. The scan of k = 2..10 then takes less time than
    the seed's bare loop of full-data K-means at 10,000 customers too (see ``benchmarks/bench_segment.py``).
    """
    # Up to 3,000 customers each resample is 80% of them (every customer below 200), so that the
    # stability compares fits on different customers, not only different seeds.
    fit = n if n < 200 else int(0.8 * n) if n <= 3_000 else max(1_500, min(20_000, n // 50))
    if n <= 3_000:
        return Plan(fit_size=fit, tries=3, judge_size=n, refine_iter=10, silhouette_size=min(n, 1_000),
                    separation_size=n)
    # Above 3,000 customers three passes over everyone bring the best try within a fraction of a percent of
    # ten (at 10,000: 1.2 % from full-data K-means at worst against 1.1 %, at a third of the cost); a judge
    # sample of 3,000 picks the tries one of 5,000 picks (the stability and the recommended k unchanged); the
    # silhouette on 700 customers (± 0.01) and the separation scores on 5,000 to 20,000 rank the k as on more.
    return Plan(fit_size=fit, tries=3, judge_size=min(n, max(3_000, min(100_000, n // 20))), refine_iter=3,
                silhouette_size=700, separation_size=min(n, max(5_000, min(20_000, n // 5))))


@functools.cache
def _controller() -> ThreadpoolController:
    """scikit-learn's own controller when it has one, else one of ours: a new controller inspects every loaded
    library (the process holds about 300; 15 to 50 ms on a busy machine, a fifth of a scan of 10,000
    customers), so the process makes one, shared with scikit-learn's K-means."""
    try:
        from sklearn.utils.parallel import _get_threadpool_controller
    except ImportError:  # pragma: no cover - an older or newer scikit-learn
        return ThreadpoolController()
    return _get_threadpool_controller()


class _threads:
    """Threads for a fit on ``rows`` customers: one BLAS thread always (the products are skinny: n × 8 by
    8 × k, and on a busy 2-core machine two BLAS threads made a 25,000-row assignment 40 times slower);
    one OpenMP thread below ``THREADS_FROM`` rows (a 3,000-row fit took 1.1 s with two and 0.04 s with one;
    the seed's loop on 10,000 customers 5.8 s against 0.13 s), every one above, for scikit-learn's Lloyd
    passes over everyone. One controller, scikit-learn's (see :func:`_controller`)."""

    def __init__(self, rows: int):
        self.rows = rows

    def __enter__(self):
        controller = _controller()
        self._limits = [controller.limit(limits=1, user_api="blas")]
        if self.rows < THREADS_FROM:
            self._limits.append(controller.limit(limits=1, user_api="openmp"))
        return self

    def __exit__(self, *exc):
        for limit in reversed(self._limits):
            limit.restore_original_limits()
        return False


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def _sample(n: int, size: int, seed: int) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size, replace=False))


def _kmeans(xt: np.ndarray, k: int, seed: int, init="k-means++", max_iter: int = 300, tol: float = 1e-4) -> KMeans:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than k: shows as a 0% segment
        return KMeans(k, init=init, n_init=1, max_iter=max_iter, tol=tol, random_state=seed).fit(xt)


def _plus_plus(x: np.ndarray, k: int, rngs: list[np.random.Generator]) -> np.ndarray:
    """Greedy k-means++ seeding (scikit-learn's: 2 + log k candidates per centre, the best kept) of several
    fits at once: ``x`` is samples × rows × features, ``rngs`` one generator per fit (as many fits on each
    sample); the centres are samples × fits × k × features. Each fit draws from its own generator only."""
    r, n, f = x.shape
    tries = len(rngs) // r
    ri = np.arange(r)[:, None]
    sq = np.einsum("rij,rij->ri", x, x)
    xt = np.ascontiguousarray(x.transpose(0, 2, 1))
    centers = np.empty((r, tries, k, f))
    first = np.array([rng.integers(n) for rng in rngs]).reshape(r, tries)
    centers[:, :, 0] = x[ri, first]
    closest = centers[:, :, 0] @ xt
    closest *= -2
    closest += sq[ri, first][:, :, None]
    closest += sq[:, None, :]
    np.maximum(closest, 0, out=closest)                                   # samples × fits × rows
    trials = _trials(k)
    done = np.zeros((r, tries), dtype=bool)  # fewer distinct points than k: the remaining centres repeat the first
    for c in range(1, k):
        total = closest.sum(axis=2)
        done |= total <= 0
        draws = np.stack([np.zeros(trials) if stop else rng.random(trials)
                          for rng, stop in zip(rngs, done.ravel(), strict=True)]).reshape(r, tries, trials)
        draws *= total[:, :, None]
        cum = np.cumsum(closest, axis=2)
        cand = np.minimum((cum[:, :, None, :] < draws[:, :, :, None]).sum(axis=3), n - 1)  # searchsorted
        picked = x[ri[:, :, None], cand]                                  # samples × fits × trials × features
        d = (picked.reshape(r, tries * trials, f) @ xt).reshape(r, tries, trials, n)
        d *= -2
        d += sq[ri[:, :, None], cand][:, :, :, None]
        d += sq[:, None, None, :]
        np.maximum(d, 0, out=d)
        np.minimum(d, closest[:, :, None, :], out=d)
        best = d.sum(axis=3).argmin(axis=2)[:, :, None, None]
        closest = np.take_along_axis(d, best, axis=2)[:, :, 0]
        centers[:, :, c] = np.take_along_axis(picked, best, axis=2)[:, :, 0]
        centers[done, c] = centers[done, 0]
    return centers


def _with_ones(x: np.ndarray) -> np.ndarray:
    """``x`` with a last column of ones: one product then gives x·c - |c|²/2 (see :func:`_members`), or the sums
    and counts of segments."""
    return np.concatenate([x, np.ones((*x.shape[:-1], 1))], axis=-1)


def _members(xa_t: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Every row's nearest centre as one-hot members, for several fits at once: ``xa_t`` samples × features
    with ones (see :func:`_with_ones`) × rows, ``centers`` samples × fits × k × features; the members are
    samples × fits × k × rows. The nearest centre has the largest x·c - |c|²/2: the largest over k, compared
    with every centre's, gives the members without an argmax (slow over a few values); a row at the same
    distance from two centres (rare) goes to the first, as argmax would."""
    r, tries, k, f = centers.shape
    flat = centers.reshape(r, tries * k, f)
    aug = np.concatenate([flat, -0.5 * np.einsum("rij,rij->ri", flat, flat)[:, :, None]], axis=2)
    scores = (aug @ xa_t).reshape(r, tries, k, -1)
    members = scores == scores.max(axis=2, keepdims=True)
    if np.count_nonzero(members) != members.size // k:   # a tie: the first of the nearest
        members = scores.argmax(axis=2)[:, :, None, :] == np.arange(k)[:, None]
    return members


def _lloyd(x: np.ndarray, centers: np.ndarray, max_iter: int, tol: np.ndarray) -> np.ndarray:
    """Lloyd iterations from ``centers`` for several fits at once (``x`` samples × rows × features, ``centers``
    samples × fits × k × features, a tolerance per sample): each fit stops when its centres move less than
    ``tol`` (squared, in total), as it would alone."""
    r, tries, k, f = centers.shape
    active = np.ones((r, tries), dtype=bool)
    xa = _with_ones(x)
    xa_t = np.ascontiguousarray(xa.transpose(0, 2, 1))
    for _ in range(max_iter):
        members = _members(xa_t, centers).astype(x.dtype)                   # samples × fits × k × rows
        sums = (members.reshape(r, tries * k, -1) @ xa).reshape(r, tries, k, f + 1)
        counts = sums[..., f:]
        moved = np.where(counts > 0, sums[..., :f] / np.maximum(counts, 1), centers)  # an empty segment stays
        shift = ((moved - centers) ** 2).sum(axis=(2, 3))
        centers = np.where(active[:, :, None, None], moved, centers)
        active &= shift > tol[:, None]
        if not active.any():
            break
    return centers


def _tolerance(x: np.ndarray) -> float:
    return 1e-4 * float(np.mean(np.var(x, axis=0)))  # scikit-learn's


def _judge(judged: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inertia on ``judged`` of every fit (``centers`` samples × fits × k × features), samples × fits, and the
    squared distances of the judged rows to every centre less their own squared norm, samples × fits × k ×
    rows (the minimum over k is one pass a centre; the argmin is taken for the two fits kept only)."""
    r, tries, k, f = centers.shape
    flat = centers.reshape(-1, f)
    d = flat @ judged.T
    d *= -2
    d += np.einsum("ij,ij->i", flat, flat)[:, None]
    d = d.reshape(r, tries, k, len(judged))
    nearest = d.min(axis=2)
    nearest += np.einsum("ij,ij->i", judged, judged)
    return np.maximum(nearest, 0).sum(axis=2), d


def _model(centers: np.ndarray, seed: int) -> KMeans:
    """A fitted scikit-learn ``KMeans`` whose centres are exactly ``centers`` (fitted on the centres themselves,
    started from them: each is the mean of itself), for the saved pipeline's ``predict``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        km = KMeans(len(centers), init=centers, n_init=1, max_iter=1, random_state=seed).fit(centers)
    km.cluster_centers_ = centers.copy()
    return km


@dataclass
class Partition:
    """The segments of one k: centres, every customer's segment, inertia, and how stable the tries were."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    stability: float      # adjusted Rand index between the fits on two resamples


@dataclass(frozen=True)
class _Draws:
    """The samples a fit looks at: they depend on the data, the seed and the plan, not on k (drawn once a scan)."""

    judged: np.ndarray        # the common sample the tries are judged on
    samples: np.ndarray       # the two resamples the tries are fitted on, 2 × rows × features
    tol: np.ndarray           # scikit-learn's tolerance on each resample
    refine_tol: float         # ... and on everyone
    ks: tuple[int, ...] = ()  # the k a scan will fit (see _seeds)
    seeded: dict = field(default_factory=dict)  # candidates per centre -> the k-means++ centres of the largest k


def _draws(xt: np.ndarray, seed: int, plan: Plan, ks: tuple[int, ...] = ()) -> _Draws:
    n = len(xt)
    samples = np.stack([xt[_sample(n, plan.fit_size, seed + 1_000 * r)] for r in range(2)])
    return _Draws(xt[_sample(n, plan.judge_size, seed + 7_919)], samples,
                  np.array([_tolerance(s) for s in samples]),
                  _tolerance(xt) if plan.fit_size < n and plan.refine_iter and n <= NUMPY_LLOYD_UNTIL else 0.0,
                  tuple(ks))


def _trials(k: int) -> int:
    """Candidates per centre of the greedy k-means++ seeding (scikit-learn's 2 + log k)."""
    return 2 + int(np.log(k))


def _seeds(draws: _Draws, k: int, seed: int, tries: int) -> np.ndarray:
    """The k-means++ centres of every try for ``k`` (2 × tries × k × features).

    The greedy seeding of a larger k with as many candidates per centre, from the same generators, picks
    the same first ``k`` centres (each centre depends only on the ones before it and the generators'
    draws), so a scan seeds once per number of candidates (k = 2, 3..7, 8..20), at its largest k, and each k
    takes the first centres: the same centres, to the last bit, as a seeding for that k alone (a run)."""
    trials = _trials(k)
    have = draws.seeded.get(trials)
    if have is None or have.shape[2] < k:
        top = max([j for j in draws.ks if _trials(j) == trials] + [k])
        rngs = [np.random.default_rng(seed + 1_000 * r + t) for r in range(2) for t in range(tries)]
        have = draws.seeded[trials] = _plus_plus(draws.samples, top, rngs)
    return np.ascontiguousarray(have[:, :, :k])


def fit_partition(xt: np.ndarray, k: int, seed: int = 0, plan: Plan | None = None) -> Partition:
    """The K-means partition of ``xt`` into ``k`` segments, the same for the same data, ``k`` and ``seed``.

    Two resamples of the customers, each fitted with ``plan.tries`` K-means inits (k-means++, seeds of
    their own, every fit of both resamples at once in numpy); every fit is judged on a common sample and the
    best of each resample kept. The better of the two is refined on everyone (Lloyd from its centres, as
    full-data K-means started there). K-means' own ``n_init`` would judge its inits on the sample it was
    fitted on, and a sample's best can be a worse basin on everyone. The stability is the adjusted Rand
    index, on the common sample, between the two resamples' best fits: the segments come back from other
    customers and seeds.
    """
    plan = plan or plan_for(len(xt))
    return _fit(xt, k, seed, plan, _draws(xt, seed, plan))


def _fit(xt: np.ndarray, k: int, seed: int, plan: Plan, draws: _Draws) -> Partition:
    n, tries = len(xt), plan.tries
    fits = _lloyd(draws.samples, _seeds(draws, k, seed, tries), plan.fit_iter, draws.tol)  # 2 × tries × k × f
    inertia, distances = _judge(draws.judged, fits)
    best = []
    for r in range(2):
        t = min(range(tries), key=lambda t: (inertia[r, t], t))
        best.append((inertia[r, t], distances[r, t].argmin(axis=0), r, fits[r, t]))
    stability = _ari(best[0][1], best[1][1], k)
    centers = min(best, key=lambda item: (item[0], item[2]))[3]
    if plan.fit_size < n and plan.refine_iter:  # fitted on samples: Lloyd on everyone from the best
        if n <= NUMPY_LLOYD_UNTIL:
            centers = _lloyd(xt[None], centers[None, None], plan.refine_iter, np.array([draws.refine_tol]))[0, 0]
        else:  # scikit-learn's last pass assigned everyone to these centres
            km = _kmeans(xt, k, seed, init=centers, max_iter=plan.refine_iter, tol=0.0)
            return Partition(km.cluster_centers_, km.labels_.astype(np.int64), float(km.inertia_), stability)
    labels, inertia = _assign(xt, centers)
    return Partition(centers, labels, inertia, stability)


def _ari(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Adjusted Rand index of two labelings with values in 0..k-1 (scikit-learn's, without its checks)."""
    table = np.bincount(a * k + b, minlength=k * k).reshape(k, k).astype(float)
    pairs = lambda v: (v * (v - 1) / 2).sum()  # noqa: E731
    total, rows, cols = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    n = pairs(np.array([float(len(a))]))
    expected = rows * cols / n if n else 0.0
    top = (rows + cols) / 2
    return 1.0 if top == expected else float((total - expected) / (top - expected))


def _assign(xt: np.ndarray, centers: np.ndarray, chunk: int = 200_000,
            inertia: bool = True) -> tuple[np.ndarray, float]:
    """Nearest centre of every row and the total squared distance (0.0 when ``inertia`` is False), chunked."""
    labels = np.empty(len(xt), dtype=np.int64)
    total = 0.0
    sq = np.einsum("ij,ij->i", centers, centers)
    for start in range(0, len(xt), chunk):
        part = xt[start:start + chunk]
        d = part @ centers.T
        d *= -2
        d += sq
        best = d.argmin(axis=1)
        labels[start:start + chunk] = best
        if inertia:
            nearest = np.take_along_axis(d, best[:, None], axis=1)[:, 0] + np.einsum("ij,ij->i", part, part)
            total += float(np.maximum(nearest, 0).sum())
    return labels, total


class _Silhouette:
    """Silhouettes of many partitions of one sample: the distance matrix is computed once."""

    def __init__(self, x: np.ndarray):
        sq = np.einsum("ij,ij->i", x, x)
        d = x @ x.T
        d *= -2
        d += sq[:, None]
        d += sq[None, :]
        np.maximum(d, 0, out=d)
        self.d = np.sqrt(d, out=d)

    def score(self, labels: np.ndarray, k: int) -> float:
        return self.scores([(labels, k)])[0]

    def scores(self, labelings: list[tuple[np.ndarray, int]]) -> list[float]:
        """The silhouette of each ``(labels, k)``: one product of the distances with every partition's members."""
        rows = np.arange(len(self.d))
        members = self.d @ np.concatenate([np.eye(k)[labels] for labels, k in labelings], axis=1)
        out, start = [], 0
        for labels, k in labelings:
            sums, start = members[:, start:start + k], start + k   # distance of each row to each segment, summed
            counts = np.bincount(labels, minlength=k)
            if (counts > 0).sum() < 2 or (counts > 0).sum() >= len(labels):
                out.append(np.nan)
                continue
            own = counts[labels]
            a = sums[rows, labels] / np.maximum(own - 1, 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean_other = np.where(counts[None, :] > 0, sums / counts[None, :], np.inf)
            mean_other[rows, labels] = np.inf
            b = mean_other.min(axis=1)
            s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
            out.append(float(s.mean()))
        return out


def _separation(xt: np.ndarray, labels: np.ndarray, k: int, total_ss: float) -> dict:
    """Calinski-Harabasz and Davies-Bouldin of a partition of ``xt`` (scikit-learn's definitions)."""
    n = len(xt)
    counts = np.bincount(labels, minlength=k)
    found = counts > 0
    m = int(found.sum())
    if m < 2:
        return {"calinski_harabasz": np.nan, "davies_bouldin": np.nan}
    segment = (np.cumsum(found) - 1)[labels]                  # numbered among the segments that have members
    means = ((segment[None, :] == np.arange(m)[:, None]).astype(float) @ xt) / counts[found][:, None]
    diff = xt - means[segment]
    sq = np.einsum("ij,ij->i", diff, diff)
    within = float(sq.sum())
    ch = (total_ss - within) * (n - m) / (within * (m - 1)) if within > 0 else np.nan
    spread = np.bincount(segment, weights=np.sqrt(sq), minlength=m) / counts[found]
    centre_dist = np.sqrt(np.maximum(((means[:, None, :] - means[None, :, :]) ** 2).sum(axis=2), 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (spread[:, None] + spread[None, :]) / centre_dist
    ratio[np.eye(m, dtype=bool)] = -np.inf
    ratio[~np.isfinite(ratio)] = 0.0
    return {"calinski_harabasz": float(ch), "davies_bouldin": float(ratio.max(axis=1).mean())}


class _Scorer:
    """The scores of partitions of ``xt``, on samples drawn once (the silhouette's distances computed once)."""

    def __init__(self, xt: np.ndarray, plan: Plan, seed: int):
        n = len(xt)
        self.sil_idx = _sample(n, plan.silhouette_size, seed + 1)
        self.silhouette = _Silhouette(xt[self.sil_idx])
        self.sep_idx = _sample(n, plan.separation_size, seed + 2)
        self.sep = xt[self.sep_idx]
        self.total_ss = float(((self.sep - self.sep.mean(axis=0)) ** 2).sum())

    def scores(self, parts: list[tuple[int, Partition]]) -> list[dict]:
        """Per ``(k, partition)``: its scores (``k``, ``inertia``, ``silhouette``, ... ``stability``)."""
        silhouettes = self.silhouette.scores([(part.labels[self.sil_idx], k) for k, part in parts])
        return [{"k": k, "inertia": part.inertia, "silhouette": sil,
                 **_separation(self.sep, part.labels[self.sep_idx], k, self.total_ss),
                 "smallest_share": float(np.bincount(part.labels, minlength=k).min() / len(part.labels)),
                 "stability": part.stability} for (k, part), sil in zip(parts, silhouettes, strict=True)]


class SegmentModel(BaseEstimator, ClusterMixin):
    """Preprocessing + K-means as one pipeline, fitted with :func:`fit_partition`, applied to everyone.

    Parameters
    ----------
    settings : FeatureSettings
        Features and preprocessing.
    k : int
        Number of segments.
    random_state : int
        Seed of the samples and of K-means (the k scan's seed gives the partition the scan scored).

    Attributes
    ----------
    pipeline_ : sklearn.pipeline.Pipeline
        ``prep`` (ColumnTransformer) then ``kmeans``; segments are numbered by size, 0 the largest.
    labels_ : numpy.ndarray
        Segment of each customer.
    inertia_ : float
        Sum of squared distances of every customer to its segment's centre.
    scores_ : dict
        ``inertia``, ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``, ``smallest_share``,
        ``stability``.
    steps_ : dict
        What the preprocessing does (see :func:`segmentation.segment.features.build_preprocessor`).
    """

    def __init__(self, settings: FeatureSettings | None = None, k: int = 5, random_state: int = 0):
        self.settings = settings
        self.k = k
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y=None) -> SegmentModel:
        """Preprocess ``X`` (a feature frame), make ``k`` segments and assign every customer."""
        if not 1 <= self.k <= len(X):
            raise DataError(f"Cannot make {self.k} segments of {len(X):,} customers.")
        prep, steps = build_preprocessor(X, self.settings or FeatureSettings())
        xt = np.asarray(prep.fit_transform(X), dtype=float)
        plan = plan_for(len(xt))
        with _threads(len(xt)):
            part = fit_partition(xt, self.k, self.random_state, plan)
            scores = _Scorer(xt, plan, self.random_state).scores([(self.k, part)])[0]
        counts = np.bincount(part.labels, minlength=self.k)
        order = np.argsort(-counts, kind="stable")
        km = _model(part.centers[order], self.random_state)  # segment 0 is the largest
        km.labels_ = np.argsort(order)[part.labels]
        km.inertia_ = part.inertia
        self.labels_ = km.labels_
        self.inertia_ = part.inertia
        self.scores_ = {"inertia": part.inertia, **{c: v for c, v in scores.items() if c not in ("k", "inertia")}}
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
        Seed of samples and fits (a run with the same seed gives the partition scored here).

    Attributes
    ----------
    scores_ : pandas.DataFrame
        Per k: ``inertia`` (everyone), ``silhouette`` (a sample), ``calinski_harabasz``,
        ``davies_bouldin`` (everyone up to 5,000 customers, else a sample of at most 20,000),
        ``smallest_share``, ``stability`` (adjusted Rand index between fits on other samples and seeds).
    knee_ : int or None
        Where the inertia curve flattens (``kneed``, on the logarithm of inertia).
    recommended_k_ : int
    reason_ : segmentation.i18n.Message
        Why, in words a marketer reads (``str()`` gives the English text).
    plan_ : Plan
        The sample sizes used.
    """

    def __init__(self, settings: FeatureSettings | None = None, k_min: int = 2, k_max: int = 10,
                 random_state: int = 0):
        self.settings = settings
        self.k_min = k_min
        self.k_max = k_max
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y=None, progress: Progress = _no_progress) -> KScan:
        """Preprocess ``X`` (a feature frame), score every k of the range and recommend one."""
        if self.k_min < 2 or self.k_max < self.k_min:
            error = SettingError("k range", f"{self.k_min}..{self.k_max}", "from 2 or more, not empty")
            error.args = (f"The range of k must start at 2 or more and not be empty; got {self.k_min}..{self.k_max}.",)
            raise error
        n = len(X)
        if n <= self.k_min:
            raise DataError(f"{n:,} customers are too few to try {self.k_min} segments or more.")
        progress(0.02, "Preparing features")
        xt, self.steps_ = fit_transform(X, self.settings or FeatureSettings())  # the matrix a run's prep gives
        self.plan_ = plan = plan_for(n)
        seed = self.random_state
        ks = list(range(self.k_min, min(self.k_max, n - 1) + 1))
        parts = []
        with _threads(n):
            draws = _draws(xt, seed, plan, tuple(ks))   # the same samples for every k, as fit_partition draws them
            for i, k in enumerate(ks):
                progress(0.05 + 0.9 * i / len(ks), f"Trying {k} segments")
                parts.append((k, _fit(xt, k, seed, plan, draws)))
            rows = _Scorer(xt, plan, seed).scores(parts)
        self.scores_ = pd.DataFrame(rows)
        self.knee_ = find_knee(self.scores_)
        self.recommended_k_, self.reason_ = recommend_k(self.scores_, self.knee_)
        progress(1.0, "Done")
        return self


def find_knee(scores: pd.DataFrame) -> int | None:
    """Where the inertia curve flattens, within the range tried (``kneed``), or None.

    The knee of the curve the marketer sees (inertia by k), unless the
    logarithm of inertia shows a last sharp drop (its drop into its knee at
    least twice the drop after it): with well-separated groups the large
    first drops of the raw curve hide the last one and its knee comes too
    early (seen on generated groups: 5 found for 6, 4 for 8). On smooth
    curves (real customers) the log's knee comes late (6 where the chart's
    elbow and published analyses of the Online Retail RFM say 5).
    """
    if len(scores) < 3:
        return None
    k = scores["k"].to_numpy()
    inertia = scores["inertia"].clip(lower=1e-12).to_numpy(dtype=float)
    raw = KneeLocator(k, inertia, curve="convex", direction="decreasing").knee
    log = KneeLocator(k, np.log(inertia), curve="convex", direction="decreasing").knee
    if log is not None and log != raw:
        drops = -np.diff(np.log(inertia))          # drops[i]: from k[i] to k[i + 1]
        at = int(np.flatnonzero(k == log)[0])
        after = drops[at] if at < len(drops) else 0.0
        if drops[at - 1] >= SHARP_DROP * after or raw is None:
            return int(log)
    return int(raw) if raw is not None else None


def _usable(row: pd.Series) -> bool:
    stable = np.isnan(row["stability"]) or row["stability"] >= MIN_STABILITY
    return bool(row["smallest_share"] >= MIN_SHARE and stable)


def _two_groups(table: pd.DataFrame) -> bool:
    """Two clearly separated groups: silhouette at 2 high, and well above any larger k's."""
    if 2 not in table.index or len(table) < 2:
        return False
    sil = table["silhouette"].fillna(-1)
    return bool(sil[2] >= TWO_GROUPS_SILHOUETTE and sil[2] >= sil.drop(index=2).max() + TWO_GROUPS_MARGIN
                and _usable(table.loc[2]))


def _support(table: pd.DataFrame) -> pd.Series:
    """How well each k separates its segments by silhouette, Calinski-Harabasz and Davies-Bouldin (mean rank,
    higher better): supporting evidence when the elbow has no knee."""
    ranks = pd.concat([table["silhouette"].rank(), table["calinski_harabasz"].rank(),
                       table["davies_bouldin"].rank(ascending=False)], axis=1)
    return ranks.mean(axis=1).fillna(0)


def recommend_k(scores: pd.DataFrame, knee: int | None) -> tuple[int, Message]:
    """One k, and why, in words a marketer reads (a :class:`segmentation.i18n.Message`).

    The elbow's knee decides, confirmed by stability (the segments come back
    when K-means is fitted on other samples: adjusted Rand index ≥ 0.75) and
    by the smallest segment's size (≥ 2% of customers). A knee that fails
    them gives way to the nearest k below it that passes (fewer, larger
    segments), else above it. Without a knee, the k that passes and
    separates best (silhouette, Calinski-Harabasz, Davies-Bouldin) is taken,
    2 excepted. k = 2 only when the data clearly has two groups (silhouette
    ≥ 0.5 at 2 and 0.1 above every larger k). If no k passes, the knee (or
    the best separated k) with a warning.
    """
    table = scores.set_index("k")
    usable = [k for k in table.index if _usable(table.loc[k])]
    if _two_groups(table):
        k, how = 2, "two"
    elif knee in usable:
        k, how = knee, "knee"
    elif knee is not None and usable:
        below = [u for u in usable if u < knee and u > 2] or [u for u in usable if u < knee]
        above = [u for u in usable if u > knee]
        k, how = (max(below) if below else min(above)), "near_knee"
    elif usable:
        pool = [u for u in usable if u > 2] or usable
        k, how = int(_support(table.loc[pool]).idxmax()), "support"
    else:
        k, how = (knee if knee is not None else int(_support(table).idxmax())), "none"
    return int(k), _reason(table, int(k), knee, how)


def _percent(share: float) -> float:
    """A share as a percentage for a message: whole below 10 % only when round (``2``, ``0.5``, ``35``)."""
    value = 100 * float(share)
    return round(value) if value >= 10 or value == round(value) else round(value, 1)


def _reason(table: pd.DataFrame, k: int, knee: int | None, how: str) -> Message:
    row = table.loc[k]
    share, stability, sil = row["smallest_share"], row["stability"], row["silhouette"]
    stable_word = (message("they come back the same when fitted on other samples") if np.isnan(stability)
                   or stability >= 0.9 else message("they mostly come back when fitted on other samples")
                   if stability >= MIN_STABILITY else message("they change when fitted on other samples"))
    separated = (message("the segments are well separated") if sil >= 0.5 else
                 message("the segments are fairly distinct") if sil >= 0.25 else
                 message("the segments overlap a good deal")) if not np.isnan(sil) else message(
        "the separation could not be measured")
    values = {"k": k, "share": _percent(share), "stable": stable_word, "separated": separated}
    if how == "two":
        return message("{k} segments: the customers fall into two clearly separated groups (silhouette {sil}), "
                       "{stable}, and the smaller holds {share}% of customers.", **values, sil=round(float(sil), 2))
    if how == "knee":
        return message("{k} segments: the elbow flattens after {k} (the deciding evidence), {stable}, and the "
                       "smallest holds {share}% of customers; {separated}.", **values)
    if how == "near_knee":
        knee_row = table.loc[knee]
        why = (message("its smallest segment holds only {share}% of customers",
                       share=_percent(knee_row["smallest_share"]))
               if knee_row["smallest_share"] < MIN_SHARE
               else message("its segments change when fitted on other samples"))
        return message("{k} segments: the elbow flattens after {knee}, but {why}; {k} is the nearest number of "
                       "segments that is stable and large enough: {stable}, and the smallest holds {share}% of "
                       "customers.", **values, knee=knee, why=why)
    if how == "support":
        return message("{k} segments: the elbow has no clear bend, so the separation scores decided (silhouette, "
                       "Calinski-Harabasz, Davies-Bouldin); {stable}, and the smallest holds {share}% of customers; "
                       "{separated}.", **values)
    return message("{k} segments: the elbow flattens after {k}, but no number of segments gave segments both large "
                   "and stable enough: consider other features.", k=k) if knee == k else message(
        "{k} segments: the segments are best separated at {k}, but no number of segments gave segments both large "
        "and stable enough: consider other features.", k=k)


__all__ = ["KScan", "Partition", "Plan", "SegmentModel", "find_knee", "fit_partition", "plan_for", "recommend_k"]

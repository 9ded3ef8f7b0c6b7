"""Duplicate matching on data frames: blocking, Fellegi–Sunter scoring, groups, evaluation.

Pure pandas/numpy/rapidfuzz; :mod:`segmentation.dedupe` keeps the results.

*Blocking* unions several keys (e-mail, phone, postcode + surname start,
company + initial, names in any order...) and makes every pair of records
that share one; a block larger than ``max_block_size`` (a ``contact@``
address or a switchboard number shared by hundreds) is split by a second
key, or skipped, and both are counted in ``stats_``.

*Scoring* follows Fellegi–Sunter as Splink does: each comparison level has
a probability among true matches (``m_``, estimated by EM from priors) and
among random pairs (``u_``, counted on sampled random pairs), agreement on
a frequent value uses that value's frequency as ``u`` (term frequency), and
missing values count for nothing. One addition for B2B data: colleagues of
one company (or relatives of one household) share a phone, a mailbox, a
company, a postcode and sometimes a surname, so those agreements are not
independent for them. A second non-match class, "same organisation,
another person" (``c_``, also learned by EM), explains them, but only for
pairs whose person names are present and not the same (a comparison's
``other_person`` levels): two records without person names (an
organisation's sites) or with the same names are a match or two unrelated
records, so identical records are never kept apart by it. A pair is
scored against both non-match classes::

    weight = log2(N_M·P(γ|M)) - log2(N_C·P(γ|C) + N_U·P(γ|U)),  score = 1 / (1 + 2^-weight)

where P(γ|·) are products of the level probabilities and N_· the expected
numbers of pairs of each class. Without such pairs (N_C → 0) this is the
usual sum of log2(m/u) plus the prior.

An e-mail or a phone that did not normalise is compared on its text as
written when the frame carries it (:func:`segmentation.dedupe.comparisons.raw_column`).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..core.errors import ColumnError, MissingColumnsError
from ..ingest.roles import guess_roles
from .blocking import BLOCKING_RULES, blocking_features, candidate_pairs, pairs_in_blocks, value_codes
from .comparisons import (
    Comparison,
    default_comparisons,
    raw_column,
)

_TF_MIN_RECORDS = 1000  # value frequencies from a tiny file would make every shared value look common
_RESCORE_MAX = 50       # larger chains go to review without comparing every two members
_CHAIN_SUPPORT = 2      # sure matches in common that make two clearly different members copies of one
_APART_SCORE = 0.001    # score below which two members of a chain are clearly different (odds 1:1000)
_PRIOR_PAIRS = 20.0     # weight (in pairs) of the m/c priors in EM: they decide only on small files
_ORG_PAIRS = 2_000_000  # pairs of one organisation's records that the "colleague" class is learned on


class NotFittedError(ValueError, AttributeError):
    """``predict`` was called before ``fit`` (same bases as scikit-learn's)."""


@dataclass(frozen=True)
class MatchSettings:
    """How duplicates are found.

    Parameters
    ----------
    columns : dict of str to str, optional
        Column -> role to compare (roles of :data:`segmentation.ingest.roles.ROLES`,
        or ``"exact"`` for an extra identifier); default: the dataset roles.
    upper : float
        Match probability from which a pair is a sure match.
    lower : float
        Match probability from which a pair is shown for review; lower pairs are dropped.
    max_block_size : int
        Records sharing one blocking key beyond which the block is split by a
        second key, or skipped (reported in ``Matcher.stats_``).
    workers : int
        rapidfuzz threads (-1: every core).
    u_pairs : int
        Random pairs drawn to estimate ``u`` (all pairs of smaller files).
    em_iterations : int
        Most EM iterations.
    chunk_pairs : int
        Pairs compared at once (bounds memory).
    seed : int
        Seed of the random pairs.
    """

    columns: dict[str, str] | None = None
    upper: float = 0.9
    lower: float = 0.3
    max_block_size: int = 300
    workers: int = -1
    u_pairs: int = 300_000
    em_iterations: int = 40
    chunk_pairs: int = 1_000_000
    seed: int = 0


# --------------------------------------------------------------------------
# Comparing pairs
# --------------------------------------------------------------------------

class _Prepared:
    """One comparison's cleaned values as a code per record into its distinct values, and value frequencies."""

    def __init__(self, comparison: Comparison, frame: pd.DataFrame):
        self.comparison = comparison
        values = comparison.prepare_all(*(frame[c] for c in comparison.columns))
        code = np.zeros(len(frame), dtype=np.int64)
        for v in values:
            part = pd.factorize(pd.Series(v, dtype=object), use_na_sentinel=False)[0]
            code = pd.factorize(code * (int(part.max(initial=0)) + 1) + part)[0].astype(np.int64)
        first = np.unique(code, return_index=True)[1]
        self.code, self.vocab = code, tuple(np.asarray(v)[first] for v in values)
        self.freq = {}  # level -> share of records holding each record's value (NaN if missing)
        for level, tf_values in comparison.tf_values(values).items():
            tf_codes = value_codes(tf_values)
            counts = np.bincount(tf_codes[tf_codes >= 0], minlength=1)
            present = max(int((tf_codes >= 0).sum()), _TF_MIN_RECORDS)
            self.freq[level] = np.where(tf_codes >= 0, counts[np.maximum(tf_codes, 0)] / present, np.nan)

    def levels(self, left: np.ndarray, right: np.ndarray, workers: int) -> np.ndarray:
        """Levels of the pairs, each distinct pair of values compared once."""
        a, b = self.code[left], self.code[right]
        size = len(self.vocab[0])
        inverse, uniq = pd.factorize(np.minimum(a, b) * size + np.maximum(a, b))
        ua, ub = uniq // size, uniq % size
        done = self.comparison.compare_all(tuple(v[ua] for v in self.vocab), tuple(v[ub] for v in self.vocab),
                                           workers)
        return np.asarray(done, dtype=np.int8)[inverse]


def _level_matrix(prepared: list[_Prepared], left, right, settings: MatchSettings) -> np.ndarray:
    out = np.empty((len(left), len(prepared)), dtype=np.int8)
    for start in range(0, len(left), settings.chunk_pairs):
        stop = start + settings.chunk_pairs
        for k, p in enumerate(prepared):
            out[start:stop, k] = p.levels(left[start:stop], right[start:stop], settings.workers)
    return out


def _tf_shift(prepared: list[_Prepared], u: list[np.ndarray], left: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Per pair, log u(value) - log u(level) summed over levels agreeing on a value of known frequency."""
    shift = np.zeros(len(left))
    for k, p in enumerate(prepared):
        for level, freq in p.freq.items():
            hit = np.flatnonzero(levels[:, k] == level)
            f = freq[left[hit]]
            ok = ~np.isnan(f)
            shift[hit[ok]] += np.log(f[ok]) - math.log(u[k][level])
    return shift


def _patterns(levels: np.ndarray, sizes: list[int], shift: np.ndarray | None = None):
    """Distinct (level row, rounded shift) of a level matrix: rows, shifts, counts, and each pair's group."""
    code = np.zeros(len(levels), dtype=np.int64)
    for k, size in enumerate(sizes):  # levels from -2 (not compared) to size - 1
        code = pd.factorize(code * (size + 2) + levels[:, k].astype(np.int64) + 2)[0].astype(np.int64)
    if shift is not None:  # EM sees term frequencies too, to 1/20 of a nat
        code = code * (1 << 20) + np.clip(np.round(shift * 20), -(1 << 19), (1 << 19) - 1).astype(np.int64) + (1 << 19)
    inverse, uniq = pd.factorize(code)
    first = np.unique(inverse, return_index=True)[1]
    rows = levels[first]
    shifts = np.zeros(len(first)) if shift is None else ((np.asarray(uniq) % (1 << 20)) - (1 << 19)) / 20.0
    return rows, shifts, np.bincount(inverse, minlength=len(first)), inverse


def _other_person(rows: np.ndarray, comparisons: list[Comparison]) -> np.ndarray:
    """Patterns that two people of one organisation can show: a person's names present on both sides and differing.

    The "same organisation, another person" class explains only those; two
    records without person names (an organisation's sites), or with the same
    names, are a match or two unrelated records.
    """
    out = np.zeros(len(rows), dtype=bool)
    for k, comp in enumerate(comparisons):
        if comp.other_person:
            out |= np.isin(rows[:, k], comp.other_person)
    return out


def _with_raw(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` where a value that did not normalise is replaced by the text as written (its raw column), if given."""
    raw = [c for c in frame.columns if raw_column(c) in frame.columns]
    if not raw:
        return frame
    return frame.assign(**{c: frame[c].astype(object).where(frame[c].notna(), frame[raw_column(c)]) for c in raw})


def _log_prob(rows: np.ndarray, probs: list[np.ndarray]) -> np.ndarray:
    """log P(pattern | class) under independence; missing and not compared levels count 1."""
    out = np.zeros(len(rows))
    for k, p in enumerate(probs):
        level = rows[:, k]
        out += np.where(level >= 0, np.log(p[np.maximum(level, 0)]), 0.0)
    return out


# --------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------

class Matcher:
    """Find duplicate records of a frame, scikit-learn style.

    Parameters
    ----------
    settings : MatchSettings
        Thresholds, blocking limits, threads.
    roles : dict of str to str, optional
        Column -> role, as set at import; ``settings.columns`` wins; guessed
        from the columns when neither is given.

    Attributes
    ----------
    comparisons_ : list of Comparison
    m_, u_, c_ : dict of str to numpy.ndarray
        Per comparison name, probability of each level (index = level) among
        matches, random pairs and same-organisation non-matches.
    n_match_, n_related_, n_pairs_ : float
        Expected pairs of matches, of same-organisation non-matches, and all pairs.
    stats_ : dict
        Blocking figures (see :func:`candidate_pairs`), ``records``, ``em_iterations``.
    """

    def __init__(self, settings: MatchSettings = MatchSettings(), roles: dict[str, str] | None = None):
        self.settings = settings
        self.roles = roles

    def _prepare(self, frame: pd.DataFrame) -> dict:
        roles = self.settings.columns or self.roles
        if roles is None:
            # Rows spread over the whole frame, not its head (a sorted export's late rows may differ).
            spread = np.unique(np.linspace(0, len(frame) - 1, min(len(frame), 2000)).round().astype(np.int64))
            roles = guess_roles(list(frame.columns), frame.iloc[spread].astype(object))
        missing = [c for c in roles if c not in frame.columns]
        if missing:
            raise MissingColumnsError(missing, list(frame.columns), where="the data to compare")
        frame = _with_raw(frame)
        comparisons = default_comparisons(roles)
        if not comparisons:
            raise ColumnError("No column has a role that can be compared (name, e-mail, phone, company, "
                              f"address, postcode, city, dates); the roles are {dict(roles)}.")
        prepared = [_Prepared(c, frame) for c in comparisons]
        features = blocking_features(frame, roles)
        left, right, stats = candidate_pairs(features, len(frame), self.settings.max_block_size)
        levels = _level_matrix(prepared, left, right, self.settings)
        return {"prepared": prepared, "left": left, "right": right, "levels": levels, "stats": stats,
                "features": features}

    def fit(self, frame: pd.DataFrame) -> Matcher:
        """Compare the candidate pairs, count ``u_`` on random pairs, estimate ``c_`` then ``m_`` by EM.

        ``c_`` (another person of the same organisation) is learned on the
        pairs of records with the same company (else address), where
        colleagues and duplicates are all there is; ``m_`` then on every
        candidate pair, with ``c_`` and the number of such pairs held.
        """
        state = self._prepare(frame)
        prepared, n, features = state["prepared"], len(frame), state["features"]
        self.comparisons_ = [p.comparison for p in prepared]
        sizes = [c.n_levels for c in self.comparisons_]
        u = self._estimate_u(prepared, n)
        m, c = ([np.maximum(getattr(comp, f"{k}_prior"), 1e-6) for comp in self.comparisons_] for k in "mc")
        n_m, n_c, iterations = 0.05 * n + 1, 0.02 * n + 1, 0
        org = next((k for k in ("company", "address") if k in features), None)
        if org:
            left, right, _ = candidate_pairs({org: features[org]}, n, self.settings.max_block_size,
                                             [("same organisation", (org,), ())])
            weight = 1.0
            if len(left) > _ORG_PAIRS:  # a sample estimates c as well (1M customers: 25 million such pairs)
                rng = np.random.default_rng(self.settings.seed)
                keep = np.sort(rng.choice(len(left), _ORG_PAIRS, replace=False))
                weight, left, right = len(left) / _ORG_PAIRS, left[keep], right[keep]
            levels = _level_matrix(prepared, left, right, self.settings)
            rows, shifts, counts = _patterns(levels, sizes, _tf_shift(prepared, u, left, levels))[:3]
            patterns = rows, shifts, counts * weight  # counted as the whole set, so class sizes stay right
            m, c, n_m, n_c, iterations = self._em(*patterns, u, n, m, c, n_m, 0.2 * n + 1, learn_c=True)
        patterns = _patterns(state["levels"], sizes, _tf_shift(prepared, u, state["left"], state["levels"]))[:3]
        m, c, n_m, n_c, more = self._em(*patterns, u, n, m, c, n_m, n_c, learn_c=False)
        names = self._names()
        self.m_, self.c_, self.u_ = (dict(zip(names, x, strict=True)) for x in (m, c, u))
        self.n_match_, self.n_related_, self.n_pairs_ = float(n_m), float(n_c), max(n * (n - 1) / 2, 1.0)
        self.stats_ = {**state["stats"], "records": n, "em_iterations": iterations + more}
        self._cache = (weakref.ref(frame), n, state)
        return self

    def _names(self) -> list[str]:
        return [c.name for c in self.comparisons_]

    def _estimate_u(self, prepared: list[_Prepared], n: int) -> list[np.ndarray]:
        """Level shares among random pairs (every pair of a small file), 100 pairs of prior."""
        if n * (n - 1) // 2 <= self.settings.u_pairs:
            left, right = np.triu_indices(n, 1)
        else:
            rng = np.random.default_rng(self.settings.seed)
            left = rng.integers(0, n, self.settings.u_pairs)
            right = rng.integers(0, n - 1, self.settings.u_pairs)
            right += right >= left
        levels = _level_matrix(prepared, left, right, self.settings)
        out = []
        for k, comp in enumerate(self.comparisons_):
            seen = np.bincount(levels[:, k][levels[:, k] >= 0], minlength=comp.n_levels)[:comp.n_levels]
            u = np.maximum(seen + 100.0 * np.asarray(comp.u_prior), 0.5)  # half a pair: never-seen levels
            out.append(u / u.sum())
        return out

    def _em(self, rows, shifts, counts, u, n, m, c, n_m, n_c, learn_c: bool):
        """Expectation-maximisation of m (and c) and the class sizes on candidate patterns, u fixed.

        Class sizes are counted over all pairs of the file, as the random-pair
        ``u`` is, so the posterior of a candidate pair is the same as if every
        pair had been compared.
        """
        total = max(n * (n - 1) / 2, 1.0)
        log_u = _log_prob(rows, u) + shifts
        other = np.where(_other_person(rows, self.comparisons_), 0.0, -np.inf)
        iteration = 0
        for iteration in range(1, self.settings.em_iterations + 1):  # noqa: B007
            stacked = np.vstack([math.log(n_m) + _log_prob(rows, m), math.log(n_c) + _log_prob(rows, c) + other,
                                 math.log(max(total - n_m - n_c, 1.0)) + log_u])
            post = np.exp(stacked - np.logaddexp.reduce(stacked, axis=0)) * counts
            new_m, new_c = self._mstep(rows, post[0], "m"), self._mstep(rows, post[1], "c") if learn_c else c
            change = max(float(np.abs(a - b).max()) for a, b in zip(new_m + new_c, m + c, strict=True))
            m, c, n_m = new_m, new_c, post[0].sum() + 0.5
            n_c = post[1].sum() + 0.5 if learn_c else n_c
            if change < 1e-5:
                break
        return m, c, n_m, n_c, iteration

    def _mstep(self, rows: np.ndarray, weight: np.ndarray, kind: str) -> list[np.ndarray]:
        """Level probabilities from posterior-weighted counts, with the comparison's prior as pseudo-counts."""
        out = []
        for k, comp in enumerate(self.comparisons_):
            start, level = np.asarray(getattr(comp, f"{kind}_prior"), float), rows[:, k]
            seen = np.bincount(level[level >= 0], weights=weight[level >= 0], minlength=len(start))[:len(start)]
            p = seen + _PRIOR_PAIRS * start
            # Levels that define each class keep their prior, or EM may swap meanings: explain colleagues
            # (same company, phone, postcode) as duplicates with other names, or duplicates as colleagues.
            fixed = np.isin(np.arange(len(p)), getattr(comp, f"{kind}_fixed"))
            p = np.where(fixed, start, p / p[~fixed].sum() * (1 - start[fixed].sum()))
            out.append(np.maximum(p, 1e-6))
        return out

    # -- prediction --------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "m_"):
            raise NotFittedError("This Matcher is not fitted yet: call fit(frame) first.")

    def _pairs_frame(self, prepared, left, right, levels, index: pd.Index, keep_all: bool = False) -> pd.DataFrame:
        """Score pairs: ``weight`` = log2 odds of a match against both non-match classes."""
        u = list(self.u_.values())
        rows, _, _, inverse = _patterns(levels, [c.n_levels for c in self.comparisons_])
        log_m = math.log(self.n_match_) + _log_prob(rows, list(self.m_.values()))[inverse]
        log_c = math.log(self.n_related_) + _log_prob(rows, list(self.c_.values()))[inverse]
        log_c = np.where(_other_person(rows, self.comparisons_)[inverse], log_c, -np.inf)
        log_u = _log_prob(rows, u)[inverse] + _tf_shift(prepared, u, left, levels)
        log_u += math.log(max(self.n_pairs_ - self.n_match_ - self.n_related_, 1.0))
        weight = (log_m - np.logaddexp(log_c, log_u)) / math.log(2)
        score = 1.0 / (1.0 + np.exp2(-np.clip(weight, -60, 60)))
        keep = slice(None) if keep_all else np.flatnonzero(score >= self.settings.lower)
        out = pd.DataFrame({"left": index[left[keep]], "right": index[right[keep]], "score": score[keep],
                            "weight": weight[keep]})
        for k, name in enumerate(self._names()):
            out[name] = levels[keep, k]
        if keep_all:
            return out
        return out.sort_values(["score", "left", "right"], ascending=[False, True, True], ignore_index=True)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Scored candidate pairs of ``frame`` with a score of at least ``settings.lower``, best first.

        Returns
        -------
        pandas.DataFrame
            ``left``, ``right`` (index labels of ``frame``), ``score`` (match
            probability), ``weight`` (log2 odds), then one column per
            comparison (``Comparison.name``) holding its level (-1: missing).
        """
        self._check_fitted()
        cached, self._cache = getattr(self, "_cache", None), None  # levels are big: reuse them once
        if cached is not None and cached[0]() is frame and cached[1] == len(frame):
            state = cached[2]
        else:
            state = self._prepare(frame)
            if [c.name for c in (p.comparison for p in state["prepared"])] != self._names():
                raise ColumnError("predict() needs the columns and roles that fit() saw.")
        self._prepared = (weakref.ref(frame), len(frame), state["prepared"])  # small: kept for score_pairs
        return self._pairs_frame(state["prepared"], state["left"], state["right"], state["levels"], frame.index)

    def fit_predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``fit(frame).predict(frame)``, comparing the pairs once."""
        return self.fit(frame).predict(frame)

    def score_pairs(self, frame: pd.DataFrame, left, right) -> pd.DataFrame:
        """Score the given pairs of index labels of ``frame``, in that order and whatever their score."""
        self._check_fitted()
        kept = getattr(self, "_prepared", None)
        if kept is not None and kept[0]() is frame and kept[1] == len(frame):
            prepared = kept[2]
        else:
            prepared = [_Prepared(c, _with_raw(frame)) for c in self.comparisons_]
        a, b = frame.index.get_indexer(pd.Index(left)), frame.index.get_indexer(pd.Index(right))
        if (a < 0).any() or (b < 0).any():
            raise KeyError("Some pairs name records that are not in the frame.")
        levels = _level_matrix(prepared, a, b, self.settings)
        return self._pairs_frame(prepared, a, b, levels, frame.index, keep_all=True)

    def weights_table(self) -> pd.DataFrame:
        """Every comparison level with its label, m, u, c and match weight log2(m/u), for display."""
        self._check_fitted()
        rows = []
        for comp in self.comparisons_:
            names, (m, u, c) = comp.level_names(), (d[comp.name] for d in (self.m_, self.u_, self.c_))
            rows += [(comp.name, comp.label, lv, names[lv], m[lv], u[lv], c[lv], math.log2(m[lv] / u[lv]))
                     for lv in reversed(range(comp.n_levels))]
        return pd.DataFrame(rows, columns=["comparison", "label", "level", "description", "m", "u", "c", "weight"])


# --------------------------------------------------------------------------
# Decisions, groups, evaluation
# --------------------------------------------------------------------------

def classify(pairs: pd.DataFrame, settings: MatchSettings = MatchSettings()) -> pd.Series:
    """``"sure"`` from ``settings.upper``, ``"review"`` from ``settings.lower``, ``"drop"`` below."""
    score = pairs["score"].to_numpy()
    status = np.where(score >= settings.upper, "sure", np.where(score >= settings.lower, "review", "drop"))
    return pd.Series(status, index=pairs.index, name="status")


def consistent_groups(n: int, left, right, priority, apart_left=(), apart_right=(),
                      forced=None) -> tuple[np.ndarray, np.ndarray]:
    """Groups of linked records, split where two members must stay apart.

    Records joined by links form connected components. A component in which
    no two members must stay apart is one group. Any other component is
    split into consistent cores, single-linkage under cannot-link
    constraints: its links are taken by descending priority (forced links
    first, ties by position) and each joins two cores unless a pair that
    must stay apart lies across them; forced links always join. For
    A~B (0.99), B~C (0.95) with A and C apart: A and B make one core, C
    stays alone, and B~C is a link between two cores.

    Parameters
    ----------
    n : int
        Number of records (positions 0..n-1).
    left, right : array-like of int
        Positions of the records of each link.
    priority : array-like of float
        Order in which the links are taken, highest first (a match score).
    apart_left, apart_right : array-like of int, optional
        Positions of pairs of records that must not end in one group.
    forced : array-like of bool, optional
        Links that join whatever stays apart (records already merged).

    Returns
    -------
    component : numpy.ndarray
        Connected component of each record by the links.
    core : numpy.ndarray
        Group of each record: its component's number where nothing had to
        stay apart, a number of its own (>= the number of components) for
        each core of a split component. Records alone in their core are not
        merged; a link between two records of one component and two cores is
        a conflicting one (for a person to decide).
    """
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    n_components, component = connected_components(
        coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n)), directed=False)
    core = component.astype(np.int64)
    apart_left, apart_right = np.asarray(apart_left, dtype=np.int64), np.asarray(apart_right, dtype=np.int64)
    clash = (component[apart_left] == component[apart_right]) & (apart_left != apart_right)
    if not clash.any():
        return component, core
    split = np.unique(component[apart_left[clash]])
    nodes = np.flatnonzero(np.isin(component, split))  # few and small: a Python loop over them only
    take = np.flatnonzero(np.isin(component[left], split))
    forced = np.zeros(len(left), bool) if forced is None else np.asarray(forced, bool)
    take = take[np.lexsort((right[take], left[take], -np.asarray(priority, float)[take], ~forced[take]))]
    a, b = np.searchsorted(nodes, left[take]).tolist(), np.searchsorted(nodes, right[take]).tolist()
    parent, size = list(range(len(nodes))), [1] * len(nodes)
    apart: list[set[int]] = [set() for _ in nodes]  # per core (its root), the cores it must not join
    for x, y in zip(np.searchsorted(nodes, apart_left[clash]).tolist(),
                    np.searchsorted(nodes, apart_right[clash]).tolist(), strict=True):
        apart[x].add(y)
        apart[y].add(x)

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x, y, must in zip(a, b, forced[take].tolist(), strict=True):
        rx, ry = root(x), root(y)
        if rx == ry or (ry in apart[rx] and not must):
            continue
        if size[rx] < size[ry]:
            rx, ry = ry, rx
        parent[ry], size[rx] = rx, size[rx] + size[ry]
        for other in apart[ry]:
            apart[other].discard(ry)
            apart[other].add(rx)
        apart[rx] |= apart[ry]
        apart[rx].discard(rx)  # a forced link may join two records that were apart
        apart[ry] = set()
    core[nodes] = n_components + np.array([root(x) for x in range(len(nodes))], dtype=np.int64)
    return component, core


def group_pairs(pairs: pd.DataFrame, n_or_index, settings: MatchSettings = MatchSettings(),
                rescore: Callable[[pd.Index, pd.Index], np.ndarray] | None = None) -> tuple[pd.Series, pd.DataFrame]:
    """Groups of records joined by sure matches, with a guard against chains.

    Sure pairs (from ``settings.upper``) join records into connected
    components. In a component of more than two records, the members that
    no sure pair joins are scored with ``rescore``; two of them scoring
    below 0.001 (odds of 1 to 1,000 against: clear evidence, not a mere lack
    of agreement, since a scrambled copy of a person often scores below
    review against the other copies) are clearly different, which makes the
    component a chain (A~B~C, A and C not matching), unless both are sure
    matches of two or more of the same records (heavily corrupted copies of
    one person, each vouched for by the same independent records: a chain
    through a single record is still a chain). A chain is not merged
    whole but split by :func:`consistent_groups`: sure pairs are taken by
    descending score and never join two parts between which two members are
    clearly different. Each part of two records or more is a group; the
    pairs between two parts of one chain (the conflicting links) go to
    review, so that a person decides where the odd record belongs. Without
    ``rescore``, members that no sure pair joins count as different (parts
    are then cliques of sure pairs); a chain of more than 50 records is not
    rescored nor split but goes to review whole.

    Parameters
    ----------
    pairs : pandas.DataFrame
        ``left``, ``right``, ``score`` as returned by :meth:`Matcher.predict`.
    n_or_index : int or pandas.Index
        Number of records (labels 0..n-1) or the frame's index.
    settings : MatchSettings
        ``upper`` is the sure-match threshold.
    rescore : callable, optional
        ``(left_labels, right_labels) -> scores`` in order, e.g.
        ``lambda a, b: matcher.score_pairs(frame, a, b)["score"]``.

    Returns
    -------
    groups : pandas.Series
        Record label -> group number, for records of accepted groups (or
        parts of chains) only.
    to_review : pandas.DataFrame
        Rows of ``pairs`` that join two parts of one chain (every pair within
        a chain too large to split).
    """
    index = pd.RangeIndex(n_or_index) if isinstance(n_or_index, int | np.integer) else pd.Index(n_or_index)
    n, sure = len(index), pairs[pairs["score"] >= settings.upper]
    a, b = index.get_indexer(sure["left"]), index.get_indexer(sure["right"])
    code, score = np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b), sure["score"].to_numpy(float)
    order = np.lexsort((-score, code))  # each pair once, with its best score
    known, first = np.unique(code[order], return_index=True)
    a, b, score = known // n, known % n, score[order][first]
    _, label = connected_components(coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n)), directed=False)
    size = np.bincount(label, minlength=1)
    edges = np.bincount(label[a], minlength=len(size))
    chains = np.flatnonzero((size > 2) & (edges < size * (size - 1) // 2))
    whole = chains[size[chains] > _RESCORE_MAX]  # too large to compare every two members: review
    # Members of the other chains that no sure pair joins: clearly different if they score below _APART_SCORE.
    la, lb, _ = pairs_in_blocks(np.where(np.isin(label, chains[size[chains] <= _RESCORE_MAX]), label, -1))
    todo = ~np.isin(la * n + lb, known)
    la, lb = la[todo], lb[todo]
    if rescore is not None and len(la):
        # Two members that a sure chain joins may be uncertain (typo-ridden copies of one person); they
        # must not be clearly different.
        apart = np.asarray(rescore(index[la], index[lb]), float) < _APART_SCORE
        la, lb = la[apart], lb[apart]
    if len(la):  # two records that both match two or more of the same records are not a chain's ends
        sure_of = coo_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
        chained = np.asarray(sure_of[la].multiply(sure_of[lb]).sum(axis=1)).ravel() < _CHAIN_SUPPORT
        la, lb = la[chained], lb[chained]
    component, core = consistent_groups(n, a, b, score, la, lb)
    core = np.where(np.isin(label, whole), core.max(initial=0) + 1 + np.arange(n), core)  # each alone
    good = np.bincount(core)[core] >= 2
    groups = pd.Series(pd.factorize(core[good])[0], index=index[good], name="group")
    la, lb = index.get_indexer(pairs["left"]), index.get_indexer(pairs["right"])
    ok = (la >= 0) & (lb >= 0)
    la, lb = np.where(ok, la, 0), np.where(ok, lb, 0)
    review = ok & (component[la] == component[lb]) & (core[la] != core[lb])
    return groups, pairs[review]


def _pair_count(sizes) -> int:
    sizes = np.asarray(sizes, dtype=np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def evaluate(pairs_or_groups, truth, settings: MatchSettings = MatchSettings()) -> dict[str, float]:
    """Pairwise precision, recall and F1 of predicted matches against a truth.

    Parameters
    ----------
    pairs_or_groups : pandas.Series or pandas.DataFrame
        Record label -> group (every two records of a group are predicted
        to match), or pairs ``left``, ``right`` (with ``score``: only those
        from ``settings.upper``).
    truth : pandas.Series or pandas.DataFrame
        Record label -> true entity key, or a frame whose first two
        columns are the record label and the key (``record_id, customer_key``).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1``, ``true_positives``, ``predicted``, ``actual``.
    """
    if isinstance(truth, pd.DataFrame):
        truth = truth.set_index(truth.columns[0])[truth.columns[1]]
    actual = _pair_count(truth.value_counts().to_numpy())
    if isinstance(pairs_or_groups, pd.Series):
        groups = pairs_or_groups
        predicted = _pair_count(groups.value_counts().to_numpy())
        joint = pd.DataFrame({"g": groups.to_numpy(), "t": truth.reindex(groups.index).to_numpy()}).dropna()
        tp = _pair_count(joint.groupby(["g", "t"]).size().to_numpy())
    else:
        pairs = pairs_or_groups
        if "score" in pairs:
            pairs = pairs[pairs["score"] >= settings.upper]
        predicted = len(pairs)
        lt, rt = truth.reindex(pairs["left"]).to_numpy(), truth.reindex(pairs["right"]).to_numpy()
        tp = int((pd.notna(lt) & (lt == rt)).sum())
    precision = tp / predicted if predicted else 1.0
    recall = tp / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp, "predicted": predicted,
            "actual": actual}


__all__ = ["BLOCKING_RULES", "MatchSettings", "Matcher", "NotFittedError", "blocking_features", "candidate_pairs",
           "classify", "consistent_groups", "evaluate", "group_pairs"]

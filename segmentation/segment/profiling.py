"""Segment profiles a marketer understands: sizes, index against the whole base, rules in words, names.

Pure pandas and scikit-learn on a frame of customers (original, unscaled
columns) and their segment labels; it knows nothing of the store
(:mod:`segmentation.segment.runs` reads the customers; the stage's only SQL
executor is :mod:`segmentation.segment.repository`). The rules come from a
shallow surrogate decision tree fitted to the labels, one rule (a leaf's
path) per segment, with its precision and coverage, and the tree's overall
agreement so nobody over-trusts it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from .features import DAYS_AGO

MONEY = re.compile(r"valeur|value|revenu|revenue|chiffre|montant|amount|contrat|contract|prix|price|ltv|clv|arr\b"
                   r"|mrr|spend|depense|panier|basket|ca\b|€|eur", re.IGNORECASE)


@dataclass(frozen=True)
class ProfileSettings:
    """How profiles are judged.

    Parameters
    ----------
    min_share : float
        Segments smaller than this share of customers are flagged as too small to act on.
    alike : float
        Two segments whose standardised means differ by less than this on every feature are flagged alike.
    stale_share : float
        Segments with more than this share of stale profiles are flagged.
    stale_months : int
        A profile is stale after this many months without activity.
    tree_depth : int
        Depth of the surrogate tree (at most 3 keeps rules short).
    """

    min_share: float = 0.05
    alike: float = 0.25
    stale_share: float = 0.5
    stale_months: int = 12
    tree_depth: int = 3


@dataclass
class Profile:
    """Everything the Profile page shows for one run."""

    sizes: pd.DataFrame          # segment, size, share, value_share
    numeric: pd.DataFrame        # segment, feature, mean, median, overall_mean, overall_median, index
    categorical: pd.DataFrame    # feature, category, segment, share, overall_share
    standardised: pd.DataFrame   # segments x numeric features: (segment mean - overall mean) / sd
    rules: pd.DataFrame          # segment, rule, precision, coverage
    agreement: float             # share of customers whose segment the tree predicts
    names: dict[int, str]        # suggested name per segment
    reach: pd.DataFrame          # segment, email, phone (customers reachable with consent)
    hints: list[str] = field(default_factory=list)


def fmt_number(value: float, feature: str = "") -> str:
    """``12400.5`` -> ``"12 400 €"`` for money, ``"3.5"`` otherwise, in a marketer's units."""
    if pd.isna(value):
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}".replace(",", "\u202f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + (" €" if MONEY.search(feature) and not feature.endswith(DAYS_AGO) else "")


def _condition(feature: str, op: str, threshold: float) -> str:
    """One condition in words: ``"Valeur contrat above 12 400 €"``, ``"Dernière activité within 90 days"``."""
    if feature.endswith(DAYS_AGO):
        col, days = feature[: -len(DAYS_AGO)], fmt_number(threshold)
        return f"{col} within the last {days} days" if op == "<=" else f"{col} more than {days} days ago"
    if " = " in feature:  # a one-hot column "Région = Île-de-France"
        col, value = feature.split(" = ", 1)
        return f"{col} is {value}" if op == ">" else f"{col} is not {value}"
    return f"{feature} {'above' if op == '>' else 'at most'} {fmt_number(threshold, feature)}"


def _tree_inputs(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    parts = [frame[numeric].astype(float)]
    for col in categorical:
        dummies = pd.get_dummies(frame[col].astype(object), prefix=col, prefix_sep=" = ", dtype=float)
        parts.append(dummies)
    return pd.concat(parts, axis=1)


def surrogate_rules(frame: pd.DataFrame, labels: np.ndarray, numeric: list[str], categorical: list[str],
                    depth: int = 3, seed: int = 0) -> tuple[pd.DataFrame, float]:
    """One rule per segment from a shallow decision tree on the original features.

    For each segment, the leaf whose path best describes it (the most of its
    customers, weighed by precision) becomes the rule; conditions on one
    feature are merged into the tightest bound.

    Returns
    -------
    rules : pandas.DataFrame
        ``segment``, ``rule`` (words), ``precision`` (share of the customers
        the rule selects who are in the segment), ``coverage`` (share of the
        segment the rule selects).
    agreement : float
        Share of customers whose segment the tree predicts.
    """
    x = _tree_inputs(frame, numeric, categorical)
    tree = DecisionTreeClassifier(max_depth=depth, random_state=seed, min_samples_leaf=max(5, len(x) // 1000))
    tree.fit(x, labels)
    agreement = float((tree.predict(x) == labels).mean())
    leaf_of = tree.apply(x)
    t = tree.tree_
    paths: dict[int, list[tuple[int, str, float]]] = {}

    def walk(node: int, path: list[tuple[int, str, float]]) -> None:
        if t.children_left[node] == -1:
            paths[node] = path
            return
        f, thr = int(t.feature[node]), float(t.threshold[node])
        walk(int(t.children_left[node]), [*path, (f, "<=", thr)])
        walk(int(t.children_right[node]), [*path, (f, ">", thr)])

    walk(0, [])
    counts = pd.crosstab(leaf_of, labels)
    rows = []
    for segment in sorted(np.unique(labels)):
        in_segment = counts[segment] if segment in counts.columns else pd.Series(0, index=counts.index)
        precision = in_segment / counts.sum(axis=1)
        coverage = in_segment / max(int((labels == segment).sum()), 1)
        quality = precision * coverage
        if quality.max() <= 0:
            rows.append((int(segment), "no simple rule", 0.0, 0.0))
            continue
        leaf = int(quality.idxmax())
        bounds: dict[tuple[int, str], float] = {}
        for f, op, thr in paths[leaf]:
            key = (f, op)
            bounds[key] = min(bounds.get(key, thr), thr) if op == "<=" else max(bounds.get(key, thr), thr)
        conds = [(str(x.columns[f]), op, thr) for (f, op), thr in bounds.items()]
        chosen = {c.split(" = ")[0] for c, op, _ in conds if " = " in c and op == ">"}
        # "Région is Bretagne" says all; "and Région is not Normandie" would only add words.
        words = [_condition(c, op, thr) for c, op, thr in conds
                 if not (" = " in c and op == "<=" and c.split(" = ")[0] in chosen)]
        rows.append((int(segment), " and ".join(words) or "everyone", float(precision[leaf]), float(coverage[leaf])))
    return pd.DataFrame(rows, columns=["segment", "rule", "precision", "coverage"]), agreement


def suggest_names(numeric: pd.DataFrame, categorical: pd.DataFrame, k: int,
                  places: frozenset[str] = frozenset()) -> dict[int, str]:
    """A name per segment from its two or three most distinctive traits (``"High Valeur contrat · Bretagne"``).

    Categories are named ``"column: value"``, except in ``places`` (regions, cities), whose values say enough.
    """
    names = {}
    for segment in range(k):
        traits: list[tuple[float, str]] = []
        for row in numeric[numeric["segment"] == segment].itertuples():
            if pd.isna(row.index) or row.overall_mean == 0:
                continue
            strength = abs(np.log(max(row.index, 1e-9) / 100))
            if row.index >= 125 or row.index <= 80:
                high = row.index >= 125
                if row.feature.endswith(DAYS_AGO):
                    label = f"{'Old' if high else 'Recent'} {row.feature[: -len(DAYS_AGO)]}"
                else:
                    label = f"{'High' if high else 'Low'} {row.feature}"
                traits.append((strength, label))
        mix = categorical[categorical["segment"] == segment]
        for row in mix.itertuples():
            if row.share >= 0.4 and row.overall_share > 0 and row.share / row.overall_share >= 1.5:
                label = str(row.category) if row.feature in places else f"{row.feature}: {row.category}"
                traits.append((float(np.log(row.share / row.overall_share)), label))
        traits.sort(key=lambda t: -t[0])
        names[segment] = " · ".join(label for _, label in traits[:3]) or "Typical customers"
    seen: dict[str, int] = {}
    for segment, name in names.items():  # two alike segments must still be told apart
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[segment] = f"{name} ({segment})"
    return names


def build_profile(frame: pd.DataFrame, labels: np.ndarray, k: int, numeric: list[str], categorical: list[str],
                  value: str | None = None, reach: pd.DataFrame | None = None, stale: pd.Series | None = None,
                  settings: ProfileSettings = ProfileSettings(), places: frozenset[str] = frozenset()) -> Profile:
    """Profile the segments of a run.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer: the numeric features (dates as days ago) and categorical columns, unscaled.
    labels : numpy.ndarray
        Segment of each row (0..k-1).
    k : int
        Number of segments of the run (empty ones included).
    numeric, categorical : list of str
        Columns of ``frame`` to describe.
    value : str, optional
        Column of ``frame`` holding revenue or contract value (its share per segment is shown).
    reach : pandas.DataFrame, optional
        Booleans ``email`` and ``phone`` per customer: contactable with consent.
    stale : pandas.Series, optional
        Boolean per customer: no activity for ``settings.stale_months``.
    settings : ProfileSettings
    places : frozenset of str
        Categorical columns whose values name a place (used bare in names).
    """
    labels = np.asarray(labels)
    n = len(frame)
    seg = pd.Series(labels, index=frame.index, name="segment")
    counts = seg.value_counts().reindex(range(k), fill_value=0)
    sizes = pd.DataFrame({"segment": range(k), "size": counts.to_numpy(), "share": counts.to_numpy() / max(n, 1)})
    if value is not None:
        amounts = pd.to_numeric(frame[value], errors="coerce")
        total = amounts.sum()
        sizes["value_share"] = (amounts.groupby(seg).sum().reindex(range(k), fill_value=0) / total).to_numpy() \
            if total else np.nan

    nums = frame[numeric].astype(float)
    means, medians = nums.groupby(seg).mean(), nums.groupby(seg).median()
    overall_mean, overall_median, sd = nums.mean(), nums.median(), nums.std(ddof=0).replace(0, np.nan)
    long = []
    for f in numeric:
        for s in range(k):
            m = means[f].get(s, np.nan)
            long.append((s, f, m, medians[f].get(s, np.nan), overall_mean[f], overall_median[f],
                         m / overall_mean[f] * 100 if overall_mean[f] else np.nan))
    numeric_table = pd.DataFrame(long, columns=["segment", "feature", "mean", "median", "overall_mean",
                                                "overall_median", "index"])
    standardised = ((means - overall_mean) / sd).reindex(range(k))

    mixes = []
    for col in categorical:
        values = frame[col].astype(object).where(frame[col].notna(), "(missing)")
        overall = values.value_counts(normalize=True)
        share = pd.crosstab(seg, values, normalize="index").reindex(range(k), fill_value=0)
        for cat in overall.index[:12]:
            for s in range(k):
                mixes.append((col, cat, s, float(share[cat].get(s, 0.0)) if cat in share else 0.0,
                              float(overall[cat])))
    categorical_table = pd.DataFrame(mixes, columns=["feature", "category", "segment", "share", "overall_share"])

    rules, agreement = surrogate_rules(frame, labels, numeric, categorical, settings.tree_depth)
    names = suggest_names(numeric_table, categorical_table, k, places)

    reach_table = pd.DataFrame({"segment": range(k)})
    if reach is not None:
        for col in ("email", "phone"):
            reach_table[col] = reach[col].astype(bool).groupby(seg).sum().reindex(range(k), fill_value=0) \
                .astype(int).to_numpy()

    hints = []
    for row in sizes.itertuples():
        if row.share < settings.min_share:
            hints.append(f"Segment {row.segment} ({names[row.segment]}) holds {row.share:.1%} of customers, under "
                         f"{settings.min_share:.0%}: too small to act on; try fewer segments.")
    z = standardised.fillna(0).to_numpy()
    for a in range(k):
        for b in range(a + 1, k):
            if counts[a] and counts[b] and len(numeric) and np.abs(z[a] - z[b]).max() < settings.alike:
                hints.append(f"Segments {a} and {b} are much alike (no feature differs by more than "
                             f"{settings.alike:g} standard deviation): consider merging them, or fewer segments.")
    if stale is not None:
        stale_share = stale.astype(bool).groupby(seg).mean().reindex(range(k))
        for s, share in stale_share.items():
            if share > settings.stale_share:
                hints.append(f"Segment {s} ({names[s]}): {share:.0%} of its profiles show no activity for "
                             f"{settings.stale_months} months; refresh them before a campaign.")
    return Profile(sizes=sizes, numeric=numeric_table, categorical=categorical_table, standardised=standardised,
                   rules=rules, agreement=agreement, names=names, reach=reach_table, hints=hints)


__all__ = ["Profile", "ProfileSettings", "build_profile", "fmt_number", "suggest_names", "surrogate_rules"]

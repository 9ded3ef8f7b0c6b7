"""Segment profiles a marketer understands: sizes, index against the whole base, rules in words, names.

Pure pandas and scikit-learn; it knows nothing of the store. A profile is
assembled (:func:`assemble`) from small summaries: customers and value per
segment, per-segment statistics of every measure (:data:`NUMERIC_STATS`),
category counts, reach and staleness, and a sample of customers for the
surrogate tree. :func:`build_profile` computes those summaries with pandas
from a frame of every customer; :mod:`segmentation.segment.profiles` has the
store compute them in SQL (a million customers in a second or two).

- **Index**: segment mean ÷ overall mean × 100, and the same on medians
  (``index_median``), which skewed money and counts need: one big spender
  moves a mean, not a median.
- **Effect**: the segment's difference from the base in standard deviations on
  the preprocessed scale (log for skewed non-negative measures): what decides
  a segment's traits, its name and the snake plot.
- **Rules**: one rule per segment from a shallow surrogate decision tree (a
  leaf's path), with its precision and coverage, and the tree's overall
  agreement so nobody over-trusts it.
- **Names and traits**: from each segment's most distinctive traits, numeric
  and categorical, never contradicting its rule, distinct from each other.
  Texts for people are :class:`segmentation.i18n.Message` objects (English
  templates and their values): the pages render them in the interface's
  language; ``str()`` gives the English the CLI and the store keep.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeClassifier

from ..i18n import Message, message
from .features import DAYS_AGO, SKEW_LIMIT

MONEY = re.compile(r"valeur|value|revenu|revenue|chiffre|montant|amount|contrat|contract|prix|price|ltv|clv|arr\b"
                   r"|mrr|spend|depense|dépense|panier|basket|monetary|\bmnt|ca\b|€|eur", re.IGNORECASE)
#: Measures counted in days since something happened (besides dates, which count "days ago"): RFM recency...
RECENCY = re.compile(r"recency|récence|recence|days since|jours depuis|inactivit", re.IGNORECASE)
#: Columns of the per-segment statistics of the measures (``segment`` -1: every customer).
NUMERIC_STATS = ["segment", "feature", "n", "mean", "median", "lmean", "sd", "lsd", "skew", "min"]
MISSING = "(missing)"
TOP_CATEGORIES = 12      # categories of a column described (the most frequent)
TRAIT_EFFECT = 0.25      # standard deviations from the base for a measure to be a trait
STRONG_EFFECT = 1.0      # ... to be "very" high / low
TRAIT_SHARE = 0.5        # a category is a trait when most of the segment has it...
TRAIT_LIFT = 1.25        # ... clearly more often than the base
MAX_TRAITS = 5


@dataclass(frozen=True)
class ProfileSettings:
    """How profiles are judged.

    Parameters
    ----------
    min_share : float
        Segments smaller than this share of customers are flagged as too small to act on.
    alike : float
        Two segments whose effects differ by less than this on every measure are flagged alike.
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
    """Everything the Profile page shows for one run.

    ``names`` are the names in use (saved ones once the run has them; English
    suggestions before); ``suggested`` the suggestions as messages, which
    :meth:`label` renders in the reader's language while a segment keeps its
    suggested name.
    """

    sizes: pd.DataFrame          # segment, size, share, value_share
    numeric: pd.DataFrame        # segment, feature, mean, median, overall_mean, overall_median, index,
    #                              index_median, skewed, effect, recency (days since: fewer is better)
    categorical: pd.DataFrame    # feature, category, segment, share, overall_share
    standardised: pd.DataFrame   # segments x measures: effect (standard deviations, preprocessed scale)
    rules: pd.DataFrame          # segment, rule (English), precision, coverage
    agreement: float             # share of customers whose segment the tree predicts
    names: dict[int, str]        # name per segment
    reach: pd.DataFrame          # segment, email, phone (customers reachable with consent)
    hints: list[Message] = field(default_factory=list)
    suggested: dict[int, Message] = field(default_factory=dict)
    traits: dict[int, list[Message]] = field(default_factory=dict)
    rule_words: dict[int, Message] = field(default_factory=dict)

    def label(self, segment: int, names: dict[int, str] | None = None) -> str | Message:
        """A segment's name to show: its suggestion (a message, to render) unless it was renamed.

        ``names`` are fresher saved names (after a rename) than :attr:`names`.
        """
        name = (names or self.names).get(segment, f"Segment {segment}")
        suggested = self.suggested.get(segment)
        return suggested if suggested is not None and name == str(suggested) else name

    def to_dict(self) -> dict:
        """Per segment its name, size, share, value share, rule, traits (English), and the hints."""
        sizes = self.sizes.set_index("segment")
        rules = self.rules.set_index("segment")
        return {"agreement": round(self.agreement, 4), "hints": [str(h) for h in self.hints], "segments": [
            {"segment": int(s), "name": self.names.get(int(s)), "size": int(sizes.loc[s, "size"]),
             "share": round(float(sizes.loc[s, "share"]), 4), "rule": rules.loc[s, "rule"],
             "traits": [str(t) for t in self.traits.get(int(s), [])]} for s in sizes.index]}


# ------------------------------------------------------------------ numbers in words

def fmt_number(value: float, feature: str = "") -> str:
    """``12400.5`` -> ``"12 400 €"`` for money, ``"3.5"`` otherwise, in a marketer's units."""
    if pd.isna(value):
        return "-"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}".replace(",", "\u202f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + (" €" if is_money(feature) else "")


def is_money(feature: str) -> bool:
    """Whether a measure holds money (by its name; never a date's days ago)."""
    return bool(MONEY.search(feature)) and not feature.endswith(DAYS_AGO)


def rounded(value: float) -> int | float:
    """A value with the digits a marketer reads: ``12400.5`` -> ``12400``, ``3.256`` -> ``3.26``."""
    if pd.isna(value):
        return float("nan")
    if abs(value) >= 100:
        return round(float(value))
    return round(float(value), 1 if abs(value) >= 10 else 2)


def amount(value: float, feature: str) -> Message:
    """A value of a measure as a message: ``"12 400 €"`` for money, the number otherwise."""
    if is_money(feature):
        return message("{amount} €", amount=rounded(value))
    return message("{amount}", amount=rounded(value))


def percent(share: float) -> Message:
    """A share (0.42) as ``"42%"`` (``"42 %"`` in French)."""
    return message("{value}%", value=round(float(share) * 100))


def is_days_ago(feature: str) -> bool:
    """Whether a measure counts days since an event: fewer is more recent ("recent" / "long ago", not high / low)."""
    return feature.endswith(DAYS_AGO) or bool(RECENCY.search(feature))


def column_of(feature: str) -> str:
    """The column a feature describes (a date's name without "(days ago)")."""
    return feature[: -len(DAYS_AGO)] if feature.endswith(DAYS_AGO) else feature


def direction(feature: str, effect: float) -> Message:
    """The trait's words: "High X" / "Low X", for dates "Recent X" / "X long ago" ("Very ..." when strong)."""
    strong = abs(effect) >= STRONG_EFFECT
    col = column_of(feature)
    if is_days_ago(feature):
        if effect < 0:
            return message("Very recent {feature}", feature=col) if strong else message("Recent {feature}",
                                                                                         feature=col)
        return message("{feature} very long ago", feature=col) if strong else message("{feature} long ago",
                                                                                       feature=col)
    if effect > 0:
        return message("Very high {feature}", feature=col) if strong else message("High {feature}", feature=col)
    return message("Very low {feature}", feature=col) if strong else message("Low {feature}", feature=col)


def joined(parts: list, template: str = " · ") -> Message | str:
    """Messages joined: ``"A · B"`` (names) or ``"A and B"`` (rules), each part rendered in the language."""
    if not parts:
        return ""
    out = parts[0]
    for part in parts[1:]:
        out = message("{a} · {b}", a=out, b=part) if template == " · " else message("{a} and {b}", a=out, b=part)
    return out


# ------------------------------------------------------------------ summaries (pandas)

def numeric_stats(frame: pd.DataFrame, labels: np.ndarray, numeric: list[str]) -> pd.DataFrame:
    """:data:`NUMERIC_STATS` of every measure, per segment and overall (segment -1), from every customer.

    ``lmean`` and ``lsd`` are on ``log1p`` of the values clipped at 0 (the scale skewed measures are
    segmented on); ``sd``, ``lsd`` and ``skew`` are given for the overall row only.
    """
    if not numeric:
        return pd.DataFrame(columns=NUMERIC_STATS)
    nums = frame[numeric].astype(float).reset_index(drop=True)
    logs = np.log1p(nums.clip(lower=0))
    seg = pd.Series(np.asarray(labels), name="segment")
    rows = []
    for f in numeric:
        by, lby = nums[f].groupby(seg), logs[f].groupby(seg)
        count, mean, median, lmean = by.count(), by.mean(), by.median(), lby.mean()
        for s in count.index:
            rows.append((int(s), f, int(count[s]), mean[s], median[s], lmean[s], np.nan, np.nan, np.nan, np.nan))
        values = nums[f]
        rows.append((-1, f, int(values.count()), values.mean(), values.median(), logs[f].mean(),
                     values.std(ddof=0), logs[f].std(ddof=0), values.skew(), values.min()))
    return pd.DataFrame(rows, columns=NUMERIC_STATS)


def category_counts(frame: pd.DataFrame, labels: np.ndarray, categorical: list[str]) -> pd.DataFrame:
    """Customers per (``feature``, ``category``, ``segment``): ``n``; a missing value is ``"(missing)"``."""
    parts = []
    seg = np.asarray(labels)
    for col in categorical:
        values = frame[col].astype(object).where(frame[col].notna(), MISSING).astype(str).to_numpy()
        counts = pd.DataFrame({"category": values, "segment": seg}).value_counts().rename("n").reset_index()
        parts.append(counts.assign(feature=col))
    if not parts:
        return pd.DataFrame(columns=["feature", "category", "segment", "n"])
    return pd.concat(parts, ignore_index=True)[["feature", "category", "segment", "n"]]


# ------------------------------------------------------------------ rules

def _condition(feature: str, op: str, threshold: float) -> Message:
    """One condition in words: ``"Valeur contrat above 12 400 €"``, ``"Dernière activité within the last 90 days"``."""
    if feature.endswith(DAYS_AGO):
        col, days = column_of(feature), rounded(threshold)
        return message("{feature} within the last {days} days", feature=col, days=days) if op == "<=" else \
            message("{feature} more than {days} days ago", feature=col, days=days)
    if " = " in feature:  # a one-hot column "Région = Île-de-France"
        col, value = feature.split(" = ", 1)
        return message("{feature} is {value}", feature=col, value=value) if op == ">" else \
            message("{feature} is not {value}", feature=col, value=value)
    shown = amount(threshold, feature)
    return message("{feature} above {value}", feature=feature, value=shown) if op == ">" else \
        message("{feature} at most {value}", feature=feature, value=shown)


def _conditions_in_words(conds: list[tuple[str, str, float]]) -> list[Message]:
    """The conditions in words, a lower and an upper bound on one measure as one "between"."""
    bounds = {(c, op): thr for c, op, thr in conds}
    out, done = [], set()
    for c, op, thr in conds:
        if c in done:
            continue
        if " = " not in c and (c, ">") in bounds and (c, "<=") in bounds:
            low, high = bounds[(c, ">")], bounds[(c, "<=")]
            if c.endswith(DAYS_AGO):
                out.append(message("{feature} between {low} and {high} days ago", feature=column_of(c),
                                   low=rounded(low), high=rounded(high)))
            else:
                out.append(message("{feature} between {low} and {high}", feature=c, low=amount(low, c),
                                   high=amount(high, c)))
            done.add(c)
        else:
            out.append(_condition(c, op, thr))
    return out


def _tree_inputs(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    parts = [frame[numeric].astype(float)]
    for col in categorical:  # the most frequent values only: a city column must not make a thousand columns
        values = frame[col].astype(object)
        top = values.value_counts().index[:TOP_CATEGORIES]
        dummies = pd.get_dummies(values.where(values.isin(top)), prefix=col, prefix_sep=" = ", dtype=float)
        parts.append(dummies)
    return pd.concat(parts, axis=1)


def rules_of(frame: pd.DataFrame, labels: np.ndarray, numeric: list[str], categorical: list[str], k: int,
             depth: int = 3, seed: int = 0) -> tuple[pd.DataFrame, float, dict[int, list[tuple[str, str, float]]],
                                                     dict[int, Message]]:
    """One rule per segment from a shallow decision tree on the original features.

    For each segment, the leaf whose path best describes it (the most of its
    customers, weighed by precision) becomes the rule; conditions on one
    feature are merged into the tightest bound.

    Returns
    -------
    rules : pandas.DataFrame
        ``segment``, ``rule`` (English words), ``precision`` (share of the
        customers the rule selects who are in the segment), ``coverage``
        (share of the segment the rule selects).
    agreement : float
        Share of customers whose segment the tree predicts.
    conditions : dict
        Segment -> its conditions ``(feature, op, threshold)``, one-hot
        features as ``"column = value"``.
    words : dict
        Segment -> its rule as a message.
    """
    labels = np.asarray(labels)
    present = sorted(int(s) for s in np.unique(labels)) if len(labels) else []
    empty = pd.DataFrame({"segment": range(k), "rule": "no simple rule", "precision": 0.0, "coverage": 0.0})
    if len(present) < 2 or not (numeric or categorical):
        return empty, float(len(present) == 1), {}, {}
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
    rows, conditions, words = [], {}, {}
    for segment in range(k):
        in_segment = counts[segment] if segment in counts.columns else pd.Series(0, index=counts.index)
        precision = in_segment / counts.sum(axis=1)
        coverage = in_segment / max(int((labels == segment).sum()), 1)
        quality = precision * coverage
        if quality.max() <= 0:
            rows.append((segment, "no simple rule", 0.0, 0.0))
            words[segment] = message("no simple rule")
            continue
        leaf = int(quality.idxmax())
        bounds: dict[tuple[int, str], float] = {}
        for f, op, thr in paths[leaf]:
            key = (f, op)
            bounds[key] = min(bounds.get(key, thr), thr) if op == "<=" else max(bounds.get(key, thr), thr)
        conds = [(str(x.columns[f]), op, thr) for (f, op), thr in bounds.items()]
        chosen = {c.split(" = ")[0] for c, op, _ in conds if " = " in c and op == ">"}
        # "Région is Bretagne" says all; "and Région is not Normandie" would only add words.
        conds = [(c, op, thr) for c, op, thr in conds
                 if not (" = " in c and op == "<=" and c.split(" = ")[0] in chosen)]
        conditions[segment] = conds
        words[segment] = joined(_conditions_in_words(conds), " and ") or message("everyone")
        rows.append((segment, str(words[segment]), float(precision[leaf]), float(coverage[leaf])))
    return pd.DataFrame(rows, columns=["segment", "rule", "precision", "coverage"]), agreement, conditions, words


def surrogate_rules(frame: pd.DataFrame, labels: np.ndarray, numeric: list[str], categorical: list[str],
                    depth: int = 3, seed: int = 0) -> tuple[pd.DataFrame, float]:
    """The rules table and the tree's agreement of :func:`rules_of` (segments 0..max label)."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if len(labels) else 0
    rules, agreement, _, _ = rules_of(frame, labels, numeric, categorical, k, depth, seed)
    return rules, agreement


# ------------------------------------------------------------------ traits and names

@dataclass(frozen=True)
class Trait:
    """What sets a segment apart on one feature: its words, its strength (standard deviations) and a sentence."""

    feature: str                 # the measure, or the category column
    category: str | None         # the category (None for a measure)
    sign: int                    # +1 above the base, -1 below (a category: +1)
    label: Message
    strength: float
    line: Message                # the trait in a sentence, with the figures


def _contradicts(trait: Trait, conditions: list[tuple[str, str, float]]) -> bool:
    """Whether the segment's rule says the opposite of the trait ("above 3 885 €" against "Low ...").

    A measure's trait is contradicted by a bound the other way without one its way (a range, "above 70 and
    at most 130", says neither); a category's by "is not" that value, or "is" another one.
    """
    ops = {op for feature, op, _thr in conditions if trait.category is None and feature == trait.feature}
    if trait.category is None:
        return (trait.sign < 0 and ops == {">"}) or (trait.sign > 0 and ops == {"<="})
    for feature, op, _thr in conditions:
        if " = " in feature:
            col, value = feature.split(" = ", 1)
            if col == trait.feature and ((op == "<=" and value == trait.category) or
                                         (op == ">" and value != trait.category)):
                return True
    return False


def numeric_table(stats: pd.DataFrame, k: int, numeric: list[str]) -> pd.DataFrame:
    """Per segment and measure: mean, median, overall ones, index on means and on medians, skewed, effect."""
    rows = []
    by = stats.set_index(["segment", "feature"])
    for f in numeric:
        overall = by.loc[(-1, f)] if (-1, f) in by.index else None
        if overall is None:
            continue
        skewed = bool(overall["n"] > 2 and overall["min"] >= 0 and abs(overall["skew"]) > SKEW_LIMIT)
        for s in range(k):
            row = by.loc[(s, f)] if (s, f) in by.index else None
            mean = row["mean"] if row is not None else np.nan
            median = row["median"] if row is not None else np.nan
            om, omed = overall["mean"], overall["median"]
            if skewed:
                effect = (row["lmean"] - overall["lmean"]) / overall["lsd"] if row is not None and overall["lsd"] \
                    else np.nan
            else:
                effect = (mean - om) / overall["sd"] if overall["sd"] else np.nan
            rows.append((s, f, mean, median, om, omed, mean / om * 100 if om else np.nan,
                         median / omed * 100 if omed else np.nan, skewed, effect, is_days_ago(f)))
    return pd.DataFrame(rows, columns=["segment", "feature", "mean", "median", "overall_mean", "overall_median",
                                       "index", "index_median", "skewed", "effect", "recency"])


def segment_traits(numeric: pd.DataFrame, categorical: pd.DataFrame, segment: int,
                   places: frozenset[str] = frozenset()) -> list[Trait]:
    """Every trait of a segment, strongest first: measures (any effect) and categories most of it has."""
    traits = []
    for row in numeric[numeric["segment"] == segment].itertuples():
        if pd.isna(row.effect) or row.effect == 0:
            continue
        # The median must lean the same way as the effect, or the words would mislead.
        if pd.notna(row.median) and pd.notna(row.overall_median) and row.median != row.overall_median and \
                np.sign(row.median - row.overall_median) != np.sign(row.effect):
            continue
        sign = 1 if row.effect > 0 else -1
        label = direction(row.feature, row.effect)
        index = row.index_median  # the sentence gives medians: so does its index
        if is_days_ago(row.feature):
            line = message("{label} ({value} days ago at the median, against {overall} for all customers)",
                           label=label, value=rounded(row.median), overall=rounded(row.overall_median))
        elif pd.notna(index):
            line = message("{label} (median {value}, against {overall} for all customers: index {index})",
                           label=label, value=amount(row.median, row.feature),
                           overall=amount(row.overall_median, row.feature), index=round(float(index)))
        else:
            line = message("{label} (median {value}, against {overall} for all customers)", label=label,
                           value=amount(row.median, row.feature), overall=amount(row.overall_median, row.feature))
        traits.append(Trait(row.feature, None, sign, label, abs(float(row.effect)), line))
    mix = categorical[categorical["segment"] == segment]
    for row in mix.itertuples():
        share, overall = float(row.share), float(row.overall_share)
        if share < TRAIT_SHARE or not 0 < overall < 1 or share < overall * TRAIT_LIFT:
            continue
        strength = (share - overall) / np.sqrt(overall * (1 - overall))
        label = message("{value}", value=str(row.category)) if row.feature in places else \
            message("{feature}: {value}", feature=row.feature, value=str(row.category))
        line = message("{value} ({feature}): {share} of the segment, against {overall} of all customers",
                       value=str(row.category), feature=row.feature, share=percent(share), overall=percent(overall))
        traits.append(Trait(row.feature, str(row.category), 1, label, float(strength), line))
    traits.sort(key=lambda t: (-t.strength, t.feature, t.category or ""))
    return traits


def suggest_names(numeric: pd.DataFrame, categorical: pd.DataFrame, k: int, places: frozenset[str] = frozenset(),
                  conditions: dict[int, list[tuple[str, str, float]]] | None = None,
                  sizes: np.ndarray | None = None) -> tuple[dict[int, Message], dict[int, list[Message]]]:
    """A name per segment from its strongest traits (``"High Valeur contrat · Bretagne"``), and its traits.

    Names take the segment's two strongest traits that its rule does not
    contradict (one if it has a single clear trait); segments that would share
    a name take more traits until they differ, and as a last resort a word
    that ranks them against each other on the measure that tells them apart
    best. Categories are named ``"column: value"``, except in ``places``
    (regions, cities), whose values say enough.

    Returns
    -------
    names : dict
        Segment -> name (a message; ``str()`` is the English).
    traits : dict
        Segment -> its 3 to 5 defining traits in sentences with their figures.
    """
    conditions = conditions or {}
    ranked: dict[int, list[Trait]] = {}
    for s in range(k):
        found = [t for t in segment_traits(numeric, categorical, s, places)
                 if not _contradicts(t, conditions.get(s, []))]
        seen, unique = set(), []
        for t in found:  # one trait per feature and direction, and never "High X · Very high X"
            if (t.feature, t.sign) not in seen:
                seen.add((t.feature, t.sign))
                unique.append(t)
        ranked[s] = unique
    present = [s for s in range(k) if sizes is None or sizes[s] > 0]
    strong = {s: sum(t.strength >= TRAIT_EFFECT for t in ranked[s]) for s in range(k)}
    parts = {s: min(2, strong[s]) for s in range(k)}
    tie_words: dict[int, Message] = {}
    for _ in range(6):
        keys = {s: frozenset(str(t.label) for t in ranked[s][:parts[s]]) for s in present}
        groups: dict[frozenset, list[int]] = {}
        for s, key in keys.items():
            groups.setdefault(key, []).append(s)
        tied = [g for g in groups.values() if len(g) > 1]
        if not tied:
            break
        grown = False
        for group in tied:
            for s in group:
                if parts[s] < len(ranked[s]) and parts[s] < 4:
                    parts[s] += 1
                    grown = True
        if not grown:
            for group in tied:
                tie_words.update(_rank_words(numeric, group))
            break
    names, traits = {}, {}
    for s in range(k):
        used = ranked[s][:parts[s]]
        labels = [t.label for t in used] + ([tie_words[s]] if s in tie_words else [])
        if not any(t.strength >= TRAIT_EFFECT for t in used):  # nothing stands out: say so first
            labels = [message("Typical customers"), *labels]
        names[s] = joined(labels)
        chosen = [t for t in ranked[s] if t.strength >= TRAIT_EFFECT][:MAX_TRAITS]
        if len(chosen) < 3:
            chosen = ranked[s][:3]
        traits[s] = [t.line for t in chosen]
    # Still alike (identical data): the segment number is then the only honest difference.
    seen: dict[str, int] = {}
    for s in present:
        text = str(names[s])
        if text in seen:
            names[s] = message("{name}, group {n}", name=names[s], n=s)
        seen[text] = s
    return names, traits


def _rank_words(numeric: pd.DataFrame, group: list[int]) -> dict[int, Message]:
    """For segments with the same traits: "higher X" / "lower X" on the measure that tells them apart best."""
    part = numeric[numeric["segment"].isin(group)].dropna(subset=["effect"])
    if part.empty:
        return {}
    spread = part.groupby("feature")["effect"].agg(lambda e: e.max() - e.min())
    if spread.max() <= 1e-9:  # identical on every measure: no word would be true
        return {}
    feature = str(spread.idxmax())
    effects = part[part["feature"] == feature].set_index("segment")["effect"]
    order = effects.sort_values().index.tolist()
    col = column_of(feature)
    words = {}
    for i, s in enumerate(order):
        low = i < len(order) / 2
        if is_days_ago(feature):
            words[int(s)] = message("more recent {feature}", feature=col) if low else \
                message("{feature} longer ago", feature=col)
        else:
            words[int(s)] = message("lower {feature}", feature=col) if low else message("higher {feature}",
                                                                                       feature=col)
    return words


# ------------------------------------------------------------------ the profile

def assemble(k: int, counts: np.ndarray, stats: pd.DataFrame, cats: pd.DataFrame, numeric: list[str],
             categorical: list[str], tree_frame: pd.DataFrame, tree_labels: np.ndarray,
             value_sums: np.ndarray | None = None, reach: pd.DataFrame | None = None,
             stale_share: pd.Series | None = None, settings: ProfileSettings = ProfileSettings(),
             places: frozenset[str] = frozenset()) -> Profile:
    """A profile from its summaries (see the module's docstring), whoever computed them.

    Parameters
    ----------
    k : int
        Segments of the run (empty ones included).
    counts : numpy.ndarray
        Customers per segment (length ``k``).
    stats : pandas.DataFrame
        :data:`NUMERIC_STATS` rows.
    cats : pandas.DataFrame
        ``feature``, ``category``, ``segment``, ``n`` (customers).
    numeric, categorical : list of str
        The measures and categories described.
    tree_frame, tree_labels
        Customers (every one, or a sample) for the surrogate tree, with their segments.
    value_sums : numpy.ndarray, optional
        Total value per segment.
    reach : pandas.DataFrame, optional
        ``segment``, ``email``, ``phone``: customers reachable with consent.
    stale_share : pandas.Series, optional
        Share of stale profiles per segment.
    """
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    sizes = pd.DataFrame({"segment": range(k), "size": counts, "share": counts / max(n, 1)})
    if value_sums is not None:
        total = float(np.nansum(value_sums))
        sizes["value_share"] = np.asarray(value_sums, dtype=float) / total if total else np.nan
    table = numeric_table(stats, k, numeric)
    standardised = table.pivot(index="segment", columns="feature", values="effect").reindex(
        index=range(k), columns=numeric) if len(table) else pd.DataFrame(index=range(k))

    mixes = []
    for col in categorical:
        part = cats[cats["feature"] == col]
        overall = part.groupby("category")["n"].sum()
        overall = overall.sort_index().sort_values(ascending=False, kind="stable")
        total = max(int(overall.sum()), 1)
        by = part.set_index(["segment", "category"])["n"]
        for cat in overall.index[:TOP_CATEGORIES]:
            for s in range(k):
                mixes.append((col, cat, s, float(by.get((s, cat), 0)) / counts[s] if counts[s] else 0.0,
                              float(overall[cat]) / total))
    categorical_table = pd.DataFrame(mixes, columns=["feature", "category", "segment", "share", "overall_share"])

    rules, agreement, conditions, words = rules_of(tree_frame, tree_labels, numeric, categorical, k,
                                                   settings.tree_depth)
    suggested, traits = suggest_names(table, categorical_table, k, places, conditions, counts)
    names = {s: str(m) for s, m in suggested.items()}

    reach_table = pd.DataFrame({"segment": range(k)})
    if reach is not None:
        r = reach.set_index("segment")
        for col in ("email", "phone"):
            reach_table[col] = r[col].reindex(range(k), fill_value=0).astype(int).to_numpy()

    hints: list[Message] = []
    for row in sizes.itertuples():
        if row.share < settings.min_share:
            hints.append(message("Segment {segment} ({name}) holds {share} of customers, under {limit}: too small "
                                 "to act on; try fewer segments.", segment=row.segment, name=suggested[row.segment],
                                 share=message("{value}%", value=round(row.share * 100, 1)),
                                 limit=percent(settings.min_share)))
    z = standardised.fillna(0).to_numpy()
    for a in range(k):
        for b in range(a + 1, k):
            if counts[a] and counts[b] and len(numeric) and np.abs(z[a] - z[b]).max() < settings.alike:
                hints.append(message("Segments {a} and {b} are much alike (no measure differs by more than {sd} "
                                     "standard deviation): consider merging them, or fewer segments.",
                                     a=a, b=b, sd=settings.alike))
    if stale_share is not None:
        for s, share in stale_share.reindex(range(k)).items():
            if share > settings.stale_share:
                hints.append(message("Segment {segment} ({name}): {share} of its profiles show no activity for "
                                     "{months} months; refresh them before a campaign.", segment=int(s),
                                     name=suggested[int(s)], share=percent(share), months=settings.stale_months))
    return Profile(sizes=sizes, numeric=table, categorical=categorical_table, standardised=standardised,
                   rules=rules, agreement=agreement, names=names, reach=reach_table, hints=hints,
                   suggested=suggested, traits=traits, rule_words=words)


def build_profile(frame: pd.DataFrame, labels: np.ndarray, k: int, numeric: list[str], categorical: list[str],
                  value: str | None = None, reach: pd.DataFrame | None = None, stale: pd.Series | None = None,
                  settings: ProfileSettings = ProfileSettings(), places: frozenset[str] = frozenset()) -> Profile:
    """Profile the segments of a run from every customer (pandas summaries, then :func:`assemble`).

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
    seg = pd.Series(labels, index=frame.index, name="segment")
    counts = seg.value_counts().reindex(range(k), fill_value=0).to_numpy()
    value_sums = None
    if value is not None:
        amounts = pd.to_numeric(frame[value], errors="coerce")
        value_sums = amounts.groupby(seg).sum().reindex(range(k), fill_value=0).to_numpy()
    reach_counts = None
    if reach is not None:
        grouped = reach[["email", "phone"]].astype(bool).set_axis(frame.index).groupby(seg).sum()
        reach_counts = grouped.reindex(range(k), fill_value=0).rename_axis("segment").reset_index()
    stale_share = None
    if stale is not None:
        stale_share = pd.Series(stale.astype(bool).to_numpy(), index=frame.index).groupby(seg).mean()
    return assemble(k, counts, numeric_stats(frame, labels, numeric), category_counts(frame, labels, categorical),
                    numeric, categorical, frame, labels, value_sums, reach_counts, stale_share, settings, places)


__all__ = ["NUMERIC_STATS", "Profile", "ProfileSettings", "assemble", "build_profile", "category_counts",
           "fmt_number", "numeric_stats", "rules_of", "suggest_names", "surrogate_rules"]

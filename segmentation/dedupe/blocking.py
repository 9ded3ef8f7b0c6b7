"""Blocking: which pairs of records are compared at all (pure numpy/pandas).

*Blocking* unions several keys (e-mail, phone, postcode + surname start,
company + initial, names in any order...) and makes every pair of records
that share one; a block larger than ``max_block_size`` (a ``contact@``
address or a switchboard number shared by hundreds) is split by a second
key, or skipped, and both are counted in the stats.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .comparisons import GENERIC_LOCALS, TokenSetComparison, company_key, fold_text, map_distinct

# --------------------------------------------------------------------------
# Blocking
# --------------------------------------------------------------------------

# (name, key parts, refinements tried in turn on oversized blocks)
BLOCKING_RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("e-mail", ("email",), ("last3", "first1")),
    ("e-mail local part + area", ("email_local", "area"), ("place",)),
    ("phone", ("phone",), ("last3", "first1")),
    ("postcode + surname start + initial", ("place", "last3", "first1"), ()),
    ("company + initials", ("company", "initials"), ("last3",)),
    # First three letters, not the initial: with the initial, common names filled whole départements
    # (7.5 of 9.9 million pairs at 1M generated customers, none of them needed).
    ("surname + first name start + area", ("last", "first3", "area"), ("place",)),
    ("names in any order + area", ("name_sorted", "area"), ("place",)),
    ("birth date", ("birth_date",), ("first1", "last3")),
    ("full name + area", ("full_name", "area"), ("place",)),
]


def value_codes(values) -> np.ndarray:
    """Integer code per value, -1 when missing."""
    return pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)[0].astype(np.int64)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Code of the pair of codes (-1 if either is -1), compact."""
    out = np.full(len(a), -1, dtype=np.int64)
    ok = (a >= 0) & (b >= 0)
    out[ok] = pd.factorize(a[ok] * (int(b.max(initial=0)) + 1) + b[ok])[0]
    return out


def blocking_features(frame: pd.DataFrame, roles: dict[str, str]) -> dict[str, np.ndarray]:
    """Codes of the blocking key parts that the columns allow (see :data:`BLOCKING_RULES`)."""
    col = {r: c for c, r in reversed(roles.items())}  # first column of each role
    raw: dict[str, object] = {}
    if "email" in col:
        address = map_distinct(frame[col["email"]], lambda s: s.str.strip().str.lower())
        local = pd.Series(address, dtype=object).str.rpartition("@")[0]
        generic = local.isin(GENERIC_LOCALS).to_numpy()
        raw["email"] = np.where(generic, None, address)
        raw["email_local"] = np.where(generic | (local.str.len() < 4).to_numpy(), None, local.to_numpy(object))
    if "phone" in col:
        raw["phone"] = map_distinct(frame[col["phone"]], lambda s: s.str.replace(r"\D", "", regex=True).str[-9:])
    if "postcode" in col:
        postcode = map_distinct(frame[col["postcode"]], lambda s: s.str.upper().str.replace(" ", ""))
        raw["place"], raw["area"] = postcode, pd.Series(postcode, dtype=object).str[:2]
    elif "city" in col:
        raw["place"] = raw["area"] = map_distinct(frame[col["city"]], fold_text)
    else:  # no geography: one area for everyone
        raw["place"] = raw["area"] = np.zeros(len(frame), dtype=np.int64)
    names = {}
    for role in ("first_name", "last_name"):
        if role in col:
            names[role] = pd.Series(map_distinct(frame[col[role]], lambda s: fold_text(s).str.replace(" ", "")),
                                    dtype=object)
    if "last_name" in names:
        raw["last"], raw["last3"] = names["last_name"], names["last_name"].str[:3]
    if "first_name" in names:
        raw["first1"], raw["first3"] = names["first_name"].str[:1], names["first_name"].str[:3]
    if len(names) == 2:
        first, last = names["first_name"], names["last_name"]
        raw["name_sorted"] = first.where(first < last, last) + " " + first.where(first >= last, last)
        low, high = first.str[:1], last.str[:1]
        raw["initials"] = low.where(low < high, high) + high.where(low < high, low)
    if "company" in col:
        raw["company"] = map_distinct(frame[col["company"]], company_key)
    if "birth_date" in col:
        raw["birth_date"] = pd.to_datetime(frame[col["birth_date"]], errors="coerce", format="mixed")
    if "full_name" in col:
        raw["full_name"] = map_distinct(frame[col["full_name"]], lambda s: fold_text(s).str.split().map(
            lambda t: " ".join(sorted(t)), na_action="ignore"))
    addresses = [frame[c] for c, r in roles.items() if r == "address"]
    if addresses:
        raw["address"] = TokenSetComparison("address").prepare(*addresses)[0]
    features = {k: value_codes(v) for k, v in raw.items()}
    for column, role in roles.items():
        if role == "exact":
            features[f"exact:{column}"] = value_codes(frame[column])
    return features


def pairs_in_blocks(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Every pair (i < j) of records with the same key >= 0, without loops; also the number of blocks."""
    pos = np.flatnonzero(key >= 0)
    order = pos[np.argsort(key[pos], kind="stable")]
    k = key[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]]) if len(k) else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(k)])
    later = np.repeat(starts + sizes, sizes) - np.arange(len(k)) - 1  # records after each one in its block
    left = np.repeat(np.arange(len(k)), later)
    right = left + 1 + np.arange(len(left)) - np.repeat(np.cumsum(later) - later, later)
    a, b = order[left], order[right]
    return np.minimum(a, b), np.maximum(a, b), int((sizes >= 2).sum())


def candidate_pairs(features: dict[str, np.ndarray], n: int, max_block_size: int,
                    rules=BLOCKING_RULES) -> tuple[np.ndarray, np.ndarray, dict]:
    """Candidate pairs (positions, left < right, each once) from the union of the blocking rules.

    Returns
    -------
    left, right : numpy.ndarray
        Record positions of each pair.
    stats : dict
        ``pairs_compared``, ``blocks``, ``blocks_capped`` (oversized blocks
        split or skipped), ``blocks_skipped``, ``records_skipped``, ``rules``
        (pairs per rule) and ``note`` (the largest oversized blocks).
    """
    rules = list(rules) + [(f"same {k[6:]}", (k,), ()) for k in features if k.startswith("exact:")]
    found, per_rule, capped = [], {}, []
    stats = {"blocks": 0, "blocks_capped": 0, "blocks_skipped": 0, "records_skipped": 0}
    for name, parts, refine in rules:
        if not all(p in features for p in parts):
            continue
        key = features[parts[0]]
        for part in parts[1:]:
            key = _combine(key, features[part])
        steps = [r for r in refine if r in features and r not in parts]
        for i, step in enumerate([*steps, None]):
            sizes = np.bincount(key[key >= 0], minlength=1)
            big = np.flatnonzero(sizes > max_block_size)
            if not len(big):
                break
            in_big = (key >= 0) & np.isin(key, big)
            if i == 0:  # the blocks the user is told about
                stats["blocks_capped"] += len(big)
                capped += [(int(sizes[b]), name) for b in big]
            if step is None:  # still too big once every refinement is used: skip
                stats["blocks_skipped"] += len(big)
                stats["records_skipped"] += int(in_big.sum())
                key = np.where(in_big, -1, key)
            else:
                key = np.where(in_big, _combine(key, features[step]) + key.max() + 1, key)
                key = _combine(key, np.zeros(n, dtype=np.int64))  # compact again (-1 stays -1)
        left, right, blocks = pairs_in_blocks(key)
        stats["blocks"] += blocks
        per_rule[name] = len(left)
        found.append(left.astype(np.int64) * n + right)
    codes = np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes  # each pair once
    capped.sort(reverse=True)
    stats["note"] = "; ".join(f"{rule}: a value shared by {size:,} records" for size, rule in capped[:3])
    stats.update(pairs_compared=len(codes), rules=per_rule)
    return codes // n, codes % n, stats

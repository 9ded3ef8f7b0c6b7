"""Blocking: which pairs of records are compared at all (pure numpy/pandas).

*Blocking* unions several keys and makes every pair of records that share
one: the e-mail (or its local part), the phone's last seven digits (valid
E.164 or a local number as written), names in either order, the surname
with the first name's start (and the reverse), the full name, the company
without its legal form, the address (number + street), the birth date (day
and month either way, or with one typed digit), and the whole row. No key
needs an area: two identical "Anna Smith" rows without a postcode are
compared. The area (postcode, else city) only splits a block that is too
large: a block larger than its cap (a ``contact@`` address or a switchboard
beyond ``max_block_size``; a common name, company or street number beyond
:data:`KEY_BLOCK_SIZE`) is split by the rule's refinements in turn (a name
start, the area, the postcode...), or skipped. Oversized blocks of
identifiers are counted in the stats and named in its note; those of the
other keys are expected (``Martin`` at 1M records) and only counted.

Every key is built with any subset of its columns missing or entirely
empty (a key part that has no column, or no value, makes no key). Text work
is done once per distinct value (:class:`Coded`); keys of several parts are
combined as integer codes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .comparisons import GENERIC_LOCALS, TokenSetComparison, company_key, fold_text, raw_column

# --------------------------------------------------------------------------
# Blocking rules
# --------------------------------------------------------------------------

#: Cap of the blocks of keys that do not identify a record on their own (names, a company, an address, a birth
#: date with a typed digit): beyond it, the block is split by the rule's refinements. Identifiers (e-mail,
#: phone, the whole row, an exact identifier) are capped by ``max_block_size``.
KEY_BLOCK_SIZE = 30

#: Pairs such a key may make before its larger blocks are split by the next refinement, from the smallest blocks
#: up: at least KEY_PAIRS, or KEY_PAIRS_PER_RECORD a record. A small file is never split; at 1M records the
#: namesakes of "Marie Martin" all over France are split by area (see the kinds of :data:`BLOCKING_RULES`).
KEY_PAIRS = 10_000
KEY_PAIRS_PER_RECORD = 0.02

_AREA = ("area", "place")
_NAME = ("first1", "last3")
_NAME_WORDS = 6  # words of a company or full name that each make a key with the street number

# (name, key parts, refinements tried in turn on oversized blocks, kind): an "identifier" is capped by
# max_block_size; a "key" keeps its smallest blocks up to the pair budget, then, once split (names + area), blocks
# up to KEY_BLOCK_SIZE; a "loose" key (a surname alone) keeps at most the budget at every step.
BLOCKING_RULES: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    ("e-mail", ("email",), ("last3", "first1"), "identifier"),
    ("e-mail local part", ("email_local",), _AREA, "key"),
    ("phone", ("phone",), ("last3", "first1", "address_key", "company", *_AREA), "identifier"),
    ("names in either order", ("name_sorted",), _AREA, "key"),
    ("surname + first name start", ("last", "first3"), _AREA, "key"),
    ("first name + surname start", ("first", "last3"), _AREA, "key"),
    ("full name", ("full_name",), _AREA, "key"),
    ("surname", ("last",), ("place", "first1"), "loose"),
    ("first name", ("first",), ("place", "last3"), "loose"),
    ("company", ("company",), ("initials", "first1", "last3", "address_key", *_AREA), "key"),
    ("address (number + street)", ("address_key",), ("company_start", *_NAME, "place"), "key"),
    ("name start + street number", ("org_start", "address_number"), ("place",), "loose"),
    ("name start + street", ("org_start", "street"), ("address_number",), "loose"),
    ("a word of the name + street number", ("org_word", "address_number"), ("place",), "loose"),
    ("a word of the name + street", ("org_word", "street"), ("place",), "loose"),
    ("street number", ("address_number",), ("street", "place"), "loose"),
    ("birth date (day and month either way)", ("birth_date",), (*_NAME, *_AREA), "key"),
    ("birth date, day typed + initial", ("birth_ym", "initial"), (*_NAME, *_AREA), "loose"),
    ("birth date, month typed + initial", ("birth_yd", "initial"), (*_NAME, *_AREA), "loose"),
    ("birth date, year typed + initial", ("birth_md", "initial"), (*_NAME, *_AREA), "loose"),
    ("a name + birth year", ("name_token", "birth_y"), _AREA, "loose"),
    ("a name + birth year from July", ("name_token", "birth_y6"), _AREA, "loose"),
    ("birth year", ("birth_y",), (), "loose"),  # small files only
    ("birth year from July", ("birth_y6",), (), "loose"),
    ("same record", ("row",), (), "identifier"),
]

#: Roles whose values make up the exact-row key (what says who or where a record is).
ROW_ROLES = ("first_name", "last_name", "full_name", "company", "email", "phone", "address", "postcode", "city",
             "birth_date", "exact")

#: Words of an address that say neither which street nor which number (types, directions, articles).
STREET_WORDS = frozenset((
    "rue", "r", "avenue", "av", "ave", "boulevard", "bd", "blvd", "bvd", "chemin", "ch", "che", "allee", "all",
    "impasse", "imp", "place", "pl", "route", "rte", "quai", "square", "sq", "cours", "passage", "pas", "sentier",
    "voie", "lieu", "dit", "lotissement", "lot", "residence", "res", "cite", "hameau", "zone", "za", "zi", "parc",
    "de", "du", "des", "la", "le", "les", "l", "d", "et", "au", "aux", "en", "sur", "sous",
    "street", "st", "road", "rd", "drive", "dr", "lane", "ln", "court", "ct", "way", "terrace", "tce", "crescent",
    "cres", "circuit", "cct", "close", "parade", "pde", "highway", "hwy", "grove", "gr", "parkway", "pkwy",
    "esplanade", "mews", "row", "walk", "n", "s", "e", "w", "ne", "nw", "se", "sw", "north", "south", "east",
    "west", "the", "of", "and", "suite", "ste", "unit", "apt", "apartment", "floor", "fl", "bldg", "building", "po",
    "box", "bp", "cedex", "bis", "ter", "quater",
))


def value_codes(values) -> np.ndarray:
    """Integer code per value, -1 when missing."""
    return pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)[0].astype(np.int64)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Code of the pair of codes (-1 if either is -1), compact."""
    out = np.full(len(a), -1, dtype=np.int64)
    ok = (a >= 0) & (b >= 0)
    out[ok] = pd.factorize(a[ok] * (int(b.max(initial=0)) + 1) + b[ok])[0]
    return out


class Coded:
    """A column of text as codes (-1: missing) into its distinct values: text work runs once per value.

    Parameters
    ----------
    codes : numpy.ndarray
        One int64 code per record, -1 where missing.
    values : numpy.ndarray
        The distinct values (object), indexed by code.
    """

    __slots__ = ("codes", "values")

    def __init__(self, codes: np.ndarray, values: np.ndarray):
        self.codes, self.values = codes, values

    @classmethod
    def of(cls, values) -> Coded:
        """Code a column (a Series or an array; missing and empty text are missing)."""
        series = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        coded = cls(codes.astype(np.int64), np.asarray(uniques, dtype=object))
        if len(uniques) and (coded.values == "").any():  # empty text: missing too
            return coded.derive(coded.values)
        return coded

    @classmethod
    def empty(cls, n: int) -> Coded:
        """A column of ``n`` missing values."""
        return cls(np.full(n, -1, dtype=np.int64), np.zeros(0, dtype=object))

    def map(self, func) -> Coded:
        """``func`` (str Series -> Series) on the distinct values; a missing or empty result is missing."""
        if not len(self.values):
            return Coded.empty(len(self.codes))
        return self.derive(func(pd.Series(self.values, dtype=object).astype(str)))

    def derive(self, done) -> Coded:
        """The column whose value is ``done[i]`` where this one's is ``values[i]``."""
        done = pd.Series(np.asarray(done, dtype=object), dtype=object)
        done = done.where(done.notna() & done.ne(""), None)
        sub, uniques = pd.factorize(done, use_na_sentinel=True)
        sub = np.r_[sub.astype(np.int64), -1]  # code -1 takes the last entry: missing
        return Coded(sub[self.codes], np.asarray(uniques, dtype=object))

    def fill(self, other: Coded) -> Coded:
        """These values, ``other``'s where these are missing."""
        values = np.concatenate([self.values, other.values])
        sub, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
        sub = np.r_[sub.astype(np.int64), -1]
        mine = sub[np.where(self.codes >= 0, self.codes, -1)]
        theirs = sub[np.where(other.codes >= 0, other.codes + len(self.values), -1)]
        return Coded(np.where(mine >= 0, mine, theirs), np.asarray(uniques, dtype=object))


def _shared(*columns: Coded) -> list[np.ndarray]:
    """Codes of several columns in one vocabulary (``"martin"`` has one code as a first name and a surname)."""
    sub, _ = pd.factorize(pd.Series(np.concatenate([c.values for c in columns]), dtype=object), use_na_sentinel=True)
    out, start = [], 0
    for c in columns:
        table = np.r_[sub[start:start + len(c.values)].astype(np.int64), -1]
        out.append(table[c.codes])
        start += len(c.values)
    return out


def _first_column(roles: dict[str, str], frame: pd.DataFrame) -> dict[str, str]:
    """Role -> its first column present in ``frame``."""
    col: dict[str, str] = {}
    for column, role in roles.items():
        if column in frame.columns:
            col.setdefault(role, column)
    return col


def _with_raw(frame: pd.DataFrame, column: str) -> Coded:
    """The column's normalised values, its text as written where those are missing (when the frame has it)."""
    coded = Coded.of(frame[column])
    raw = raw_column(column)
    return coded.fill(Coded.of(frame[raw])) if raw in frame.columns else coded


def _letters(values: pd.Series) -> pd.Series:
    """Letters and digits of each text in alphabetical order (``"Mliie"`` and ``"millie"`` -> ``"eiilm"``)."""
    return values.str.lower().str.replace(r"[^a-z0-9]+", "", regex=True).map(lambda t: "".join(sorted(t)))


def _phone_key(values: pd.Series) -> pd.Series:
    """The last seven digits of any text with at least seven (E.164 or a local number, as written)."""
    digits = values.str.replace(r"\D", "", regex=True)
    return digits.where(digits.str.len() >= 7).str[-7:]


def _first_word(values: pd.Series) -> pd.Series:
    """The first word of three letters or more (``"El Hogar del Nino"`` -> ``"hogar"``)."""
    return fold_text(values).str.extract(r"\b([a-z0-9]{3,})\b", expand=False)


def _words(values: pd.Series) -> pd.Series:
    """The distinct words of three letters or more, in order, joined by spaces."""
    return fold_text(values).str.findall(r"\b[a-z]{3,}\b").map(lambda w: " ".join(dict.fromkeys(w)))


def _address_parts(address: Coded) -> tuple[Coded, Coded]:
    """``"12 bis, Rue de la Paix"`` -> number ``"12"``, street ``"paix"``: the first number, then the street's first
    telling word (a number too: ``"124 E 113th St"`` -> ``"113"``); ordinals lose their ending."""
    tokens = fold_text(pd.Series(address.values, dtype=object).astype(str)).str.replace(
        r"\b(\d+)(?:st|nd|rd|th|e|er|eme|bis|ter)\b", r"\1", regex=True).str.split()

    def parts(words):
        number = next((w for w in words if w.isdigit()), None)
        rest = words[words.index(number) + 1:] if number is not None else words
        street = next((w for w in rest if w not in STREET_WORDS and (w.isdigit() or len(w) >= 3)), None)
        return None if number is None else str(int(number)), street

    found = [parts(w) for w in tokens]
    return address.derive([f[0] for f in found]), address.derive([f[1] for f in found])


def blocking_features(frame: pd.DataFrame, roles: dict[str, str]) -> dict[str, np.ndarray]:
    """Codes of the blocking key parts that the columns allow (see :data:`BLOCKING_RULES`), -1 where missing.

    Roles naming a column absent from ``frame`` are left out; a column with no value gives no key. A feature
    of shape ``(k, n)`` gives each record up to ``k`` keys (its first name and its surname).
    """
    col = _first_column(roles, frame)
    n = len(frame)
    coded: dict[str, Coded] = {}
    codes: dict[str, np.ndarray] = {}
    if "email" in col:
        address = _with_raw(frame, col["email"]).map(lambda s: s.str.strip().str.lower())
        local = address.map(lambda s: s.where(s.str.contains("@", regex=False)).str.replace(r"@[^@]*$", "", regex=True))
        generic = np.r_[pd.Series(local.values, dtype=object).isin(GENERIC_LOCALS).to_numpy(), False][local.codes]
        codes["email"] = np.where(generic, -1, address.codes)
        codes["email_local"] = np.where(generic, -1, local.map(lambda s: s.where(s.str.len() >= 4)).codes)
    phones = [c for c, r in roles.items() if r == "phone" and c in frame.columns]
    if phones:
        phone = _with_raw(frame, phones[0]).map(_phone_key)
        for other in phones[1:]:  # a second phone column fills the first one's gaps
            phone = phone.fill(_with_raw(frame, other).map(_phone_key))
        coded["phone"] = phone
    place = None
    if "postcode" in col:
        place = Coded.of(frame[col["postcode"]]).map(lambda s: s.str.upper().str.replace(" ", ""))
        area = place.map(lambda s: s.str[:2])
    if "city" in col:  # the city where there is no postcode
        city = Coded.of(frame[col["city"]]).map(fold_text)
        place, area = (city, city) if place is None else (place.fill(city), area.fill(city))
    if place is not None:
        coded["place"], coded["area"] = place, area
    _name_keys(coded, codes, frame, col, n)
    if "company" in col:
        coded["company"] = Coded.of(frame[col["company"]]).map(company_key)
        coded["company_start"] = coded["company"].map(lambda s: s.str.split().str[0])
    if "birth_date" in col:
        codes.update(_date_keys(frame[col["birth_date"]]))
    if "full_name" in col:
        coded["full_name"] = Coded.of(frame[col["full_name"]]).map(
            lambda s: fold_text(s).str.split().map(lambda t: " ".join(sorted(t)), na_action="ignore"))
        if "initial" not in codes:
            codes["initial"] = coded["full_name"].map(lambda s: s.str[:1]).codes
    addresses = [c for c, r in roles.items() if r == "address" and c in frame.columns]
    if addresses:
        coded["address"] = Coded.of(TokenSetComparison("address").prepare(*(frame[c] for c in addresses))[0])
        number, street = _address_parts(_joined(frame, addresses))
        coded["address_number"], coded["street"] = number, street
        codes["address_key"] = _combine(number.codes, street.codes)
        organisation = next((col[r] for r in ("company", "full_name") if r in col), None)
        if organisation:
            name = Coded.of(frame[organisation])
            coded["org_start"] = name.map(_first_word)
            words = name.map(_words)
            codes["org_word"] = np.stack(_shared(*(words.map(lambda s, i=i: s.str.split(" ").str[i])
                                                   for i in range(_NAME_WORDS))))
    row = _row_key(frame, roles)
    if row is not None:
        codes["row"] = row
    features = {k: v.codes for k, v in coded.items()}
    features.update(codes)
    for column, role in roles.items():
        if role == "exact" and column in frame.columns:
            exact = Coded.of(frame[column])
            features[f"exact:{column}"] = exact.codes
            features[f"exact_letters:{column}"] = exact.map(_letters).codes  # two digits swapped
    return features


def _name_keys(coded: dict, codes: dict, frame: pd.DataFrame, col: dict[str, str], n: int) -> None:
    """Keys of the first name and surname: each, their starts, both in either order, the initials."""
    names = {role: Coded.of(frame[col[role]]).map(lambda s: fold_text(s).str.replace(" ", ""))
             for role in ("first_name", "last_name") if role in col}
    if not names:
        return
    first, last = names.get("first_name", Coded.empty(n)), names.get("last_name", Coded.empty(n))
    first1, last1 = first.map(lambda s: s.str[:1]), last.map(lambda s: s.str[:1])
    if "last_name" in names:
        coded["last"], coded["last3"] = last, last.map(lambda s: s.str[:3])
    if "first_name" in names:
        coded["first"], coded["first1"], coded["first3"] = first, first1, first.map(lambda s: s.str[:3])
    codes["name_token"] = np.stack(_shared(*(v.map(_letters) for v in names.values())))
    fc, lc = _shared(first1, last1)
    codes["initial"] = np.where(lc >= 0, lc, fc)
    if len(names) == 2:  # one vocabulary for both columns: "Martin Paul" and "Paul Martin" get one key
        codes["initials"] = _combine(np.minimum(fc, lc), np.maximum(fc, lc))
        fc, lc = _shared(first, last)
        codes["name_sorted"] = _combine(np.minimum(fc, lc), np.maximum(fc, lc))


def _joined(frame: pd.DataFrame, columns: list[str]) -> Coded:
    """The columns' texts joined by spaces, row by row."""
    if len(columns) == 1:
        return Coded.of(frame[columns[0]]).map(lambda s: s.str.strip())
    parts = [pd.Series(frame[c].to_numpy(object), dtype=object).fillna("").astype(str) for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + " " + part
    return Coded.of(joined).map(lambda s: s.str.strip())


def _compact(values: np.ndarray) -> np.ndarray:
    """Codes 0..k-1 of the non-negative integers, -1 elsewhere."""
    out = np.full(len(values), -1, dtype=np.int64)
    ok = values >= 0
    out[ok] = pd.factorize(values[ok])[0]
    return out


def _date_keys(values: pd.Series) -> dict[str, np.ndarray]:
    """Birth-date keys: the date with day and month either way, its year (from January, and from July), and the
    date less its year, month or day (one typed digit changes only one of them)."""
    dates = pd.to_datetime(pd.Series(values.to_numpy(object), dtype=object), errors="coerce", format="mixed")
    ok = dates.notna().to_numpy()
    y = np.where(ok, dates.dt.year.fillna(0).to_numpy(np.int64), -1)
    m = np.where(ok, dates.dt.month.fillna(0).to_numpy(np.int64), -1)
    d = np.where(ok, dates.dt.day.fillna(0).to_numpy(np.int64), -1)
    lo, hi = np.minimum(m, d), np.maximum(m, d)
    found = {"birth_date": y * 10_000 + lo * 100 + hi, "birth_ym": y * 100 + m, "birth_yd": y * 100 + d,
             "birth_md": m * 100 + d, "birth_y": y,
             "birth_y6": y + (m >= 7)}  # two dates less than six months apart share one of the two years
    return {k: _compact(np.where(ok, v, -1)) for k, v in found.items()}


def _row_key(frame: pd.DataFrame, roles: dict[str, str]) -> np.ndarray | None:
    """Code of the whole row's telling values as normalised (at least two of them); None without such columns."""
    columns = [c for c, r in roles.items() if r in ROW_ROLES and c in frame.columns]
    if not columns:
        return None
    key, present = np.zeros(len(frame), dtype=np.int64), np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        code = Coded.of(frame[column]).codes
        present += code >= 0
        key = _combine(key, code + 1)  # missing is a value here (0): rows agree on what they lack
    return np.where(present >= 2, key, -1)


# --------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------

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


def _budget_cap(key: np.ndarray, cap: int, budget: int) -> int:
    """The largest block size up to ``cap`` whose blocks (and all smaller ones) make at most ``budget`` pairs."""
    sizes = np.bincount(np.bincount(key[key >= 0]), minlength=cap + 1)[:cap + 1]  # blocks of each size
    pairs = np.cumsum(sizes * np.arange(cap + 1) * (np.arange(cap + 1) - 1) // 2)
    within = np.flatnonzero(pairs <= budget)
    return int(max(within[-1], 1)) if len(within) else 1


def _spread(features: dict[str, np.ndarray], copies: int):
    """Key part -> one code per (copy, record): a feature of shape (k, n) flattened, others repeated."""
    def part(key: str) -> np.ndarray:
        value = features[key]
        return value.ravel() if np.ndim(value) == 2 else np.tile(value, copies)
    return part


def candidate_pairs(features: dict[str, np.ndarray], n: int, max_block_size: int,
                    rules=BLOCKING_RULES) -> tuple[np.ndarray, np.ndarray, dict]:
    """Candidate pairs (positions, left < right, each once) from the union of the blocking rules.

    Parameters
    ----------
    features : dict of str to numpy.ndarray
        Key-part codes (:func:`blocking_features`).
    n : int
        Records.
    max_block_size : int
        Records sharing one identifier beyond which its block is split by
        the rule's refinements, or skipped (other keys: at most
        :data:`KEY_BLOCK_SIZE`).
    rules : list of tuple
        ``(name, parts, refinements)`` (an identifier) or ``(name, parts,
        refinements, kind)``, kind ``"identifier"``, ``"key"`` or
        ``"loose"`` (see :data:`BLOCKING_RULES`).

    Returns
    -------
    left, right : numpy.ndarray
        Record positions of each pair.
    stats : dict
        ``pairs_compared``, ``blocks``, ``blocks_capped`` (oversized blocks
        of identifiers split or skipped), ``blocks_skipped``,
        ``records_skipped``, ``weak_blocks_skipped`` (blocks of other keys
        still too large once split), ``rules`` (pairs per rule) and ``note``
        (the largest oversized blocks of identifiers).
    """
    rules = list(rules) + [(f"same {k[6:]}", (k,), ()) for k in features if k.startswith("exact:")] + [
        (f"same {k[14:]}, characters in any order", (k,), ("place", "first1"), "loose")
        for k in features if k.startswith("exact_letters:")]
    found, per_rule, capped = [], {}, []
    stats = {"blocks": 0, "blocks_capped": 0, "blocks_skipped": 0, "records_skipped": 0, "weak_blocks_skipped": 0}
    for name, parts, refine, *kind in rules:
        if not all(p in features for p in parts):
            continue
        kind = kind[0] if kind else "identifier"
        weak = kind != "identifier"
        cap = min(max_block_size, KEY_BLOCK_SIZE) if weak else max_block_size
        # A feature of shape (k, n) gives each record up to k keys (its first name and its surname...).
        copies = max(len(features[p]) if np.ndim(features[p]) == 2 else 1 for p in parts)
        part = _spread(features, copies)

        key = part(parts[0])
        for p in parts[1:]:
            key = _combine(key, part(p))
        steps = [r for r in refine if r in features and r not in parts]
        budget = max(KEY_PAIRS, int(KEY_PAIRS_PER_RECORD * n))
        settled = np.zeros(len(key), dtype=bool)  # in a block kept at an earlier step
        for i, step in enumerate([*steps, None]):
            active = (key >= 0) & ~settled
            limit = _budget_cap(np.where(active, key, -1), cap, budget) if kind == "loose" or (
                kind == "key" and i == 0) else cap
            sizes = np.bincount(key[active], minlength=1)
            big = np.flatnonzero(sizes > limit)
            in_big = active & np.isin(key, big)
            settled |= active & ~in_big
            if not len(big):
                break
            if weak:  # expected of a weak key (a common first name): not worth telling
                if step is None:
                    stats["weak_blocks_skipped"] += len(big)
            elif i == 0:  # the blocks the user is told about
                stats["blocks_capped"] += len(big)
                capped += [(int(sizes[b]), name) for b in big]
            if step is None:  # still too big once every refinement is used: skip
                if not weak:
                    stats["blocks_skipped"] += len(big)
                    stats["records_skipped"] += int(in_big.sum())
                key = np.where(in_big, -1, key)
            else:
                refined = _combine(key, part(step))  # -1 where the refinement is missing: out of the block
                key = np.where(in_big, np.where(refined >= 0, refined + key.max() + 1, -1), key)
                key = _combine(key, np.zeros(len(key), dtype=np.int64))  # compact again (-1 stays -1)
        left, right, blocks = pairs_in_blocks(key)
        if copies > 1:
            left, right = left % n, right % n
            keep = left != right
            left, right = np.minimum(left[keep], right[keep]), np.maximum(left[keep], right[keep])
        stats["blocks"] += blocks
        pair_codes = np.unique(left.astype(np.int64) * n + right) if copies > 1 else left.astype(np.int64) * n + right
        per_rule[name] = len(pair_codes)
        found.append(pair_codes)
    codes = np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    codes = codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes  # each pair once
    capped.sort(reverse=True)
    stats["note"] = "; ".join(f"{rule}: a value shared by {size:,} records" for size, rule in capped[:3])
    stats.update(pairs_compared=len(codes), rules=per_rule)
    return codes // n, codes % n, stats

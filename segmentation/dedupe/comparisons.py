"""Field comparisons of the matching engine: two aligned arrays of values in, discrete levels out.

Each comparison reads the columns of one or two roles, cleans them once per
record (:meth:`Comparison.prepare`), then turns aligned left/right values
into a level (:meth:`Comparison.compare`): the highest level is the
strongest agreement, ``0`` means different, :data:`MISSING` (``-1``)
means a side (or both) has no value and :data:`NOT_COMPARED` (``-2``) that
both have one but this comparison leaves it aside (a last name that the
full-name comparison judges already, a role mailbox, an e-mail made of
the names): neither helps nor hurts a pair. Scores
come from rapidfuzz's ``process.cpdist``, which compares two aligned lists
element by element in C, so no comparison loops over pairs in Python.

Each class also carries prior probabilities of its levels for a true
match (``m_prior``), a random pair (``u_prior``) and two different people
of one organisation or household (``c_prior``): the starting point that
:mod:`segmentation.matching` refines from the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Levenshtein

from ..ingest.roles import ROLES

MISSING = -1
NOT_COMPARED = -2

#: What each kind of level says, for reasons in words (see :meth:`Comparison.level_kinds`).
LEVEL_KINDS = ("same", "close", "partial", "different", "missing", "not compared")


def raw_column(column: str) -> str:
    """Name of the column holding ``column``'s value as written, beside its normalised one.

    The matcher compares an e-mail or a phone that did not normalise (an
    address without a domain, a seven-digit local number) on that text.
    """
    return f"{column} (as written)"

#: Words of company names that say nothing about which company it is.
LEGAL_FORMS = ("sas", "sasu", "sarl", "sarlu", "sa", "eurl", "sci", "snc", "selarl", "scop", "ste", "societe",
               "ltd", "limited", "inc", "gmbh", "llc", "plc", "corp", "bv", "ag", "srl")
_LEGAL = r"\b(?:" + "|".join(LEGAL_FORMS) + r")\b"

#: Local parts of shared role mailboxes: they name a service, not a person.
GENERIC_LOCALS = frozenset((
    "contact", "contacts", "info", "infos", "information", "accueil", "admin", "administration", "bonjour",
    "hello", "hi", "office", "mail", "email", "courrier", "sales", "vente", "ventes", "commercial", "commerciale",
    "compta", "comptabilite", "accounting", "facturation", "factures", "billing", "invoice", "invoices",
    "direction", "secretariat", "support", "service", "serviceclient", "sav", "rh", "hr", "jobs", "emploi",
    "recrutement", "careers", "marketing", "communication", "presse", "press", "noreply", "no-reply", "webmaster",
    "postmaster", "team", "equipe", "reception", "standard", "boutique", "magasin", "shop", "agence", "cabinet",
    "atelier",
))


# --------------------------------------------------------------------------
# Vectorised helpers
# --------------------------------------------------------------------------

def map_distinct(values: pd.Series, func) -> np.ndarray:
    """Apply a vectorised ``func`` (str Series -> Series) once per distinct value.

    Returns an object array aligned with ``values``; ``None`` where the value
    or the result is missing or empty.
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    if len(uniques) == 0:
        return np.full(len(codes), None, dtype=object)
    done = pd.Series(func(pd.Series(uniques, dtype=object).astype(str))).astype(object)
    done = np.asarray(done.where(done.notna() & done.ne(""), None), dtype=object)
    return np.where(codes >= 0, done[np.maximum(codes, 0)], None)


def fold_text(values: pd.Series) -> pd.Series:
    """Lower case, no accents, punctuation to single spaces: ``"Jean-Pierre D'ÉTÉ"`` -> ``"jean pierre d ete"``."""
    text = values.str.replace("œ", "oe").str.replace("Œ", "Oe").str.replace("æ", "ae").str.replace("ß", "ss")
    text = text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").str.lower()
    return text.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()


def company_key(values: pd.Series) -> pd.Series:
    """Folded company name without legal forms, tokens sorted: ``"Sté DUPONT S.A.S."`` -> ``"dupont"``."""
    text = values.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").str.lower()
    text = text.str.replace(r"(?<=\b[a-z])\.", "", regex=True)  # S.A.S. -> sas before punctuation goes
    text = text.str.replace(r"[^a-z0-9&]+", " ", regex=True).str.replace(_LEGAL, " ", regex=True)
    return text.str.split().map(lambda tokens: " ".join(sorted(tokens)), na_action="ignore")


def _present(*arrays: np.ndarray) -> np.ndarray:
    """Where every array has a value (prepared arrays hold None, or NaN for numbers, when missing)."""
    mask = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        mask &= ~np.isnan(a) if a.dtype.kind == "f" else np.not_equal(a, None)
    return mask


def _vocabulary(*arrays: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """A code per string, shared by the arrays (0: missing), and the strings by code."""
    codes, uniques = pd.factorize(np.concatenate(arrays).astype(object), use_na_sentinel=True)
    return np.split(codes + 1, np.cumsum([len(a) for a in arrays])[:-1]), np.array(["", *uniques], dtype=object)


def _code_scores(a: np.ndarray, b: np.ndarray, text: np.ndarray, scorer, workers: int) -> np.ndarray:
    """``scorer`` of the strings of aligned codes, each distinct pair of codes once."""
    inverse, pairs = pd.factorize(a.astype(np.int64) * len(text) + b)
    if not len(pairs):
        return np.zeros(0, dtype=np.float32)
    found = process.cpdist(text[pairs // len(text)], text[pairs % len(text)], scorer=scorer, workers=workers)
    return np.asarray(found)[inverse]


def _similarity(left: np.ndarray, right: np.ndarray, scorer, workers: int) -> np.ndarray:
    """Element-wise ``scorer`` of two aligned object arrays ("" if missing)."""
    text = lambda a: np.where(np.not_equal(a, None), a, "")  # noqa: E731
    return np.asarray(process.cpdist(text(left), text(right), scorer=scorer, workers=workers))


def _bands(score: np.ndarray, exact: np.ndarray, cuts: Sequence[float], present: np.ndarray) -> np.ndarray:
    """Levels from a score: ``len(cuts) + 1`` for exact, then one level per cut passed, 0 below the last."""
    level = np.zeros(len(score), dtype=np.int8)
    for i, cut in enumerate(sorted(cuts)):
        level[score >= cut] = i + 1
    level[exact] = len(cuts) + 1
    level[~present] = MISSING
    return level


# --------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------

class Comparison:
    """Base class: a field comparison bound to the columns of its roles.

    Parameters
    ----------
    columns : sequence of str, optional
        The column of each role of :attr:`roles`, in order; defaults to the
        role names (handy on frames with role-named columns).
    role : str, optional
        For comparisons that apply to any role of a kind (dates, exact).
    unless : sequence of str, optional
        Roles whose columns follow in ``columns``: a pair is compared only
        where none of them has a value on both sides (``gate="present"``) or
        the same value (``gate="same"``: a city only where postcodes do not
        agree), so that one fact is not counted twice.
    """

    gate = "present"

    roles: tuple[str, ...] = ()
    method = ""
    levels_desc: tuple[str, ...] = ()  # level names, highest first; level 0 is the last
    kinds_desc: tuple[str, ...] = ()   # kind of each level (LEVEL_KINDS), highest first; default same/close/different
    other_person: tuple[int, ...] = ()  # levels of a person-name comparison at which two records are two people
    tf = False                         # agreement on a frequent value is weaker evidence
    m_fixed: tuple[int, ...] = ()      # levels whose m stays at its prior: what a duplicate cannot look like
    c_fixed: tuple[int, ...] = ()      # levels whose c stays at its prior: what two people cannot share
    m_prior: tuple[float, ...] = ()    # per level, 0 first
    u_prior: tuple[float, ...] = ()
    c_prior: tuple[float, ...] = ()

    def __init__(self, columns: Sequence[str] | None = None, role: str | None = None, unless: Sequence[str] = ()):
        self.unless = tuple(unless)
        self.roles = ((role,) if role else self.roles) + self.unless
        self.columns = tuple(columns) if columns else self.roles

    @property
    def name(self) -> str:
        """Column of the pair table that holds this comparison's level (its first column)."""
        return self.columns[0]

    @property
    def label(self) -> str:
        """What the page shows: ``"Last name: Jaro-Winkler"``."""
        text = f"{ROLES.get(self.roles[0], self.roles[0].replace('_', ' ').capitalize())}: {self.method}"
        word = "other" if self.gate == "same" else "no"
        gates = " or ".join(ROLES.get(r, r).lower() for r in self.unless)
        return text + (f" (if {word} {gates})" if self.unless else "")

    @property
    def n_levels(self) -> int:
        return len(self.levels_desc)

    def level_names(self) -> dict[int, str]:
        """Level -> description, missing (one side or both empty) and not compared included."""
        top = self.n_levels - 1
        return {top - i: text for i, text in enumerate(self.levels_desc)} | {MISSING: "missing",
                                                                             NOT_COMPARED: "not compared"}

    def level_kinds(self) -> dict[int, str]:
        """Level -> its kind, one of :data:`LEVEL_KINDS` (``"same"``, ``"close"``, ``"different"``...)."""
        top = self.n_levels - 1
        kinds = self.kinds_desc or ("same", *["close"] * (self.n_levels - 2), "different")
        return {top - i: kind for i, kind in enumerate(kinds)} | {MISSING: "missing", NOT_COMPARED: "not compared"}

    def prepare(self, *columns: pd.Series) -> tuple[np.ndarray, ...]:
        """Cleaned values, one object array per input, ``None`` when missing."""
        return tuple(map_distinct(c, fold_text) for c in columns)

    def compare(self, left: tuple[np.ndarray, ...], right: tuple[np.ndarray, ...], workers: int = -1) -> np.ndarray:
        """Levels (int8) of aligned prepared values (tuples as :meth:`prepare` returns)."""
        raise NotImplementedError

    def prepare_all(self, *columns: pd.Series) -> tuple[np.ndarray, ...]:
        """:meth:`prepare` of the own columns, then the folded values of the ``unless`` columns."""
        own = len(columns) - len(self.unless)
        out = tuple(self.prepare(*columns[:own])) + tuple(map_distinct(c, fold_text) for c in columns[own:])
        return tuple(np.where(pd.isna(a), None, a) if a.dtype == object else a for a in map(np.asarray, out))

    def compare_all(self, left: tuple[np.ndarray, ...], right: tuple[np.ndarray, ...], workers: int = -1) -> np.ndarray:
        """:meth:`compare`, not compared where an ``unless`` column has a value (the same value) on both sides."""
        own = len(left) - len(self.unless)
        level = np.asarray(self.compare(left[:own], right[:own], workers), dtype=np.int8)
        for j in range(own, len(left)):
            silent = _present(left[j], right[j]) & ((left[j] == right[j]) if self.gate == "same" else True)
            level = np.where(silent & (level != MISSING), NOT_COMPARED, level).astype(np.int8)
        return level

    def tf_values(self, prepared: tuple[np.ndarray, ...]) -> dict[int, np.ndarray]:
        """Level -> the value per record whose frequency is that level's u for the pair (term frequency)."""
        return {self.n_levels - 1: prepared[0]} if self.tf else {}

    def levels(self, left, right, workers: int = -1) -> np.ndarray:
        """Compare raw values: list-likes for one role, a mapping/frame role -> list-like for two.

        Examples
        --------
        >>> PostcodeComparison().levels(["75001", "69001", None], ["75001", "69003", "13001"]).tolist()
        [2, 1, -1]
        """
        def inputs(side):
            if len(self.roles) == 1 and not isinstance(side, Mapping | pd.DataFrame):
                return (pd.Series(list(side), dtype=object),)
            return tuple(pd.Series(list(side[r]), dtype=object) for r in self.roles)
        return self.compare_all(self.prepare_all(*inputs(left)), self.prepare_all(*inputs(right)), workers)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self.columns)})"


def _name_scores(a: np.ndarray, b: np.ndarray, text: np.ndarray, workers: int) -> np.ndarray:
    score = _code_scores(a, b, text, JaroWinkler.normalized_similarity, workers)
    i = np.flatnonzero((score >= 0.5) & (score < 0.92))
    if len(i):
        edits = _code_scores(a[i], b[i], text, DamerauLevenshtein.distance, workers)
        plain = _code_scores(a[i], b[i], text, Levenshtein.distance, workers)
        longest = np.maximum(*(np.array([len(t) for t in text])[c[i]] for c in (a, b)))
        slip = np.where((edits == 1) & (plain == 2), 0.92, np.where((edits == 1) & (longest >= 3), 0.80, 0.0))
        score[i] = np.maximum(score[i], slip)
    return score


def name_similarity(left: np.ndarray, right: np.ndarray, workers: int = -1) -> np.ndarray:
    """Jaro-Winkler of folded names, raised for one typing slip that it judges too harshly on short names.

    Two swapped letters (``zoe``/``zeo``) count as very close (0.92), any
    other single edit of a name of three letters or more as close (0.80).
    Each distinct pair of names is scored once.
    """
    (a, b), text = _vocabulary(left, right)
    return _name_scores(a, b, text, workers)


class NameComparison(Comparison):
    """First and last name together by Jaro-Winkler, in either order (first/last swapped in one record).

    Judging both names at once keeps "same last name, another first name"
    (relatives, colleagues of a family firm) apart from a real duplicate.
    """

    roles = ("first_name", "last_name")
    method = "Jaro-Winkler, either order"
    levels_desc = ("same names", "both very close (≥ 0.92)", "both close (≥ 0.80)", "same last name only",
                   "same first name only", "different")
    kinds_desc = ("same", "close", "close", "partial", "partial", "different")
    other_person = (0, 1, 2, 3, 4)  # two people: any name that is not the same
    tf = True  # a frequent full name (Marie Martin) is weaker evidence
    # Two people seldom share both names; how often a duplicate's names differ (typed in the wrong boxes,
    # scrambled, a nickname) is learned from the data, starting from the prior.
    c_fixed = (3, 4, 5)
    m_prior, u_prior, c_prior = (0.01, 0.005, 0.01, 0.04, 0.08, 0.855), (0.95, 0.03, 0.015, 0.004, 1e-4, 5e-5), \
        (0.6, 0.05, 0.33, 0.015, 0.003, 0.002)

    @property
    def name(self) -> str:
        return " + ".join(self.columns)

    @property
    def label(self) -> str:
        return f"Name: {self.method}"

    def tf_values(self, prepared):
        first, last = (pd.Series(p, dtype=object) for p in prepared)
        return {5: (first.where(first < last, last) + " " + first.where(first >= last, last)).to_numpy(object)}

    def compare(self, left, right, workers=-1):
        (lf, ll, rf, rl), text = _vocabulary(left[0], left[1], right[0], right[1])
        first, last = _name_scores(lf, rf, text, workers), _name_scores(ll, rl, text, workers)
        i = np.flatnonzero(np.minimum(first, last) < 0.92)  # crosswise where the straight reading is poor
        cross_first, cross_last = _name_scores(lf[i], rl[i], text, workers), _name_scores(ll[i], rf[i], text, workers)
        swapped = (np.minimum(cross_first, cross_last) >= 0.80) & (cross_first + cross_last > first[i] + last[i])
        first[i[swapped]], last[i[swapped]] = cross_first[swapped], cross_last[swapped]
        level = np.select([(first >= 1) & (last >= 1), (first >= .92) & (last >= .92), (first >= .8) & (last >= .8),
                           last >= .92, first >= .92], [5, 4, 3, 2, 1], 0)
        return np.where(_present(*left, *right), level, MISSING).astype(np.int8)


class JaroWinklerComparison(Comparison):
    """One short text by Jaro-Winkler after folding: a city, a lone first or last name column.

    A last name ``unless="first_name"`` covers the records without a first
    name, which :class:`NameComparison` leaves out (and a first name
    ``unless="last_name"`` those without a last name): the name parts that
    are present are compared.
    """

    method = "Jaro-Winkler"

    def __init__(self, role: str = "city", columns: Sequence[str] | None = None, unless: Sequence[str] = ()):
        super().__init__(columns, role, unless)
        if role == "city":
            self.levels_desc, self.cuts = ("exact", "close (≥ 0.90)", "different"), (0.90,)
            self.m_prior, self.u_prior, self.c_prior = (0.03, 0.04, 0.93), (0.985, 0.005, 0.01), (0.03, 0.02, 0.95)
        else:  # a name
            self.levels_desc, self.cuts = ("exact", "very close (≥ 0.92)", "close (≥ 0.80)", "different"), (.8, .92)
            self.m_prior, self.u_prior, self.c_prior = (0.02, 0.04, 0.08, 0.86), (0.96, 0.02, 0.015, 0.005), \
                (0.6, 0.03, 0.02, 0.35)
            self.tf, self.other_person = True, (0, 1, 2)

    def compare(self, left, right, workers=-1):
        score = (_similarity(left[0], right[0], JaroWinkler.normalized_similarity, workers) if self.roles[0] == "city"
                 else name_similarity(left[0], right[0], workers))
        return _bands(score, score >= 1.0, self.cuts, _present(left[0], right[0]))


class TokenSetComparison(Comparison):
    """Free text of several words by token-set ratio (addresses, full names): word order does not matter."""

    method = "token-set ratio"
    levels_desc = ("same words", "very close (≥ 90)", "close (≥ 75)", "different")
    cuts = (75.0, 90.0)
    m_prior, u_prior, c_prior = (0.1, 0.05, 0.15, 0.7), (0.988, 0.01, 0.001, 0.001), (0.3, 0.1, 0.1, 0.5)

    def __init__(self, role: str = "address", columns: Sequence[str] | None = None):
        super().__init__(columns, role)
        if role == "full_name":
            self.other_person = (0, 1)

    def prepare(self, *columns):
        """Folded words, sorted; the folded text without spaces (``mckinleycircuit``, ``bat h pace``); each part."""
        parts = [pd.Series(c, dtype=object).reset_index(drop=True).fillna("").astype(str) for c in columns]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + " " + part
        folded = map_distinct(joined.str.strip(), fold_text)
        words = pd.Series(folded, dtype=object).str.split().map(lambda t: " ".join(sorted(t)), na_action="ignore")
        each = tuple(map_distinct(part.str.strip(), fold_text) for part in parts) if len(parts) > 1 else ()
        return words.to_numpy(object), pd.Series(folded, dtype=object).str.replace(" ", "").to_numpy(object), *each

    def compare(self, left, right, workers=-1):
        score = _similarity(left[0], right[0], fuzz.token_set_ratio, workers)
        if len(left) > 1:  # words run together or split apart: the same letters in the same order
            score = np.maximum(score, _similarity(left[1], right[1], fuzz.ratio, workers))
        if len(left) > 3:  # several columns: where a part is missing on one side, the parts both have
            both = np.array([_present(a, b) for a, b in zip(left[2:], right[2:], strict=True)])
            either = np.array([_present(a) | _present(b) for a, b in zip(left[2:], right[2:], strict=True)])
            uneven = (both.sum(axis=0) >= 2) & (either.sum(axis=0) > both.sum(axis=0))
            if uneven.any():
                worst = np.full(int(uneven.sum()), 100.0)
                for k, (a, b) in enumerate(zip(left[2:], right[2:], strict=True)):
                    part = _similarity(a[uneven], b[uneven], fuzz.ratio, workers)
                    worst = np.where(both[k, uneven], np.minimum(worst, part), worst)
                score[uneven] = np.maximum(score[uneven], worst)
        return _bands(score, left[0] == right[0], self.cuts, _present(left[0], right[0]))


class CompanyComparison(TokenSetComparison):
    """Company name by token-set ratio, legal forms (SAS, S.A.S., SARL, Sté, Ltd, GmbH…) stripped."""

    roles = ("company",)
    tf = True
    m_prior, u_prior, c_prior = (0.05, 0.03, 0.07, 0.85), (0.985, 0.01, 0.003, 0.002), (0.07, 0.03, 0.05, 0.85)

    def __init__(self, columns: Sequence[str] | None = None):
        Comparison.__init__(self, columns)

    def prepare(self, *columns):
        return (map_distinct(columns[0], company_key),)


class EmailComparison(Comparison):
    """E-mail: whole address, then the same local part at another domain, then a near local part.

    Role mailboxes (``contact@``, ``info@``...) name a service, not a person:
    two of them that differ are not compared. Given the name columns too, a
    local part made of the record's own names (``marie.martin``,
    ``mmartin``) only repeats the names, which are compared already: two
    such addresses count only when identical, else are not compared (or
    namesakes would look like duplicates), except at one domain, where two
    of them are two people's mailboxes (``julie.giraud@`` and
    ``juliette.giraud@`` of one company): different. A text that is not a valid
    address (``hannah88opowersc@m``, as written when the matcher has it) is
    compared as a whole and by its part before the last ``@``.
    """

    roles = ("email", "first_name", "last_name")
    method = "exact / local part"
    levels_desc = ("same address", "same local part", "near local part (≥ 0.80)", "different")
    kinds_desc = ("same", "close", "close", "different")
    tf = True
    m_prior, u_prior, c_prior = (0.35, 0.04, 0.06, 0.55), (0.99989, 1e-4, 1e-5, 1e-6), (0.96, 0.03, 0.003, 0.007)
    c_fixed = (2, 3)  # a personal address shared by two people: a family mailbox at most

    def __init__(self, columns: Sequence[str] | None = None):
        self.roles = type(self).roles[:len(columns) if columns else 1]
        super().__init__(columns)

    def level_names(self) -> dict[int, str]:
        return super().level_names() | {NOT_COMPARED: "not compared (role mailbox or made of the names)"}

    def prepare(self, *columns):
        address = map_distinct(columns[0], lambda s: s.str.strip().str.lower())
        text = pd.Series(address, dtype=object).fillna("").astype(str)
        # "a@b" -> ("a", "b"); a text without "@" is all local part. Never fewer columns (an all-empty column).
        local = text.str.replace(r"@[^@]*$", "", regex=True)
        domain = text.str.extract(r"@([^@]*)$", expand=False).fillna("")
        local = local.str.replace(r"\+.*$", "", regex=True)
        generic = (local.isin(GENERIC_LOCALS) & domain.ne("")).to_numpy(bool)
        # Near local parts ignore separators and trailing digits: "marie.dupont42" ~ "mariedupont".
        bare = local.str.replace(r"[._\-]+", "", regex=True).str.replace(r"\d+$", "", regex=True)
        named = np.zeros(len(bare), dtype=bool)
        if len(columns) == 3:
            f, s = (pd.Series(map_distinct(c, fold_text), dtype=object).str.replace(" ", "") for c in columns[1:])
            for made in (f + s, s + f, f.str[:1] + s, s + f.str[:1], f, s):
                named |= (bare == made).fillna(False).to_numpy(bool)
        empty = (text == "").to_numpy(bool)
        own = lambda values: np.where(generic | named | empty | values.eq("").to_numpy(bool), None,  # noqa: E731
                                      values.to_numpy(object))
        return (np.where(empty | generic, None, address), own(local), own(bare),
                np.where((named | generic) & ~empty, True, None),
                np.where(named & ~generic & domain.ne("").to_numpy(bool), domain.to_numpy(object), None))

    def tf_values(self, prepared):
        return {3: prepared[0], 2: prepared[1]}

    def compare(self, left, right, workers=-1):
        near = _similarity(left[2], right[2], Levenshtein.normalized_similarity, workers)
        level = np.where(left[1] == right[1], 2, np.where(near >= 0.8, 1, 0))
        # A role mailbox or a name-made local part on a side says nothing more than the names: not compared.
        level = np.where(_present(left[1], right[1]), level, NOT_COMPARED)
        # Two mailboxes of one domain, each made of its owner's names, that differ: two people of one company.
        level = np.where(_present(left[4], right[4]) & (left[4] == right[4]), 0, level)
        level = np.where(_present(left[0], right[0]) & (left[0] == right[0]), 3, level)
        written = lambda side: np.not_equal(side[0], None) | np.equal(side[3], True)  # noqa: E731
        return np.where(written(left) & written(right), level, MISSING).astype(np.int8)


class PhoneComparison(Comparison):
    """Phone: same number, same last digits (9, or 7 of a local number), one digit off.

    Compared on digits, so that a number that is not valid E.164 (a
    seven-digit local number, as written when the matcher has it) still
    counts: ``+13122262649`` and ``226-2649`` end alike. Fewer than six
    digits are not a phone number.
    """

    roles = ("phone",)
    method = "exact / last 7-9 digits"
    levels_desc = ("same number", "same last digits", "one digit off", "different")
    kinds_desc = ("same", "close", "close", "different")
    tf = True  # a switchboard number shared by a whole company
    m_prior, u_prior, c_prior = (0.3, 0.02, 0.02, 0.66), (0.9998, 1e-4, 1e-5, 1e-4), (0.6, 0.05, 0.0, 0.35)

    def prepare(self, *columns):
        number = map_distinct(columns[0], lambda s: s.str.replace(r"\D", "", regex=True).where(
            s.str.count(r"\d") >= 6, None))
        digits = pd.Series(number, dtype=object)
        short = (digits.str.len() < 9).to_numpy(bool)
        return (number, digits.str[-9:].to_numpy(object), digits.str[-7:].to_numpy(object),
                np.where(short, True, None))

    def compare(self, left, right, workers=-1):
        typo = _similarity(left[1], right[1], DamerauLevenshtein.distance, workers) <= 1
        local = (left[2] == right[2]) & (np.equal(left[3], True) | np.equal(right[3], True))
        level = np.where(left[0] == right[0], 3, np.where((left[1] == right[1]) | local, 2, np.where(typo, 1, 0)))
        return np.where(_present(left[0], right[0]), level, MISSING).astype(np.int8)


class PostcodeComparison(Comparison):
    """Postcode: exact, then the same first two characters (the French département)."""

    roles = ("postcode",)
    method = "exact / département"
    levels_desc = ("same postcode", "same département", "different")
    m_prior, u_prior, c_prior = (0.03, 0.03, 0.94), (0.95, 0.04, 0.01), (0.03, 0.03, 0.94)

    def prepare(self, *columns):
        code = map_distinct(columns[0], lambda s: s.str.upper().str.replace(r"\s+", "", regex=True))
        return code, pd.Series(code, dtype=object).str[:2].to_numpy(object)

    def compare(self, left, right, workers=-1):
        level = np.where(left[0] == right[0], 2, np.where(left[1] == right[1], 1, 0))
        return np.where(_present(left[0], right[0]), level, MISSING).astype(np.int8)


class DateComparison(Comparison):
    """Dates: same day, within 30 days, within a year.

    A birth date is graded as it is typed: the same day; one character off
    (``1956-04-09`` / ``1965-04-09``) or day and month swapped; the same
    month and year; within a year; further apart.
    """

    method = "date closeness"
    tf = True  # a bulk-import day shared by thousands of records is weak evidence
    levels_desc = ("same day", "within 30 days", "within a year", "different")
    m_prior, u_prior, c_prior = (0.25, 0.25, 0.2, 0.3), (0.78, 0.2, 0.019, 0.001), (0.7, 0.24, 0.05, 0.01)

    def __init__(self, role: str = "created_date", columns: Sequence[str] | None = None):
        super().__init__(columns, role)
        if role == "birth_date":  # a birth date is a personal fact: it rarely differs in a duplicate
            self.levels_desc = ("same day", "one character off or day and month swapped", "same month and year",
                                "within a year", "further apart")
            self.kinds_desc = ("same", "close", "close", "close", "different")
            self.m_prior, self.u_prior, self.c_prior = (0.03, 0.06, 0.04, 0.09, 0.78), \
                (0.975, 0.02, 0.0015, 0.0032, 3e-4), (0.97, 0.02, 0.002, 0.006, 0.002)
            self.c_fixed = (4,)

    def prepare(self, *columns):
        """Days since 1970 (float, NaN if missing) and the ``YYYYMMDD`` text that typos are judged on."""
        dates = pd.Series(pd.to_datetime(pd.Series(columns[0]), errors="coerce", format="mixed"))
        days = dates.to_numpy("datetime64[D]").astype("int64").astype(float)
        days[dates.isna().to_numpy()] = np.nan
        return days, map_distinct(dates, lambda s: pd.to_datetime(s).dt.strftime("%Y%m%d"))

    def compare(self, left, right, workers=-1):
        a, b = np.asarray(left[0], float), np.asarray(right[0], float)
        present = ~(np.isnan(a) | np.isnan(b))
        gap = np.abs(np.where(present, a - b, 0))
        if self.roles[0] != "birth_date":
            level = np.where(gap == 0, 3, np.where(gap <= 30, 2, np.where(gap <= 365, 1, 0)))
            return np.where(present, level, MISSING).astype(np.int8)
        typo = _similarity(left[1], right[1], DamerauLevenshtein.distance, workers) <= 1
        lt, rt = (pd.Series(side[1], dtype=object).fillna("") for side in (left, right))
        swapped = (lt.str[:4] == rt.str[:4]) & (lt.str[4:6] == rt.str[6:8]) & (lt.str[6:8] == rt.str[4:6])
        month = (lt.str[:6] == rt.str[:6]).to_numpy(bool)
        level = np.select([gap == 0, typo | swapped.to_numpy(bool), month, gap <= 365], [4, 3, 2, 1], 0)
        return np.where(present, level, MISSING).astype(np.int8)


class ExactComparison(Comparison):
    """Same value or not (region, country); an identifier (a social security number) also one character off.

    An identifier of five characters or more typed with one character
    wrong or two swapped (``4137877`` / ``4137787``) is still strong
    evidence, which EM weighs from the data.
    """

    method = "exact"
    levels_desc = ("same", "different")
    m_prior, u_prior, c_prior = (0.05, 0.95), (0.9, 0.1), (0.05, 0.95)

    def __init__(self, role: str = "region", columns: Sequence[str] | None = None, unless: Sequence[str] = ()):
        super().__init__(columns, role, unless)
        if role not in ("region", "country"):  # an identifier: rare agreement, frequent values weaker
            self.tf, self.method = True, "exact / one character off"
            self.levels_desc, self.kinds_desc = ("same", "one character off", "different"), ("same", "close",
                                                                                             "different")
            self.m_prior, self.u_prior, self.c_prior = (0.1, 0.05, 0.85), (0.99985, 5e-5, 1e-4), (0.998, 1e-3, 1e-3)
            self.c_fixed = (1, 2)

    def compare(self, left, right, workers=-1):
        level = (left[0] == right[0]).astype(np.int8)
        if self.n_levels == 3:
            long = (pd.Series(left[0], dtype=object).str.len() >= 5).to_numpy(bool)
            typo = long & (_similarity(left[0], right[0], DamerauLevenshtein.distance, workers) <= 1)
            level = np.where(level == 1, 2, np.where(typo, 1, 0))
        return np.where(_present(left[0], right[0]), level, MISSING).astype(np.int8)


def default_comparisons(roles: Mapping[str, str]) -> list[Comparison]:
    """The comparisons that fit a set of column roles.

    Parameters
    ----------
    roles : mapping of str to str
        Column -> role (keys of :data:`segmentation.ingest.roles.ROLES`, plus
        ``"exact"`` for an extra identifier compared as is). Roles with no
        comparison (ids, measures, categories, consent...) are left out.

    Returns
    -------
    list of Comparison
        Bound to their columns; several address columns are joined into one.
    """
    by_role: dict[str, list[str]] = {}
    for column, role in roles.items():
        by_role.setdefault(role, []).append(column)
    first = lambda role: by_role[role][0]  # noqa: E731
    found: list[Comparison] = []
    if "first_name" in by_role and "last_name" in by_role:
        found.append(NameComparison([first("first_name"), first("last_name")]))
        found.append(JaroWinklerComparison("last_name", [first("last_name"), first("first_name")], ["first_name"]))
        found.append(JaroWinklerComparison("first_name", [first("first_name"), first("last_name")], ["last_name"]))
    else:
        found += [JaroWinklerComparison(r, [first(r)]) for r in ("first_name", "last_name") if r in by_role]
    if "full_name" in by_role:
        found.append(TokenSetComparison("full_name", [first("full_name")]))
    if "company" in by_role:
        found.append(CompanyComparison([first("company")]))
    if "email" in by_role:
        names = [first(r) for r in ("first_name", "last_name") if r in by_role]
        found.append(EmailComparison([first("email"), *names] if len(names) == 2 else [first("email")]))
    for column in by_role.get("phone", []):
        found.append(PhoneComparison([column]))
    if "address" in by_role:
        found.append(TokenSetComparison("address", by_role["address"]))
    if "postcode" in by_role:
        found.append(PostcodeComparison([first("postcode")]))
    # Postcode, city and region say one thing: each finer one present on both sides silences the coarser.
    places = [r for r in ("postcode", "city") if r in by_role]
    if "city" in by_role:
        found.append(JaroWinklerComparison("city", [first("city"), *map(first, places[:-1])], places[:-1]))
        found[-1].gate = "same"
    for role in ("region", "country"):
        if role in by_role:
            gate = places if role == "region" else []
            found.append(ExactComparison(role, [first(role), *map(first, gate)], gate))
            found[-1].gate = "same"
    for role in ("birth_date", "created_date", "last_activity_date"):
        if role in by_role:
            found.append(DateComparison(role, [first(role)]))
    for column in by_role.get("exact", []):
        found.append(ExactComparison("exact", [column]))
    return found


__all__ = [
    "GENERIC_LOCALS",
    "LEGAL_FORMS",
    "LEVEL_KINDS",
    "MISSING",
    "NOT_COMPARED",
    "CompanyComparison",
    "Comparison",
    "DateComparison",
    "EmailComparison",
    "ExactComparison",
    "JaroWinklerComparison",
    "NameComparison",
    "PhoneComparison",
    "PostcodeComparison",
    "TokenSetComparison",
    "company_key",
    "default_comparisons",
    "fold_text",
    "map_distinct",
    "raw_column",
]

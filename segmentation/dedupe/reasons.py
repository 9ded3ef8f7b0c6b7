"""Why a pair waits for review, in words: a pair's comparison levels and the two records in, messages out.

Pure: no store, no Streamlit. Each comparison of a pair becomes a line of
*evidence* (:func:`evidence`) whose kind tells **same**, **close**,
**partial**, **different**, **missing** (one side, or both, has no value)
and **not compared** (both have a value that this comparison leaves aside:
a role mailbox, an e-mail made of the names, a city when the postcodes
decide) apart; the reasons (:func:`reasons`) pick the lines that explain a
score between the thresholds: what agrees, what disagrees, which shared
value is weak evidence ("phone shared by 12 records") and what is missing.

Levels are read by *kind*, not by number: a comparison that says what each
of its levels means (``level_kinds()``) is taken at its word; otherwise the
top level is "same", level 0 "different", the levels between "close", and
the negative ones missing or not compared. The two records decide between
missing and not compared, so that an e-mail that is present on both sides is
never called missing.

Every text is an :class:`segmentation.i18n.Message` (an English template and
its values) that the pages render in the user's language.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from ..i18n import Message, message

KINDS = ("same", "close", "partial", "different", "missing", "not compared")
#: From how many records a shared value is named as shared (the pair itself is two).
SHARED_FROM = 3
NAME_ROLES = frozenset(("first_name", "last_name"))
#: Comparisons whose agreement says little about a person: shown as evidence, never as a reason.
QUIET_ROLES = frozenset(("created_date", "last_activity_date", "region", "country"))
DATE_ROLES = frozenset(("birth_date", "created_date", "last_activity_date"))
#: Fields whose value left aside (not compared) yet different on both sides is worth a reason.
NOT_COUNTED_ROLES = frozenset(("email", "phone"))


# Per role: the field's name, and a text per kind (templates the extractor finds, one per kind and role).
def _texts(field, same, close, different) -> dict[str, Message]:
    return {"field": field, "same": same, "close": close, "different": different}


TEXTS: dict[str, dict[str, Message]] = {
    "name": _texts(message("Name"), message("same name"), message("names close"), message("names differ")),
    "first_name": _texts(message("First name"), message("same first name"), message("first names close"),
                         message("first names differ")),
    "last_name": _texts(message("Last name"), message("same last name"), message("last names close"),
                        message("last names differ")),
    "full_name": _texts(message("Name"), message("same name"), message("names close"), message("names differ")),
    "company": _texts(message("Company"), message("same company"), message("company names close"),
                      message("companies differ")),
    "email": _texts(message("E-mail"), message("same e-mail"), message("e-mails close"), message("e-mails differ")),
    "phone": _texts(message("Phone"), message("same phone"), message("phones close"), message("phones differ")),
    "address": _texts(message("Address"), message("same address"), message("addresses close"),
                      message("addresses differ")),
    "postcode": _texts(message("Postcode"), message("same postcode"), message("same département"),
                       message("postcodes differ")),
    "city": _texts(message("City"), message("same city"), message("cities close"), message("cities differ")),
    "region": _texts(message("Region"), message("same region"), message("regions close"), message("regions differ")),
    "country": _texts(message("Country"), message("same country"), message("countries close"),
                      message("countries differ")),
    "birth_date": _texts(message("Birth date"), message("same birth date"), message("birth dates close"),
                         message("birth dates differ")),
    "created_date": _texts(message("Creation date"), message("same creation date"), message("creation dates close"),
                           message("creation dates differ")),
    "last_activity_date": _texts(message("Last activity"), message("same last activity date"),
                                 message("last activity dates close"), message("last activity dates differ")),
}
#: Fields whose absence on one side is worth a reason (the others are only shown as evidence).
MISSING_TEXTS = {
    "name": message("no name on one side"),
    "full_name": message("no name on one side"),
    "email": message("no e-mail on one side"),
    "phone": message("no phone on one side"),
    "birth_date": message("no birth date on one side"),
    "company": message("no company on one side"),
}
DATE_GAPS = {
    "birth_date": message("birth dates {gap} apart"),
    "created_date": message("creation dates {gap} apart"),
    "last_activity_date": message("last activity dates {gap} apart"),
}
SHARED = {
    "name": message("name shared by {count} records"),
    "full_name": message("name shared by {count} records"),
    "company": message("company shared by {count} records"),
    "email": message("e-mail shared by {count} records"),
    "phone": message("phone shared by {count} records"),
    "address": message("address shared by {count} records"),
}


def _with(template: Message, **values) -> Message:
    """A template of the tables above with its values filled in (still a message: rendered by the pages)."""
    return Message(template.text, values)


def _generic(role: str, column: str) -> dict[str, Message]:
    """Texts for a role without its own (an identifier compared as is): the user's column name in them."""
    return _texts(Message(column), message("same {field}", field=column), message("{field} close", field=column),
                  message("{field} differs", field=column))


@dataclass(frozen=True)
class Evidence:
    """What one comparison found for a pair.

    ``kind`` is one of :data:`KINDS`; ``result`` says it in words (with the
    detail: "3 years apart", "shared by 12 records"); ``shared`` is how many
    records hold the value both sides share (None when not counted).
    """

    comparison: str
    role: str
    field: Message
    kind: str
    result: Message
    reason: Message | None
    shared: int | None = None

    def to_dict(self) -> dict:
        return {"comparison": self.comparison, "role": self.role, "field": str(self.field), "kind": self.kind,
                "result": str(self.result), "shared": self.shared}


# -- reading levels by kind ---------------------------------------------------------
def level_kind(comparison, level: int) -> str:
    """The kind of ``level`` for ``comparison``: its own ``level_kinds()`` if it has them, else by position."""
    level = int(level)
    own = getattr(comparison, "level_kinds", None)
    if callable(own):
        kind = own().get(level)
        if kind in KINDS:
            return kind
    if level < 0:
        name = str(comparison.level_names().get(level, "")).lower() if hasattr(comparison, "level_names") else ""
        return "not compared" if "not compared" in name else "missing"
    top = int(getattr(comparison, "n_levels", 2)) - 1
    return "same" if level >= top else "different" if level == 0 else "close"


def _empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


def field_columns(comparison) -> list[str]:
    """The columns whose values make the comparison's field (not the ``unless`` gates, not helper columns).

    A name comparison's field is its name parts, an address its parts, an e-mail its e-mail column only.
    """
    roles = list(getattr(comparison, "roles", ()))
    columns = list(getattr(comparison, "columns", ()))
    own = len(columns) - len(getattr(comparison, "unless", ()))
    first = roles[0] if roles else None
    picked = [c for c, r in zip(columns[:own], roles[:own], strict=False)
              if r == first or (first in NAME_ROLES and r in NAME_ROLES)]
    return picked or columns[:1]


def _own_roles(comparison) -> tuple[str, ...]:
    roles = tuple(getattr(comparison, "roles", ()))
    gates = len(getattr(comparison, "unless", ()))
    return roles[:len(roles) - gates] if gates else roles


def _role_of(comparison) -> str:
    """The field a comparison judges: ``name`` for first and last name together, else its first role."""
    roles = _own_roles(comparison)
    if set(roles[:2]) == NAME_ROLES:
        return "name"
    return roles[0] if roles else "exact"


def _texts_for(role: str, comparison) -> dict[str, Message]:
    return TEXTS.get(role) or _generic(role, comparison.name)


def _date_gap(left, right) -> int | None:
    """Days between two dates (None if either is not a date)."""
    try:
        a, b = pd.Timestamp(left), pd.Timestamp(right)
    except (TypeError, ValueError):
        return None
    if pd.isna(a) or pd.isna(b):
        return None
    return abs(int((a.normalize() - b.normalize()).days))


def gap_words(days: int) -> Message:
    """A gap between two dates in words: ``3 years``, ``5 months``, ``12 days``, ``a day``."""
    if days >= 365:
        years = round(days / 365.25)
        return message("a year") if years <= 1 else message("{n} years", n=years)
    if days >= 60:
        return message("{n} months", n=round(days / 30.44))
    return message("a day") if days == 1 else message("{n} days", n=days)


def _same_part(comparison, level: int) -> Message:
    """Which name part agrees at a *partial* name level ("same last name only")."""
    name = str(comparison.level_names().get(level, "")).lower()
    if "last" in name:
        return message("same last name, first names differ")
    if "first" in name:
        return message("same first name, last names differ")
    return message("names partly agree")


def _one(comparison, level: int, left: Mapping, right: Mapping, shared: int | None) -> Evidence:
    role = _role_of(comparison)
    texts = _texts_for(role, comparison)
    columns = field_columns(comparison)
    has_left = any(not _empty(left.get(c)) for c in columns)
    has_right = any(not _empty(right.get(c)) for c in columns)
    kind = level_kind(comparison, level)
    if kind in ("missing", "not compared"):
        # The records decide: a value on both sides that the comparison left aside is "not compared".
        kind = "not compared" if has_left and has_right else "missing"
    if kind == "missing":
        result = message("no value on either side") if not (has_left or has_right) else \
            message("no value on one side")
        reason = MISSING_TEXTS.get(role) if has_left or has_right else None
        return Evidence(comparison.name, role, texts["field"], kind, result, reason)
    if kind == "not compared":
        same = all(str(left.get(c) or "").strip().casefold() == str(right.get(c) or "").strip().casefold()
                   for c in columns)
        result = message("same, not counted") if same else message("different, not counted")
        # Only where another comparison does not judge the same field (an e-mail made of the names, a role
        # mailbox): a last name that the name comparison judged says nothing new.
        reason = None if same or role not in NOT_COUNTED_ROLES else \
            message("{what} (not counted)", what=texts["different"])
        return Evidence(comparison.name, role, texts["field"], kind, result, reason)
    gap = _date_gap(left.get(columns[0]), right.get(columns[0])) if role in DATE_ROLES else None
    if kind == "same":
        count = shared if shared is not None and shared >= SHARED_FROM else None
        if count is not None and role in SHARED:
            return Evidence(comparison.name, role, texts["field"], kind,
                            message("same, shared by {count} records", count=count),
                            _with(SHARED[role], count=count), count)
        return Evidence(comparison.name, role, texts["field"], kind, message("same"), texts["same"], shared)
    if kind == "partial":
        part = _same_part(comparison, level)
        return Evidence(comparison.name, role, texts["field"], kind, part, part)
    if gap is not None and role in DATE_GAPS:
        words = gap_words(gap)
        reason = _with(DATE_GAPS[role], gap=words)
        result = message("close: {gap} apart", gap=words) if kind == "close" else message("{gap} apart", gap=words)
        return Evidence(comparison.name, role, texts["field"], kind, result, reason)
    if kind == "close":
        return Evidence(comparison.name, role, texts["field"], kind, message("close"), texts["close"])
    return Evidence(comparison.name, role, texts["field"], "different", message("different"), texts["different"])


def evidence(comparisons: Sequence, levels: Mapping[str, int], left: Mapping, right: Mapping,
             shared: Mapping[str, int] | None = None) -> list[Evidence]:
    """What each comparison found for one pair, in the order of ``comparisons``.

    Parameters
    ----------
    comparisons : sequence of Comparison
        The matcher's comparisons (``name``, ``roles``, ``columns``, ``level_names()``, ``level_kinds()``).
    levels : mapping of str to int
        The pair's level per comparison name (as stored with the pair); comparisons without one are left out.
    left, right : mapping
        The two records' values by column (None, NaN or empty text when missing).
    shared : mapping of str to int, optional
        Per comparison name, how many records of the dataset hold the value both sides share
        (see :func:`shared_values`).
    """
    shared = shared or {}
    return [_one(c, int(levels[c.name]), left, right, shared.get(c.name)) for c in comparisons if c.name in levels]


def shared_values(comparisons: Sequence, levels: Mapping[str, int], left: Mapping, right: Mapping
                  ) -> dict[str, dict[str, object]]:
    """Per comparison whose value both sides share (kind *same*): ``{column: value}`` to count records by.

    Only the fields where a value shared by many records is weak evidence (names, companies, e-mails, phones,
    addresses).
    """
    out: dict[str, dict[str, object]] = {}
    for c in comparisons:
        if c.name not in levels or _role_of(c) not in SHARED or level_kind(c, int(levels[c.name])) != "same":
            continue
        columns = field_columns(c)
        if all(not _empty(left.get(col)) for col in columns):
            out[c.name] = {col: left.get(col) for col in columns}
    return out


_ORDER = {"different": 0, "partial": 1, "close": 2, "not compared": 3, "same": 4, "missing": 5}


def reasons(found: Sequence[Evidence], in_chain: bool = False, limit: int = 5) -> list[Message]:
    """Why a pair waits for a person, in words, most telling first.

    What agrees and is shared by many records, what disagrees, what is
    close, what is missing on one side; and, for a link between two parts of
    a chain, that other pairs keep its records apart. At most ``limit``.
    """
    out: list[Message] = []
    if in_chain:
        out.append(message("links two groups that other comparisons keep apart"))
    strong = [e for e in found if e.reason is not None and e.role not in QUIET_ROLES]
    agree = [e for e in strong if e.kind == "same" and (e.shared is None or e.shared < SHARED_FROM)]
    weak = [e for e in strong if e.kind == "same" and e.shared is not None and e.shared >= SHARED_FROM]
    other = sorted((e for e in strong if e.kind != "same"), key=lambda e: _ORDER.get(e.kind, 9))
    for e in [*agree, *weak, *other]:
        if e.reason not in out:
            out.append(e.reason)
    quiet = [e.reason for e in found if e.reason is not None and e.role in QUIET_ROLES and e.kind == "different"]
    out += [r for r in quiet if r not in out]
    if not out:
        out.append(message("little to compare"))
    return out[:limit]


def sentence(items: Sequence[Message]) -> Message:
    """Reasons as one line: ``same name, birth dates 3 years apart``."""
    if not items:
        return message("little to compare")
    text = ", ".join("{r" + str(i) + "}" for i in range(len(items)))
    return Message(text, {f"r{i}": m for i, m in enumerate(items)})


__all__ = ["KINDS", "SHARED_FROM", "Evidence", "evidence", "field_columns", "gap_words", "level_kind", "reasons",
           "sentence", "shared_values"]

"""Audiences: segments of a run plus conditions on any attribute, consent respected, safe lists out.

An audience is data (:class:`AudienceSpec`): which run and segments, groups
of conditions (AND within a group, OR between groups), the channel, the
columns that leave the tool, a holdout share. Everything is counted and
selected in DuckDB, so counts stay live on a million customers. This module
holds the definitions and BUILDS the SQL (text and parameters, such as
:func:`condition_sql`); :mod:`segmentation.activate.repository`, the stage's
only SQL executor, runs it and keeps saved audiences, suppression lists and
the export log. The customers come from the customers stage, the segments of a
run from the segment stage.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import pandas as pd

from ..core.errors import (
    ColumnError,
    DataError,
    MissingColumnsError,
    NotFoundError,
    SegmentStudioError,
    SettingError,
)
from ..core.store import Dataset, Store, quote
from ..core.vocabulary import yes_no, yes_no_sql
from ..customers import repository as customers
from ..customers.golden import KEEP_ALL_ROLES
from ..ingest.normalize import fold_category
from ..ingest.repository import DatasetsRepository
from ..ingest.roles import ROLE_KIND
from ..segment import runs as segments
from . import presets
from .export import EXPORT_FORMATS, LIST_SEPARATOR, encode, localise, write_bytes
from .repository import AudiencesRepository

OPERATORS = {
    "eq": "is", "ne": "is not", "in": "is one of", "not_in": "is not one of", "ge": "at least", "le": "at most",
    "contains": "contains", "empty": "is empty", "not_empty": "is not empty", "within_days": "in the last N days",
    "before_days": "more than N days ago",
}
PERSONAL_ROLES = ("first_name", "last_name", "full_name", "email", "phone", "address", "birth_date", "exact")
CHANNELS = ("email", "phone")


@dataclass(frozen=True)
class Condition:
    """One rule: ``column`` ``op`` ``value`` (a list for ``in``/``not_in``, a number of days for dates)."""

    column: str
    op: str
    value: object = None

    @property
    def label(self) -> str:
        """The rule in words, as the page lists it."""
        value = "" if self.op in ("empty", "not_empty") else (
            ", ".join(map(str, self.value)) if isinstance(self.value, list | tuple) else str(self.value))
        return f"{self.column} {OPERATORS.get(self.op, self.op)} {value}".strip()


@dataclass(frozen=True)
class AudienceSpec:
    """What an audience is; built the same way by the page, the CLI and the tests.

    Parameters
    ----------
    dataset : str, optional
        Customers dataset (default: the most recent).
    run : str, optional
        Segment run (default: the dataset's current run, if any).
    segments : tuple of int
        Segments of the run to take (empty: everyone).
    groups : tuple of tuple of Condition
        Conditions, AND within a group, OR between groups.
    channel : {"email", "phone"} or None
        Customers need that contact point, and consent for it unless ``include_no_consent``.
    include_no_consent : bool
        Keep customers without consent or who opted out (an explicit, recorded choice).
    suppression : int, optional
        Id of a saved suppression list (emails or record ids never to contact).
    columns : tuple of str
        Columns exported (default: id, names, the channel's contact point, segment name).
    holdout : float
        Share (0..0.5) of the audience kept aside as a control group.
    seed : int
        Seed of the holdout draw (the same seed gives the same holdout).
    no_consent_column : {"treat-as-consenting", "exclude"} or None
        What a dataset without any consent or opt-out column means: everyone may be contacted, or no one.
        Counting works without it; an export of such a dataset refuses to guess (:func:`check_consent_choice`).
    """

    dataset: str | None = None
    run: str | None = None
    segments: tuple[int, ...] = ()
    groups: tuple[tuple[Condition, ...], ...] = ()
    channel: str | None = "email"
    include_no_consent: bool = False
    suppression: int | None = None
    columns: tuple[str, ...] = ()
    holdout: float = 0.0
    seed: int = 0
    no_consent_column: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> AudienceSpec:
        data = json.loads(text)
        data["segments"] = tuple(data.get("segments") or ())
        data["columns"] = tuple(data.get("columns") or ())
        data["groups"] = tuple(tuple(Condition(c["column"], c["op"], c.get("value")) for c in g)
                               for g in data.get("groups") or ())
        return cls(**data)


@dataclass
class AudienceCount:
    """Live figures of an audience."""

    in_segments: int
    matching: int
    excluded_by_rule: dict[str, int]
    excluded_no_contact: int
    excluded_no_consent: int
    excluded_suppressed: int
    final: int
    holdout: int
    #: Whether the dataset has a consent or opt-out column (else the consent choice decides).
    consent_column: bool = True

    @property
    def contacts(self) -> int:
        """Customers in the contact file (the audience without its holdout)."""
        return self.final - self.holdout

    def to_dict(self) -> dict:
        """The figures as plain data (the CLI's JSON)."""
        return asdict(self)


@dataclass(frozen=True)
class ExportSettings:
    """How an audience file is written.

    Parameters
    ----------
    format : {"csv-excel", "csv", "xlsx"}
        CSV for French Excel (BOM, ``;``, decimal comma), plain CSV, or Excel.
    holdout_file : bool
        Kept for pipeline files that name it: the holdout (control group) is always written apart, to
        ``<name> (holdout).<ext>`` beside the file, which holds only the customers to contact.
    """

    format: str = "csv-excel"
    holdout_file: bool = True


@dataclass
class ExportResult:
    """What an export wrote (``to_dict``: the CLI's JSON)."""

    rows: int
    excluded_no_consent: int
    holdout_rows: int
    out: str
    columns: list[str]
    holdout_out: str | None = None
    warnings: list[str] = field(default_factory=list)
    changes: dict[str, dict] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {"rows": self.rows, "excluded_no_consent": self.excluded_no_consent,
                "holdout_rows": self.holdout_rows, "out": self.out}
        if self.holdout_out is not None:
            data["holdout_out"] = self.holdout_out
        data["columns"] = list(self.columns)
        if self.warnings:
            data["warnings"] = list(self.warnings)
        if self.changes:
            data["changes"] = dict(self.changes)
        return data


# ------------------------------------------------------------------ SQL building (text and parameters)

def _kind(ds: Dataset, column: str) -> str:
    return ROLE_KIND.get(ds.roles.get(column, "text"), "text")


def condition_sql(ds: Dataset, cond: Condition, extra: dict[str, str] | None = None) -> tuple[str, list]:
    """SQL and parameters of one condition on the customers table (column quoted, values as parameters).

    ``extra`` names computed attributes (RFM) with their kind (``"number"`` or ``"category"``).
    """
    extra = extra or {}
    if cond.column not in ds.columns and cond.column != "segment_name" and cond.column not in extra:
        raise MissingColumnsError([cond.column], ds.columns)
    if cond.op not in OPERATORS:
        raise SettingError("operator", cond.op, f"one of {list(OPERATORS)}")
    col = quote(cond.column)
    kind = "text" if cond.column == "segment_name" else extra.get(cond.column) or _kind(ds, cond.column)
    if cond.op == "empty":
        return f"({col} IS NULL OR trim(CAST({col} AS VARCHAR)) = '')", []
    if cond.op == "not_empty":
        return f"({col} IS NOT NULL AND trim(CAST({col} AS VARCHAR)) <> '')", []
    if cond.op in ("within_days", "before_days"):
        if kind != "date":
            raise ColumnError(f"{cond.column!r} is not a date column: '{OPERATORS[cond.op]}' needs dates.")
        days = _number(cond)
        op = ">=" if cond.op == "within_days" else "<"
        return f"({col} {op} current_date - CAST(? AS INTEGER))", [int(days)]
    if cond.op in ("ge", "le"):
        op = ">=" if cond.op == "ge" else "<="
        if kind == "date":
            return f"({col} {op} CAST(? AS DATE))", [str(cond.value)]
        return f"(TRY_CAST({col} AS DOUBLE) {op} ?)", [_number(cond)]
    if cond.op == "contains":
        return f"(CAST({col} AS VARCHAR) ILIKE '%' || ? || '%')", [str(cond.value)]
    values = list(cond.value) if isinstance(cond.value, list | tuple) else [cond.value]
    text = [str(v).strip().casefold() for v in values]
    target = f"lower(trim(CAST({col} AS VARCHAR)))"
    if kind == "category":  # spellings meet as the normaliser folds them: Île-de-France = ILE DE FRANCE
        target = fold_sql(col)
        text = fold_category(pd.Series([str(v) for v in values], dtype=object)).tolist()
    if kind == "boolean":  # "oui"/"yes"/"true"/"1" all mean true: the one yes/no vocabulary
        target = f"CAST({col} AS VARCHAR)"
        text = ["true" if yes_no(v) is True else "false" for v in text]
    placeholders = ", ".join("?" * len(text))
    if cond.op in ("eq", "in"):
        return f"({target} IN ({placeholders}))", text
    return f"({target} IS NULL OR {target} NOT IN ({placeholders}))", text


def fold_sql(col: str) -> str:
    """SQL of the key under which spellings of a category meet, as :func:`~segmentation.ingest.normalize.
    fold_category` folds them: accents removed, lower case, every run of other characters one space, trimmed."""
    return f"trim(regexp_replace(lower(strip_accents(CAST({col} AS VARCHAR))), '[^a-z0-9]+', ' ', 'g'))"


def applies(ds: Dataset, cond: Condition, extra: dict[str, str] | None = None) -> bool:
    """Whether a condition names a column this dataset has (else it is shown as not applicable)."""
    return cond.column in ds.columns or cond.column == "segment_name" or cond.column in (extra or {})


def category_values_sql(customers: str, column: str, search: str = "", limit: int = 20) -> tuple[str, list]:
    """SQL of a column's most frequent values with their number of customers (``value``, ``customers``),
    those whose folded spelling contains ``search`` folded the same way."""
    col = quote(column)
    where = f"{col} IS NOT NULL"
    params: list = []
    if search.strip():
        where += f" AND contains({fold_sql(col)}, ?)"
        params.append(fold_category(pd.Series([search], dtype=object)).iloc[0])
    return (f"SELECT CAST({col} AS VARCHAR) AS value, count(*) AS customers FROM ({customers}) WHERE {where} "
            f"GROUP BY 1 ORDER BY customers DESC, value LIMIT {int(limit)}", params)


def _number(cond: Condition) -> float:
    try:
        return float(str(cond.value).replace("\u202f", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise SettingError(repr(cond.label), cond.value, "a number") from None


EXTRA_CONTACTS = 3  # e-mail and phone columns a list can carry per contact column (Meta, Google, TikTok: 3)


def contact_columns(ds: Dataset) -> dict[str, tuple[str, int]]:
    """The extra contact columns an audience can carry: ``"<column> (all)"`` (every value of a golden record,
    written as text joined by ``; ``, NULL when it has none) and ``"<column> 2"``, ``"<column> 3"`` (its second
    and third distinct values), for each e-mail and phone column; name -> (contact column, position; 0: the list).

    A name the dataset already has is left to the dataset's column.
    """
    found: dict[str, tuple[str, int]] = {}
    for col in ds.columns_with_role(*KEEP_ALL_ROLES):
        for name, position in ((f"{col} (all)", 0), *((f"{col} {n}", n) for n in range(2, EXTRA_CONTACTS + 1))):
            if name not in ds.columns:
                found[name] = (col, position)
    return found


def _contacts_sql(ds: Dataset, sql: str, merged: bool) -> str:
    """``sql`` (the customers) with :func:`contact_columns` added: the lists of golden records (a one-value list
    without merges) and their second and third values other than the record's own."""
    added = []
    for name, (col, position) in contact_columns(ds).items():
        values = quote(f"{col} (all)") if merged else (
            f"(CASE WHEN {quote(col)} IS NULL THEN []::VARCHAR[] ELSE [CAST({quote(col)} AS VARCHAR)] END)")
        if position == 0:
            added.append(f"nullif(array_to_string({values}, '{LIST_SEPARATOR}'), '') AS {quote(name)}")
        else:
            others = f"list_filter({values}, lambda x: x IS DISTINCT FROM CAST({quote(col)} AS VARCHAR))"
            added.append(f"{others}[{position - 1}] AS {quote(name)}")
    if not added:
        return sql
    keep = [quote(n) for n in contact_columns(ds) if merged and n.endswith(" (all)")]
    star = f"* EXCLUDE ({', '.join(keep)})" if keep else "*"
    return f"SELECT {star}, {', '.join(added)} FROM ({sql})"


def customers_sql(store: Store, ds: Dataset, attributes: set[str] | None = None) -> str:
    """SQL of the dataset's customers (``customer_id``, every column, :func:`contact_columns`, computed
    attributes joined on: every one, or those of them named in ``attributes``).

    Who is a customer is the customers stage's to say (its golden records once merges exist); this only
    adds the extra contact columns and joins the computed attributes on. Each attribute table is a join over
    every customer: a count that names none of them joins none (a million customers count in a fraction of
    the time).
    """
    sql = _contacts_sql(ds, customers.customers_relation(store, ds), customers.has_merges(store, ds))
    extra = [n for n in customers.kinds(store, ds) if attributes is None or n in attributes]
    return customers.join_sql(store, ds, extra, sql) if extra else sql


def attribute_kinds(store: Store, ds: Dataset) -> dict[str, str]:
    """Computed attributes a condition or a column can name (RFM, propensity scores), with their kind."""
    return customers.kinds(store, ds)


def _run_of(store: Store, spec: AudienceSpec, ds: Dataset):
    try:
        return segments.find_run(store, spec.run or None, ds)
    except NotFoundError:
        if spec.run or spec.segments:
            raise
        return None


def _named(spec: AudienceSpec) -> set[str]:
    """The columns a spec names: those of its conditions and of its file."""
    return {cond.column for group in spec.groups for cond in group} | set(spec.columns)


def _with_segments_sql(store: Store, run, customers_rel: str) -> tuple[str, list]:
    """``customers_rel`` with the ``segment`` and ``segment_name`` of each customer in ``run``."""
    names = segments.names_for(store, run)
    # The names as a CASE (no join): the same name, or NULL, for each segment as a join on them gives.
    name_sql = ("CASE m.segment " + " ".join(f"WHEN {int(k)} THEN CAST(? AS VARCHAR)" for k in names)
                + " END") if names else "NULL::VARCHAR"
    return (f"SELECT c.*, m.segment, {name_sql} AS segment_name FROM ({customers_rel}) c "
            f"LEFT JOIN ({segments.members_sql(run)}) m USING (customer_id)", list(names.values()))


def _late_segments(store: Store, spec: AudienceSpec, ds: Dataset):
    """The run whose segments a preview of ``spec`` may join on its few rows only (after picking them), or
    None: when no segment is chosen and no condition names ``segment_name``, who is in does not depend on it."""
    named = {cond.column for group in spec.groups for cond in group}
    if spec.segments or "segment_name" in named:
        return None
    return _run_of(store, spec, ds)


def _base_sql(store: Store, spec: AudienceSpec, ds: Dataset, attributes: set[str] | None = None,
              segment_columns: bool = True) -> tuple[str, list]:
    """Customers (with ``segment`` and ``segment_name``) in the chosen segments.

    ``attributes``: the computed attributes to join on (default: every one). Without ``segment_columns``
    (a count), the run's members are joined only when segments are chosen or a condition names
    ``segment_name``: every customer is in "all segments", and the join would only cost time.
    """
    run = _run_of(store, spec, ds)
    params: list = []
    customers_rel = customers_sql(store, ds, attributes)
    named = {cond.column for group in spec.groups for cond in group}
    if run is not None and (segment_columns or spec.segments or "segment_name" in named):
        sql, params = _with_segments_sql(store, run, customers_rel)
    elif run is not None:
        sql = customers_rel
    else:
        sql = f"SELECT c.*, NULL::INTEGER AS segment, NULL::VARCHAR AS segment_name FROM ({customers_rel}) c"
    if spec.segments:
        if run is None:
            raise DataError("Segments were chosen but the dataset has no segment run.")
        bad = [s for s in spec.segments if not 0 <= int(s) < run.k]
        if bad:
            raise SettingError("segments", bad, f"segments of run {run.name!r}: 0..{run.k - 1}")
        sql = f"SELECT * FROM ({sql}) WHERE segment IN ({', '.join(str(int(s)) for s in spec.segments)})"
    return sql, params


NO_CONSENT_CHOICES = ("treat-as-consenting", "exclude")


def check_consent_choice(ds: Dataset, spec: AudienceSpec) -> None:
    """Refuse to export, without an explicit choice, a contact list of a dataset that says nothing of consent.

    Raises
    ------
    SettingError
        The spec has a channel, the dataset has no consent or opt-out column, and neither
        ``no_consent_column`` nor ``include_no_consent`` says what that means.
    """
    if spec.no_consent_column is not None and spec.no_consent_column not in NO_CONSENT_CHOICES:
        raise SettingError("no consent column", spec.no_consent_column, f"one of {list(NO_CONSENT_CHOICES)}")
    if (spec.channel is not None and not spec.include_no_consent and spec.no_consent_column is None
            and not ds.columns_with_role("consent", "opt_out")):
        raise SettingError(
            "no consent column", None, f"one of {list(NO_CONSENT_CHOICES)}",
            f"Dataset {ds.name!r} has no consent or opt-out column, so nothing says who may be contacted. "
            "Choose: treat everyone as consenting (--no-consent-column treat-as-consenting) or exclude everyone "
            "(--no-consent-column exclude); the choice is written in the export log.")


def _contact_sql(ds: Dataset, spec: AudienceSpec) -> tuple[str, str]:
    """SQL of "has the channel's contact point" and of "may be contacted" (consent, no opt-out; without any
    consent or opt-out column, the spec's ``no_consent_column`` choice: everyone, or no one)."""
    if spec.channel is None:
        return "true", "true"
    if spec.channel not in CHANNELS:
        raise SettingError("channel", spec.channel, f"one of {list(CHANNELS)} or none")
    point = ds.columns_with_role(spec.channel)
    if not point:
        raise ColumnError(f"The dataset has no {spec.channel} column: pick another channel, or none.")
    has = f"({quote(point[0])} IS NOT NULL)"
    if not ds.columns_with_role("consent", "opt_out"):
        return has, "false" if spec.no_consent_column == "exclude" else "true"
    allowed = ["true"]
    for col in ds.columns_with_role("consent"):
        allowed.append(f"coalesce({_yes_no(quote(col))}, false)")
    for col in ds.columns_with_role("opt_out"):
        allowed.append(f"NOT coalesce({_yes_no(quote(col), opt_out=True)}, false)")
    return has, "(" + " AND ".join(allowed) + ")"


def _yes_no(col: str, opt_out: bool = False) -> str:
    """SQL of a consent or opt-out column as TRUE, FALSE or NULL: normalised (BOOLEAN) columns as they are,
    any other as the one yes/no vocabulary reads its words (``typeof`` is decided once, when DuckDB binds)."""
    return (f"(CASE WHEN typeof({col}) = 'BOOLEAN' THEN TRY_CAST({col} AS BOOLEAN) "
            f"ELSE {yes_no_sql(f'CAST({col} AS VARCHAR)', opt_out=opt_out)} END)")


def _suppressed_sql(ds: Dataset, spec: AudienceSpec) -> tuple[str, list]:
    if spec.suppression is None:
        return "false", []
    keys = [f"lower(trim(CAST({quote(c)} AS VARCHAR)))" for c in ds.columns_with_role("email", "id")]
    if not keys:
        return "false", []
    listed = "(SELECT value FROM suppression_values WHERE list_id = ?)"
    return "(" + " OR ".join(f"{k} IN {listed}" for k in keys) + ")", [int(spec.suppression)] * len(keys)


def _share(spec: AudienceSpec) -> float:
    """The holdout share, within 0..0.5."""
    return max(0.0, min(float(spec.holdout), 0.5))


def holdout_size(spec: AudienceSpec, final: int) -> int:
    """Customers held out of an audience of ``final``: the requested share, rounded to the nearest customer."""
    return math.floor(_share(spec) * final + 0.5)  # halves up, as the SQL of _holdout_sql


def _draw_sql(spec: AudienceSpec) -> str:
    """SQL of a customer's place in the holdout draw of ``spec``'s seed (with its id: the order is total)."""
    return f"md5('{int(spec.seed)}:' || customer_id)"


def _holdout_sql(spec: AudienceSpec) -> str:
    """SQL (a window over the audience's rows) of "held out": the first :func:`holdout_size` customers in the
    order of md5(seed, customer id), so the share is exact and the same seed draws the same customers."""
    order = f"{_draw_sql(spec)}, customer_id"
    return f"(row_number() OVER (ORDER BY {order}) <= floor({_share(spec)!r} * count(*) OVER () + 0.5))"


def _final_sql(q: _Query) -> str:
    """SQL of "in the audience" (its parameters: ``q.match_params + q.sup_params``)."""
    return f"{q.matching} AND {q.has} AND {q.consent_ok} AND NOT {q.suppressed}"


def preview_ids_sql(q: _Query, limit: int) -> tuple[str, list]:
    """The ids of the first ``limit`` customers of the audience by id (the rows of a preview)."""
    return (f"SELECT customer_id FROM ({q.base}) WHERE {_final_sql(q)} ORDER BY customer_id LIMIT {int(limit)}",
            q.params + q.match_params + q.sup_params)


def draw_places_sql(q: _Query, spec: AudienceSpec, ids: list[str]) -> tuple[str, list]:
    """For each of ``ids`` (customers of the audience), how many customers of the audience come before it in
    the holdout draw of ``spec``'s seed (in one scan: the draw is computed once per customer)."""
    params: list = []
    places = []
    for customer in ids:
        draw = hashlib.md5(f"{int(spec.seed)}:{customer}".encode()).hexdigest()  # md5() of DuckDB: the same
        places.append("count_if(draw < ? OR (draw = ? AND customer_id < ?))")
        params += [draw, draw, customer]
    return (f"SELECT {', '.join(places) or 'count(*)'} FROM (SELECT {_draw_sql(spec)} AS draw, customer_id "
            f"FROM ({q.base}) WHERE {_final_sql(q)})", params + q.params + q.match_params + q.sup_params)


def _where(ds: Dataset, spec: AudienceSpec, extra: dict[str, str]) -> tuple[list[tuple[str, str, list]], str, list]:
    """Per-condition SQL (label, sql, params) and the combined condition (OR of AND-groups)."""
    per, groups, params = [], [], []
    for group in spec.groups:
        parts = []
        for cond in group:
            sql, p = condition_sql(ds, cond, extra)
            per.append((cond.label, sql, p))
            parts.append(sql)
            params += p
        if parts:
            groups.append("(" + " AND ".join(parts) + ")")
    return per, ("(" + " OR ".join(groups) + ")") if groups else "true", params


@dataclass
class _Query:
    """The pieces of SQL an audience is counted and selected with (built once per call)."""

    ds: Dataset
    base: str                            # customers in the chosen segments
    params: list
    per: list[tuple[str, str, list]]     # each rule: label, SQL, parameters
    matching: str                        # OR of AND-groups
    match_params: list
    has: str                             # has the channel's contact point
    allowed: str                         # consent given, no opt-out
    suppressed: str
    sup_params: list
    kinds: dict[str, str]                # computed attributes (RFM, scores)
    include_no_consent: bool = False

    @property
    def consent_columns(self) -> list[str]:
        return self.ds.columns_with_role("consent", "opt_out")

    @property
    def consent_ok(self) -> str:
        return "true" if self.include_no_consent else self.allowed


def _query(store: Store, spec: AudienceSpec, ds: Dataset, counting: bool = False,
           segment_columns: bool | None = None) -> _Query:
    """The pieces of an audience's SQL; ``counting``: for its figures only (no column of the file, no
    segment columns unless the spec needs them, or ``segment_columns`` says)."""
    base, params = _base_sql(store, spec, ds, _named(replace(spec, columns=())) if counting else _named(spec),
                             segment_columns=not counting if segment_columns is None else segment_columns)
    kinds = attribute_kinds(store, ds)
    per, matching, match_params = _where(ds, spec, kinds)
    has, allowed = _contact_sql(ds, spec)
    suppressed, sup_params = _suppressed_sql(ds, spec)
    return _Query(ds, base, params, per, matching, match_params, has, allowed, suppressed, sup_params, kinds,
                  spec.include_no_consent)


def count_sql(q: _Query, spec: AudienceSpec) -> tuple[str, list]:
    """One query for every figure of :class:`AudienceCount` (see :func:`count`)."""
    final = f"{q.matching} AND {q.has} AND {q.consent_ok} AND NOT {q.suppressed}"
    selects = ["count(*)", f"count_if({q.matching})"]
    selects += [f"count_if(NOT coalesce({sql}, false))" for _label, sql, _p in q.per]
    selects += [f"count_if({q.matching} AND NOT {q.has})",
                "0" if spec.include_no_consent else f"count_if({q.matching} AND {q.has} AND NOT {q.allowed})",
                f"count_if({q.matching} AND {q.has} AND {q.consent_ok} AND {q.suppressed})",
                f"count_if({final})"]
    return (f"SELECT {', '.join(selects)} FROM ({q.base})",
            _ordered_params(q.match_params, q.per, q.sup_params, spec) + q.params)


def _ordered_params(match_params: list, per: list, sup_params: list, spec: AudienceSpec) -> list:
    """Parameters in the order :func:`count_sql` writes its expressions."""
    out = list(match_params)                       # count_if(matching)
    for _label, _sql, p in per:                    # each rule
        out += p
    out += match_params                            # no contact point
    if not spec.include_no_consent:
        out += match_params                        # no consent
    out += match_params + sup_params               # suppressed
    out += match_params + sup_params               # final
    return out


def select_sql(q: _Query, spec: AudienceSpec, columns: list[str], limit: int | None = None,
               part: str = "all") -> tuple[str, list]:
    """The audience's rows: ``columns`` (and a ``holdout`` flag, see :func:`audience_sql`)."""
    known = {*q.ds.columns, "segment", "segment_name", "customer_id", *q.kinds, *contact_columns(q.ds)}
    missing = [c for c in columns if c not in known]
    if missing:
        raise MissingColumnsError(missing, q.ds.columns)
    return audience_sql(q, spec, [(quote(c), c) for c in columns], limit, part)


def audience_sql(q: _Query, spec: AudienceSpec, outputs: list[tuple[str, str]], limit: int | None = None,
                 part: str = "all") -> tuple[str, list]:
    """The audience's rows as ``outputs`` (SQL expression over a customer, header), by customer id.

    ``part``: ``"all"`` (with a ``holdout`` flag when the spec keeps a holdout), ``"contacts"`` (the customers
    to contact, no flag) or ``"holdout"`` (the control group, no flag).
    """
    if part not in ("all", "contacts", "holdout"):
        raise SettingError("part", part, "all, contacts or holdout")
    if part == "holdout" and spec.holdout <= 0:
        part = "none"
    cols = ", ".join(f"{sql} AS {quote(header)}" for sql, header in outputs)
    flag = _holdout_sql(spec) if spec.holdout > 0 else "false"
    inner = f"SELECT *, {flag} AS _held_out FROM ({q.base}) WHERE {_final_sql(q)}"
    keep = {"all": "true", "contacts": "NOT _held_out", "holdout": "_held_out", "none": "false"}[part]
    shown = ", _held_out AS holdout" if part == "all" and spec.holdout > 0 else ""
    sql = f"SELECT {cols}{shown} FROM ({inner}) WHERE {keep} ORDER BY customer_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql, q.params + q.match_params + q.sup_params


# ------------------------------------------------------------------ counting and selecting (run by the repository)

def _dataset(store: Store, spec: AudienceSpec, ds: Dataset | None) -> Dataset:
    """The audience's dataset: the one a caller resolved already (a handle's), else the spec's."""
    return ds if ds is not None else DatasetsRepository(store).dataset(spec.dataset or None)


def count(store: Store, spec: AudienceSpec, ds: Dataset | None = None) -> AudienceCount:
    """Live figures of an audience, in one DuckDB query: in segments, matching, excluded by each rule, by
    missing contact point, by consent and by suppression, final size and holdout."""
    ds = _dataset(store, spec, ds)
    q = _query(store, spec, ds, counting=True)
    row = AudiencesRepository(store).figures(*count_sql(q, spec))
    n_rules = len(q.per)
    return AudienceCount(
        in_segments=int(row[0]), matching=int(row[1]),
        excluded_by_rule={label: int(v) for (label, _s, _p), v in zip(q.per, row[2:2 + n_rules], strict=True)},
        excluded_no_contact=int(row[2 + n_rules]), excluded_no_consent=int(row[3 + n_rules]),
        excluded_suppressed=int(row[4 + n_rules]), final=int(row[5 + n_rules]),
        holdout=holdout_size(spec, int(row[5 + n_rules])), consent_column=bool(q.consent_columns))


def counting_spec(spec: AudienceSpec) -> AudienceSpec:
    """The part of a spec its figures depend on: without the file's columns, the holdout share and its seed.

    ``with_holdout(count(counting_spec(spec)), spec)`` equals ``count(spec)``: a page that keys its count on
    this spec does not count a million customers again when the holdout slider or the columns move.
    """
    return replace(spec, columns=(), holdout=0.0, seed=0)


def with_holdout(figures: AudienceCount, spec: AudienceSpec) -> AudienceCount:
    """``figures`` (of any spec counting the same customers) with the holdout of ``spec``."""
    return replace(figures, holdout=holdout_size(spec, figures.final))


def default_columns(store: Store, spec: AudienceSpec, ds: Dataset | None = None) -> list[str]:
    """Data minimisation: the record id, names, the channel's contact point and the segment name."""
    ds = _dataset(store, spec, ds)
    cols = ds.columns_with_role("id", "first_name", "last_name", "full_name", "company")
    if spec.channel:
        cols += ds.columns_with_role(spec.channel)[:1]
    return [*cols, "segment_name"]


def personal_columns(store: Store, spec: AudienceSpec, columns: list[str], ds: Dataset | None = None) -> list[str]:
    """Of ``columns``, those holding personal data (names, e-mail, phone, address, birth date, identifiers)."""
    ds = _dataset(store, spec, ds)
    return [c for c in columns if ds.roles.get(c) in PERSONAL_ROLES]


def select(store: Store, spec: AudienceSpec, limit: int | None = None, ds: Dataset | None = None,
           part: str = "all") -> pd.DataFrame:
    """The audience's rows: the chosen columns (default :func:`default_columns`); with ``part="all"`` a
    ``holdout`` flag when the spec keeps a holdout, ``"contacts"`` the customers to contact only,
    ``"holdout"`` the control group only."""
    ds = _dataset(store, spec, ds)
    columns = list(spec.columns) or default_columns(store, spec, ds)
    run = _late_segments(store, spec, ds) if limit is not None and part == "all" and spec.holdout <= 0 else None
    if run is None:
        return AudiencesRepository(store).frame(*select_sql(_query(store, spec, ds), spec, columns, limit, part))
    # A preview of every segment: its first rows picked without the run's members, then their segments.
    q = _query(store, spec, ds, segment_columns=False)
    first = f"SELECT * FROM ({q.base}) WHERE {_final_sql(q)} ORDER BY customer_id LIMIT {int(limit)}"
    joined, names = _with_segments_sql(store, run, first)
    picked = replace(q, base=joined, params=names + q.params + q.match_params + q.sup_params, per=[],
                     matching="true", match_params=[], has="true", allowed="true", suppressed="false", sup_params=[])
    return AudiencesRepository(store).frame(*select_sql(picked, spec, columns, limit, part))


def draw_places(store: Store, spec: AudienceSpec, limit: int, ds: Dataset | None = None) -> list[int]:
    """For the first ``limit`` customers of the audience by id (the rows of ``select(spec, limit)``), how many
    customers of the audience come before each in the holdout draw of ``spec``'s seed (its holdout share does
    not matter): customer ``i`` is held out when that is below :func:`holdout_size` (see :func:`held_out`).

    A page keys this on the spec without its share, so that moving the holdout slider reads nothing again
    (the window of :func:`audience_sql` sorts the whole audience for every share).
    """
    ds = _dataset(store, spec, ds)
    q = _query(store, spec, ds, counting=True)
    repo = AudiencesRepository(store)
    ids = repo.frame(*preview_ids_sql(q, limit))["customer_id"].tolist()
    return [int(v) for v in repo.figures(*draw_places_sql(q, spec, ids))[:len(ids)]]


def held_out(preview: pd.DataFrame, places: list[int], spec: AudienceSpec, figures: AudienceCount) -> pd.DataFrame:
    """``preview`` (``select`` of ``spec`` without its holdout) with the ``holdout`` flag of ``spec``, given the
    :func:`draw_places` of its rows and the audience's ``figures``: equal to ``select`` of ``spec``."""
    if spec.holdout <= 0:
        return preview
    held = holdout_size(spec, figures.final)
    return preview.assign(holdout=pd.Series([p < held for p in places], index=preview.index, dtype=bool))


# ------------------------------------------------------------------ suppression, saved audiences, exports

def save_suppression(store: Store, name: str, values: list[str]) -> int:
    """Keep a suppression list (e-mails or record ids, compared trimmed and lower-case); returns its id."""
    cleaned = sorted({str(v).strip().lower() for v in values if str(v).strip()})
    if not cleaned:
        raise DataError("The suppression file holds no e-mail or id.")
    return AudiencesRepository(store).save_suppression(name, cleaned)


def suppression_values(frame: pd.DataFrame) -> list[str]:
    """The e-mails (or, without an e-mail column, the first column's values) of an uploaded suppression file."""
    emails = [c for c in frame.columns if re.search(r"mail", str(c), re.IGNORECASE)]
    column = emails[0] if emails else frame.columns[0]
    return [str(v) for v in frame[column].dropna()]


def save_audience(store: Store, name: str, spec: AudienceSpec, ds: Dataset | None = None) -> None:
    """Keep an audience's definition under a name (replacing one of that name), with its dataset."""
    name = name.strip()
    if not name:
        raise SettingError("audience name", name, "some text")
    ds = _dataset(store, spec, ds)
    count(store, spec, ds)  # refuse a definition that does not run
    AudiencesRepository(store).save_audience(ds.id, name, spec.to_json())


def get_audience(store: Store, name: str) -> AudienceSpec:
    """A saved audience's definition."""
    repo = AudiencesRepository(store)
    found = repo.audience_spec(name)
    if found is None:
        raise NotFoundError(f"No saved audience named {name!r}; the store has {repo.audience_names()}.")
    return AudienceSpec.from_json(found)


def saved_audiences(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Saved audiences: name, when, definition (of every dataset, or those of ``dataset``, whose definition
    names it or no dataset)."""
    frame = AudiencesRepository(store).saved()
    if dataset is None:
        return frame
    keep = frame["spec"].map(lambda s: AudienceSpec.from_json(s).dataset in (None, dataset)).astype(bool)
    return frame[keep].reset_index(drop=True)


def category_values(store: Store, ds: Dataset, column: str, search: str = "", limit: int = 20) -> pd.DataFrame:
    """A column's most frequent values and their number of customers (``value``, ``customers``), for a value
    picker; ``search`` keeps those whose spelling contains it, case, accents and spaces folded."""
    if column not in ds.columns and column not in attribute_kinds(store, ds):
        raise MissingColumnsError([column], ds.columns)
    return AudiencesRepository(store).frame(*category_values_sql(customers_sql(store, ds, {column}), column,
                                                                         search, limit))


def saved_with_sizes(store: Store, dataset: str) -> pd.DataFrame:
    """This dataset's saved audiences with their current size: ``name``, ``saved_at``, ``customers`` (None when
    the definition no longer runs on today's data) and ``status`` (``ok`` or why it does not run)."""
    frame = saved_audiences(store, dataset)
    sizes, status = [], []
    for spec_json in frame["spec"]:
        try:
            figures = count(store, AudienceSpec.from_json(spec_json))
        except SegmentStudioError as exc:
            sizes.append(None)
            status.append(str(exc))
        else:
            sizes.append(figures.final)
            status.append("ok")
    return frame.assign(customers=pd.array(sizes, dtype="Int64"), status=status)[
        ["name", "saved_at", "customers", "status", "spec"]]


def delete_audience(store: Store, name: str) -> None:
    """Forget a saved audience (its exports stay in the log)."""
    repo = AudiencesRepository(store)
    if repo.audience_spec(name) is None:
        raise NotFoundError(f"No saved audience named {name!r}; the store has {repo.audience_names()}.")
    repo.delete_audience(name)


def duplicate_audience(store: Store, name: str, new_name: str) -> str:
    """Save a copy of a saved audience under ``new_name`` (refused if that name is taken); returns it."""
    new_name = new_name.strip()
    repo = AudiencesRepository(store)
    if repo.audience_spec(new_name) is not None:
        raise SettingError("audience name", new_name, "a name no saved audience has")
    spec = get_audience(store, name)
    save_audience(store, new_name, spec)
    return new_name


def overlap(store: Store, names: list[str]) -> pd.DataFrame:
    """Customers in both of every two saved audiences (the diagonal: each audience's size)."""
    members = {}
    for name in names:
        spec = get_audience(store, name)
        members[name] = set(select(store, replace(spec, columns=("customer_id",)))["customer_id"])
    return pd.DataFrame([[len(members[a] & members[b]) for b in names] for a in names], index=names, columns=names)


def log_export(store: Store, audience: str | None, spec: AudienceSpec, rows: int, columns: list[str],
               file_name: str, preset: str | None = None, hashed: bool = False,
               members: list[str] | None = None, ds: Dataset | None = None) -> None:
    """Record an export: when, which audience, how many rows, which columns, the preset, and the consent
    choice (``include_no_consent``, and ``no_consent_column`` for a dataset without a consent column); with
    ``members`` (customer ids of ``ds``) of a saved audience, who was in it (for the next export's changes)."""
    logged = {**json.loads(spec.to_json()), "preset": preset, "hashed": hashed}
    AudiencesRepository(store).log_export(audience, json.dumps(logged, ensure_ascii=False), spec.include_no_consent,
                                          rows, columns, file_name, members if audience and ds else None,
                                          ds.id if ds else None)


def _consent_words(spec_json: str) -> str:
    """The consent choice of a logged export, in words."""
    spec = json.loads(spec_json)
    if spec.get("include_no_consent"):
        return "included customers without consent"
    choice = spec.get("no_consent_column")
    return {"treat-as-consenting": "no consent column: treated as consenting",
            "exclude": "no consent column: everyone excluded"}.get(choice, "consent respected")


def export_log(store: Store) -> pd.DataFrame:
    """Every export, newest first, with its ``consent`` choice in words and its ``preset``."""
    log = AudiencesRepository(store).export_log()
    log["consent"] = log["spec"].map(_consent_words)
    log["preset"] = log["spec"].map(lambda s: json.loads(s).get("preset"))
    return log.drop(columns=["spec"])


def last_export_rows(store: Store, audience: str, file_name: str) -> int | None:
    """Rows of the last export of ``audience`` to a file named ``file_name`` (None: never exported there)."""
    return AudiencesRepository(store).last_export_rows(audience, file_name)


def parse_filter(text: str) -> Condition:
    """A CLI filter: ``column=value``, ``column!=value``, ``column>=number``, ``column<=number``,
    ``column~substring``; a value with spaces may be quoted; ``a|b`` means one of."""
    match = re.fullmatch(r"\s*(.+?)\s*(!=|>=|<=|=|~)\s*(.*?)\s*", text)
    if not match:
        expected = "column=value, column!=value, column>=number, column<=number or column~text"
        raise SettingError("filter", text, expected, f"Cannot read filter {text!r}: expected {expected}.")
    column, op, value = match.groups()
    column, value = column.strip("\"'"), value.strip("\"'")
    if op in ("=", "!="):
        values = value.split("|")
        return Condition(column, ("eq" if len(values) == 1 else "in") if op == "=" else "not_in",
                         values[0] if len(values) == 1 and op == "=" else values)
    return Condition(column, {">=": "ge", "<=": "le", "~": "contains"}[op], value)


def _sources(ds: Dataset, q: _Query) -> dict[str, str]:
    """What a destination preset can take from this dataset: :data:`presets.SOURCES` key -> SQL."""
    found: dict[str, str] = {}
    extra = contact_columns(ds)
    for kind in KEEP_ALL_ROLES:
        columns = ds.columns_with_role(kind)
        if columns:
            found[kind] = quote(columns[0])
            for n in range(2, EXTRA_CONTACTS + 1):
                if f"{columns[0]} {n}" in extra:
                    found[f"{kind} {n}"] = quote(f"{columns[0]} {n}")
    for role in ("first_name", "last_name", "postcode", "city", "company", "id"):
        columns = ds.columns_with_role(role)
        if columns:
            found[role] = quote(columns[0])
    country, phone = ds.columns_with_role("country"), ds.columns_with_role("phone")
    found["country"] = presets.country_sql(quote(country[0]) if country else None,
                                           quote(phone[0]) if phone else None, ds.options.get("default_region"))
    opted_out = " OR ".join(f"coalesce({_yes_no(quote(c), opt_out=True)}, false)"
                            for c in ds.columns_with_role("opt_out")) or "false"
    found["consent"] = f"(CASE WHEN {q.allowed} THEN true WHEN {opted_out} THEN false END)"
    found["segment_name"] = quote("segment_name")
    return found


def _outputs(store: Store, spec: AudienceSpec, q: _Query, preset: str | None, hashed: bool) -> list[tuple[str, str]]:
    """The file's columns as (SQL, header): the spec's columns, or the destination preset's."""
    if preset is None:
        return [(quote(c), c) for c in list(spec.columns) or default_columns(store, spec, q.ds)]
    return presets.preset_columns(presets.get_preset(preset), _sources(q.ds, q), hashed)


def _frame(store: Store, sql: str, params: list, outputs: list[tuple[str, str]]) -> tuple[pd.DataFrame, list[str]]:
    """Run a query of ``outputs`` then ``customer_id`` (as ``_c0``..., ``_id``): the frame and the ids."""
    frame = AudiencesRepository(store).frame(sql, params)
    ids = frame.pop("_id").astype(str).tolist()
    frame.columns = [header for _sql, header in outputs]
    return frame, ids


def _with_ids(outputs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [*((sql, f"_c{i}") for i, (sql, _h) in enumerate(outputs)), ("customer_id", "_id")]


def audience_rows(store: Store, spec: AudienceSpec, part: str = "contacts", preset: str | None = None,
                  hashed: bool = False, ds: Dataset | None = None) -> tuple[pd.DataFrame, list[str]]:
    """:func:`audience_frame` and the customer ids of its rows."""
    ds = _dataset(store, spec, ds)
    q = _query(store, spec, ds)
    outputs = _outputs(store, spec, q, preset, hashed)
    known = {*ds.columns, "segment", "segment_name", "customer_id", *q.kinds, *contact_columns(ds)}
    missing = [c for c in spec.columns if c not in known] if preset is None else []
    if missing:
        raise MissingColumnsError(missing, ds.columns)
    return _frame(store, *audience_sql(q, spec, _with_ids(outputs), part=part), outputs)


def audience_frame(store: Store, spec: AudienceSpec, part: str = "contacts", preset: str | None = None,
                   hashed: bool = False, ds: Dataset | None = None) -> pd.DataFrame:
    """The rows of one file of an audience: ``part`` is ``"contacts"`` (the customers to contact) or
    ``"holdout"`` (the control group); with a destination ``preset`` (see :mod:`.presets`), its columns,
    headers and value formats, identifiers SHA-256-hashed with ``hashed``."""
    return audience_rows(store, spec, part, preset, hashed, ds)[0]


def customers_rows(store: Store, spec: AudienceSpec, ids: list[str], preset: str | None = None,
                   hashed: bool = False, ds: Dataset | None = None) -> pd.DataFrame:
    """Today's rows of the customers ``ids`` (in or out of the audience), in the audience file's columns."""
    ds = _dataset(store, spec, ds)
    q = _query(store, spec, ds)
    outputs = _outputs(store, spec, q, preset, hashed)
    cols = ", ".join(f"{sql} AS {quote(header)}" for sql, header in _with_ids(outputs))
    sql = (f"SELECT {cols} FROM ({q.base}) WHERE list_contains(CAST(? AS VARCHAR[]), customer_id) "
           "ORDER BY customer_id")
    return _frame(store, sql, [*q.params, list(ids)], outputs)[0]


def _file_format(path: Path, excel_french: bool) -> str:
    """The encoding of a file named ``path``: ``csv``, ``csv-excel``, ``xlsx`` or ``parquet``."""
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise SettingError("file name", path.name, f"a name ending in {', '.join(EXPORT_FORMATS)}")
    return "csv-excel" if fmt == "csv" and excel_french else fmt


def holdout_path(out: Path) -> Path:
    """Where the holdout of an export to ``out`` goes by default: ``<name> (holdout).<ext>`` beside it."""
    return out.with_name(f"{out.stem} (holdout){out.suffix}")


def export(store: Store, spec: AudienceSpec, out: str | Path, *, excel_french: bool = False,
           holdout_out: str | Path | None = None, audience: str | None = None, preset: str | None = None,
           hashed: bool = False, changes_out: str | Path | None = None, ds: Dataset | None = None) -> ExportResult:
    """Write an audience's customers to contact to ``out`` and its holdout, if any, to ``holdout_out``
    (default :func:`holdout_path`); formula-safe, and logged (with the consent choice).

    The file format follows the extension (``.csv``, ``.xlsx``, ``.parquet``); a destination ``preset`` sets
    the columns, headers, separator and value formats (its extension must match). With ``changes_out`` (a
    folder; a saved ``audience`` only), the customers added since its previous export and those removed go to
    ``<audience> added.<ext>`` and ``<audience> removed.<ext>`` there (today's rows of the removed ones).

    Returns
    -------
    ExportResult
        ``rows``, ``excluded_no_consent``, ``holdout_rows``, ``columns``, ``out`` (and ``holdout_out``),
        ``warnings`` (the destination's limits the list is outside of).
    """
    out = Path(out)
    ds = _dataset(store, spec, ds)
    check_consent_choice(ds, spec)
    fmt = _file_format(out, excel_french)
    chosen = presets.get_preset(preset) if preset else None
    if chosen is not None and out.suffix.lower() != f".{chosen.extension}":
        raise SettingError("file name", out.name, f"a .{chosen.extension} file for the {chosen.name} preset")
    figures = count(store, spec, ds)
    contacts, ids = audience_rows(store, spec, "contacts", preset, hashed, ds)
    files = {out: contacts}
    held_path = (Path(holdout_out) if holdout_out else holdout_path(out)) if spec.holdout > 0 else None
    if held_path is not None:
        files[held_path] = audience_frame(store, spec, "holdout", preset, hashed, ds)
    changes: dict[str, Path] = {}
    if changes_out is not None:
        if not audience:
            raise SettingError("changes out", str(changes_out), "an export of a saved audience (--audience NAME)")
        previous = set(AudiencesRepository(store).last_members(audience))
        changes = {kind: Path(changes_out) / f"{audience} {kind}{out.suffix}" for kind in ("added", "removed")}
        files[changes["added"]] = contacts[~pd.Series(ids, dtype=object).isin(previous).to_numpy()]
        files[changes["removed"]] = customers_rows(store, spec, sorted(previous - set(ids)), preset, hashed, ds)
    for path, part in files.items():
        write_bytes(encode(part, fmt, "Audience", separator=chosen.separator if chosen else None), path)
    log_export(store, audience, spec, len(contacts), list(contacts.columns), out.name, preset, hashed, ids, ds)
    warning = chosen.size_warning(len(contacts)) if chosen else None
    return ExportResult(rows=len(contacts), excluded_no_consent=figures.excluded_no_consent,
                        holdout_rows=len(files[held_path]) if held_path else 0, out=str(out),
                        columns=list(contacts.columns), holdout_out=str(held_path) if held_path else None,
                        warnings=[warning] if warning else [],
                        changes={k: {"out": str(v), "rows": len(files[v])} for k, v in changes.items()})


def holdout_files(frame: pd.DataFrame, out: Path) -> dict[Path, pd.DataFrame]:
    """The files an audience is written to: the customers to contact in ``out``, and the holdout (control
    group), if the audience keeps one, apart in ``<name> (holdout).<ext>``: never inside the contact file."""
    if "holdout" not in frame:
        return {out: frame}
    return {out: frame[~frame["holdout"]].drop(columns=["holdout"]),
            out.with_name(f"{out.stem} (holdout){out.suffix}"): frame[frame["holdout"]].drop(columns=["holdout"])}


def render(store: Store, spec: AudienceSpec, file_format: str = "csv-excel", audience: str | None = None,
           ds: Dataset | None = None, *, part: str = "contacts", preset: str | None = None,
           hashed: bool = False, language: str | None = None) -> bytes:
    """One file of an audience as bytes for a download, logged: ``part`` ``"contacts"`` (the customers to
    contact) or ``"holdout"``; ``file_format`` ``csv-excel`` (BOM and ``;``), ``csv``, ``xlsx`` or ``parquet``,
    or a destination ``preset`` (its own format). With a ``language`` (the page's), a general export's
    app-named headers and yes/no values are in that language (:func:`.export.localise`); a preset's never."""
    ds = _dataset(store, spec, ds)
    check_consent_choice(ds, spec)
    chosen = presets.get_preset(preset) if preset else None
    frame = audience_frame(store, spec, part, preset, hashed, ds)
    if chosen is None:
        frame = localise(frame, language, set(ds.columns))
    fmt = chosen.file_format if chosen else file_format
    data = encode(frame, fmt, "Audience", separator=chosen.separator if chosen else None)
    extension = chosen.extension if chosen else {"xlsx": "xlsx", "parquet": "parquet"}.get(fmt, "csv")
    suffix = " (holdout)" if part == "holdout" else ""
    log_export(store, audience, spec, len(frame), list(frame.columns), f"{audience or 'audience'}{suffix}.{extension}",
               preset, hashed)
    return data


def spec_digest(spec: AudienceSpec) -> str:
    """A short fingerprint of a definition."""
    return hashlib.sha1(spec.to_json().encode()).hexdigest()[:12]


__all__ = ["CHANNELS", "EXTRA_CONTACTS", "NO_CONSENT_CHOICES", "OPERATORS", "AudienceCount", "AudienceSpec",
           "Condition", "ExportResult", "ExportSettings", "applies", "attribute_kinds", "audience_frame",
           "audience_rows", "audience_sql", "category_values", "category_values_sql", "check_consent_choice",
           "condition_sql", "contact_columns", "count", "count_sql", "counting_spec", "customers_rows",
           "customers_sql", "default_columns", "delete_audience", "draw_places", "draw_places_sql",
           "duplicate_audience", "export", "export_log", "fold_sql", "get_audience", "held_out", "holdout_files",
           "holdout_path", "holdout_size", "last_export_rows", "log_export", "overlap", "parse_filter",
           "personal_columns", "preview_ids_sql", "render", "save_audience", "save_suppression", "saved_audiences",
           "saved_with_sizes", "select", "select_sql", "spec_digest", "suppression_values", "with_holdout"]

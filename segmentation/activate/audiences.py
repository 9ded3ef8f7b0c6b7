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
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from ..core.errors import ColumnError, DataError, MissingColumnsError, NotFoundError, SettingError
from ..core.store import Dataset, Store, quote
from ..core.vocabulary import yes_no, yes_no_sql
from ..customers import repository as customers
from ..ingest.repository import DatasetsRepository
from ..ingest.roles import ROLE_KIND
from ..segment import runs as segments
from .export import encode, write_file
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
        Write the holdout (control group) to ``<name> (holdout).<ext>`` beside the file, which then holds
        only the customers to contact (else a ``holdout`` column flags them).
    """

    format: str = "csv-excel"
    holdout_file: bool = False


@dataclass
class ExportResult:
    """What an export wrote (``to_dict``: the CLI's JSON)."""

    rows: int
    excluded_no_consent: int
    holdout_rows: int
    out: str
    columns: list[str]
    holdout_out: str | None = None

    def to_dict(self) -> dict:
        data = {"rows": self.rows, "excluded_no_consent": self.excluded_no_consent,
                "holdout_rows": self.holdout_rows, "out": self.out}
        if self.holdout_out is not None:
            data["holdout_out"] = self.holdout_out
        data["columns"] = list(self.columns)
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
    if kind == "boolean":  # "oui"/"yes"/"true"/"1" all mean true: the one yes/no vocabulary
        target = f"CAST({col} AS VARCHAR)"
        text = ["true" if yes_no(v) is True else "false" for v in text]
    placeholders = ", ".join("?" * len(text))
    if cond.op in ("eq", "in"):
        return f"({target} IN ({placeholders}))", text
    return f"({target} IS NULL OR {target} NOT IN ({placeholders}))", text


def _number(cond: Condition) -> float:
    try:
        return float(str(cond.value).replace("\u202f", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise SettingError(repr(cond.label), cond.value, "a number") from None


def customers_sql(store: Store, ds: Dataset) -> str:
    """SQL of the dataset's customers (``customer_id`` and every column, computed attributes joined on).

    Who is a customer is the customers stage's to say (its golden records once merges exist); this only
    joins the computed attributes on.
    """
    sql = customers.customers_relation(store, ds)
    extra = customers.kinds(store, ds)
    return customers.join_sql(store, ds, list(extra), sql) if extra else sql


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


def _base_sql(store: Store, spec: AudienceSpec, ds: Dataset) -> tuple[str, list]:
    """Customers (with ``segment`` and ``segment_name``) in the chosen segments."""
    run = _run_of(store, spec, ds)
    params: list = []
    if run is not None:
        names = segments.names_for(store, run)
        names_sql = "SELECT * FROM (VALUES " + ", ".join(f"({int(k)}, ?)" for k in names) + ") n(segment, name)"
        sql = (f"SELECT c.*, m.segment, n.name AS segment_name FROM ({customers_sql(store, ds)}) c "
               f"LEFT JOIN ({segments.members_sql(run)}) m USING (customer_id) "
               f"LEFT JOIN ({names_sql}) n ON n.segment = m.segment")
        params = list(names.values())
    else:
        sql = (f"SELECT c.*, NULL::INTEGER AS segment, NULL::VARCHAR AS segment_name "
               f"FROM ({customers_sql(store, ds)}) c")
    if spec.segments:
        if run is None:
            raise DataError("Segments were chosen but the dataset has no segment run.")
        bad = [s for s in spec.segments if not 0 <= int(s) < run.k]
        if bad:
            raise SettingError("segments", bad, f"segments of run {run.name!r}: 0..{run.k - 1}")
        sql = f"SELECT * FROM ({sql}) WHERE segment IN ({', '.join(str(int(s)) for s in spec.segments)})"
    return sql, params


def _contact_sql(ds: Dataset, spec: AudienceSpec) -> tuple[str, str]:
    """SQL of "has the channel's contact point" and of "may be contacted" (consent, no opt-out)."""
    if spec.channel is None:
        return "true", "true"
    if spec.channel not in CHANNELS:
        raise SettingError("channel", spec.channel, f"one of {list(CHANNELS)} or none")
    point = ds.columns_with_role(spec.channel)
    if not point:
        raise ColumnError(f"The dataset has no {spec.channel} column: pick another channel, or none.")
    has = f"({quote(point[0])} IS NOT NULL)"
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


def _holdout_sql(spec: AudienceSpec) -> str:
    # md5 of seed and customer id: the same seed always draws the same customers, whatever else changes.
    share = max(0.0, min(float(spec.holdout), 0.5))
    return (f"(CAST(('0x' || left(md5('{int(spec.seed)}:' || customer_id), 8)) AS UBIGINT) "
            f"< {int(share * 4294967296)})")


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
    def consent_ok(self) -> str:
        return "true" if self.include_no_consent else self.allowed


def _query(store: Store, spec: AudienceSpec, ds: Dataset) -> _Query:
    base, params = _base_sql(store, spec, ds)
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
                f"count_if({final})", f"count_if({final} AND {_holdout_sql(spec)})"]
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
    out += match_params + sup_params               # holdout
    return out


def select_sql(q: _Query, spec: AudienceSpec, columns: list[str], limit: int | None = None) -> tuple[str, list]:
    """The audience's rows: ``columns`` and a ``holdout`` flag when the spec keeps a holdout."""
    known = {*q.ds.columns, "segment", "segment_name", "customer_id", *q.kinds}
    missing = [c for c in columns if c not in known]
    if missing:
        raise MissingColumnsError(missing, q.ds.columns)
    cols = ", ".join(quote(c) for c in columns)
    flag = f", {_holdout_sql(spec)} AS holdout" if spec.holdout > 0 else ""
    sql = (f"SELECT {cols}{flag} FROM ({q.base}) "
           f"WHERE {q.matching} AND {q.has} AND {q.consent_ok} AND NOT {q.suppressed} ORDER BY customer_id")
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
    q = _query(store, spec, ds)
    row = AudiencesRepository(store).figures(*count_sql(q, spec))
    n_rules = len(q.per)
    return AudienceCount(
        in_segments=int(row[0]), matching=int(row[1]),
        excluded_by_rule={label: int(v) for (label, _s, _p), v in zip(q.per, row[2:2 + n_rules], strict=True)},
        excluded_no_contact=int(row[2 + n_rules]), excluded_no_consent=int(row[3 + n_rules]),
        excluded_suppressed=int(row[4 + n_rules]), final=int(row[5 + n_rules]), holdout=int(row[6 + n_rules]))


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


def select(store: Store, spec: AudienceSpec, limit: int | None = None, ds: Dataset | None = None) -> pd.DataFrame:
    """The audience's rows: the chosen columns (default :func:`default_columns`), and a ``holdout`` flag
    when the spec keeps a holdout."""
    ds = _dataset(store, spec, ds)
    q = _query(store, spec, ds)
    columns = list(spec.columns) or default_columns(store, spec, ds)
    return AudiencesRepository(store).frame(*select_sql(q, spec, columns, limit))


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


def overlap(store: Store, names: list[str]) -> pd.DataFrame:
    """Customers in both of every two saved audiences (the diagonal: each audience's size)."""
    members = {}
    for name in names:
        spec = get_audience(store, name)
        members[name] = set(select(store, replace(spec, columns=("customer_id",)))["customer_id"])
    return pd.DataFrame([[len(members[a] & members[b]) for b in names] for a in names], index=names, columns=names)


def log_export(store: Store, audience: str | None, spec: AudienceSpec, rows: int, columns: list[str],
               file_name: str) -> None:
    """Record an export: when, which audience, how many rows, which columns, and the consent choice."""
    AudiencesRepository(store).log_export(audience, spec.to_json(), spec.include_no_consent, rows, columns, file_name)


def export_log(store: Store) -> pd.DataFrame:
    """Every export, newest first."""
    return AudiencesRepository(store).export_log()


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


def export(store: Store, spec: AudienceSpec, out: str | Path, *, excel_french: bool = False,
           holdout_file: bool = False, audience: str | None = None, ds: Dataset | None = None) -> ExportResult:
    """Write an audience to ``out`` (CSV or XLSX by extension), formula-safe, and log the export.

    The holdout is a ``holdout`` column, or with ``holdout_file`` a second file ``<name> (holdout).<ext>``
    beside ``out`` (then the main file holds only the customers to contact).

    Returns
    -------
    ExportResult
        ``rows``, ``excluded_no_consent``, ``holdout_rows``, ``columns``, ``out`` (and ``holdout_out``).
    """
    out = Path(out)
    ds = _dataset(store, spec, ds)
    frame = select(store, spec, ds=ds)
    figures = count(store, spec, ds)
    files = holdout_files(frame, out, holdout_file)
    holdout_out = None
    for path, part in files.items():
        write_file(part, path, excel_french=excel_french)
        if path != out:
            holdout_out = str(path)
    columns = list(files[out].columns)
    log_export(store, audience, spec, len(files[out]), columns, out.name)
    return ExportResult(rows=len(files[out]), excluded_no_consent=figures.excluded_no_consent,
                        holdout_rows=int(frame["holdout"].sum()) if "holdout" in frame else 0, out=str(out),
                        columns=columns, holdout_out=holdout_out)


def holdout_files(frame: pd.DataFrame, out: Path, holdout_file: bool) -> dict[Path, pd.DataFrame]:
    """The files an audience is written to: ``out`` alone (a ``holdout`` column flags the control group), or
    with ``holdout_file`` the customers to contact in ``out`` and the holdout in ``<name> (holdout).<ext>``."""
    if not (holdout_file and "holdout" in frame):
        return {out: frame}
    return {out: frame[~frame["holdout"]].drop(columns=["holdout"]),
            out.with_name(f"{out.stem} (holdout){out.suffix}"): frame[frame["holdout"]].drop(columns=["holdout"])}


def render(store: Store, spec: AudienceSpec, file_format: str = "csv-excel", audience: str | None = None,
           ds: Dataset | None = None) -> bytes:
    """An audience as file bytes for a download (``csv-excel``: BOM and ``;``; ``csv``; ``xlsx``), logged."""
    frame = select(store, spec, ds=ds)
    data = encode(frame, file_format, "Audience")
    log_export(store, audience, spec, len(frame), list(frame.columns),
               f"{audience or 'audience'}.{'xlsx' if file_format == 'xlsx' else 'csv'}")
    return data


def spec_digest(spec: AudienceSpec) -> str:
    """A short fingerprint of a definition."""
    return hashlib.sha1(spec.to_json().encode()).hexdigest()[:12]


__all__ = ["CHANNELS", "OPERATORS", "AudienceCount", "AudienceSpec", "Condition", "ExportResult", "ExportSettings",
           "attribute_kinds", "condition_sql", "count", "count_sql", "customers_sql", "default_columns", "export",
           "export_log", "get_audience", "holdout_files", "last_export_rows", "log_export", "overlap",
           "parse_filter", "personal_columns", "render", "save_audience", "save_suppression", "saved_audiences",
           "select", "select_sql", "spec_digest", "suppression_values"]

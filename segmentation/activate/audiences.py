"""Audiences: segments of a run plus conditions on any attribute, consent respected, safe lists out.

An audience is data (:class:`AudienceSpec`): which run and segments, groups
of conditions (AND within a group, OR between groups), the channel, the
columns that leave the tool, a holdout share. Everything is counted and
selected in DuckDB, so counts stay live on a million customers; this module
builds the SQL and :class:`segmentation.core.store.Store` runs it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..core.errors import ColumnError, NotFoundError
from ..core.store import Dataset, Store, quote
from ..customers import attributes
from ..customers.identity import golden_table
from ..dedupe.review import has_merges
from ..ingest.roles import ROLE_KIND
from .export import encode, write_file

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


# ------------------------------------------------------------------ SQL building

def _kind(ds: Dataset, column: str) -> str:
    return ROLE_KIND.get(ds.roles.get(column, "text"), "text")


def condition_sql(ds: Dataset, cond: Condition, extra: dict[str, str] | None = None) -> tuple[str, list]:
    """SQL and parameters of one condition on the customers table (column quoted, values as parameters).

    ``extra`` names computed attributes (RFM) with their kind (``"number"`` or ``"category"``).
    """
    extra = extra or {}
    if cond.column not in ds.columns and cond.column != "segment_name" and cond.column not in extra:
        raise ColumnError(f"Missing columns [{cond.column!r}]; found {ds.columns}")
    if cond.op not in OPERATORS:
        raise ColumnError(f"Unknown operator {cond.op!r}; expected one of {list(OPERATORS)}")
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
    if kind == "boolean":  # "oui"/"yes"/"true" all mean true
        target = f"CAST({col} AS VARCHAR)"
        text = ["true" if v in ("true", "oui", "yes", "1", "vrai", "y") else "false" for v in text]
    placeholders = ", ".join("?" * len(text))
    if cond.op in ("eq", "in"):
        return f"({target} IN ({placeholders}))", text
    return f"({target} IS NULL OR {target} NOT IN ({placeholders}))", text


def _number(cond: Condition) -> float:
    try:
        return float(str(cond.value).replace("\u202f", "").replace(" ", "").replace(",", "."))
    except ValueError:
        raise ColumnError(f"{cond.label!r}: {cond.value!r} is not a number.") from None


def _customers_sql(store: Store, ds: Dataset) -> str:
    if has_merges(store, ds.name):
        sql = f"SELECT * EXCLUDE (source_rows) FROM {golden_table(store, ds)}"
    else:
        sql = f"SELECT 'C' || _row AS customer_id, * EXCLUDE (_row) FROM {ds.clean_table}"
    extra = attributes.kinds(store, ds)
    return attributes.join_sql(store, ds, list(extra), sql) if extra else sql


def attribute_kinds(store: Store, ds: Dataset) -> dict[str, str]:
    """Computed attributes a condition or a column can name (RFM, propensity scores), with their kind."""
    return attributes.kinds(store, ds)


def _run_of(store: Store, spec: AudienceSpec, ds: Dataset):
    from ..segment import runs as segments

    try:
        return segments.get_run(store, spec.run, ds.name)
    except NotFoundError:
        if spec.run or spec.segments:
            raise
        return None


def _base_sql(store: Store, spec: AudienceSpec) -> tuple[str, list, Dataset, object]:
    """Customers (with ``segment`` and ``segment_name``) in the chosen segments, and the run."""
    ds = store.dataset(spec.dataset or None)
    run = _run_of(store, spec, ds)
    params: list = []
    if run is not None:
        from ..segment import runs as segments

        names = segments.names_of(store, run.name)
        names_sql = "SELECT * FROM (VALUES " + ", ".join(f"({int(k)}, ?)" for k in names) + ") n(segment, name)"
        sql = (f"SELECT c.*, m.segment, n.name AS segment_name FROM ({_customers_sql(store, ds)}) c "
               f"LEFT JOIN (SELECT customer_id, segment FROM segment_members WHERE run_id = ?) m USING (customer_id) "
               f"LEFT JOIN ({names_sql}) n ON n.segment = m.segment")
        params = [run.id, *names.values()]
    else:
        sql = (f"SELECT c.*, NULL::INTEGER AS segment, NULL::VARCHAR AS segment_name "
               f"FROM ({_customers_sql(store, ds)}) c")
    if spec.segments:
        if run is None:
            raise ColumnError("Segments were chosen but the dataset has no segment run.")
        bad = [s for s in spec.segments if not 0 <= int(s) < run.k]
        if bad:
            raise ColumnError(f"Run {run.name!r} has segments 0..{run.k - 1}; got {bad}.")
        sql = f"SELECT * FROM ({sql}) WHERE segment IN ({', '.join(str(int(s)) for s in spec.segments)})"
    return sql, params, ds, run


def _contact_sql(ds: Dataset, spec: AudienceSpec) -> tuple[str, str]:
    """SQL of "has the channel's contact point" and of "may be contacted" (consent, no opt-out)."""
    if spec.channel is None:
        return "true", "true"
    if spec.channel not in CHANNELS:
        raise ColumnError(f"Channel must be one of {list(CHANNELS)}, got {spec.channel!r}.")
    point = ds.columns_with_role(spec.channel)
    if not point:
        raise ColumnError(f"The dataset has no {spec.channel} column: pick another channel, or none.")
    has = f"({quote(point[0])} IS NOT NULL)"
    allowed = ["true"]
    for col in ds.columns_with_role("consent"):
        allowed.append(f"coalesce({quote(col)}, false)")
    for col in ds.columns_with_role("opt_out"):
        allowed.append(f"NOT coalesce({quote(col)}, false)")
    return has, "(" + " AND ".join(allowed) + ")"


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


# ------------------------------------------------------------------ counting and selecting

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


def _query(store: Store, spec: AudienceSpec) -> _Query:
    base, params, ds, _run = _base_sql(store, spec)
    kinds = attribute_kinds(store, ds)
    per, matching, match_params = _where(ds, spec, kinds)
    has, allowed = _contact_sql(ds, spec)
    suppressed, sup_params = _suppressed_sql(ds, spec)
    return _Query(ds, base, params, per, matching, match_params, has, allowed, suppressed, sup_params, kinds,
                  spec.include_no_consent)


def count(store: Store, spec: AudienceSpec) -> AudienceCount:
    """Live figures of an audience, in one DuckDB query: in segments, matching, excluded by each rule, by
    missing contact point, by consent and by suppression, final size and holdout."""
    q = _query(store, spec)
    final = f"{q.matching} AND {q.has} AND {q.consent_ok} AND NOT {q.suppressed}"
    selects = ["count(*)", f"count_if({q.matching})"]
    selects += [f"count_if(NOT coalesce({sql}, false))" for _label, sql, _p in q.per]
    selects += [f"count_if({q.matching} AND NOT {q.has})",
                "0" if spec.include_no_consent else f"count_if({q.matching} AND {q.has} AND NOT {q.allowed})",
                f"count_if({q.matching} AND {q.has} AND {q.consent_ok} AND {q.suppressed})",
                f"count_if({final})", f"count_if({final} AND {_holdout_sql(spec)})"]
    row = store.query_rows(f"SELECT {', '.join(selects)} FROM ({q.base})",
                           _ordered_params(q.match_params, q.per, q.sup_params, spec) + q.params)[0]
    n_rules = len(q.per)
    return AudienceCount(
        in_segments=int(row[0]), matching=int(row[1]),
        excluded_by_rule={label: int(v) for (label, _s, _p), v in zip(q.per, row[2:2 + n_rules], strict=True)},
        excluded_no_contact=int(row[2 + n_rules]), excluded_no_consent=int(row[3 + n_rules]),
        excluded_suppressed=int(row[4 + n_rules]), final=int(row[5 + n_rules]), holdout=int(row[6 + n_rules]))


def _ordered_params(match_params: list, per: list, sup_params: list, spec: AudienceSpec) -> list:
    """Parameters in the order :func:`count` writes its expressions."""
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


def default_columns(store: Store, spec: AudienceSpec) -> list[str]:
    """Data minimisation: the record id, names, the channel's contact point and the segment name."""
    ds = store.dataset(spec.dataset or None)
    cols = ds.columns_with_role("id", "first_name", "last_name", "full_name", "company")
    if spec.channel:
        cols += ds.columns_with_role(spec.channel)[:1]
    return [*cols, "segment_name"]


def personal_columns(store: Store, spec: AudienceSpec, columns: list[str]) -> list[str]:
    """Of ``columns``, those holding personal data (names, e-mail, phone, address, birth date, identifiers)."""
    ds = store.dataset(spec.dataset or None)
    return [c for c in columns if ds.roles.get(c) in PERSONAL_ROLES]


def select(store: Store, spec: AudienceSpec, limit: int | None = None) -> pd.DataFrame:
    """The audience's rows: the chosen columns (default :func:`default_columns`), and a ``holdout`` flag
    when the spec keeps a holdout."""
    q = _query(store, spec)
    columns = list(spec.columns) or default_columns(store, spec)
    known = {*q.ds.columns, "segment", "segment_name", "customer_id", *q.kinds}
    missing = [c for c in columns if c not in known]
    if missing:
        raise ColumnError(f"Missing columns {missing}; found {q.ds.columns}")
    cols = ", ".join(quote(c) for c in columns)
    flag = f", {_holdout_sql(spec)} AS holdout" if spec.holdout > 0 else ""
    sql = (f"SELECT {cols}{flag} FROM ({q.base}) "
           f"WHERE {q.matching} AND {q.has} AND {q.consent_ok} AND NOT {q.suppressed} ORDER BY customer_id")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store.query_df(sql, q.params + q.match_params + q.sup_params)


# ------------------------------------------------------------------ suppression, saved audiences, exports

def save_suppression(store: Store, name: str, values: list[str]) -> int:
    """Keep a suppression list (e-mails or record ids, compared trimmed and lower-case); returns its id."""
    cleaned = sorted({str(v).strip().lower() for v in values if str(v).strip()})
    if not cleaned:
        raise ColumnError("The suppression file holds no e-mail or id.")
    with store.transaction() as tx:
        list_id = tx.next_id("suppression_lists")
        tx.execute("INSERT INTO suppression_lists VALUES (?, ?, ?, ?)", [list_id, name, datetime.now(), len(cleaned)])
        tx.register("_values", pd.DataFrame({"value": cleaned}))
        tx.execute("INSERT INTO suppression_values SELECT ?, value FROM _values", [list_id])
        tx.unregister("_values")
    return list_id


def suppression_values(frame: pd.DataFrame) -> list[str]:
    """The e-mails (or, without an e-mail column, the first column's values) of an uploaded suppression file."""
    emails = [c for c in frame.columns if re.search(r"mail", str(c), re.IGNORECASE)]
    column = emails[0] if emails else frame.columns[0]
    return [str(v) for v in frame[column].dropna()]


def save_audience(store: Store, name: str, spec: AudienceSpec) -> None:
    """Keep an audience's definition under a name (replacing one of that name)."""
    name = name.strip()
    if not name:
        raise ColumnError("An audience needs a name.")
    count(store, spec)  # refuse a definition that does not run
    with store.transaction() as tx:
        tx.execute("DELETE FROM audiences WHERE lower(name) = lower(?)", [name])
        tx.execute("INSERT INTO audiences VALUES (?, ?, ?)", [name, datetime.now(), spec.to_json()])


def get_audience(store: Store, name: str) -> AudienceSpec:
    """A saved audience's definition."""
    found = store.query_value("SELECT spec FROM audiences WHERE lower(name) = lower(?)", [name])
    if found is None:
        known = [r[0] for r in store.query_rows("SELECT name FROM audiences ORDER BY name")]
        raise NotFoundError(f"No saved audience named {name!r}; the store has {known}.")
    return AudienceSpec.from_json(found)


def saved_audiences(store: Store) -> pd.DataFrame:
    """Saved audiences: name, when, definition."""
    return store.query_df("SELECT name, saved_at, CAST(spec AS VARCHAR) AS spec FROM audiences ORDER BY name")


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
    with store.transaction() as tx:
        tx.execute("INSERT INTO export_log VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [datetime.now(), audience, rows, json.dumps(columns, ensure_ascii=False), file_name,
                    spec.include_no_consent, spec.to_json()])


def export_log(store: Store) -> pd.DataFrame:
    """Every export, newest first."""
    return store.query_df("SELECT exported_at, audience, rows, CAST(columns AS VARCHAR) AS columns, file_name, "
                          "include_no_consent FROM export_log ORDER BY exported_at DESC")


def parse_filter(text: str) -> Condition:
    """A CLI filter: ``column=value``, ``column!=value``, ``column>=number``, ``column<=number``,
    ``column~substring``; a value with spaces may be quoted; ``a|b`` means one of."""
    match = re.fullmatch(r"\s*(.+?)\s*(!=|>=|<=|=|~)\s*(.*?)\s*", text)
    if not match:
        raise ColumnError(f"Cannot read filter {text!r}: expected column=value, column!=value, column>=number, "
                          "column<=number or column~text.")
    column, op, value = match.groups()
    column, value = column.strip("\"'"), value.strip("\"'")
    if op in ("=", "!="):
        values = value.split("|")
        return Condition(column, ("eq" if len(values) == 1 else "in") if op == "=" else "not_in",
                         values[0] if len(values) == 1 and op == "=" else values)
    return Condition(column, {">=": "ge", "<=": "le", "~": "contains"}[op], value)


def export(store: Store, spec: AudienceSpec, out: str | Path, *, excel_french: bool = False,
           holdout_file: bool = False, audience: str | None = None) -> dict:
    """Write an audience to ``out`` (CSV or XLSX by extension), formula-safe, and log the export.

    The holdout is a ``holdout`` column, or with ``holdout_file`` a second file ``<name> (holdout).<ext>``
    beside ``out`` (then the main file holds only the customers to contact).

    Returns
    -------
    dict
        ``rows``, ``excluded_no_consent``, ``holdout_rows``, ``columns``, ``out`` (and ``holdout_out``).
    """
    out = Path(out)
    frame = select(store, spec)
    figures = count(store, spec)
    files = holdout_files(frame, out, holdout_file)
    result = {"rows": len(files[out]), "excluded_no_consent": figures.excluded_no_consent,
              "holdout_rows": int(frame["holdout"].sum()) if "holdout" in frame else 0, "out": str(out)}
    for path, part in files.items():
        write_file(part, path, excel_french=excel_french)
        if path != out:
            result["holdout_out"] = str(path)
    result["columns"] = list(files[out].columns)
    log_export(store, audience, spec, len(files[out]), result["columns"], out.name)
    return result


def holdout_files(frame: pd.DataFrame, out: Path, holdout_file: bool) -> dict[Path, pd.DataFrame]:
    """The files an audience is written to: ``out`` alone (a ``holdout`` column flags the control group), or
    with ``holdout_file`` the customers to contact in ``out`` and the holdout in ``<name> (holdout).<ext>``."""
    if not (holdout_file and "holdout" in frame):
        return {out: frame}
    return {out: frame[~frame["holdout"]].drop(columns=["holdout"]),
            out.with_name(f"{out.stem} (holdout){out.suffix}"): frame[frame["holdout"]].drop(columns=["holdout"])}


def render(store: Store, spec: AudienceSpec, file_format: str = "csv-excel", audience: str | None = None) -> bytes:
    """An audience as file bytes for a download (``csv-excel``: BOM and ``;``; ``csv``; ``xlsx``), logged."""
    frame = select(store, spec)
    data = encode(frame, file_format, "Audience")
    log_export(store, audience, spec, len(frame), list(frame.columns),
               f"{audience or 'audience'}.{'xlsx' if file_format == 'xlsx' else 'csv'}")
    return data


def spec_digest(spec: AudienceSpec) -> str:
    """A short fingerprint of a definition (cache keys)."""
    return hashlib.sha1(spec.to_json().encode()).hexdigest()[:12]


__all__ = ["CHANNELS", "OPERATORS", "AudienceCount", "AudienceSpec", "Condition", "condition_sql", "count",
           "default_columns", "export", "export_log", "get_audience", "holdout_files", "log_export", "overlap",
           "parse_filter", "personal_columns", "render", "save_audience", "save_suppression", "saved_audiences",
           "select", "spec_digest", "suppression_values"]

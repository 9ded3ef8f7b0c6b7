"""The data-quality report of an imported dataset.

Every figure is one SQL aggregate over the raw and normalised tables, so the
report stays fast on a million rows; every issue has a key with which
:func:`issue_rows` returns the rows concerned, for download. This module
builds the SQL text (the ``*_sql`` functions); the ingest repository
(:class:`~segmentation.ingest.repository.DatasetsRepository`), the stage's
only SQL executor, runs it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from ..core.errors import ColumnError, NotFoundError
from ..core.store import Dataset, Store, quote
from ..core.vocabulary import ROLE_KIND
from .normalize import invalid_counts_hint
from .repository import DatasetsRepository


@dataclass(frozen=True)
class QualitySettings:
    """Thresholds of the report.

    Parameters
    ----------
    stale_months : int
        A profile with no activity for this many months is stale.
    outlier_iqr : float
        A number further than this many inter-quartile ranges outside the
        quartiles is an outlier.
    today : datetime.date, optional
        Reference date for staleness (defaults to today).
    """

    stale_months: int = 12
    outlier_iqr: float = 3.0
    today: date | None = None

    def reference_date(self) -> date:
        """The date staleness is measured from."""
        return self.today or date.today()


@dataclass
class Issue:
    """One finding of the report, with the key to fetch its rows."""

    key: str
    label: str
    count: int


@dataclass
class QualityReport:
    """The figures of the report; :meth:`to_dict` is the CLI's JSON."""

    dataset: str
    rows: int
    rejected_rows: int
    columns: pd.DataFrame
    outliers: pd.DataFrame
    exact_duplicates: int
    duplicate_keys: dict[str, int]
    stale_profiles: int | None
    stale_column: str | None
    correlation: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain JSON-ready figures."""
        cols = self.columns.set_index("column")
        return {
            "dataset": self.dataset,
            "rows": self.rows,
            "rejected_rows": self.rejected_rows,
            "missing": {c: int(v) for c, v in cols["missing"].items()},
            "invalid": {c: int(v) for c, v in cols["invalid"].items() if cols.loc[c, "checked"]},
            "invalid_emails": int(cols.loc[cols["kind"] == "email", "invalid"].sum()),
            "invalid_phones": int(cols.loc[cols["kind"] == "phone", "invalid"].sum()),
            "invalid_dates": int(cols.loc[cols["kind"] == "date", "invalid"].sum()),
            "outliers": {r.column: int(r.count) for r in self.outliers.itertuples()},
            "exact_duplicates": self.exact_duplicates,
            "duplicate_keys": self.duplicate_keys,
            "stale_profiles": self.stale_profiles,
            "issues": [{"key": i.key, "label": i.label, "count": i.count} for i in self.issues],
        }


    def to_json(self) -> str:
        """Every figure as JSON, to keep (:meth:`from_json` gives the report back, equal)."""
        corr = self.correlation
        return json.dumps({
            "dataset": self.dataset, "rows": self.rows, "rejected_rows": self.rejected_rows,
            "columns": self.columns.to_dict("records"), "outliers": self.outliers.to_dict("records"),
            "exact_duplicates": self.exact_duplicates, "duplicate_keys": self.duplicate_keys,
            "stale_profiles": self.stale_profiles, "stale_column": self.stale_column,
            "correlation": {"names": [str(c) for c in corr.columns],
                            "values": [[None if pd.isna(v) else float(v) for v in r] for r in corr.to_numpy()]},
            "issues": [[i.key, i.label, i.count] for i in self.issues]})

    @classmethod
    def from_json(cls, text: str) -> QualityReport:
        """The report :meth:`to_json` wrote."""
        data = json.loads(text)
        names = data["correlation"]["names"]
        values = [[float("nan") if v is None else v for v in r] for r in data["correlation"]["values"]]
        return cls(
            dataset=data["dataset"], rows=data["rows"], rejected_rows=data["rejected_rows"],
            columns=pd.DataFrame(data["columns"]) if data["columns"] else pd.DataFrame(),
            outliers=pd.DataFrame(data["outliers"], columns=["column", "count", "low", "high"]),
            exact_duplicates=data["exact_duplicates"], duplicate_keys=data["duplicate_keys"],
            stale_profiles=data["stale_profiles"], stale_column=data["stale_column"],
            correlation=pd.DataFrame(values or None, index=names, columns=names, dtype=float),
            issues=[Issue(*i) for i in data["issues"]])


def _blank(col: str) -> str:
    return f"(r.{col} IS NULL OR trim(r.{col}) = '')"


def _condition(ds: Dataset, key: str, settings: QualitySettings,
               fences: tuple[float, float] | None = None) -> str:
    """SQL condition (over raw ``r`` and clean ``c``) selecting the rows of one issue.

    ``fences`` are the outlier fences of the key's column (see :func:`fences_sql`), for ``outlier:`` keys.
    """
    kind, _, column = key.partition(":")
    if column and column not in ds.columns:
        raise ColumnError(f"No column {column!r} in dataset {ds.name!r}; found {ds.columns}")
    q = quote(column)
    if kind == "missing":
        return _blank(q)
    if kind == "invalid":
        return f"NOT {_blank(q)} AND c.{q} IS NULL"
    if kind == "duplicate_key":
        return (f"c.{q} IN (SELECT {q} FROM {ds.clean_table} WHERE {q} IS NOT NULL "
                f"GROUP BY 1 HAVING count(*) > 1)")
    if kind == "outlier":
        low, high = fences if fences is not None else (float("-inf"), float("inf"))
        return f"(c.{q} < {low!r} OR c.{q} > {high!r})"
    if kind == "stale":
        return (f"c.{q} < DATE '{settings.reference_date().isoformat()}' "
                f"- INTERVAL {int(settings.stale_months)} MONTH")
    if kind == "exact_duplicates":
        cols = ", ".join(f"c.{quote(x)}" for x in ds.columns)
        return f"count(*) OVER (PARTITION BY {cols}) > 1"
    raise NotFoundError(f"Unknown quality issue {key!r}.")


def fences_sql(ds: Dataset, column: str) -> str:
    """The minimum and quartiles of a numeric column, plain and on ``ln(1 + x)`` (see :func:`fences`)."""
    q = quote(column)
    return (f"SELECT min({q}), quantile_cont({q}, 0.25), quantile_cont({q}, 0.75), "
            f"quantile_cont(ln(1 + greatest({q}, 0)), 0.25), quantile_cont(ln(1 + greatest({q}, 0)), 0.75) "
            f"FROM {ds.clean_table}")


def fences(row: tuple, settings: QualitySettings) -> tuple[float, float]:
    """Tukey's fences from a :func:`fences_sql` row: quartiles widened by ``outlier_iqr`` inter-quartile ranges.

    Amounts and counts (never negative) are skewed, so their fences are
    taken on ``ln(1 + x)``: otherwise every large customer is an "outlier".
    """
    low_value, q1, q3, lq1, lq3 = row
    if q1 is None:
        return float("-inf"), float("inf")
    k = settings.outlier_iqr
    if low_value >= 0:
        return float(math.expm1(lq1 - k * (lq3 - lq1))), float(math.expm1(lq3 + k * (lq3 - lq1)))
    return float(q1 - k * (q3 - q1)), float(q3 + k * (q3 - q1))


def _numeric_columns(ds: Dataset) -> list[str]:
    return [c for c in ds.columns if ROLE_KIND.get(ds.roles.get(c, ""), "text") == "number"]


def column_counts_sql(ds: Dataset, raw: str) -> str:
    """Rows, then per column: missing raw values, invalid values (raw but no normalised value), distinct values.

    ``raw`` is the SQL text of the current raw rows (:meth:`DatasetsRepository.raw_source`). The blank
    test is computed once per cell, in a subquery.
    """
    flags, aggs = ["c._row"], []
    for i, col in enumerate(ds.columns):
        q = quote(col)
        flags += [f"{_blank(q)} AS b{i}", f"c.{q} IS NULL AS n{i}", f"c.{q} AS v{i}"]
        aggs += [f"count_if(b{i})", f"count_if(NOT b{i} AND n{i})", f"approx_count_distinct(v{i})"]
    inner = f"SELECT {', '.join(flags)} FROM {raw} r JOIN {ds.clean_table} c USING (_row)"
    return f"SELECT count(*){''.join(', ' + a for a in aggs)} FROM ({inner}) f"


def all_fences_sql(ds: Dataset, columns: list[str]) -> str:
    """:func:`fences_sql` of every column of ``columns`` in one scan: five values per column, in order."""
    items = []
    for column in columns:
        q = quote(column)
        items += [f"min({q})", f"quantile_cont({q}, 0.25)", f"quantile_cont({q}, 0.75)",
                  f"quantile_cont(ln(1 + greatest({q}, 0)), 0.25)", f"quantile_cont(ln(1 + greatest({q}, 0)), 0.75)"]
    return f"SELECT {', '.join(items)} FROM {ds.clean_table}"


def outliers_sql(ds: Dataset, column: str) -> str:
    """Values of a column outside its fences (parameters: low, high)."""
    q = quote(column)
    return f"SELECT count_if({q} < ? OR {q} > ?) FROM {ds.clean_table}"


def exact_duplicates_sql(ds: Dataset) -> str:
    """Records equal to another one on every column.

    Only the records whose hash of every column another record shares are grouped on every column (a
    cheap first pass; the grouping decides, so a collision of hashes changes nothing).
    """
    all_cols = ", ".join(quote(c) for c in ds.columns)
    shared = f"SELECT h FROM (SELECT hash({all_cols}) AS h FROM {ds.clean_table}) GROUP BY h HAVING count(*) > 1"
    return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {ds.clean_table} "
            f"WHERE hash({all_cols}) IN ({shared}) GROUP BY {all_cols} HAVING count(*) > 1)")


def duplicate_key_sql(ds: Dataset, column: str) -> str:
    """Records sharing their (normalised) value of ``column`` with another record."""
    q = quote(column)
    return (f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {ds.clean_table} "
            f"WHERE {q} IS NOT NULL GROUP BY {q} HAVING count(*) > 1)")


def correlation_sql(ds: Dataset, pairs: list[tuple[str, str]]) -> str:
    """Pearson correlation of each pair of numeric columns."""
    return "SELECT " + ", ".join(f"corr({quote(a)}, {quote(b)})" for a, b in pairs) + f" FROM {ds.clean_table}"


def figures_sql(ds: Dataset, numeric: list[str], dup_cols: list[str], stale: str | None,
                pairs: list[tuple[str, str]]) -> str:
    """One query of the figures that follow the fences, in order: each numeric column's outliers (two
    parameters each: low, high), exact duplicates, each key column's shared values, stale profiles
    (``stale``: the condition over ``c``, if any) and each pair's correlation."""
    items = [f"count_if({quote(col)} < ? OR {quote(col)} > ?)" for col in numeric]
    items.append(f"({exact_duplicates_sql(ds)})")
    items += [f"({duplicate_key_sql(ds, col)})" for col in dup_cols]
    if stale is not None:
        items.append(f"count_if({stale})")
    items += [f"corr(c.{quote(a)}, c.{quote(b)})" for a, b in pairs]
    return f"SELECT {', '.join(items)} FROM {ds.clean_table} c"


def issue_rows_sql(ds: Dataset, key: str, condition: str, raw: str, limit: int | None = None) -> str:
    """The raw rows (``row`` and the columns) that ``condition`` selects, for the issue ``key``.

    ``raw`` is the SQL text of the current raw rows (:meth:`DatasetsRepository.raw_source`); ``limit``
    keeps the first rows only.
    """
    return _issue_rows_sql(ds, key, condition, raw) + ("" if limit is None else f" LIMIT {int(limit)}")


def _issue_rows_sql(ds: Dataset, key: str, condition: str, raw: str) -> str:
    cols = ", ".join(f"r.{quote(c)}" for c in ds.columns)
    if key == "rejected":
        return f"SELECT line, reason, raw FROM {ds.rejects_table} ORDER BY line"
    if key == "exact_duplicates":
        inner = (f"SELECT r._row AS row, {cols}, {condition} AS hit FROM {raw} r "
                 f"JOIN {ds.clean_table} c USING (_row)")
        return f"SELECT * EXCLUDE (hit) FROM ({inner}) WHERE hit ORDER BY row"
    return (f"SELECT r._row AS row, {cols} FROM {raw} r JOIN {ds.clean_table} c USING (_row) "
            f"WHERE {condition} ORDER BY r._row")


def quality_report(store: Store, dataset: str | None = None,
                   settings: QualitySettings = QualitySettings()) -> QualityReport:
    """Compute the data-quality report of a dataset.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str, optional
        Dataset name; the most recent customers dataset by default.
    settings : QualitySettings
        Staleness and outlier thresholds.
    """
    repo = DatasetsRepository(store)
    return report(repo, repo.dataset(dataset or None), settings)


def report(repo: DatasetsRepository, ds: Dataset, settings: QualitySettings = QualitySettings(),
           column_row: tuple | None = None) -> QualityReport:
    """The data-quality report of the dataset ``ds`` (its SQL run by ``repo``).

    ``column_row`` is the row of :func:`column_counts_sql` if already computed (the column pass shared
    with the read report, :func:`segmentation.ingest.report.split_pass`).
    """
    numeric = _numeric_columns(ds)
    queries = [] if column_row is not None else [(column_counts_sql(ds, repo.raw_source(ds)), None)]
    if numeric:
        queries.append((all_fences_sql(ds, numeric), None))
    answered = repo.first_rows(queries)
    row = column_row if column_row is not None else answered.pop(0)
    fenced = answered
    fence_rows = [fenced[0][5 * i: 5 * i + 5] for i in range(len(numeric))] if numeric else []
    n = int(row[0])
    records = []
    for i, col in enumerate(ds.columns):
        role = ds.roles.get(col, "text")
        kind = ROLE_KIND.get(role, "text")
        missing, invalid, distinct = (int(x) for x in row[1 + 3 * i: 4 + 3 * i])
        checked = invalid_counts_hint(kind)
        records.append({"column": col, "role": role, "kind": kind, "missing": missing,
                        "missing_pct": 100.0 * missing / n if n else 0.0,
                        "invalid": invalid if checked else 0,
                        "invalid_pct": 100.0 * invalid / n if n and checked else 0.0,
                        "distinct": distinct, "checked": checked})
    columns = pd.DataFrame(records)

    limits = [fences(r, settings) for r in fence_rows]
    dup_cols = ds.columns_with_role("email", "phone")
    stale_cols = ds.columns_with_role("last_activity_date")
    pairs = [(a, b) for i, a in enumerate(numeric) for b in numeric[i:]] if len(numeric) >= 2 else []
    stale = _condition(ds, f"stale:{stale_cols[0]}", settings) if stale_cols else None
    sql = figures_sql(ds, numeric, dup_cols, stale, pairs)
    answers = iter(repo.first_rows([(sql, [v for low_high in limits for v in low_high])])[0])

    outlier_frame = pd.DataFrame(
        [{"column": col, "count": int(next(answers) or 0), "low": low, "high": high}
         for col, (low, high) in zip(numeric, limits, strict=True)],
        columns=["column", "count", "low", "high"])
    exact = int(next(answers) or 0)
    dup_keys = {col: int(next(answers) or 0) for col in dup_cols}
    stale_count = int(next(answers) or 0) if stale_cols else None
    corr = pd.DataFrame(index=numeric, columns=numeric, dtype=float)
    for a, b in pairs:
        corr.loc[a, b] = corr.loc[b, a] = next(answers)

    result = QualityReport(
        dataset=ds.name, rows=n, rejected_rows=ds.rejected_rows, columns=columns, outliers=outlier_frame,
        exact_duplicates=exact, duplicate_keys=dup_keys, stale_profiles=stale_count,
        stale_column=stale_cols[0] if stale_cols else None, correlation=corr)
    result.issues = _issues(result)
    return result


def _issues(report: QualityReport) -> list[Issue]:
    issues = []
    if report.rejected_rows:
        issues.append(Issue("rejected", "Rows that could not be read", report.rejected_rows))
    for r in report.columns.itertuples():
        if r.missing:
            issues.append(Issue(f"missing:{r.column}", f"Missing {r.column}", r.missing))
        if r.invalid:
            issues.append(Issue(f"invalid:{r.column}", f"Invalid {r.column}", r.invalid))
    for r in report.outliers.itertuples():
        if r.count:
            issues.append(Issue(f"outlier:{r.column}", f"Outliers in {r.column}", r.count))
    if report.exact_duplicates:
        issues.append(Issue("exact_duplicates", "Exact duplicate records", report.exact_duplicates))
    for col, count in report.duplicate_keys.items():
        if count:
            issues.append(Issue(f"duplicate_key:{col}", f"Same {col} on several records", count))
    if report.stale_profiles:
        issues.append(Issue(f"stale:{report.stale_column}", "Stale profiles (no recent activity)",
                            report.stale_profiles))
    return issues


def issue_rows(store: Store, key: str, dataset: str | None = None,
               settings: QualitySettings = QualitySettings()) -> pd.DataFrame:
    """The rows concerned by one issue of the report, with their raw values (see :func:`rows_of`)."""
    repo = DatasetsRepository(store)
    return rows_of(repo, repo.dataset(dataset or None), key, settings)


def rows_of(repo: DatasetsRepository, ds: Dataset, key: str,
            settings: QualitySettings = QualitySettings(), limit: int | None = None) -> pd.DataFrame:
    """The rows concerned by one issue of the report of ``ds``, with their raw values.

    Parameters
    ----------
    key : str
        An :class:`Issue` key such as ``"invalid:E-mail"`` or ``"rejected"``.
    limit : int, optional
        The first rows only (to show some).

    Returns
    -------
    pandas.DataFrame
        ``row`` (1-based position in the file's records) and the raw columns;
        for ``"rejected"``, ``line``, ``reason`` and ``raw``.

    Raises
    ------
    ColumnError
        The key names a column the dataset does not have.
    NotFoundError
        The key is not one of an issue.
    """
    if key == "rejected":
        return repo.frame(issue_rows_sql(ds, key, "", ds.raw_table, limit))
    limits = None
    if key.startswith("outlier:"):
        column = key.partition(":")[2]
        if column not in ds.columns:
            raise ColumnError(f"No column {column!r} in dataset {ds.name!r}; found {ds.columns}")
        limits = fences(repo.first_rows([(fences_sql(ds, column), None)])[0], settings)
    return repo.frame(issue_rows_sql(ds, key, _condition(ds, key, settings, limits), repo.raw_source(ds), limit))

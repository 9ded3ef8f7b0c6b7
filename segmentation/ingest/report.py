"""The read report: per column, how many values were read, how many could not be, with examples (pure).

Shown before an import (on the preview's sample, so the user can change a
role or an option first) and after it (over every row of the dataset). For
each column, a cell is *missing* when it is empty or a missing-value word
(``NA``, ``#N/A``...), *read* when it is not missing and its normalised value
is not NULL, and *invalid* otherwise (a date, number, phone, e-mail or yes/no
value the normaliser could not read: it became NULL, its raw value stays in
the raw table). Text-like kinds never call a value invalid: a cell they
leave NULL is blank, so it counts as missing.

This module builds the SQL text and holds the results;
:class:`~segmentation.ingest.repository.DatasetsRepository` executes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd
import phonenumbers

from ..core.store import quote
from ..core.vocabulary import MISSING_WORDS, ROLE_KIND, ROLES
from .normalize import invalid_counts_hint
from .plan import ColumnPlan
from .sqltext import sql_string, trimmed_in_sql
from .statements import value_sql

#: A column with less of its non-missing values read than this gets a warning before import.
READ_THRESHOLD = 0.9
#: How many distinct unread raw values a column's report shows.
EXAMPLES = 5
#: ISO codes of the regions phone numbers can be read for (the default-region choices), sorted.
PHONE_REGIONS: tuple[str, ...] = tuple(sorted(phonenumbers.SUPPORTED_REGIONS))

_HINTS = {
    "date": "Check the day/month order (date order), or set the role to Text if these are not dates.",
    "number": "Check the decimal mark, or set the role to Text if these are codes rather than amounts.",
    "phone": "Choose the default region of numbers written without a country prefix, or give the file a "
             "Country column.",
    "email": "Check the role: these do not look like e-mail addresses.",
    "boolean": "Check the role: these are not yes/no values.",
}


@dataclass(frozen=True)
class ColumnRead:
    """How one column's values were read.

    Parameters
    ----------
    name : str
        The column.
    role : str
        Its role (a key of :data:`segmentation.core.vocabulary.ROLES`).
    kind : str
        The role's kind (:data:`~segmentation.core.vocabulary.ROLE_KIND`).
    read : int
        Non-missing cells whose normalised value is not NULL.
    invalid : int
        Non-missing cells that could not be read (normalised to NULL).
    missing : int
        Empty cells and missing-value words.
    examples_unread : list of str
        Up to :data:`EXAMPLES` distinct raw values among the invalid ones, most frequent first.
    """

    name: str
    role: str
    kind: str
    read: int
    invalid: int
    missing: int
    examples_unread: list[str] = field(default_factory=list)

    @property
    def share_read(self) -> float:
        """Read values over non-missing values (1.0 when every cell is missing)."""
        present = self.read + self.invalid
        return self.read / present if present else 1.0

    @property
    def hint(self) -> str | None:
        """What to change when less than :data:`READ_THRESHOLD` of the values were read; else None."""
        if self.share_read >= READ_THRESHOLD:
            return None
        return _HINTS.get(self.kind, "Check the column's role.")

    @property
    def warning(self) -> str | None:
        """The sentence shown for a column under :data:`READ_THRESHOLD` (None otherwise)."""
        if self.hint is None:
            return None
        examples = ", ".join(repr(v) for v in self.examples_unread)
        return (f"Column {self.name!r} ({ROLES.get(self.role, self.role)}): only {self.share_read:.0%} of its "
                f"{self.read + self.invalid:,} values were read; {self.invalid:,} could not be "
                f"(e.g. {examples}) and would be left empty, their raw text kept. {self.hint}")

    def to_dict(self) -> dict:
        """Plain JSON-ready figures (the CLI's ``columns`` items)."""
        return {"name": self.name, "role": self.role, "kind": self.kind, "read": self.read,
                "invalid": self.invalid, "missing": self.missing, "share_read": round(self.share_read, 4),
                "examples_unread": list(self.examples_unread), "hint": self.hint}


@dataclass(frozen=True)
class ReadReport:
    """Every column's :class:`ColumnRead`, in file order; ``rows`` is how many rows were looked at."""

    rows: int
    columns: list[ColumnRead]

    @property
    def warnings(self) -> list[str]:
        """One sentence per column under :data:`READ_THRESHOLD`, saying what to change."""
        return [c.warning for c in self.columns if c.warning is not None]

    def to_dict(self) -> dict:
        """``{"rows": ..., "columns": [...]}``, JSON-ready."""
        return {"rows": self.rows, "columns": [c.to_dict() for c in self.columns]}

    def to_json(self) -> str:
        """The report as JSON, to keep (:meth:`from_json` gives it back, equal)."""
        return json.dumps({"rows": self.rows, "columns": [
            [c.name, c.role, c.kind, c.read, c.invalid, c.missing, list(c.examples_unread)] for c in self.columns]})

    @classmethod
    def from_json(cls, text: str) -> ReadReport:
        """The report :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(rows=data["rows"], columns=[ColumnRead(*c) for c in data["columns"]])

    def frame(self) -> pd.DataFrame:
        """The report as a table to show: column, role, read, invalid, missing, % read, examples not read."""
        return pd.DataFrame({
            "Column": [c.name for c in self.columns],
            "Role": [ROLES.get(c.role, c.role) for c in self.columns],
            "Read": [c.read for c in self.columns],
            "Invalid": [c.invalid for c in self.columns],
            "Missing": [c.missing for c in self.columns],
            "Read %": [round(100 * c.share_read, 1) for c in self.columns],
            "Examples not read": [", ".join(c.examples_unread) for c in self.columns],
        })


@dataclass(frozen=True)
class ReportColumn:
    """What the report's SQL needs of a column: its name, role, kind and missing-value words."""

    name: str
    role: str
    missing: tuple[str, ...]

    @property
    def kind(self) -> str:
        return ROLE_KIND.get(self.role, "text")


def report_columns(roles: dict[str, str], missing: tuple[str, ...] | list[str] | None) -> list[ReportColumn]:
    """The columns of ``roles`` (in order) with the import's missing-value words (stores made before they
    were an option: :data:`~segmentation.core.vocabulary.MISSING_WORDS`)."""
    words = MISSING_WORDS if missing is None else tuple(missing)
    return [ReportColumn(c, r, words) for c, r in roles.items()]


def _missing(col: ReportColumn) -> str:
    """The raw cell is missing: NULL, blank or a missing-value word once trimmed.

    The same as ``nullif(trim(value_sql(...)), '') IS NULL`` (the normaliser's reading), with the cell
    trimmed once.
    """
    r = f"r.{quote(col.name)}"
    return f"({r} IS NULL OR {trimmed_in_sql(r, (*col.missing, ''))})"


def flags_sql(columns: list[ReportColumn], raw_source: str, clean_source: str) -> str:
    """Per row, two flags per column ``i``: ``m{i}`` the raw cell is missing, ``n{i}`` its normalised value is NULL.

    Each flag is computed once per cell, so that the counts of :func:`counts_sql` are cheap sums.
    """
    items = ["1 AS one"]
    for i, col in enumerate(columns):
        items += [f"{_missing(col)} AS m{i}", f"c.{quote(col.name)} IS NULL AS n{i}"]
    return f"SELECT {', '.join(items)} FROM {raw_source} r JOIN {clean_source} c USING (_row)"


def counts_sql(columns: list[ReportColumn], raw_source: str, clean_source: str) -> str:
    """One query: ``count(*)``, then per column its read, invalid and missing counts.

    ``raw_source`` and ``clean_source`` are tables or parenthesised queries
    with ``_row``, joined on it (the raw rows and their normalised values).
    """
    items = ["count(*)"]
    for i, col in enumerate(columns):
        read = f"count_if(NOT m{i} AND NOT n{i})"
        if invalid_counts_hint(col.kind):
            items += [read, f"count_if(NOT m{i} AND n{i})", f"count_if(m{i})"]
        else:
            items += [read, "0", f"count(*) - {read}"]
    return f"SELECT {', '.join(items)} FROM ({flags_sql(columns, raw_source, clean_source)}) f"


#: Figures per column in a :func:`column_pass_sql` row (after its first value, the row count).
PASS_WIDTH = 6


def column_pass_sql(columns: list[ReportColumn], raw_source: str, clean_source: str) -> str:
    """One pass over the rows for both reports: ``count(*)``, then per column six figures.

    The read report's read, invalid and missing (as in :func:`counts_sql`), then the quality report's
    (:mod:`segmentation.ingest.quality`): blank raw cells (NULL or spaces only), cells not blank whose
    normalised value is NULL, and the approximate count of distinct normalised values. Each cell is
    trimmed once (the innermost query); :func:`split_pass` separates the two reports' figures.
    """
    trimmed = ", ".join(["_row", *(f"trim({quote(col.name)}) AS t{i}" for i, col in enumerate(columns))])
    flags, items = ["1 AS one"], ["count(*)"]
    for i, col in enumerate(columns):
        q = quote(col.name)
        words = ", ".join(sql_string(w) for w in (*col.missing, ""))
        flags += [f"(t{i} IS NULL OR t{i} IN ({words})) AS m{i}", f"(t{i} IS NULL OR t{i} = '') AS b{i}",
                  f"c.{q} IS NULL AS n{i}", f"c.{q} AS v{i}"]
        read = f"count_if(NOT m{i} AND NOT n{i})"
        if invalid_counts_hint(col.kind):
            items += [read, f"count_if(NOT m{i} AND n{i})", f"count_if(m{i})"]
        else:
            items += [read, "0", f"count(*) - {read}"]
        items += [f"count_if(b{i})", f"count_if(NOT b{i} AND n{i})", f"approx_count_distinct(v{i})"]
    inner = (f"SELECT {', '.join(flags)} FROM (SELECT {trimmed} FROM {raw_source}) r "
             f"JOIN {clean_source} c USING (_row)")
    return f"SELECT {', '.join(items)} FROM ({inner}) f"


def split_pass(row: tuple | list) -> tuple[tuple, tuple]:
    """A :func:`column_pass_sql` row as a :func:`counts_sql` row and a quality column-counts row."""
    n, figures = row[0], row[1:]
    columns = range(len(figures) // PASS_WIDTH)
    read = tuple(v for i in columns for v in figures[PASS_WIDTH * i: PASS_WIDTH * i + 3])
    quality = tuple(v for i in columns for v in figures[PASS_WIDTH * i + 3: PASS_WIDTH * (i + 1)])
    return (n, *read), (n, *quality)


def examples_sql(columns: list[tuple[int, ReportColumn]], raw_source: str, clean_source: str,
                 limit: int = EXAMPLES) -> str:
    """The most frequent distinct raw values that were not read, of every column given, in one query.

    ``columns`` are (position, column) pairs; rows are ``(position, value, n)``, the ``limit`` most
    frequent values of each column (ties in value order), most frequent first.
    """
    if not columns:
        return "SELECT NULL::INTEGER AS i, NULL::VARCHAR AS value, 0::BIGINT AS n WHERE false"
    values, any_null = [], []
    for i, col in columns:
        q = quote(col.name)
        values.append(f"CASE WHEN c.{q} IS NULL AND NOT {_missing(col)} THEN r.{q} END AS v{int(i)}")
        any_null.append(f"c.{q} IS NULL")
    unread = (f"SELECT {', '.join(values)} FROM {raw_source} r JOIN {clean_source} c USING (_row) "
              f"WHERE {' OR '.join(any_null)}")
    groups = " UNION ALL ".join(f"SELECT {int(i)} AS i, v{int(i)} AS value, count(*) AS n FROM unread "
                                f"WHERE v{int(i)} IS NOT NULL GROUP BY 2" for i, _ in columns)
    return (f"WITH unread AS MATERIALIZED ({unread}) SELECT i, value, n FROM ({groups}) "
            f"QUALIFY row_number() OVER (PARTITION BY i ORDER BY n DESC, value) <= {int(limit)} "
            f"ORDER BY i, n DESC, value")


def examples_by_column(columns: list[ReportColumn], rows: list[tuple]) -> dict[str, list[str]]:
    """Column name -> its examples, from the rows of :func:`examples_sql`."""
    found: dict[str, list[str]] = {}
    for i, value, _n in rows:
        found.setdefault(columns[int(i)].name, []).append(value)
    return found


def unread_columns(columns: list[ReportColumn], counts: tuple) -> list[tuple[int, ReportColumn]]:
    """The (position, column) pairs with invalid values in a :func:`counts_sql` row (those with examples)."""
    return [(i, col) for i, col in enumerate(columns) if counts[2 + 3 * i]]


def filled_sql(clean_select: str, plans: list[ColumnPlan], fills: dict[int, str], source: str) -> str:
    """The normalised rows of ``clean_select`` with the ``fill`` plans' mapped values (views ``fills``) added.

    What :func:`segmentation.ingest.statements.fill_sql` writes into the
    clean table on import, as a query (the preview writes nothing).
    """
    if not fills:
        return clean_select
    items, joins = ["c._row"], []
    for i, plan in enumerate(plans):
        q = quote(plan.column)
        if i not in fills:
            items.append(f"c.{q}")
            continue
        on = f"f{i}.value = {value_sql(plan, f'r.{q}')}"
        if plan.context is not None:
            on += f" AND f{i}.context IS NOT DISTINCT FROM r.{quote(plan.context)}"
        joins.append(f"LEFT JOIN {fills[i]} f{i} ON {on}")
        items.append(f"coalesce(c.{q}, CAST(f{i}.norm AS {plan.sql_type})) AS {q}")
    return f"SELECT {', '.join(items)} FROM ({clean_select}) c JOIN {source} r USING (_row) {' '.join(joins)}"


def build_report(columns: list[ReportColumn], counts: tuple, examples: dict[str, list[str]]) -> ReadReport:
    """The report from the row of :func:`counts_sql` and each column's examples."""
    found = []
    for i, col in enumerate(columns):
        read, invalid, missing = (int(v) for v in counts[1 + 3 * i: 4 + 3 * i])
        found.append(ColumnRead(col.name, col.role, col.kind, read, invalid, missing,
                                examples.get(col.name, [])))
    return ReadReport(rows=int(counts[0]), columns=found)


__all__ = [
    "EXAMPLES",
    "PASS_WIDTH",
    "PHONE_REGIONS",
    "READ_THRESHOLD",
    "ColumnRead",
    "ReadReport",
    "ReportColumn",
    "build_report",
    "column_pass_sql",
    "counts_sql",
    "examples_by_column",
    "examples_sql",
    "filled_sql",
    "flags_sql",
    "report_columns",
    "split_pass",
    "unread_columns",
]

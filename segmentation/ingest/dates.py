"""Dates of CRM exports: SQL for the common spellings, a mapper for the rest (pure, no execution).

A date column gets a :class:`~segmentation.ingest.plan.ColumnPlan` whose
SQL reads ISO dates and the column's day/month order in one pass. The day/
month order is decided per column from all its values: :func:`evidence_sql`
gives SQL aggregates that the ingest repository runs over the whole column,
:func:`decide_order` reads them.
"""

from __future__ import annotations

import re

import pandas as pd

from .plan import ColumnPlan, NormalizeOptions
from .sqltext import sql_string

DAY_FIRST_REGIONS = {"FR", "BE", "CH", "LU", "GB", "IE", "ES", "IT", "DE", "NL", "PT", "AU", "NZ"}
ORDERS = ("dmy", "mdy", "ymd")

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


DATE_FORMATS = {
    "iso": ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y%m%d"],
    "dmy": ["%d/%m/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y"],
    "mdy": ["%m/%d/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m-%d-%Y"],
}


def detect_date_order(values: pd.Series, default_region: str = "FR") -> str:
    """Decide whether ``nn/nn/yyyy`` dates of one column are day-first or month-first.

    A first field above 12 proves day first; a second field above 12 proves
    month first. With no proof either way the region's habit decides.

    Parameters
    ----------
    values : pandas.Series
        Raw strings of the column (a sample is enough).
    default_region : str
        Region whose habit breaks a tie.

    Returns
    -------
    str
        ``"dmy"`` or ``"mdy"``.
    """
    parts = values.dropna().astype(str).str.extract(_DMY)
    first = pd.to_numeric(parts[0], errors="coerce")
    second = pd.to_numeric(parts[1], errors="coerce")
    day_first, month_first = int((first > 12).sum()), int((second > 12).sum())
    if day_first > month_first:
        return "dmy"
    if month_first > day_first:
        return "mdy"
    return "dmy" if default_region.upper() in DAY_FIRST_REGIONS else "mdy"


def date_sql(order: str) -> str:
    """Parse dates with the ISO formats and the column's day/month order; NULL when none fits."""
    formats = DATE_FORMATS["iso"] + DATE_FORMATS.get(order, [])
    listed = "[" + ", ".join(sql_string(f) for f in formats) + "]"
    return f"CAST(try_strptime(trim({{v}}), {listed}) AS DATE)"


def evidence_sql(v: str) -> dict[str, str]:
    """SQL aggregates over a column (``v``: its value expression) that decide its day/month order."""
    first = f"try_cast(regexp_extract({v}, '^\\s*(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{2,4}}', 1) AS INTEGER)"
    second = f"try_cast(regexp_extract({v}, '^\\s*(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-]\\d{{2,4}}', 2) AS INTEGER)"
    return {"day_first": f"count(*) FILTER (WHERE {first} > 12)",
            "month_first": f"count(*) FILTER (WHERE {second} > 12)"}


def decide_order(evidence: dict | None, sample: pd.Series, default_region: str = "FR") -> str:
    """The column's day/month order from :func:`evidence_sql`'s counts (else from ``sample``)."""
    if not evidence:
        return detect_date_order(sample, default_region)
    day_first, month_first = int(evidence.get("day_first") or 0), int(evidence.get("month_first") or 0)
    if day_first > month_first:
        return "dmy"
    if month_first > day_first:
        return "mdy"
    return "dmy" if default_region.upper() in DAY_FIRST_REGIONS else "mdy"


def plan(column: str, role: str, sample: pd.Series, options: NormalizeOptions,
         evidence: dict | None = None) -> ColumnPlan:
    """The plan of a date column (role ``date``, ``birth_date``...)."""
    order = options.date_order
    if order not in ORDERS:
        order = decide_order(evidence, sample, options.default_region)
    label = {"dmy": "dd/mm/yyyy", "mdy": "mm/dd/yyyy", "ymd": "yyyy/mm/dd"}[order]
    return ColumnPlan(column, role, "date", "DATE", date_sql(order), note=f"ISO; other dates read as {label}")


__all__ = ["ORDERS", "date_sql", "decide_order", "detect_date_order", "evidence_sql", "plan"]

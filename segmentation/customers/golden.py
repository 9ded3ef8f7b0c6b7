"""Golden records: one row per customer after merges, built by survivorship rules.

Each column of a merge group takes one surviving value by a rule the user
can change (most recent, most complete, most frequent, longest, min, max,
sum); emails and phones are never lost: every distinct value of a group is
kept in a list column beside the surviving one. The SQL is built here (text
only) and run by :mod:`segmentation.customers.repository`, the customers
stage's only SQL executor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..core.store import Dataset, quote
from ..ingest.roles import ROLE_KIND
from .identity import anchors_sql, customer_id_sql, members_sql

RULES = {
    "most_recent": "Most recent",
    "most_complete": "From the most complete record",
    "most_frequent": "Most frequent",
    "longest": "Longest",
    "min": "Smallest / earliest",
    "max": "Largest / latest",
    "sum": "Sum",
    "all_true": "True only if true everywhere",
    "any_true": "True if true anywhere",
}
KEEP_ALL_ROLES = ("email", "phone")


@dataclass(frozen=True)
class Survivorship:
    """Survivorship rule per column; columns not named get :func:`default_rule`."""

    rules: dict[str, str] = field(default_factory=dict)

    def rule_for(self, ds: Dataset, column: str) -> str:
        """The rule that applies to ``column`` of ``ds``."""
        return self.rules.get(column) or default_rule(ds, column)


def rules_table(ds: Dataset, survivorship: Survivorship) -> pd.DataFrame:
    """``Column`` and ``Rule`` (its label) for every column of ``ds``: the chosen rule, else the default."""
    return pd.DataFrame({"Column": ds.columns, "Rule": [RULES[survivorship.rule_for(ds, c)] for c in ds.columns]})


def rules_from_table(table: pd.DataFrame) -> dict[str, str]:
    """Column → rule key, from a table like :func:`rules_table`'s (as edited in the page)."""
    to_key = {label: key for key, label in RULES.items()}
    return {c: to_key[r] for c, r in zip(table["Column"], table["Rule"], strict=True)}


def default_rule(ds: Dataset, column: str) -> str:
    """A careful default: earliest creation, latest activity, largest measure, strictest consent."""
    role = ds.roles.get(column, "text")
    if role == "created_date":
        return "min"
    if role == "last_activity_date":
        return "max"
    if role == "measure":
        return "max"  # duplicates usually repeat one contract: summing would double count
    if role == "consent":
        return "all_true"  # any "no" among the duplicates means no
    if role == "opt_out":
        return "any_true"
    if ds.columns_with_role("last_activity_date"):
        return "most_recent"
    return "most_complete"


def _aggregate(ds: Dataset, column: str, rule: str) -> str:
    q = f"c.{quote(column)}"
    kind = ROLE_KIND.get(ds.roles.get(column, "text"), "text")
    present = f"FILTER (WHERE {q} IS NOT NULL)"
    complete = f"arg_max({q}, c._filled) {present}"
    if rule == "sum" and kind != "number":
        rule = "most_complete"
    if rule == "most_recent":
        recency = ds.columns_with_role("last_activity_date")
        if not recency:
            return complete
        # Records without an activity date fall back to the most complete one.
        return f"coalesce(arg_max({q}, c.{quote(recency[0])}) {present}, {complete})"
    if rule == "most_frequent":
        return f"mode({q}) {present}"
    if rule == "longest":
        return f"arg_max({q}, length(CAST({q} AS VARCHAR))) {present}"
    if rule in ("min", "max", "sum"):
        return f"{rule}({q})"
    if rule == "all_true":
        return f"bool_and({q})"
    if rule == "any_true":
        return f"bool_or({q})"
    return complete


def golden_sql(ds: Dataset, members: str, survivorship: Survivorship = Survivorship()) -> str:
    """SQL that yields one row per customer of ``ds``.

    Parameters
    ----------
    ds : Dataset
        The customers dataset.
    members : str
        A query of ``(row, group_id)`` for records in active merge groups.
    survivorship : Survivorship
        Rules per column.

    Returns
    -------
    str
        Columns: ``customer_id`` (``C<row>``, the row number of the customer's
        first record, so a customer keeps its id when later records join it), every column of the dataset, a
        ``<column> (all)`` list for emails and phones, ``source_ids`` (the
        record ids, or row numbers without an id column) and ``source_rows``.
    """
    filled = " + ".join(f"CAST({quote(c)} IS NOT NULL AS INTEGER)" for c in ds.columns) or "0"
    ids = ds.columns_with_role("id")
    source = f"CAST(c.{quote(ids[0])} AS VARCHAR)" if ids else "CAST(c._row AS VARCHAR)"
    selects = ["c.customer_id"]
    for col in ds.columns:
        selects.append(f"{_aggregate(ds, col, survivorship.rule_for(ds, col))} AS {quote(col)}")
        if ds.roles.get(col) in KEEP_ALL_ROLES:
            selects.append(f"list_sort(list_distinct(list(c.{quote(col)}) FILTER (WHERE c.{quote(col)} "
                           f"IS NOT NULL))) AS {quote(col + ' (all)')}")
    selects.append(f"string_agg({source}, ';' ORDER BY c._row) AS source_ids")
    selects.append("list(c._row ORDER BY c._row) AS source_rows")
    return (
        f"WITH m AS ({anchors_sql(members)}), "
        f"c AS (SELECT t.*, ({filled}) AS _filled, {customer_id_sql('coalesce(m.anchor, t._row)')} AS customer_id "
        f"FROM {ds.clean_table} t LEFT JOIN m ON m.row = t._row) "
        f"SELECT {', '.join(selects)} FROM c GROUP BY c.customer_id ORDER BY min(c._row)"
    )


def golden_rows_sql(ds: Dataset, survivorship: Survivorship = Survivorship()) -> str:
    """One golden record per customer after the dataset's merges (:func:`golden_sql` on its merge groups)."""
    return golden_sql(ds, members_sql(ds), survivorship)

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


# Ties: every rule that picks one record's value breaks ties by a stated order, so that the same store always
# gives the same golden records (and exports the same bytes). Two orders are precomputed per record, as one
# HUGEINT each (a fixed-width key, as fast for ``arg_max`` as a plain number, and without the NULL-ordering of
# structs): the most complete record first, then the most recent, then the first record (lowest row); and the
# most recent record first (records without an activity date last), then the most complete, then the lowest row.
TIE_ORDER = ("most complete record", "most recent record", "first record (lowest row)")
_ROW_BITS, _TIME_BITS, _FILLED_BITS = 40, 48, 16  # 1.1e12 rows; ±4,400 years in ms; 65,535 columns
_TIME_OFFSET = 1 << (_TIME_BITS - 1)


def _recency_key(ds: Dataset) -> str:
    """A non-negative BIGINT per record that grows with its activity date (0 without one, or without a column)."""
    recency = ds.columns_with_role("last_activity_date")
    if not recency:
        return "0"
    ms = f"epoch_ms(CAST(t.{quote(recency[0])} AS TIMESTAMP))"
    top = (1 << _TIME_BITS) - 1
    return f"coalesce(least(greatest({ms} + {_TIME_OFFSET}, 1), {top}), 0)"


def _rank(first: str, second: str, second_bits: int) -> str:
    """One HUGEINT: ``first``, then ``second`` (below ``2**second_bits``), then the lowest row wins."""
    return (f"((CAST({first} AS HUGEINT) << {_ROW_BITS + second_bits}) + (CAST({second} AS HUGEINT) << {_ROW_BITS})"
            f" + ({(1 << _ROW_BITS) - 1} - t._row))")


def _aggregate(ds: Dataset, column: str, rule: str) -> str:
    """The aggregate of ``column`` under ``rule``; each tie broken by :data:`TIE_ORDER` (``_complete``, ``_recent``)."""
    q = f"c.{quote(column)}"
    kind = ROLE_KIND.get(ds.roles.get(column, "text"), "text")
    present = f"FILTER (WHERE {q} IS NOT NULL)"
    complete = f"arg_max({q}, c._complete) {present}"
    if rule == "sum" and kind != "number":
        rule = "most_complete"
    if rule == "most_recent":
        # Most recent first; records without an activity date come after, the most complete of them first.
        return f"arg_max({q}, c._recent) {present}" if ds.columns_with_role("last_activity_date") else complete
    if rule == "most_frequent":  # the most frequent value; among equally frequent ones, the best-ranked record's
        return f"arg_max({q}, {{'n': c.{quote(_freq(column))}, 'rank': c._complete}}) {present}"
    if rule == "longest":
        return f"arg_max({q}, {{'n': length(CAST({q} AS VARCHAR)), 'rank': c._complete}}) {present}"
    if rule == "sum":  # floating-point sums depend on the order of addition: always add in row order
        return f"list_sum(list({q} ORDER BY c._row) {present})"
    if rule in ("min", "max"):
        return f"{rule}({q})"
    if rule == "all_true":
        return f"bool_and({q})"
    if rule == "any_true":
        return f"bool_or({q})"
    return complete


def _freq(column: str) -> str:
    return f"_freq {column}"


def golden_sql(ds: Dataset, members: str, survivorship: Survivorship = Survivorship(),
               records: str | None = None) -> str:
    """SQL that yields one row per customer of ``ds``.

    Every rule is deterministic: ties are broken by :data:`TIE_ORDER` (the
    most complete record, then the most recent, then the first), the lists
    of e-mails and phones are sorted, sums are added in row order, so the
    same store always gives the same golden records.

    Parameters
    ----------
    ds : Dataset
        The customers dataset.
    members : str
        A query of ``(row, group_id)`` for records in active merge groups.
    survivorship : Survivorship
        Rules per column.
    records : str, optional
        The records to build from (a subquery of the dataset's normalised table, to preview a few); default all.

    Returns
    -------
    str
        Columns: ``customer_id`` (``C<row>``, the row number of the customer's
        first record, so a customer keeps its id when later records join it), every column of the dataset, a
        ``<column> (all)`` list for emails and phones, ``source_ids`` (the
        record ids, or row numbers without an id column) and ``source_rows``.
    """
    filled = " + ".join(f"CAST(t.{quote(c)} IS NOT NULL AS INTEGER)" for c in ds.columns) or "0"
    ids = ds.columns_with_role("id")
    source = f"CAST(c.{quote(ids[0])} AS VARCHAR)" if ids else "CAST(c._row AS VARCHAR)"
    rules = {col: survivorship.rule_for(ds, col) for col in ds.columns}
    selects = ["c.customer_id"]
    for col in ds.columns:
        selects.append(f"{_aggregate(ds, col, rules[col])} AS {quote(col)}")
        if ds.roles.get(col) in KEEP_ALL_ROLES:
            selects.append(f"list_sort(list_distinct(list(c.{quote(col)}) FILTER (WHERE c.{quote(col)} "
                           f"IS NOT NULL))) AS {quote(col + ' (all)')}")
    selects.append(f"string_agg({source}, ';' ORDER BY c._row) AS source_ids")
    selects.append("list(c._row ORDER BY c._row) AS source_rows")
    recent = _recency_key(ds)
    base = (f"SELECT t.*, {_rank(f'({filled})', recent, _TIME_BITS)} AS _complete, "
            f"{_rank(recent, f'({filled})', _FILLED_BITS)} AS _recent, "
            f"{customer_id_sql('coalesce(m.anchor, t._row)')} AS customer_id "
            f"FROM {records or ds.clean_table} t LEFT JOIN m ON m.row = t._row")
    frequent = [col for col in ds.columns if rules[col] == "most_frequent"]
    if frequent:  # how many records of the customer hold each record's value
        counts = ", ".join(f"count(b.{quote(col)}) OVER (PARTITION BY b.customer_id, b.{quote(col)}) "
                           f"AS {quote(_freq(col))}" for col in frequent)
        base = f"SELECT b.*, {counts} FROM ({base}) b"
    return (
        f"WITH m AS ({anchors_sql(members)}), c AS ({base}) "
        f"SELECT {', '.join(selects)} FROM c GROUP BY c.customer_id ORDER BY min(c._row)"
    )


def golden_rows_sql(ds: Dataset, survivorship: Survivorship = Survivorship()) -> str:
    """One golden record per customer after the dataset's merges (:func:`golden_sql` on its merge groups)."""
    return golden_sql(ds, members_sql(ds), survivorship)

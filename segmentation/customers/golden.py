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


def _rule(ds: Dataset, column: str, rule: str) -> str:
    """The rule that ``rule`` amounts to for ``column``: a sum or a yes/no rule needs a column of its kind (numbers,
    yes/no values); on another column it takes the value of the most complete record."""
    kind = ROLE_KIND.get(ds.roles.get(column, "text"), "text")
    if (rule == "sum" and kind != "number") or (rule in ("all_true", "any_true") and kind != "boolean"):
        return "most_complete"
    return rule


def _aggregate(ds: Dataset, column: str, rule: str) -> str:
    """The aggregate of ``column`` under ``rule``; each tie broken by :data:`TIE_ORDER` (``_complete``, ``_recent``)."""
    q = f"c.{quote(column)}"
    present = f"FILTER (WHERE {q} IS NOT NULL)"
    complete = f"arg_max({q}, c._complete) {present}"
    rule = _rule(ds, column, rule)
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


def _single(ds: Dataset, column: str, rule: str) -> str:
    """What :func:`_aggregate` gives for a customer of one record (``t``), the same value of the same type.

    Every rule keeps the record's own value (NULL stays NULL), but a sum: ``list_sum`` of the one value, as the
    aggregate adds it up (a sum of integers is a HUGEINT, of decimals a DECIMAL(38, s)).
    """
    q = f"t.{quote(column)}"
    return f"list_sum([{q}])" if _rule(ds, column, rule) == "sum" else q


def _freq(column: str) -> str:
    return f"_freq {column}"


def _source_id(ds: Dataset, alias: str) -> str:
    """A record's id as text in ``source_ids``: its id column, else its row number."""
    ids = ds.columns_with_role("id")
    return f"CAST({alias}.{quote(ids[0])} AS VARCHAR)" if ids else f"CAST({alias}._row AS VARCHAR)"


def _ranked(ds: Dataset, records: str, join: str) -> str:
    """``records`` (alias ``t``) joined to the anchors ``m`` by ``join``: the two tie orders, the customer id."""
    filled = " + ".join(f"CAST(t.{quote(c)} IS NOT NULL AS INTEGER)" for c in ds.columns) or "0"
    recent = _recency_key(ds)
    return (f"SELECT t.*, {_rank(f'({filled})', recent, _TIME_BITS)} AS _complete, "
            f"{_rank(recent, f'({filled})', _FILLED_BITS)} AS _recent, "
            f"{customer_id_sql('coalesce(m.anchor, t._row)')} AS customer_id "
            f"FROM {records} t {join} m ON m.row = t._row")


def _with_frequencies(ds: Dataset, rules: dict[str, str], base: str) -> str:
    """``base`` with, for each ``most_frequent`` column, how many records of the customer hold each record's value."""
    frequent = [col for col in ds.columns if rules[col] == "most_frequent"]
    if not frequent:
        return base
    counts = ", ".join(f"count(b.{quote(col)}) OVER (PARTITION BY b.customer_id, b.{quote(col)}) "
                       f"AS {quote(_freq(col))}" for col in frequent)
    return f"SELECT b.*, {counts} FROM ({base}) b"


def _aggregates(ds: Dataset, rules: dict[str, str]) -> list[str]:
    """The select list of a customer's golden record from its records ``c`` (grouped by ``c.customer_id``)."""
    selects = ["c.customer_id"]
    for col in ds.columns:
        selects.append(f"{_aggregate(ds, col, rules[col])} AS {quote(col)}")
        if ds.roles.get(col) in KEEP_ALL_ROLES:
            selects.append(f"list_sort(list_distinct(list(c.{quote(col)}) FILTER (WHERE c.{quote(col)} "
                           f"IS NOT NULL))) AS {quote(col + ' (all)')}")
    selects.append(f"string_agg({_source_id(ds, 'c')}, ';' ORDER BY c._row) AS source_ids")
    selects.append("list(c._row ORDER BY c._row) AS source_rows")
    return selects


def _singles(ds: Dataset, rules: dict[str, str]) -> list[str]:
    """:func:`_aggregates` for a customer of one record ``t``: the same columns, values and types, no aggregate."""
    selects = [f"{customer_id_sql('t._row')} AS customer_id"]
    for col in ds.columns:
        selects.append(f"{_single(ds, col, rules[col])} AS {quote(col)}")
        if ds.roles.get(col) in KEEP_ALL_ROLES:
            q = f"t.{quote(col)}"
            selects.append(f"CASE WHEN {q} IS NULL THEN NULL ELSE [{q}] END AS {quote(col + ' (all)')}")
    selects.append(f"{_source_id(ds, 't')} AS source_ids")
    selects.append("[t._row] AS source_rows")
    return selects


def golden_sql(ds: Dataset, members: str, survivorship: Survivorship = Survivorship(),
               records: str | None = None) -> str:
    """SQL that yields one row per customer of ``ds``, every record aggregated (the reference; previews use it).

    Every rule is deterministic: ties are broken by :data:`TIE_ORDER` (the
    most complete record, then the most recent, then the first), the lists
    of e-mails and phones are sorted, sums are added in row order, so the
    same store always gives the same golden records. :func:`golden_build_sql`
    gives the same rows faster for the whole dataset.

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
    rules = {col: survivorship.rule_for(ds, col) for col in ds.columns}
    base = _with_frequencies(ds, rules, _ranked(ds, records or ds.clean_table, "LEFT JOIN"))
    return (
        f"WITH m AS ({anchors_sql(members)}), c AS ({base}) "
        f"SELECT {', '.join(_aggregates(ds, rules))} FROM c GROUP BY c.customer_id ORDER BY min(c._row)"
    )


_FIRST = "_golden first row"  # the sort key of the union below (not a column of the result)


def golden_build_sql(ds: Dataset, members: str, survivorship: Survivorship = Survivorship()) -> str:
    """:func:`golden_sql` over all the records of ``ds``, built faster: the same rows in the same order, with the
    same column names and types.

    Only the records in a merge group are aggregated; every other record (most of them) is its own golden record,
    projected as the aggregates would give it (:func:`_singles`: its own values, ``[value]`` lists, its id). The
    two parts are put together in the customers' order (their first row), as the full aggregate orders them.
    """
    rules = {col: survivorship.rule_for(ds, col) for col in ds.columns}
    grouped = _with_frequencies(ds, rules, _ranked(ds, ds.clean_table, "JOIN"))
    first = quote(_FIRST)
    aggregated = f"SELECT {', '.join(_aggregates(ds, rules))}, min(c._row) AS {first} FROM c GROUP BY c.customer_id"
    singles = (f"SELECT {', '.join(_singles(ds, rules))}, t._row AS {first} "
               f"FROM {ds.clean_table} t ANTI JOIN m ON m.row = t._row")
    return (
        f"WITH m AS ({anchors_sql(members)}), c AS ({grouped}) "
        f"SELECT * EXCLUDE ({first}) FROM ({aggregated} UNION ALL {singles}) ORDER BY {first}"
    )


def golden_rows_sql(ds: Dataset, survivorship: Survivorship = Survivorship()) -> str:
    """One golden record per customer after the dataset's merges (:func:`golden_build_sql` on its merge groups)."""
    return golden_build_sql(ds, members_sql(ds), survivorship)


def golden_reference_sql(ds: Dataset, survivorship: Survivorship = Survivorship()) -> str:
    """:func:`golden_rows_sql` the slow way (:func:`golden_sql`, every record aggregated): what it must equal."""
    return golden_sql(ds, members_sql(ds), survivorship)

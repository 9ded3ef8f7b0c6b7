"""Normalisation of raw CRM values, column by column.

Each column gets a :class:`ColumnPlan`: a SQL expression that DuckDB applies
to the whole column (emails, dates, amounts, booleans, text), or a Python
mapper applied once per *distinct* raw value (phones, categories), whose
result the store joins back. The raw value is always kept beside the
normalised one, so an invalid value becomes NULL here and is still visible.
Yes/no words are those of :mod:`segmentation.core.vocabulary`. Pure: this
module builds SQL text and maps frames; the ingest repository executes.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..core.vocabulary import MISSING_WORDS, ROLE_KIND, is_flag_column, yes_no_sql
from . import dates, numbers, phones
from .plan import ColumnPlan, NormalizeOptions
from .sqltext import sql_string

EMAIL_PATTERN = (r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
                 r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}")



def text_sql() -> str:
    """Trim, Unicode-normalise (NFC) and collapse inner white space (no-break spaces included).

    The costly steps run only on values that need them: NFC on non-ASCII
    values (byte length differs from character length), the regex on values
    with doubled or unusual white space.
    """
    nfc = "CASE WHEN strlen({v}) = length({v}) THEN {v} ELSE nfc_normalize({v}) END"
    odd = r"[\t\n\r\v\f\x{a0}\x{2000}-\x{200b}\x{202f}]"
    space = r"[\s\x{a0}\x{2000}-\x{200b}\x{202f}]+"
    general = (f"nullif(trim(CASE WHEN contains({{v}}, '  ') OR regexp_matches({{v}}, '{odd}') "
               f"THEN regexp_replace({nfc}, '{space}', ' ', 'g') ELSE {nfc} END), '')")
    return f"CASE WHEN regexp_full_match({{v}}, '{_SETTLED_TEXT}') THEN {{v}} ELSE {general} END"


#: Text that the clean-up leaves as it is (most values): words of printable ASCII, Latin-1 letters and signs,
#: French ligatures and typographic quotes, dashes and the euro sign (all unchanged by NFC: no combining mark
#: can follow), separated by single spaces, nothing around. Such a value is kept without further work.
_SETTLED_TEXT = (r"[!-~\x{a1}-\x{ff}\x{152}\x{153}\x{178}\x{2013}\x{2014}\x{2018}\x{2019}\x{201c}\x{201d}\x{20ac}]+"
                 r"(?: [!-~\x{a1}-\x{ff}\x{152}\x{153}\x{178}\x{2013}\x{2014}\x{2018}\x{2019}\x{201c}\x{201d}"
                 r"\x{20ac}]+)*")


def id_sql() -> str:
    """Record ids are compared as exact text, only trimmed."""
    return "nullif(trim({v}), '')"


def email_sql() -> str:
    """Lower-case and trim; an address that is not valid becomes NULL (one regex pass per value)."""
    x = "lower(trim({v}))"
    pattern = sql_string(EMAIL_PATTERN)
    # regexp_full_match is about 2.5x faster than extracting a group; "mailto:" is rare, tested second.
    # A value that matches as written is already lower-case and trimmed (the pattern has neither capitals
    # nor spaces): kept as is, without lower(trim()).
    return (f"CASE WHEN regexp_full_match({{v}}, {pattern}) THEN {{v}} "
            f"WHEN regexp_full_match({x}, {pattern}) THEN {x} "
            f"WHEN starts_with({x}, 'mailto:') AND regexp_full_match({x}[8:], {pattern}) THEN {x}[8:] END")


def postcode_sql(default_region: str) -> str:
    """Upper-case, single spaces; French codes that lost their leading zero get it back."""
    base = r"nullif(upper(trim(regexp_replace({v}, '\s+', ' ', 'g'))), '')"
    # A code of digits and capitals only (most of them) is its own base: no clean-up to compute.
    settled = "regexp_full_match({v}, '[0-9A-Z]+')"
    if default_region.upper() == "FR":
        return (f"CASE WHEN {settled} THEN CASE WHEN regexp_full_match({{v}}, '[0-9]{{4}}') THEN '0' || {{v}} "
                f"ELSE {{v}} END WHEN regexp_full_match({base}, '\\d{{4}}') THEN '0' || {base} ELSE {base} END")
    return f"CASE WHEN {settled} THEN {{v}} ELSE {base} END"


def boolean_sql(opt_out: bool = False, blank_is_no: bool = False) -> str:
    """Yes/no words in French and English to a boolean; anything else is NULL.

    The words are :data:`segmentation.core.vocabulary.YES_WORDS` and
    :data:`~segmentation.core.vocabulary.NO_WORDS`. In an opt-out column,
    "opt-out" and "unsubscribed" mean True; in a consent column they mean
    False. With ``blank_is_no`` (a flag column: ``x`` and empty cells) an
    empty cell is False.
    """
    return yes_no_sql("{v}", opt_out=opt_out, blank_is_no=blank_is_no)


def fold_category(values: pd.Series) -> pd.Series:
    """Key under which spellings of one category meet: ``Île-de-France`` = ``ILE DE FRANCE``."""
    folded = (values.astype(str).str.normalize("NFKD").str.encode("ascii", "ignore")
              .str.decode("ascii").str.lower())
    return folded.str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()


def map_categories(distinct: pd.DataFrame) -> pd.Series:
    """Map each raw spelling to the most frequent spelling of its folded key.

    Parameters
    ----------
    distinct : pandas.DataFrame
        Columns ``value`` (distinct raw strings) and ``n`` (their counts).

    Returns
    -------
    pandas.Series
        The display value for each row of ``distinct``; NULL for blank values.
    """
    frame = pd.DataFrame({
        "spelling": distinct["value"].astype(str).str.strip().str.replace(r"\s+", " ", regex=True),
        "n": distinct["n"].to_numpy(),
    })
    frame["key"] = fold_category(frame["spelling"])
    totals = frame.groupby(["key", "spelling"], as_index=False)["n"].sum()
    # Most frequent spelling wins; on a tie, one with lower case and accents (it carries more),
    # then the alphabetically first, so that reruns agree.
    totals["shouting"] = totals["spelling"] == totals["spelling"].str.upper()
    totals["ascii"] = totals["spelling"].str.isascii()
    best = (totals.sort_values(["key", "n", "shouting", "ascii", "spelling"],
                               ascending=[True, False, True, True, True])
            .drop_duplicates("key").set_index("key")["spelling"])
    result = frame["key"].map(best)
    return result.where(frame["key"] != "", None).reset_index(drop=True)


def plan_column(column: str, role: str, sample: pd.Series, options: NormalizeOptions,
                evidence: dict | None = None, country_column: str | None = None) -> ColumnPlan:
    """Choose how one column is normalised, from its role and a sample of its raw values.

    Parameters
    ----------
    column : str
        Column name, as stored.
    role : str
        A key of :data:`segmentation.ingest.roles.ROLES`.
    sample : pandas.Series
        Raw values of the column (used to decide date order, and whether a
        yes/no column is a flag whose empty cells mean no).
    options : NormalizeOptions
        Region, date-order, decimal-mark and missing-value settings.
    evidence : dict, optional
        The column's values of the aggregates of :func:`evidence_sql` (over
        all its rows); without them decisions fall back to ``sample``.
    country_column : str, optional
        The dataset's country column, for phone numbers' regions.
    """
    kind = ROLE_KIND.get(role, "text")
    if kind == "email":
        return ColumnPlan(column, role, kind, "VARCHAR", email_sql(), note="lower-cased; invalid addresses flagged")
    if kind == "phone":
        return phones.plan(column, role, sample, options, evidence, country_column)
    if kind == "date":
        return dates.plan(column, role, sample, options, evidence)
    if kind == "number":
        return numbers.plan(column, role, sample, options, evidence)
    if kind == "boolean":
        flag = is_flag_column(sample)
        return ColumnPlan(column, role, kind, "BOOLEAN", boolean_sql(opt_out=role == "opt_out", blank_is_no=flag),
                          note="a flag: marked = true, empty = false" if flag else "yes/no words to true/false")
    if kind == "category":
        return ColumnPlan(column, role, kind, "VARCHAR", "{m}", map_categories,
                          note="spellings folded; most frequent shown")
    if kind == "postcode":
        return ColumnPlan(column, role, kind, "VARCHAR", postcode_sql(options.default_region))
    if kind == "id":
        return ColumnPlan(column, role, kind, "VARCHAR", id_sql())
    return ColumnPlan(column, role, "text", "VARCHAR", text_sql(), note="trimmed, Unicode NFC")


def plan_columns(roles: dict[str, str], sample: pd.DataFrame, options: NormalizeOptions,
                 evidence: dict[str, dict] | None = None) -> list[ColumnPlan]:
    """Plans for every column of ``roles``, in order (see :func:`plan_column`).

    ``evidence`` maps a column to its values of :func:`evidence_sql`'s
    aggregates. Every plan carries ``options.missing``.
    """
    country = next((c for c, r in roles.items() if r == "country"), None)
    plans = []
    for col, role in roles.items():
        values = sample[col] if col in sample else pd.Series(dtype=object)
        plan = plan_column(col, role, values, options, (evidence or {}).get(col), country)
        plans.append(replace(plan, missing=tuple(options.missing)))
    return plans


def evidence_sql(roles: dict[str, str]) -> dict[str, dict[str, str]]:
    """Column -> aggregate name -> SQL aggregate (``{v}``: the column's raw value, missing words removed).

    Decisions that must see every value of a column (the day/month order of
    dates, the decimal mark of amounts) are made from these counts.
    """
    kinds = {"date": dates.evidence_sql, "number": numbers.evidence_sql}
    result = {}
    for col, role in roles.items():
        build = kinds.get(ROLE_KIND.get(role, "text"))
        if build is not None:
            aggregates = build("{v}")
            if aggregates:
                result[col] = aggregates
    return result


def invalid_counts_hint(kind: str) -> bool:
    """Whether a raw value that normalises to NULL is an *invalid* value for this kind."""
    return kind in ("email", "phone", "date", "number", "boolean")


date_sql = dates.date_sql
detect_date_order = dates.detect_date_order
number_sql = numbers.number_sql
map_phones = phones.map_phones
phone_sql = phones.phone_sql

__all__ = [
    "MISSING_WORDS",
    "ColumnPlan",
    "NormalizeOptions",
    "boolean_sql",
    "date_sql",
    "detect_date_order",
    "email_sql",
    "evidence_sql",
    "map_categories",
    "map_phones",
    "number_sql",
    "plan_column",
    "plan_columns",
    "sql_string",
    "text_sql",
]

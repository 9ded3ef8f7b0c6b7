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

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import phonenumbers

from ..core.vocabulary import ROLE_KIND, is_flag_column, yes_no_sql


@dataclass(frozen=True)
class NormalizeOptions:
    """How ambiguous values are read.

    Parameters
    ----------
    default_region : str
        ISO country code for phone numbers written without a country prefix.
    date_order : {"auto", "dmy", "mdy"}
        Order of day and month in dates such as ``03/04/2024``; ``"auto"``
        decides per column from values such as ``25/12/2024``, and falls back
        to day first for ``FR`` and other day-first regions.
    """

    default_region: str = "FR"
    date_order: str = "auto"


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is normalised.

    ``expr`` is a SQL expression in which ``{v}`` stands for the raw value
    and ``{m}`` for the mapper's output for that value. ``mapper`` takes a
    frame of distinct raw values (``value``) and their counts (``n``) and
    returns the normalised values in the same order. With ``fill``, ``expr``
    does the common case alone and the mapper sees only the raw values that
    ``expr`` left NULL, once the table is written: one pass over the rows.
    """

    column: str
    role: str
    kind: str
    sql_type: str
    expr: str
    mapper: Callable[[pd.DataFrame], pd.Series] | None = None
    note: str = ""
    fill: bool = False


EMAIL_PATTERN = (r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
                 r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}")

_DAY_FIRST_REGIONS = {"FR", "BE", "CH", "LU", "GB", "IE", "ES", "IT", "DE", "NL", "PT", "AU", "NZ"}

_DMY = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")


def sql_string(value: str) -> str:
    """Quote ``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def text_sql() -> str:
    """Trim, Unicode-normalise (NFC) and collapse inner white space (no-break spaces included).

    The costly steps run only on values that need them: NFC on non-ASCII
    values (byte length differs from character length), the regex on values
    with doubled or unusual white space.
    """
    nfc = "CASE WHEN strlen({v}) = length({v}) THEN {v} ELSE nfc_normalize({v}) END"
    odd = r"[\t\n\r\v\f\x{a0}\x{2000}-\x{200b}\x{202f}]"
    space = r"[\s\x{a0}\x{2000}-\x{200b}\x{202f}]+"
    return (f"nullif(trim(CASE WHEN contains({{v}}, '  ') OR regexp_matches({{v}}, '{odd}') "
            f"THEN regexp_replace({nfc}, '{space}', ' ', 'g') ELSE {nfc} END), '')")


def id_sql() -> str:
    """Record ids are compared as exact text, only trimmed."""
    return "nullif(trim({v}), '')"


def email_sql() -> str:
    """Lower-case and trim; an address that is not valid becomes NULL (one regex pass per value)."""
    return f"nullif(regexp_extract(lower(trim({{v}})), {sql_string('^(?:mailto:)?(' + EMAIL_PATTERN + ')$')}, 1), '')"


def postcode_sql(default_region: str) -> str:
    """Upper-case, single spaces; French codes that lost their leading zero get it back."""
    base = r"nullif(upper(trim(regexp_replace({v}, '\s+', ' ', 'g'))), '')"
    if default_region.upper() == "FR":
        return f"CASE WHEN regexp_full_match({base}, '\\d{{4}}') THEN '0' || {base} ELSE {base} END"
    return base


def boolean_sql(opt_out: bool = False, blank_is_no: bool = False) -> str:
    """Yes/no words in French and English to a boolean; anything else is NULL.

    The words are :data:`segmentation.core.vocabulary.YES_WORDS` and
    :data:`~segmentation.core.vocabulary.NO_WORDS`. In an opt-out column,
    "opt-out" and "unsubscribed" mean True; in a consent column they mean
    False. With ``blank_is_no`` (a flag column: ``x`` and empty cells) an
    empty cell is False.
    """
    return yes_no_sql("{v}", opt_out=opt_out, blank_is_no=blank_is_no)


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
    return "dmy" if default_region.upper() in _DAY_FIRST_REGIONS else "mdy"


def date_sql(order: str) -> str:
    """Parse dates with the ISO formats and the column's day/month order; NULL when none fits."""
    formats = DATE_FORMATS["iso"] + DATE_FORMATS[order]
    listed = "[" + ", ".join(sql_string(f) for f in formats) + "]"
    return f"CAST(try_strptime(trim({{v}}), {listed}) AS DATE)"


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


_FR_NATIONAL = re.compile(r"^0([1-9]\d{8})$")
_FR_INTL = re.compile(r"^(?:\+|00)33(?:0)?([1-9]\d{8})$")


def phone_sql(default_region: str) -> str:
    """French numbers to E.164 in SQL, the common case; NULL for anything else (see :func:`map_phones`).

    One clean-up and one regex per value: this runs over every row.
    """
    digits = r"regexp_replace(replace({v}, '(0)', ''), '[^\d+]', '', 'g')"
    prefix = r"(?:\+|00)33(?:0)?|0" if default_region.upper() == "FR" else r"(?:\+|00)33(?:0)?"
    return f"'+33' || nullif(regexp_extract({digits}, '^(?:{prefix})([1-9]\\d{{8}})$', 1), '')"


def map_phones(distinct: pd.DataFrame, default_region: str = "FR") -> pd.Series:
    """Phone numbers to E.164 (``+33123456789``); NULL when not a valid number.

    French numbers are recognised with a vectorised fast path; every other
    value is parsed once with ``phonenumbers`` (each distinct value once).

    Parameters
    ----------
    distinct : pandas.DataFrame
        Column ``value``: the distinct raw strings.
    default_region : str
        Region assumed for numbers written without a country prefix.
    """
    raw = distinct["value"].astype(str).reset_index(drop=True)
    compact = raw.str.replace(r"\(0\)", "", regex=True).str.replace(r"[^\d+]", "", regex=True)
    body = compact.str.extract(_FR_INTL)[0]
    if default_region.upper() == "FR":
        body = body.fillna(compact.str.extract(_FR_NATIONAL)[0])
    result = ("+33" + body).astype(object)
    rest = body.isna() & compact.str.contains(r"\d{5}", regex=True)
    if rest.any():
        result[rest] = [_parse_phone(v, default_region) for v in raw[rest]]
    return result.where(result.notna(), None)


def _parse_phone(value: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def plan_column(column: str, role: str, sample: pd.Series, options: NormalizeOptions) -> ColumnPlan:
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
        Region and date-order settings.
    """
    kind = ROLE_KIND.get(role, "text")
    if kind == "email":
        return ColumnPlan(column, role, kind, "VARCHAR", email_sql(), note="lower-cased; invalid addresses flagged")
    if kind == "phone":
        region = options.default_region

        def mapper(distinct: pd.DataFrame) -> pd.Series:
            return map_phones(distinct, region)

        return ColumnPlan(column, role, kind, "VARCHAR", phone_sql(region), mapper,
                          note=f"E.164, default region {region}", fill=True)
    if kind == "date":
        order = options.date_order
        if order not in ("dmy", "mdy"):
            order = detect_date_order(sample, options.default_region)
        label = "dd/mm/yyyy" if order == "dmy" else "mm/dd/yyyy"
        return ColumnPlan(column, role, kind, "DATE", date_sql(order), note=f"ISO; other dates read as {label}")
    if kind == "number":
        return ColumnPlan(column, role, kind, "DOUBLE", number_sql(), note="amounts to numbers")
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


def plan_columns(roles: dict[str, str], sample: pd.DataFrame, options: NormalizeOptions) -> list[ColumnPlan]:
    """Plans for every column of ``roles``, in order (see :func:`plan_column`)."""
    return [plan_column(col, role, sample[col] if col in sample else pd.Series(dtype=object), options)
            for col, role in roles.items()]


def invalid_counts_hint(kind: str) -> bool:
    """Whether a raw value that normalises to NULL is an *invalid* value for this kind."""
    return kind in ("email", "phone", "date", "number", "boolean")


__all__ = [
    "ColumnPlan",
    "NormalizeOptions",
    "boolean_sql",
    "date_sql",
    "detect_date_order",
    "email_sql",
    "map_categories",
    "map_phones",
    "number_sql",
    "plan_column",
    "plan_columns",
    "sql_string",
    "text_sql",
]

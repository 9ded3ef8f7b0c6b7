"""Amounts and counts of CRM exports to numbers, in SQL (pure, no execution).

The decimal mark is decided per column from all its values: :func:`evidence_sql`
gives SQL aggregates that the ingest repository runs over the whole column,
:func:`decide_decimal` reads them, and :func:`number_sql` reads every value
of the column with that one mark. A value that is not a number written with
that mark (``12 mois``, ``C536379``, ``1,5`` in a column of ``84,835.00``)
becomes NULL, counted invalid; the raw value stays in the raw table.
"""

from __future__ import annotations

import pandas as pd

from ..core.errors import SettingError
from .plan import ColumnPlan, NormalizeOptions

#: Regions whose amounts are written with a decimal comma (``1 234,50``).
COMMA_REGIONS = frozenset({
    "FR", "BE", "LU", "MC", "DE", "AT", "ES", "IT", "PT", "NL", "DK", "SE", "NO", "FI", "PL", "CZ", "SK", "HU",
    "RO", "BG", "GR", "TR", "RU", "UA", "BR", "AR", "CL", "CO", "PE", "UY", "ID", "VN", "ZA", "MA", "TN", "DZ",
})

#: White space that separates thousands (no-break, thin and narrow no-break spaces included), as a class body.
_SPACE = r"\s\x{a0}\x{2000}-\x{200b}\x{202f}\x{3000}"
#: Currency symbols accepted before or after an amount.
_SYMBOLS = "€$£¥₹₽₩₺¢"
#: Currency codes accepted before or after an amount (case-insensitive; longest first where one starts another).
_CODES = ("usd|eur(?:os?)?|gbp|chf|jpy|cad|aud|nzd|cny|sek|nok|dkk|pln|czk|huf|ron|mad|tnd|dzd|xof|xaf|brl"
          "|mxn|inr|zar|us")


def _number_pattern(decimal: str) -> str:
    """The regular expression of one amount whose decimal mark is ``decimal`` (no capturing groups).

    The number (thousands only in groups of three), an optional exponent,
    ``k``/``M``, a currency before or after, ``%``; negative by one leading
    sign (before or after the currency), one trailing minus or parentheses.
    """
    mark = "\\" + decimal
    group = f"[{_SPACE}'\u2019\\{'.' if decimal == ',' else ','}]"
    w = f"[{_SPACE}]*"
    currency = f"(?:us\\$|[{_SYMBOLS}]|{_CODES})"
    before = f"(?:{currency}{w})?"
    number = (f"(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+(?:{mark}[0-9]*)?|[0-9]+(?:{mark}[0-9]*)?|{mark}[0-9]+)"
              f"(?:e[+-]?[0-9]+)?{w}[km]?(?:{w}{currency})?{w}%?")
    minus = "[\\-\u2212]"
    forms = (f"[+\\-\u2212]?{w}{before}{number}", f"{before}[+\\-\u2212]{w}{number}",
             f"{before}{number}{w}{minus}", f"\\({w}{before}{number}{w}\\)")
    return f"(?i)^{w}(?:{'|'.join(forms)}){w}$"


def _literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def number_sql(decimal: str = "auto") -> str:
    """Amounts and counts such as ``1 234,50 €``, ``$84,835``, ``(1 234)``, ``1.23457E+11`` to DOUBLE.

    Parameters
    ----------
    decimal : {"auto", ",", "."}
        The column's decimal mark (see :func:`decide_decimal`). The other
        mark, white space (no-break and thin spaces too) and ``'`` separate
        thousands, only in groups of three digits (``1.234.567,89``; not
        ``1.23.4``). ``"auto"`` decides per value, for a column without a
        decision: with both marks the last one is decimal, a ``,`` in two or
        more groups of three (``1,234,567``) separates thousands, else a
        ``,`` is decimal; a ``.`` is decimal unless in two or more groups
        of three (``1.234.567``).

    Returns
    -------
    str
        A SQL expression over ``{v}``. Accepted around the number: a
        currency symbol or ISO code before or after (``€``, ``$``, ``CHF``,
        ``EUR``...); a minus (``-`` or U+2212) before, a trailing ``-``, or
        parentheses for a negative; an exponent (``12e3``, ``1,5E+03`` with
        a comma mark); ``k`` (x 1,000) or ``M`` (x 1,000,000); a trailing
        ``%`` (``12 %`` is 12). Anything else, such as other letters or
        words (``12 mois``, ``C536379``, ``84459A``), gives NULL.

    Raises
    ------
    SettingError
        For a mark other than ``","``, ``"."`` and ``"auto"``.

    Notes
    -----
    Plain values (``-?d+`` with an optional decimal part) are cast at once;
    positive amounts in thousands groups with a currency symbol (``1 234,50 €``,
    the usual export of a French CRM) are read by a second cheap test (see
    :func:`_grouped_sql`).
    Others pay one regular-expression match without capture (a DFA pass)
    that validates them, one ``regexp_replace`` that keeps the digits, the
    mark, the exponent and ``k``/``m`` (dropping currency codes first), and
    one match that finds a leading, trailing or bracketed minus. On 1M
    values this is as fast as the former per-value expression, or faster.
    """
    if decimal == "auto":
        point = r"regexp_matches({v}, '\.[^.,]*$|^[^.]*,[0-9]{3},') AND NOT regexp_matches({v}, '\.[0-9]{3}\.')"
        return f"CASE WHEN {point} THEN {number_sql('.')} ELSE {number_sql(',')} END"
    if decimal not in (",", "."):
        raise SettingError("decimal", decimal, "',', '.' or 'auto' (the decimal mark of amounts)")
    mark = "\\" + decimal
    plain = f"regexp_full_match({{v}}, '-?[0-9]+(?:{mark}[0-9]+)?')"
    fast = "try_cast({v} AS DOUBLE)" if decimal == "." else "try_cast(replace({v}, ',', '.') AS DOUBLE)"
    kept = f"(?i){_CODES}|[^0-9{mark}e+\\-km]"
    digits = f"regexp_replace({{v}}, '{kept}', '', 'g')"
    if decimal == ",":
        digits = f"replace({digits}, ',', '.')"
    scaled = f"replace(replace(replace(replace({digits}, 'k', 'e3'), 'K', 'e3'), 'm', 'e6'), 'M', 'e6')"
    negative = "regexp_matches({v}, '^[^0-9]*[\\-\u2212(]|[\\-\u2212][^0-9]*$')"
    rest = (f"abs(try_cast(rtrim(CASE WHEN regexp_matches({{v}}, '[kKmM]') THEN {scaled} ELSE {digits} END, '-') "
            f"AS DOUBLE)) * CASE WHEN {negative} THEN -1.0 ELSE 1.0 END")
    return (f"CASE WHEN {plain} THEN {fast} WHEN {_grouped_sql(decimal)} "
            f"WHEN regexp_full_match({{v}}, {_literal(_number_pattern(decimal))}) THEN {rest} END")


def _grouped_sql(decimal: str) -> str:
    """``WHEN <test> THEN <value>`` for positive amounts such as ``1 234,50 €``, ``$84,835.00``, ``12,5 €``.

    Thousands in groups of three separated by spaces (no-break and narrow
    no-break too) or the other mark, or no groups; an optional decimal part;
    an optional ``€``, ``$`` or ``£`` before or after. The value is the one
    the general reading gives (the same digits and mark are kept), at a
    fraction of its cost: one small match and a few ``replace``.
    """
    other = "." if decimal == "," else ","
    space = r"[ \x{a0}\x{202f}]"
    group = f"[ \\x{{a0}}\\x{{202f}}\\{other}]"
    pattern = (f"(?:[€$£]{space}?)?(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)(?:\\{decimal}[0-9]+)?"
               f"(?:{space}?[€$£])?")
    # What the pattern lets through besides digits and the decimal mark, each removed by a replace() (several
    # times faster in DuckDB than one regexp_replace).
    digits = "{v}"
    for kept_out in ("'€'", "'$'", "'£'", "' '", "chr(160)", "chr(8239)", f"'{other}'"):
        digits = f"replace({digits}, {kept_out}, '')"
    if decimal == ",":
        digits = f"replace({digits}, ',', '.')"
    return f"regexp_full_match({{v}}, {_literal(pattern)}) THEN try_cast({digits} AS DOUBLE)"


#: What must not follow a number's digits in the evidence patterns (a digit or a mark).
_END = "(?:[^0-9.,]|$)"
#: Evidence patterns (RE2 and Python ``re`` alike): name -> what a value must show to count.
EVIDENCE_PATTERNS: dict[str, str] = {
    # A decimal comma: 1-2 or 4+ digits after it, a leading 0 before it, after dotted thousands, or
    # dotted thousands in two groups.
    "comma": (f"[0-9],(?:[0-9]{{1,2}}|[0-9]{{4,}}){_END}|(?:^|[^0-9.,])0,[0-9]|[0-9]\\.[0-9]{{3}},[0-9]"
              f"|[0-9]\\.[0-9]{{3}}\\.[0-9]{{3}}"),
    # A decimal point: the same with the marks swapped (``84,835.00``, ``1,234,567``, ``1.23457E+11``).
    "point": (f"[0-9]\\.(?:[0-9]{{1,2}}|[0-9]{{4,}}){_END}|(?:^|[^0-9.,])0\\.[0-9]|[0-9],[0-9]{{3}}\\.[0-9]"
              f"|[0-9],[0-9]{{3}},[0-9]{{3}}"),
    # Single ``d,ddd`` or ``d.ddd`` groups (``$84,835``, ``1.234``) tell nothing and are not counted.
}


def evidence_sql(v: str) -> dict[str, str]:
    """SQL aggregates over a column (``v``: its value expression) that decide its decimal mark.

    Counts of the values matching each of :data:`EVIDENCE_PATTERNS`; only
    values holding a ``,`` or a ``.`` pay for a regular expression.
    """
    marked = f"(contains({v}, ',') OR contains({v}, '.'))"
    return {name: f"count(*) FILTER (WHERE {marked} AND regexp_matches({v}, {_literal(pattern)}))"
            for name, pattern in EVIDENCE_PATTERNS.items()}


def sample_evidence(sample: pd.Series) -> dict[str, int]:
    """The counts of :func:`evidence_sql` computed on ``sample`` (when the store's are not available)."""
    values = sample.dropna().astype(str)
    return {name: int(values.str.contains(pattern, regex=True).sum()) for name, pattern in EVIDENCE_PATTERNS.items()}


def decide_decimal(evidence: dict | None, sample: pd.Series, default_region: str = "FR") -> str:
    """The column's decimal mark, ``","`` or ``"."``, from :func:`evidence_sql`'s counts (else ``sample``'s).

    The rule, over all the column's values:

    1. values that show a decimal comma (``12,5``, ``1 234,50``, ``0,125``,
       ``1.234,5``, ``1.234.567``) against values that show a decimal point
       (``3.5``, ``84,835.00``, ``1,234,567``, ``1.23457E+11``): the larger
       count wins, so one telling value anywhere in the column decides;
    2. a tie with telling values on both sides: ``","`` for regions that
       write decimal commas (:data:`COMMA_REGIONS`, ``FR`` among them),
       else ``"."``;
    3. no telling value: ``"."``. A column whose only marks are single
       ``d,ddd`` groups (``$84,835``) is thus read in thousands, one of
       single ``d.ddd`` groups as decimals; plain integers read the same
       either way.
    """
    counts = evidence if evidence else sample_evidence(sample)
    comma, point = int(counts.get("comma") or 0), int(counts.get("point") or 0)
    if comma != point:
        return "," if comma > point else "."
    return "," if comma and default_region.upper() in COMMA_REGIONS else "."


def plan(column: str, role: str, sample: pd.Series, options: NormalizeOptions,
         evidence: dict | None = None) -> ColumnPlan:
    """The plan of an amount or count column (role ``measure``).

    ``options.decimal`` ``","`` or ``"."`` sets the decimal mark; ``"auto"``
    decides it from all the column's values (:func:`decide_decimal`).
    """
    decimal = options.decimal if options.decimal in (",", ".") else decide_decimal(
        evidence, sample, options.default_region)
    thousands = "'.' or spaces" if decimal == "," else "',' or spaces"
    return ColumnPlan(column, role, "number", "DOUBLE", number_sql(decimal),
                      note=f"amounts to numbers; decimal mark '{decimal}', thousands {thousands}")


__all__ = ["COMMA_REGIONS", "EVIDENCE_PATTERNS", "decide_decimal", "evidence_sql", "number_sql", "plan",
           "sample_evidence"]

"""Phone numbers of CRM exports to E.164 (pure, no execution).

French numbers take a SQL fast path over every row (:func:`phone_sql`);
whatever it cannot decide exactly is parsed once per distinct (value,
country) pair with ``phonenumbers`` (:func:`map_phones`), in the row's
region: the country column's, else the default region.

France and its overseas departments share one national plan but not one
calling code: ``0690 12 34 56`` is a Guadeloupe mobile, ``+590 690 12 34 56``,
although ``phonenumbers`` reads it as ``+33 690…`` with region ``FR``. A
French national number whose geographic or mobile block belongs to an
overseas territory (:data:`OVERSEAS_REGIONS`) gets that territory's code;
one in an overseas block that no territory has assigned is invalid (NULL),
never a wrong ``+33``. Non-geographic ``08`` and ``09`` numbers stay ``+33``.
An extension (``x4715``, ``ext. 12``, ``poste 12``, ``#12``) is set apart
(:func:`split_extension`, :func:`extension_sql`); the number is normalised
without it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd
import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

from .plan import ColumnPlan, NormalizeOptions
from .sqltext import sql_string

#: Territories with their own calling code inside the French national plan (checked in this order).
OVERSEAS_REGIONS: tuple[str, ...] = ("GP", "MQ", "GF", "RE", "YT", "MF", "BL")
_FRENCH_PLAN = frozenset({"FR", *OVERSEAS_REGIONS})
#: Overseas blocks of the French plan (national significant number prefixes, ARCEP): never ``+33``.
_OVERSEAS_BLOCKS = ("590", "594", "596", "262", "263", "269", "639",
                    "690", "691", "692", "693", "694", "696", "697", "709")
#: First digits of every overseas fixed-line or mobile number that the ``phonenumbers`` metadata lists.
_OVERSEAS_CANDIDATES = ("26", "59", "63", "69", "70")
_GEOGRAPHIC = frozenset({phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE,
                         phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE})

#: French national significant numbers the SQL fast path writes as ``+33`` (9 digits): the blocks
#: ``phonenumbers`` validates for FR, without the 08 numbers and without every block that an overseas
#: territory shares (0262/0263/0268/0269, 0590/0594/0596/0598, 0639, 069x, 070x); those go to the mapper.
FR_FAST_PATTERN = (r"(?:[13]\d|2[0-57-9]|4[1-9]|5[0-8])\d{7}|(?:26[014-7]|59[1-3579])\d{6}"
                   r"|(?:6[0-24-8]\d|63[0-8]|69[589]|7[3-9]\d)\d{6}|9\d{8}")
#: An extension after a number: ``x4715``, ``x 4715``, ``ext. 12``, ``extn 12``, ``extension 12``, ``poste 12``,
#: ``p. 12``, ``#12``.
EXTENSION_PATTERN = r"(?i)^(.*\d)[\s,;]*(?:extension|extn|ext|poste|p\.|x|#)[\s:.]*(\d{1,10})\s*$"
_EXTENSION = re.compile(EXTENSION_PATTERN)
_EXTENSION_TAIL = r"(?:(?:extension|extn|ext|poste|x|#):?\d{1,10})?"  # on the number without spaces and dots
_FRANCE_WORDS = ("fr", "fra", "france")

#: ISO 3166 alpha-3 codes (the names and alpha-2 codes come from ``phonenumbers``' locale data).
_ALPHA3 = {
    "FRA": "FR", "GLP": "GP", "MTQ": "MQ", "GUF": "GF", "REU": "RE", "MYT": "YT", "MAF": "MF", "BLM": "BL",
    "SPM": "PM", "NCL": "NC", "PYF": "PF", "WLF": "WF", "MCO": "MC", "AND": "AD", "BEL": "BE", "LUX": "LU",
    "CHE": "CH", "DEU": "DE", "AUT": "AT", "NLD": "NL", "GBR": "GB", "IRL": "IE", "ESP": "ES", "PRT": "PT",
    "ITA": "IT", "GRC": "GR", "POL": "PL", "CZE": "CZ", "SVK": "SK", "HUN": "HU", "ROU": "RO", "BGR": "BG",
    "HRV": "HR", "SVN": "SI", "DNK": "DK", "SWE": "SE", "NOR": "NO", "FIN": "FI", "ISL": "IS", "EST": "EE",
    "LVA": "LV", "LTU": "LT", "MLT": "MT", "CYP": "CY", "UKR": "UA", "RUS": "RU", "TUR": "TR", "USA": "US",
    "CAN": "CA", "MEX": "MX", "BRA": "BR", "ARG": "AR", "CHL": "CL", "COL": "CO", "PER": "PE", "HTI": "HT",
    "MAR": "MA", "DZA": "DZ", "TUN": "TN", "SEN": "SN", "CIV": "CI", "CMR": "CM", "MDG": "MG", "MUS": "MU",
    "ZAF": "ZA", "EGY": "EG", "ISR": "IL", "LBN": "LB", "ARE": "AE", "SAU": "SA", "IND": "IN", "CHN": "CN",
    "JPN": "JP", "KOR": "KR", "VNM": "VN", "THA": "TH", "SGP": "SG", "AUS": "AU", "NZL": "NZ",
}
#: Common spellings that are neither a locale name nor a code.
_ALIASES = {
    "USA": "US", "U.S.": "US", "America": "US", "Amérique": "US", "Etats-Unis d'Amérique": "US",
    "UK": "GB", "Great Britain": "GB", "Grande-Bretagne": "GB", "England": "GB", "Angleterre": "GB",
    "Scotland": "GB", "Ecosse": "GB", "Wales": "GB", "Pays de Galles": "GB", "Holland": "NL", "Hollande": "NL",
    "Réunion": "RE", "Guyane": "GF", "Saint-Martin (partie française)": "MF", "St Barth": "BL",
    "France métropolitaine": "FR", "République française": "FR",
}
_LANGUAGES = ("aa", "fr", "de", "es", "it", "nl")  # "aa": the locale data's English default


def _fold(text: str) -> str:
    """Key of a country spelling: ASCII, lower case, letters and digits only (``U.S.A.`` -> ``usa``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())


def _locale_name(names: dict[str, str], language: str) -> str | None:
    """A region's name in one language of ``LOCALE_DATA`` (``*xx`` refers to language ``xx``)."""
    name = names.get(language)
    while name and name.startswith("*"):
        name = names.get(name[1:])
    return name


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    """Folded country spelling -> ISO 3166 alpha-2 region: alpha-2 and alpha-3 codes, names in
    English, French, German, Spanish, Italian and Dutch (from ``phonenumbers``' locale data) and common aliases."""
    table: dict[str, str] = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS & set(LOCALE_DATA)):
        for language in _LANGUAGES:
            name = _locale_name(LOCALE_DATA[region], language)
            if name:
                table.setdefault(_fold(name), region)
    table.update({_fold(name): region for name, region in _ALIASES.items()})
    table.update({code.lower(): region for code, region in _ALPHA3.items()})
    table.update({region.lower(): region for region in phonenumbers.SUPPORTED_REGIONS})
    return table


def country_regions(countries: pd.Series, default_region: str, missing: tuple[str, ...] = ()) -> pd.Series:
    """The region of each country text (``Belgique`` -> ``BE``, ``U.S.A.`` -> ``US``, ``DEU`` -> ``DE``).

    Parameters
    ----------
    countries : pandas.Series
        Raw country texts (the distinct values of a country column).
    default_region : str
        The region of an empty, missing (``missing`` words) or unknown country.
    missing : tuple of str
        Cell texts that mean "no value".

    Returns
    -------
    pandas.Series
        ISO 3166 alpha-2 codes, index of ``countries``.
    """
    text = countries.astype(object).where(countries.notna(), "").astype(str).str.strip()
    text = text.where(~text.isin(missing), "")
    folded = (text.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").str.lower()
              .str.replace(r"[^a-z0-9]+", "", regex=True))
    return folded.map(country_names()).fillna(default_region.upper()).astype(object)


def split_extension(values: pd.Series) -> pd.DataFrame:
    """Set an extension apart: ``(555) 123-4567 x4715`` -> ``(555) 123-4567`` and ``4715``.

    Parameters
    ----------
    values : pandas.Series
        Raw phone texts.

    Returns
    -------
    pandas.DataFrame
        Columns ``number`` (the text without its extension, unchanged when it
        has none) and ``extension`` (its digits, None without one); index of
        ``values``.
    """
    text = values.astype(object).where(values.notna(), None)
    parts = text.str.extract(_EXTENSION)
    number = parts[0].where(parts[0].notna(), text)
    return pd.DataFrame({"number": number.astype(object).where(number.notna(), None),
                         "extension": parts[1].astype(object).where(parts[1].notna(), None)},
                        index=values.index)


def extension_sql() -> str:
    """SQL text of the extension digits of ``{v}`` (``x4715`` -> ``4715``); NULL without one."""
    return f"nullif(regexp_extract({{v}}, {sql_string(EXTENSION_PATTERN)}, 2), '')"


def phone_sql(default_region: str, country: bool = False, bound: bool = False) -> str:
    """French numbers to E.164 in SQL, the common case; NULL for anything else (see :func:`map_phones`).

    One clean-up and one regex per row. ``+33`` (or ``0033``) numbers are
    read in every row, national ``0…`` numbers only where the row's region
    is France: the default region without a country column; with one
    (``country``: ``{c}`` is the row's raw country), rows whose country is
    ``France``, ``FR`` or ``FRA`` (or empty when the default region is
    ``FR``): a one-letter mark before the number (``F`` French row, ``X``
    other) lets the one regex tell them apart. Only numbers in
    :data:`FR_FAST_PATTERN` are written, so the result is always the one
    :func:`map_phones` would give; an extension after the number is left out.
    """
    compact = compact_sql("{v}")
    international = r"(?:\+|00)33(?:\(0\)|0)?"
    tail = f"({FR_FAST_PATTERN}){_EXTENSION_TAIL}$"
    france = default_region.upper() == "FR"
    if not country:
        prefix = f"(?:{international}|0)" if france else international
        general = _fast(compact, f"(?i)^{prefix}{tail}")
        if not france:
            return general
        # Numbers written with no separator and no extension (0612345678, +33612345678): a full match (no
        # capture, no clean-up) and the nine digits after the prefix (FR_FAST_PATTERN never starts with 0).
        # Then the same tests on the number without separators (01 23 45 67 89, +33 6 12 ...), before the general
        # reading's capture, which costs more. With ``bound``, that number is ``{b}`` (:func:`compact_sql`, computed
        # once per row by the plan's ``bind``); otherwise the clean-up is repeated in each test.
        national, plus = sql_string(f"0(?:{FR_FAST_PATTERN})"), sql_string(f"[+]33(?:{FR_FAST_PATTERN})")
        phone = "{b}" if bound else compact
        return (f"CASE WHEN regexp_full_match({{v}}, {national}) THEN '+33' || substr({{v}}, 2) "
                f"WHEN regexp_full_match({{v}}, {plus}) THEN '+33' || substr({{v}}, 4) "
                f"WHEN regexp_full_match({phone}, {national}) THEN '+33' || substr({phone}, 2) "
                f"WHEN regexp_full_match({phone}, {plus}) THEN '+33' || substr({phone}, 4) "
                f"{_french_plan_sql(phone)}"
                f"ELSE {_fast(phone, f'(?i)^{prefix}{tail}')} END")
    words = ", ".join(sql_string(w) for w in (("", *_FRANCE_WORDS) if france else _FRANCE_WORDS))
    marked = f"CASE WHEN coalesce(lower(trim({{c}})), '') IN ({words}) THEN 'F' ELSE 'X' END || {compact}"
    return _fast(marked, f"(?i)^(?:F0|[FX]{international}){tail}")


def _french_plan_sql(phone: str) -> str:
    """``WHEN`` branches for a number of the overseas and 08 blocks of the French plan, national (``0`` and
    nine digits) or international (``+33``, ``0033``, with or without the national 0), in SQL text ``phone``
    (separators stripped): what :func:`_french_plan_e164` (hence :func:`french_e164`) gives, from the same
    metadata patterns, so that the mapper is spared these numbers (:func:`undecided_sql`)."""
    nsn = f"right({phone}, 9)"
    patterns = _plan_patterns()
    overseas = " ".join(
        f"WHEN regexp_full_match({nsn}, {sql_string(patterns[region])}) "
        f"THEN '+{phonenumbers.country_code_for_region(region)}' || {nsn}" for region in OVERSEAS_REGIONS)
    blocks = ", ".join(sql_string(b) for b in _OVERSEAS_BLOCKS)
    french = f"WHEN regexp_full_match({nsn}, {sql_string(patterns['FR'])}) THEN '+33' || {nsn}"
    candidates = "|".join(_OVERSEAS_CANDIDATES)
    prefix = r"(?:0|(?:\+|00)330?)"
    return (f"WHEN regexp_full_match({phone}, {sql_string(f'{prefix}(?:{candidates})[0-9]{{7}}')}) THEN CASE "
            f"{overseas} WHEN list_has_any([{nsn}[1:3]], [{blocks}]) THEN NULL {french} END "
            f"WHEN regexp_full_match({phone}, {sql_string(f'{prefix}8[0-9]{{8}}')}) THEN CASE {french} END ")


# What the fast path strips from a number: RE2's \s (tab, line feed, form feed, carriage return, space), the dot, the
# hyphen, the slash and parentheses (``(01) 23 45 67 89``; ``+33 (0)1 …`` keeps its optional 0): one replace() each,
# which DuckDB runs several times faster than regexp_replace or translate.
_SEPARATORS = ("' '", "chr(9)", "chr(10)", "chr(12)", "chr(13)", "'.'", "'-'", "'/'", "'('", "')'")


def compact_sql(value: str = "{v}") -> str:
    """SQL text of ``value`` without the separators of :data:`_SEPARATORS`."""
    for separator in _SEPARATORS:
        value = f"replace({value}, {separator}, '')"
    return value


def _fast(text: str, pattern: str) -> str:
    """``+33`` and the nine digits that ``pattern`` captures in ``text``, else NULL."""
    return f"'+33' || nullif(regexp_extract({text}, {sql_string(pattern)}, 1), '')"


def map_phones(distinct: pd.DataFrame, default_region: str = "FR", missing: tuple[str, ...] = ()) -> pd.Series:
    """Phone numbers to E.164 (``+33123456789``); None when not a valid number for its region.

    Each distinct (number, region) pair is parsed once with ``phonenumbers``.

    Parameters
    ----------
    distinct : pandas.DataFrame
        Column ``value``: the distinct raw strings; optional ``context``: the
        row's raw country text (:func:`country_regions`).
    default_region : str
        Region of numbers written without a country prefix in rows without
        a known country.
    missing : tuple of str
        Country texts that mean "no value".

    Returns
    -------
    pandas.Series
        E.164 strings or None, in the order of ``distinct``.
    """
    numbers = split_extension(distinct["value"].reset_index(drop=True))["number"]
    if "context" in distinct:
        regions = country_regions(distinct["context"].reset_index(drop=True), default_region, missing)
    else:
        regions = pd.Series(default_region.upper(), index=numbers.index, dtype=object)
    readable = numbers.notna() & numbers.astype(str).str.count(r"\d").ge(6)
    result = pd.Series(None, index=numbers.index, dtype=object)
    # Numbers of the French plan outside the overseas and 08 blocks are decided by FR_FAST_PATTERN alone
    # (it holds every block phonenumbers validates there): vectorised, no parsing (many invalid numbers).
    compact = numbers.astype(str).str.replace(r"\(0\)", "", regex=True).str.replace(r"[\s.\-()/]", "", regex=True)
    nsn = compact.str.extract(r"^(?:0|(?:\+|00)33(?:0)?)([1-9]\d{8})$")[0]
    known = readable & regions.isin(_FRENCH_PLAN) & nsn.notna() & \
        ~nsn.fillna("").str.startswith((*_OVERSEAS_CANDIDATES, "8"))
    if known.any():
        body = nsn[known]
        result[known] = ("+33" + body).where(body.str.fullmatch(FR_FAST_PATTERN), None)
    rest = readable & ~known
    # The overseas and 08 candidates: decided from the French plan's metadata patterns, vectorised, as
    # french_e164 decides them one by one with phonenumbers.
    plan_number = rest & regions.isin(_FRENCH_PLAN) & nsn.notna()
    if plan_number.any():
        result[plan_number] = _french_plan_e164(nsn[plan_number])
        rest &= ~plan_number
    if rest.any():
        result[rest] = [_normalise(n, r) for n, r in zip(numbers[rest], regions[rest], strict=True)]
    return result.where(result.notna(), None)


@lru_cache(maxsize=1)
def _plan_patterns() -> dict[str, str]:
    """Region -> national numbers its French-plan metadata accepts: fixed lines and mobiles for the
    overseas territories, any type for FR (what :func:`french_e164` accepts)."""
    types = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip", "personal_number",
             "pager", "uan", "voicemail")
    patterns = {}
    for region in (*OVERSEAS_REGIONS, "FR"):
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        kinds = types if region == "FR" else ("fixed_line", "mobile")
        found = [getattr(metadata, k, None) for k in kinds]
        patterns[region] = "|".join(f"(?:{d.national_number_pattern})" for d in found
                                    if d is not None and d.national_number_pattern)
    return patterns


def _french_plan_e164(nsn: pd.Series) -> pd.Series:
    """:func:`french_e164` over a column of national significant numbers, vectorised."""
    result = pd.Series(None, index=nsn.index, dtype=object)
    pending = pd.Series(True, index=nsn.index)
    candidate = nsn.str.startswith(_OVERSEAS_CANDIDATES)
    for region, pattern in _plan_patterns().items():
        if region == "FR":
            pending &= ~(candidate & nsn.str.startswith(_OVERSEAS_BLOCKS))  # an overseas block no territory lists
            hit = pending & nsn.str.fullmatch(pattern)
        else:
            hit = pending & candidate & nsn.str.fullmatch(pattern)
        code = phonenumbers.country_code_for_region(region)
        result[hit] = f"+{code}" + nsn[hit]
        pending &= ~hit
    return result


@lru_cache(maxsize=100_000)
def _normalise(number: str, region: str) -> str | None:
    """One number (without extension) in one region to E.164; None when not valid there."""
    text = re.sub(r"^\s*00\s*", "+", number)  # 00 is the international prefix in most regions (NANP: 011)
    try:
        parsed = phonenumbers.parse(text, "FR" if region in _FRENCH_PLAN else region)
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code == 33:
        return french_e164(str(parsed.national_number))
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def french_e164(national: str) -> str | None:
    """A national significant number of the French plan (``690123456``) to E.164 (``+590690123456``).

    An overseas fixed-line or mobile number gets its territory's code; a
    number in an overseas block that no territory lists is None; any other
    number is ``+33`` if ``phonenumbers`` validates it for France.
    """
    if national.startswith(_OVERSEAS_CANDIDATES):
        for region in OVERSEAS_REGIONS:
            code = phonenumbers.country_code_for_region(region)
            number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
            if phonenumbers.is_valid_number_for_region(number, region) and \
                    phonenumbers.number_type(number) in _GEOGRAPHIC:
                return f"+{code}{national}"
        if national.startswith(_OVERSEAS_BLOCKS):
            return None
    number = phonenumbers.PhoneNumber(country_code=33, national_number=int(national))
    return f"+33{national}" if phonenumbers.is_valid_number(number) else None


def plan(column: str, role: str, sample: pd.Series, options: NormalizeOptions,
         evidence: dict | None = None, country_column: str | None = None) -> ColumnPlan:
    """The plan of a phone column: the SQL fast path, then :func:`map_phones` on what it left NULL.

    With ``country_column`` (the dataset's country column) each row's
    number is read in that row's country; otherwise in
    ``options.default_region``. ``sample`` and ``evidence`` are not needed.
    """
    region = options.default_region.upper()
    missing = tuple(options.missing)

    def mapper(distinct: pd.DataFrame) -> pd.Series:
        return map_phones(distinct, region, missing)

    note = (f"E.164, region from column {country_column!r} (default {region})" if country_column
            else f"E.164, default region {region}")
    fast_national = country_column is None and region == "FR"
    return ColumnPlan(column, role, "phone", "VARCHAR",
                      phone_sql(region, country=country_column is not None, bound=fast_national),
                      mapper, note=note, fill=True, context=country_column,
                      bind=compact_sql() if fast_national else None,
                      fill_when=None if country_column or region not in _FRENCH_PLAN else undecided_sql())


def undecided_sql() -> str:
    """Whether the fast path may have left a value NULL undecided (SQL over ``{v}``), with the default region
    in the French plan and no country column.

    Not so for a value with fewer than six digits (never a number), nor for one written with digits and
    separators only (and a leading ``+``) that is a national number (``0``, then not ``0``) or a ``+33``
    (``0033``) number of nine digits: FR_FAST_PATTERN and the French plan's metadata patterns decide those
    alone, as the mapper would (a national number of another length is never valid). An invalid number is
    then only counted invalid, without the mapper saying so again, slowly.
    """
    plain = r"regexp_full_match({v}, '\s*[+]?[0-9\s.\-/()]+')"
    french = sql_string(r"0[1-9][0-9]*|(?:\+|00)330?[1-9][0-9]{8}")
    short = r"length(regexp_replace({v}, '[^\p{Nd}]', '', 'g')) < 6"
    return f"NOT ({short} OR {plain} AND regexp_full_match({compact_sql('{v}')}, {french}))"


__all__ = ["OVERSEAS_REGIONS", "compact_sql", "country_names", "country_regions", "extension_sql", "french_e164",
           "map_phones", "phone_sql", "plan", "split_extension", "undecided_sql"]

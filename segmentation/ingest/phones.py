"""Phone numbers of CRM exports to E.164 (pure, no execution).

French numbers take a SQL fast path over every row; every other value is
parsed once per distinct value with ``phonenumbers``.
"""

from __future__ import annotations

import re

import pandas as pd
import phonenumbers

from .plan import ColumnPlan, NormalizeOptions

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


def plan(column: str, role: str, sample: pd.Series, options: NormalizeOptions,
         evidence: dict | None = None, country_column: str | None = None) -> ColumnPlan:
    """The plan of a phone column; ``country_column`` (the dataset's country column, if any) is not used yet."""
    region = options.default_region

    def mapper(distinct: pd.DataFrame) -> pd.Series:
        return map_phones(distinct, region)

    return ColumnPlan(column, role, "phone", "VARCHAR", phone_sql(region), mapper,
                      note=f"E.164, default region {region}", fill=True)


__all__ = ["map_phones", "phone_sql", "plan"]

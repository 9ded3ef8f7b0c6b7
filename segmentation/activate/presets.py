"""Destination presets: audience files in the import format of the tool they are uploaded to.

Each :class:`Preset` follows its destination's published import format (the page shows ``docs_url``): header
names and order, separator, encoding, how each value is written, and the list-size limits. The file is built
in SQL: :func:`preset_columns` gives, for each output column, the SQL expression over the audience's
customers and its header (pure: text only; :mod:`segmentation.activate.audiences` selects it and the
repository runs it), so hashing a million e-mails is DuckDB's ``sha256`` and not a Python loop.

Hashed identifiers (``hashed=True``, ad platforms only) are normalised as the destination's guide says and
then written as the lower-case hex SHA-256 of their UTF-8 text:

- e-mail: trimmed, lower-case;
- phone: E.164 (``+33612345678``) for Google; digits only with the country code, no ``+`` (``33612345678``)
  for Meta and TikTok;
- names (Google, Meta): lower-case, trimmed; Meta also drops punctuation and spaces;
- Meta hashes postcode (lower-case, no spaces), city (lower-case, letters only) and country (lower-case).

Country: the two-letter code of a country column (a name rather than a code gives NULL, not a guess); without
one, the country of the phone's calling code when that code has a single country (``+33`` is FR) or is the
import's default region's (``+1`` is US for a US import), NULL for any other (``+44`` may be GB, JE, GG or
IM); a customer without a phone gets the import's default region (the region the phones were read with).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from ..core.errors import SettingError
from ..i18n import Message, message

#: Where a preset column takes its value from (see :func:`preset_columns`).
SOURCES = ("email", "email 2", "email 3", "phone", "phone 2", "phone 3", "first_name", "last_name", "postcode",
           "city", "country", "company", "title", "id", "consent", "segment_name")


@dataclass(frozen=True)
class Field:
    """One column of a destination's file.

    Parameters
    ----------
    header : str
        The header the destination expects (several fields may share it, e.g. Google's three ``Email``).
    source : str
        One of :data:`SOURCES`.
    hashed_header : str, optional
        The header of the hashed value, when the destination names it differently (TikTok's ``Email_SHA256``).
    hashed : bool
        Whether ``--hash`` hashes this column (Google hashes e-mails, phones and names, not country or zip).
    """

    header: str
    source: str
    hashed_header: str | None = None
    hashed: bool = False


@dataclass(frozen=True)
class Preset:
    """A destination's import format.

    Parameters
    ----------
    name : str
        The key used on the page and by ``export --preset``.
    title : str
        The destination, as the page names it.
    docs_url : str
        The destination's documentation this preset follows.
    fields : tuple of Field
        The columns, in order.
    file_format : {"csv", "csv-excel", "xlsx"}
        How the file is encoded (see :func:`segmentation.activate.export.encode`).
    separator : str
        The CSV separator.
    encoding : str
        ``utf-8`` (no BOM) or ``utf-8-sig`` (with BOM).
    phone_format : {"e164", "digits"}
        Phones in plain text: ``+33612345678`` or ``33612345678``.
    hashed_phone_format : {"e164", "digits"}
        Phones before hashing.
    country_case : {"upper", "lower"}
        Case of the two-letter country code.
    hashable : bool
        Whether the destination accepts SHA-256 identifiers.
    min_rows, max_rows : int, optional
        The list-size limits the destination states.
    limits : str
        The limits in words, as the page shows them.
    """

    name: str
    title: str
    docs_url: str
    fields: tuple[Field, ...]
    file_format: str = "csv"
    separator: str = ","
    encoding: str = "utf-8"
    phone_format: str = "e164"
    hashed_phone_format: str = "e164"
    country_case: str = "upper"
    hashable: bool = False
    min_rows: int | None = None
    max_rows: int | None = None
    limits: str = ""

    @property
    def extension(self) -> str:
        """The file name's extension."""
        return "xlsx" if self.file_format == "xlsx" else "csv"

    def headers(self, hashed: bool = False) -> list[str]:
        """The header row of the file."""
        return [(f.hashed_header or f.header) if hashed and f.hashed else f.header for f in self.fields]

    def size_warning(self, rows: int) -> str | None:
        """What the destination says about a list of ``rows`` customers, when it is outside its limits (English)."""
        found = self.size_message(rows)
        return None if found is None else str(found)

    def size_message(self, rows: int) -> Message | None:
        """:meth:`size_warning` as a :class:`~segmentation.i18n.Message`, for the pages to show in their language."""
        if self.min_rows is not None and rows < self.min_rows:
            return message("{title} wants at least {minimum} people in a list; this one has {rows}. {limits}",
                           title=self.title, minimum=self.min_rows, rows=rows, limits=self.limits_message)
        if self.max_rows is not None and rows > self.max_rows:
            return message("{title} takes at most {maximum} people in one file; this one has {rows}: split the "
                           "audience.", title=self.title, maximum=self.max_rows, rows=rows)
        return None

    @property
    def limits_message(self) -> Message:
        """:attr:`limits` for the pages (its translation is in the catalogue, as the English text)."""
        return Message(self.limits)


def _contacts(header: str, source: str, n: int, hashed_header: str | None = None) -> tuple[Field, ...]:
    """``n`` hashable columns of one contact kind (the first, second and third e-mail or phone)."""
    return tuple(Field(header, source if i == 1 else f"{source} {i}", hashed_header, True) for i in range(1, n + 1))


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("meta", "Meta (Facebook, Instagram) customer list",
           "https://www.facebook.com/business/help/2082575038703844",
           (*_contacts("email", "email", 3), *_contacts("phone", "phone", 3), Field("fn", "first_name", None, True),
            Field("ln", "last_name", None, True), Field("zip", "postcode", None, True),
            Field("ct", "city", None, True), Field("country", "country", None, True)),
           hashed_phone_format="digits", country_case="lower", hashable=True, min_rows=100,
           limits="Meta discourages lists under 100 people; phones carry their country code."),
    Preset("google", "Google Ads Customer Match", "https://support.google.com/google-ads/answer/7659867",
           (*_contacts("Email", "email", 3), *_contacts("Phone", "phone", 3),
            Field("First Name", "first_name", None, True), Field("Last Name", "last_name", None, True),
            Field("Country", "country"), Field("Zip", "postcode")),
           hashable=True, min_rows=100,
           limits="CSV in UTF-8 with English headers; an audience needs at least 100 active members to serve."),
    Preset("linkedin", "LinkedIn Matched Audiences (contact list)",
           "https://www.linkedin.com/help/lms/answer/a1489764",
           (Field("email", "email", None, True), Field("firstname", "first_name"), Field("lastname", "last_name"),
            Field("jobtitle", "title"), Field("employeecompany", "company"), Field("country", "country")),
           hashable=True, min_rows=300, max_rows=300_000,
           limits="At least 300 rows, at most 300,000 rows or 20 MB, CSV only; template headers unchanged."),
    Preset("tiktok", "TikTok customer file",
           "https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file",
           (*_contacts("Email", "email", 3, "Email_SHA256"), *_contacts("Phone", "phone", 3, "Phone_SHA256")),
           hashed_phone_format="digits", hashable=True, min_rows=1000,
           limits="Each header at most three times; an audience needs 1,000 matched people to be used."),
    Preset("mailchimp", "Mailchimp (import contacts)", "https://mailchimp.com/help/format-guidelines-for-your-import-file/",
           (Field("Email Address", "email"), Field("First Name", "first_name"), Field("Last Name", "last_name"),
            Field("Phone Number", "phone"), Field("Tags", "segment_name")),
           limits="Choose the status Subscribed in the import step: the file holds only customers who may be "
                  "contacted."),
    Preset("brevo", "Brevo (import contacts)", "https://help.brevo.com/hc/en-us/articles/209499265",
           (Field("EMAIL", "email"), Field("FIRSTNAME", "first_name"), Field("LASTNAME", "last_name"),
            Field("SMS", "phone"), Field("EXT_ID", "id")),
           separator=";", limits="CSV in UTF-8; SMS numbers with + and the country code."),
    Preset("hubspot", "HubSpot (import contacts)", "https://knowledge.hubspot.com/import-and-export/set-up-your-import-file",
           (Field("Email", "email"), Field("First name", "first_name"), Field("Last name", "last_name"),
            Field("Phone number", "phone"), Field("Company name", "company"), Field("Postal code", "postcode"),
            Field("City", "city"), Field("Country/Region", "country")),
           limits="One sheet or CSV; headers named like the contact properties."),
    Preset("klaviyo", "Klaviyo (upload to a list)", "https://help.klaviyo.com/hc/en-us/articles/115005078967",
           (Field("Email", "email"), Field("Phone Number", "phone"), Field("First Name", "first_name"),
            Field("Last Name", "last_name"), Field("City", "city"), Field("Zip Code", "postcode"),
            Field("Country", "country"), Field("Email Marketing Consent", "consent")),
           max_rows=None, limits="CSV up to 50 MB; the first column is Email; consent as Subscribed, "
                                 "Unsubscribed or Never subscribed."),
)}
#: The general formats (the audience's own columns).
GENERAL_FORMATS = {"excel-fr": "csv-excel", "csv": "csv", "xlsx": "xlsx"}
PRESET_NAMES = (*PRESETS, *GENERAL_FORMATS)


def get_preset(name: str) -> Preset:
    """The destination preset ``name`` (see :data:`PRESETS`)."""
    preset = PRESETS.get(name.strip().lower())
    if preset is None:
        raise SettingError("preset", name, f"one of {list(PRESET_NAMES)}")
    return preset


# ------------------------------------------------------------------ SQL of the values (text only)

def _calling_code_sql(phone: str, default_region: str | None) -> str:
    """SQL of the two-letter country of an E.164 phone: the country of its calling code when that code has a
    single country, the default region when the code is the default region's, else NULL.

    Calling codes are prefix-free, so at most one of them starts a number.
    """
    single = {code: regions[0] for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
              if len(regions) == 1 and regions[0] != "001"}
    default_code = phonenumbers.country_code_for_region(default_region) if default_region else 0
    if default_code:
        single[default_code] = default_region
    whens = " ".join(f"WHEN starts_with({phone}, '+{code}') THEN '{region}'" for code, region in sorted(single.items()))
    return f"(CASE {whens} END)"


def country_sql(country: str | None, phone: str | None, default_region: str | None) -> str:
    """SQL of a customer's two-letter country code (upper case), see the module's notes: a country column's
    code; else the phone's country (NULL when its calling code does not tell); without a phone, the import's
    default region."""
    region = default_region.upper() if default_region and len(default_region) == 2 and default_region.isalpha() \
        else None
    parts = []
    if country is not None:
        parts.append(f"CASE WHEN regexp_full_match(trim(CAST({country} AS VARCHAR)), '[A-Za-z]{{2}}') "
                     f"THEN upper(trim(CAST({country} AS VARCHAR))) END")
    elif phone is not None:
        text = f"CAST({phone} AS VARCHAR)"
        fallback = f"'{region}'" if region else "NULL"
        parts.append(f"(CASE WHEN {phone} IS NULL THEN {fallback} ELSE {_calling_code_sql(text, region)} END)")
    elif region:
        parts.append(f"'{region}'")
    return parts[0] if parts else "NULL::VARCHAR"


def _text(sql: str) -> str:
    return f"nullif(trim(CAST({sql} AS VARCHAR)), '')"


def _value_sql(preset: Preset, field: Field, sql: str, hashed: bool) -> str:
    """SQL of one column's value, normalised (and hashed) as the destination says."""
    kind = field.source.split(" ")[0]
    value = _text(sql)
    if kind == "email":
        value = f"lower({value})"
    elif kind == "phone":
        digits = (preset.hashed_phone_format if hashed and field.hashed else preset.phone_format) == "digits"
        value = f"ltrim({value}, '+')" if digits else value
    elif kind == "country":
        value = f"lower({value})" if preset.country_case == "lower" or (hashed and field.hashed) else value
    elif hashed and field.hashed and kind in ("first_name", "last_name", "city", "postcode"):
        value = f"lower({value})"
        if preset.name == "meta":  # letters and digits only (UTF-8 letters kept)
            value = f"nullif(regexp_replace({value}, '[[:punct:][:space:]]', '', 'g'), '')"
        else:  # Google: lower-case, no extra spaces
            value = f"regexp_replace({value}, '\\s+', ' ', 'g')"
    if kind == "consent":
        return (f"(CASE WHEN {sql} IS TRUE THEN 'Subscribed' WHEN {sql} IS FALSE THEN 'Unsubscribed' "
                "ELSE 'Never subscribed' END)")
    return f"sha256({value})" if hashed and field.hashed else value


def preset_columns(preset: Preset, sources: dict[str, str], hashed: bool = False) -> list[tuple[str, str]]:
    """SQL expression and header of each column of the preset's file.

    Parameters
    ----------
    preset : Preset
        The destination.
    sources : dict
        :data:`SOURCES` key -> SQL expression over the audience's customers (a quoted column); a key the
        dataset lacks is absent and its column is written empty. ``country`` is the SQL of :func:`country_sql`;
        ``consent`` a boolean (may be contacted).
    hashed : bool
        SHA-256 the identifiers the destination matches on (refused by a destination that takes none).

    Returns
    -------
    list of (str, str)
        ``(sql, header)`` in the file's order.
    """
    if hashed and not preset.hashable:
        raise SettingError("hash", "on", f"off: {preset.title} takes plain values (hashing is for "
                                         f"{', '.join(p for p in PRESETS if PRESETS[p].hashable)})")
    headers = preset.headers(hashed)
    out = []
    for field, header in zip(preset.fields, headers, strict=True):
        sql = sources.get(field.source)
        out.append(("NULL::VARCHAR" if sql is None else _value_sql(preset, field, sql, hashed), header))
    return out


__all__ = ["GENERAL_FORMATS", "PRESETS", "PRESET_NAMES", "SOURCES", "Field", "Preset", "country_sql",
           "get_preset", "preset_columns"]

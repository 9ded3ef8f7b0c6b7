"""The interface's languages: message catalogues (gettext ``.po`` files read with babel) and formatting.

Every text a user reads is written in English in the code, as the msgid of a
gettext catalogue, and translated in ``locales/<language>/LC_MESSAGES/<domain>.po``
(one domain file per page or stage, merged into one catalogue per language).
A third language is a folder of ``.po`` files, not a code change.

- Pages call ``_("Customers: {count}", count=n)`` (see ``app_state._``), which
  looks the English text up in the user's language and fills the values in,
  each value formatted for that language (:func:`format_value`).
- The engine never translates: it returns :class:`Message` objects (an
  English template and its values) that the pages render with :func:`render`.
  Mark engine templates with :func:`message` so that extraction finds them.
- Numbers, money, percentages and dates are formatted with babel's CLDR data
  (:func:`format_number`, :func:`format_money`, :func:`format_percent`,
  :func:`format_date`, :func:`format_datetime`); yes/no values with :func:`yes_no`.
- A text that depends on a number has a singular and a plural msgid
  (:func:`translate_plural`; pages call ``app_state.n_``).
- An error shown to a person may carry a :class:`Message` as its only argument:
  :func:`render` translates it, ``str(error)`` stays English for the CLI.

The CLI stays in English (its JSON carries the English texts and values).
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import numbers
import string
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as _bdates
from babel import numbers as _bnumbers
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"            # the language the code is written in
LANGUAGES = ("fr", "en")          # offered in the sidebar, in this order
LANGUAGE_NAMES = {"fr": "Français", "en": "English"}
_BABEL_LOCALES = {"fr": "fr_FR", "en": "en_US"}


def pick_language(locale: str | None, default: str = SOURCE_LANGUAGE) -> str:
    """The offered language for a browser locale (``"fr-FR"``, ``"fr"``, ``"en_GB"``...), else ``default``."""
    if not locale:
        return default
    code = str(locale).replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGUAGES else default


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """English text -> translation, from every ``.po`` file of ``language`` (empty for English)."""
    out: dict[str, str] = {}
    folder = LOCALES_DIR / language / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            for entry in read_po(handle, locale=language):
                if entry.id and entry.string and not entry.fuzzy:
                    if isinstance(entry.id, tuple):  # plural forms: singular and plural ids
                        for msgid, text in zip(entry.id, entry.string, strict=False):
                            out[msgid] = text
                    else:
                        out[entry.id] = entry.string
    return out


def translate(text: str, language: str, /, **values) -> str:
    """``text`` in ``language`` with ``values`` filled in, each formatted for the language.

    An English text without a translation is returned as it is (the catalogue
    tests find such texts); a ``{name}`` without a value stays visible rather
    than raising.
    """
    template = catalogue(language).get(text, text) if language != SOURCE_LANGUAGE else text
    if not values:
        return template
    shown = {k: format_value(v, language) for k, v in values.items()}
    return string.Formatter().vformat(template, (), _Missing(shown))


def translate_plural(singular: str, plural: str, count, language: str, /, **values) -> str:
    """The singular or plural text for ``count`` as ``language`` says it (French: 0 and 1 are singular).

    ``count`` is also filled in as ``{count}``. In a ``.po`` file the pair is one entry with
    ``msgid``/``msgid_plural`` and ``msgstr[0]``/``msgstr[1]``.
    """
    many = _locale(language).plural_form(abs(count)) != "one"
    return translate(plural if many else singular, language, count=count, **values)


class _Missing(dict):
    def __missing__(self, key):
        return "{" + key + "}"


@dataclass(frozen=True)
class Message:
    """A text of the engine's for a person: an English template and its values, rendered by the pages."""

    text: str
    values: dict = field(default_factory=dict)

    def render(self, language: str = SOURCE_LANGUAGE) -> str:
        return translate(self.text, language, **self.values)

    def __str__(self) -> str:  # English, as the CLI and the logs show it
        return self.render(SOURCE_LANGUAGE)

    def to_dict(self) -> dict:
        return {"text": self.text, "values": dict(self.values), "message": str(self)}


def message(text: str, /, **values) -> Message:
    """Mark an engine text for translation (extraction keyword) and keep its values apart."""
    return Message(text, values)


def render(item, language: str) -> str:
    """A :class:`Message`, an error (its first argument may be a :class:`Message`) or an English text, in ``language``.

    ``None`` gives ``""``.
    """
    if item is None:
        return ""
    if isinstance(item, BaseException):
        first = item.args[0] if len(item.args) == 1 else None
        item = first if isinstance(first, Message) else str(item)
    if isinstance(item, Message):
        return item.render(language)
    return translate(str(item), language)


def yes_no(value, language: str) -> str:
    """``True``/``False`` as the language's words (``oui``/``non``, ``yes``/``no``); missing gives ``""``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return translate("yes" if bool(value) else "no", language)


def format_datetime(value, language: str) -> str:
    """``23/04/2021 14:05`` (fr) / ``2021-04-23 14:05`` (en); a date alone is shown as :func:`format_date`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, _dt.datetime):
        return format_date(value, language)
    return format_date(value.date(), language) + value.strftime(" %H:%M")


def _locale(language: str) -> Locale:
    try:
        return Locale.parse(_BABEL_LOCALES.get(language, language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def format_number(value, language: str, digits: int | None = None) -> str:
    """``5 480`` (fr) / ``5,480`` (en); ``digits`` fixes the decimals, else up to 3 are shown."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    pattern = None if digits is None else ("#,##0" + ("." + "0" * digits if digits else ""))
    return _bnumbers.format_decimal(value, format=pattern, locale=_locale(language))


def format_money(value, language: str, currency: str = "EUR", digits: int = 0) -> str:
    """``3 885 €`` (fr) / ``€3,885`` (en)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return _money_fixed(value, language, currency, digits)


def _money_fixed(value, language: str, currency: str, digits: int) -> str:
    loc = _locale(language)
    pattern = loc.currency_formats["standard"].pattern
    number = "#,##0" + ("." + "0" * digits if digits else "")
    pattern = pattern.replace("#,##0.00", number).replace("#,##,##0.00", number)
    return _bnumbers.format_currency(value, currency, format=pattern, locale=loc, currency_digits=False)


def format_percent(share, language: str, digits: int = 1) -> str:
    """A share (0.125) as ``12,5 %`` (fr) / ``12.5%`` (en)."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    loc = _locale(language)
    if language == "fr":
        pattern = pattern.replace("%", "\u202f%")
    return _bnumbers.format_percent(share, format=pattern, locale=loc)


def format_date(value, language: str) -> str:
    """``23/04/2021`` (fr) / ``2021-04-23`` (en)."""
    if value is None:
        return "–"
    if isinstance(value, str):
        value = _dt.date.fromisoformat(value[:10])
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if language == "fr":
        return _bdates.format_date(value, "dd/MM/yyyy", locale=_locale(language))
    return value.strftime("%Y-%m-%d")


def format_value(value, language: str) -> str:
    """How a value is filled into a text: numbers grouped for the language, dates as dates, the rest as text."""
    if isinstance(value, Message):
        return value.render(language)
    if isinstance(value, bool):
        return yes_no(value, language)
    if value is None:
        return "–"
    if isinstance(value, numbers.Integral):
        return format_number(int(value), language)
    if isinstance(value, numbers.Real):
        return format_number(float(value), language)
    if isinstance(value, _dt.datetime):
        return format_datetime(value, language)
    if isinstance(value, _dt.date):
        return format_date(value, language)
    return str(value)


__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "LOCALES_DIR", "SOURCE_LANGUAGE", "Message", "catalogue",
           "format_date", "format_datetime", "format_money", "format_number", "format_percent", "format_value",
           "message", "pick_language", "render", "translate", "translate_plural", "yes_no"]

"""Numbers, money, percentages and dates for each language, and the catalogue's lookup."""

import datetime as dt

import pytest

from segmentation import i18n


@pytest.mark.parametrize(("language", "number", "money", "percent", "date"), [
    ("fr", "5\u202f480", "3\u202f885\u00a0€", "12,5\u202f%", "23/04/2021"),
    ("en", "5,480", "€3,885", "12.5%", "2021-04-23"),
])
def test_formats_for_each_language(language, number, money, percent, date):
    assert i18n.format_number(5480, language) == number
    assert i18n.format_money(3885, language) == money
    assert i18n.format_percent(0.125, language) == percent
    assert i18n.format_date(dt.date(2021, 4, 23), language) == date


def test_browser_locale_picks_an_offered_language():
    assert [i18n.pick_language(x) for x in ("fr-FR", "fr", "en-GB", "de-DE", None)] == ["fr", "fr", "en", "en", "en"]


def test_values_are_formatted_for_the_language_and_missing_ones_stay_visible():
    assert i18n.translate("{count} customers", "en", count=5480) == "5,480 customers"
    assert i18n.translate("{count} customers, {other}", "en", count=2) == "2 customers, {other}"
    msg = i18n.message("Import")
    assert msg.render("fr") == "Importer" and str(msg) == "Import"
    assert msg.to_dict() == {"text": "Import", "values": {}, "message": "Import"}

"""The interface language chosen in the sidebar is kept in the store (issue 20), and moves no write version."""

from __future__ import annotations

import datetime as dt

from segmentation import i18n, open_workspace


def test_a_preference_is_kept_across_openings_and_moves_no_version(tmp_path):
    path = tmp_path / "w.duckdb"
    with open_workspace(path) as ws:
        version = ws.version
        assert ws.preference("language") is None
        ws.set_preference("language", "fr")
        ws.set_preference("language", "fr")                # the same choice again writes nothing
        assert ws.preference("language") == "fr"
        assert ws.version == version                       # no cached read depends on it
    with open_workspace(path) as ws:
        assert ws.preference("language") == "fr"
        ws.set_preference("language", None)
        assert ws.preference("language") is None


def test_yes_no_dates_with_times_and_errors_for_each_language():
    assert [i18n.yes_no(v, "fr") for v in (True, False, None)] == ["oui", "non", ""]
    assert [i18n.yes_no(v, "en") for v in (True, False)] == ["yes", "no"]
    moment = dt.datetime(2021, 4, 23, 14, 5)
    assert (i18n.format_datetime(moment, "fr"), i18n.format_datetime(moment, "en")) == ("23/04/2021 14:05",
                                                                                          "2021-04-23 14:05")
    assert i18n.translate("{flag}", "fr", flag=True) == "oui"
    error = ValueError(i18n.message("Import"))
    assert (i18n.render(error, "fr"), str(error)) == ("Importer", "Import")
    assert i18n.render(ValueError("not in the catalogue"), "fr") == "not in the catalogue"
    assert i18n.render(None, "fr") == ""

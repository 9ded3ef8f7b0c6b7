"""Normalisers: the SQL expressions run in DuckDB, the mappers on small frames."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from segmentation.ingest import normalize as N
from segmentation.ingest.importer import import_file


def run(expr: str, values: list[str | None]) -> list:
    con = duckdb.connect()
    sql = expr.replace("{v}", "x")
    rows = con.execute(f"SELECT {sql} FROM (SELECT unnest(?::VARCHAR[]) AS x, "
                       "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [values, values]).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize(("raw", "expected"), [
    ("1 234,50 €", 1234.5),
    ("1\u00a0234,50 €", 1234.5),
    ("1\u202f234,50", 1234.5),
    ("1,234.50", 1234.5),
    ("12.5k€", 12500.0),
    ("2M", 2_000_000.0),
    ("-3,5", -3.5),
    ("1,234,567", 1234567.0),
    ("1.234.567,89", 1234567.89),
    ("12400", 12400.0),
    ("3.5", 3.5),
    ("abc", None),
    ("", None),
    (None, None),
])
def test_number(raw, expected):
    assert run(N.number_sql(), [raw]) == [expected]


def test_email_lowercased_and_invalid_flagged():
    values = [" Jean.Dupont@Orange.FR ", "a@b", "mailto:x@y.com", "jean@", "x y@z.fr", "marie.durand.gmail.com", None]
    assert run(N.email_sql(), values) == ["jean.dupont@orange.fr", None, "x@y.com", None, None, None, None]


def test_dates_day_first_and_iso():
    values = ["1/2/2020", "31/12/2020", "2020-05-06", "2020-05-06 10:11:12", "13/13/2020", "2020-05-06T10:11:12",
              "19560412", "20201340"]
    assert run(N.date_sql("dmy"), values) == [
        dt.date(2020, 2, 1), dt.date(2020, 12, 31), dt.date(2020, 5, 6), dt.date(2020, 5, 6), None,
        dt.date(2020, 5, 6), dt.date(1956, 4, 12), None]


def test_dates_month_first():
    assert run(N.date_sql("mdy"), ["12/31/2020", "02/01/2020"]) == [dt.date(2020, 12, 31), dt.date(2020, 2, 1)]


@pytest.mark.parametrize(("values", "region", "expected"), [
    (["25/12/2020", "01/02/2021"], "FR", "dmy"),
    (["12/25/2020", "01/02/2021"], "FR", "mdy"),
    (["01/02/2021", "03/04/2021"], "FR", "dmy"),
    (["01/02/2021", "03/04/2021"], "US", "mdy"),
])
def test_detect_date_order(values, region, expected):
    assert N.detect_date_order(pd.Series(values), region) == expected


def test_booleans_consent_and_opt_out():
    values = ["Oui", "NON", " yes", "opt-out", "1", "Faux", "maybe", None]
    assert run(N.boolean_sql(), values) == [True, False, True, False, True, False, None, None]
    assert run(N.boolean_sql(opt_out=True), values) == [True, False, True, True, True, False, None, None]


def test_postcode_keeps_and_restores_leading_zero():
    assert run(N.postcode_sql("FR"), ["1000", " 75001 ", "sw1a  1aa", None]) == ["01000", "75001", "SW1A 1AA", None]
    assert run(N.postcode_sql("GB"), ["1000"]) == ["1000"]


def test_text_trimmed_nfc_and_collapsed():
    assert run(N.text_sql(), ["  He\u0301le\u0300ne   Martin ", "   ", None, "a\u00a0b", "x\ty"]) == [
        "Hélène Martin", None, None, "a b", "x y"]


def test_phones_to_e164():
    frame = pd.DataFrame({"value": ["01 23 45 67 89", "+33 (0)6 12 34 56 78", "0033612345678", "06.12.34.56.78",
                                    "12345", "+1 650 253 0000", "+44 20 7946 0958", "n/a"]})
    assert N.map_phones(frame, "FR").tolist() == [
        "+33123456789", "+33612345678", "+33612345678", "+33612345678", None, "+16502530000",
        "+442079460958", None]


def test_phones_other_default_region():
    frame = pd.DataFrame({"value": ["(650) 253-0000", "01 23 45 67 89"]})
    assert N.map_phones(frame, "US").tolist() == ["+16502530000", None]


def test_categories_folded_to_most_frequent_spelling():
    frame = pd.DataFrame({"value": ["Île-de-France", "ILE DE FRANCE", " ile-de-france ", "Bretagne", "  "],
                          "n": [5, 2, 1, 3, 1]})
    result = N.map_categories(frame).tolist()
    assert result[:4] == ["Île-de-France", "Île-de-France", "Île-de-France", "Bretagne"]
    assert pd.isna(result[4])


def test_plan_column_kinds():
    opts = N.NormalizeOptions()
    sample = pd.Series(["25/12/2020"])
    assert N.plan_column("d", "created_date", sample, opts).sql_type == "DATE"
    assert "dd/mm/yyyy" in N.plan_column("d", "created_date", sample, opts).note
    assert N.plan_column("p", "phone", sample, opts).mapper is not None
    assert N.plan_column("r", "region", sample, opts).mapper is N.map_categories
    assert N.plan_column("m", "measure", sample, opts).sql_type == "DOUBLE"
    assert N.plan_column("c", "consent", sample, opts).sql_type == "BOOLEAN"


def test_phone_sql_fast_path_matches_python():
    values = ["01 23 45 67 89", "+33 (0)6 12 34 56 78", "0033612345678", "06.12.34.56.78", "12345", "+1 650 253 0000"]
    assert run(N.phone_sql("FR"), values) == [
        "+33123456789", "+33612345678", "+33612345678", "+33612345678", None, None]
    assert run(N.phone_sql("US"), ["01 23 45 67 89", "+33123456789"]) == [None, "+33123456789"]


# --- consent columns as CRMs write them: guessed consent, normalised to booleans (never NULL for all) -----------

CONSENT_SPELLINGS = {
    "1.0/0.0": (["1.0", "0.0", "1.0", "0.0"], [True, False, True, False]),
    "1/0": (["1", "0", "0", "1"], [True, False, False, True]),
    "x/empty": (["x", "", "X", ""], [True, False, True, False]),
    "TRUE/FALSE": (["TRUE", "FALSE", "true", "False"], [True, False, True, False]),
    "Oui/Non": (["Oui", "Non", "oui", ""], [True, False, True, None]),  # two words: an empty cell is unknown
    "Mailchimp": (["subscribed", "unsubscribed", "cleaned", "subscribed"], [True, False, False, True]),
}


@pytest.mark.parametrize("spelling", list(CONSENT_SPELLINGS))
def test_consent_column_imported_as_booleans(store, spelling):
    raw, expected = CONSENT_SPELLINGS[spelling]
    lines = ["id;E-mail;Consentement"] + [f"C{i};c{i}@x.fr;{v}" for i, v in enumerate(raw)]
    ds = import_file(store, ("\n".join(lines) + "\n").encode(), "consent.csv")
    assert ds.roles["Consentement"] == "consent"
    clean = store.query_rows(f'SELECT "Consentement" FROM {ds.clean_table} ORDER BY _row')
    assert [r[0] for r in clean] == expected


def test_opt_out_flag_column_imported_as_booleans(store):
    data = b"id;Email Opt Out;Unsubscribed\nC1;x;unsubscribed\nC2;;subscribed\nC3;x;\n"
    ds = import_file(store, data, "optout.csv")
    assert (ds.roles["Email Opt Out"], ds.roles["Unsubscribed"]) == ("opt_out", "opt_out")
    clean = store.query_rows(f'SELECT "Email Opt Out", "Unsubscribed" FROM {ds.clean_table} ORDER BY _row')
    assert clean == [(True, True), (False, False), (True, None)]


def test_boolean_plan_knows_a_flag_column():
    opts = N.NormalizeOptions()
    flag = N.plan_column("c", "consent", pd.Series(["x", None, "x"]), opts)
    assert run(flag.expr, ["x", None, " ", "X", "non"]) == [True, False, False, True, False]
    plain = N.plan_column("c", "consent", pd.Series(["oui", None, "non"]), opts)
    assert run(plain.expr, ["oui", None, "non", "1.0", "0.0"]) == [True, None, False, True, False]

"""The normalisation's cheap paths give exactly what the general readings give (issue 14)."""

from __future__ import annotations

import itertools
import math

import duckdb
import pytest

from segmentation.ingest import dates, numbers
from tests.ingest.test_numbers import run


def general_number_sql(decimal: str, monkeypatch) -> str:
    """:func:`numbers.number_sql` without its grouped-amounts path (the general reading only)."""
    with monkeypatch.context() as m:
        m.setattr(numbers, "_grouped_sql", lambda _decimal: "false THEN NULL")
        return numbers.number_sql(decimal)


AMOUNTS = [
    "1 234,50 €", "1\u00a0000,00 €", "10\u202f600,00\u00a0€", "900,00 €", "€ 12,5", "€12", "12 €", "12€",
    "1.234,5", "1.234.567,89", "1 234 567", "1 23,4 €", "1234 567", "12 345 €", "0,00 €", "$84,835", "84,835.00",
    "$ 1,234.50", "1,234", "1,234,567.5", "£3", "1 234,50 € ", " 1 234,50 €", "-1 234,50 €", "1 234,50 €-",
    "(1 234,50 €)", "1 234,", "1 234,50 €€", "€ 1 234 €", "12,5", "12.5", "1\t234", "1  234", "abc", "", None,
    "1 234,50 EUR", "1 234,5e3", "99999999999999999999,5 €",
]


@pytest.mark.parametrize("decimal", [",", "."])
def test_grouped_amounts_read_as_the_general_reading_does(decimal, monkeypatch):
    fast = run(numbers.number_sql(decimal), AMOUNTS)
    general = run(general_number_sql(decimal, monkeypatch), AMOUNTS)
    assert len(fast) == len(AMOUNTS)
    for raw, a, b in zip(AMOUNTS, fast, general, strict=True):
        assert (a is None and b is None) or (a == b and math.copysign(1, a) == math.copysign(1, b)), (raw, a, b)


def test_grouped_amounts_exact_values():
    got = dict(zip(AMOUNTS, run(numbers.number_sql(","), AMOUNTS), strict=True))
    assert got["1 234,50 €"] == 1234.5
    assert got["1\u00a0000,00 €"] == 1000.0
    assert got["10\u202f600,00\u00a0€"] == 10600.0
    assert got["€ 12,5"] == 12.5
    assert got["1.234.567,89"] == 1234567.89
    assert got["-1 234,50 €"] == -1234.5
    assert got["(1 234,50 €)"] == -1234.5
    assert got["1 23,4 €"] is None
    assert got["abc"] is None
    point = dict(zip(AMOUNTS, run(numbers.number_sql("."), AMOUNTS), strict=True))
    assert point["$84,835"] == 84835.0
    assert point["1,234,567.5"] == 1234567.5
    assert point["84,835.00"] == 84835.0


def test_grouped_path_is_taken_for_grouped_amounts_only():
    test = "regexp_full_match" + numbers._grouped_sql(",").split(" THEN ")[0][len("regexp_full_match"):]
    taken = run(f"CASE WHEN {test} THEN true ELSE false END", ["1 234,50 €", "12 €", "-1 234,50 €", "1 23,4 €",
                                                               " 1 234,50 €", "1 234,50 EUR"])
    assert taken == [True, True, False, False, False, False]


def _old_date_evidence(v: str) -> dict[str, str]:
    """The former day/month evidence (two captures and integer casts per value)."""
    parts = (f"regexp_extract(trim({v}), '^(\\d{{1,2}})[/.-](\\d{{1,2}})[/.-](?:\\d{{4}}|\\d{{2}})(?:$|[^0-9])', "
             f"['a', 'b'])")
    first, second = (f"try_cast(nullif({parts}.{k}, '') AS INTEGER)" for k in ("a", "b"))
    return {"day_first": f"count(*) FILTER (WHERE {first} BETWEEN 13 AND 31 AND {second} BETWEEN 1 AND 12)",
            "month_first": f"count(*) FILTER (WHERE {second} BETWEEN 13 AND 31 AND {first} BETWEEN 1 AND 12)"}


def test_date_evidence_counts_as_before():
    fields = ["0", "00", "1", "01", "9", "09", "10", "12", "13", "19", "20", "29", "31", "32", "123"]
    values = [f"{a}{s}{b}/{y}{t}" for a, b in itertools.product(fields, fields) for s in "/.-x"
              for y in ("2024", "24", "202") for t in ("", " 10:00", "5")]
    values += [" 13/01/2024 ", "13/1/2024\t", "", None, "\u0663\u0661/12/2024"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    new, old = dates.evidence_sql("v"), _old_date_evidence("v")
    for name in ("day_first", "month_first"):
        per_value = con.execute(f"SELECT count(*) FROM (SELECT v, {new[name]} AS a, {old[name]} AS b FROM t "
                                f"GROUP BY v) WHERE a <> b").fetchone()[0]
        assert per_value == 0
    counts = con.execute(f"SELECT {new['day_first']}, {new['month_first']} FROM t").fetchone()
    # 5 fields are days above 12, 6 are months; 3 separators; 5 of the 9 year-and-tail endings end a date
    # ("2024", "24", each alone or before " 10:00"; "202" + "5"); and the two padded values (trimmed; a tab is
    # not trimmed but ends the year).
    assert counts == (5 * 6 * 3 * 5 + 2, 6 * 5 * 3 * 5)


def _general(expr: str, fast_test: str) -> str:
    """``expr`` with its cheap path's test made never true (the general reading only)."""
    assert fast_test in expr
    return expr.replace(fast_test, "regexp_full_match({v}, 'a^')", 1)


TEXTS = ["Établissements Lucas", "a  b", " a", "a ", "Œuvre d’art", "x\u00a0y", "e\u0301t\u00e9", "", "A\tB",
         "Côte d’Azur — Nord", "Dorléans Père et Fils", "Å\u030a", "12 €", "a\u2009b", "\u00adx", "Ÿ", None]


def test_settled_text_is_kept_as_the_clean_up_would_leave_it():
    from segmentation.ingest.normalize import _SETTLED_TEXT, text_sql
    expr = text_sql()
    got = run(expr, TEXTS)
    assert got == run(_general(expr, f"regexp_full_match({{v}}, '{_SETTLED_TEXT}')"), TEXTS)
    assert got[:9] == ["Établissements Lucas", "a b", "a", "a", "Œuvre d’art", "x y", "été", None, "A B"]


def test_emails_written_lower_case_are_kept_as_written():
    from segmentation.ingest.normalize import email_sql
    raw = ["ann@example.fr", "Ann@Example.FR", " ann@example.fr ", "mailto:ann@example.fr", "ann@example", "a b@c.fr",
           "ann.o'neil+x@ex-ample.co.uk", "", None]
    got = run(email_sql(), raw)
    assert got == ["ann@example.fr", "ann@example.fr", "ann@example.fr", "ann@example.fr", None, None,
                   "ann.o'neil+x@ex-ample.co.uk", None, None]


def test_compact_french_phones_read_as_the_general_path_does():
    from segmentation.ingest.phones import phone_sql
    raw = ["0612345678", "+33612345678", "06 12 34 56 78", "0033612345678", "+330612345678", "0612345678x12",
           "0696123456", "+33696123456", "0812345678", "061234567", "06123456789", "+3361234567", "0012345678",
           "+33 6 12 34 56 78", "", None]
    expr = phone_sql("FR")
    general = expr[expr.index(" ELSE ") + len(" ELSE "):-len(" END")]
    # The general reading writes +33 numbers only; the overseas and 08 blocks are the plan branches' (own codes).
    assert [(r, e) for r, e, g in zip(raw, run(expr, raw), run(general, raw), strict=True) if e != g] == [
        ("0696123456", "+596696123456"), ("+33696123456", "+596696123456"), ("0812345678", "+33812345678")]
    assert run(expr, raw)[:3] == ["+33612345678", "+33612345678", "+33612345678"]
    assert "regexp_full_match" not in phone_sql("BE")


@pytest.mark.parametrize("region", ["FR", "BE"])
def test_settled_postcodes_read_as_the_general_path_does(region):
    from segmentation.ingest.normalize import postcode_sql
    raw = ["75001", "1000", "01000", " 1000", "ab1 2cd", "SW1A 1AA", "SW1A1AA", "", "１２３４", "123", "1000 ", None]
    expr = postcode_sql(region)
    got = run(expr, raw)
    assert got == run(_general(expr, "regexp_full_match({v}, '[0-9A-Z]+')"), raw)
    assert got[:4] == (["75001", "01000", "01000", "01000"] if region == "FR" else ["75001", "1000", "01000", "1000"])

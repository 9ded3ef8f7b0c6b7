"""Amounts: the decimal mark decided per column from all its values, then one SQL expression per column."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from segmentation import ImportSettings, open_workspace
from segmentation.core.errors import SettingError
from segmentation.ingest import numbers
from segmentation.ingest.importer import SAMPLE_ROWS, spread_sample
from segmentation.ingest.normalize import evidence_sql as column_evidence_sql
from segmentation.ingest.plan import NormalizeOptions
from segmentation.ingest.statements import clean_rows_sql
from tests.conftest import values


def run(expr: str, raw: list[str | None]) -> list:
    """``expr`` over ``raw`` in DuckDB, in order."""
    con = duckdb.connect()
    sql = expr.replace("{v}", "x")
    rows = con.execute(f"SELECT {sql} FROM (SELECT unnest(?::VARCHAR[]) AS x, "
                       "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [raw, raw]).fetchall()
    return [r[0] for r in rows]


def evidence(raw: list[str | None]) -> dict[str, int]:
    """:func:`numbers.evidence_sql`'s counts over ``raw``, computed by DuckDB."""
    aggregates = numbers.evidence_sql("x")
    con = duckdb.connect()
    row = con.execute(f"SELECT {', '.join(aggregates.values())} FROM (SELECT unnest(?::VARCHAR[]) AS x)",
                      [raw]).fetchone()
    return dict(zip(aggregates, row, strict=True))


@pytest.mark.parametrize(("raw", "expected"), [
    ("$84,835", 84835.0),
    ("84,835.00", 84835.0),
    ("USD 1,234.50", 1234.5),
    ("1,234,567", 1234567.0),
    ("(1 234)", -1234.0),
    ("\u22121 234", -1234.0),
    ("1234-", -1234.0),
    ("-$5", -5.0),
    ("$-5", -5.0),
    ("1.23457E+11", 123457000000.0),
    ("12e3", 12000.0),
    ("1.5e-3", 0.0015),
    ("12.5k€", 12500.0),
    ("3 K", 3000.0),
    ("2M", 2000000.0),
    ("12 %", 12.0),
    (" 42 ", 42.0),
    ("1'234.5", 1234.5),
    ("US$ 12", 12.0),
    ("1 234 567.5 SEK", 1234567.5),
    ("12 mois", None),
    ("12 months", None),
    ("12 km", None),
    ("C536379", None),
    ("84459A", None),
    ("1,5", None),          # a decimal comma in a point column: invalid, not 15
    ("1,23,4", None),
    ("(5", None),
    ("-(5)", None),
    ("abc", None),
    ("", None),
    (None, None),
])
def test_point_column(raw, expected):
    assert run(numbers.number_sql("."), [raw]) == [expected]


@pytest.mark.parametrize(("raw", "expected"), [
    ("1 234,50 €", 1234.5),
    ("1\u00a0234,50 €", 1234.5),
    ("1\u202f234,50", 1234.5),
    ("12,5", 12.5),
    ("3", 3.0),
    ("1,5E+03", 1500.0),
    ("1.234.567,89", 1234567.89),
    ("1.234", 1234.0),
    ("1'234,5", 1234.5),
    ("12,5k€", 12500.0),
    ("2 M€", 2000000.0),
    ("\u22123,5", -3.5),
    ("(1 234)", -1234.0),
    ("EUR 12", 12.0),
    ("12 euros", 12.0),
    ("5 dkk", 5.0),
    ("12,5 %", 12.5),
    ("1 234,50 €-", -1234.5),
    ("1.23.4", None),
    ("1,234.5", None),
    ("12 mois", None),
])
def test_comma_column(raw, expected):
    assert run(numbers.number_sql(","), [raw]) == [expected]


def test_auto_reads_each_value_by_its_own_marks():
    raw = ["1 234,50 €", "1,234.50", "12.5k€", "-3,5", "1,234,567", "1.234.567,89", "3.5", "12 mois"]
    assert run(numbers.number_sql(), raw) == [1234.5, 1234.5, 12500.0, -3.5, 1234567.0, 1234567.89, 3.5, None]


def test_unknown_mark_refused():
    with pytest.raises(SettingError) as caught:
        numbers.number_sql(";")
    assert str(caught.value) == "decimal must be ',', '.' or 'auto' (the decimal mark of amounts); got ';'."


def test_evidence_counts():
    raw = ["$84,835", "84,835.00", "12,5", "1 234,50 €", "1.234", "1,234,567", "1.23457E+11", "0,125", "7", None]
    assert evidence(raw) == {"comma": 3, "point": 3}
    assert numbers.sample_evidence(pd.Series(raw)) == {"comma": 3, "point": 3}


@pytest.mark.parametrize(("raw", "region", "expected"), [
    (["$84,835", "$1,200"], "FR", "."),                  # only d,ddd groups: thousands
    (["84,835.00", "12,5"], "FR", ","),                  # a tie with both shown: the region's
    (["84,835.00", "12,5"], "US", "."),
    (["84,835.00", "1,234.50", "12,5"], "FR", "."),       # the larger count wins
    (["1 234,50 €", "12"], "US", ","),
    (["1.234.567", "12"], "US", ","),                    # dotted groups: thousands, so a decimal comma
    (["12", "7"], "FR", "."),
])
def test_decide_decimal(raw, region, expected):
    assert numbers.decide_decimal(evidence(raw), pd.Series(dtype=object), region) == expected
    assert numbers.decide_decimal(None, pd.Series(raw), region) == expected


def test_option_overrides_the_evidence():
    plan = numbers.plan("m", "measure", pd.Series(["1,5"]), NormalizeOptions(decimal="."), evidence(["1,5"]))
    assert run(plan.expr, ["1,5", "1,500"]) == [None, 1500.0]
    assert plan.note == "amounts to numbers; decimal mark '.', thousands ',' or spaces"


def test_normalize_collects_the_evidence_of_measures():
    assert set(column_evidence_sql({"m": "measure", "e": "email"})) == {"m"}
    assert set(column_evidence_sql({"m": "measure"})["m"]) == set(numbers.EVIDENCE_PATTERNS)


def _clean(tmp_path, csv: str, roles: dict[str, str], **settings) -> pd.DataFrame:
    """Import ``csv`` with ``roles`` and give its clean rows in file order."""
    ws = open_workspace(tmp_path / "s.duckdb")
    try:
        handle = ws.ingest.import_bytes(csv.encode(), "f.csv", ImportSettings(roles=roles, **settings))
        return handle.ingest.repository.frame(clean_rows_sql(handle.info) + " ORDER BY _row")
    finally:
        ws.close()


def test_import_reads_each_column_with_its_own_mark(tmp_path):
    csv = ("id;income;total;fr;small;neg;sci;excel;exp_fr;unit\n"
           '1;"$84,835";"84,835.00";"1 234,50 €";"12,5";(1 234);12e3;1.23457E+11;"1,5E+03";12 mois\n'
           '2;"$1,200";"1,234.50";"12,00 €";3;\u22121 234;7;2.5E+03;"2,5";3\n')
    roles = {c: "measure" for c in ("income", "total", "fr", "small", "neg", "sci", "excel", "exp_fr", "unit")}
    rows = _clean(tmp_path, csv, {"id": "id", **roles})
    assert {c: values(rows[c]) for c in roles} == {
        "income": [84835.0, 1200.0], "total": [84835.0, 1234.5], "fr": [1234.5, 12.0], "small": [12.5, 3.0],
        "neg": [-1234.0, -1234.0], "sci": [12000.0, 7.0], "excel": [123457000000.0, 2500.0],
        "exp_fr": [1500.0, 2.5], "unit": [None, 3.0]}


@pytest.mark.parametrize("where", [9_999, 9_998])
def test_import_decides_from_a_value_only_one_late_row_shows(tmp_path, where):
    amounts = ["1,250"] * 10_000
    amounts[where] = "0,5"
    if where == 9_998:  # a row the import's value sample does not see: only the evidence over all rows does
        table = pa.table({"amount": amounts})
        assert "0,5" not in spread_sample(table, SAMPLE_ROWS)["amount"].tolist()
    csv = "id;amount\n" + "".join(f'{i};"{a}"\n' for i, a in enumerate(amounts))
    rows = _clean(tmp_path, csv, {"id": "id", "amount": "measure"})
    assert len(rows) == 10_000
    assert values(rows["amount"])[:2] == [1.25, 1.25] and values(rows["amount"])[where] == 0.5


def test_without_a_telling_value_the_column_reads_in_thousands(tmp_path):
    rows = _clean(tmp_path, "id;amount\n" + "".join(f'{i};"1,250"\n' for i in range(10_000)),
                  {"id": "id", "amount": "measure"})
    assert values(rows["amount"])[-1] == 1250.0


def test_plan_decides_from_the_evidence_not_the_sample():
    plan = numbers.plan("m", "measure", pd.Series(["1,250"]), NormalizeOptions(), evidence(["1,250", "0,5"]))
    assert run(plan.expr, ["1,250"]) == [1.25]
    assert run(numbers.plan("m", "measure", pd.Series(["1,250"]), NormalizeOptions()).expr, ["1,250"]) == [1250.0]


def test_import_setting_sets_the_mark(tmp_path):
    rows = _clean(tmp_path, 'id;amount\n1;"1,250"\n2;"0,5"\n', {"id": "id", "amount": "measure"}, decimal=".")
    assert values(rows["amount"]) == [1250.0, None]

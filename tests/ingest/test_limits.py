"""Limits of segmentation.ingest.readers, checked before the work: each a message, never a traceback.

The three files of the issue are built here: 10,000 columns, a small xlsx
whose sheet inflates hugely, a 1 MB single cell; memory is measured in a
child process (calamine allocates outside Python, where tracemalloc cannot see).
"""

import functools
import io
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from segmentation import open_workspace
from segmentation.core.errors import InputFileError
from segmentation.ingest import readers
from segmentation.ingest.importer import ImportSettings
from segmentation.ingest.readers import MAX_CELL_CHARS, MAX_COLUMNS, MAX_WORKBOOK_BYTES, read_file


def wide_csv(columns=10_000, records=3):
    """A CSV of ``columns`` columns: 205 KB for 10,000."""
    header = ",".join(f"c{i}" for i in range(columns))
    return "\n".join([header] + [",".join(str(i) for i in range(columns))] * records).encode()


def xlsx_with_sheet(write_sheet):
    """An openpyxl workbook whose sheet XML is replaced by what ``write_sheet(stream)`` writes."""
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Email"
    workbook.active["A2"] = "a@x.fr"
    buffer = io.BytesIO()
    workbook.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with target.open(info.filename, "w", force_zip64=True) as stream:
                    write_sheet(stream)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


@functools.cache
def bomb_xlsx():
    """About 1 MB of xlsx whose sheet inflates to 300 MB (built once: it takes seconds)."""
    return xlsx_with_sheet(sheet_of_spaces(300))


def sheet_of_spaces(megabytes):
    """A sheet XML padded with ``megabytes`` MB of spaces: deflates about 1000 to 1."""
    def write(stream):
        stream.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Email</t>'
                     b'</is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>a@x.fr</t></is></c></row>')
        chunk = b" " * (1024 * 1024)
        for _ in range(megabytes):
            stream.write(chunk)
        stream.write(b"</sheetData></worksheet>")
    return write


def forge_size(data, name, size):
    """The zip with ``name``'s uncompressed size stated as ``size`` in both of its headers."""
    forged = bytearray(data)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    struct.pack_into("<I", forged, info.header_offset + 22, size)  # local file header
    central = forged.find(b"PK\x01\x02" + bytes(forged[info.header_offset + 4 : info.header_offset + 16]))
    while forged[central + 46 : central + 46 + len(name)] != name.encode():
        central = forged.find(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", forged, central + 24, size)  # central directory entry
    return bytes(forged)


# --- columns ---------------------------------------------------------------------------------


def test_limits_are_documented_constants():
    assert (MAX_COLUMNS, MAX_CELL_CHARS, MAX_WORKBOOK_BYTES) == (1_000, 131_072, 256 * 1024 * 1024)


def test_ten_thousand_columns_refused_from_the_header():
    data = wide_csv()
    assert 200_000 < len(data) < 220_000
    with pytest.raises(InputFileError, match=r"^The file 'wide\.csv' has 10,000 columns; Segment Studio imports at "
                       r"most 1,000: export only the columns you segment on"):
        read_file(data, "wide.csv")


def test_max_columns_exactly_is_read():
    result = read_file(wide_csv(MAX_COLUMNS, 1), "edge.csv")
    assert (len(result.columns), result.table.num_rows) == (1_000, 1)
    with pytest.raises(InputFileError, match=r"has 1,001 columns"):
        read_file(wide_csv(MAX_COLUMNS + 1, 1), "edge.csv")


def test_wide_sheet_refused_before_its_cells_are_read():
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = "Wide"
    worksheet.append([f"c{i}" for i in range(1_500)])
    worksheet.append(list(range(1_500)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(InputFileError, match=r"^The sheet 'Wide' of 'wide\.xlsx' has 1,500 columns; Segment Studio "
                       r"imports at most 1,000"):
        read_file(buffer.getvalue(), "wide.xlsx")


# --- inflated workbooks -----------------------------------------------------------------------


def test_xlsx_that_inflates_over_the_limit_is_refused_from_its_directory():
    data = bomb_xlsx()
    assert len(data) < 2 * 1024 * 1024
    with pytest.raises(InputFileError, match=r"^The workbook 'bomb\.xlsx' is [0-9.]+ (KB|MB) but its contents "
                       r"inflate to 300\.0 MB, over the limit of 256\.0 MB: export the data as CSV"):
        read_file(data, "bomb.xlsx")
    with pytest.raises(InputFileError, match=r"inflate to 300\.0 MB"):
        readers.list_sheets(data, "bomb.xlsx")


def test_xlsx_whose_directory_understates_the_size_is_refused(monkeypatch):
    data = forge_size(xlsx_with_sheet(sheet_of_spaces(3)), "xl/worksheets/sheet1.xml", 1_000)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml").file_size == 1_000
    with pytest.raises(InputFileError, match=r"'forged\.xlsx' looks like a spreadsheet workbook but is damaged \(a "
                       r"part does not match its stated size or checksum\)"):
        read_file(data, "forged.xlsx")


def test_xlsx_under_the_limit_with_padding_is_read(monkeypatch):
    monkeypatch.setattr(readers, "MAX_WORKBOOK_BYTES", 4 * 1024 * 1024)
    result = read_file(xlsx_with_sheet(sheet_of_spaces(2)), "padded.xlsx")
    assert (result.columns, result.table.to_pylist()) == (["Email"], [{"Email": "a@x.fr"}])
    with pytest.raises(InputFileError, match=r"inflate to 5\.0 MB, over the limit of 4\.0 MB"):
        read_file(xlsx_with_sheet(sheet_of_spaces(5)), "padded.xlsx")


# --- longest cell ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"x" * 1_000_000, 1),  # the file: one line, one cell
        (b"id,note\n1,short\n2," + b"y" * 1_000_000 + b"\n3,z\n", 3),
        (b'id,note\n1,"a\nb"\n2,"' + b"y" * (MAX_CELL_CHARS + 1) + b'"\n', 4),
    ],
)
def test_cell_over_the_limit_is_refused_naming_its_line(data, line):
    with pytest.raises(InputFileError, match=rf"^The file 'note\.csv' has a cell of more than 131,072 characters on "
                       rf"line {line}: no CRM field is that long"):
        read_file(data, "note.csv")


def test_cell_at_the_limit_is_read():
    result = read_file(b"id,note\n1," + "é".encode() * MAX_CELL_CHARS + b"\n", "note.csv")
    assert len(result.table.column("note")[0].as_py()) == MAX_CELL_CHARS


def test_quote_never_closed_is_a_message_naming_its_line():
    # pyarrow would read the rest of the file into one cell.
    with pytest.raises(InputFileError, match=r"'q\.csv' has a cell of more than 131,072 characters on line 2: .*A "
                       r"quote that is never closed"):
        read_file(b'id,note\n1,"open\n' + b"2,x\n" * 100_000, "q.csv")


# --- the store is unchanged; memory stays bounded -------------------------------------------------


def test_refused_files_leave_the_store_unchanged(tmp_path):
    ws = open_workspace(tmp_path / "s.duckdb")

    def snapshot():
        tables = [name for (name,) in ws.store.query_rows("SELECT table_name FROM information_schema.tables")]
        return {name: ws.store.query_rows(f'SELECT count(*) FROM "{name}"') for name in sorted(tables)}

    before = snapshot()
    for data, name in [(wide_csv(), "wide.csv"), (b"x" * 1_000_000, "cell.csv"), (bomb_xlsx(), "bomb.xlsx")]:
        with pytest.raises(InputFileError):
            ws.ingest.import_bytes(data, name, ImportSettings(name=name))
    assert snapshot() == before
    assert before["datasets"] == [(0,)]


_MEASURE = """
import resource, sys
sys.path.insert(0, {tests!r})
from test_limits import bomb_xlsx, wide_csv
from segmentation.core.errors import InputFileError
from segmentation.ingest.readers import read_file
files = [wide_csv(), b"x" * 1_000_000, bomb_xlsx()]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for data in files:
    try:
        read_file(data, "bad")
    except InputFileError:
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def test_bad_files_are_refused_in_bounded_memory():
    tests = str(Path(__file__).parent)
    child = subprocess.run([sys.executable, "-c", _MEASURE.format(tests=tests)],
                           capture_output=True, text=True, timeout=600, check=True)
    grown_kb = [int(line) for line in child.stdout.split()]
    assert len(grown_kb) == 3  # each refused with a message
    # Far under 2 GB: nothing is inflated or parsed past the check (peak growth, in KB).
    assert max(grown_kb) < 200 * 1024

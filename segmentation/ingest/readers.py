"""Read an uploaded CRM export (CSV or XLSX bytes) into a table of strings.

The format is decided from the content, not from the file name: browsers'
``type=`` filters are no check. Every column comes out as ``pa.string()``,
cells exactly as in the file (no trimming) and empty cells as null;
normalisation happens later. Rows whose number of fields differs from the
header's are set aside in ``ReadResult.rejected`` instead of being guessed.

This module must not import Streamlit or DuckDB (pure): the ingest
repository, the stage's only SQL executor, receives the Arrow table built here.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from ..core.errors import InputFileError

__all__ = ["ReadResult", "decode_text", "list_sheets", "read_file", "sniff_delimiter"]

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_DELIMITERS = (",", ";", "\t", "|")

# Bytes that cp1252 leaves undefined; a file containing them is read as latin-1.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")

_UTF8_CHUNK = 16 * 1024 * 1024  # bounded memory while validating big files
_HEAD_BYTES = 1024 * 1024  # decoded for the header and the sniffer
_SNIFF_CHARS = 64 * 1024
_SNIFF_RECORDS = 200
_FOOTER_TAIL = 64 * 1024
_FOOTER_MAX_LINES = 20
_CONTROL_RATIO = 0.05  # above this share of control characters: binary
_BLOCK_SIZE = 4 * 1024 * 1024  # also the largest record; 16 MB blocks parsed slower

_NON_SPACE = re.compile(rb"\S")
_BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass
class ReadResult:
    """What :func:`read_file` read, and what it had to set aside.

    Attributes
    ----------
    table : pyarrow.Table
        Every column is ``pa.string()``; empty cells are null.
    columns : list of str
        Final column names, unique case-insensitively (DuckDB names are).
    original_headers : list of str
        Headers as they were in the file, before trimming and renaming.
    file_format : str
        ``"csv"`` or ``"xlsx"``, from the content.
    encoding : str or None
        ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"`` (with a byte-order mark),
        ``"utf-16-le"`` or ``"utf-16-be"`` (without), ``"cp1252"`` or
        ``"latin-1"``; None for xlsx.
    delimiter : str or None
        ``","``, ``";"``, ``"\\t"`` or ``"|"``; ``","`` for a single-column
        file; None for xlsx.
    sheet : str or None
        The sheet read, for xlsx.
    sheets : list of str
        Every sheet of the workbook; empty for csv.
    rejected : pandas.DataFrame
        Rows set aside, columns ``line`` (1-based physical line of the file,
        or row number in the sheet), ``reason`` and ``raw`` (the row's text;
        for xlsx its cells joined by tabs).
    warnings : list of str
        Notes for the user about what was changed or skipped.
    """

    table: pa.Table
    columns: list[str]
    original_headers: list[str]
    file_format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: list[str]
    rejected: pd.DataFrame
    warnings: list[str]


def read_file(data: bytes, file_name: str, sheet: str | None = None, max_bytes: int | None = None) -> ReadResult:
    """Read an uploaded CSV or XLSX file into a table of strings.

    Parameters
    ----------
    data : bytes
        The file's content.
    file_name : str
        Name shown in messages; its extension is not trusted.
    sheet : str, optional
        Sheet to read from a workbook; default is the first non-empty one.
        Ignored for CSV.
    max_bytes : int, optional
        Refuse files larger than this.

    Returns
    -------
    ReadResult
        The table, how the file was read, rejected rows and warnings.

    Raises
    ------
    InputFileError
        If the file is too big, empty, has no records, is not a table
        (binary, old or password-protected Excel, damaged workbook), names
        an unknown sheet, or if every record was rejected.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise InputFileError(
            f"The file '{file_name}' is {_format_size(len(data))}, over the limit of "
            f"{_format_size(max_bytes)}: split it into smaller files or export fewer "
            "columns, then upload again."
        )
    if _detect_format(data, file_name) == "xlsx":
        return _read_xlsx(data, file_name, sheet)
    return _read_csv(data, file_name)


def list_sheets(data: bytes, file_name: str) -> list[str]:
    """List the sheets of a workbook.

    Parameters
    ----------
    data : bytes
        The file's content.
    file_name : str
        Name shown in messages.

    Returns
    -------
    list of str
        Sheet names in workbook order; empty for a CSV file.

    Raises
    ------
    InputFileError
        If the file is an unreadable workbook (see :func:`read_file`).
    """
    if _detect_format(data, file_name) != "xlsx":
        return []
    workbook = _open_workbook(data, file_name)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode a text file whose encoding is not declared.

    A byte-order mark decides (UTF-8 or UTF-16); else many NUL bytes at odd
    or even positions mean UTF-16 without a mark; else strict UTF-8; else
    cp1252 (what Excel writes on Windows), or latin-1 when the file holds
    bytes that cp1252 leaves undefined.

    Parameters
    ----------
    data : bytes
        The file's content.

    Returns
    -------
    tuple of (str, str)
        The text, without byte-order mark, and the encoding's name (see
        ``ReadResult.encoding``).

    Raises
    ------
    UnicodeDecodeError
        If the file has a UTF-8 or UTF-16 byte-order mark or NUL pattern but
        is not valid in that encoding (for instance cut short).
    """
    encoding = _detect_encoding(data)
    return data.decode(encoding), encoding


def sniff_delimiter(text: str) -> str:
    """Guess the field delimiter of CSV text from its first records.

    Each candidate splits the first records, honouring quotes; the one whose
    records most often have the header's field count wins, then the one with
    more fields. A candidate that leaves the header in one field is out, so
    decimal commas in a ``;`` file (``1 234,50``) or ``;`` inside quoted
    HubSpot cells do not mislead it.

    Parameters
    ----------
    text : str
        The file's text, or its beginning.

    Returns
    -------
    str
        One of ``","``, ``";"``, ``"\\t"``, ``"|"``; ``","`` when no
        candidate splits the header (a single-column file).
    """
    sample = text[:_SNIFF_CHARS]
    truncated = len(text) > len(sample)
    best, best_score = ",", (-1.0, 0)
    for delimiter in _DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        records = [record for record in islice(reader, _SNIFF_RECORDS) if record]
        if truncated and len(records) > 1:
            records.pop()  # probably cut in the middle
        if not records or len(records[0]) < 2:
            continue
        width, rows = len(records[0]), records[1:]
        consistency = sum(len(row) == width for row in rows) / len(rows) if rows else 1.0
        if (consistency, width) > best_score:
            best, best_score = delimiter, (consistency, width)
    return best


# --- format and encoding -----------------------------------------------------


def _detect_format(data: bytes, file_name: str) -> str:
    """Return "xlsx" or "csv" from the content, or raise for other files."""
    if data.startswith(_ZIP_MAGICS):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile as exc:
            raise InputFileError(
                f"The file '{file_name}' looks like an Excel workbook but is damaged or "
                "incomplete (the upload or the download may have been cut short): open "
                "it in Excel, save it again as .xlsx and upload that copy."
            ) from exc
        if "xl/workbook.xml" not in names:
            raise InputFileError(
                f"The file '{file_name}' is a zip archive but not an Excel .xlsx workbook "
                "(.xlsb and .ods are not supported): open it in your spreadsheet and "
                "save it as .xlsx or CSV."
            )
        return "xlsx"
    if data.startswith(_OLE2_MAGIC):
        # Directory entries of compound files are named in UTF-16 LE.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputFileError(
                f"The file '{file_name}' is a password-protected Excel workbook: open it "
                "in Excel, remove the password (File > Info > Protect Workbook), save "
                "it as .xlsx or CSV and upload that copy."
            )
        raise InputFileError(
            f"The file '{file_name}' is an old Excel 97-2003 workbook (.xls) or a "
            "password-protected one: open it in Excel, remove any password and save "
            "it as .xlsx or CSV, then upload that copy."
        )
    return "csv"


def _detect_encoding(data: bytes) -> str:
    """Name the encoding of data (see :func:`decode_text`) without decoding it."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:4096]
    pairs = len(head) // 2
    if pairs:
        even_nuls, odd_nuls = head[0::2].count(0), head[1::2].count(0)
        # ASCII text in UTF-16 has a NUL in every other byte.
        if odd_nuls > 0.3 * pairs and even_nuls < 0.05 * pairs:
            return "utf-16-le"
        if even_nuls > 0.3 * pairs and odd_nuls < 0.05 * pairs:
            return "utf-16-be"
    if _is_utf8(data):
        return "utf-8"
    if any(byte in data for byte in _CP1252_UNDEFINED):
        return "latin-1"
    return "cp1252"


def _is_utf8(data: bytes, start: int = 0) -> bool:
    """Whether data[start:] is strict UTF-8, decoded in chunks to bound memory."""
    view, position, end = memoryview(data), start, len(data)
    try:
        while position < end:
            stop = position + _UTF8_CHUNK
            # Not final: a character cut at the chunk's end is left for the next.
            _, consumed = codecs.utf_8_decode(view[position:stop], "strict", stop >= end)
            position += consumed
    except UnicodeDecodeError:
        return False
    return True


def _utf8_body(data: bytes, file_name: str) -> tuple[bytes, int, str]:
    """Return (UTF-8 bytes, offset where the text starts, encoding name).

    UTF-8 input is used in place (pyarrow reads it without a copy); other
    encodings are decoded and re-encoded, since pyarrow wants UTF-8.
    """
    encoding = _detect_encoding(data)
    if encoding == "utf-8":
        return data, 0, encoding
    if encoding == "utf-8-sig" and _is_utf8(data, len(codecs.BOM_UTF8)):
        return data, len(codecs.BOM_UTF8), encoding
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = encoding.removesuffix("-sig").upper()
        raise InputFileError(
            f"The file '{file_name}' looks like {label} text but is not valid {label} "
            "(it may have been cut short): export it again, as CSV UTF-8 if your "
            "software offers it."
        ) from exc
    return text.encode("utf-8"), 0, encoding


# --- CSV ---------------------------------------------------------------------


def _read_csv(data: bytes, file_name: str) -> ReadResult:
    """Read delimited text; the parsing itself is pyarrow's (no row loop here)."""
    body, start, encoding = _utf8_body(data, file_name)
    if _NON_SPACE.search(body, start) is None:
        raise InputFileError(
            f"The file '{file_name}' is empty: export it again from your CRM, with a "
            "header row and at least one record."
        )
    # errors="ignore" only drops a character cut at the end of the slice.
    head = body[start : start + _HEAD_BYTES].decode("utf-8", errors="ignore")
    _check_text_table(head, file_name)
    warnings = []
    if file_name.lower().endswith((".xlsx", ".xlsm", ".xls")):
        warnings.append(f"'{file_name}' is named like a workbook but holds text: read as CSV.")

    delimiter = sniff_delimiter(head)
    raw_headers, header_chars, header_lines = _read_header(head, delimiter)
    columns, header_warnings = _fix_headers(raw_headers)
    warnings += header_warnings
    content_start = start + len(head[:header_chars].encode("utf-8"))

    end, footer_lines = _find_footer(body, content_start, len(body), delimiter, len(columns))
    if footer_lines:
        warnings.append(f"footer of {_count(footer_lines, 'line')} after a blank line ignored")
    if _NON_SPACE.search(body, content_start, end) is None:
        raise _no_records(file_name)

    invalid: list[tuple[int, int, int, str]] = []

    def set_aside(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)[content_start:end]),
            # One thread keeps the invalid rows in file order, which locating
            # their lines relies on; on 2 cores it was as fast as threads.
            read_options=pacsv.ReadOptions(column_names=columns, use_threads=False, block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                invalid_row_handler=set_aside,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in columns},
                strings_can_be_null=True,
                null_values=[""],
            ),
        )
    except pa.ArrowInvalid as exc:
        raise InputFileError(
            f"The file '{file_name}' could not be read as CSV ({exc}). A quote opened and "
            "never closed, or a record over 4 MB, causes this: fix the file or export it again."
        ) from exc

    newline = b"\n" if "\n" in head else b"\r"
    lines = _locate_lines(body, content_start, end, header_lines + 1, newline, invalid)
    rejected = _rejected_frame(
        lines,
        [f"expected {expected} fields, found {actual}" for _, expected, actual, _ in invalid],
        [text for *_, text in invalid],
    )
    _check_records(table.num_rows, rejected, len(columns), file_name, warnings)
    return ReadResult(
        table=table,
        columns=columns,
        original_headers=raw_headers,
        file_format="csv",
        encoding=encoding,
        delimiter=delimiter,
        sheet=None,
        sheets=[],
        rejected=rejected,
        warnings=warnings,
    )


def _check_text_table(head: str, file_name: str) -> None:
    """Refuse binary content and web pages saved under a table's name."""
    sample = head[:_SNIFF_CHARS]
    if "\x00" in sample or len(_CONTROL_CHARS.findall(sample)) > _CONTROL_RATIO * len(sample):
        raise InputFileError(
            f"The file '{file_name}' does not look like a text table (CSV) or an Excel "
            "workbook: export your contacts as CSV or .xlsx and upload that file."
        )
    # Some CRMs export HTML or XML tables named .xls.
    if sample.lstrip().lower().startswith(("<!doctype html", "<html", "<table", "<?xml")):
        raise InputFileError(
            f"The file '{file_name}' is a web page or XML document, not a CSV or .xlsx "
            "file: open it in Excel and save it as .xlsx or CSV."
        )


def _read_header(head: str, delimiter: str) -> tuple[list[str], int, int]:
    """Return the first record's fields, its end (in characters) and line count."""
    consumed = [0, 0]  # characters, physical lines

    def counted_lines() -> Iterator[str]:
        # csv.reader pulls one line at a time, so after the first record
        # these counts stop exactly at its end, blank lines before it included.
        for line in io.StringIO(head, newline=""):
            consumed[0] += len(line)
            consumed[1] += 1
            yield line

    header = next(record for record in csv.reader(counted_lines(), delimiter=delimiter) if record)
    return header, consumed[0], consumed[1]


def _find_footer(body: bytes, start: int, end: int, delimiter: str, width: int) -> tuple[int, int]:
    """Find a footer block after the last blank line (Salesforce reports).

    Returns the end of the data and the footer's number of lines (0 if none).
    The block is a footer when it is short and none of its records has the
    header's field count.
    """
    blanks = list(_BLANK_LINE.finditer(body, max(start, end - _FOOTER_TAIL), end))
    for blank in reversed(blanks):
        block = body[blank.end() : end]
        if not block.strip():
            continue  # blank lines at the very end
        records = [
            record
            for record in csv.reader(io.StringIO(block.decode("utf-8"), newline=""), delimiter=delimiter)
            if record
        ]
        cut = blank.start() + 1
        if (
            len(records) <= _FOOTER_MAX_LINES
            and all(len(record) != width for record in records)
            # An odd number of quotes before the blank line puts it inside a
            # quoted multi-line value: then it is data, not a footer.
            and body.count(b'"', start, cut) % 2 == 0
        ):
            return cut, sum(1 for line in block.splitlines() if line.strip())
        break
    return end, 0


def _locate_lines(
    body: bytes,
    start: int,
    end: int,
    first_line: int,
    newline: bytes,
    invalid: list[tuple[int, int, int, str]],
) -> list[int]:
    """Turn pyarrow's invalid rows (in file order) into physical line numbers.

    pyarrow numbers records, not lines (multi-line cells and blank lines are
    not counted), so each raw row is found in the bytes, from the previous
    one on, as a whole line.
    """
    lines, line, counted, search_from = [], first_line, start, start
    for number, _, _, text in invalid:
        needle = text.encode("utf-8")
        found = body.find(needle, search_from, end)
        while found >= 0 and not _is_whole_line(body, found, found + len(needle), start, end):
            found = body.find(needle, found + 1, end)
        if found < 0:  # not expected; fall back to pyarrow's record number
            lines.append(first_line + number - 1)
            continue
        line += body.count(newline, counted, found)
        counted, search_from = found, found + len(needle)
        lines.append(line)
    return lines


def _is_whole_line(body: bytes, found: int, stop: int, start: int, end: int) -> bool:
    """Whether body[found:stop] starts and ends a line."""
    return (found == start or body[found - 1] in b"\r\n") and (stop == end or body[stop] in b"\r\n")


# --- XLSX --------------------------------------------------------------------


def _open_workbook(data: bytes, file_name: str) -> openpyxl.Workbook:
    """Open a workbook read-only, values instead of formulas."""
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    # openpyxl lets zip, XML and key errors through for damaged files.
    except Exception as exc:
        raise InputFileError(
            f"The file '{file_name}' looks like an Excel workbook but could not be "
            "opened (it may be damaged): open it in Excel, save it again as .xlsx or "
            "CSV and upload that copy."
        ) from exc


def _read_xlsx(data: bytes, file_name: str, sheet: str | None) -> ReadResult:
    """Read one sheet: the first non-empty row is the header."""
    workbook = _open_workbook(data, file_name)
    try:
        sheets = list(workbook.sheetnames)
        if sheet is not None and sheet not in sheets:
            raise InputFileError(
                f"The workbook '{file_name}' has no sheet named '{sheet}': choose one of "
                + ", ".join(f"'{name}'" for name in sheets)
                + "."
            )
        for chosen in [sheet] if sheet is not None else sheets:
            rows = _sheet_rows(workbook[chosen], file_name)
            if rows:
                break
        else:
            where = f"The sheet '{sheet}' of '{file_name}'" if sheet else f"The workbook '{file_name}'"
            raise InputFileError(
                f"{where} has no data: choose a sheet with a header row and records, or export the data again."
            )
    finally:
        workbook.close()

    # Drop leading columns empty everywhere: tables often start at B2.
    skip = min(next(i for i, cell in enumerate(cells) if cell is not None) for _, cells in rows)
    header_row, *data_rows = [(number, cells[skip:]) for number, cells in rows]
    raw_headers = [cell or "" for cell in _rstrip_none(header_row[1])]
    columns, warnings = _fix_headers(raw_headers)
    width = len(columns)

    values: list[list[str | None]] = []
    lines, reasons, raws = [], [], []
    for number, cells in data_rows:
        cells = _rstrip_none(cells)
        if len(cells) > width:
            lines.append(number)
            reasons.append(f"expected {width} fields, found {len(cells)}")
            raws.append("\t".join(cell or "" for cell in cells))
        else:
            values.append(cells + [None] * (width - len(cells)))
    rejected = _rejected_frame(lines, reasons, raws)
    _check_records(len(values), rejected, width, file_name, warnings)

    table = pa.Table.from_arrays([pa.array(column, pa.string()) for column in zip(*values, strict=True)], names=columns)
    return ReadResult(
        table=table,
        columns=columns,
        original_headers=raw_headers,
        file_format="xlsx",
        encoding=None,
        delimiter=None,
        sheet=chosen,
        sheets=sheets,
        rejected=rejected,
        warnings=warnings,
    )


def _sheet_rows(worksheet: object, file_name: str) -> list[tuple[int, list[str | None]]]:
    """Non-empty rows of a worksheet as (row number, cell texts); [] if none."""
    if not hasattr(worksheet, "iter_rows"):
        return []  # a chart sheet
    # Some producers write wrong dimensions; read_only mode would trust them.
    worksheet.reset_dimensions()
    rows = []
    try:
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(value) for value in row]
            if any(cell is not None for cell in cells):
                rows.append((number, cells))
    except Exception as exc:  # damaged sheet XML surfaces only while reading
        raise InputFileError(
            f"A sheet of '{file_name}' could not be read (the workbook may be damaged): "
            "open it in Excel, save it again as .xlsx or CSV and upload that copy."
        ) from exc
    return rows


def _cell_text(value: object) -> str | None:
    """Text of an Excel cell value, as a user would type it; None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # Shortest round-trip digits, never scientific notation.
        return np.format_float_positional(value, trim="-")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _rstrip_none(cells: list[str | None]) -> list[str | None]:
    """Cells without the empty ones at the end."""
    end = len(cells)
    while end and cells[end - 1] is None:
        end -= 1
    return cells[:end]


# --- shared ------------------------------------------------------------------


def _fix_headers(raw_headers: list[str]) -> tuple[list[str], list[str]]:
    """Trim headers, name empty ones, de-duplicate case-insensitively.

    Returns the column names and warnings describing the changes. Names are
    otherwise kept exactly: the store quotes them.
    """
    trimmed = [header.strip() for header in raw_headers]
    taken = {name.lower() for name in trimmed if name}
    columns, empty, renamed = [], [], []
    seen: set[str] = set()
    for position, name in enumerate(trimmed, start=1):
        if not name:
            name = f"column_{position}"
            empty.append(name)
        if name.lower() in seen:
            suffix = 2
            while f"{name} ({suffix})".lower() in taken | seen:
                suffix += 1
            renamed.append(f"'{name}' -> '{name} ({suffix})'")
            name = f"{name} ({suffix})"
        seen.add(name.lower())
        columns.append(name)
    warnings = []
    if empty:
        warnings.append(f"{_count(len(empty), 'empty header')} named: " + ", ".join(empty))
    if renamed:
        warnings.append(f"{_count(len(renamed), 'duplicate header')} renamed: " + ", ".join(renamed))
    return columns, warnings


def _rejected_frame(lines: list[int], reasons: list[str], raws: list[str]) -> pd.DataFrame:
    """The ``rejected`` table, with stable dtypes even when empty."""
    return pd.DataFrame(
        {
            "line": pd.Series(lines, dtype="int64"),
            "reason": pd.Series(reasons, dtype="str"),
            "raw": pd.Series(raws, dtype="str"),
        }
    )


def _check_records(kept: int, rejected: pd.DataFrame, width: int, file_name: str, warnings: list[str]) -> None:
    """Refuse a file with no record kept; note the rows set aside."""
    if kept == 0 and rejected.empty:
        raise _no_records(file_name)
    if kept == 0:
        first = rejected.iloc[0]
        raise InputFileError(
            f"None of the {len(rejected)} records of '{file_name}' has the {width} fields "
            f"of its header row (line {first['line']}: {first['reason']}): check that "
            "the file holds one table with one header row, then export it again."
        )
    if not rejected.empty:
        shown = ", ".join(str(line) for line in rejected["line"].head(5))
        more = ", ..." if len(rejected) > 5 else ""
        warnings.append(
            f"{_count(len(rejected), 'row')} set aside, their number of fields differs from the "
            f"header's {width} (lines {shown}{more})"
        )


def _no_records(file_name: str) -> InputFileError:
    """The error for a file with a header and nothing else."""
    return InputFileError(
        f"The file '{file_name}' has a header row but no records: export it again with at least one record."
    )


def _format_size(size: int) -> str:
    """Human-readable size, in the units Streamlit's upload limit uses."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size} bytes"


def _count(number: int, noun: str) -> str:
    """``"1 row"``, ``"2 rows"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"

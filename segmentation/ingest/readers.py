"""Read an uploaded CRM export (CSV, or a workbook: xlsx, xlsm, xls, ods) into a table of strings.

The format is decided from the content, not from the file name: browsers'
``type=`` filters are no check. Workbooks are read with ``python-calamine``;
typed cells become the text the user sees (``84459``, ``2024-03-12``,
``TRUE``). openpyxl is no longer needed here: calamine reads every
format. Formula cells saved without their value (calamine reads them as
empty) are counted and named for xlsx/xlsm; ``.ods`` files are not scanned
(LibreOffice always saves values; see :func:`_scan_formulas`), nor ``.xls``
(BIFF stores each formula's result). Error cells (``#N/A``) come out empty. Every column comes out as ``pa.string()``,
cells exactly as in the file (no trimming) and empty cells as null;
normalisation happens later. Rows whose number of fields differs from the
header's are set aside in ``ReadResult.rejected`` instead of being guessed.

Limits are checked before the work, each refused with an
:class:`InputFileError` (see :data:`MAX_COLUMNS`, :data:`MAX_CELL_CHARS`,
:data:`MAX_WORKBOOK_BYTES`), so that no file can exhaust memory or time.

This module must not import Streamlit or DuckDB (pure): the ingest
repository, the stage's only SQL executor, receives the Arrow table built here.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import io
import itertools
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import python_calamine

from ..core.errors import InputFileError

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_WORKBOOK_BYTES",
    "ReadResult",
    "decode_text",
    "list_sheets",
    "read_file",
    "sniff_delimiter",
]

#: Most columns a file may have. Every column costs its own role guess,
#: evidence query and clean expression downstream: 10,000 columns took 36
#: minutes and 7.8 GB. Checked on the header (or the sheet's width) before
#: the body is read.
MAX_COLUMNS = 1_000
#: Longest cell, in characters: Salesforce's longest text field (Long Text
#: Area), four times Excel's own cell limit (32,767), and Python's default
#: CSV field limit. A longer cell is no CRM value: the file is refused,
#: naming the line, before any row is stored.
MAX_CELL_CHARS = 131_072
#: Largest total uncompressed size of a zipped workbook (xlsx, xlsm, ods),
#: read from the zip directory before the workbook is opened, then verified
#: while inflating in bounded chunks: a 1 MB file can inflate to 1 GB.
MAX_WORKBOOK_BYTES = 256 * 1024 * 1024

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
_SCAN_CHUNK = 64 * 1024  # searching for the next line that is not UTF-8
_INFLATE_CHUNK = 1024 * 1024  # workbook parts are inflated in chunks of this size
_SHOWN = 5  # line numbers or cell references named in a warning
_TITLE_LINES = 3  # lines of a report's title that may come before an aligned header
_ALIGNED_SHARE = 0.95  # share of the first lines that must leave a column gap blank (all but 1 under 20 lines)
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

_NON_SPACE = re.compile(rb"\S")
_BLANK_LINE = re.compile(rb"\n[ \t]*\r?\n")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
# Sheet XML (SpreadsheetML), with or without a namespace prefix.
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)<")
_STRING_TYPE = re.compile(rb'\bt="str"')
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_PADDING = re.compile(r"\S {2,}\S")


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
        ``"csv"``, ``"xlsx"`` (also .xlsm), ``"xls"`` or ``"ods"``, from the content.
    encoding : str or None
        ``"utf-8"``, ``"utf-8-sig"``, ``"utf-16"`` (with a byte-order mark),
        ``"utf-16-le"`` or ``"utf-16-be"`` (without), ``"cp1252"`` or
        ``"latin-1"``; None for a workbook. A UTF-8 file with a few lines in
        cp1252 is ``"utf-8"``, with a warning naming those lines.
    delimiter : str or None
        ``","``, ``";"``, ``"\\t"`` or ``"|"``; ``","`` for a single-column
        file; None for a workbook and for text aligned with spaces (read as
        fixed-width columns, with a warning saying so).
    sheet : str or None
        The sheet read, for a workbook.
    sheets : list of str
        Every sheet of the workbook; empty for csv.
    rejected : pandas.DataFrame
        Rows set aside, columns ``line`` (1-based physical line of the file,
        or row number in the sheet), ``reason`` and ``raw`` (the row's text;
        for a workbook its cells joined by tabs).
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
    """Read an uploaded CSV file or workbook (xlsx, xlsm, xls, ods) into a table of strings.

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
        If the file is too big (bytes, columns, longest cell, inflated
        workbook), empty, has no records, is not a table (binary,
        password-protected or damaged workbook, text aligned with spaces
        that cannot be split), names an unknown sheet, or if every record
        was rejected.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise InputFileError(
            f"The file '{file_name}' is {_format_size(len(data))}, over the limit of "
            f"{_format_size(max_bytes)}: split it into smaller files or export fewer "
            "columns, then upload again."
        )
    file_format = _detect_format(data, file_name)
    if file_format != "csv":
        return _read_workbook(data, file_name, file_format, sheet)
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
    file_format = _detect_format(data, file_name)
    if file_format == "csv":
        return []
    workbook, _ = _open_workbook(data, file_name, file_format)
    try:
        return list(workbook.sheet_names)
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
    """Return "xlsx", "ods", "xls" or "csv" from the content, or raise for other files."""
    if data.startswith(_ZIP_MAGICS):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                mimetype = archive.getinfo("mimetype") if "mimetype" in names else None
                # The mimetype part is tiny; a big one is no OpenDocument file.
                is_ods = mimetype is not None and mimetype.file_size < 256 and (
                    archive.read(mimetype).strip() == _ODS_MIMETYPE
                )
                encrypted = is_ods and _is_encrypted_ods(archive)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputFileError(
                f"The file '{file_name}' looks like an Excel workbook but is damaged or "
                "incomplete (the upload or the download may have been cut short): open "
                "it in Excel, save it again as .xlsx and upload that copy."
            ) from exc
        if "xl/workbook.xml" in names:
            return "xlsx"
        if encrypted:
            raise _password_error(file_name)
        if is_ods:
            return "ods"
        raise InputFileError(
            f"The file '{file_name}' is a zip archive but not an Excel .xlsx/.xlsm or OpenDocument .ods "
            "workbook (.xlsb is not supported): open it in your spreadsheet and save it as .xlsx or CSV."
        )
    if data.startswith(_OLE2_MAGIC):
        # Directory entries of compound files are named in UTF-16 LE; an
        # encrypted .xlsx is a compound file holding an EncryptedPackage.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise _password_error(file_name)
        return "xls"
    return "csv"


def _is_encrypted_ods(archive: zipfile.ZipFile) -> bool:
    """Whether an OpenDocument file is password-protected (its manifest describes the encryption)."""
    try:
        manifest = archive.getinfo("META-INF/manifest.xml")
    except KeyError:
        return False
    if manifest.file_size > MAX_WORKBOOK_BYTES:
        return False  # refused as too big when opened
    with archive.open(manifest) as stream:
        return b"encryption-data" in stream.read()


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


def _is_utf8(data: bytes, start: int = 0, final: bool = True) -> bool:
    """Whether data[start:] is strict UTF-8, decoded in chunks to bound memory (not ``final``: a character cut
    at the end, as in a file's head, is allowed)."""
    view, position, end = memoryview(data), start, len(data)
    try:
        while position < end:
            stop = position + _UTF8_CHUNK
            # Not final: a character cut at the chunk's end is left for the next.
            _, consumed = codecs.utf_8_decode(view[position:stop], "strict", final and stop >= end)
            if stop >= end:
                return True  # all decoded, or (not final) all but a character cut at the end
            position += consumed
    except UnicodeDecodeError:
        return False
    return True


def _utf8_body(data: bytes, file_name: str, trust_tail: bool = False) -> tuple[bytes, int, str, list[str]]:
    """Return (UTF-8 bytes, offset where the text starts, encoding name, warnings).

    UTF-8 input is used in place (pyarrow reads it without a copy); other
    encodings are decoded and re-encoded, since pyarrow wants UTF-8. A UTF-8
    file with a few lines in cp1252 (a line pasted from another export) is
    decoded line by line, with a warning naming those lines. ``trust_tail``: see :func:`_csv_layout`.
    """
    if trust_tail and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        head = data[start:start + _HEAD_BYTES]
        if b"\x00" not in head and _is_utf8(head, final=len(data) - start <= _HEAD_BYTES):
            return data, start, "utf-8-sig" if start else "utf-8", []
    encoding = _detect_encoding(data)
    if encoding == "utf-8":
        return data, 0, encoding, []
    if encoding == "utf-8-sig" and _is_utf8(data, len(codecs.BOM_UTF8)):
        return data, len(codecs.BOM_UTF8), encoding, []
    if encoding in ("cp1252", "latin-1"):
        mixed = _decode_mixed(data)
        if mixed is not None:
            body, bad_lines = mixed
            shown = ", ".join(map(str, bad_lines[:_SHOWN])) + (", ..." if len(bad_lines) > _SHOWN else "")
            return body, 0, "utf-8", [
                f"{_count(len(bad_lines), 'line')} of this UTF-8 file {'is' if len(bad_lines) == 1 else 'are'} "
                f"not valid UTF-8 and {'was' if len(bad_lines) == 1 else 'were'} read as Windows-1252 "
                f"(lines {shown}): check their accents, or export the file again as CSV UTF-8"
            ]
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        label = encoding.removesuffix("-sig").upper()
        raise InputFileError(
            f"The file '{file_name}' looks like {label} text but is not valid {label} "
            "(it may have been cut short): export it again, as CSV UTF-8 if your "
            "software offers it."
        ) from exc
    return text.encode("utf-8"), 0, encoding, []


def _decode_mixed(data: bytes) -> tuple[bytes, list[int]] | None:
    """Decode a mostly UTF-8 file whose other lines are cp1252 (or latin-1).

    Returns the UTF-8 bytes and the 1-based numbers of the lines that were
    not UTF-8, or None when the file is not such a mix: no non-ASCII text
    outside the bad lines, or bad lines over 1 % of the lines (and over a
    handful): then the whole file is read in the single-byte encoding, as
    before. The loop runs over the bad lines only (and stops past that
    limit); the rest is validated in chunks.
    """
    limit = max(_SHOWN, (data.count(b"\n") + 1) // 100)
    view, pieces, bad_lines = memoryview(data), [], []
    position, line, counted, utf8_text = 0, 1, 0, False
    while (error := _first_invalid(data, position)) >= 0:
        line_start = max(position, data.rfind(b"\n", position, error) + 1)
        line_end = data.find(b"\n", error)
        line_end = len(data) if line_end < 0 else line_end + 1
        line += data.count(b"\n", counted, line_start)
        counted = line_start
        bad_lines.append(line)
        if len(bad_lines) > limit:
            return None
        utf8_text = utf8_text or not data[position:line_start].isascii()
        pieces.append(view[position:line_start])
        raw = data[line_start:line_end]
        single_byte = "latin-1" if any(byte in raw for byte in _CP1252_UNDEFINED) else "cp1252"
        pieces.append(raw.decode(single_byte).encode("utf-8"))
        position = line_end
    if not (utf8_text or not data[position:].isascii()):
        return None
    pieces.append(view[position:])
    return b"".join(pieces), bad_lines


def _first_invalid(data: bytes, start: int) -> int:
    """Offset of the first byte from start on that is not valid UTF-8; -1 if none.

    Small chunks: the error raised holds a copy of the chunk, and there may be
    one error per bad line.
    """
    view, position, end = memoryview(data), start, len(data)
    while position < end:
        stop = position + _SCAN_CHUNK
        try:
            _, consumed = codecs.utf_8_decode(view[position:stop], "strict", stop >= end)
        except UnicodeDecodeError as exc:
            return position + exc.start
        position += consumed
    return -1


# --- CSV ---------------------------------------------------------------------


@dataclass
class CsvLayout:
    """Where a delimited text file's records are, before they are parsed (see :func:`plain_csv`).

    ``body`` is UTF-8; the records are ``body[start:end]`` (after the header,
    before a footer); ``rows`` and ``crlf`` (lines end in ``\\r\\n``) are
    set by :func:`plain_csv` only.
    """

    body: bytes
    start: int
    end: int
    columns: list[str]
    raw_headers: list[str]
    encoding: str
    delimiter: str
    header_lines: int
    newline: bytes
    warnings: list[str]
    rows: int = 0
    crlf: bool = False


def plain_csv(data: bytes, file_name: str, max_bytes: int | None = None) -> CsvLayout | None:
    """The layout of a delimited text file whose records may be plain lines, or None at the first doubt.

    "Plain": no quote character, no NUL, one kind of line end (``\n`` or
    ``\r\n`` throughout); then every line is one record, split on the
    delimiter alone, and a reader that splits lines and fields gives the
    cells :func:`read_file` gives (its ``rows`` is the number of lines, to
    check the reader's count against). Three checks are left to that reader,
    which makes them while it reads, rather than done here in a pass of
    their own: the bytes after the first megabyte being UTF-8 (``encoding``
    is ``utf-8`` when the head is), no line over ``MAX_CELL_CHARS`` bytes,
    and no blank line (the reader skips one: its count then differs) except
    in a one-column file, where a blank line is a cell and is refused here.
    The reader must refuse the file on any of them; then :func:`read_file`
    reads it (another encoding, mixed lines, long cells, blank lines).
    Anything else (workbooks, aligned text, quotes, ...) gives None: read it
    with :func:`read_file`. The file's refusals (size, columns, empty, ...)
    are raised as :func:`read_file` raises them.
    """
    if max_bytes is not None and len(data) > max_bytes:
        return None  # read_file gives the message
    if _detect_format(data, file_name) != "csv":
        return None
    layout = _csv_layout(data, file_name, trust_tail=True)
    if isinstance(layout, ReadResult):
        return None
    rows = _plain_rows(layout.body, layout.start, layout.end, one_column=len(layout.columns) == 1)
    if not rows:
        return None
    layout.rows = rows
    layout.crlf = layout.body.find(b"\r", layout.start, layout.end) >= 0
    return layout


def _plain_rows(body: bytes, start: int, end: int, one_column: bool) -> int | None:
    """How many lines ``body[start:end]`` holds if they may be plain records (see :func:`plain_csv`), else None."""
    if end <= start or any(body.find(byte, start, end) >= 0 for byte in (b'"', b"\x00")):
        return None
    newlines = body.count(b"\n", start, end)
    if body.find(b"\r", start, end) >= 0 and not (body.count(b"\r", start, end) == body.count(b"\r\n", start, end)
                                                   == newlines):
        return None  # a lone CR, or lines ending in both ways
    if body[start] in b"\r\n":
        return None  # a blank first line
    if one_column and (body.find(b"\n\n", start, end) >= 0 or body.find(b"\n\r\n", start, end) >= 0):
        return None  # a blank line: the careful reader skips it, a one-column reader would keep it as a cell
    return newlines + (body[end - 1] != 10)


def _read_csv(data: bytes, file_name: str) -> ReadResult:
    """Read delimited text; the parsing itself is pyarrow's (no row loop here)."""
    layout = _csv_layout(data, file_name)
    return layout if isinstance(layout, ReadResult) else _parse_csv(layout, file_name)


def _csv_layout(data: bytes, file_name: str, trust_tail: bool = False) -> CsvLayout | ReadResult:
    """Decode, check and locate a delimited file's header and records (or read it whole if aligned).

    ``trust_tail``: a file whose first megabyte is UTF-8 is taken as UTF-8 without validating the rest (for
    :func:`plain_csv`, whose reader validates it while reading and refuses the file otherwise).
    """
    body, start, encoding, warnings = _utf8_body(data, file_name, trust_tail)
    if _NON_SPACE.search(body, start) is None:
        raise InputFileError(
            f"The file '{file_name}' is empty: export it again from your CRM, with a "
            "header row and at least one record."
        )
    # errors="ignore" only drops a character cut at the end of the slice.
    head = body[start : start + _HEAD_BYTES].decode("utf-8", errors="ignore")
    _check_text_table(head, file_name)
    if file_name.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        warnings.append(f"'{file_name}' is named like a workbook but holds text: read as CSV.")

    delimiter = sniff_delimiter(head)
    raw_headers, header_chars, header_lines = _read_header(head, delimiter, file_name)
    if len(raw_headers) == 1:
        titled = _after_title(head, file_name)
        if titled is not None:
            delimiter, raw_headers, header_chars, header_lines, titles = titled
            warnings.append(f"{_count(titles, 'title line')} above the header skipped")
    if len(raw_headers) == 1:
        truncated = len(body) - start > len(head.encode("utf-8"))
        layout = _aligned_layout(head, truncated)
        spaced = _spaced_layout(head, truncated)
        if spaced is not None and (layout is None or len(layout[1]) < spaced[1]):
            layout = (spaced[0], [])
        if layout is not None:
            return _read_aligned(body, start, layout, file_name, encoding, warnings)
        if _looks_aligned(head):
            raise InputFileError(
                f"The file '{file_name}' looks like a text report aligned with spaces, but its columns "
                "could not be found (they do not line up on every line): export it as CSV from your "
                "CRM or spreadsheet, then upload that file."
            )
    if len(raw_headers) > MAX_COLUMNS:
        raise _columns_error(f"The file '{file_name}'", len(raw_headers))
    columns, header_warnings = _fix_headers(raw_headers)
    warnings += header_warnings
    content_start = start + len(head[:header_chars].encode("utf-8"))

    end, footer_lines = _find_footer(body, content_start, len(body), delimiter, len(columns))
    if footer_lines:
        warnings.append(f"footer of {_count(footer_lines, 'line')} after a blank line ignored")
    if _NON_SPACE.search(body, content_start, end) is None:
        raise _no_records(file_name)
    return CsvLayout(body=body, start=content_start, end=end, columns=columns, raw_headers=raw_headers,
                     encoding=encoding, delimiter=delimiter, header_lines=header_lines,
                     newline=b"\n" if "\n" in head else b"\r", warnings=warnings)


def _parse_csv(layout: CsvLayout, file_name: str) -> ReadResult:
    """Parse the located records with pyarrow; rows with another number of fields are set aside."""
    body, content_start, end, columns = layout.body, layout.start, layout.end, layout.columns
    delimiter, header_lines, warnings = layout.delimiter, layout.header_lines, layout.warnings
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
    # Arrow's errors (invalid input, memory) must not reach the user as tracebacks.
    except pa.ArrowException as exc:
        raise InputFileError(
            f"The file '{file_name}' could not be read as CSV ({exc}). A quote opened and "
            "never closed, or a record over 4 MB, causes this: fix the file or export it again."
        ) from exc
    _check_cell_length(table, body, content_start, header_lines + 1, file_name)

    lines = _locate_lines(body, content_start, end, header_lines + 1, layout.newline, invalid)
    rejected = _rejected_frame(
        lines,
        [f"expected {expected} fields, found {actual}" for _, expected, actual, _ in invalid],
        [text for *_, text in invalid],
    )
    _check_records(table.num_rows, rejected, len(columns), file_name, warnings)
    return ReadResult(
        table=table,
        columns=columns,
        original_headers=layout.raw_headers,
        file_format="csv",
        encoding=layout.encoding,
        delimiter=delimiter,
        sheet=None,
        sheets=[],
        rejected=rejected,
        warnings=warnings,
    )


def _columns_error(where: str, count: int) -> InputFileError:
    """The error for a table wider than :data:`MAX_COLUMNS`."""
    return InputFileError(
        f"{where} has {count:,} columns; Segment Studio imports at most {MAX_COLUMNS:,}: export only the "
        "columns you segment on (contact details, consent, dates, amounts), or split the columns over "
        "several files that share an id column."
    )


def _cell_error(file_name: str, line: int) -> InputFileError:
    """The error for a cell longer than :data:`MAX_CELL_CHARS`."""
    return InputFileError(
        f"The file '{file_name}' has a cell of more than {MAX_CELL_CHARS:,} characters on line {line}: "
        "no CRM field is that long. A quote that is never closed, or a file that is not a table, "
        "causes this: check the file around that line, or export it again."
    )


def _check_cell_length(table: pa.Table, body: bytes, start: int, first_line: int, file_name: str) -> None:
    """Refuse a table with a cell over :data:`MAX_CELL_CHARS`, naming its line (vectorised per column)."""
    for column in table.columns:
        # Byte lengths come from the offsets; characters are counted only past the limit in bytes.
        if (pc.max(pc.binary_length(column)).as_py() or 0) <= MAX_CELL_CHARS:
            continue
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > MAX_CELL_CHARS:
            cell = column[pc.index(lengths, longest).as_py()].as_py()
            found = body.find(cell.encode("utf-8"), start)
            line = first_line + body.count(b"\n", start, found) if found >= 0 else first_line
            raise _cell_error(file_name, line)


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


def _read_header(head: str, delimiter: str, file_name: str) -> tuple[list[str], int, int]:
    """Return the first record's fields, its end (in characters) and line count.

    The csv module refuses fields over :data:`MAX_CELL_CHARS` (its own
    default limit): that becomes the message naming the line.
    """
    consumed = [0, 0]  # characters, physical lines

    def counted_lines() -> Iterator[str]:
        # csv.reader pulls one line at a time, so after the first record
        # these counts stop exactly at its end, blank lines before it included.
        for line in io.StringIO(head, newline=""):
            consumed[0] += len(line)
            consumed[1] += 1
            yield line

    try:
        header = next(record for record in csv.reader(counted_lines(), delimiter=delimiter) if record)
    except csv.Error as exc:
        raise _cell_error(file_name, consumed[1]) from exc
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


# --- text aligned with spaces --------------------------------------------------


def _after_title(head: str, file_name: str) -> tuple[str, list[str], int, int, int] | None:
    """A delimited header under up to :data:`_TITLE_LINES` title lines ("Titre du rapport").

    Returns (delimiter, header fields, end of the header in characters, its
    physical lines from the start, title lines), or None when no later line
    is a header that nearly all the following records match.
    """
    offset, lines, titles = 0, 0, 0
    for _ in range(_TITLE_LINES):
        end = head.find("\n", offset)
        if end < 0:
            return None
        titles += bool(head[offset:end].strip())
        offset, lines = end + 1, lines + 1
        rest = head[offset:]
        if not rest.strip():
            return None
        delimiter = sniff_delimiter(rest)
        fields, chars, header_lines = _read_header(rest, delimiter, file_name)
        records = [r for r in islice(csv.reader(io.StringIO(rest[:_SNIFF_CHARS], newline=""), delimiter=delimiter),
                                     _SNIFF_RECORDS) if r][1:-1]
        matching = sum(len(record) == len(fields) for record in records)
        if len(fields) >= 2 and records and matching >= _ALIGNED_SHARE * len(records):
            return delimiter, fields, offset + chars, lines + header_lines, titles
    return None


def _spaced_layout(head: str, truncated: bool) -> tuple[int, int] | None:
    """Fields separated by runs of spaces, not aligned (``customer_id  date number_of_cds``).

    Returns the header's 0-based physical line and the field count, when the
    header (after up to :data:`_TITLE_LINES` title lines) has a run of 2+
    spaces and nearly all the first lines split into as many words; else None.
    """
    lines = head.split("\n")
    if truncated:
        lines.pop()
    numbered = [(index, line) for index, line in enumerate(lines[:_SNIFF_RECORDS]) if line.strip()]
    for skip in range(min(_TITLE_LINES + 1, len(numbered) - 2)):
        if _PADDING.search(numbered[skip][1]) is None:
            continue  # single spaces in a header are words of one name ("full name")
        sample = [line.split() for _, line in numbered[skip:]]
        width = len(sample[0])
        allowed = int(len(sample) * (1 - _ALIGNED_SHARE)) if len(sample) >= 20 else int(len(sample) >= 5)
        if width >= 2 and sum(len(fields) == width for fields in sample) >= len(sample) - allowed:
            return numbered[skip][0], width
    return None


def _aligned_layout(head: str, truncated: bool) -> tuple[int, list[tuple[int, int | None]]] | None:
    """Find the columns of text aligned with spaces (a report printed to a file).

    Up to :data:`_TITLE_LINES` title lines may come before the header. The
    columns are separated by runs of 2+ positions that are spaces on the
    header and on nearly all (:data:`_ALIGNED_SHARE`; all but one from 5
    lines, none below) of the first lines.

    Returns
    -------
    tuple or None
        The header's 0-based physical line and the columns' ``(start,
        stop)`` character positions (the last one's stop None); None when
        no such layout is found.
    """
    lines = head.split("\n")
    if truncated:
        lines.pop()  # probably cut in the middle
    numbered = [(index, line.rstrip()) for index, line in enumerate(lines[:_SNIFF_RECORDS]) if line.strip()]
    found = []
    # Lines with a value running into the next column are allowed when that finds more columns.
    for strict in (True, False):
        for skip in range(min(_TITLE_LINES + 1, len(numbered) - 2)):  # a header and 2 records at least
            spans = _column_spans([line for _, line in numbered[skip:]], strict)
            if spans is not None:
                found.append((numbered[skip][0], spans))
                break
    return max(found, key=lambda layout: len(layout[1]), default=None)


def _column_spans(sample: list[str], strict: bool) -> list[tuple[int, int | None]] | None:
    """Columns shared by the sample's lines (the first is the header), or None.

    Unless strict, a few lines may have text in a gap (they are set aside when read).
    """
    width = max(map(len, sample))
    spaces = np.array([list(line.ljust(width)) for line in sample]) == " "  # bounded: the first lines
    allowed = 0
    if not strict:
        allowed = int(len(sample) * (1 - _ALIGNED_SHARE)) if len(sample) >= 20 else int(len(sample) >= 5)
    gap = (spaces.sum(axis=0) >= len(sample) - allowed) & spaces[0]
    filled = np.flatnonzero(~gap)
    if not filled.size:
        return None
    first, last = int(filled[0]), int(filled[-1])
    runs, position = [], first
    while position <= last:  # over the line's characters, not its rows
        if not gap[position]:
            position += 1
            continue
        stop = position
        while gap[stop]:
            stop += 1
        run = _narrow_gap(~spaces, position, stop, allowed)
        if run is not None:
            runs.append(run)
        position = stop
    if not runs:
        return None
    spans = list(zip([first] + [stop for _, stop in runs], [start for start, _ in runs] + [None], strict=True))
    if any(not sample[0][start:stop].strip() for start, stop in spans):
        return None  # a column without a header: cannot decide
    return spans


def _narrow_gap(text: np.ndarray, start: int, stop: int, allowed: int) -> tuple[int, int] | None:
    """Narrow a gap until at most ``allowed`` lines have text in it; None if under 2 characters.

    Each position of a lenient gap may have its own exception line; the lines
    with text anywhere in the gap count together. The side whose removal
    clears more lines goes first (right-aligned numbers wider than their
    header reach left; long values reach right).
    """
    while stop - start >= 2:
        if text[:, start:stop].any(axis=1).sum() <= allowed:
            return start, stop
        right = text[:, start : stop - 1].any(axis=1).sum()
        left = text[:, start + 1 : stop].any(axis=1).sum()
        start, stop = (start, stop - 1) if right <= left else (start + 1, stop)
    return None


def _looks_aligned(head: str) -> bool:
    """Whether most of the first lines, the header among them, hold runs of 2+ spaces between words.

    The header is the first line, or the first after a title of up to
    :data:`_TITLE_LINES` lines followed by a blank line.
    """
    raw = [line.strip() for line in head.split("\n")[:_SNIFF_RECORDS]]
    title = raw.index("") if "" in raw[1 : _TITLE_LINES + 1] else 0
    lines = [line for line in raw[title:] if line]
    padded = [_PADDING.search(line) is not None for line in lines]
    return len(lines) >= 2 and padded[0] and sum(padded) >= len(lines) / 2


def _read_aligned(
    body: bytes,
    start: int,
    layout: tuple[int, list[tuple[int, int | None]]],
    file_name: str,
    encoding: str,
    warnings: list[str],
) -> ReadResult:
    """Read text aligned with spaces as fixed-width columns, each cell trimmed (vectorised).

    A line with text in the space between columns (a value running into its
    neighbour) is set aside rather than cut.
    """
    header_index, spans = layout
    position = start
    for _ in range(header_index):  # title and blank lines above the header
        position = body.index(b"\n", position) + 1
    header_end = body.find(b"\n", position)
    content_start = len(body) if header_end < 0 else header_end + 1
    header = body[position:content_start].decode("utf-8").rstrip("\r\n")
    raw_headers = [header[begin:stop].strip() for begin, stop in spans] if spans else header.split()
    if len(raw_headers) > MAX_COLUMNS:
        raise _columns_error(f"The file '{file_name}'", len(raw_headers))
    columns, header_warnings = _fix_headers(raw_headers)
    first_line = header_index + 2
    control = body.find(b"\x1f", content_start)
    if control >= 0:
        line = first_line + body.count(b"\n", content_start, control)
        raise InputFileError(
            f"The file '{file_name}' holds a control character (unit separator) on line {line}: "
            "it is not a text table; "
            "export it again as CSV."
        )
    try:
        text = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(body)[content_start:]),
            read_options=pacsv.ReadOptions(column_names=["line"], use_threads=False, block_size=_BLOCK_SIZE),
            # \x1f is absent (checked): each physical line is one field.
            parse_options=pacsv.ParseOptions(delimiter="\x1f", quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False),
        ).column("line")
    except pa.ArrowException as exc:
        raise InputFileError(
            f"The file '{file_name}' could not be read as text aligned with spaces ({exc}): a line over "
            "4 MB causes this; export it again as CSV."
        ) from exc
    if len(text) == 0 or not pc.any(pc.not_equal(pc.utf8_trim_whitespace(text), "")).as_py():
        raise _no_records(file_name)
    lengths = pc.utf8_length(text)
    if pc.max(lengths).as_py() > MAX_CELL_CHARS:
        raise _cell_error(file_name, first_line + pc.index(lengths, pc.max(lengths)).as_py())
    trimmed = pc.utf8_trim_whitespace(text)
    blank = pc.equal(trimmed, "")
    if spans:
        between = [(0, spans[0][0])] + [(stop, begin) for (_, stop), (begin, _) in itertools.pairwise(spans)]
        overflow = functools.reduce(
            pc.or_,
            (pc.not_equal(pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(text, a, b)), "") for a, b in between),
        )
        why = "text runs into the space between two columns"
        summary = f"their {why}"
    else:  # fields separated by runs of spaces
        fields = pc.split_pattern_regex(trimmed, r"\s+")
        overflow = pc.not_equal(pc.list_value_length(fields), len(columns))
        why = f"expected {len(columns)} fields separated by spaces"
        summary = f"their number of fields separated by spaces differs from the header's {len(columns)}"
    set_aside = pc.and_(overflow, pc.invert(blank))
    where = pc.indices_nonzero(set_aside).to_pylist()
    rejected = _rejected_frame(
        [first_line + index for index in where],
        [why] * len(where),
        [text[index].as_py() for index in where],  # rows set aside only
    )
    keep = pc.invert(pc.or_(blank, overflow))
    cells = []
    if spans:
        kept = text.filter(keep)
        for begin, stop in spans:
            cell = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(kept, begin, stop))
            cells.append(pc.if_else(pc.equal(cell, ""), pa.scalar(None, pa.string()), cell))
        how = "columns aligned with spaces (starting at characters " + ", ".join(
            str(begin + 1) for begin, _ in spans) + ")"
    else:
        kept = fields.filter(keep)
        cells = [pc.list_element(kept, index) for index in range(len(columns))]
        how = "fields separated by spaces"
    table = pa.Table.from_arrays(cells, names=columns)
    warnings = [*warnings, f"read as {len(columns)} {how}: check the columns in the preview", *header_warnings]
    titles = len([line for line in body[start:position].split(b"\n") if line.strip()])
    if titles:
        warnings.append(f"{_count(titles, 'title line')} above the header skipped")
    _check_records(table.num_rows, rejected, len(columns), file_name, warnings, summary)
    return ReadResult(
        table=table,
        columns=columns,
        original_headers=raw_headers,
        file_format="csv",
        encoding=encoding,
        delimiter=None,
        sheet=None,
        sheets=[],
        rejected=rejected,
        warnings=warnings,
    )


# --- workbooks (xlsx, xlsm, xls, ods) -------------------------------------------


def _open_workbook(
    data: bytes, file_name: str, file_format: str
) -> tuple[python_calamine.CalamineWorkbook, dict[str, tuple[int, list[str]]]]:
    """Open a workbook with calamine, after checking a zip's uncompressed size.

    Also returns, for xlsx, the formula cells without saved value of each
    worksheet part (see :func:`_check_archive`).
    """
    formulas = _check_archive(data, file_name) if file_format in ("xlsx", "ods") else {}
    try:
        return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)), formulas
    except python_calamine.PasswordError as exc:
        raise _password_error(file_name) from exc
    # calamine raises its own errors, and OSError or ValueError, for damaged files.
    except Exception as exc:
        raise InputFileError(
            f"The file '{file_name}' looks like a spreadsheet workbook ({file_format}) but could not be "
            "opened (it may be damaged or cut short): open it in your spreadsheet, save it again as "
            ".xlsx or CSV and upload that copy."
        ) from exc


def _check_archive(data: bytes, file_name: str) -> dict[str, tuple[int, list[str]]]:
    """Refuse a workbook whose parts inflate beyond :data:`MAX_WORKBOOK_BYTES`.

    The zip directory's sizes are checked first; every part is then inflated
    in bounded chunks, since a forged directory can understate them
    (zipfile stops at the stated size and fails on the checksum). The same
    pass scans xlsx worksheets for formulas without saved value.

    Returns
    -------
    dict
        Worksheet part (``xl/worksheets/sheet1.xml``) -> (count, first
        cell references) of its formula cells without saved value.
    """
    formulas = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        stated = sum(info.file_size for info in archive.infolist())
        if stated > MAX_WORKBOOK_BYTES:
            raise _inflated_error(file_name, len(data), stated)
        try:
            for info in archive.infolist():
                with archive.open(info) as part:
                    if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                        formulas[info.filename] = _scan_formulas(part)
                    while part.read(_INFLATE_CHUNK):
                        pass
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputFileError(
                f"The file '{file_name}' looks like a spreadsheet workbook but is damaged (a part "
                "does not match its stated size or checksum): open it in your spreadsheet, save it "
                "again as .xlsx or CSV and upload that copy."
            ) from exc
    return formulas


def _inflated_error(file_name: str, size: int, inflated: int) -> InputFileError:
    """The error for a workbook that would inflate beyond the limit."""
    return InputFileError(
        f"The workbook '{file_name}' is {_format_size(size)} but its contents inflate to "
        f"{_format_size(inflated)}, over the limit of {_format_size(MAX_WORKBOOK_BYTES)}: export the "
        "data as CSV (any size up to the upload limit is read), or split the workbook into smaller ones."
    )


def _password_error(file_name: str) -> InputFileError:
    """The error for an encrypted workbook."""
    return InputFileError(
        f"The file '{file_name}' is a password-protected workbook: open it in your spreadsheet, remove "
        "the password (in Excel: File > Info > Protect Workbook), save it as .xlsx or CSV and upload that copy."
    )


def _read_workbook(data: bytes, file_name: str, file_format: str, sheet: str | None) -> ReadResult:
    """Read one sheet: the first non-empty row is the header."""
    workbook, formulas = _open_workbook(data, file_name, file_format)
    try:
        sheets = list(workbook.sheet_names)
        if sheet is not None and sheet not in sheets:
            raise InputFileError(
                f"The workbook '{file_name}' has no sheet named '{sheet}': choose one of "
                + ", ".join(f"'{name}'" for name in sheets)
                + "."
            )
        for chosen in [sheet] if sheet is not None else sheets:
            columns = _sheet_columns(workbook, chosen, file_name)
            if columns is not None:
                break
        else:
            where = f"The sheet '{sheet}' of '{file_name}'" if sheet else f"The workbook '{file_name}'"
            raise InputFileError(
                f"{where} has no data: choose a sheet with a header row and records, or export the data again."
            )
    finally:
        workbook.close()
    numbers, cells = columns
    warnings: list[str] = []
    if file_format == "xlsx":
        warnings += _formula_warnings(data, chosen, formulas)
    return _sheet_result(numbers, cells, file_name, file_format, chosen, sheets, warnings)


def _sheet_columns(
    workbook: python_calamine.CalamineWorkbook, name: str, file_name: str
) -> tuple[pa.Array, list[pa.Array]] | None:
    """The sheet's non-empty rows as (row numbers, one text array per column); None if empty."""
    try:
        worksheet = workbook.get_sheet_by_name(name)
        if worksheet.start is None:
            return None  # an empty or chart sheet
        if worksheet.width > MAX_COLUMNS:
            raise _columns_error(f"The sheet '{name}' of '{file_name}'", worksheet.width)
        rows = worksheet.to_python(skip_empty_area=True)
    except python_calamine.PasswordError as exc:
        raise _password_error(file_name) from exc
    except InputFileError:
        raise
    except Exception as exc:  # damaged sheet XML surfaces only while reading
        raise InputFileError(
            f"The sheet '{name}' of '{file_name}' could not be read (the workbook may be damaged): "
            "open it in your spreadsheet, save it again as .xlsx or CSV and upload that copy."
        ) from exc
    if not rows:
        return None
    arrays = [_column_text(column) for column in zip(*rows, strict=True)]
    del rows
    filled = functools.reduce(pc.or_, (pc.is_valid(array) for array in arrays))
    kept = pc.indices_nonzero(filled)
    if len(kept) == 0:
        return None
    numbers = pc.add(kept, worksheet.start[0] + 1)
    # Drop leading columns empty everywhere: tables often start at B2.
    arrays = [array.take(kept) for array in arrays]
    while arrays and arrays[0].null_count == len(arrays[0]):
        arrays.pop(0)
    return numbers, arrays


def _column_text(column: tuple[object, ...]) -> pa.Array:
    """One sheet column as text (see :func:`_cell_text`), vectorised per cell type.

    calamine gives empty cells as ``""``; they become null.
    """
    kinds = set(map(type, column))
    if kinds == {str}:
        array = pa.array(column, pa.string())
    else:
        values = np.empty(len(column), dtype=object)
        values[:] = column
        types = np.fromiter(map(type, column), dtype=object, count=len(column))
        texts = np.empty(len(column), dtype=object)
        for kind in kinds:
            mask = types == kind
            texts[mask] = _texts_of(kind, values[mask])
        array = pa.array(texts, pa.string())
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _texts_of(kind: type, values: np.ndarray) -> np.ndarray | list[str | None]:
    """Texts of cells that all have the type ``kind`` (an object array)."""
    if kind is str:
        return values
    if kind is float:
        return _float_texts(values.astype(np.float64))
    if kind is dt.date:
        return pa.array(values.tolist(), pa.date32()).cast(pa.string()).to_numpy(zero_copy_only=False)
    if kind is dt.datetime:
        stamps = pa.array(values.tolist(), pa.timestamp("us"))
        seconds = pc.cast(stamps, pa.timestamp("s"), safe=False)
        midnight = pc.equal(pc.cast(stamps, pa.time64("us")), pa.scalar(dt.time(0), pa.time64("us")))
        texts = pc.if_else(midnight, pc.strftime(seconds, "%Y-%m-%d"), pc.strftime(seconds, "%Y-%m-%d %H:%M:%S"))
        return texts.to_numpy(zero_copy_only=False)
    return [_cell_text(value) for value in values]  # booleans, integers, times, durations: rare in sheets


def _float_texts(numbers: np.ndarray) -> np.ndarray:
    """Floats as text: whole numbers without ``.0``, others with their shortest digits, never scientific."""
    texts = np.empty(len(numbers), dtype=object)
    whole = np.isfinite(numbers) & (numbers == np.trunc(numbers)) & (np.abs(numbers) < 2.0**63)
    texts[whole] = numbers[whole].astype(np.int64).astype(str)
    rest = np.flatnonzero(~whole)
    texts[rest] = pa.array(numbers[rest]).cast(pa.string()).to_numpy(zero_copy_only=False)
    for index in rest[np.char.find(texts[rest].astype(str), "e") >= 0]:  # 1e-05, 1e+20: few
        texts[index] = _cell_text(float(numbers[index]))
    return texts


def _sheet_result(
    numbers: pa.Array,
    cells: list[pa.Array],
    file_name: str,
    file_format: str,
    sheet: str,
    sheets: list[str],
    warnings: list[str],
) -> ReadResult:
    """Header, kept records and rows set aside (longer than the header), vectorised."""
    header = [array[0].as_py() for array in cells]
    while header and header[-1] is None:
        header.pop()
    raw_headers = [cell or "" for cell in header]
    columns, header_warnings = _fix_headers(raw_headers)
    warnings = header_warnings + warnings
    width = len(columns)
    body = [array[1:] for array in cells]
    numbers = numbers[1:]
    extra = body[width:]
    long = functools.reduce(pc.or_, (pc.is_valid(array) for array in extra)) if extra else None
    lines, reasons, raws = [], [], []
    if long is not None and pc.any(long).as_py():
        where = pc.indices_nonzero(long)
        for position in where.to_pylist():  # rows set aside only
            row = [array[position].as_py() for array in body]
            row = _rstrip_none(row)
            lines.append(numbers[position].as_py())
            reasons.append(f"expected {width} fields, found {len(row)}")
            raws.append("\t".join(cell or "" for cell in row))
        keep = pc.invert(long)
        body = [array.filter(keep) for array in body[:width]]
    else:
        body = body[:width]
    rejected = _rejected_frame(lines, reasons, raws)
    kept = len(body[0]) if body else 0
    _check_records(kept, rejected, width, file_name, warnings)
    table = pa.Table.from_arrays(body, names=columns)
    return ReadResult(
        table=table,
        columns=columns,
        original_headers=raw_headers,
        file_format=file_format,
        encoding=None,
        delimiter=None,
        sheet=sheet,
        sheets=sheets,
        rejected=rejected,
        warnings=warnings,
    )


def _cell_text(value: object) -> str | None:
    """Text of a typed cell value, as the user sees it in the sheet; None if empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):  # before int: bool is an int
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))  # 123456789012, never 1.23457E+11
        # Shortest round-trip digits, never scientific notation.
        return np.format_float_positional(value, trim="-")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):  # a duration, shown as Excel's [h]:mm:ss
        hours, rest = divmod(round(value.total_seconds()), 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    return str(value)


def _rstrip_none(cells: list[str | None]) -> list[str | None]:
    """Cells without the empty ones at the end."""
    end = len(cells)
    while end and cells[end - 1] is None:
        end -= 1
    return cells[:end]


def _formula_warnings(data: bytes, sheet: str, formulas: dict[str, tuple[int, list[str]]]) -> list[str]:
    """Warn about the chosen xlsx sheet's formula cells saved without their value (read as empty)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        count, refs = formulas.get(_sheet_part(archive, sheet) or "", (0, []))
    if not count:
        return []
    shown = ", ".join(refs) + (", ..." if count > len(refs) else "")
    return [
        f"{_count(count, 'formula cell')} of sheet '{sheet}' {'has' if count == 1 else 'have'} no saved "
        f"value ({shown}) and {'was' if count == 1 else 'were'} read as empty: open the file in Excel, "
        "let it calculate, save, and upload again"
    ]


def _scan_formulas(stream: io.BufferedIOBase) -> tuple[int, list[str]]:
    """Count an xlsx sheet's formula cells without saved value, reading its XML in bounded chunks.

    calamine reads such cells as empty. Chunks are cut after a ``</row>``
    (cells never straddle rows); ``<c>`` elements holding an ``<f>`` and no
    value are counted. A ``t="str"`` cell with an empty ``<v>`` is a formula
    whose saved result is the empty text, and is not counted.
    """
    count, refs, carry = 0, [], b""
    while chunk := stream.read(_INFLATE_CHUNK):
        buffer = carry + chunk
        cut = buffer.rfind(b"</row>") + len(b"</row>") if b"</row>" in buffer else 0
        found, names = _unsaved_formulas(buffer[:cut])
        count, refs = count + found, refs + names[: _SHOWN - len(refs)]
        carry = buffer[cut:]
    found, names = _unsaved_formulas(carry)
    return count + found, refs + names[: _SHOWN - len(refs)]


def _unsaved_formulas(xml: bytes) -> tuple[int, list[str]]:
    """Count the formula cells without a saved value in a run of whole rows; name the first ones."""
    if (b"<f" not in xml and b":f" not in xml) or _FORMULA.search(xml) is None:  # the fast test first
        return 0, []
    count, refs = 0, []
    for cell in _CELL.finditer(xml):  # only chunks holding formulas get here
        attributes, content = cell.group(1), cell.group(2) or b""
        if _FORMULA.search(content) is None:
            continue
        value = _VALUE.search(content)
        if (value and (value.group(1) or _STRING_TYPE.search(attributes))) or b"<is>" in content:
            continue
        count += 1
        ref = _REF.search(attributes)
        if ref and len(refs) < _SHOWN:
            refs.append(ref.group(1).decode("ascii"))
    return count, refs


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The zip path of the named sheet's XML, from the workbook and its relationships."""
    try:
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return None
    targets = {element.get("Id"): element.get("Target", "") for element in relations.iter() if element.get("Id")}
    for element in workbook.iter():
        if element.tag.rsplit("}", 1)[-1] == "sheet" and element.get("name") == sheet:
            relation = next((v for k, v in element.attrib.items() if k.rsplit("}", 1)[-1] == "id"), None)
            target = targets.get(relation, "")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return path if path in archive.namelist() else None
    return None


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


def _check_records(
    kept: int, rejected: pd.DataFrame, width: int, file_name: str, warnings: list[str], why: str | None = None
) -> None:
    """Refuse a file with no record kept; note the rows set aside (``why``: the default is the field count)."""
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
        why = why or f"their number of fields differs from the header's {width}"
        warnings.append(f"{_count(len(rejected), 'row')} set aside, {why} (lines {shown}{more})")


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

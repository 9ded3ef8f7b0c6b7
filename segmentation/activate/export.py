"""Safe CSV and XLSX exports for people who open them in Excel.

A text cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, CR or
LF) is a formula to Excel and LibreOffice: a customer named
``=HYPERLINK("http://evil", "click")`` in a CRM export would become a live
link when the marketer opens the file. Every export therefore goes through
:func:`neutralise_formulas` (OWASP's rule: prefix such cells with ``'``),
and the XLSX writer also writes every string as an inline *text* cell and
never writes a formula element, so no cell can become a formula even if the
prefix were skipped.

Choice: the rule applies to *text* values only, and spares a text that is
only a number or a phone number: an optional leading ``+`` or ``-``, then
digits and the usual separators (space, ``.``, ``,``, ``(``, ``)``, ``/``,
``-``), such as ``+33612345678``, ``-12,5`` or ``+1 (555) 123-4567``.
Such a cell cannot name a function, a reference or a DDE link (those need
letters, ``!`` or ``|``), so at worst a spreadsheet shows it as a number;
the ad platforms and e-mail tools need phones as bare E.164. Anything else
that starts with a formula character (``=1+1``, ``@cmd``, ``+SUM(1,2)``,
``-2+3``, leading white space) gets the prefix.

List cells (every e-mail or phone of a golden record) are written as plain
text joined by ``; `` (:func:`flatten_lists`), never as a Python repr.

The XLSX file is written directly as SpreadsheetML, column by column with
pandas string operations: openpyxl's write-only mode spends about 17 µs per
cell in its XML serialiser here, i.e. 35 s for 100,000 rows of 18 columns.

Pure: frames in, bytes or files out; nothing here knows the store (the activate stage's SQL runs in
:mod:`segmentation.activate.repository`).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from .. import i18n
from ..core.errors import InputFileError, SegmentStudioError

# Leading characters that make a spreadsheet read a cell as a formula, also
# after leading white space, with the full-width forms that Excel folds to
# ASCII (U+FF1D, U+FF0B, U+FF0D, U+FF20).
_FORMULA_START = re.compile(r"^(?:[\t\r\n]|\s*[=+\-@\uff1d\uff0b\uff0d\uff20])")
# A number or a phone number typed as text: a sign, then digits and the usual separators only.
_NUMBER_OR_PHONE = re.compile(r"^[+\-]?\(?\d[\d .,()/\-]*$")
LIST_SEPARATOR = "; "

EXPORT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}

#: The headers the app names itself in a general export (English msgids, translated by :func:`localise`); a
#: destination preset keeps the headers its tool requires, and the user's own columns keep their names.
APP_HEADERS = ("segment", "segment_name", "holdout", "customer_id")
_ALL_SUFFIX = " (all)"  # "<e-mail column> (all)": every e-mail of a golden record


# --------------------------------------------------------------------------
# The language of a general export
# --------------------------------------------------------------------------

def localise(frame: pd.DataFrame, language: str | None, own_columns: set[str] | frozenset[str] = frozenset()
             ) -> pd.DataFrame:
    """``frame`` with the headers the app names itself and its yes/no values in ``language``.

    ``segment``, ``segment_name``, ``holdout``, ``customer_id`` and the ``(all)`` of ``"<column> (all)"``
    are translated (``nom du segment``, ``groupe témoin``...); a column named in ``own_columns`` (the user's
    own, from the file) keeps its name. Boolean columns become the language's words (``oui``/``non``,
    ``yes``/``no``), empty where unknown. ``language=None`` (the CLI, the pipeline) returns ``frame`` as it is.
    """
    if language is None:
        return frame
    out = frame.copy(deep=False)
    words = {True: i18n.yes_no(True, language), False: i18n.yes_no(False, language)}
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if pd.api.types.is_bool_dtype(column) or (
                column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) == "boolean"):
            out.isetitem(position, column.map(words).astype(object).where(column.notna(), None))
    renamed = {}
    for name in out.columns:
        if name in own_columns:
            continue
        if name in APP_HEADERS:
            renamed[name] = i18n.translate(name, language)
        elif isinstance(name, str) and name.endswith(_ALL_SUFFIX):
            renamed[name] = f"{name[:-len(_ALL_SUFFIX)]} {i18n.translate('(all)', language)}"
    return out.rename(columns=renamed) if renamed else out


# --------------------------------------------------------------------------
# Neutralisation
# --------------------------------------------------------------------------

def _is_text_dtype(dtype: object) -> bool:
    """Whether a column can hold str values (object or a pandas string dtype)."""
    return pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)


def _on_strings(values: pd.Series, transform) -> pd.Series:
    """Apply ``transform`` (a function of the ``.str`` accessor) to the str values only.

    Other values of an object column (numbers, dates, nulls) are kept as
    they are: the ``.str`` methods give NaN for them.
    """
    try:
        changed = transform(values.str)
    except AttributeError:  # an object column without any str value
        return values
    return values.where(changed.isna(), changed)


def _dangerous(values: pd.Series) -> pd.Series:
    """Boolean mask of the str values that a spreadsheet would read as a formula."""
    try:
        hit = values.str.contains(_FORMULA_START, na=False)
    except AttributeError:  # an object column without any str value
        return pd.Series(False, index=values.index)
    # On object columns the str accessor yields NaN for non-str values.
    hit = hit.fillna(False).astype(bool)
    if hit.any():  # numbers and phones are spared (checked on the few cells that start like a formula)
        hit[hit] = ~values[hit].str.fullmatch(_NUMBER_OR_PHONE, na=False).astype(bool)
    return hit


def _neutralise_series(values: pd.Series) -> pd.Series:
    mask = _dangerous(values)
    if not mask.any():
        return values
    values = values.copy()
    values[mask] = "'" + values[mask].astype(str)
    return values


def _is_list_column(values: pd.Series) -> bool:
    """Whether an object column holds lists (its first non-null value is a list, tuple or array)."""
    present = values.dropna()
    return not present.empty and isinstance(present.iloc[0], list | tuple | np.ndarray)


def flatten_lists(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every list column (lists, tuples or arrays) is plain text joined by ``; ``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export. It is not modified.

    Returns
    -------
    pandas.DataFrame
        The same table; a list cell ``["a@x.fr", "b@y.com"]`` reads ``a@x.fr; b@y.com``, an empty list is an
        empty text, a null stays null.
    """
    result = frame.copy()
    for position in range(result.shape[1]):
        column = result.iloc[:, position]
        if pd.api.types.is_object_dtype(column.dtype) and _is_list_column(column):
            items = column.map(lambda v: [str(x) for x in v] if isinstance(v, list | tuple | np.ndarray) else v)
            result.isetitem(position, items.str.join(LIST_SEPARATOR).astype(object))
    return result


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix with ``'`` every text cell that a spreadsheet would run as a formula.

    A cell is dangerous when it is a ``str`` that starts with ``=``, ``+``,
    ``-``, ``@``, a tab, a CR or a LF, or with one of ``= + - @`` (or their
    full-width forms ``＝ ＋ － ＠``) after leading white space, unless it is
    only a sign, digits and the separators `` .,()/-`` (a number or a phone
    number such as ``+33612345678`` or ``-12``, kept bare).

    Only str values are touched: numeric, boolean and date columns are
    returned unchanged, so numbers stay numbers. Column names are cells
    of the header row, so dangerous names are prefixed too.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export. It is not modified.

    Returns
    -------
    pandas.DataFrame
        A copy in which dangerous cells and column names start with ``'``.
    """
    result = frame.copy()
    for position in range(result.shape[1]):
        column = result.iloc[:, position]
        if _is_text_dtype(column.dtype):
            result.isetitem(position, _neutralise_series(column))
        elif (isinstance(column.dtype, pd.CategoricalDtype)
              and _dangerous(column.cat.categories.to_series()).any()):
            # Renaming categories could merge two of them; plain text cannot.
            result.isetitem(position, _neutralise_series(column.astype(object)))
    names = pd.Series(list(result.columns), dtype=object)
    if _dangerous(names).any():
        result.columns = pd.Index(_neutralise_series(names).tolist(), dtype=object)
    return result


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------

def to_csv_bytes(frame: pd.DataFrame, excel_french: bool = False, separator: str | None = None) -> bytes:
    """Encode a table as CSV with formula cells neutralised.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export; its index is not written.
    excel_french : bool
        ``False`` (default): UTF-8 without BOM, ``,`` delimiter, ``.``
        decimal mark. ``True``: what French Excel opens with a double click,
        i.e. UTF-8 *with* BOM, ``;`` delimiter and a decimal comma for floats.
    separator : str, optional
        The delimiter, when a destination wants another one (Brevo: ``;`` in UTF-8 without BOM).

    Returns
    -------
    bytes
        The file content, lines ending with ``\\n``, empty cells for nulls,
        ISO dates (``2024-03-01``, or ``2024-03-01 14:30:00`` with a time).

    Notes
    -----
    A CR inside a text cell is written as LF: with ``\\n`` line endings
    Python's csv writer leaves a lone CR unquoted, and Excel would read it as
    the end of the row.
    """
    safe = neutralise_formulas(flatten_lists(frame))
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if _is_text_dtype(column.dtype):
            safe.isetitem(position, _on_strings(column, lambda s: s.replace(r"\r\n?", "\n", regex=True)))
    text = safe.to_csv(
        index=False,
        sep=separator or (";" if excel_french else ","),
        decimal="," if excel_french else ".",
        lineterminator="\n",
        na_rep="",
    )
    return text.encode("utf-8-sig" if excel_french else "utf-8")


# --------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------

_XLSX_MAX_ROWS = 1_048_576
_XLSX_MAX_COLS = 16_384
_XLSX_MAX_CELL_CHARS = 32_767
_XLSX_CHUNK_ROWS = 20_000
# Control characters that XML 1.0 forbids (Excel would call the file corrupt).
_XML_ILLEGAL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
# Excel's day 0 is 1899-12-30 for every date after 1900-02-28 (its 1900 leap
# year bug); earlier dates and years after 9999 are written as ISO text.
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_EXCEL_FIRST_DAY = pd.Timestamp("1900-03-01")
_EXCEL_LAST_DAY = pd.Timestamp("9999-12-31 23:59:59")

# Style indices of the cellXfs in _STYLES.
_STYLE_HEADER, _STYLE_DATE, _STYLE_DATETIME = 1, 2, 3

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = _XML_DECL + (
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '</Types>')
_ROOT_RELS = _XML_DECL + (
    f'<Relationships xmlns="{_NS_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/officeDocument" Target="xl/workbook.xml"/>'
    '</Relationships>')
_WORKBOOK_RELS = _XML_DECL + (
    f'<Relationships xmlns="{_NS_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_NS_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_NS_REL}/styles" Target="styles.xml"/>'
    '</Relationships>')
_STYLES = _XML_DECL + (
    f'<styleSheet xmlns="{_NS_MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '</styleSheet>')


def _sheet_title(name: str) -> str:
    """A sheet name Excel accepts: no ``[]:*?/\\``, no edge ``'``, 1 to 31 characters."""
    title = re.sub(_XML_ILLEGAL, "", _SHEET_NAME_BAD.sub("_", str(name))).strip("'")[:31].strip("'")
    if title.lower() == "history":  # reserved by Excel
        title += "_"
    return title or "Sheet1"


def _column_letter(index: int) -> str:
    """Excel column name of a 0-based index: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape_text(text: pd.Series) -> pd.Series:
    """XML-escape str values, drop characters XML forbids, cut to Excel's cell limit."""
    return (text.str.replace(_XML_ILLEGAL, "", regex=True)
            .str.slice(0, _XLSX_MAX_CELL_CHARS)
            .str.replace("&", "&amp;", regex=False)
            .str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False))


def _text_cells(ref: pd.Series, text: pd.Series) -> pd.Series:
    # Always an inline string: a text cell can never turn into a formula.
    return ref + '" t="inlineStr"><is><t xml:space="preserve">' + _escape_text(text) + "</t></is></c>"


def _number_cells(ref: pd.Series, numbers: pd.Series) -> pd.Series:
    if not pd.api.types.is_integer_dtype(numbers.dtype):
        # Excel has no NaN or infinity; str() of a float is its shortest round-trip form.
        numbers = numbers.astype(float).where(lambda x: np.isfinite(x))
    return ref + '"><v>' + numbers.astype(str) + "</v></c>"


def _date_cells(ref: pd.Series, stamps: pd.Series, with_time: bool) -> pd.Series:
    """Dates as Excel serial numbers; those Excel cannot show stay ISO text."""
    if getattr(stamps.dtype, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)  # Excel has no time zones: keep wall-clock time
    serial = (stamps - _EXCEL_EPOCH) / pd.Timedelta(days=1)
    in_range = (stamps >= _EXCEL_FIRST_DAY) & (stamps <= _EXCEL_LAST_DAY)
    style = _STYLE_DATETIME if with_time else _STYLE_DATE
    cells = ref + f'" s="{style}"><v>' + serial.where(in_range).astype(str) + "</v></c>"
    outside = stamps.notna() & ~in_range
    if outside.any():
        iso = stamps[outside].dt.strftime("%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d")
        cells[outside] = _text_cells(ref[outside], iso)
    return cells


def _mixed_cells(ref: pd.Series, values: pd.Series) -> pd.Series:
    """Cells of an object column that mixes str, numbers, booleans and dates."""
    def kind(value: object) -> str:
        if isinstance(value, (bool, np.bool_)):
            return "bool"
        if isinstance(value, (int, np.integer)):
            return "int"
        if isinstance(value, (float, np.floating)):
            return "number"
        if isinstance(value, (dt.date, np.datetime64)):
            return "date"
        return "text"

    kinds = values.map(kind)
    cells = pd.Series("", index=values.index, dtype=object)
    for name in kinds.unique():
        part = kinds == name
        if name == "int":  # Python ints may exceed int64: their text is exact
            cells[part] = ref[part] + '"><v>' + values[part].astype(str) + "</v></c>"
        elif name == "number":
            cells[part] = _number_cells(ref[part], values[part].astype(float))
        elif name == "bool":
            cells[part] = ref[part] + '" t="b"><v>' + values[part].astype(bool).astype(int).astype(str) + "</v></c>"
        elif name == "date":
            stamps = pd.Series([pd.Timestamp(v).tz_localize(None) for v in values[part]], index=ref[part].index)
            has_time = bool((stamps != stamps.dt.normalize()).any())
            cells[part] = _date_cells(ref[part], stamps, has_time)
        else:
            cells[part] = _text_cells(ref[part], values[part].astype(str))
    return cells


class _ColumnWriter:
    """Renders one column's cells for chunks of rows, decided once for the whole column."""

    def __init__(self, letter: str, column: pd.Series):
        self.prefix = f'<c r="{letter}'
        dtype = column.dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            present = column.dropna()
            self.kind = "date"
            self.with_time = bool((present != present.dt.normalize()).any())
        elif pd.api.types.is_bool_dtype(dtype):
            self.kind = "bool"
        elif pd.api.types.is_numeric_dtype(dtype):
            self.kind = "number"
        elif _is_text_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            if isinstance(dtype, pd.CategoricalDtype):
                column = pd.Series(column.cat.categories)
            inferred = pd.api.types.infer_dtype(column, skipna=True)
            self.kind = "text" if inferred in ("string", "empty") else "mixed"
        else:
            self.kind = "other"  # periods, intervals, timedeltas: their text form

    def cells(self, values: pd.Series, rows: pd.Series) -> pd.Series:
        """XML of the cells for ``values``; an empty string for a null."""
        present = values.notna().to_numpy()
        out = pd.Series("", index=values.index, dtype=object)
        if not present.any():
            return out
        values, ref = values[present], self.prefix + rows[present]
        if self.kind == "number":
            cells = _number_cells(ref, values)
        elif self.kind == "bool":
            cells = ref + '" t="b"><v>' + values.astype(bool).astype(int).astype(str) + "</v></c>"
        elif self.kind == "date":
            cells = _date_cells(ref, values, self.with_time)
        elif self.kind == "mixed":
            cells = _mixed_cells(ref, values.astype(object))
        else:
            cells = _text_cells(ref, values.astype(str))
        # Non-finite numbers came out as NaN: leave those cells empty.
        out[present] = cells.fillna("").to_numpy(dtype=object)
        return out


def _sheet_xml(frame: pd.DataFrame):
    """Yield the worksheet XML in pieces of at most ``_XLSX_CHUNK_ROWS`` rows."""
    letters = [_column_letter(i) for i in range(frame.shape[1])]
    last = f"{letters[-1]}{len(frame) + 1}" if letters else "A1"
    yield (_XML_DECL + f'<worksheet xmlns="{_NS_MAIN}"><dimension ref="A1:{last}"/>'
           '<sheetViews><sheetView workbookViewId="0">'
           '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
           '</sheetView></sheetViews><sheetData>')
    names = pd.Series([str(name) for name in frame.columns], dtype=object)
    refs = pd.Series([f'<c r="{letter}1' for letter in letters], dtype=object)
    header = (refs + f'" s="{_STYLE_HEADER}" t="inlineStr"><is><t xml:space="preserve">'
              + _escape_text(names) + "</t></is></c>")
    yield '<row r="1">' + "".join(header) + "</row>"

    writers = [_ColumnWriter(letter, frame.iloc[:, i]) for i, letter in enumerate(letters)]
    for start in range(0, len(frame), _XLSX_CHUNK_ROWS):
        chunk = frame.iloc[start:start + _XLSX_CHUNK_ROWS]
        rows = pd.Series(np.arange(start + 2, start + 2 + len(chunk)).astype(str), dtype=object)
        cells = [w.cells(chunk.iloc[:, i].reset_index(drop=True), rows) for i, w in enumerate(writers)]
        line = '<row r="' + rows + '">'
        line = line.str.cat(cells, sep="") if cells else line
        yield "".join(line + "</row>")
    yield "</sheetData></worksheet>"


def to_xlsx_bytes(frame: pd.DataFrame, sheet_name: str = "Customers") -> bytes:
    """Encode a table as an XLSX workbook with one sheet, formula-safe.

    Cells are neutralised as in :func:`neutralise_formulas`, and every str
    is written as an inline string (openpyxl reads it back with
    ``data_type == "s"``); the writer has no way to emit a formula. Numbers
    are written as numbers, booleans as booleans, dates as dates
    (``yyyy-mm-dd``, or ``yyyy-mm-dd hh:mm:ss`` when the column has a time of
    day), nulls as empty cells. The header row is bold and frozen.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export; its index is not written.
    sheet_name : str
        Name of the sheet; characters Excel refuses (``[]:*?/\\``) become
        ``_`` and it is cut to 31 characters.

    Returns
    -------
    bytes
        The ``.xlsx`` file content.

    Raises
    ------
    SegmentStudioError
        If the table has more rows or columns than an Excel sheet holds.

    Notes
    -----
    Control characters that XML forbids are removed from text, text longer
    than Excel's 32,767-character cell limit is cut, time-zone-aware dates
    keep their wall-clock time, and dates Excel cannot show (before
    1900-03-01) are written as ISO text.
    """
    if len(frame) + 1 > _XLSX_MAX_ROWS or frame.shape[1] > _XLSX_MAX_COLS:
        raise SegmentStudioError(
            f"An Excel sheet holds at most {_XLSX_MAX_ROWS - 1:,} rows and {_XLSX_MAX_COLS:,} columns; "
            f"this table has {len(frame):,} rows and {frame.shape[1]:,} columns. Export it as CSV instead.")
    safe = neutralise_formulas(flatten_lists(frame))
    workbook = _XML_DECL + (
        f'<workbook xmlns="{_NS_MAIN}" xmlns:r="{_NS_REL}">'
        '<bookViews><workbookView/></bookViews>'
        f'<sheets><sheet name={quoteattr(_sheet_title(sheet_name))} sheetId="1" r:id="rId1"/></sheets>'
        '</workbook>')
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for piece in _sheet_xml(safe):
                sheet.write(piece.encode("utf-8", errors="replace"))
    return buffer.getvalue()


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------

def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Encode a table as Parquet (types kept, list cells as ``; ``-joined text like the other formats).

    Parquet is read by programs, not opened as a spreadsheet, so no cell is prefixed.
    """
    buffer = BytesIO()
    flat = flatten_lists(frame)
    flat.columns = [str(c) for c in flat.columns]
    flat.to_parquet(buffer, index=False)
    return buffer.getvalue()


def encode(frame: pd.DataFrame, file_format: str, sheet_name: str = "Customers", separator: str | None = None) -> bytes:
    """A table as file bytes: ``"xlsx"``, ``"csv-excel"`` (BOM, ``;``, decimal comma), ``"csv"`` (``separator``
    to change the comma) or ``"parquet"``; formula-safe."""
    if file_format == "xlsx":
        return to_xlsx_bytes(frame, sheet_name)
    if file_format == "parquet":
        return to_parquet_bytes(frame)
    return to_csv_bytes(frame, excel_french=file_format == "csv-excel", separator=separator)


def stage(data: bytes, target: str | os.PathLike) -> Path:
    """Write ``data`` under a temporary name beside ``target``; ``os.replace`` it into place when it is wanted.

    Moving a finished file into place means a failed export never leaves half a file.
    """
    target = Path(target)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return Path(temp_name)


def write_file(frame: pd.DataFrame, path: str | os.PathLike, *, excel_french: bool = False) -> str:
    """Write a table to ``path`` as CSV, XLSX or Parquet, chosen by the file extension.

    The file is written under a temporary name next to ``path`` and then
    moved into place (:func:`stage`), so a failed export never leaves half a file.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export.
    path : str or os.PathLike
        Destination ending in ``.csv``, ``.xlsx`` or ``.parquet`` (case-insensitive).
    excel_french : bool
        For CSV only: UTF-8 with BOM, ``;`` and decimal comma
        (see :func:`to_csv_bytes`).

    Returns
    -------
    str
        ``"csv"``, ``"xlsx"`` or ``"parquet"``.

    Raises
    ------
    SegmentStudioError
        If the extension is none of those.
    InputFileError
        ``path`` is a folder, its folder does not exist, or the file cannot be written (disk full, no
        permission): nothing was written, an existing file is left as it was.
    """
    target = Path(path)
    fmt = EXPORT_FORMATS.get(target.suffix.lower())
    if target.is_dir():
        _check_target(target)
    if fmt is None:
        raise SegmentStudioError(
            f"Cannot export to '{target.name}': the file name must end with "
            f"{' or '.join(EXPORT_FORMATS)} (got {target.suffix or 'no extension'!r}).")
    _check_target(target)
    write_bytes(encode(frame, "csv-excel" if fmt == "csv" and excel_french else fmt), target)
    return fmt


def _check_target(target: Path) -> None:
    """Refuse a folder, or a file in a folder that does not exist."""
    if target.is_dir():
        raise InputFileError(f"'{target}' is a folder: give a file name inside it, such as "
                             f"'{target / 'customers.csv'}'.")
    if not target.parent.is_dir():
        raise InputFileError(f"The folder '{target.parent}' does not exist: create it or pick another path.")


def write_bytes(data: bytes, path: str | os.PathLike) -> None:
    """Write ``data`` to ``path`` under a temporary name, then move it into place (:func:`stage`).

    Raises
    ------
    InputFileError
        ``path`` is a folder, its folder does not exist, or the file cannot be written (disk full, no
        permission): nothing was written, an existing file is left as it was.
    """
    target = Path(path)
    _check_target(target)
    try:
        temp = stage(data, target)
        try:
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        advice = ("free some space on that disk or pick another one" if exc.errno == errno.ENOSPC
                  else "check that you may write in that folder, or pick another one")
        raise InputFileError(f"Cannot write '{target}': {exc.strerror or exc}. Nothing was written: "
                             f"{advice}.") from exc


__all__ = ["EXPORT_FORMATS", "LIST_SEPARATOR", "encode", "flatten_lists", "neutralise_formulas", "stage",
           "to_csv_bytes", "to_parquet_bytes", "to_xlsx_bytes", "write_bytes", "write_file"]

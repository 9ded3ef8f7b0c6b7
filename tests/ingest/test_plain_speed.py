"""The fast import of plain CSV files (DuckDB's reader writes the raw table): the same dataset as the careful path."""

from __future__ import annotations

import glob
import os
import tempfile

import pytest

import segmentation.ingest.importer as importer
from segmentation.core.errors import ColumnError, InputFileError
from segmentation.core.store import Store
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.ingest.readers import MAX_CELL_CHARS, plain_csv
from segmentation.ingest.repository import DatasetsRepository

HEADER = "Prénom;Nom;E-mail;Téléphone;Date;Montant;Opt-in\n"
ROWS = ["Hélène ; Martin;Helene.Martin@Martin.fr ;01 23 45 67 89;25/12/2020;12\u00a0400,50 €;Oui",
        "\tJean;;jean@exemple.fr;0690 12 34 56;01/02/2021;NA;non",
        "Zoé;Dubois-Müller;pas une adresse;12;31/13/2021;(1 234);",
        "_;N/A;x@y.fr;+33 6 12 34 56 78;2021-03-04T10:00:00Z;1,5E+03;X"]
PLAIN = (HEADER + "\n".join(ROWS) + "\n").encode()


def dataset_state(store: Store, ds) -> dict:
    """Everything an import stored for ``ds``: its description, raw, clean and rejected rows, column types."""
    tables = (ds.raw_table, ds.clean_table, ds.rejects_table)
    return {
        "ds": {k: getattr(ds, k) for k in ("id", "name", "row_count", "rejected_rows", "file_format", "encoding",
                                           "delimiter", "columns", "roles", "options", "warnings")},
        **{t.split("_")[0]: store.query_rows(f"SELECT * FROM {t} ORDER BY 1") for t in tables},
        "types": store.query_rows("SELECT table_name, column_name, data_type FROM information_schema.columns "
                                  f"WHERE table_name IN {tables} ORDER BY table_name, ordinal_position"),
    }


def both_ways(tmp_path, data: bytes, monkeypatch) -> tuple[dict, dict, list[bool]]:
    """The stored state after importing ``data`` with the fast path allowed, and with it turned off."""
    used: list[bool] = []
    real = DatasetsRepository.store_raw_csv

    def spy(self, *args):
        used.append(real(self, *args))
        return used[-1]

    states = []
    for fast in (True, False):
        monkeypatch.setattr(DatasetsRepository, "store_raw_csv", spy)
        if not fast:
            monkeypatch.setattr(importer, "plain_csv", lambda *a, **k: None)
        store = Store(tmp_path / f"{fast}.duckdb")
        states.append(dataset_state(store, import_file(store, data, "crm.csv")))
        store.close()
    return states[0], states[1], used


@pytest.mark.parametrize("data", [
    PLAIN,
    PLAIN.replace(b"\n", b"\r\n"),  # Windows line ends
    b"\xef\xbb\xbf" + PLAIN[:-1],  # a byte-order mark, no line end at the end
    PLAIN.decode().encode("cp1252", errors="replace"),  # transcoded to UTF-8 first
    PLAIN + b"\nTotal: 4 rows\nExported by CRM\n",  # a footer after a blank line
    ("_row;Id;_batch\n" + "\n".join(f"{i};A{i};{i % 3}" for i in range(50)) + "\n").encode(),  # reserved names
    b"email\nA@b.fr\n  \nx\n",  # one column, a cell of spaces
    b"id\tname\tcity\n1\tAnn \t\n2\t\tLyon\n",  # tabs
    b"id|name|city\n1|Ann|Paris\n2||\n",  # pipes
    ("id,amount,when\n" + "\n".join(f"C{i:05d},{i * 1.5},{i % 28 + 1}/03/2024" for i in range(7000))).encode(),
])
def test_plain_files_import_exactly_as_the_careful_path(tmp_path, monkeypatch, data):
    fast, careful, used = both_ways(tmp_path, data, monkeypatch)
    assert used == [True]
    assert fast == careful


@pytest.mark.parametrize(("data", "why"), [
    (b'a;b\n"x;1";2\n', "quotes"),
    (b"email\nA@b.fr\n\nx\n", "a blank line in a one-column file (a cell to the reader)"),
    (b"email\r\nA@b.fr\r\n\r\nx\r\n", "the same with Windows line ends"),
    (b"a;b\n\n1;2\n", "a blank line right after the header"),
    (b"a;b\r\n1;2\n3;4\r\n", "two kinds of line ends"),
    (b"a;b\r1;2\r", "old Mac line ends"),
    (b"a;b\n" + b"1;2\n" * 300_000 + b"1;\x002\n", "a NUL byte (past the head, which refuses it)"),
    (b"Name      City\nAnn       Paris\nBob       Lyon\n", "text aligned with spaces"),
])
def test_anything_but_plain_lines_takes_the_careful_path(data, why):
    assert plain_csv(data, "crm.csv") is None, why


LATE_CP1252 = ("Nom;Ville\n" + "Hélène;Paris\n" * 120_000).encode() + "Zoé;Orléans\n".encode("cp1252")


@pytest.mark.parametrize(("data", "why"), [
    (b"a;b\n1;2\n\n3;4\n", "a blank line (the reader skips it: its count differs)"),
    (b"a;b\r\n1;2\r\n\r\n3;4\r\n", "a blank line between Windows line ends"),
    (LATE_CP1252, "a Windows-1252 line after the first megabyte of UTF-8"),
])
def test_what_the_reader_refuses_falls_back_to_the_same_dataset(tmp_path, monkeypatch, data, why):
    assert plain_csv(data, "crm.csv") is not None, why  # left to DuckDB's reader, which checks it while reading
    fast, careful, used = both_ways(tmp_path, data, monkeypatch)
    assert used == [False], why
    assert fast == careful, why


def test_a_line_longer_than_a_cell_may_be_is_refused_by_the_reader_then_named(store):
    data = b"a;b\n1;" + b"x" * (MAX_CELL_CHARS + 1) + b"\n2;y\n"
    assert plain_csv(data, "crm.csv") is not None  # DuckDB's max_line_size refuses the line, read_file measures it
    with pytest.raises(InputFileError, match="more than 131,072 characters on line 2"):
        import_file(store, data, "crm.csv")
    assert DatasetsRepository(store).datasets() == []
    assert store.query_rows("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw_%'") == []


def test_a_late_windows_1252_line_is_named_after_the_fallback(store):
    ds = import_file(store, LATE_CP1252, "crm.csv")
    assert ds.row_count == 120_001
    assert ds.warnings == ["1 line of this UTF-8 file is not valid UTF-8 and was read as Windows-1252 (lines 120002): "
                           "check their accents, or export the file again as CSV UTF-8"]
    assert store.query_rows(f'SELECT "Ville" FROM {ds.clean_table} WHERE _row = 120001') == [("Orléans",)]


def test_plain_layout_counts_records_and_line_ends():
    layout = plain_csv(b"\xef\xbb\xbfa;b\r\n1;2\r\n3;4", "crm.csv")
    assert (layout.columns, layout.rows, layout.crlf, layout.encoding) == (["a", "b"], 2, True, "utf-8-sig")
    assert layout.body[layout.start:layout.end] == b"1;2\r\n3;4"
    assert plain_csv(b"a;b\n1;2\n", "crm.csv", max_bytes=4) is None  # read_file gives the size message


def test_ragged_rows_fall_back_with_their_line_numbers_and_the_same_id(tmp_path, monkeypatch):
    data = b"a;b;c\n1;2;3\n4;5\n6;7;8;9\n10;11;12\n"
    fast, careful, used = both_ways(tmp_path, data, monkeypatch)
    assert used == [False]  # DuckDB refused the rows: nothing kept from it
    assert fast == careful
    assert fast["ds"]["id"] == 1 and fast["ds"]["row_count"] == 2
    assert fast["rejects"] == [(3, "expected 3 fields, found 2", "4;5"), (4, "expected 3 fields, found 4", "6;7;8;9")]


def test_a_role_for_a_missing_column_writes_nothing(store):
    with pytest.raises(ColumnError):
        import_file(store, PLAIN, "crm.csv", ImportSettings(roles={"Nope": "email"}))
    assert DatasetsRepository(store).datasets() == []
    assert store.query_rows("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'raw_%'") == []


def test_the_records_file_is_removed(store):
    pattern = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(), "segment-studio-*")
    before = set(glob.glob(pattern))
    ds = import_file(store, PLAIN, "crm.csv")
    assert ds.row_count == 4
    assert set(glob.glob(pattern)) == before

"""A store path that names a data file is refused, and the file is left exactly as it was."""

from __future__ import annotations

import re

import pytest

from segmentation import StoreError
from segmentation.cli import main
from segmentation.core.store import Store
from tests.conftest import SAMPLE


@pytest.mark.parametrize(("name", "content", "looks"), [
    ("typo.csv", b"id;name\n1;Ana\n", "a text file (CSV or similar)"),
    ("notes.txt", "Prénom\n".encode(), "a text file (CSV or similar)"),
    ("orders.parquet", b"PAR1\x15\x04\x15\x10", "a Parquet file"),
    ("book.xlsx", b"PK\x03\x04\x14\x00\x06\x00", "a zip archive (an Excel workbook?)"),
    ("data.json", b'[{"a": 1}]', "a JSON file"),
    ("old.db", b"SQLite format 3\x00\x10\x00", "an SQLite database"),
])
def test_an_existing_file_that_is_not_a_store_is_refused_untouched(tmp_path, name, content, looks):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(StoreError, match=re.escape(f"is not a Segment Studio store: it looks like {looks}.")) as caught:
        Store(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no WAL, no second file


def test_a_new_store_named_like_a_data_file_or_a_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match=r"named like a \.csv data file.*'.*export\.duckdb'"):
        Store(tmp_path / "export.csv")
    with pytest.raises(StoreError, match="is a folder, not a store file"):
        Store(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_store_and_a_new_name_open(tmp_path):
    Store(tmp_path / "work.duckdb").close()
    Store(tmp_path / "work.duckdb").close()          # its header says DUCK
    store = Store(tmp_path / "plain")                # a new name without a suffix becomes a .duckdb file
    assert store.path == tmp_path / "plain.duckdb"
    store.close()
    Store(tmp_path / "team.db").close()              # any other suffix is the user's choice
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".wal")) == [
        "plain.duckdb", "team.db", "work.duckdb"]


def test_cli_given_a_csv_as_db_says_so_and_keeps_it(tmp_path, capsys):
    typo = tmp_path / "customers.csv"
    typo.write_bytes((SAMPLE / "customers.csv").read_bytes())
    before = typo.read_bytes()
    code = main(["--db", str(typo), "import", str(SAMPLE / "customers.csv"), "--json"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"error: '{typo}' is not a Segment Studio store: it looks like a text file")
    assert err.count("\n") == 1
    assert typo.read_bytes() == before

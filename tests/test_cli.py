"""The command-line interface: JSON on stdout, ``error:`` on stderr with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest

from segmentation.cli import main
from tests.conftest import ROOT


def run_cli(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() and "--json" in args else None), err


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cli.duckdb")


@pytest.fixture
def crm_file(tmp_path, french_csv):
    path = tmp_path / "crm export.csv"
    path.write_bytes(french_csv)
    return str(path)


def test_import_datasets_quality_export(capsys, db, crm_file, tmp_path):
    code, result, _ = run_cli(capsys, "--db", db, "import", crm_file, "--json")
    assert code == 0
    assert result["dataset"] == "crm export" and result["rows"] == 4
    assert (result["encoding"], result["delimiter"], result["rejected_rows"]) == ("cp1252", ";", 0)
    assert "E-mail" in result["columns"]

    code, result, _ = run_cli(capsys, "datasets", "--db", db, "--json")
    assert code == 0 and [d["name"] for d in result["datasets"]] == ["crm export"]
    assert result["datasets"][0]["rows"] == 4 and result["datasets"][0]["kind"] == "customers"

    code, result, _ = run_cli(capsys, "--db", db, "quality", "--json")
    assert code == 0
    assert result["invalid_emails"] == 1 and result["invalid_phones"] == 1
    assert result["missing"]["Valeur contrat"] == 1
    assert result["duplicate_keys"] == {"E-mail": 0, "Téléphone": 2}

    out = tmp_path / "out.xlsx"
    code, result, _ = run_cli(capsys, "--db", db, "export", "--out", str(out), "--json")
    assert code == 0 and result["rows"] == 4
    sheet = openpyxl.load_workbook(out).active
    assert [c.value for c in sheet[1]][:3] == ["ID client", "Société", "Région"]
    assert sheet.max_row == 5


def test_errors_exit_2_with_one_line(capsys, db, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = run_cli(capsys, "--db", db, "import", str(empty), "--json")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = run_cli(capsys, "--db", db, "import", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv" in err
    code, _, err = run_cli(capsys, "--db", db, "quality", "--dataset", "nope", "--json")
    assert code == 2 and err.startswith("error: No dataset named 'nope'")


def test_module_entry_point_and_locked_store(tmp_path, crm_file):
    db = tmp_path / "p.duckdb"
    done = subprocess.run([sys.executable, "-m", "segmentation", "--db", str(db), "import", crm_file, "--json"],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 4
    # While this process holds the store, another process gets a clear error, not a traceback.
    from segmentation.store import Store
    holder = Store(db)
    try:
        done = subprocess.run([sys.executable, "-m", "segmentation", "--db", str(db), "datasets", "--json"],
                              capture_output=True, text=True, cwd=ROOT, check=False)
    finally:
        holder.close()
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("error: Cannot open the working store")


def test_merge_pairs_file_export_golden_and_unmerge(capsys, db, crm_file, tmp_path):
    assert run_cli(capsys, "--db", db, "import", crm_file, "--json")[0] == 0
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("left_id,right_id\nC3,C4\n", encoding="utf-8")
    code, result, _ = run_cli(capsys, "--db", db, "merge", "--pairs", str(pairs), "--json")
    assert code == 0
    assert result == {"groups_merged": 1, "records_before": 4, "records_after": 3, "refused_chains": 0}

    out = tmp_path / "golden.csv"
    code, result, _ = run_cli(capsys, "--db", db, "export", "--out", str(out), "--json")
    assert code == 0 and result["rows"] == 3 and "source_ids" in result["columns"]
    text = out.read_text(encoding="utf-8")
    assert "C3;C4" in text

    code, result, _ = run_cli(capsys, "--db", db, "unmerge", "--all", "--json")
    assert code == 0 and result == {"records_after": 4}

    bad = tmp_path / "bad.csv"
    bad.write_text("left_id,right_id\nC3,NOPE\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "--db", db, "merge", "--pairs", str(bad), "--json")
    assert code == 2 and "NOPE" in err


def test_usage_errors_are_one_error_line(capsys, db):
    with pytest.raises(SystemExit) as exit_info:
        main(["--db", db, "merge", "--json"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1

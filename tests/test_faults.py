"""Faults are messages: a full disk, a missing or wrong output path, a damaged store, a file that is not ours.

Each gives one ``error:`` line and exit status 2, and leaves the store as it was.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from segmentation.cli import main
from segmentation.core import store as store_module
from segmentation.core.store import Store


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "work.duckdb")


@pytest.fixture
def crm_file(tmp_path, french_csv):
    path = tmp_path / "crm export.csv"
    path.write_bytes(french_csv)
    return str(path)


def cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def digest(db: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every table's row count and a digest of its rows."""
    s = Store(db)
    try:
        tables = [t for (t,) in s.query_rows("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'main' ORDER BY 1") if t not in skip]
        return {t: s.query_value(f"SELECT count(*) || ':' || coalesce(md5(string_agg(CAST(x AS VARCHAR), '|' "
                                 f"ORDER BY CAST(x AS VARCHAR))), '') FROM \"{t}\" x") for t in tables}
    finally:
        s.close()


class _FullDisk:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, file):
        self.file = file

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.file.close()

    def write(self, _data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_disk(monkeypatch):
    """Every file opened with ``os.fdopen`` (how exports are staged) fails to write: ENOSPC."""
    real = os.fdopen

    def start():
        monkeypatch.setattr(os, "fdopen", lambda fd, *args, **kwargs: _FullDisk(real(fd, *args, **kwargs)))
    return start


def test_a_full_disk_during_an_export_is_one_error_line(capsys, db, crm_file, tmp_path, full_disk):
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    before = digest(db)
    out = tmp_path / "out" / "customers.csv"
    out.parent.mkdir()
    full_disk()
    code, err = cli(capsys, "--db", db, "export", "--out", str(out))
    assert code == 2 and err == (f"error: Cannot write '{out}': No space left on device. Nothing was written: free "
                                 "some space on that disk or pick another one.\n")
    assert list(out.parent.iterdir()) == []          # no half file, no temporary file
    assert digest(db) == before


def test_a_full_disk_during_a_store_write_is_one_error_line(capsys, db, crm_file, tmp_path, monkeypatch):
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    before = digest(db)
    run = store_module.Transaction._run

    def full(self, sql, params):
        if sql.lstrip().upper().startswith(("INSERT", "CREATE")):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), db)
        return run(self, sql, params)

    monkeypatch.setattr(store_module.Transaction, "_run", full)
    code, err = cli(capsys, "--db", db, "import", crm_file, "--name", "again")
    assert code == 2 and err == (f"error: cannot use '{db}': No space left on device. Check the path, free some "
                                 "space or pick another folder.\n")
    monkeypatch.undo()
    assert digest(db) == before


def test_a_full_disk_during_a_refresh_step_is_one_error_line(capsys, db, crm_file, tmp_path, full_disk):
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    assert cli(capsys, "--db", db, "export", "--out", str(tmp_path / "first.csv"), "--channel", "none",
               "--save-as", "Everyone")[0] == 0
    config = tmp_path / "pipeline.toml"
    assert cli(capsys, "--db", db, "config", "--out", str(config), "--source", "crm export=crm export.csv")[0] == 0
    assert cli(capsys, "--db", db, "refresh", "--config", str(config))[0] == 0
    out = tmp_path / "audiences" / "everyone.csv"
    out.unlink()                                        # the audience step has something to do again
    log = ("refreshes", "refresh_steps")
    before = digest(db, skip=log)
    full_disk()
    code, err = cli(capsys, "--db", db, "refresh", "--config", str(config))
    assert code == 2
    assert err.splitlines()[-1] == (
        f"error: step 'audience Everyone' failed: Cannot write '{out}': No space left on device; the disk is full: "
        "free some space, or write the audience files to another disk. The store is as it was before this step "
        "(earlier steps of this refresh were kept).")
    assert list(out.parent.iterdir()) == []
    assert digest(db, skip=log) == before


def test_export_into_a_missing_folder_or_onto_a_folder_is_one_error_line(capsys, db, crm_file, tmp_path):
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    before = digest(db)
    code, err = cli(capsys, "--db", db, "export", "--out", str(tmp_path / "nope" / "customers.csv"))
    assert code == 2 and err == (f"error: The folder '{tmp_path / 'nope'}' does not exist: create it or pick "
                                 "another path.\n")
    folder = tmp_path / "exports.csv"
    folder.mkdir()
    code, err = cli(capsys, "--db", db, "export", "--out", str(folder))
    assert code == 2 and err == (f"error: '{folder}' is a folder: give a file name inside it, such as "
                                 f"'{folder / 'customers.csv'}'.\n")
    code, err = cli(capsys, "--db", db, "export", "--out", str(tmp_path / "nope" / "x.csv"), "--channel", "none")
    assert code == 2 and "does not exist: create it or pick another path" in err      # an audience export too
    assert digest(db) == before and not (tmp_path / "nope").exists()


def test_a_damaged_store_is_one_error_line_saying_what_to_do(capsys, db, crm_file):
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    with open(db, "r+b") as f:          # DuckDB's header kept, garbage after it
        f.seek(4096)
        f.write(os.urandom(8192))
    damaged = Path(db).read_bytes()
    code, err = cli(capsys, "--db", db, "datasets")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: '{db}' is not a Segment Studio store, or it is damaged: ")
    assert err.endswith("The file was left as it is: open a backup copy of it, or pass another file with --db "
                        "(a new name creates an empty store).\n")
    assert Path(db).read_bytes() == damaged


def test_config_out_onto_a_file_that_is_not_a_pipeline_is_refused(capsys, db, crm_file, tmp_path):
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"Budget 2027\r\n- salons: 12 k\x80\r\n")
    code, err = cli(capsys, "--db", db, "config", "--out", str(notes))
    assert code == 2 and err == (f"error: '{notes}' exists and is not a pipeline file: it was not overwritten. "
                                 "Pick another name, such as 'pipeline.toml'.\n")
    assert notes.read_bytes() == b"Budget 2027\r\n- salons: 12 k\x80\r\n"
    pipeline_file = tmp_path / "pipeline.toml"
    assert cli(capsys, "--db", db, "config", "--out", str(pipeline_file))[0] == 0
    assert cli(capsys, "--db", db, "config", "--out", str(pipeline_file))[0] == 0     # its own file: rewritten


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system of its own (tmpfs), where the platform allows mounting one; else the test is skipped."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True,
                          check=False) if os.geteuid() == 0 and shutil.which("mount") else None
    if done is None or done.returncode != 0:
        pytest.skip("cannot mount a small file system here (the simulated full disk tests cover this)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_really_full_disk_during_an_import_is_one_error_line(capsys, small_disk, crm_file, tmp_path):
    db = str(small_disk / "work.duckdb")
    assert cli(capsys, "--db", db, "import", crm_file)[0] == 0
    before = digest(db)
    big = tmp_path / "big.csv"
    big.write_text("id;email;nom\n" + "".join(f"C{i};u{i}@ex{i % 97}.fr;Nom {i * 7919 % 100003}\n"
                                               for i in range(80_000)), encoding="utf-8")
    code, err = cli(capsys, "--db", db, "import", str(big))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: the working store could not save this change: ") and "No space left" in err
    assert err.endswith("Nothing of it was kept; free some space on the store's disk (or check it can be "
                        "written) and try again.\n")
    assert digest(db) == before


def test_a_really_full_disk_is_a_store_error_the_pages_show(small_disk, crm_file, tmp_path):
    """The pages show SegmentStudioError messages: a failed write or COMMIT on a full disk must be one."""
    from segmentation import ImportSettings, StoreError, open_workspace

    db = str(small_disk / "work.duckdb")
    ws = open_workspace(db)
    try:
        ws.ingest.import_path(crm_file)
        version = ws.version
        big = tmp_path / "big.csv"
        big.write_text("id;email;nom\n" + "".join(f"C{i};u{i}@ex{i % 97}.fr;Nom {i * 7919 % 100003}\n"
                                                   for i in range(80_000)), encoding="utf-8")
        with pytest.raises(StoreError, match=r"^the working store could not save this change: .*No space left"):
            ws.ingest.import_path(big, ImportSettings(name="big"))
        assert ws.version == version and ws.names() == [Path(crm_file).stem]
    finally:
        ws.close()
    assert digest(db)  # the store still opens and reads after the failed write

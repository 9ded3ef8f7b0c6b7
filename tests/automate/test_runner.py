"""The unattended refresh: the sample data, a changed copy, the same inputs again, a broken file, a failing step."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from segmentation import open_workspace
from segmentation.activate import audiences
from segmentation.activate.audiences import AudienceSpec
from segmentation.automate import config as pipeline
from segmentation.automate.repository import RefreshRepository
from segmentation.behaviour import rfm
from segmentation.cli import main
from segmentation.core.errors import RefreshError
from segmentation.core.store import Store
from segmentation.dedupe import review as dedupe
from segmentation.dedupe.review import ACTIVE_MEMBERS
from segmentation.ingest.importer import ImportSettings, import_path
from segmentation.ingest.repository import DatasetsRepository
from segmentation.segment import runs as segments
from segmentation.segment import snapshots
from segmentation.segment.features import FeatureSettings
from tests.conftest import ROOT, SAMPLE

ID = "ID client"
LOG_TABLES = ("refreshes", "refresh_steps")
NEW_SURNAMES = ["Abadie", "Boisseau", "Carpentier", "Delahaye", "Esnault", "Fouquet", "Gaillard", "Hamon", "Imbert",
                "Jacquin", "Kieffer", "Lemaire", "Marchand", "Navarro", "Ollivier", "Pasquier", "Quintin", "Rigaud",
                "Sauvage", "Tessier", "Urvoy", "Vasseur", "Wagner", "Xavier", "Yvon", "Zimmer", "Brunet", "Chevalier",
                "Duval", "Ferrand"]
NEW_FIRST_NAMES = ["Agathe", "Basile", "Clément", "Diane", "Étienne", "Flore", "Gaspard", "Hortense", "Irène", "Jules",
                   "Katell", "Léon", "Maëlle", "Noé", "Oriane", "Paulin", "Quitterie", "Romain", "Solène", "Théo",
                   "Ursule", "Victor", "Wendy", "Xavière", "Yann", "Zoé", "Adèle", "Bastien", "Capucine", "Damien"]


def read_export(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)


def write_export(frame: pd.DataFrame, path: Path) -> None:
    out = io.StringIO()
    frame.to_csv(out, sep=";", index=False, lineterminator="\r\n")
    path.write_bytes(out.getvalue().encode("cp1252"))


def contents(store: Store) -> dict[str, str]:
    """Every table's row count and a digest of its rows, but the refresh log's."""
    tables = [t for (t,) in store.query_rows("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'main' ORDER BY 1") if t not in LOG_TABLES]
    return {t: store.query_value(
        f"SELECT count(*) || ':' || coalesce(md5(string_agg(CAST(x AS VARCHAR), '|' "
        f"ORDER BY CAST(x AS VARCHAR))), '') FROM \"{t}\" x") for t in tables}


def group_of(store: Store, ds, rows: list[int]) -> list:
    found = dict(store.query_rows(f"SELECT row, group_id FROM ({ACTIVE_MEMBERS.format(id=int(ds.id))})"))
    return [found.get(r) for r in rows]


def connected(rows: set, pairs: pd.DataFrame) -> bool:
    """Whether ``pairs`` (left_row, right_row) within ``rows`` join them all."""
    inside = pairs[pairs["left_row"].isin(rows) & pairs["right_row"].isin(rows)]
    reached, todo = set(), [min(rows)]
    while todo:
        row = todo.pop()
        if row not in reached:
            reached.add(row)
            todo += inside.loc[inside["left_row"] == row, "right_row"].tolist()
            todo += inside.loc[inside["right_row"] == row, "left_row"].tolist()
    return reached == rows


@pytest.fixture(scope="module")
def project_template(tmp_path_factory):
    """The sample set up in a store the way a marketer does in the browser, and its pipeline saved (made once:
    finding duplicates among 5,480 customers and a segment run take most of a test's time)."""
    folder = tmp_path_factory.mktemp("project")
    ws, config_file, customers = _set_up(folder)
    ws.close()
    return folder, config_file.name, customers


@pytest.fixture
def project(project_template, tmp_path):
    """A copy of the set-up project (store, exports, pipeline file) of this test's own."""
    folder, config_name, customers = project_template
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    ws = open_workspace(tmp_path / "work.duckdb")
    yield ws, tmp_path / config_name, customers.copy()
    ws.close()


@pytest.fixture(scope="module")
def refreshed_template(project_template, tmp_path_factory):
    """The set-up project after its first refresh (made once)."""
    folder, config_name, customers = project_template
    copy = tmp_path_factory.mktemp("refreshed")
    shutil.copytree(folder, copy, dirs_exist_ok=True)
    with open_workspace(copy / "work.duckdb") as ws:
        assert [s.status for s in ws.refresh.run_file(copy / config_name).steps] == ["done"] * 6
    return copy, config_name, customers


@pytest.fixture
def refreshed(refreshed_template, tmp_path):
    """A copy of the project after its first refresh: the files a refresh wrote are recorded at their new place."""
    folder, config_name, customers = refreshed_template
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    ws = open_workspace(tmp_path / "work.duckdb")
    with ws.store.transaction(versioned=False) as tx:
        tx.execute("UPDATE refresh_outputs SET path = replace(path, ?, ?)",
                   [str(folder.resolve()), str(tmp_path.resolve())])
    yield ws, tmp_path / config_name, customers.copy()
    ws.close()


def _set_up(tmp_path: Path):
    exports = tmp_path / "exports"
    exports.mkdir()
    customers = read_export(SAMPLE / "customers.csv")
    write_export(customers, exports / "customers.csv")
    (exports / "orders.csv").write_bytes((SAMPLE / "orders.csv").read_bytes())
    ws = open_workspace(tmp_path / "work.duckdb")
    store = ws.store
    import_path(store, exports / "customers.csv", ImportSettings(name="customers"))
    import_path(store, exports / "orders.csv", ImportSettings(name="orders", kind="transactions"))
    dedupe.find_pairs(store, "customers")
    dedupe.merge(store, "customers", above=0.9)
    rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-11-01"))
    features = FeatureSettings(numeric=("Valeur contrat", "Fréquence d'utilisation", "Tickets support"))
    run = segments.run_segments(store, "customers", features, 3, name="base")
    for s in range(3):
        segments.rename_segment(store, run.name, s, f"Segment {'ABC'[s]}")
    spec = AudienceSpec(dataset="customers", segments=(0, 1), channel="email")
    audiences.save_audience(store, "A and B", spec)
    config = ws.refresh.config_from_store("customers", files={"customers": "exports/customers.csv",
                                                              "orders": "exports/orders.csv"})
    config_file = ws.refresh.save_config(config, tmp_path / "pipeline.toml")
    return ws, config_file, customers


def test_refresh_sample_then_changed_copy_then_again(project):
    ws, config_file, customers = project
    store = ws.store
    ds = DatasetsRepository(store).dataset("customers")
    out = config_file.parent / "audiences" / "a-and-b.csv"

    # 1. The same files the store was built from: nothing to add, segments snapshotted, the audience written.
    first = ws.refresh.run_file(config_file)
    assert first.summary["rows_imported"]["customers"] == {"rows_added": 0, "rows_updated": 0,
                                                           "rows_unchanged": len(customers)}
    assert first.summary["merges"] == 0
    assert [s.status for s in first.steps] == ["done"] * 6
    snaps = snapshots.snapshots(store, "customers")
    assert len(snaps) == 1 and snaps["customers"].iloc[0] == sum(first.summary["assigned"].values())
    written = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str)
    chosen = audiences.get_audience(store, "A and B")
    assert len(written) == len(audiences.select(store, chosen)) == first.summary["audiences"][0]["rows"]

    # 2. A changed copy: 30 new customers, an e-mail changed, a duplicate of an existing customer.
    changed = customers.copy()
    moved_id = changed[ID].iloc[10]
    changed.loc[changed.index[10], "E-mail"] = "nouvelle.adresse@exemple.fr"
    new = customers.iloc[100:130].copy()
    new[ID] = [f"N{i:04d}" for i in range(30)]
    new["Nom"] = NEW_SURNAMES
    new["Prénom"] = NEW_FIRST_NAMES
    new["E-mail"] = [f"{p.lower()}.{n.lower()}@{n.lower()}-conseil.fr" for p, n in zip(NEW_FIRST_NAMES,
                                                                                      NEW_SURNAMES, strict=True)]
    new["Téléphone"] = [f"05{i * 7919:08d}" for i in range(30)]
    new["Société"] = [f"{n} Conseil" for n in NEW_SURNAMES]
    original = customers.iloc[200]
    twin = original.copy()
    twin[ID] = "D0001"
    twin["Prénom"] = original["Prénom"].upper()  # the same person typed again
    write_export(pd.concat([changed, new, twin.to_frame().T]), config_file.parent / "exports" / "customers.csv")

    second = ws.refresh.run_file(config_file)
    assert second.summary["rows_imported"]["customers"] == {"rows_added": 31, "rows_updated": 1,
                                                            "rows_unchanged": len(customers) - 1}
    assert "orders" not in second.summary["rows_imported"]  # the orders file did not change
    assert store.query_value(f'SELECT "E-mail" FROM {ds.clean_table} WHERE "{ID}" = ?', [moved_id]) == \
        "nouvelle.adresse@exemple.fr"
    rows = dict(store.query_rows(f'SELECT "{ID}", _row FROM {ds.clean_table} WHERE "{ID}" IN (?, ?)',
                                 [original[ID], "D0001"]))
    twin_group = group_of(store, ds, [rows[original[ID]], rows["D0001"]])
    assert twin_group[0] is not None and twin_group[0] == twin_group[1]          # merged unattended
    assert second.summary["merges"] >= 1
    # Pairs to review wait for a person: every merged customer is held together by sure pairs alone.
    queue = dedupe.pairs_table(store, "customers", status="review", undecided_only=True)
    assert second.summary["pairs_to_review"] == len(queue) > 0
    sure = dedupe.pairs_table(store, "customers", status="sure")
    groups = store.query_df(f"SELECT row, group_id FROM ({ACTIVE_MEMBERS.format(id=int(ds.id))})")
    assert groups.groupby("group_id")["row"].apply(set).map(
        lambda rows: connected(rows, sure)).all()
    # New customers have a segment with the saved run (not a re-fit): the run keeps its id and names.
    run = segments.get_run(store, "base")
    members = segments.assignments(store, "base").set_index("customer_id")["segment"]
    new_rows = [r for (r,) in store.query_rows(f'SELECT _row FROM {ds.clean_table} WHERE "{ID}" LIKE \'N%\'')]
    assert len(new_rows) == 30 and all(f"C{r}" in members.index for r in new_rows)
    assert f"C{rows['D0001']}" not in members.index                             # the twin is not a customer
    assert second.summary["assigned"] == {segments.names_of(store, run.name)[int(s)]: n
                                          for s, n in segments.segment_sizes(store, run.name).items()}
    # A second snapshot: 30 customers came in, nobody else moved or left.
    snaps = snapshots.snapshots(store, "customers")
    assert len(snaps) == 2
    matrix = snapshots.migration(store, int(snaps["id"].iloc[0]), int(snaps["id"].iloc[1]))
    assert matrix.loc[snapshots.NONE].sum() == 30
    assert snapshots.NONE not in matrix.columns
    moved = snapshots.movers(store, int(snaps["id"].iloc[0]), int(snaps["id"].iloc[1]))
    assert len(moved) == 30 and set(moved["before"]) == {snapshots.NONE}
    written = pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str)
    assert len(written) == len(audiences.select(store, chosen)) == second.summary["audiences"][0]["rows"]
    assert second.summary["audiences"][0]["written"]

    # 3. The same inputs again: every step is skipped and nothing in the store or the files changes.
    before, stamp, data = contents(store), out.stat().st_mtime_ns, out.read_bytes()
    version, customers_version = store.version(), ws.dataset("customers").version
    third = ws.refresh.run_file(config_file)
    assert [s.status for s in third.steps] == ["unchanged"] * 6
    assert contents(store) == before
    assert (store.version(), ws.dataset("customers").version) == (version, customers_version)
    assert (out.stat().st_mtime_ns, out.read_bytes()) == (stamp, data)
    assert third.summary["merges"] == 0 and not third.summary["audiences"][0]["written"]
    assert third.summary["audiences"][0]["rows"] == second.summary["audiences"][0]["rows"]
    log = ws.refresh.history()
    assert log["status"].tolist() == ["ok", "ok", "ok"]
    assert log["changed"].iloc[0] == "nothing changed"
    assert log["changed"].iloc[1].startswith("customers: 31 new, 1 updated")


def test_a_broken_input_file_leaves_the_store_unchanged(refreshed):
    ws, config_file, _customers = refreshed
    store = ws.store
    before = contents(store)
    for broken in (b"", b"PK\x03\x04\x14\x00\x06\x00truncated workbook"):
        (config_file.parent / "exports" / "customers.csv").write_bytes(broken)
        with pytest.raises(RefreshError, match=r"^step 'import customers' failed: .+ The store is as it was"):
            ws.refresh.run_file(config_file)
        assert contents(store) == before
    log = ws.refresh.history()
    assert log["status"].tolist()[:2] == ["failed", "failed"]
    assert log["failed_step"].iloc[0] == "import customers"
    steps = ws.refresh.steps_of(int(log["id"].iloc[0]))
    assert steps["status"].tolist() == ["failed"]  # nothing ran after the failed step


def test_a_failing_step_is_rolled_back_and_earlier_steps_are_kept(refreshed, monkeypatch):
    ws, config_file, customers = refreshed
    store = ws.store
    segments.rename_segment(store, "base", 0, "Loyal")        # the segments step has something to do
    extra = customers.iloc[:5].copy()
    extra[ID] = [f"X{i}" for i in range(5)]
    extra["E-mail"] = [f"x{i}@autre-domaine-{i}.fr" for i in range(5)]
    write_export(pd.concat([customers, extra]), config_file.parent / "exports" / "customers.csv")
    assigned_at = segments.get_run(store, "base").assigned_at
    members = contents(store)["segment_members"]

    def fail(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "take_of", fail)  # after the new members were written
    with pytest.raises(RefreshError, match=r"step 'segments base' failed: RuntimeError: disk full"):
        ws.refresh.run_file(config_file)
    assert DatasetsRepository(store).dataset("customers").row_count == len(customers) + 5  # the import was kept
    assert segments.get_run(store, "base").assigned_at == assigned_at                   # the step was not
    assert contents(store)["segment_members"] == members
    steps = ws.refresh.steps_of(int(ws.refresh.history()["id"].iloc[0]))
    assert steps.set_index("step")["status"].to_dict() == {
        "import customers": "done", "import orders": "unchanged", "deduplicate customers": "done",
        "RFM customers": "done", "segments base": "failed"}
    monkeypatch.undo()
    again = ws.refresh.run_file(config_file)                                          # fixed, run again
    assert {s.step: s.status for s in again.steps}["segments base"] == "done"
    assert segments.names_of(store, "base")[0] == "Loyal"


def test_refit_carries_segment_names_and_audiences_follow(project):
    ws, config_file, _customers = project
    store = ws.store
    config = pipeline.load(config_file)
    data = pipeline.to_dict(config)
    data["segments"]["mode"] = "refit"
    config_file.write_text(pipeline.to_toml(pipeline.from_dict(data)), encoding="utf-8")
    result = ws.refresh.run_file(config_file)
    current = segments.get_run(store, dataset="customers")
    assert current.name != "base" and result.summary["run"] == current.name
    # Same data, same features, same k: the same segments, under the same names.
    assert sorted(segments.names_of(store, current.name).values()) == ["Segment A", "Segment B", "Segment C"]
    matrix = segments.compare_runs(store, "base", current.name)
    base_names, new_names = segments.names_of(store, "base"), segments.names_of(store, current.name)
    for s, name in base_names.items():
        same = {v: k for k, v in new_names.items()}[name]
        assert matrix.loc[str(s), str(same)] == matrix.loc[str(s)].sum()
    written = pd.read_csv(config_file.parent / "audiences" / "a-and-b.csv", sep=";", encoding="utf-8-sig")
    old = audiences.select(store, audiences.get_audience(store, "A and B"))
    assert len(written) == result.summary["audiences"][0]["rows"]
    assert sorted(written[ID]) == sorted(old[ID])  # segments A and B, found by name in the new run


def test_cli_refresh_json_and_error_exit(project, capsys):
    ws, config_file, _customers = project
    store = ws.store
    db = str(store.path)
    ws.close()
    code = main(["refresh", "--config", str(config_file), "--db", db, "--json"])
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert code == 0 and result["status"] == "ok"
    assert set(result) >= {"rows_imported", "merges", "assigned", "audiences", "pairs_to_review", "steps"}
    (config_file.parent / "exports" / "orders.csv").write_bytes(b"")
    code = main(["refresh", "--config", str(config_file), "--db", db, "--json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: step 'import orders' failed: ")
    failed = json.loads(out)
    assert failed["status"] == "failed" and failed["failed_step"] == "import orders"
    code = main(["refresh", "--config", str(config_file.parent / "missing.toml"), "--db", db])
    _out, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: Cannot read the config file")


def test_roles_edited_in_the_file_are_applied(project):
    ws, config_file, _customers = project
    store = ws.store
    data = pipeline.to_dict(pipeline.load(config_file))
    assert data["sources"][0]["roles"]["Taille"] == "category"
    data["sources"][0]["roles"]["Taille"] = "text"
    config_file.write_text(pipeline.to_toml(pipeline.from_dict(data)), encoding="utf-8")
    result = ws.refresh.run_file(config_file)
    assert result.steps[0].status == "done"
    assert DatasetsRepository(store).dataset("customers").roles["Taille"] == "text"
    assert ws.refresh.run_file(config_file).steps[0].status == "unchanged"


def test_cli_config_command(project, capsys):
    ws, config_file, _customers = project
    store = ws.store
    db = str(store.path)
    ws.close()
    out = config_file.parent / "nightly.toml"
    code = main(["config", "--out", str(out), "--db", db, "--segments", "refit", "--k", "4", "--no-auto-merge",
                 "--source", "customers=in/crm.csv", "--audience-file", "A and B=out/ab.xlsx", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result == {"config": str(out), "sources": ["customers", "orders"], "dedupe": True,
                                    "rfm": True, "scores": [], "segments": "base", "audiences": ["A and B"]}
    config = pipeline.load(out)
    assert (config.sources[0].file, config.sources[1].file) == ("in/crm.csv", "orders.csv")  # the last file read
    assert (config.segments.mode, config.segments.k, config.dedupe.auto_merge) == ("refit", 4, False)
    assert config.audiences[0].out == "out/ab.xlsx" and config.audiences[0].settings.format == "xlsx"


def test_steps_key_on_the_write_versions_of_their_inputs(refreshed):
    ws, config_file, _customers = refreshed
    store = ws.store
    out = config_file.parent / "audiences" / "a-and-b.csv"
    # A write elsewhere (another dataset imported) is no input of any step: everything stays unchanged.
    ws.ingest.import_bytes(b"id;email\nZ1;z@z.fr\n", "other.csv", ImportSettings(name="other"))
    again = ws.refresh.run_file(config_file)
    assert [s.status for s in again.steps] == ["unchanged"] * 6
    # A segment renamed on the page moves the customers dataset's version: the audience file is written again.
    version = ws.dataset("customers").version
    ws.dataset("customers").segments.rename_segment("base", 0, "Fidèles")
    assert ws.dataset("customers").version > version
    renamed = ws.refresh.run_file(config_file)
    statuses = {s.step: s.status for s in renamed.steps}
    assert statuses["import orders"] == "unchanged" and statuses["audience A and B"] == "done"
    assert "Fidèles" in set(pd.read_csv(out, sep=";", encoding="utf-8-sig", dtype=str)["segment_name"])
    # ...and the refresh after it settles again, leaving every version where it was.
    version, total = ws.dataset("customers").version, store.version()
    assert [s.status for s in ws.refresh.run_file(config_file).steps] == ["unchanged"] * 6
    assert (ws.dataset("customers").version, store.version()) == (version, total)


# --- a refresh writes only where it may ---------------------------------------------


def test_an_existing_file_a_refresh_did_not_write_is_not_overwritten(project):
    ws, config_file, _customers = project
    store = ws.store
    out = config_file.parent / "audiences" / "a-and-b.csv"
    out.parent.mkdir()
    out.write_bytes(b"budget;2027\nmarketing;40000\n")
    before = contents(store)
    with pytest.raises(RefreshError, match=r"step 'audience A and B' failed: '.*a-and-b.csv' already exists and was "
                                           r"not written by a refresh \(or was changed since\): it was not "
                                           r"overwritten"):
        ws.refresh.run_file(config_file)
    assert out.read_bytes() == b"budget;2027\nmarketing;40000\n"
    assert [p.name for p in out.parent.iterdir()] == ["a-and-b.csv"]         # no temporary file left
    assert contents(store)["export_log"] == before["export_log"]
    out.unlink()
    ws.refresh.run_file(config_file)                                          # written, and recorded
    written = out.read_bytes()
    assert store.query_value("SELECT sha256 FROM refresh_outputs WHERE path = ?", [str(out.resolve())]) == \
        hashlib.sha256(written).hexdigest()
    ws.dataset("customers").segments.rename_segment("base", 0, "Fidèles")    # the next refresh rewrites it
    assert {s.step: s.status for s in ws.refresh.run_file(config_file).steps}["audience A and B"] == "done"
    assert out.read_bytes() != written
    # Changed by someone since the refresh wrote it: refused again.
    out.write_bytes(out.read_bytes() + b"edited by hand\r\n")
    edited = out.read_bytes()
    ws.dataset("customers").segments.rename_segment("base", 0, "Fidèles 2")
    with pytest.raises(RefreshError, match="already exists and was not written by a refresh"):
        ws.refresh.run_file(config_file)
    assert out.read_bytes() == edited


def test_a_refresh_never_overwrites_its_source_export(project, capsys):
    ws, config_file, _customers = project
    data = pipeline.to_dict(pipeline.load(config_file))
    data["audiences"][0]["out"] = "exports/customers.csv"
    config_file.write_text(pipeline.to_toml(pipeline.from_dict(data)), encoding="utf-8")
    source = config_file.parent / "exports" / "customers.csv"
    export_bytes = source.read_bytes()
    db = str(ws.store.path)
    ws.close()
    code = main(["refresh", "--config", str(config_file), "--db", db])
    _out, err = capsys.readouterr()
    assert code == 2 and err.count("\n") == 1
    assert err == (f"error: audiences.out of 'A and B' in config file '{config_file}' is 'exports/customers.csv', "
                   "the export sources.file of 'customers': a refresh never overwrites its sources. Give the "
                   "audience another file name.\n")
    assert source.read_bytes() == export_bytes
    # A path out of the project's folder is refused the same way, before anything runs.
    data["audiences"][0]["out"] = "../unrelated/budget.csv"
    config_file.write_text(pipeline.to_toml(pipeline.from_dict(data)), encoding="utf-8")
    code = main(["refresh", "--config", str(config_file), "--db", db])
    _out, err = capsys.readouterr()
    assert code == 2 and "is '../unrelated/budget.csv', which is outside the folder" in err
    assert not (config_file.parent.parent / "unrelated").exists()


KILLED_REFRESH = """
import os, sys
from segmentation.automate.repository import RefreshRepository
from segmentation.core.store import Store
RefreshRepository(Store(sys.argv[1])).start("pipeline.toml")
os.kill(os.getpid(), 9)
"""


def test_a_refresh_left_running_by_a_killed_process_is_marked_interrupted(tmp_path):
    db = tmp_path / "work.duckdb"
    done = subprocess.run([sys.executable, "-c", KILLED_REFRESH, str(db)], cwd=ROOT, capture_output=True,
                          check=False)
    assert done.returncode == -9, done.stderr
    ws = open_workspace(db)
    try:
        assert ws.refresh.history()["status"].tolist() == ["running"]
        running_here = RefreshRepository(ws.store).start("mine.toml")          # this process's own: left alone
        result = ws.refresh.run(pipeline.PipelineConfig(base_dir=tmp_path))
        log = ws.refresh.history()
        assert log["id"].tolist() == [result.id, running_here, 1]
        assert log["status"].tolist() == ["ok", "running", "interrupted"]
        assert log["error"].iloc[2].startswith("Interrupted: found still running on ")
        assert pd.notna(log["seconds"].iloc[2])
        assert ws.refresh.mark_interrupted() == []
    finally:
        ws.close()


def test_a_file_an_earlier_version_wrote_is_overwritten_after_the_upgrade(refreshed):
    """Stores from before refresh_outputs: the export log names the audience's last export under this file
    name with as many rows as the file holds, so the refresh may replace it; another file still is refused."""
    ws, config_file, _customers = refreshed
    store = ws.store
    out = config_file.parent / "audiences" / "a-and-b.csv"
    with store.transaction(versioned=False) as tx:
        tx.execute("DELETE FROM refresh_outputs")                     # as an earlier version left it
    ws.dataset("customers").segments.rename_segment("base", 0, "Fidèles")
    written = out.read_bytes()
    assert {s.step: s.status for s in ws.refresh.run_file(config_file).steps}["audience A and B"] == "done"
    assert out.read_bytes() != written
    with store.transaction(versioned=False) as tx:
        tx.execute("DELETE FROM refresh_outputs")
    out.write_bytes(b"budget;2027\nmarketing;40000\n")                # not the audience's last export
    ws.dataset("customers").segments.rename_segment("base", 0, "Fidèles 2")
    with pytest.raises(RefreshError, match="already exists and was not written by a refresh"):
        ws.refresh.run_file(config_file)
    assert out.read_bytes() == b"budget;2027\nmarketing;40000\n"

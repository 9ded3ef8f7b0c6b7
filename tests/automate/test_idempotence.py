"""A refresh with RFM and a score settles: a step's input state never includes its own outputs or a later step's
(issue 17)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from segmentation import FeatureSettings, ImportSettings, ScoreSettings, open_workspace
from segmentation.activate.audiences import AudienceSpec
from segmentation.automate import config as pipeline
from segmentation.automate import repository
from segmentation.behaviour import propensity
from segmentation.behaviour.rfm import RFMSettings

STEPS = ["import crm", "import orders", "RFM crm", "score churn"]


@pytest.fixture
def scored(tmp_path):
    """300 customers with a yes/no target, 900 orders, RFM and a score set up, and the pipeline saved."""
    rng = np.random.default_rng(0)
    usage = rng.gamma(2, 3, 300)
    churned = rng.random(300) < 1 / (1 + np.exp(-(usage - 6)))
    (tmp_path / "crm.csv").write_text("id;email;usage;churned\n" + "".join(
        f"K{i};k{i}@x{i}.fr;{u:.2f};{'oui' if c else 'non'}\n" for i, (u, c) in enumerate(zip(usage, churned,
                                                                                                strict=True))))
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\n" + "".join(
        f"O{j},K{rng.integers(0, 300)},2026-{rng.integers(1, 11):02d}-{rng.integers(1, 28):02d},"
        f"{rng.integers(10, 500)}.00\n" for j in range(900)))
    ws = open_workspace(tmp_path / "w.duckdb")
    ws.ingest.import_path(tmp_path / "crm.csv", ImportSettings(name="crm"))
    ws.ingest.import_path(tmp_path / "orders.csv", ImportSettings(name="orders", kind="transactions"))
    crm = ws.dataset("crm")
    crm.behaviour.rfm(ws.dataset("orders"), RFMSettings(as_of="2026-11-01"))
    crm.behaviour.score(ScoreSettings("churned", name="churn", features=FeatureSettings(numeric=("usage",)), folds=3))
    config = ws.refresh.config_from_store("crm", files={"crm": "crm.csv", "orders": "orders.csv"})
    yield ws, ws.refresh.save_config(config, tmp_path / "pipeline.toml")
    ws.close()


def statuses(result) -> list[tuple[str, str]]:
    return [(s.step, s.status) for s in result.steps]


def test_the_second_refresh_with_rfm_and_a_score_runs_nothing_and_writes_nothing(scored):
    ws, path = scored
    first = ws.refresh.run_file(path)
    assert statuses(first) == [(step, "done") for step in STEPS]
    logged = ws.refresh.steps_of(first.id).set_index("step")["detail"].map(json.loads)
    crm = str(ws.dataset("crm").id)
    # Each done step's own writes are logged with it: RFM and the score each wrote the customers once.
    assert logged["RFM crm"]["store_writes"] == {crm: 1} and logged["score churn"]["store_writes"] == {crm: 1}
    version, crm_version, trained = ws.version, ws.dataset("crm").version, ws.dataset("crm").behaviour.models()
    for _ in range(2):
        again = ws.refresh.run_file(path)
        assert statuses(again) == [(step, "unchanged") for step in STEPS]
        assert (ws.version, ws.dataset("crm").version) == (version, crm_version)
        assert ws.refresh.changes(again.summary) == "nothing changed"
    assert ws.dataset("crm").behaviour.models()[0].trained_at == trained[0].trained_at   # not retrained


def test_a_later_step_running_again_leaves_the_earlier_steps_skipped(scored):
    ws, path = scored
    ws.refresh.run_file(path)
    config = pipeline.load(path)
    (score,) = config.scores
    changed = replace(config, scores=(replace(score, settings=replace(score.settings, folds=4)),))
    ws.refresh.save_config(changed, path)
    # Only the score's settings changed: it trains again and writes its scores on the customers; RFM, which
    # reads those customers, is not asked to run again, neither now nor on the refresh after.
    assert statuses(ws.refresh.run_file(path)) == [("import crm", "unchanged"), ("import orders", "unchanged"),
                                                   ("RFM crm", "unchanged"), ("score churn", "done")]
    version = ws.version
    assert statuses(ws.refresh.run_file(path)) == [(step, "unchanged") for step in STEPS]
    assert ws.version == version


def test_steps_finished_before_an_interruption_are_not_run_again(scored, monkeypatch):
    ws, path = scored
    ws.refresh.run_file(path)
    orders = path.parent / "orders.csv"
    orders.write_text(orders.read_text() + "O9999,K1,2026-10-30,99.00\n")    # a new order: RFM and the score run

    def killed(*_args, **_kwargs):
        raise KeyboardInterrupt  # the process is stopped during the score's training

    monkeypatch.setattr(propensity, "score_dataset", killed)
    with pytest.raises(KeyboardInterrupt):
        ws.refresh.run_file(path)
    monkeypatch.undo()
    repository.RUNNING.clear()  # as the next process finds the store: nobody is running that refresh
    resumed = ws.refresh.run_file(path)
    # What the stopped refresh finished (the orders imported, RFM computed) is kept and not done again.
    assert statuses(resumed) == [("import crm", "unchanged"), ("import orders", "unchanged"),
                                 ("RFM crm", "unchanged"), ("score churn", "done")]
    assert ws.refresh.history()["status"].tolist()[:2] == ["ok", "interrupted"]
    version = ws.version
    assert statuses(ws.refresh.run_file(path)) == [(step, "unchanged") for step in STEPS]
    assert ws.version == version


def test_an_audience_file_removed_or_edited_is_written_again_or_refused(tmp_path):
    """The audience step's own file is no input of its state: it is checked apart (as a refresh last wrote it)."""
    crm = tmp_path / "crm.csv"
    crm.write_text("id;email;consentement\n" + "".join(f"K{i};k{i}@x{i}.fr;oui\n" for i in range(40)))
    ws = open_workspace(tmp_path / "w.duckdb")
    try:
        handle = ws.ingest.import_path(crm, ImportSettings(name="crm"))
        handle.audiences.save("all", AudienceSpec(dataset="crm", channel=None))
        config = ws.refresh.config_from_store("crm", files={"crm": "crm.csv"})
        path = ws.refresh.save_config(config, tmp_path / "pipeline.toml")
        out = tmp_path / "audiences" / "all.csv"
        assert statuses(ws.refresh.run_file(path))[-1] == ("audience all", "done")
        assert statuses(ws.refresh.run_file(path))[-1] == ("audience all", "unchanged")
        written = out.read_bytes()
        out.unlink()
        assert statuses(ws.refresh.run_file(path))[-1] == ("audience all", "done")
        assert out.read_bytes() == written
        assert statuses(ws.refresh.run_file(path))[-1] == ("audience all", "unchanged")
    finally:
        ws.close()

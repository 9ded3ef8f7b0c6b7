"""``workspace.refresh``: the pipeline a user set up, read from the stages, saved, run and run again."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation import (
    FeatureSettings,
    ImportSettings,
    MatchSettings,
    PipelineConfig,
    ScoreConfig,
    ScoreSettings,
    SourceConfig,
    open_workspace,
)


@pytest.fixture
def ws(tmp_path):
    rng = np.random.default_rng(0)
    usage = rng.gamma(2, 3, 400)
    churned = rng.random(400) < 1 / (1 + np.exp(-(usage - 6)))
    crm = tmp_path / "crm.csv"
    crm.write_text("id;email;usage;churned\n" + "".join(f"K{i};k{i}@x{i % 50}.fr;{u:.2f};{'oui' if c else 'non'}\n"
                                                        for i, (u, c) in enumerate(zip(usage, churned, strict=True))))
    workspace = open_workspace(tmp_path / "w.duckdb")
    workspace.ingest.import_path(crm, ImportSettings(name="crm", date_order="dmy"))
    yield workspace
    workspace.close()


def test_the_pipeline_of_a_scored_dataset_round_trips_and_settles(ws, tmp_path):
    handle = ws.dataset("crm")
    handle.behaviour.score(ScoreSettings("churned", name="churn", features=FeatureSettings(numeric=("usage",))))
    handle.dedupe.find(MatchSettings(upper=0.95, lower=0.5))
    config = ws.refresh.config_from_store("crm", auto_merge=False)
    roles = handle.roles
    assert config.sources == (SourceConfig("crm", "crm.csv", ImportSettings(roles=roles, date_order="dmy")),)
    assert config.scores == (ScoreConfig("crm", ScoreSettings("churned", name="churn", features=FeatureSettings(
        numeric=("usage",)))),)
    assert (config.dedupe.settings.upper, config.dedupe.settings.lower, config.dedupe.auto_merge) == (0.95, 0.5, False)
    assert (config.rfm, config.segments, config.audiences) == (None, None, ())
    path = ws.refresh.save_config(config, tmp_path / "pipeline.toml")
    loaded = ws.refresh.load_config(path)
    assert loaded == PipelineConfig(**{**config.__dict__, "base_dir": tmp_path})
    assert "[scores.features]" in path.read_text(encoding="utf-8")

    first = ws.refresh.run_file(path)
    assert [(s.step, s.status) for s in first.steps] == [("import crm", "done"), ("deduplicate crm", "done"),
                                                         ("score churn", "done")]
    assert first.to_dict()["refresh"] == first.id and first.to_dict()["status"] == "ok"
    version = ws.version
    second = ws.refresh.run_file(path)
    assert [s.status for s in second.steps] == ["unchanged"] * 3 and ws.version == version
    assert ws.refresh.changes(second.summary) == "nothing changed"
    assert ws.refresh.steps_of(second.id)["status"].tolist() == ["unchanged"] * 3
    assert ws.refresh.history()["id"].tolist() == [second.id, first.id]

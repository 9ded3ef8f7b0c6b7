"""The Audiences and Refresh pages on the facade: reads cached on the write version, refreshes that settle."""

from __future__ import annotations

from pages.text import plain
from segmentation.activate import audiences
from segmentation.automate import runner as refresh
from segmentation.segment import runs as segments
from tests.app.conftest import app_store, metrics, run_app
from tests.conftest import SAMPLE


def test_audiences_page_shows_a_segment_renamed_elsewhere(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    run = segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=3,
                                name="Q1")
    at.switch_page("pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    picker = at.multiselect(key="audience_segments")
    assert picker.options == [f"{k} · {name}" for k, name in segments.names_of(s, "Q1").items()]
    at.multiselect(key="audience_segments").set_value([0]).run()
    segments.rename_segment(s, run.name, 0, "Champions")    # another session renames it: a committed write
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="audience_segments").options[0] == "0 · Champions"
    preview = next(d.value for d in at.dataframe if "segment_name" in d.value.columns)
    assert set(preview["segment_name"]) == {"Champions"}
    spec = audiences.AudienceSpec(dataset="sample customers", run="Q1", segments=(0,))
    assert metrics(at)["In the audience"] == f"{audiences.count(s, spec).final:,}"


def test_a_refresh_on_unchanged_inputs_is_logged_and_moves_no_version(seeded_db, opened_stores, tmp_path):
    at = run_app()
    s = app_store(opened_stores)
    segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=3, name="Q1")
    audiences.save_audience(s, "Segment 0", audiences.AudienceSpec(dataset="sample customers", segments=(0,)))
    at.switch_page("pages/refresh.py").run()
    assert not at.exception, [e.value for e in at.exception]
    config_file = tmp_path / "project" / "pipeline.toml"
    at.text_input(key="refresh_config_file").set_value(str(config_file))
    at.text_input(key="refresh_src_0_sample-customers").set_value(str(SAMPLE / "customers.csv"))
    at.run()
    at.button(key="refresh_save").click().run()
    at.text_input(key="refresh_run_file").set_value(str(config_file)).run()
    at.button(key="refresh_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    version = s.version()
    at.button(key="refresh_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    log = refresh.history(s)
    assert log["status"].tolist() == ["ok", "ok"] and log["changed"].iloc[0] == "nothing changed"
    assert at.success[0].value == plain(f"Refresh {log['id'].iloc[0]} done: nothing changed.")
    assert refresh.steps_of(s, int(log["id"].iloc[0]))["status"].tolist() == ["unchanged"] * 3
    assert s.version() == version                           # the log of a refresh that changed nothing is no write
    shown = next(d.value for d in at.dataframe if "changed" in d.value.columns)  # read afresh, not from a cache
    assert shown["id"].tolist() == log["id"].tolist()

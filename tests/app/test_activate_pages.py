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
    shown = next(d.value for d in at.dataframe if "What changed" in d.value.columns)  # read afresh, not from a cache
    assert shown["Refresh"].tolist() == log["id"].tolist()


def _markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_value_picker_folds_spellings_and_a_stale_condition_is_shown_not_applicable(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    at.switch_page("pages/audiences.py").run()
    at.selectbox(key="cond_column").set_value("Région").run()
    at.text_input(key="cond_search").set_value("ILE de").run()
    picker = at.multiselect(key="cond_pick")
    spec = audiences.AudienceSpec(dataset="sample customers", channel="email",
                                  groups=((audiences.Condition("Région", "eq", "ile de france"),),))
    expected = audiences.count(s, spec)
    assert picker.options[0].startswith("Île-de-France (") and len(picker.options) == 1
    picker.set_value(["Île-de-France"]).run()
    at.button(key="add_condition").click().run()
    assert "Région is Île-de-France" in _markdown(at)
    assert metrics(at)["In the audience"] == f"{expected.final:,}"
    dataset_id = at.session_state.audience_conditions[0]["dataset"]
    at.session_state.audience_conditions = [*at.session_state.audience_conditions,
                                            {"dataset": dataset_id, "group": 1, "column": "Gone", "op": "eq",
                                             "value": "x"}]
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "(not applicable: this dataset has no column Gone; left out)" in _markdown(at)
    assert metrics(at)["In the audience"] == f"{expected.final:,}"          # the stale condition is left out


def test_a_dataset_without_consent_column_asks_for_a_choice(seeded_db, opened_stores):
    from segmentation.ingest.importer import import_file

    at = run_app()
    s = app_store(opened_stores)
    import_file(s, b"id;email\nN1;a@x.fr\nN2;b@x.fr\n", "leads.csv")
    at.switch_page("pages/audiences.py").run()
    at.selectbox(key="audience_dataset").set_value("leads").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("has no consent or opt-out column" in w.value for w in at.warning)
    choice = at.radio(key="audience_no_consent_column")
    assert choice.value is None
    choice.set_value("exclude").run()
    assert metrics(at)["In the audience"] == "0"
    at.radio(key="audience_no_consent_column").set_value("treat-as-consenting").run()
    assert metrics(at)["In the audience"] == "2"


def test_saved_audiences_show_their_size_reopen_duplicate_and_delete(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    spec = audiences.AudienceSpec(dataset="sample customers", channel="email", holdout=0.1, seed=4,
                                  groups=((audiences.Condition("Région", "eq", "Bretagne"),),))
    audiences.save_audience(s, "Bretagne", spec)
    at.switch_page("pages/audiences.py").run()
    table = next(d.value for d in at.dataframe if "Status" in d.value.columns)
    assert table[["Audience", "Customers", "Status"]].values.tolist() == [["Bretagne", audiences.count(s, spec).final,
                                                                           "ready"]]
    at.button(key="saved_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Région is Bretagne" in _markdown(at)
    assert at.slider(key="audience_holdout").value == 10 and at.text_input(key="audience_name").value == "Bretagne"
    assert metrics(at)["Holdout"] == f"{audiences.count(s, spec).holdout:,}"
    at.text_input(key="saved_copy_name").set_value("Bretagne 2").run()
    at.button(key="saved_duplicate").click().run()
    assert audiences.get_audience(s, "Bretagne 2") == spec
    at.selectbox(key="saved_pick").set_value("Bretagne").run()
    at.button(key="saved_delete").click().run()
    at.button(key="saved_delete_yes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [n for n in audiences.saved_audiences(s)["name"]] == ["Bretagne 2"]


def test_the_holdout_slider_and_the_columns_keep_the_count_and_flag_the_preview(seeded_db, opened_stores,
                                                                                 monkeypatch):
    """Issue 21: the builder is a fragment; moving the slider counts nothing again, the preview's flags are
    those of ``select`` with the holdout."""
    from segmentation.activate.stage import AudiencesStage

    at = run_app()
    s = app_store(opened_stores)
    segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=3, name="Q1")
    at.switch_page("pages/audiences.py").run()
    at.multiselect(key="audience_segments").set_value([0]).run()
    counted: list = []
    real = AudiencesStage.count
    monkeypatch.setattr(AudiencesStage, "count", lambda self, spec: counted.append(spec) or real(self, spec))
    at.slider(key="audience_holdout").set_value(30).run()
    assert not at.exception, [e.value for e in at.exception]
    assert counted == []                                                  # the count of this audience is kept
    spec = audiences.AudienceSpec(dataset="sample customers", run="Q1", segments=(0,), holdout=0.3,
                                  columns=tuple(at.multiselect(key="audience_columns_1_email").value))
    expected = audiences.count(s, spec)
    assert metrics(at)["Holdout"] == f"{expected.holdout:,}" and expected.holdout > 0
    preview = next(d.value for d in at.dataframe if "segment_name" in d.value.columns)
    flags = audiences.select(s, spec, 20)["holdout"]
    assert preview["holdout"].tolist() == flags.map({True: "yes", False: "no"}).tolist() and flags.any()
    at.slider(key="audience_holdout").set_value(0).run()
    assert counted == [] and "holdout" not in next(d.value for d in at.dataframe if "segment_name" in d.value.columns)
    assert metrics(at)["Holdout"] == "0"

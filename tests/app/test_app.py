"""The Import page through Streamlit's AppTest: seeding, upload and import, bad files, the quality report.

Each test runs the real ``app.py`` (router, cached store, page) on a store of its own, named by
``SEGMENT_STUDIO_DB``; Streamlit's caches are cleared around every test and every store the app
opened is closed, so no test sees another's data or keeps a file open.
"""

from __future__ import annotations

import random
import re
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import app_state
from pages.text import plain
from segmentation.activate import audiences
from segmentation.automate import config as pipeline
from segmentation.automate import runner as refresh
from segmentation.behaviour import propensity, rfm
from segmentation.dedupe import review as dedupe
from segmentation.ingest.repository import DatasetsRepository
from segmentation.segment import runs as segments
from segmentation.segment import snapshots
from tests.app.conftest import app_store, dataset_summary, metrics, run_app, sample_customer_count, sample_customers
from tests.conftest import SAMPLE

# --- (a) first start -----------------------------------------------------------


def test_first_start_seeds_empty_store_and_shows_sample(empty_db, opened_stores):
    assert not empty_db.exists()
    at = run_app()

    s = app_store(opened_stores)
    assert s.path == empty_db
    expected = sample_customer_count()
    assert {d.name: d.row_count for d in DatasetsRepository(s).datasets()}["sample customers"] == expected
    assert {d.name for d in DatasetsRepository(s).datasets()} == {"sample customers", "sample orders"}

    assert at.title[0].value == "Import customers"
    assert at.selectbox(key="import_dataset").value == "sample customers"
    assert set(at.selectbox(key="import_dataset").options) == {"sample customers", "sample orders"}
    shown = metrics(at)
    assert shown["Rows"] == f"{expected:,}"
    assert shown["Kind"] == "customers"
    assert shown["Unreadable rows"] == "0"
    assert "Data quality" in [h.value for h in at.subheader]
    assert not at.error
    assert plain(str(empty_db)) in at.sidebar.caption[0].value


def test_seeding_reports_its_progress_and_leaves_no_bar(empty_db, opened_stores, monkeypatch):
    told: list[tuple[float, str]] = []
    real_bar = app_state.progress_bar

    def recording_bar():
        bar = real_bar()
        return lambda fraction, message: (told.append((fraction, app_state.say(message))), bar(fraction, message))

    monkeypatch.setattr(app_state, "progress_bar", recording_bar)
    at = run_app()
    assert told, "no progress while the sample data was imported"
    fractions = [f for f, _ in told]
    assert fractions == sorted(fractions) and fractions[0] < 0.5 < fractions[-1] and fractions[-1] == 1.0
    assert {m for _, m in told} == {"Loading the sample data (customers.csv)…", "Loading the sample data (orders.csv)…"}
    assert not at.get("progress")  # the bar went once the sample data was in
    told.clear()
    run_app()  # the same store again: nothing to load, no bar
    assert told == []


def test_a_store_emptied_by_its_user_is_not_seeded_again_in_the_same_process(empty_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    for ds in DatasetsRepository(s).datasets():
        DatasetsRepository(s).delete(ds.id)
    at.run()
    assert DatasetsRepository(s).datasets() == []


def test_second_start_does_not_seed_again(seeded_db, opened_stores):
    run_app()
    s = app_store(opened_stores)
    assert sorted(d.name for d in DatasetsRepository(s).datasets()) == ["sample customers", "sample orders"]


# --- (b) upload and import -----------------------------------------------------


def test_upload_french_csv_preview_and_import(seeded_db, opened_stores, french_csv):
    at = run_app()
    s = app_store(opened_stores)
    before = dataset_summary(s)
    assert at.selectbox(key="import_dataset").value == "sample customers"

    at.file_uploader(key="uploader").set_value(("clients_fr.csv", french_csv, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]

    facts = [m.value for m in at.markdown if "Format" in m.value]
    assert facts == ["Format **CSV** · encoding **cp1252** · delimiter **;**"]
    preview = at.dataframe[0].value
    assert len(preview) == 4
    assert list(preview.columns)[:3] == ["ID client", "Société", "Région"]
    assert preview["Société"].tolist()[0] == "Boulangerie Martin SAS"  # decoded from cp1252
    assert "Column roles" in [h.value for h in at.subheader]
    assert [t.value for t in at.text_input if t.label == "Dataset name"] == ["clients_fr"]
    # The upload is kept in the store, nothing is imported yet.
    assert dataset_summary(s) == before
    assert at.button(key="import").label == "Import"

    at.button(key="import").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert [m.value for m in at.success] == ["Imported **4** rows into dataset **clients\\_fr**."]  # names escaped
    assert at.selectbox(key="import_dataset").value == "clients_fr"
    assert "clients_fr" in at.selectbox(key="import_dataset").options
    shown = metrics(at)
    assert shown["Rows"] == "4"
    assert shown["Columns"] == "12"
    assert shown["Kind"] == "customers"

    ds = DatasetsRepository(s).dataset("clients_fr")
    assert (ds.row_count, ds.encoding, ds.delimiter, ds.source_file) == (4, "cp1252", ";", "clients_fr.csv")
    assert ds.roles["E-mail"] == "email"
    assert dataset_summary(s) == [("clients_fr", 4, "customers"), *before]


# --- (c) bad files ---------------------------------------------------------------


BAD_FILES = {
    "empty": (b"", r"'empty\.csv' is empty"),
    "blank lines": (b" \r\n\r\n", r"'blank lines\.csv' is empty"),
    "binary garbage": (random.Random(7).randbytes(4096),
                       r"'binary garbage\.csv' does not look like a text table \(CSV\) or an Excel workbook"),
    "png named csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
                      r"'png named csv\.csv' does not look like a text table"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_shows_error_and_changes_nothing(seeded_db, opened_stores, case):
    data, message = BAD_FILES[case]
    at = run_app()
    s = app_store(opened_stores)
    before = dataset_summary(s)
    tables_before = s.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1")

    at.file_uploader(key="uploader").set_value((f"{case}.csv", data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    assert re.search(message, re.sub(r"\\(.)", r"\1", errors[0])), errors[0]  # shown escaped (pages.text.plain)
    # Helpful: it says what to do next.
    assert re.search(r"export|upload", errors[0], re.IGNORECASE), errors[0]
    assert not [b for b in at.button if b.key == "import"], "no Import button for a file that cannot be read"
    assert dataset_summary(s) == before
    assert s.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1") == tables_before

    # Removing the file brings the page back as it was.
    at.file_uploader(key="uploader").set_value(None).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="import_dataset").value == "sample customers"
    assert metrics(at)["Rows"] == f"{sample_customer_count():,}"
    assert dataset_summary(s) == before


# --- (d) quality report -----------------------------------------------------------


def issues_table(at: AppTest) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if list(d.value.columns) == ["Issue", "Rows"]]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def issue_rows_shown(at: AppTest) -> pd.DataFrame:
    found = [d.value for d in at.dataframe if list(d.value.columns)[:1] == ["row"]]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def download_label(at: AppTest) -> str:
    buttons = [b for b in at.get("download_button") if b.key == "issue_download"]
    assert len(buttons) == 1
    return buttons[0].label


def test_changing_quality_issue_shows_its_rows(seeded_db, opened_stores):
    at = run_app()
    issues = issues_table(at)
    counts = dict(zip(issues["Issue"], issues["Rows"], strict=True))
    picker = at.selectbox(key="issue")
    assert picker.value == "missing:E-mail"
    assert picker.options[0] == "Missing E-mail"  # AppTest lists the formatted labels

    blank_emails = int(sample_customers()["E-mail"].str.strip().eq("").sum())
    assert counts["Missing E-mail"] == blank_emails
    missing = issue_rows_shown(at)
    assert len(missing) == min(counts["Missing E-mail"], 200) > 0
    assert missing["E-mail"].fillna("").astype(str).str.strip().eq("").all()
    assert download_label(at) == f"Download these {counts['Missing E-mail']:,} rows (CSV)"

    picker.set_value("invalid:E-mail").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="issue").value == "invalid:E-mail"
    invalid = issue_rows_shown(at)
    expected = counts["Invalid E-mail"]
    assert 0 < expected <= 200
    assert len(invalid) == expected
    emails = invalid["E-mail"].astype(str).str.strip()
    assert emails.ne("").all()
    # None of them looks like a valid address (the sample's typos: "x@", "x@@y.fr", "x.y.fr", "x@yfr").
    assert not emails.str.fullmatch(r"[^@\s]+@[^@\s]+\.[a-zA-Z]{2,}").any(), emails.tolist()
    assert set(invalid["row"]).isdisjoint(set(missing["row"]))
    assert download_label(at) == f"Download these {expected:,} rows (CSV)"


# --- Deduplicate page ------------------------------------------------------------


def open_dedupe(seeded_db):
    at = run_app()
    at.switch_page("pages/deduplicate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def find(at):
    at.button(key="find").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return metrics(at)


def test_find_accept_reject_and_undo(seeded_db, opened_stores):
    at = open_dedupe(seeded_db)
    assert "Find duplicates" in at.info[0].value
    shown = find(at)
    store = app_store(opened_stores)
    run = dedupe.last_run(store, "sample customers")
    assert shown["Records"] == f"{run.records:,}" and run.sure_matches > 0
    assert shown["Customers after merges"] == f"{run.records:,}"

    at.radio(key="review_status").set_value("sure").run()
    caption = at.caption[0].value
    assert caption.startswith("Pair 1 of")
    at.button(key="accept").click().run()
    assert metrics(at)["Customers after merges"] == f"{run.records - 1:,}"
    assert len(dedupe.merge_groups(store, "sample customers")) == 1

    before = len(dedupe.pairs_table(store, "sample customers", status="sure", undecided_only=True))
    at.button(key="reject").click().run()
    after = dedupe.pairs_table(store, "sample customers", status="sure", undecided_only=True)
    assert len(after) == before - 1
    assert "no_match" in set(dedupe.pairs_table(store, "sample customers")["decision"].dropna())

    at.button(key="bulk_merge").click().run()
    merged = dedupe.record_count(store, "sample customers")
    assert merged < run.records - 1
    assert metrics(at)["Customers after merges"] == f"{merged:,}"

    at.button(key="undo_all").click().run()
    at.button(key="undo_all_yes").click().run()             # the confirmation dialog
    assert not at.exception
    assert metrics(at)["Customers after merges"] == f"{run.records:,}"
    assert dedupe.merge_groups(store, "sample customers").empty


def test_split_one_group(seeded_db, opened_stores):
    at = open_dedupe(seeded_db)
    find(at)
    at.button(key="bulk_merge").click().run()
    store = app_store(opened_stores)
    groups = dedupe.merge_groups(store, "sample customers")
    first = int(groups["group_id"].iloc[0])
    at.selectbox(key="split_group").set_value(first).run()
    at.button(key="split").click().run()
    at.button(key="split_yes").click().run()                # the confirmation dialog
    remaining = dedupe.merge_groups(store, "sample customers")["group_id"].tolist()
    assert first not in remaining and len(remaining) == len(groups) - 1


def test_later_export_added_to_the_sample(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    rows = DatasetsRepository(s).dataset("sample customers").row_count
    later = sample_customers().iloc[:12].copy()
    later["ID client"] = [*later["ID client"][:10], "NEW-1", "NEW-2"]  # ten repeated (one changed), two new
    later.loc[later.index[0], "Ville"] = "Lyon"
    data = later.to_csv(sep=";", index=False).encode("utf-8")
    at.file_uploader(key="uploader").set_value(("march export.csv", data, "text/csv")).run()
    upload_id = next(iter(at.session_state["uploads"].values()))
    at.selectbox(key=f"append_{upload_id}").select("sample customers").run()
    assert [t.key for t in at.text_input] == ["forget_who"]  # the dataset's own name and roles apply
    at.button(key="import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [m.value for m in at.success] == [
        f"Added to **sample customers**: 2 new records, 1 records updated, 9 rows already there as they were; "
        f"{rows + 2:,} records in all."]
    ds = DatasetsRepository(s).dataset("sample customers")
    assert ds.row_count == rows + 2
    assert s.query_value(f'SELECT "Ville" FROM {ds.clean_table} WHERE "ID client" = ?',
                         [later["ID client"].iloc[0]]) == "Lyon"
    assert metrics(at)["Rows"] == f"{rows + 2:,}"


# --- Segment page ----------------------------------------------------------------


def open_segment():
    at = run_app()
    at.switch_page("pages/segment.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_segment_pick_features_score_k_run_and_manage(seeded_db, opened_stores):
    at = open_segment()
    assert at.title[0].value == "Segment customers"
    s = app_store(opened_stores)
    ds = DatasetsRepository(s).dataset("sample customers")
    numeric = at.multiselect(key=f"seg_numeric_{ds.id}")
    assert "Valeur contrat" in numeric.value and "Nom" not in numeric.options   # sensible defaults, no names
    assert at.caption[-1].value == "No run yet."
    # Narrow the features, then score k = 2..6.
    numeric.set_value(["Valeur contrat", "Fréquence d'utilisation", "Tickets support"]).run()
    at.slider(key="seg_k_range").set_value((2, 6)).run()
    at.button(key="scan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    scan = segments.last_scan(s, ds.name)
    assert list(scan.scores["k"]) == [2, 3, 4, 5, 6]
    assert scan.settings.numeric == ("Valeur contrat", "Fréquence d'utilisation", "Tickets support")
    assert at.info[0].value == f"**Recommended: {scan.reason}**"
    k_input = next(n for n in at.number_input if n.label == "Number of segments (k)")
    assert k_input.value == scan.recommended_k
    # Take another k than the recommended one and run.
    other = 3 if scan.recommended_k != 3 else 4
    k_input.set_value(other).run()
    at.text_input(key="seg_run_name").set_value("Spring").run()
    at.button(key="run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.success[0].value == f"Run **Spring** saved: {ds.row_count:,} customers in {other} segments."
    run = segments.get_run(s, dataset=ds.name)
    assert (run.name, run.k, run.customers) == ("Spring", other, ds.row_count)
    assert sum(segments.segment_sizes(s, "Spring").values()) == ds.row_count
    # Rename it, then delete it.
    at.text_input(key="seg_new_name").set_value("Spring 2026").run()
    at.button(key="rename").click().run()
    assert list(segments.runs(s)["name"]) == ["Spring 2026"]
    at.button(key="delete_run").click().run()
    at.button(key="delete_run_yes").click().run()           # the confirmation dialog
    assert segments.runs(s).empty
    assert at.caption[-1].value == "No run yet."


# --- Profile page ----------------------------------------------------------------


def test_profile_page_shows_rules_and_saves_names(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    at.switch_page("pages/profile.py").run()
    assert [i.value for i in at.info] == ["Run a segmentation first (page Segment)."]
    segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=4,
                          name="Autumn")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="profile_run").value == "Autumn"
    profile = segments.profile_run(s, "Autumn")
    shown = [int(m.value.replace(",", "")) for m in at.metric if m.label == "Customers"]
    assert shown == profile.sizes["size"].tolist() and sum(shown) == 5480      # one card per segment
    at.text_input(key="rename_name_0").set_value("Champions").run()
    at.button(key="rename_button_0").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert segments.segment_names(s, "Autumn")[0] == "Champions"
    assert "Champions" in [h.value for h in at.subheader]


# --- Audiences page --------------------------------------------------------------


def test_audience_from_a_segment_and_a_region(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    run = segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=3,
                                name="Q1")
    at.switch_page("pages/audiences.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key=f"audience_run_{DatasetsRepository(s).dataset('sample customers').id}").value == "Q1"
    at.multiselect(key="audience_segments").set_value([0]).run()
    at.selectbox(key="cond_column").set_value("Région").run()
    at.selectbox(key="cond_op").set_value("eq").run()
    at.text_input(key="cond_value").set_value("Île-de-France").run()
    at.button(key="add_condition").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Région is Île-de-France" in " ".join(m.value for m in at.markdown)
    spec = audiences.AudienceSpec(dataset="sample customers", run="Q1", segments=(0,),
                                  groups=((audiences.Condition("Région", "eq", "Île-de-France"),),))
    figures = audiences.count(s, spec)
    shown = metrics(at)
    assert shown["In the segments"] == f"{segments.segment_sizes(s, 'Q1')['0']:,}"
    assert shown["In the audience"] == f"{figures.final:,}" and figures.final > 0
    assert shown["Without consent (excluded)"] == f"{figures.excluded_no_consent:,}"
    preview = at.dataframe[0].value
    assert list(preview.columns) == ["ID client", "Société", "Prénom", "Nom", "E-mail", "segment_name"]
    assert len(preview) == min(20, figures.final)
    # Consent can be overridden, explicitly; a holdout is counted.
    at.checkbox(key="audience_include_no_consent").check().run()
    assert metrics(at)["In the audience"] == f"{figures.final + figures.excluded_no_consent:,}"
    at.slider(key="audience_holdout").set_value(20).run()
    assert 0 < int(metrics(at)["Holdout"].replace(",", "")) < figures.final + figures.excluded_no_consent
    at.text_input(key="audience_name").set_value("IDF core").run()
    at.button(key="save_audience").click().run()
    assert at.success[0].value == "Audience **IDF core** saved."
    saved = audiences.get_audience(s, "IDF core")
    assert saved.include_no_consent and saved.holdout == 0.2 and saved.segments == (0,)
    assert run.name == "Q1"


# --- Behaviour page ---------------------------------------------------------------


def test_rfm_page_computes_groups_from_the_sample_orders(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    at.switch_page("pages/behaviour.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="rfm_orders").value == "sample orders"
    assert "No RFM yet for this dataset." in [c.value for c in at.caption]
    at.date_input(key="rfm_as_of").set_value(date(2026, 11, 1)).run()
    at.button(key="rfm_compute").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    info = rfm.last(s, "sample customers")
    assert info["as_of"] == "2026-11-01" and info["link_column"] == "customer_id"
    shown = metrics(at)
    assert shown["Customers with orders"] == f"{info['customers_with_orders']:,}"
    assert shown["Orders of unknown customers"] == f"{info['unknown_customer_orders']:,}"
    assert sum(info["groups"].values()) == info["customers_with_orders"] > 4000
    # The measures are customer attributes now: offered as features on the Segment page.
    at.switch_page("pages/segment.py").run()
    options = at.multiselect(key=f"seg_numeric_{DatasetsRepository(s).dataset('sample customers').id}").options
    assert {"RFM recency (days)", "RFM monetary"} <= set(options)



def test_propensity_section_trains_and_scores(seeded_db, opened_stores):
    at = run_app()
    s = app_store(opened_stores)
    at.switch_page("pages/behaviour.py").run()
    at.date_input(key="rfm_as_of").set_value(date(2026, 11, 1)).run()
    at.button(key="rfm_compute").click().run()
    assert "RFM recency (days)" in at.selectbox(key="score_target").options
    at.selectbox(key="score_target").set_value("RFM recency (days)").run()
    at.number_input(key="score_within").set_value(90).run()
    at.text_input(key="score_name").set_value("active").run()
    at.button(key="score_train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    model = propensity.get_model(s, "active", "sample customers")
    shown = metrics(at)
    assert shown["Score column"] == "score_active" and shown["Chosen model"] == model["chosen"]
    assert shown["ROC AUC (cross-validated)"] == f"{model['auc_mean']:.2f} ± {model['auc_std']:.2f}"
    assert "RFM recency (days)" not in model["top_features"]      # the target's source is never a feature


# --- Refresh page -----------------------------------------------------------------


def test_refresh_page_saves_config_runs_it_and_shows_snapshots(seeded_db, opened_stores, tmp_path):
    at = run_app()
    s = app_store(opened_stores)
    dedupe.find_pairs(s, "sample customers")
    dedupe.merge(s, "sample customers", above=0.9)
    segments.run_segments(s, "sample customers", segments.default_features(s, "sample customers"), k=3, name="Q1")
    audiences.save_audience(s, "Segment 0", audiences.AudienceSpec(dataset="sample customers", segments=(0,)))
    at.switch_page("pages/refresh.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "No refresh yet." in [c.value for c in at.caption]
    config_file = tmp_path / "project" / "pipeline.toml"
    at.text_input(key="refresh_config_file").set_value(str(config_file))
    at.text_input(key="refresh_src_0_sample-customers").set_value(str(SAMPLE / "customers.csv"))
    at.text_input(key="refresh_out_0_segment-0").set_value("out/segment 0.csv")
    at.run()
    at.button(key="refresh_save").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith(f"Saved **{plain(str(config_file))}**")
    config = pipeline.load(config_file)
    assert config.sources[0].file == str(SAMPLE / "customers.csv")
    assert (config.segments.run, config.segments.mode, config.dedupe.auto_merge) == ("Q1", "assign", True)
    assert config.audiences[0].out == "out/segment 0.csv"

    at.text_input(key="refresh_run_file").set_value(str(config_file)).run()
    at.button(key="refresh_run").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    log = refresh.history(s)
    assert log["status"].tolist() == ["ok"]
    assert at.success[0].value == plain(f"Refresh {log['id'].iloc[0]} done: {log['changed'].iloc[0]}.")
    written = pd.read_csv(config_file.parent / "out" / "segment 0.csv", sep=";", encoding="utf-8-sig")
    assert len(written) == len(audiences.select(s, audiences.get_audience(s, "Segment 0")))
    shown = next(d.value for d in at.dataframe if "What changed" in d.value.columns)
    assert shown["Status"].tolist() == ["ok"]
    queue = dedupe.pairs_table(s, "sample customers", status="review", undecided_only=True)
    assert metrics(at)["Pairs waiting for review"] == f"{len(queue):,}"

    # One snapshot from the refresh; taking another with nobody moved takes none; after a move, a migration.
    assert len(snapshots.snapshots(s, "sample customers")) == 1
    at.button(key="snapshot_take").click().run()
    assert at.success[0].value == "Nobody moved since the last snapshot: none taken."
    run = segments.get_run(s, "Q1")
    s.query_rows("UPDATE segment_members SET segment = (segment + 1) % 3 WHERE run_id = ? AND customer_id IN "
                 "(SELECT customer_id FROM segment_members WHERE run_id = ? ORDER BY customer_id LIMIT 7)",
                 [run.id, run.id])
    at.button(key="snapshot_take").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(snapshots.snapshots(s, "sample customers")) == 2
    assert "7 customers moved." in [c.value for c in at.caption]

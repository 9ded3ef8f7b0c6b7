"""The dedupe stage through the facade (``handle.dedupe``), and two sessions doing the same thing at once."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from segmentation import MergeResult, NotFoundError, SettingError, UnmergeResult, open_workspace
from segmentation.dedupe import repository
from segmentation.ingest.importer import import_file
from tests.dedupe.test_review import CSV, add_pairs

ROUNDS = 6


@pytest.fixture
def ws(tmp_path):
    w = open_workspace(tmp_path / "ws.duckdb")
    yield w
    w.close()


@pytest.fixture
def handle(ws):
    ds = import_file(ws.store, CSV, "crm.csv")
    add_pairs(ws.store, ds, [(1, 2, 0.97), (3, 4, 0.7), (2, 5, 0.3)])
    return ws.dataset(ds.name)


def test_merge_unmerge_and_their_results(handle):
    dedupe = handle.dedupe
    assert dedupe.waiting_for_review() == 2
    result = dedupe.merge(above=0.9)
    assert result == MergeResult(groups_merged=1, records_before=5, records_after=4, refused_chains=0)
    assert result.to_dict() == {"groups_merged": 1, "records_before": 5, "records_after": 4, "refused_chains": 0}
    groups = dedupe.groups()
    assert groups["record_ids"].tolist() == ["A1;A2"] and groups["records"].tolist() == [2]
    assert dedupe.record_count() == 4 == handle.customers.count()
    undone = dedupe.unmerge(group=int(groups["group_id"].iloc[0]))
    assert undone == UnmergeResult(records_after=5) and undone.to_dict() == {"records_after": 5}
    with pytest.raises(NotFoundError):
        dedupe.unmerge(group=int(groups["group_id"].iloc[0]))
    with pytest.raises(SettingError):
        dedupe.unmerge()
    # The split pair went back to review and is not merged again in bulk.
    assert dedupe.merge(above=0.9).records_after == 5
    assert dedupe.pairs().set_index(["left_row", "right_row"]).loc[(1, 2), "decision"] == "undone"


def test_decide_review_queue_and_audit_log(handle):
    dedupe = handle.dedupe
    assert dedupe.decide([(4, 3)], "match") == 1                        # row order does not matter
    assert dedupe.waiting_for_review() == 1
    queue = dedupe.pairs(status="review", undecided_only=True)
    assert list(zip(queue["left_id"], queue["right_id"], strict=True)) == [("A2", "A5")]
    assert dedupe.audit_log()["action"].tolist() == ["match"]
    with pytest.raises(SettingError):
        dedupe.decide([(2, 5)], "maybe")


def test_pairs_files_and_records(handle, tmp_path):
    dedupe = handle.dedupe
    listed = tmp_path / "pairs.csv"
    listed.write_text("left_id,right_id\nA3,A4\n", encoding="utf-8")
    assert dedupe.pairs_from_file(listed) == [(3, 4)]
    out = tmp_path / "out.csv"
    dedupe.export_pairs(out)
    written = pd.read_csv(out, dtype={"left_id": str, "right_id": str})
    assert written[["left_id", "right_id"]].values.tolist() == [["A1", "A2"], ["A3", "A4"], ["A2", "A5"]]
    side = dedupe.pair_records(3, 4).set_index("field")
    assert side.loc["email", "left"] == "marie@acme.fr" and side.loc["email", "right"] == ""
    assert bool(side.loc["email", "differs"]) and not bool(side.loc["first name", "differs"])
    preview = dedupe.preview_golden([1, 2])
    assert preview["customer_id"].tolist() == ["C1"] and preview["source_ids"].tolist() == ["A1;A2"]
    assert dedupe.last_run() is None and dedupe.last_settings() is None


def test_rules_table_round_trip(handle):
    dedupe = handle.dedupe
    table = dedupe.survivorship_table().set_index("Column")
    assert table.loc["value", "Rule"] == "Largest / latest" and table.loc["created", "Rule"] == "Smallest / earliest"
    table.loc["value", "Rule"] = "Sum"
    saved = dedupe.save_survivorship(table.reset_index())
    assert saved.rules["value"] == "sum" and dedupe.survivorship() == saved
    dedupe.merge(above=0.9)
    jean = handle.customers.golden_rows().query("source_ids == 'A1;A2'").iloc[0]
    assert jean["value"] == 350


def test_find_on_the_facade_keeps_the_run(ws):
    ds = import_file(ws.store, CSV, "crm.csv")
    dedupe = ws.dataset(ds.name).dedupe
    summary = dedupe.find()
    assert summary.records == 5 and summary == dedupe.last_run()
    assert set(summary.to_dict()) == {"records", "pairs_compared", "candidate_pairs", "sure_matches", "to_review",
                                      "blocks_capped"}
    assert summary.candidate_pairs == len(dedupe.pairs())
    assert dedupe.last_settings().upper == pytest.approx(0.9) and dedupe.last_run_time() is not None


# -- two sessions at once -------------------------------------------------------------------


def race(*actions) -> list:
    """Run the actions in threads released together; returns their results (exceptions re-raised)."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)
    errors: list[BaseException] = []

    def run(i, action):
        barrier.wait()
        try:
            results[i] = action()
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def assert_consistent(handle) -> None:
    """Each record in at most one active group; customers, the groups listing and golden records agree."""
    members = repository.active_members(handle.store, handle.info)
    assert not members["row"].duplicated().any(), members.sort_values("row").to_dict("records")
    groups = handle.dedupe.groups()
    in_groups = [r for ids in groups["record_ids"] for r in ids.split(";")]
    assert len(in_groups) == len(set(in_groups)) == int(groups["records"].sum())
    customers = handle.dedupe.record_count()
    assert customers == handle.info.row_count - (len(in_groups) - len(groups))
    assert len(handle.customers.golden_rows()) == customers == handle.customers.count()
    assert len(handle.customers.table()) == customers


def standing(handle, left: int, right: int) -> str | None:
    table = handle.dedupe.pairs().set_index(["left_row", "right_row"])
    decision = table.loc[(left, right), "decision"]
    return None if pd.isna(decision) else decision


def test_two_sessions_merging_the_same_pair_merge_it_once(handle):
    dedupe = handle.dedupe
    for _ in range(ROUNDS):
        results = race(lambda: dedupe.merge(pairs=[(1, 2)]), lambda: dedupe.merge(pairs=[(1, 2)]))
        assert sorted(r.groups_merged for r in results) == [0, 1]
        assert sorted(r.records_after for r in results) == [4, 4]
        assert_consistent(handle)
        assert dedupe.groups()["record_ids"].tolist() == ["A1;A2"]
        dedupe.unmerge(everything=True)
        assert_consistent(handle)
    # One decision per press that changed something: the first round's "match" (the others found it standing).
    log = dedupe.audit_log()
    assert (log["action"] == "match").sum() == 1
    assert log["action"].str.startswith("merged group").sum() == ROUNDS


def test_two_sessions_growing_one_group_at_once(handle):
    dedupe = handle.dedupe
    dedupe.merge(pairs=[(1, 2)])
    add_pairs(handle.store, handle.info, [(1, 5, 0.95)])
    race(lambda: dedupe.merge(pairs=[(2, 5)]), lambda: dedupe.merge(pairs=[(1, 5)]))
    assert_consistent(handle)
    assert dedupe.groups()["record_ids"].tolist() == ["A1;A2;A5"]
    assert dedupe.record_count() == 3


def test_two_sessions_deciding_the_same_pair_decide_it_once(handle):
    dedupe = handle.dedupe
    for decision in ["no_match", "match", "no_match", "no_match", "match", "no_match"]:
        race(lambda d=decision: dedupe.decide([(3, 4)], d), lambda d=decision: dedupe.decide([(3, 4)], d))
        assert standing(handle, 3, 4) == decision
        assert dedupe.waiting_for_review() == 1
    # One entry per change of mind; the repeated "no_match" (rounds 3 and 4) is logged once.
    assert dedupe.audit_log()["action"].tolist()[::-1] == ["no_match", "match", "no_match", "match", "no_match"]


def test_merge_and_unmerge_at_once_end_as_one_then_the_other(handle):
    dedupe = handle.dedupe
    outcomes = set()
    for _ in range(ROUNDS):
        dedupe.unmerge(everything=True)
        dedupe.decide([(1, 2)], "match")
        dedupe.decide([(2, 5)], "no_match")
        dedupe.merge()
        group = int(dedupe.groups()["group_id"].iloc[0])
        race(lambda: dedupe.merge(pairs=[(2, 5)]), lambda g=group: dedupe.unmerge(group=g))
        assert_consistent(handle)
        outcome = (tuple(dedupe.groups()["record_ids"]), standing(handle, 2, 5))
        # Merge first: A5 joined the group, then the split sent all its pairs back to review.
        # Split first: A2 and A5 merged alone.
        assert outcome in {((), "undone"), (("A2;A5",), "match")}, outcome
        outcomes.add(outcome)
    assert outcomes


# -- the review queue one pair at a time, deep links, reasons, and a failure in matching ---------------------------
def test_the_queue_one_pair_at_a_time(handle):
    dedupe = handle.dedupe
    assert dedupe.queue_size("review") == 2 and dedupe.queue_size("sure") == 1 and dedupe.queue_size(None) == 3
    first, second = dedupe.queue_pair("review", 0), dedupe.queue_pair("review", 1)
    assert (first["left_id"], first["right_id"], first["score"]) == ("A3", "A4", 0.7)
    assert (second["left_id"], second["right_id"], second["in_chain"]) == ("A2", "A5", False)
    assert dedupe.queue_pair("review", 2)["left_id"] == "A3"          # past the end wraps around
    dedupe.decide([(3, 4)], "no_match")
    assert dedupe.queue_size("review") == 1 and dedupe.queue_pair("review", 0)["left_id"] == "A2"
    dedupe.decide([(2, 5)], "no_match")
    assert dedupe.queue_pair("review", 0) is None
    sample = dedupe.score_sample()
    assert sorted(sample["score"]) == [0.3, 0.7, 0.97]


def test_a_deep_link_names_a_pair_by_its_record_ids(handle):
    dedupe = handle.dedupe
    for link in ("A4-A3", "A3-A4", " A3-A4 ", "3-4"):
        pair = dedupe.pair_from_link(link)
        assert (pair["left_row"], pair["right_row"], pair["left_id"], pair["right_id"]) == (3, 4, "A3", "A4")
    with pytest.raises(NotFoundError, match=r"No candidate pair 'A1-A3' in dataset .*expected two record ids"):
        dedupe.pair_from_link("A1-A3")                              # both exist, but no run kept that pair
    with pytest.raises(NotFoundError):
        dedupe.pair_from_link("nothing")


def test_the_review_of_a_pair_in_words(handle):
    dedupe = handle.dedupe
    # A3/A4: same names, e-mail on one side only, same phone; A3 has no activity date.
    levels = {"first name + last name": 5, "email": -1, "phone": 3}
    review = dedupe.pair_review(3, 4, levels)
    assert [str(r) for r in review.reasons] == ["same name", "same phone", "no e-mail on one side"]
    assert str(review.why) == "same name, same phone, no e-mail on one side"
    assert review.why.render("fr") == "même nom, même téléphone, e-mail absent d'un côté"
    assert [(str(e.field), e.kind, str(e.result)) for e in review.evidence] == [
        ("Name", "same", "same"), ("E-mail", "missing", "no value on one side"), ("Phone", "same", "same")]
    assert review.to_dict()["reasons"] == ["same name", "same phone", "no e-mail on one side"]
    # A1/A2: both have an e-mail; whatever level the run stored, it is never "missing".
    review = dedupe.pair_review(1, 2, '{"email": -1}')
    assert [(e.kind, str(e.result)) for e in review.evidence] == [("not compared", "different, not counted")]
    assert [str(r) for r in dedupe.pair_review(1, 2, {"email": 0}, in_chain=True).reasons] == [
        "links two groups that other comparisons keep apart", "e-mails differ"]


def test_an_unexpected_failure_in_matching_is_one_clear_error_and_changes_nothing(handle, monkeypatch, tmp_path,
                                                                                   capsys):
    from segmentation import MatchingError
    from segmentation.cli import main
    from segmentation.dedupe.matching import Matcher

    dedupe = handle.dedupe
    before, version = dedupe.pairs(), handle.store.version()

    def broken(self, frame):
        raise KeyError(2)

    monkeypatch.setattr(Matcher, "fit", broken)
    with pytest.raises(MatchingError, match=r"^Finding duplicates in dataset 'crm' failed while comparing records: "
                                            r"KeyError: 2\. Columns compared: .*Nothing was changed in the store"):
        dedupe.find()
    pd.testing.assert_frame_equal(dedupe.pairs(), before)
    assert handle.store.version() == version
    path = handle.store.path
    handle.store.close()
    assert main(["dedupe", "--db", str(path), "--dataset", "crm"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: Finding duplicates in dataset 'crm' failed while comparing records: KeyError")
    assert not any(line.startswith("Traceback") for line in err)

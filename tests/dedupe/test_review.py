"""Merges over the store: decisions, groups, chain guard, undo, golden records (pairs given by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation.core.errors import NotFoundError, SettingError
from segmentation.customers.golden import Survivorship
from segmentation.customers.repository import raw_rows
from segmentation.dedupe import review as dedupe
from segmentation.dedupe.matching import MatchSettings
from segmentation.ingest.importer import import_file
from segmentation.ingest.repository import DatasetsRepository

CSV = (
    b"id;first name;last name;email;phone;created;last activity;value;consent\n"
    b"A1;Jean;Dupont;jean.dupont@acme.fr;0123456789;01/02/2020;01/03/2026;100;oui\n"
    b"A2;Jean;DUPONT;jd@gmail.com;;15/01/2019;01/01/2024;250;oui\n"
    b"A3;Marie;Durand;marie@acme.fr;0611223344;01/01/2021;;80;non\n"
    b"A4;Marie;Durand;;0611223344;01/06/2021;01/10/2026;90;oui\n"
    b"A5;Paul;Roux;paul@roux.fr;;01/01/2022;01/01/2023;10;oui\n"
)


def add_pairs(store, ds, pairs):
    """Candidate pairs as the matcher would store them: (left_row, right_row, score)."""
    with store.transaction() as tx:
        for left, right, score in pairs:
            tx.execute("INSERT INTO match_pairs VALUES (?, ?, ?, ?, ?, '{}', false)",
                       [ds.id, left, right, score, "sure" if score >= 0.9 else "review"])


@pytest.fixture
def ds(store):
    ds = import_file(store, CSV, "crm.csv")
    add_pairs(store, ds, [(1, 2, 0.97), (3, 4, 0.7), (2, 5, 0.3)])
    return ds


def test_merge_above_score_then_golden_record(store, ds):
    result = dedupe.merge(store, ds.name, above=0.9)
    assert result == {"groups_merged": 1, "records_before": 5, "records_after": 4, "refused_chains": 0}
    golden = dedupe.golden_rows(store, ds.name)
    assert len(golden) == 4
    jean = golden[golden["source_ids"] == "A1;A2"].iloc[0]
    assert jean["created"] == pd.Timestamp(2019, 1, 15)          # earliest
    assert jean["last activity"] == pd.Timestamp(2026, 3, 1)     # latest
    assert jean["value"] == 250                                  # largest, not summed
    assert jean["email"] == "jean.dupont@acme.fr"                # from the most recent record
    assert list(jean["email (all)"]) == ["jd@gmail.com", "jean.dupont@acme.fr"]  # nothing lost
    assert jean["customer_id"] == "C1"                           # the first record's id: stable
    assert list(golden["customer_id"]) == ["C1", "C3", "C4", "C5"]


def test_review_decisions_and_consent_is_strict(store, ds):
    dedupe.decide(store, [(3, 4)], "match", ds.name)
    dedupe.decide(store, [(2, 5)], "no_match", ds.name)
    assert dedupe.merge(store, ds.name)["records_after"] == 4
    marie = dedupe.golden_rows(store, ds.name).query("source_ids == 'A3;A4'").iloc[0]
    assert not marie["consent"]                                   # one "non" means no
    assert marie["email"] == "marie@acme.fr"                      # never lost to a blank
    table = dedupe.pairs_table(store, ds.name).set_index(["left_row", "right_row"])
    assert table.loc[(3, 4), "decision"] == "match" and table.loc[(2, 5), "decision"] == "no_match"
    assert table.loc[(1, 2), "left_id"] == "A1" and table.loc[(1, 2), "right_id"] == "A2"


def test_rejected_pair_is_not_merged_in_bulk(store, ds):
    dedupe.decide(store, [(1, 2)], "no_match", ds.name)
    assert dedupe.merge(store, ds.name, above=0.5)["records_after"] == 4  # only 3~4


def test_a_persons_decisions_come_first_at_merge_time(store, ds):
    # 1~2 sure and 2~5 accepted, but someone said 1 and 5 are different people: the person's match 2~5 is
    # merged, the sure pair 1~2 (which would chain 1 to 5) is refused.
    dedupe.decide(store, [(1, 5)], "no_match", ds.name)
    dedupe.decide(store, [(2, 5)], "match", ds.name)
    result = dedupe.merge(store, ds.name, above=0.9)
    assert result == {"groups_merged": 1, "records_before": 5, "records_after": 4, "refused_chains": 1}
    assert dedupe.merge_groups(store, ds.name)["record_ids"].tolist() == ["A2;A5"]


def test_a_no_match_splits_a_chain_at_merge_time(store, ds):
    # 1~2 (0.97) and 2~5 (0.95) both sure, 1 and 5 told apart by a person: 1+2 merge, 5 stays alone.
    with store.transaction() as tx:
        tx.execute("UPDATE match_pairs SET score = 0.95, status = 'sure' WHERE left_row = 2 AND right_row = 5")
    dedupe.decide(store, [(1, 5)], "no_match", ds.name)
    result = dedupe.merge(store, ds.name, above=0.9)
    assert result == {"groups_merged": 1, "records_before": 5, "records_after": 4, "refused_chains": 1}
    assert dedupe.merge_groups(store, ds.name)["record_ids"].tolist() == ["A1;A2"]
    # Without the decision the chain merges whole.
    dedupe.decide(store, [(1, 5)], "match", ds.name)
    assert dedupe.merge(store, ds.name, above=0.9)["records_after"] == 3


def test_an_existing_group_stays_whole_when_a_record_is_refused(store, ds):
    dedupe.merge(store, ds.name, above=0.9)                       # 1+2
    add_pairs(store, ds, [(1, 5, 0.95)])
    dedupe.decide(store, [(2, 5)], "no_match", ds.name)
    result = dedupe.merge(store, ds.name, above=0.9)
    assert result == {"groups_merged": 0, "records_before": 4, "records_after": 4, "refused_chains": 1}
    assert dedupe.merge_groups(store, ds.name)["record_ids"].tolist() == ["A1;A2"]


class FakeMatcher:
    """score_pairs as the matcher's, from a table of scores (0.5 for pairs not listed)."""

    def __init__(self, table):
        self.table = table

    def score_pairs(self, _frame, left, right):
        return pd.DataFrame({"left": list(left), "right": list(right), "score": [
            self.table.get(frozenset((a, b)), 0.5) for a, b in zip(left, right, strict=True)]})


def test_find_time_flags_only_the_conflicting_links():
    # A star X~L1..L4; L1 and L2 clearly different; the other members uncertain (0.5): new review pairs.
    frame = pd.DataFrame(index=pd.Index(["X", "L1", "L2", "L3", "L4"]))
    pairs = pd.DataFrame({"left": ["X"] * 4, "right": ["L1", "L2", "L3", "L4"], "score": [0.99, 0.98, 0.97, 0.96]})
    settings = MatchSettings()
    found, in_chain = dedupe._check_chains(FakeMatcher({frozenset(("L1", "L2")): 1e-4}), frame, pairs, settings)
    flagged = {frozenset((a, b)) for a, b, f in zip(found["left"], found["right"], in_chain, strict=True) if f}
    assert flagged == {frozenset(("X", "L2")), frozenset(("L2", "L3")), frozenset(("L2", "L4"))}
    assert len(found) == 4 + 5                                     # the 5 uncertain member pairs added, not L1~L2
    sure = found["score"].to_numpy() >= settings.upper
    assert (sure & ~in_chain).sum() == 3                           # X~L1, X~L3, X~L4 merge in bulk


def test_pairs_of_a_chain_are_not_merged_in_bulk(store, ds):
    # Matching flags the pairs of a chain (A~B~C, A and C clearly different): they wait for a person.
    with store.transaction() as tx:
        tx.execute("UPDATE match_pairs SET in_chain = true WHERE left_row = 1 AND right_row = 2")
    assert dedupe.merge(store, ds.name, above=0.9)["records_after"] == 5
    assert dedupe.merge(store, ds.name, pairs=[(1, 2)])["records_after"] == 4  # a person may still merge them


def test_group_keeps_its_id_when_a_record_joins(store, ds):
    dedupe.merge(store, ds.name, above=0.9)
    first = dedupe.merge_groups(store, ds.name)["group_id"].tolist()
    add_pairs(store, ds, [(1, 5, 0.95)])
    dedupe.decide(store, [(2, 5)], "match", ds.name)
    dedupe.merge(store, ds.name, above=0.9)
    groups = dedupe.merge_groups(store, ds.name)
    assert groups["group_id"].tolist() == first and groups["record_ids"].tolist() == ["A1;A2;A5"]


def test_undo_restores_exactly(store, ds):
    before = raw_rows(store, DatasetsRepository(store).dataset(ds.name))
    golden_before = dedupe.golden_rows(store, ds.name).drop(columns=["customer_id"])
    dedupe.merge(store, ds.name, above=0.5)
    group = int(dedupe.merge_groups(store, ds.name)["group_id"].iloc[0])
    assert dedupe.unmerge(store, ds.name, group=group)["records_after"] == 4
    assert dedupe.unmerge(store, ds.name, everything=True)["records_after"] == 5
    pd.testing.assert_frame_equal(raw_rows(store, DatasetsRepository(store).dataset(ds.name)), before)
    pd.testing.assert_frame_equal(dedupe.golden_rows(store, ds.name).drop(columns=["customer_id"]), golden_before)
    with pytest.raises(NotFoundError):
        dedupe.unmerge(store, ds.name, group=group)
    actions = dedupe.audit_log(store, ds.name)["action"].tolist()
    assert any(a.startswith("split group") for a in actions) and any(a.startswith("merged group") for a in actions)


def test_survivorship_can_be_changed(store, ds):
    dedupe.merge(store, ds.name, above=0.9)
    golden = dedupe.golden_rows(store, ds.name, Survivorship({"value": "sum", "email": "longest"}))
    jean = golden[golden["source_ids"] == "A1;A2"].iloc[0]
    assert jean["value"] == 350 and jean["email"] == "jean.dupont@acme.fr"


def test_pairs_by_record_id(store, ds):
    rows = dedupe.rows_for_ids(store, pd.DataFrame({"left_id": ["A3"], "right_id": ["A4"]}), ds.name)
    assert rows == [(3, 4)]
    with pytest.raises(NotFoundError, match="Z9"):
        dedupe.rows_for_ids(store, pd.DataFrame({"left_id": ["Z9"], "right_id": ["A4"]}), ds.name)


def test_saved_rules_apply_to_golden_records(store, ds):
    dedupe.merge(store, ds.name, above=0.9)
    dedupe.save_survivorship(store, {"value": "sum"}, ds.name)
    jean = dedupe.golden_rows(store, ds.name).query("source_ids == 'A1;A2'").iloc[0]
    assert jean["value"] == 350
    assert dedupe.saved_survivorship(store, ds.name).rules == {"value": "sum"}
    with pytest.raises(SettingError, match="median"):
        dedupe.save_survivorship(store, {"value": "median"}, ds.name)

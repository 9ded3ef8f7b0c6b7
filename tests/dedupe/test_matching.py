"""Matching engine: blocking, scoring on B2B cases, chain guard, evaluation, quality on the sample data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.core.errors import ColumnError
from segmentation.core.store import Store
from segmentation.customers.repository import customer_rows
from segmentation.dedupe.matching import (
    Matcher,
    MatchSettings,
    NotFittedError,
    blocking_features,
    candidate_pairs,
    classify,
    consistent_groups,
    evaluate,
    group_pairs,
)
from segmentation.ingest.importer import import_path
from segmentation.ingest.repository import DatasetsRepository
from tests.conftest import SAMPLE

COLUMNS = ["first_name", "last_name", "company", "email", "phone", "postcode", "city"]
ROLES = {c: c for c in COLUMNS}

# Small B2B cases, in normalised form (what the importer gives: e-mails lower-cased, phones E.164).
CASES = {
    # Colleagues sharing the switchboard and a generic mailbox.
    "colleague_a": ("Jean", "Dupont", "Acme SAS", "contact@acme.fr", "+33140000000", "75001", "Paris"),
    "colleague_b": ("Marie", "Durand", "Acme SAS", "contact@acme.fr", "+33140000000", "75001", "Paris"),
    # Relatives in a family firm: one surname, one switchboard, other first names.
    "relative_a": ("Pierre", "Martin", "Martin & Fils", "p.martin@martin-fils.fr", "+33145000000", "69001", "Lyon"),
    "relative_b": ("Sophie", "Martin", "Martin & Fils", "s.martin@martin-fils.fr", "+33145000000", "69001", "Lyon"),
    # Namesakes elsewhere.
    "namesake_a": ("Marie", "Martin", "Boulangerie Roux", "marie.martin@roux.fr", "+33611111111", "13001",
                   "Marseille"),
    "namesake_b": ("Marie", "Martin", "Garage Petit", "mmartin@garage-petit.fr", "+33622222222", "59000", "Lille"),
    # A real duplicate: swapped names with a typo, no accents, upper case, another e-mail, the phone in
    # national format, "S.A.S." for "SAS".
    "customer": ("Hélène", "Lefèvre", "Dupuis Conseil SAS", "helene.lefevre@dupuis-conseil.fr", "+33123456789",
                 "75008", "Paris"),
    "duplicate": ("LEFEVRE", "Heleen", "DUPUIS CONSEIL S.A.S.", "helene.lefevre75@gmail.com", "0123456789", "75008",
                  "Paris"),
}
BASE = CASES["customer"]
VARIANTS = {
    "typo": ("Hélène", "Lefèrve", *BASE[2:]),
    "accents and case": ("HELENE", "LEFEVRE", *BASE[2:]),
    "swapped names": ("Lefèvre", "Hélène", *BASE[2:]),
    "other e-mail": (*BASE[:3], "helene.lefevre@gmail.com", *BASE[4:]),
    "other phone format": (*BASE[:4], "01 23 45 67 89", *BASE[5:]),
    "SAS vs S.A.S.": (BASE[0], BASE[1], "Dupuis Conseil S.A.S.", *BASE[3:]),
}
OTHERS = [("Jean", "Dupont", "Acme", "jean@acme.fr", "+33140000001", "69001", "Lyon"),
          ("Marc", "Petit", "Garage Petit", "marc@petit.fr", "+33611111112", "13001", "Marseille"),
          ("Anne", "Roux", "Roux SARL", "anne.roux@roux.fr", "+33622222223", "59000", "Lille")]


def frame_of(rows: dict) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)


def score_of(pairs: pd.DataFrame, a, b) -> float:
    hit = pairs[((pairs["left"] == a) & (pairs["right"] == b)) | ((pairs["left"] == b) & (pairs["right"] == a))]
    return float(hit["score"].iloc[0]) if len(hit) else 0.0


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The sample export, normalised through the importer, indexed by its record id; its roles and truth."""
    store = Store(tmp_path_factory.mktemp("sample") / "s.duckdb")
    ds = import_path(store, SAMPLE / "customers.csv")
    frame = customer_rows(store, DatasetsRepository(store).dataset(ds.name))
    store.close()
    truth = pd.read_csv(SAMPLE / "truth.csv").set_index("record_id")["customer_key"]
    return frame.set_index("ID client", drop=False), dict(ds.roles), truth


@pytest.fixture(scope="module")
def sample_fit(sample):
    frame, roles, _truth = sample
    matcher = Matcher(MatchSettings(), roles=roles).fit(frame)
    return matcher, matcher.predict(frame)


@pytest.fixture(scope="module")
def cases_in_sample(sample):
    """The B2B cases among the sample's records (as in a real CRM), scored together."""
    frame, roles, _truth = sample
    background = frame.rename(columns={c: r for c, r in roles.items() if r in COLUMNS})[COLUMNS]
    together = pd.concat([background, frame_of(CASES)])
    return Matcher(MatchSettings(lower=0.0), roles=ROLES).fit_predict(together)


# --------------------------------------------------------------------------
# B2B cases
# --------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["alone", "in the sample"])
def test_b2b_cases(where, cases_in_sample):
    pairs = cases_in_sample if where == "in the sample" else Matcher(
        MatchSettings(lower=0.0), roles=ROLES).fit_predict(frame_of(CASES))
    upper = MatchSettings().upper
    assert score_of(pairs, "colleague_a", "colleague_b") < 0.1       # switchboard + contact@: colleagues
    assert score_of(pairs, "relative_a", "relative_b") < 0.1         # one surname, other first names
    assert score_of(pairs, "namesake_a", "namesake_b") < 0.1         # same name, nothing else in common
    assert score_of(pairs, "customer", "duplicate") >= upper         # every variation at once


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_a_real_duplicate_is_a_sure_match(variant):
    frame = pd.DataFrame([BASE, VARIANTS[variant], *OTHERS], columns=COLUMNS, index=["a", "b", "x", "y", "z"])
    pairs = Matcher(roles=ROLES).fit_predict(frame)
    assert score_of(pairs, "a", "b") >= MatchSettings().upper
    assert classify(pairs).tolist() == ["sure"]                      # and nothing else is even to review


def test_a_shared_switchboard_block_is_capped_and_reported():
    rng = np.random.default_rng(0)
    n = 500
    staff = pd.DataFrame({
        "first_name": rng.choice(["Jean", "Marie", "Paul", "Julie", "Luc", "Anne", "Marc", "Léa"], n),
        "last_name": [f"Nom{i:03d}" for i in range(n)],
        "company": "Grand Groupe SA", "email": "contact@grand-groupe.fr", "phone": "+33140000000",
        "postcode": "92400", "city": "Courbevoie"}, index=[f"s{i}" for i in range(n)])
    matcher = Matcher(MatchSettings(max_block_size=100), roles=ROLES)
    pairs = matcher.fit_predict(staff)
    stats = matcher.stats_
    assert stats["blocks_capped"] >= 1 and "500 records" in stats["note"]
    assert stats["pairs_compared"] < n * (n - 1) // 2 // 10           # never n² pairs
    assert (classify(pairs) == "sure").sum() == 0


# --------------------------------------------------------------------------
# Estimator API
# --------------------------------------------------------------------------

def test_predict_output_and_errors():
    frame = frame_of(CASES)
    matcher = Matcher(roles=ROLES)
    with pytest.raises(NotFittedError):
        matcher.predict(frame)
    assert isinstance(NotFittedError("x"), ValueError)
    pairs = matcher.fit(frame).predict(frame)
    assert list(pairs.columns) == ["left", "right", "score", "weight", "first_name + last_name", "last_name",
                                   "first_name", "company", "email", "phone", "postcode", "city"]
    assert pairs["score"].is_monotonic_decreasing and (pairs["score"] >= MatchSettings().lower).all()
    assert set(pairs["left"]) | set(pairs["right"]) <= set(frame.index)
    again = matcher.score_pairs(frame, ["duplicate", "colleague_a"], ["customer", "colleague_b"])
    assert again["score"].iloc[0] >= 0.9 and again["score"].iloc[1] < 0.1  # in the order asked
    table = matcher.weights_table()
    assert {"comparison", "label", "level", "m", "u", "c", "weight"} <= set(table.columns)
    with pytest.raises(ColumnError):
        Matcher(MatchSettings(columns={"nope": "email"})).fit(frame)
    only = Matcher(MatchSettings(columns={"email": "email", "phone": "phone"})).fit(frame)
    assert [c.name for c in only.comparisons_] == ["email", "phone"]


def test_classify_thresholds():
    pairs = pd.DataFrame({"score": [0.99, 0.9, 0.5, 0.3, 0.1]})
    assert classify(pairs, MatchSettings(upper=0.9, lower=0.3)).tolist() == ["sure", "sure", "review", "review",
                                                                              "drop"]


# --------------------------------------------------------------------------
# Groups and evaluation
# --------------------------------------------------------------------------

def chain() -> pd.DataFrame:
    return pd.DataFrame({"left": ["A", "B", "D", "F"], "right": ["B", "C", "E", "G"], "score": [0.99, 0.97, 0.95, 0.5]})


def test_chain_guard_splits_chains():
    labels = pd.Index(list("ABCDEFG"))
    # A~B~C, A and C never compared: they count as different, A+B merge (the better pair), B~C goes to review.
    groups, review = group_pairs(chain(), labels, MatchSettings(upper=0.9))
    assert groups.to_dict() == {"A": 0, "B": 0, "D": 1, "E": 1}
    assert review[["left", "right"]].values.tolist() == [["B", "C"]]
    # A and C compared on demand: clearly different (odds below 1:1000), split; uncertain or a match, one group.
    groups, review = group_pairs(chain(), labels, MatchSettings(upper=0.9), rescore=lambda a, b: np.full(len(a), 1e-4))
    assert groups.to_dict() == {"A": 0, "B": 0, "D": 1, "E": 1}
    assert review[["left", "right"]].values.tolist() == [["B", "C"]]
    # Below review but not clear evidence (a scrambled copy of one person): the chain stays whole.
    groups, review = group_pairs(chain(), labels, MatchSettings(upper=0.9), rescore=lambda a, b: np.full(len(a), .2))
    assert review.empty and groups.groupby(groups).size().sort_values().tolist() == [2, 3]
    groups, review = group_pairs(chain(), labels, MatchSettings(upper=0.9), rescore=lambda a, b: np.full(len(a), .5))
    assert review.empty and groups.groupby(groups).size().sort_values().tolist() == [2, 3]
    asked = []
    groups, review = group_pairs(chain(), labels, MatchSettings(upper=0.9),
                                 rescore=lambda a, b: asked.append((list(a), list(b))) or np.full(len(a), .95))
    assert asked == [(["A"], ["C"])] and review.empty
    assert groups.groupby(groups).size().sort_values().tolist() == [2, 3]


def scores_of(table: dict):
    """A rescore function from {frozenset((a, b)): score}, 0.5 (uncertain) for pairs not listed."""
    return lambda a, b: np.array([table.get(frozenset((x, y)), 0.5) for x, y in zip(a, b, strict=True)])


def test_a_chain_is_split_at_the_odd_record():
    # A~B (0.99), B~C (0.95), A and C clearly different, and the A~C pair among the candidates.
    pairs = pd.DataFrame({"left": ["A", "B", "A"], "right": ["B", "C", "C"], "score": [0.99, 0.95, 0.1]})
    groups, review = group_pairs(pairs, pd.Index(list("ABC")), MatchSettings(),
                                 rescore=scores_of({frozenset("AC"): 1e-4}))
    assert groups.to_dict() == {"A": 0, "B": 0}                    # C alone
    assert review[["left", "right"]].values.tolist() == [["B", "C"], ["A", "C"]]


def test_a_star_with_two_conflicting_leaves_loses_one_leaf():
    pairs = pd.DataFrame({"left": ["X"] * 4, "right": ["L1", "L2", "L3", "L4"], "score": [0.99, 0.98, 0.97, 0.96]})
    labels = pd.Index(["X", "L1", "L2", "L3", "L4"])
    groups, review = group_pairs(pairs, labels, MatchSettings(), rescore=scores_of({frozenset(("L1", "L2")): 1e-4}))
    assert groups.to_dict() == {"X": 0, "L1": 0, "L3": 0, "L4": 0}  # L2 joins after L1, which it conflicts with
    assert review[["left", "right"]].values.tolist() == [["X", "L2"]]


def test_two_copies_that_match_the_same_records_are_not_a_chain():
    # A, B, C, D all sure matches of one another but C~D (noisy copies: clearly different alone); C and D
    # share two sure matches (A and B), so they are one person's copies, not the ends of a chain.
    pairs = pd.DataFrame({"left": ["A", "A", "A", "B", "B"], "right": ["B", "C", "D", "C", "D"], "score": 0.99})
    groups, review = group_pairs(pairs, pd.Index(list("ABCD")), MatchSettings(),
                                 rescore=scores_of({frozenset("CD"): 0.01}))
    assert groups.to_dict() == {"A": 0, "B": 0, "C": 0, "D": 0} and review.empty


def test_a_chain_without_conflict_merges_whole():
    pairs = pd.DataFrame({"left": ["A", "B", "C"], "right": ["B", "C", "D"], "score": [0.99, 0.95, 0.92]})
    asked = []
    groups, review = group_pairs(pairs, pd.Index(list("ABCD")), MatchSettings(),
                                 rescore=lambda a, b: asked.extend(zip(a, b, strict=True)) or np.full(len(a), .4))
    assert sorted(asked) == [("A", "C"), ("A", "D"), ("B", "D")]
    assert groups.to_dict() == {"A": 0, "B": 0, "C": 0, "D": 0} and review.empty


def test_a_long_chain_goes_to_review_whole():
    n = 52                                                          # more than _RESCORE_MAX: not compared
    pairs = pd.DataFrame({"left": range(n - 1), "right": range(1, n), "score": 0.95})
    groups, review = group_pairs(pairs, n, MatchSettings(), rescore=lambda a, b: pytest.fail("rescored"))
    assert groups.empty and len(review) == n - 1


def test_consistent_groups_takes_links_by_priority_and_forced_links_first():
    # 0~1 (0.9), 1~2 (0.95), 2~3 (0.99); 0 and 3 apart: 2+3, then 1 joins them, 0~1 is refused.
    component, core = consistent_groups(5, [0, 1, 2], [1, 2, 3], [0.9, 0.95, 0.99], [0], [3])
    assert component.tolist()[:4] == [0, 0, 0, 0] and component[4] != 0
    assert core[1] == core[2] == core[3] != core[0] and core[4] == component[4]
    # The same with 0~1 forced (already one customer): taken first, so 1~2 is the refused link.
    _component, core = consistent_groups(5, [0, 1, 2], [1, 2, 3], [0.9, 0.95, 0.99], [0], [3],
                                         forced=[True, False, False])
    assert core[0] == core[1] != core[2] == core[3]
    # A forced link joins records that must stay apart.
    _component, core = consistent_groups(2, [0], [1], [1.0], [0], [1], forced=[True])
    assert core[0] == core[1]
    # Nothing apart: components as they are.
    component, core = consistent_groups(4, [0, 2], [1, 3], [0.9, 0.9], [0], [2])
    assert (core == component).all() and component.tolist() == [0, 0, 1, 1]


def test_group_pairs_on_positions_and_evaluate():
    pairs = pd.DataFrame({"left": [0, 2, 3], "right": [1, 3, 4], "score": [0.95, 0.95, 0.95]})
    groups, review = group_pairs(pairs, 6, MatchSettings(upper=0.9))
    assert groups.to_dict() == {0: 0, 1: 0, 2: 1, 3: 1}              # 2~3~4 is a chain, split at a tie by position
    assert review[["left", "right"]].values.tolist() == [[3, 4]]
    truth = pd.Series(["k1", "k1", "k2", "k2", "k2", "k4"])
    assert evaluate(groups, truth) == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3),
                                       "true_positives": 2, "predicted": 2, "actual": 4}
    scores = evaluate(pairs, truth)                                   # pairs: each pair as predicted
    assert (scores["precision"], scores["recall"]) == (1.0, 0.75)
    frame = pd.DataFrame({"record_id": range(6), "customer_key": truth})
    assert evaluate(pairs, frame) == scores


# --------------------------------------------------------------------------
# The sample data
# --------------------------------------------------------------------------

def true_pairs(truth: pd.Series, index: pd.Index) -> set[tuple]:
    keys = truth.reindex(index)
    return {(a, b) for _, members in keys.groupby(keys) for i, a in enumerate(members.index)
            for b in members.index[i + 1:]}


def test_blocking_finds_every_duplicate_of_the_sample(sample):
    frame, roles, truth = sample
    left, right, stats = candidate_pairs(blocking_features(frame, roles), len(frame), MatchSettings().max_block_size)
    found = {tuple(sorted(p)) for p in zip(frame.index[left], frame.index[right], strict=True)}
    expected = {tuple(sorted(p)) for p in true_pairs(truth, frame.index)}
    assert len(found & expected) / len(expected) >= 0.99
    # Far less than n² (15 million): keys without an area keep up to 10,000 pairs each in a file this small.
    assert stats["pairs_compared"] == len(left) < len(frame) * 5
    assert stats["blocks_capped"] == 0


def test_quality_on_the_sample(sample, sample_fit):
    frame, _roles, truth = sample
    matcher, pairs = sample_fit
    settings = MatchSettings()
    groups, _review = group_pairs(pairs, frame.index, settings,
                                  rescore=lambda a, b: matcher.score_pairs(frame, a, b)["score"].to_numpy())
    scores = evaluate(groups, truth)
    assert scores["precision"] >= 0.98
    assert scores["recall"] >= 0.95
    assert matcher.stats_["pairs_compared"] > len(pairs)

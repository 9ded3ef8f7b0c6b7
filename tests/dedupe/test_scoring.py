"""Scoring on data unlike the generated exports (issue 15): small inline cases with exact expected outcomes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.dedupe.comparisons import (
    LEVEL_KINDS,
    MISSING,
    NOT_COMPARED,
    DateComparison,
    EmailComparison,
    JaroWinklerComparison,
    NameComparison,
    PhoneComparison,
    TokenSetComparison,
    default_comparisons,
    raw_column,
)
from segmentation.dedupe.matching import Matcher, MatchSettings, classify, group_pairs

PEOPLE = {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
          "birth_date": "birth_date", "city": "city"}


def people(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(PEOPLE))
    frame["birth_date"] = pd.to_datetime(frame["birth_date"])
    return frame


# Unrelated people around the cases, so that the random-pair figures mean something.
FIRST = ["Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "George", "Mia", "Noah", "Ella", "Leo", "Lily"]
LAST = ["Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "Green", "Hall",
        "Wood"]
CITIES = ["Leeds", "York", "Bath", "Hull", "Derby", "Luton"]


def crowd(n: int = 120, seed: int = 1) -> list[tuple]:
    rng = np.random.default_rng(seed)
    return [(FIRST[i % 12], LAST[(i * 7 + i // 12) % 12], f"person{i}@mail{i % 9}.com", f"+4477009{i:05d}",
             f"19{50 + int(rng.integers(0, 50))}-{1 + int(rng.integers(0, 12)):02d}-{1 + int(rng.integers(0, 28)):02d}",
             CITIES[i % 6]) for i in range(n)]


# --------------------------------------------------------------------------
# Missing and empty columns
# --------------------------------------------------------------------------

def test_an_email_column_without_any_valid_value_is_missing_not_a_crash():
    assert EmailComparison().levels([None, None, None], [None, "anna@mail.com", None]).tolist() == [-1, -1, -1]
    named = EmailComparison(["email", "first_name", "last_name"])
    side = pd.DataFrame({"email": [None, None], "first_name": ["Anna", None], "last_name": ["Smith", None]})
    assert named.levels(side, side).tolist() == [-1, -1]
    frame = people([*crowd(30), ("Anna", "Smith", None, None, "1980-05-01", "Leeds"),
                    ("Anna", "Smith", None, None, "1980-05-01", "Leeds")])
    frame["email"] = None
    frame["phone"] = None
    pairs = Matcher(roles=PEOPLE).fit_predict(frame)
    assert pairs.loc[(pairs["left"] == 30) & (pairs["right"] == 31), "email"].tolist() == [MISSING]
    assert classify(pairs[(pairs["left"] == 30) & (pairs["right"] == 31)]).tolist() == ["sure"]


def test_any_subset_of_columns_entirely_empty():
    base = people(crowd(40))
    for column in PEOPLE:
        frame = base.copy()
        frame[column] = None
        pairs = Matcher(roles=PEOPLE).fit_predict(frame)  # no exception, whatever column is empty
        assert set(pairs.columns) >= {"left", "right", "score"}


# --------------------------------------------------------------------------
# Names: the parts that are present
# --------------------------------------------------------------------------

def test_a_missing_first_name_leaves_the_last_name_compared_and_the_reverse():
    left = pd.DataFrame({"first_name": [None, "Anna", "Anna", "Anna"], "last_name": ["Smith", None, None, "Smith"]})
    right = pd.DataFrame({"first_name": ["Anna", "Anna", "Bea", "Anna"],
                          "last_name": ["Smith", "Smith", None, "Smith"]})
    assert NameComparison().levels(left, right).tolist() == [-1, -1, -1, 5]
    last = JaroWinklerComparison("last_name", ["last_name", "first_name"], ["first_name"])
    first = JaroWinklerComparison("first_name", ["first_name", "last_name"], ["last_name"])
    assert last.levels(left, right).tolist() == [3, -1, -1, NOT_COMPARED]
    assert first.levels(left, right).tolist() == [-1, 3, 0, NOT_COMPARED]
    names = [c.name for c in default_comparisons({"Prénom": "first_name", "Nom": "last_name"})]
    assert names == ["Prénom + Nom", "Nom", "Prénom"]


def test_a_shared_first_name_counts_when_the_last_name_is_missing():
    frame = people([*crowd(), ("Freya", "Hughes", None, None, "2018-04-28", "London"),
                    ("Freya", None, None, None, "2018-04-28", "London"),
                    ("Maisie", None, None, None, "2018-04-28", "London")])
    scores = Matcher(roles=PEOPLE).fit(frame).score_pairs(frame, [120, 120], [121, 122])
    assert scores["first_name"].tolist() == [3, 0]
    assert scores["score"].iloc[0] >= MatchSettings().upper > scores["score"].iloc[1]


# --------------------------------------------------------------------------
# Birth dates, graded
# --------------------------------------------------------------------------

def test_birth_dates_are_graded_as_they_are_typed():
    comp = DateComparison("birth_date")
    left = pd.to_datetime(["1956-04-09"] * 7 + [None])
    right = pd.to_datetime(["1956-04-09", "1956-04-08", "1965-04-09", "1956-09-04", "1956-04-25", "1956-10-20",
                            "1970-01-01", "1956-04-09"])
    #  same day, one digit typed wrong (day, then year), day and month swapped, same month and year,
    #  within a year, further apart, missing
    assert comp.levels(left, right).tolist() == [4, 3, 3, 3, 2, 1, 0, -1]
    assert comp.level_names()[3] == "one character off or day and month swapped"
    assert comp.level_kinds() == {4: "same", 3: "close", 2: "close", 1: "close", 0: "different", -1: "missing",
                                  -2: "not compared"}


def test_a_birth_date_with_a_typed_digit_still_makes_a_sure_match():
    frame = people([*crowd(), ("Imogen", "Akroyd", None, None, "1936-12-18", "Marsfield"),
                    ("Imogen", "Akroyd", None, None, "1936-12-13", "Marsfield")])
    scores = Matcher(roles=PEOPLE).fit(frame).score_pairs(frame, [120], [121])
    assert scores["birth_date"].tolist() == [3]
    assert scores["score"].iloc[0] >= MatchSettings().upper


# --------------------------------------------------------------------------
# E-mails and phones that did not normalise
# --------------------------------------------------------------------------

def test_invalid_emails_are_compared_on_their_text():
    comp = EmailComparison()
    left = ["hannah88opowersc@m", "walterpunn@dham-hil", "kimashley", "contact@acme.fr"]
    right = ["hannah88opowersc@m", "walterdunn@pham-hill.com", "kimashley@nguyen.info", "contact@acme.fr"]
    # the same text, a near local part, a local part alone, a role mailbox (there, but not compared)
    assert comp.levels(left, right).tolist() == [3, 1, 2, NOT_COMPARED]


def test_mailboxes_made_of_the_names_at_one_domain_are_two_people():
    comp = EmailComparison(["email", "first_name", "last_name"])
    left = pd.DataFrame({"email": ["julie.giraud@kalens.fr", "julie.giraud@kalens.fr", "julie.giraud@kalens.fr"],
                         "first_name": ["Julie"] * 3, "last_name": ["Giraud"] * 3})
    right = pd.DataFrame({"email": ["juliette.giraud@kalens.fr", "juliette.giraud@gmail.com", "julie.giraud@kalens.fr"],
                          "first_name": ["Juliette", "Juliette", "Julie"], "last_name": ["Giraud"] * 3})
    # one company's two mailboxes: different; at another domain: only the names again; the same address
    assert comp.levels(left, right).tolist() == [0, NOT_COMPARED, 3]


def test_invalid_phones_are_compared_on_their_digits():
    comp = PhoneComparison()
    left = ["2262649", "226-2649", "(773) 226 2649", "+33123456789", "12", "2262649"]
    right = ["+13122262649", "2262649", "7732262649", "0123456780", "12", "5339011"]
    # a seven-digit local number ends an E.164 one, same digits, same digits, one digit off, not a number, different
    assert comp.levels(left, right).tolist() == [2, 3, 3, 1, -1, 0]


def test_the_matcher_compares_the_text_as_written_where_the_normalised_value_is_missing():
    rows = [*crowd(40), ("Anna", "Smith", None, None, "1980-05-01", "Leeds"),
            ("Anna", "Smith", None, None, "1980-05-01", "Leeds")]
    frame = people(rows)
    frame[raw_column("phone")] = frame["phone"]
    frame.loc[[40, 41], raw_column("phone")] = ["226-2649", "2262649"]  # invalid: NULL once normalised
    scores = Matcher(roles=PEOPLE).fit(frame).score_pairs(frame, [40], [41])
    assert scores["phone"].tolist() == [3]


# --------------------------------------------------------------------------
# Organisations without person names
# --------------------------------------------------------------------------

WORDS = ["Little", "Stars", "Garden", "Bright", "Future", "Kids", "Sunrise", "Harbor", "Lake", "Park", "Oak", "Maple"]
STREETS = ["W Division St", "S Halsted St", "N Clark St", "W 63rd St", "S Ashland Ave", "N Western Ave"]


def sites(n: int = 150, twice: int = 50) -> pd.DataFrame:
    """An organisation's sites (site name, address, zip, no person names); the first ``twice`` entered again."""
    rows = [(f"{WORDS[i % 12]} {WORDS[(i // 12) % 12]} Academy {i}",
             f"{200 + i} {STREETS[i % 6]}", f"606{i % 40:02d}") for i in range(n)]
    return pd.DataFrame(rows + rows[:twice], columns=["company", "address", "postcode"])


def test_identical_organisation_records_are_merged():
    # Before: EM learned the "same organisation, another person" class on the same-address pairs, which
    # were all duplicates here, and every identical pair scored 0.000.
    frame = sites()
    matcher = Matcher(roles={c: c for c in frame.columns})
    pairs = matcher.fit_predict(frame)
    scored = matcher.score_pairs(frame, list(range(50)), list(range(150, 200)))
    assert (scored["score"] >= MatchSettings().upper).all()
    assert matcher.n_related_ == 0.5  # no person names: nobody is "another person" of the organisation
    groups, to_review = group_pairs(pairs, len(frame),
                                    rescore=lambda a, b: matcher.score_pairs(frame, a, b)["score"])
    assert groups.groupby(groups).size().tolist() == [2] * 50 and len(to_review) == 0
    assert [groups[i] == groups[150 + i] for i in range(50)] == [True] * 50


def test_the_other_person_class_needs_person_names_that_differ():
    name = NameComparison()
    assert name.other_person == (0, 1, 2, 3, 4)  # every name level but "same names"
    assert TokenSetComparison("address").other_person == () and PhoneComparison().other_person == ()


# --------------------------------------------------------------------------
# Level names: different, missing and not compared told apart
# --------------------------------------------------------------------------

@pytest.mark.parametrize("comparison", default_comparisons({
    "first": "first_name", "last": "last_name", "full": "full_name", "company": "company", "email": "email",
    "phone": "phone", "address": "address", "postcode": "postcode", "city": "city", "region": "region",
    "birth": "birth_date", "created": "created_date", "ssn": "exact"}), ids=repr)
def test_every_comparison_names_different_missing_and_not_compared(comparison):
    names, kinds = comparison.level_names(), comparison.level_kinds()
    assert set(names) == set(kinds) == set(range(-2, comparison.n_levels))
    assert names[MISSING] == "missing" and names[NOT_COMPARED].startswith("not compared")
    assert kinds[0] == "different" and kinds[comparison.n_levels - 1] == "same"
    assert set(kinds.values()) <= set(LEVEL_KINDS)
    assert len({names[level] for level in names}) == len(names)

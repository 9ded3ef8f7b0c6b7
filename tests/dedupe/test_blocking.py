"""Blocking without an area: which pairs are compared, on small inline cases (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.dedupe import blocking
from segmentation.dedupe.blocking import BLOCKING_RULES, blocking_features, candidate_pairs
from segmentation.dedupe.comparisons import raw_column

RULES = {rule[0]: rule for rule in BLOCKING_RULES}
ROLES = {"first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
         "company": "company", "address": "address", "postcode": "postcode", "city": "city",
         "birth_date": "birth_date"}


def frame_of(rows: list[dict], columns=None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns or list(ROLES), dtype=object)
    return frame.where(frame.notna(), None)


def pairs(frame: pd.DataFrame, roles: dict | None = None, rule: str | None = None) -> set[tuple[int, int]]:
    """Pairs of positions that blocking compares (with one rule only, if named)."""
    roles = roles or {c: r for c, r in ROLES.items() if c in frame.columns}
    rules = [RULES[rule]] if rule else BLOCKING_RULES
    left, right, _ = candidate_pairs(blocking_features(frame, roles), len(frame), 300, rules)
    return set(zip(left.tolist(), right.tolist(), strict=True))


def test_an_email_column_without_any_valid_value_blocks_on_the_rest():
    frame = frame_of([{"first_name": "Anna", "last_name": "Smith", "email": np.nan},
                      {"first_name": "Anna", "last_name": "Smith", "email": np.nan},
                      {"first_name": "Paul", "last_name": "Jones", "email": np.nan}])
    features = blocking_features(frame, {c: c for c in ("first_name", "last_name", "email")})
    assert (features["email"] == -1).all() and (features["email_local"] == -1).all()
    assert pairs(frame[["first_name", "last_name", "email"]]) == {(0, 1)}


def test_identical_rows_without_a_postcode_are_compared():
    frame = frame_of([{"first_name": "Anna", "last_name": "Smith"}, {"first_name": "Bob", "last_name": "Stone"},
                      {"first_name": "Anna", "last_name": "Smith"}], ["first_name", "last_name"])
    assert pairs(frame) == {(0, 2)}
    assert pairs(frame, rule="same record") == {(0, 2)}


def test_names_in_either_order_without_an_area():
    frame = frame_of([{"first_name": "Hélène", "last_name": "Lefèvre", "city": "Paris"},
                      {"first_name": "LEFEVRE", "last_name": "Helene", "city": "Lyon"},
                      {"first_name": "Anne", "last_name": "Roux", "city": "Paris"}])
    assert pairs(frame, rule="names in either order") == {(0, 1)}


def test_a_misspelt_or_missing_city_does_not_break_the_name_keys():
    frame = frame_of([{"first_name": "Noah", "last_name": "Watson", "city": "Bolton"},
                      {"first_name": "Noah", "last_name": "Watson", "city": "Blotn"},
                      {"first_name": "Noah", "last_name": "Watson", "city": None}])
    assert pairs(frame, rule="surname + first name start") == {(0, 1), (0, 2), (1, 2)}


@pytest.mark.parametrize(("left", "right", "rule"), [
    ("1985-03-14", "1985-03-19", "birth date, day typed + initial"),     # one digit of the day
    ("1985-03-14", "1985-08-14", "birth date, month typed + initial"),   # one digit of the month
    ("1985-03-14", "1986-03-14", "birth date, year typed + initial"),    # one digit of the year
    ("1985-03-04", "1985-04-03", "birth date (day and month either way)"),
])
def test_a_birth_date_with_a_typed_digit_or_day_and_month_swapped(left, right, rule):
    frame = frame_of([{"first_name": "Jean", "last_name": "Dupont", "birth_date": left},
                      {"first_name": "Jan", "last_name": "Dupond", "birth_date": right},
                      {"first_name": "Marc", "last_name": "Durand", "birth_date": "1990-11-02"}],
                     ["first_name", "last_name", "birth_date"])
    assert pairs(frame, rule=rule) == {(0, 1)}
    assert (0, 1) in pairs(frame)


def test_seven_digit_phones_block_on_their_digits():
    """A local number is NULL once normalised; its text as written still blocks, and meets an E.164 number."""
    frame = frame_of([{"phone": None}, {"phone": None}, {"phone": "+13122262649"}, {"phone": None}], ["phone"])
    frame[raw_column("phone")] = ["226-2649", "2262649", None, "5339011"]
    assert pairs(frame, {"phone": "phone"}, rule="phone") == {(0, 1), (0, 2), (1, 2)}


def test_an_exact_row_key():
    frame = frame_of([{"company": "Acme", "city": "Paris", "email": None},
                      {"company": "Acme", "city": "Paris", "email": None},
                      {"company": "Acme", "city": "Lyon", "email": None},
                      {"company": None, "city": "Paris", "email": None},
                      {"company": None, "city": "Paris", "email": None}], ["company", "city", "email"])
    # Two telling values at least: two rows with only "Paris" are not one record.
    assert pairs(frame, rule="same record") == {(0, 1)}


def test_the_company_key_needs_no_initials():
    frame = frame_of([{"company": "Dupuis Conseil SAS"}, {"company": "DUPUIS CONSEIL S.A.S."},
                      {"company": "Garage Petit"}], ["company"])
    assert pairs(frame, rule="company") == {(0, 1)}


@pytest.mark.parametrize(("left", "right"), [
    ("12 bis, Rue de la Paix", "12 rue de la Paix"),
    ("124 E 113th St", "124 E. 113 St."),
    ("1 N Ogden Ave", "1 North Ogden Avenue"),
])
def test_the_address_key_is_number_and_street(left, right):
    frame = frame_of([{"address": left}, {"address": right}, {"address": "13 rue de la Paix"}], ["address"])
    assert pairs(frame, rule="address (number + street)") == {(0, 1)}


def test_the_area_only_splits_blocks_that_are_too_large(monkeypatch):
    rows = [{"first_name": "Marie", "last_name": "Martin", "postcode": p} for p in
            ("75001", "75002", "69001", "69002")]
    frame = frame_of(rows, ["first_name", "last_name", "postcode"])
    assert len(pairs(frame, rule="names in either order")) == 6        # a small file: every namesake
    monkeypatch.setattr(blocking, "KEY_PAIRS", 2)                       # a large one: the block is split
    monkeypatch.setattr(blocking, "KEY_PAIRS_PER_RECORD", 0.0)
    assert pairs(frame, rule="names in either order") == {(0, 1), (2, 3)}


def test_an_identifier_block_too_large_is_split_and_reported():
    n = 400
    frame = frame_of([{"first_name": f"P{i % 7}", "last_name": f"N{i}", "phone": "+33140000000"} for i in range(n)],
                     ["first_name", "last_name", "phone"])
    _left, _right, stats = candidate_pairs(blocking_features(frame, {c: c for c in frame.columns}), n, 300)
    assert stats["blocks_capped"] == 1 and "phone: a value shared by 400 records" in stats["note"]
    assert stats["rules"]["phone"] < n * (n - 1) // 2 // 10


@pytest.mark.parametrize("how", ["missing", "empty"])
@pytest.mark.parametrize("role", [*ROLES, "every column"])
def test_every_key_works_with_columns_missing_or_entirely_empty(role, how):
    frame = frame_of([
        {"first_name": "Anna", "last_name": "Smith", "email": "anna@x.org", "phone": "+33612345678",
         "company": "Acme", "address": "3 rue Haute", "postcode": "75001", "city": "Paris", "birth_date": "1980-01-02"},
        {"first_name": "Anna", "last_name": "Smith", "email": "anna@x.org", "phone": "+33612345678",
         "company": "Acme", "address": "3 rue Haute", "postcode": "75001", "city": "Paris", "birth_date": "1980-01-02"},
        {"first_name": "Bob", "last_name": "Stone", "email": "bob@y.org", "phone": "+33698765432",
         "company": "Zeta", "address": "9 av. Foch", "postcode": "69001", "city": "Lyon", "birth_date": "1975-05-06"},
    ])
    columns = list(ROLES) if role == "every column" else [role]
    if how == "missing":
        frame = frame.drop(columns=columns)
    else:
        frame[columns] = None
    roles = {c: r for c, r in ROLES.items() if c in frame.columns}
    left, right, stats = candidate_pairs(blocking_features(frame, roles), len(frame), 300)
    expected = set() if role == "every column" else {(0, 1)}
    assert set(zip(left.tolist(), right.tolist(), strict=True)) == expected
    assert stats["pairs_compared"] == len(expected)


def test_an_email_as_written_without_an_at_sign_still_blocks():
    frame = frame_of([{"email": None}, {"email": None}, {"email": "contact@acme.fr"}, {"email": "contact@acme.fr"}],
                     ["email"])
    frame[raw_column("email")] = ["hannah88opowersc", "HANNAH88opowersc ", None, None]
    # The text as written where the address did not normalise; a generic mailbox never blocks.
    assert pairs(frame, {"email": "email"}, rule="e-mail") == {(0, 1)}


def test_a_loose_key_keeps_at_most_its_budget_at_each_step(monkeypatch):
    monkeypatch.setattr(blocking, "KEY_PAIRS", 10)
    monkeypatch.setattr(blocking, "KEY_PAIRS_PER_RECORD", 0.0)
    rows = [{"first_name": f"P{i}", "last_name": "Martin", "postcode": f"750{i % 6:02d}"} for i in range(12)]
    frame = frame_of(rows, ["first_name", "last_name", "postcode"])
    # 66 pairs of Martins are over the budget: split by postcode, six blocks of two (6 pairs) are kept.
    assert pairs(frame, rule="surname") == {(i, i + 6) for i in range(6)}
    rows = [{"first_name": "Paul", "last_name": "Martin", "postcode": f"750{i % 2:02d}"} for i in range(12)]
    frame = frame_of(rows, ["first_name", "last_name", "postcode"])
    assert pairs(frame, rule="surname") == set()  # 2 blocks of 6 (30 pairs), then of 6 again: skipped


def test_records_without_the_refinement_leave_a_split_block():
    """A switchboard shared by 400 is split by surname start; records without a surname are not all put together."""
    n = 400
    rows = [{"first_name": "Ann", "last_name": None if i % 2 else f"N{i}", "phone": "+33140000000"} for i in range(n)]
    frame = frame_of(rows, ["first_name", "last_name", "phone"])
    found = pairs(frame, rule="phone")
    assert all(frame.at[a, "last_name"] is not None and frame.at[b, "last_name"] is not None for a, b in found)

"""The Deduplicate page on the facade: two sessions at once, and reads that follow every write."""

from __future__ import annotations

import re

from segmentation.dedupe import review as dedupe
from tests.app.conftest import app_store, metrics, run_app, sample_customer_count

DATASET = "sample customers"


def open_dedupe():
    at = run_app()
    at.switch_page("pages/deduplicate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_pair(at) -> tuple[str, str]:
    caption = next(c.value for c in at.caption if c.value.startswith("Pair "))
    found = re.search(r"· (\S+) ↔ (\S+)$", caption)
    assert found, caption
    return found.group(1), found.group(2)


def test_two_sessions_accepting_the_same_pair_merge_it_once(seeded_db, opened_stores):
    first = open_dedupe()
    first.button(key="find").click().run()
    second = open_dedupe()
    for at in (first, second):
        at.radio(key="review_status").set_value("sure").run()
    pair = shown_pair(first)
    assert shown_pair(second) == pair
    first.button(key="accept").click().run()
    second.button(key="accept").click().run()                # the pair it was shown, merged already
    assert not first.exception and not second.exception
    store = app_store(opened_stores)
    groups = dedupe.merge_groups(store, DATASET)
    assert len(groups) == 1 and sorted(groups["record_ids"].iloc[0].split(";")) == sorted(pair)
    customers = sample_customer_count() - 1
    first.run()
    for at in (first, second):
        assert metrics(at)["Customers after merges"] == f"{customers:,}"
    assert dedupe.record_count(store, DATASET) == len(dedupe.golden_rows(store, DATASET)) == customers


def test_a_merge_in_another_session_shows_on_the_next_run(seeded_db, opened_stores):
    first = open_dedupe()
    first.button(key="find").click().run()
    records = sample_customer_count()
    assert metrics(first)["Customers after merges"] == f"{records:,}"
    second = open_dedupe()
    second.button(key="bulk_merge").click().run()
    merged = dedupe.record_count(app_store(opened_stores), DATASET)
    assert merged < records
    first.run()                                                # nothing clicked: the cached reads are stale now
    assert metrics(first)["Customers after merges"] == f"{merged:,}"
    shown = next(d.value for d in first.dataframe if "record_ids" in d.value.columns)
    assert len(shown) == len(dedupe.merge_groups(app_store(opened_stores), DATASET))


def test_splitting_a_group_another_session_split_says_so(seeded_db, opened_stores):
    first = open_dedupe()
    first.button(key="find").click().run()
    first.button(key="bulk_merge").click().run()
    second = open_dedupe()
    group = int(dedupe.merge_groups(app_store(opened_stores), DATASET)["group_id"].iloc[0])
    for at in (first, second):
        at.selectbox(key="split_group").set_value(group).run()
    for at in (first, second):
        at.button(key="split").click().run()
    first.button(key="split_yes").click().run()
    second.button(key="split_yes").click().run()
    assert not second.exception, [e.value for e in second.exception]
    assert [e.value for e in second.error] == [f"No active merge group {group} in dataset '{DATASET}'."]
    assert group not in dedupe.merge_groups(app_store(opened_stores), DATASET)["group_id"].tolist()

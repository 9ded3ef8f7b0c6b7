"""The golden records are kept across writes of derived data (audiences, runs, names, RFM, scores) and rebuilt,
with the right content, after every change of their inputs (records, roles, forget, merges, undo, rules)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from segmentation import AudienceSpec, Condition, FeatureSettings, RFMSettings
from segmentation.behaviour.repository import BehaviourRepository
from segmentation.core import schema
from segmentation.customers import repository
from segmentation.dedupe import repository as dedupe_repository
from segmentation.ingest.importer import ImportSettings
from segmentation.segment.repository import SegmentRepository
from tests.dedupe.test_review import CSV

ORDERS = (b"order_id;customer_id;order_date;amount\n"
          b"O1;A1;10/01/2026;40\nO2;A2;20/01/2026;60\nO3;A3;05/01/2026;30\nO4;A5;15/12/2025;25\n")


@pytest.fixture
def builds(monkeypatch):
    """How many times the golden table was built (each build runs :func:`golden_rows_sql` once)."""
    calls: list[int] = []
    build = repository.golden_rows_sql
    monkeypatch.setattr(repository, "golden_rows_sql", lambda ds, rules: calls.append(ds.id) or build(ds, rules))
    return calls


@pytest.fixture
def merged(ws, builds):
    """A dataset of 5 records with A1 and A2 merged, its golden table built once."""
    handle = ws.ingest.import_bytes(CSV, "crm.csv")
    handle.dedupe.merge(pairs=[(1, 2)])
    handle.customers.golden_table()
    assert builds == [handle.id]
    return handle


def golden(handle) -> list[tuple]:
    """``customer_id``, ``value``, ``source_ids`` of every golden record, read from the kept table."""
    table = handle.customers.golden_table()
    return [tuple(r) for r in handle.store.query_rows(
        f"SELECT customer_id, value, source_ids FROM {table} ORDER BY CAST(substr(customer_id, 2) AS INT)")]


def meta_key(handle) -> str | None:
    return handle.store.query_value(f"SELECT value FROM {schema.META} WHERE key = ?", [f"golden_version_{handle.id}"])


BEFORE = [("C1", 250, "A1;A2"), ("C3", 80, "A3"), ("C4", 90, "A4"), ("C5", 10, "A5")]


def _audience(handle):
    handle.audiences.save("Everyone", AudienceSpec(channel=None, groups=((Condition("value", "ge", 1),),)))


def _run(handle):
    handle.segments.run(FeatureSettings(numeric=("value",), log=()), 2, name="by value")


def _rename(handle):
    _run(handle)
    run = handle.segments.get_run("by value")
    SegmentRepository(handle.store).set_name(run.id, handle.id, 0, "Small")  # what a rename writes


def _rfm(handle):
    orders = handle.workspace.ingest.import_bytes(ORDERS, "orders.csv", ImportSettings(kind="transactions"))
    handle.behaviour.rfm(orders, RFMSettings(as_of="2026-01-31"))
    assert handle.store.query_value(f"SELECT count(*) FROM rfm_{handle.id}") == 3   # A1 and A2 are one customer


def _score(handle):
    scores = pd.DataFrame({"customer_id": ["C1", "C3", "C4", "C5"], "score": [0.9, 0.1, 0.5, 0.3],
                           "top": [25.0, 100.0, 50.0, 75.0]})
    BehaviourRepository(handle.store).write_scores(handle.id, "churn", "score_churn", scores, "{}", "{}", b"")


def _match_run(handle):
    pairs = pd.DataFrame({"dataset_id": [handle.id], "left_row": [3], "right_row": [4], "score": [0.7],
                          "status": ["review"], "levels": ["{}"], "in_chain": [False]})
    dedupe_repository.save_run(handle.store, handle.info, pairs, {"threshold": 0.9}, {"pairs": 1})


def _decision(handle):
    handle.dedupe.decide([(3, 5)], "no_match")


@pytest.mark.parametrize(("write", "attributes"), [(_audience, False), (_run, False), (_rename, False),
                                                   (_rfm, True), (_score, True), (_match_run, False),
                                                   (_decision, False)])
def test_writes_of_derived_data_keep_the_golden_table(merged, builds, write, attributes):
    store, key = merged.store, meta_key(merged)
    version, records = store.version(merged.id), store.records_version(merged.id)
    described = store.attributes_version(merged.id)
    write(merged)
    assert store.version(merged.id) > version                 # the dataset's caches are fresh again...
    assert store.records_version(merged.id) == records        # ...but its records did not change
    assert (store.attributes_version(merged.id) > described) is attributes   # RFM and scores describe customers
    assert golden(merged) == BEFORE and meta_key(merged) == key
    assert builds == [merged.id]                              # built once, by the fixture


def test_a_write_that_does_not_say_it_leaves_the_records_rebuilds(merged, builds):
    with merged.store.transaction(merged.id) as tx:
        tx.execute("INSERT INTO audiences VALUES ('x', now(), '{}')")
    assert golden(merged) == BEFORE and builds == [merged.id, merged.id]
    with merged.store.transaction() as tx:
        tx.touch(merged.id, records=False)
        tx.execute("DELETE FROM audiences")
    assert golden(merged) == BEFORE and builds == [merged.id, merged.id]


def test_a_later_export_rebuilds_the_golden_table(merged, builds):
    later = (b"id;first name;last name;email;phone;created;last activity;value;consent\n"
             b"A2;Jean;DUPONT;jd@gmail.com;;15/01/2019;01/01/2024;300;oui\n"
             b"A6;Anne;Petit;anne@petit.fr;;01/01/2023;01/01/2025;5;oui\n")
    handle = merged.ingest.append(later, "february.csv")
    assert golden(handle) == [("C1", 300, "A1;A2"), ("C3", 80, "A3"), ("C4", 90, "A4"), ("C5", 10, "A5"),
                              ("C7", 5, "A6")]
    assert builds == [merged.id, merged.id]


def test_a_role_change_rebuilds_the_golden_table(merged, builds):
    handle = merged.ingest.set_roles({"value": "text"})
    # As text, the value is the most recent record's (A1, active in 2026), no longer the largest.
    assert golden(handle) == [("C1", "100", "A1;A2"), ("C3", "80", "A3"), ("C4", "90", "A4"), ("C5", "10", "A5")]
    assert builds == [merged.id, merged.id]


def test_forgetting_a_person_rebuilds_the_golden_table(ws, merged, builds):
    ws.ingest.forget(email="paul@roux.fr")
    handle = ws.dataset(merged.name)
    assert golden(handle) == BEFORE[:3]
    assert not handle.store.query_value(f"SELECT count(*) FROM {handle.customers.golden_table()} "
                                        "WHERE contains(CAST(COLUMNS(*) AS VARCHAR), 'paul')")
    assert builds == [merged.id, merged.id]


def test_merges_undos_and_rules_rebuild_the_golden_table(merged, builds):
    merged.dedupe.merge(pairs=[(3, 4)])
    assert golden(merged) == [("C1", 250, "A1;A2"), ("C3", 90, "A3;A4"), ("C5", 10, "A5")]
    merged.dedupe.merge(pairs=[(2, 5)])    # a record joins a group: no new group, the same merge count
    assert golden(merged) == [("C1", 250, "A1;A2;A5"), ("C3", 90, "A3;A4")]
    group = int(merged.store.query_value("SELECT group_id FROM merge_members WHERE row = 3"))
    merged.dedupe.unmerge(group=group)
    assert golden(merged) == [("C1", 250, "A1;A2;A5"), ("C3", 80, "A3"), ("C4", 90, "A4")]
    merged.dedupe.save_survivorship({"value": "sum"})
    assert golden(merged) == [("C1", 360, "A1;A2;A5"), ("C3", 80, "A3"), ("C4", 90, "A4")]
    assert builds == [merged.id] * 5
    assert json.loads(meta_key(merged))[0] == merged.store.records_version(merged.id)

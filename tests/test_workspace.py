"""The facade and the write version: a handle resolved once, versions that move with every committed write."""

from __future__ import annotations

import pytest

from segmentation import DatasetHandle, DatasetNotFoundError, ImportSettings, NotFoundError
from tests.conftest import SAMPLE


def test_a_new_workspace_has_no_dataset_and_says_so(ws):
    assert ws.datasets() == []
    with pytest.raises(DatasetNotFoundError, match="No customers dataset in the store yet") as caught:
        ws.dataset()
    assert isinstance(caught.value, NotFoundError)
    assert caught.value.available == []


def test_write_version_moves_with_committed_writes_only(ws):
    store = ws.store
    start = ws.version
    store.query_rows("SELECT 1")                      # a read
    assert ws.version == start
    with store.transaction() as tx:                   # a transaction that only reads
        tx.execute("SELECT count(*) FROM write_versions")
    assert ws.version == start
    with store.transaction(7) as tx:                  # a write naming dataset 7
        tx.execute("CREATE TABLE scratch (x INTEGER)")
    assert ws.version == start + 1
    assert store.version(7) == 1
    assert store.version(8) == 0
    with pytest.raises(RuntimeError), store.transaction(7) as tx:  # rolled back: nothing moves
        tx.execute("INSERT INTO scratch VALUES (1)")
        raise RuntimeError("boom")
    assert (ws.version, store.version(7)) == (start + 1, 1)
    with store.transaction(versioned=False) as tx:    # a log no cache depends on
        tx.execute("INSERT INTO scratch VALUES (2)")
    assert ws.version == start + 1
    with store.atomic():                              # one atomic block: one version, whatever it holds
        with store.transaction(7) as tx:
            tx.execute("INSERT INTO scratch VALUES (3)")
        with store.transaction(8) as tx:
            tx.execute("INSERT INTO scratch VALUES (4)")
    assert (ws.version, store.version(7), store.version(8)) == (start + 2, 2, 1)


def test_handles_carry_their_stages_and_an_import_moves_the_versions(ws):
    before = ws.version
    ws.ingest.import_path(SAMPLE / "customers.csv", ImportSettings(name="crm"))
    ds = ws.dataset("crm")
    assert isinstance(ds, DatasetHandle)
    assert (ds.name, ds.kind) == ("crm", "customers")
    assert ws.version > before
    assert ds.version > 0
    assert ws.names() == ["crm"]
    for stage in ("ingest", "dedupe", "customers", "segments", "behaviour", "audiences"):
        assert getattr(ds, stage).handle is ds
    assert ws.dataset_by_id(ds.id).name == "crm"
    with pytest.raises(DatasetNotFoundError, match=r"No dataset named 'nope'; the store has \['crm'\]"):
        ws.dataset("nope")

"""A later export of the same CRM added to a dataset: updates, new records, matching against golden records."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from segmentation.core.errors import MissingColumnsError
from segmentation.dedupe import review as dedupe
from segmentation.dedupe.matching import MatchSettings, evaluate
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.ingest.repository import DatasetsRepository
from tests.conftest import SAMPLE

ID = "ID client"


def csv_bytes(frame: pd.DataFrame) -> bytes:
    out = io.StringIO()
    frame.to_csv(out, sep=";", index=False)
    return out.getvalue().encode("utf-8")


def groups_by_id(store, name) -> pd.Series:
    """Record id -> customer id of every record (golden records' source ids)."""
    golden = dedupe.golden_rows(store, name)
    ids = golden.set_index("customer_id")["source_ids"].str.split(";").explode()
    return pd.Series(ids.index, index=ids.to_numpy())


@pytest.fixture(scope="module")
def export():
    frame = pd.read_csv(SAMPLE / "customers.csv", sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    truth = pd.read_csv(SAMPLE / "truth.csv").set_index("record_id")["customer_key"]
    return frame, truth


def test_later_export_keeps_customer_ids_and_decisions(store, export):
    frame, truth = export
    first, later = frame.iloc[:4000], frame.iloc[4000:]
    ds = import_file(store, csv_bytes(first), "january.csv")
    dedupe.find_pairs(store, ds.name)
    dedupe.merge(store, ds.name, above=MatchSettings().upper)
    queue = dedupe.pairs_table(store, ds.name, status="review", undecided_only=True)
    decided = [(int(a), int(b)) for a, b in zip(queue["left_row"][:3], queue["right_row"][:3], strict=True)]
    dedupe.decide(store, decided, "no_match", ds.name)
    before = groups_by_id(store, ds.name)

    # The next export repeats 200 records, one with a new e-mail, and brings the remaining 1,480.
    again = first.iloc[:200].copy()
    again.loc[again.index[0], "E-mail"] = "new.address@example.org"
    ds = import_file(store, csv_bytes(pd.concat([again, later])), "february.csv",
                     ImportSettings(append_to=ds.name))
    assert ds.row_count == len(frame)  # repeated records updated in place, not added
    batches = DatasetsRepository(store).import_batches(ds.id)
    # Only the changed record counts as updated; the 199 repeated as they were add nothing.
    assert batches[["batch", "rows_read", "rows_added", "rows_updated"]].values.tolist() == [[2, 1680, 1480, 1]]
    assert ds.last_import == {"rows_read": 1680, "rows_added": 1480, "rows_updated": 1, "rows_unchanged": 199,
                              "batch": 2}
    assert store.query_value(f"SELECT count(*) FROM {ds.raw_table}") == 4000 + 1481
    updated = store.query_value(f'SELECT "E-mail" FROM {ds.clean_table} WHERE "ID client" = ?',
                                [again[ID].iloc[0]])
    assert updated == "new.address@example.org"

    summary = dedupe.find_pairs(store, ds.name)
    queue = dedupe.pairs_table(store, ds.name, undecided_only=True)
    asked = set(zip(queue["left_row"], queue["right_row"], strict=True))
    assert not asked & set(decided)                      # decisions already taken are not asked again
    assert summary.records == len(frame)
    dedupe.merge(store, ds.name, above=MatchSettings().upper)
    after = groups_by_id(store, ds.name)

    # A customer of January keeps its records together and its id, unless February's records showed it is
    # the same person as another January customer: then the two are one, under the older id, truly.
    kept = after.reindex(before.index)
    assert (kept.groupby(before).nunique() == 1).all()
    assert kept.isin(set(before)).all()
    moved = kept[kept != before]                     # records now under another January customer's id
    assert len(moved) <= 10
    owners = before[before.isin(set(moved))]         # the records that id belonged to in January
    owner_key = truth.reindex(owners.index).groupby(owners.to_numpy()).first()
    assert (truth.reindex(moved.index).to_numpy() == owner_key.reindex(moved.to_numpy()).to_numpy()).all()
    joined = after[after.index.isin(later[ID]) & after.isin(before)]
    assert len(joined) > 20
    # As good as matching everything at once.
    scores = evaluate(after[after.groupby(after).transform("size") > 1], truth)
    assert scores["precision"] >= 0.98 and scores["recall"] >= 0.95


def test_the_same_export_twice_adds_nothing(store, export):
    frame, _truth = export
    ds = import_file(store, csv_bytes(frame.iloc[:300]), "january.csv")
    tables = store.query_rows("SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY 1")
    again = import_file(store, csv_bytes(frame.iloc[:300]), "january again.csv", ImportSettings(append_to=ds.name))
    assert again.last_import == {"rows_read": 300, "rows_added": 0, "rows_updated": 0, "rows_unchanged": 300,
                                 "batch": None}
    assert DatasetsRepository(store).import_batches(ds.id).empty
    assert store.query_rows("SELECT table_name, estimated_size FROM duckdb_tables() ORDER BY 1") == tables
    # Without a record id, a row already stored (same values everywhere) is not added again either.
    no_id = frame.iloc[:20].drop(columns=[ID])
    ds = import_file(store, csv_bytes(no_id), "no id.csv")
    ds = import_file(store, csv_bytes(frame.iloc[10:30].drop(columns=[ID])), "no id 2.csv",
                     ImportSettings(append_to=ds.name))
    assert ds.last_import["rows_added"] == 10 and ds.row_count == 30


def test_later_export_must_have_the_columns(store, export):
    frame, _truth = export
    ds = import_file(store, csv_bytes(frame.iloc[:50]), "january.csv")
    tables = store.query_value("SELECT count(*) FROM information_schema.tables")
    with pytest.raises(MissingColumnsError,
                       match=r"Missing columns \['E-mail'\] in feb.csv; found \[.*\]. Dataset 'january' has them"):
        import_file(store, csv_bytes(frame.iloc[50:60].drop(columns=["E-mail"])), "feb.csv",
                    ImportSettings(append_to=ds.name))
    assert DatasetsRepository(store).dataset(ds.name).row_count == 50
    assert store.query_value("SELECT count(*) FROM information_schema.tables") == tables
    assert store.query_value(f"SELECT count(*) FROM {ds.raw_table}") == 50


def test_headers_match_whatever_their_case_and_extra_columns_are_left_out(store, export):
    frame, _truth = export
    ds = import_file(store, csv_bytes(frame.iloc[:50]), "january.csv")
    later = frame.iloc[50:60].rename(columns=str.upper).assign(Extra="x")
    ds = import_file(store, csv_bytes(later), "feb.csv", ImportSettings(append_to=ds.name))
    assert ds.row_count == 60
    assert ds.columns == list(frame.columns)
    assert any("['Extra'] are not in dataset 'january'" in w for w in ds.warnings)


def test_rows_that_cannot_be_read_in_a_later_export_are_kept(store):
    ds = import_file(store, b"id;name\nA1;Ann\nA2;Bob\n", "january.csv")
    # A store written before the rejects' types were explicit: the first file had none, so they were NULL.
    with store.transaction(ds.id) as tx:
        tx.execute(f"CREATE OR REPLACE TABLE {ds.rejects_table} AS SELECT 1::BIGINT AS line, NULL AS reason, "
                   "NULL AS raw WHERE false")
    ds = import_file(store, b"id;name\nA3;Cy\nA4;Di;extra\n", "feb.csv", ImportSettings(append_to=ds.name))
    assert (ds.row_count, ds.rejected_rows) == (3, 1)
    assert store.query_rows(f"SELECT line, reason, raw FROM {ds.rejects_table}") == [
        (3, "feb.csv: expected 2 fields, found 3", "A4;Di;extra")]

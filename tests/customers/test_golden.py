"""Golden records are deterministic: every survivorship tie is broken by a stated order, exports are identical."""

from __future__ import annotations

from segmentation import AudienceSpec
from segmentation.customers.golden import TIE_ORDER
from segmentation.ingest.importer import import_file

# Rows 1-2 tie on completeness and recency (no activity column), rows 3-4 on everything but the row.
TIES = (
    b"id;first name;last name;email;company;value\n"
    b"B1;Jean;Dupont;jean.dupont@acme.fr;ACME;100\n"
    b"B2;Jehan;DUPONT;jd@gmail.com;Acme SAS;250\n"
    b"B3;Marie;Durand;marie@durand.fr;Durand & fils;80\n"
    b"B4;Mary;Durant;mary@durand.fr;Durand et fils;80\n"
    b"B5;Paul;Roux;paul@roux.fr;Roux;10\n"
)
# With an activity date: B2 and B3 share the latest date (B3 less complete), B1 is older, B4 has none.
RECENT = (
    b"id;first name;last name;email;phone;last activity\n"
    b"R1;Jean;Dupont;jean@a.fr;0123456789;01/01/2024\n"
    b"R2;Jehan;Dupont;jehan@a.fr;0123456780;01/03/2026\n"
    b"R3;J.;Dupont;;0123456781;01/03/2026\n"
    b"R4;Jean-Marc;Dupont;jm@a.fr;0123456782;\n"
)


def reverse_physical_order(store, ds) -> None:
    """Rewrite the normalised table in reverse row order: a scan now meets tied records the other way round."""
    with store.transaction(ds.id) as tx:
        tx.execute(f"CREATE OR REPLACE TABLE {ds.clean_table} AS SELECT * FROM {ds.clean_table} ORDER BY _row DESC")


def golden(handle, rows):
    frame = handle.customers.golden_rows()
    return frame[frame["source_rows"].map(lambda r: list(r) == rows)].iloc[0]


def test_the_tie_order_is_stated():
    assert TIE_ORDER == ("most complete record", "most recent record", "first record (lowest row)")


def test_a_tie_in_survivorship_takes_the_first_record_whatever_the_scan_order(ws):
    ds = import_file(ws.store, TIES, "ties.csv")
    handle = ws.dataset(ds.name)
    handle.dedupe.merge(pairs=[(1, 2), (3, 4)])
    for _ in range(2):
        jean, marie = golden(handle, [1, 2]), golden(handle, [3, 4])
        assert (jean["first name"], jean["email"], jean["company"], jean["id"]) == \
            ("Jean", "jean.dupont@acme.fr", "ACME", "B1")
        assert (marie["first name"], marie["last name"], marie["email"], marie["company"]) == \
            ("Marie", "Durand", "marie@durand.fr", "Durand & fils")
        assert list(jean["email (all)"]) == ["jd@gmail.com", "jean.dupont@acme.fr"]
        reverse_physical_order(ws.store, ds)


def test_most_frequent_and_longest_ties_follow_the_same_order(ws):
    ds = import_file(ws.store, TIES, "ties.csv")
    handle = ws.dataset(ds.name)
    handle.dedupe.save_survivorship({"first name": "most_frequent", "last name": "longest", "company": "longest"})
    handle.dedupe.merge(pairs=[(1, 2), (3, 4)])
    for _ in range(2):
        jean, marie = golden(handle, [1, 2]), golden(handle, [3, 4])
        assert jean["first name"] == "Jean"              # once each: the first record's
        assert jean["last name"] == "Dupont"             # same length: the first record's
        assert jean["company"] == "Acme SAS"             # longest
        assert (marie["last name"], marie["company"]) == ("Durand", "Durand et fils")
        reverse_physical_order(ws.store, ds)


def test_most_recent_then_most_complete_then_first(ws):
    ds = import_file(ws.store, RECENT, "recent.csv")
    handle = ws.dataset(ds.name)
    handle.dedupe.merge(pairs=[(1, 2), (2, 3), (3, 4)])
    for _ in range(2):
        row = golden(handle, [1, 2, 3, 4])
        # R2 and R3 are the most recent; R2 is more complete: every column comes from it.
        assert (row["first name"], row["email"], row["phone"], row["id"]) == ("Jehan", "jehan@a.fr",
                                                                               "+33123456780", "R2")
        reverse_physical_order(ws.store, ds)


def test_a_record_without_an_activity_date_comes_after_the_dated_ones(ws):
    ds = import_file(ws.store, RECENT, "recent.csv")
    handle = ws.dataset(ds.name)
    handle.dedupe.merge(pairs=[(1, 4)])                   # R4 has no date, yet is as complete: R1 wins
    row = golden(handle, [1, 4])
    assert (row["first name"], row["email"], row["id"]) == ("Jean", "jean@a.fr", "R1")


def test_two_exports_of_the_same_store_are_byte_identical(ws, tmp_path):
    ds = import_file(ws.store, TIES, "ties.csv")
    handle = ws.dataset(ds.name)
    handle.dedupe.merge(pairs=[(1, 2), (3, 4)])
    spec = AudienceSpec(dataset=ds.name, columns=tuple(ds.columns), no_consent_column="treat-as-consenting")
    first = handle.audiences.export(spec, tmp_path / "first.csv")
    reverse_physical_order(ws.store, ds)                 # the golden table is rebuilt from another scan order
    second = handle.audiences.export(spec, tmp_path / "second.csv")
    assert first.rows == second.rows == 3
    one, two = (tmp_path / "first.csv").read_bytes(), (tmp_path / "second.csv").read_bytes()
    assert one == two and b"jean.dupont@acme.fr" in one and b"jd@gmail.com" not in one

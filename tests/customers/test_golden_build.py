"""The golden table is built fast (only merged records aggregated, the others projected) yet identical to the full
aggregate: same rows, same order, same column names and types; and its build tells a progress bar how far it is."""

from __future__ import annotations

import random
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import pytest

from segmentation.core.store import Dataset
from segmentation.customers import repository
from segmentation.customers.golden import RULES, Survivorship, golden_build_sql, golden_sql
from tests.dedupe.test_review import CSV

# Column -> (role, DuckDB type, value maker): every kind the normalised tables hold, integers and decimals too
# (a sum of integers is a HUGEINT, of decimals a DECIMAL(38, s): the projection of one record must say so).
COLUMNS = {
    "id": ("id", "VARCHAR", lambda r: r.choice(["K1", "K2", "", "K3"]) + str(r.randint(0, 3))),
    "first name": ("first_name", "VARCHAR", lambda r: r.choice(["Jean", "Jehan", "J.", "Marie-Hélène"])),
    "email": ("email", "VARCHAR", lambda r: r.choice(["a@x.fr", "b@x.fr", "jean.dupont@acme.fr"])),
    "phone": ("phone", "VARCHAR", lambda r: r.choice(["+33123456789", "+33600000000"])),
    "city": ("city", "VARCHAR", lambda r: r.choice(["Paris", "Lyon", "paris"])),
    "created": ("created_date", "DATE", lambda r: date(2020, 1, 1) + timedelta(days=r.randint(0, 3))),
    "last activity": ("last_activity_date", "DATE", lambda r: date(2025, 1, 1) + timedelta(days=r.randint(0, 2))),
    "seen": ("date", "TIMESTAMP", lambda r: datetime(2024, 5, 1, r.randint(0, 2))),
    "value": ("measure", "DOUBLE", lambda r: r.choice([0.1, 0.2, -0.0, 1e15, 3.0])),
    "tickets": ("measure", "INTEGER", lambda r: r.randint(-2, 3)),
    "big": ("measure", "BIGINT", lambda r: r.choice([2**62, -(2**62), 7])),
    "price": ("measure", "DECIMAL(12,2)", lambda r: Decimal(r.choice(["1.10", "2.25", "0.00"]))),
    "consent": ("consent", "BOOLEAN", lambda r: r.random() < 0.5),
    "opt out": ("opt_out", "BOOLEAN", lambda r: r.random() < 0.3),
    "notes": ("text", "VARCHAR", lambda r: r.choice(["", "x", "longer note", "xy"])),
}


def synthetic(con, seed: int, dataset_id: int) -> tuple[Dataset, str, Survivorship]:
    """A dataset of random records (NULLs, ties, a shuffled physical order), random merge groups and rules."""
    r = random.Random(seed)
    names = [c for c in COLUMNS if r.random() < 0.8 or c in ("first name", "tickets")]
    if seed % 3 == 0:
        names = [c for c in names if c != "id"]             # no id column: source ids are row numbers
    if seed % 4 == 1:
        names = [c for c in names if c != "last activity"]  # no recency column
    n = r.randint(1, 60)
    null_share = r.choice([0.0, 0.2, 0.6, 1.0])
    rows = [(row, *[None if r.random() < null_share else COLUMNS[c][2](r) for c in names]) for row in range(1, n + 1)]
    r.shuffle(rows)                                           # the scan order is not the row order
    ds = Dataset(id=dataset_id, name=f"d{seed}", source_file=None, kind="customers", imported_at=datetime(2026, 1, 1),
                 row_count=n, rejected_rows=0, file_format=None, encoding=None, delimiter=None, sheet=None,
                 columns=names, roles={c: COLUMNS[c][0] for c in names})
    typed = ", ".join(f'"{c}" {COLUMNS[c][1]}' for c in names)
    con.execute(f'CREATE TABLE {ds.clean_table} (_row BIGINT{", " if typed else ""}{typed})')
    if rows:
        con.executemany(f"INSERT INTO {ds.clean_table} VALUES ({', '.join('?' * (len(names) + 1))})", rows)
    # Merge groups: none, a few pairs, or most records in groups of up to 5.
    share = r.choice([0.0, 0.3, 0.9, 1.0])
    order = list(range(1, n + 1))
    r.shuffle(order)
    members, group = [], 0
    i = 0
    while i < len(order):
        size = r.randint(2, 5)
        if r.random() < share and i + 1 < len(order):
            group += 1
            members += [(row, 1000 * seed + group) for row in order[i:i + size]]
            i += size
        else:
            i += 1
    table = f"members_{dataset_id}"
    con.execute(f"CREATE TABLE {table} (row BIGINT, group_id BIGINT)")
    if members:
        con.executemany(f"INSERT INTO {table} VALUES (?, ?)", members)
    rules = Survivorship({c: r.choice(list(RULES)) for c in names if r.random() < 0.9})
    return ds, f"SELECT row, group_id FROM {table}", rules


def same_table(con, built: str, reference: str) -> None:
    """``built`` and ``reference`` (two tables) hold the same rows in the same physical order with the same types."""
    assert con.execute(f"DESCRIBE {built}").fetchall() == con.execute(f"DESCRIBE {reference}").fetchall()
    for a, b in ((built, reference), (reference, built)):
        assert con.execute(f"SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b})").fetchone()[0] == 0
    # Physical order, as an export reads it (no ORDER BY): the same customer and source rows at every place.
    numbered = "SELECT row_number() OVER () AS n, * FROM {}"
    differ = con.execute(f"SELECT count(*) FROM ({numbered.format(built)}) a "
                         f"FULL JOIN ({numbered.format(reference)}) b ON a.n = b.n "
                         "WHERE a.n IS NULL OR b.n IS NULL OR a.customer_id <> b.customer_id "
                         "OR CAST(a.source_rows AS VARCHAR) <> CAST(b.source_rows AS VARCHAR)").fetchone()[0]
    assert differ == 0
    assert con.execute(f"SELECT count(*) FROM {built}").fetchone()[0] == \
        con.execute(f"SELECT count(*) FROM {reference}").fetchone()[0]


@pytest.mark.parametrize("seed", range(40))
def test_the_fast_build_equals_the_full_aggregate(seed):
    con = duckdb.connect()
    ds, members, rules = synthetic(con, seed, 10 + seed)
    con.execute(f"CREATE TABLE built AS {golden_build_sql(ds, members, rules)}")
    con.execute(f"CREATE TABLE reference AS {golden_sql(ds, members, rules)}")
    same_table(con, "built", "reference")
    # Each row compared as a whole too (EXCEPT ALL treats NULLs as equal; this compares NULL to NULL as well).
    whole = "SELECT list(r ORDER BY n) FROM (SELECT row_number() OVER () n, {0} r FROM {0})"
    assert con.execute(whole.format("built")).fetchone() == con.execute(whole.format("reference")).fetchone()


def test_exact_values_of_a_record_on_its_own_and_of_a_group():
    con = duckdb.connect()
    ds = Dataset(id=1, name="d", source_file=None, kind="customers", imported_at=datetime(2026, 1, 1), row_count=3,
                 rejected_rows=0, file_format=None, encoding=None, delimiter=None, sheet=None,
                 columns=["id", "email", "tickets", "price", "consent"],
                 roles={"id": "id", "email": "email", "tickets": "measure", "price": "measure", "consent": "consent"})
    con.execute("CREATE TABLE clean_1 (_row BIGINT, id VARCHAR, email VARCHAR, tickets INTEGER, price DECIMAL(12,2), "
                "consent BOOLEAN)")
    con.execute("INSERT INTO clean_1 VALUES (3, NULL, NULL, NULL, NULL, NULL), (1, 'A', 'a@x.fr', 2, 1.50, true), "
                "(2, '', 'b@x.fr', 3, 2.25, false)")
    con.execute("CREATE TABLE m AS SELECT 1 AS row, 7 AS group_id UNION ALL SELECT 2, 7")
    rules = Survivorship({"tickets": "sum", "price": "sum", "consent": "all_true"})
    rows = con.execute(f"SELECT * FROM ({golden_build_sql(ds, 'SELECT row, group_id FROM m', rules)})").fetchall()
    assert rows == [("C1", "A", "a@x.fr", ["a@x.fr", "b@x.fr"], 5, Decimal("3.75"), False, "A;", [1, 2]),
                    ("C3", None, None, None, None, None, None, None, [3])]
    types = [t for _c, t, *_ in con.execute(f"DESCRIBE {golden_build_sql(ds, 'SELECT row, group_id FROM m', rules)}"
                                            ).fetchall()]
    assert types == ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR[]", "HUGEINT", "DECIMAL(38,2)", "BOOLEAN", "VARCHAR",
                     "BIGINT[]"]


def test_a_yes_no_rule_on_a_column_that_is_not_yes_no_takes_the_most_complete_record():
    con = duckdb.connect()
    ds = Dataset(id=2, name="d", source_file=None, kind="customers", imported_at=datetime(2026, 1, 1), row_count=2,
                 rejected_rows=0, file_format=None, encoding=None, delimiter=None, sheet=None,
                 columns=["email", "city"], roles={"email": "email", "city": "city"})
    con.execute("CREATE TABLE clean_2 AS SELECT * FROM (VALUES (1, 'a@x.fr', NULL), (2, 'b@x.fr', 'Lyon')) "
                "t(_row, email, city)")
    con.execute("CREATE TABLE m AS SELECT 1 AS row, 7 AS group_id UNION ALL SELECT 2, 7")
    rules = Survivorship({"email": "all_true", "city": "any_true"})   # bool_and(VARCHAR) used to fail
    for sql in (golden_build_sql, golden_sql):
        assert con.execute(f"SELECT customer_id, email, city FROM ({sql(ds, 'SELECT row, group_id FROM m', rules)})"
                           ).fetchall() == [("C1", "b@x.fr", "Lyon")]


# -- through the facade ------------------------------------------------------------------------------------------
def reference_rows(handle) -> list[tuple]:
    from segmentation.customers.golden import golden_reference_sql
    return handle.store.query_rows(golden_reference_sql(handle.info, repository.survivorship(handle.store,
                                                                                             handle.info)))


def test_the_kept_table_equals_the_reference_after_merges_rules_and_undo(ws):
    handle = ws.ingest.import_bytes(CSV, "crm.csv")
    handle.dedupe.merge(pairs=[(1, 2), (3, 4)])
    handle.dedupe.save_survivorship({"value": "sum", "first name": "most_frequent", "email": "longest"})
    for step in range(2):
        table = handle.customers.golden_table()
        assert handle.store.query_rows(f"SELECT * FROM {table}") == reference_rows(handle)
        described = handle.store.query_rows(f"DESCRIBE {table}")
        assert [(c, t) for c, t, *_ in described][:3] == [("customer_id", "VARCHAR"), ("id", "VARCHAR"),
                                                           ("first name", "VARCHAR")]
        if step == 0:
            group = int(handle.store.query_value("SELECT group_id FROM merge_members WHERE row = 3"))
            handle.dedupe.unmerge(group=group)


def test_prepare_builds_once_and_tells_the_progress(ws):
    handle = ws.ingest.import_bytes(CSV, "crm.csv")
    customers = handle.customers
    assert customers.ready() and customers.prepare(lambda f, m: pytest.fail("nothing to build")) is False
    handle.dedupe.merge(pairs=[(1, 2)])
    assert not customers.ready()
    said: list[tuple[float, str]] = []
    assert customers.prepare(lambda f, m: said.append((f, str(m)))) is True
    assert customers.ready()
    assert said[0] == (0.0, "Building the golden records (one per customer after the merges)")
    assert said[-1] == (1.0, "Golden records ready")
    fractions = [f for f, _m in said]
    assert fractions == sorted(fractions) and all(0.0 <= f <= 1.0 for f in fractions)
    assert customers.prepare(lambda f, m: pytest.fail("already built")) is False
    assert handle.store.query_rows(f"SELECT * FROM {customers.golden_table()}") == reference_rows(handle)


SLOW = "SELECT i % 1000 AS g, list(i ORDER BY i DESC) AS l FROM range(4000000) t(i) GROUP BY g ORDER BY g"


def test_a_long_statement_reports_duckdbs_own_progress_from_the_calling_thread(store, monkeypatch):
    monkeypatch.setattr(repository, "_POLL_SECONDS", 0.01)
    said: list[tuple[float, str]] = []
    threads: set[int] = set()

    def progress(fraction, msg):
        threads.add(threading.get_ident())
        said.append((fraction, str(msg)))

    with store.transaction(versioned=False) as tx:
        repository._execute_reporting(tx, f"CREATE TABLE slow AS {SLOW}", progress)
    assert store.query_value("SELECT count(*) FROM slow") == 1000
    assert threads == {threading.get_ident()}                     # a page's bar is only ever drawn by its script
    between = [f for f, _m in said if 0.0 < f < 1.0]
    assert between, said                                           # DuckDB measured the statement while it ran
    assert [f for f, _m in said] == sorted(f for f, _m in said)


def test_leaving_the_page_during_a_build_keeps_the_build_and_then_stops(ws, monkeypatch):
    """A click during the build makes Streamlit raise in the bar's next update: the build is finished and kept
    (the next run does not start it again), then the exception goes on, so the page stops as asked."""
    handle = ws.ingest.import_bytes(CSV, "crm.csv")
    handle.dedupe.merge(pairs=[(1, 2)])
    monkeypatch.setattr(repository, "_POLL_SECONDS", 0.01)
    build = repository.golden_rows_sql
    monkeypatch.setattr(repository, "golden_rows_sql",   # a build long enough to be asked how far it is
                        lambda ds, rules: f"SELECT * FROM ({build(ds, rules)}) g, (SELECT count(*) FROM ({SLOW}))")
    calls: list[float] = []

    class Left(Exception):
        pass

    def progress(fraction, _msg):
        calls.append(fraction)
        if len(calls) > 1:
            raise Left

    with pytest.raises(Left):
        handle.customers.prepare(progress)
    assert len(calls) == 2                                          # told nothing after it raised
    assert handle.customers.ready()                                 # built and kept
    monkeypatch.setattr(repository, "golden_rows_sql", build)
    assert handle.customers.prepare(lambda f, m: pytest.fail("built already")) is False


def test_a_failing_statement_raises_in_the_caller(store):
    with pytest.raises(duckdb.Error), store.transaction(versioned=False) as tx:
        repository._execute_reporting(tx, "CREATE TABLE x AS SELECT * FROM no_such_table", lambda f, m: None)
    assert not store.table_exists("x")

"""RFM benchmark: recency, frequency, monetary, quintiles and groups for N customers with 10 order lines each.

The customers and order lines are generated inside DuckDB (importing 10 million order rows from CSV
would measure the importer, which ``bench_import.py`` does): invoice lines as real order histories have them,
two lines per invoice, a quantity and a unit price (monetary is quantity × price), 2 % of the invoices
cancellations (``C`` + the invoice number, negative quantities), 3 % of the lines returns (negative
quantities), 1 % guest lines (no customer id). Then :func:`segmentation.behaviour.rfm.compute` runs as the page
and the CLI run it, the order columns guessed. Each size runs in a process of its own, so peak memory (VmHWM)
belongs to it.

Usage: ``python benchmarks/bench_rfm.py [--sizes 10000 100000 1000000] [--json]`` (a size is a number of
customers; the lines are ten times as many). Goal (issues 7 and 17): 1M customers and 10M order lines in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, child, peak_mb

GOAL_SECONDS = 10.0


def measure(customers: int) -> dict:
    """Build a store of ``customers`` customers and 10 order lines each, then time the RFM computation."""
    sys.path.insert(0, str(ROOT))
    from segmentation.behaviour import rfm
    from segmentation.core.store import Store
    from segmentation.ingest.importer import ImportSettings, import_file

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        cust = import_file(store, b"id;name\nK1;a\n", "customers.csv")
        orders = import_file(store, b"order_id;customer_id;order_date;quantity;unit_price;category\n"
                                    b"O1;K1;2026-01-01;1;10;A\nC2;K1;2026-01-02;-1;10;A\n",
                             "orders.csv", ImportSettings(kind="transactions"))
        n, m = customers, customers * 10
        with store.transaction() as tx:
            tx.execute(f"CREATE OR REPLACE TABLE {cust.clean_table} AS SELECT i AS _row, 'K' || i AS id, "
                       f"'n' || i AS name FROM range(1, {n + 1}) t(i)")
            # Skewed like real orders: a few customers order a lot; two lines per invoice, the invoice's customer
            # and day drawn once (a hash of the invoice number), 2 % of the invoices cancellations.
            tx.execute(f"CREATE OR REPLACE TABLE {orders.clean_table} AS SELECT i AS _row, "
                       f"CASE WHEN hash(i // 2) % 50 = 0 THEN 'C' ELSE '' END || CAST(100000 + i // 2 AS VARCHAR) "
                       f"AS order_id, CASE WHEN hash(i // 2 + 7) % 100 = 0 THEN NULL ELSE 'K' || (1 + CAST(floor("
                       f"{n} * pow((hash(i // 2 + 1) % 1000003) / 1000003.0, 2)) AS BIGINT)) END AS customer_id, "
                       f"DATE '2019-01-01' + CAST(hash(i // 2 + 2) % 2800 AS INTEGER) AS order_date, "
                       f"CAST(CASE WHEN hash(i // 2) % 50 = 0 OR random() < 0.03 THEN -1 ELSE 1 END * "
                       f"(1 + floor(random() * 5)) AS DOUBLE) AS quantity, "
                       f"round(exp(1 + 2 * random()), 2) AS unit_price, "
                       f"['Licences', 'Modules', 'Formation', 'Abonnement'][1 + CAST(floor(random() * 4) AS INTEGER)] "
                       f"AS category FROM range(1, {m + 1}) t(i)")
        start, cpu = time.perf_counter(), time.process_time()
        stats = rfm.compute(store, cust.name, orders.name,
                            rfm.RFMSettings(as_of="2026-11-01", link_column="customer_id"))
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        store.close()
    assert stats["columns"]["order_id"] == "order_id" and stats["columns"]["quantity"] == "quantity", stats
    return {"customers": n, "orders": m, "seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_mb(),
            "customers_with_orders": stats["customers_with_orders"], "invoices": stats["orders"],
            "cancelled_lines": stats["cancelled_lines"], "returned_lines": stats["returned_lines"],
            "guest_lines": stats["guest_lines"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    results = []
    for size in args.sizes:
        results.append(child(__file__, size))
    if args.json:
        print(json.dumps(results))
        return 0
    # CPU seconds (all threads) beside the wall time: on a busy machine the wall time is mostly waiting.
    print(f"{'customers':>10} {'lines':>11} {'invoices':>10} {'RFM s':>7} {'CPU s':>7} {'peak MB':>8}  goal")
    for r in results:
        goal = f"< {GOAL_SECONDS:.0f} s {'✓' if r['seconds'] < GOAL_SECONDS else '✗'}" \
            if r["customers"] >= 1_000_000 else ""
        print(f"{r['customers']:>10,} {r['orders']:>11,} {r['invoices']:>10,} {r['seconds']:>7.2f} "
              f"{r['cpu_seconds']:>7.2f} {r['peak_mb']:>8.0f}  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""RFM benchmark: recency, frequency, monetary, quintiles and groups for N customers with 10 orders each.

The customers and orders tables are generated inside DuckDB (importing 10 million order rows from CSV
would measure the importer, which ``bench_import.py`` does); then
:func:`segmentation.behaviour.rfm.compute` runs as the page and the CLI run it. Each size runs in a process of its
own, so peak memory (VmHWM) belongs to it.

Usage: ``python benchmarks/bench_rfm.py [--sizes 10000 100000 1000000] [--json]``.
Goal (issue 7): 1M customers and 10M orders in under 10 s.
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
    """Build a store of ``customers`` customers and 10 orders each, then time the RFM computation."""
    sys.path.insert(0, str(ROOT))
    from segmentation.behaviour import rfm
    from segmentation.core.store import Store
    from segmentation.ingest.importer import ImportSettings, import_file

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        cust = import_file(store, b"id;name\nK1;a\n", "customers.csv")
        orders = import_file(store, b"order_id;customer_id;order_date;amount;category\nO1;K1;2026-01-01;10;A\n",
                             "orders.csv", ImportSettings(kind="transactions"))
        n, m = customers, customers * 10
        with store.transaction() as tx:
            tx.execute(f"CREATE OR REPLACE TABLE {cust.clean_table} AS SELECT i AS _row, 'K' || i AS id, "
                       f"'n' || i AS name FROM range(1, {n + 1}) t(i)")
            # Skewed like real orders: a few customers order a lot, amounts are log-normal-ish.
            tx.execute(f"CREATE OR REPLACE TABLE {orders.clean_table} AS SELECT i AS _row, 'O' || i AS order_id, "
                       f"'K' || (1 + CAST(floor({n} * pow(random(), 2)) AS BIGINT)) AS customer_id, "
                       f"DATE '2019-01-01' + CAST(floor(random() * 2800) AS INTEGER) AS order_date, "
                       f"round(exp(4 + 2 * random()), 2) AS amount, "
                       f"['Licences', 'Modules', 'Formation', 'Abonnement'][1 + CAST(floor(random() * 4) AS INTEGER)] "
                       f"AS category FROM range(1, {m + 1}) t(i)")
        start = time.perf_counter()
        stats = rfm.compute(store, cust.name, orders.name,
                            rfm.RFMSettings(as_of="2026-11-01", link_column="customer_id"))
        seconds = time.perf_counter() - start
        store.close()
    return {"customers": n, "orders": m, "seconds": seconds, "peak_mb": peak_mb(),
            "customers_with_orders": stats["customers_with_orders"]}


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
    print(f"{'customers':>10} {'orders':>11} {'RFM s':>7} {'peak MB':>8}  goal")
    for r in results:
        goal = f"< {GOAL_SECONDS:.0f} s {'✓' if r['seconds'] < GOAL_SECONDS else '✗'}" \
            if r["customers"] >= 1_000_000 else ""
        print(f"{r['customers']:>10,} {r['orders']:>11,} {r['seconds']:>7.2f} {r['peak_mb']:>8.0f}  {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

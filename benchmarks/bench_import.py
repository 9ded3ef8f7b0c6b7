"""Import benchmark: Segment Studio's import beside DuckDB's bare ``read_csv``.

For each size, the generated customers file is written in UTF-8 (DuckDB
cannot read Windows-1252 without an extension download), then each
measurement runs in a fresh process of its own so that peak memory
(``ru_maxrss``) belongs to that measurement alone:

- ``duckdb``: ``CREATE TABLE t AS SELECT * FROM read_csv(file, all_varchar=true)``;
- ``import``: :func:`segmentation.ingest.importer.import_file` into a new store;
  "read+store" is the time until normalisation starts, "total" the whole
  import with normalisation.

Usage: ``python benchmarks/bench_import.py [--sizes 100000 1000000]``.
Goals at 1M rows (issue 2): read+store ≤ 1.5× DuckDB, total ≤ 3×, peak < 2 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DATA, ROOT, child, customers_file, peak_mb


def measure(mode: str, path: Path) -> dict:
    """One measurement, in this process (called in a child process)."""
    sys.path.insert(0, str(ROOT))
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        if mode == "duckdb":
            start = time.perf_counter()
            con = duckdb.connect(str(db))
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true)", [str(path)])
            rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
            con.close()
            return {"seconds": time.perf_counter() - start, "rows": rows, "peak_mb": peak_mb()}
        from segmentation.core.store import Store
        from segmentation.ingest.importer import import_file

        marks: dict[str, float] = {}
        start = time.perf_counter()
        store = Store(db)
        data = path.read_bytes()
        ds = import_file(store, data, path.name,
                         progress=lambda _f, msg: marks.setdefault(msg.split()[0], time.perf_counter()))
        total = time.perf_counter() - start
        store.close()
        return {"seconds": total, "read_store_seconds": marks.get("Normalising", start + total) - start,
                "rows": ds.row_count, "peak_mb": peak_mb()}


def run_child(mode: str, path: Path) -> dict:
    return child(__file__, mode, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--make", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        customers_file(args.make)
        return
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    print(f"{'rows':>9} {'duckdb s':>9} {'read+store s':>13} {'ratio':>6} {'import s':>9} {'ratio':>6} "
          f"{'duckdb MB':>10} {'import MB':>10}   goal: ≤1.5×, ≤3×, <2048 MB at 1M")
    for rows in args.sizes:
        path = DATA / f"customers_{rows}_utf8.csv"
        if not path.exists():  # generated in a child so that this process stays small
            subprocess.run([sys.executable, __file__, "--make", str(rows)], check=True)
        bare = run_child("duckdb", path)
        ours = run_child("import", path)
        print(f"{ours['rows']:>9,} {bare['seconds']:>9.2f} {ours['read_store_seconds']:>13.2f} "
              f"{ours['read_store_seconds'] / bare['seconds']:>5.2f}× {ours['seconds']:>9.2f} "
              f"{ours['seconds'] / bare['seconds']:>5.2f}× {bare['peak_mb']:>10.0f} {ours['peak_mb']:>10.0f}",
              flush=True)


if __name__ == "__main__":
    main()

"""Refresh benchmark: a nightly refresh of N customers, unchanged and then with a changed export.

The store is set up as a marketer would (import, a segment run of k = 5, an audience saved) from the generated
export ``benchmarks/data/customers_<N>_utf8.csv`` (written by ``bench_import.py``/``bench_dedupe.py``, or
here when missing); the pipeline is saved with ``workspace.refresh.config_from_store`` and run three times
with ``workspace.refresh.run_file``:

- **first**: the same file the store was built from (nothing new; segments assigned and snapshotted, the audience
  written);
- **changed**: a new export with 1 % new customers and 1 % changed e-mails (rows added, records updated,
  customers assigned, a snapshot, the audience rewritten);
- **again**: the same inputs once more (every step skipped).

Deduplication is left out of the pipeline here (``bench_dedupe.py`` measures it: 130 s at 1M); it would run
only in "changed". Each size runs in a process of its own, so peak memory (VmHWM) belongs to it. The issue
(8) names no time to meet; the whole import of the file is printed beside it for scale.

Usage: ``python benchmarks/bench_refresh.py [--sizes 10000 100000 1000000] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, child, customers_file, peak_mb


def measure(customers: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import pandas as pd

    from segmentation import AudienceSpec, ImportSettings, open_workspace

    source = customers_file(customers)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        export = tmp / "exports" / "customers.csv"
        export.parent.mkdir()
        export.write_bytes(source.read_bytes())
        ws = open_workspace(tmp / "bench.duckdb")
        start = time.perf_counter()
        ds = ws.ingest.import_path(export, ImportSettings(name="customers"))
        import_s = time.perf_counter() - start
        ds.segments.run(ds.segments.default_features(), 5, name="base")
        ds.audiences.save("Segment 0", AudienceSpec(dataset=ds.name, segments=(0,)))
        config = ws.refresh.save_config(
            ws.refresh.config_from_store(ds.name, files={ds.name: "exports/customers.csv"}), tmp / "pipeline.toml")
        out: dict = {"customers": customers, "records": ds.info.row_count, "import_s": import_s}

        def timed(label: str) -> None:
            start = time.perf_counter()
            result = ws.refresh.run_file(config)
            out[f"{label}_s"] = time.perf_counter() - start
            out[f"{label}_steps"] = {s.step: [s.status, round(s.seconds, 2)] for s in result.steps}
            out[f"{label}_rows"] = result.summary["rows_imported"].get(ds.name)

        timed("first")
        frame = pd.read_csv(export, sep=";", dtype=str, keep_default_na=False)
        id_col = next(c for c in frame.columns if "id" in c.lower())
        email = next(c for c in frame.columns if "mail" in c.lower())
        step = 100  # 1 %
        frame.loc[frame.index[::step], email] = "changed." + frame.loc[frame.index[::step], email]
        new = frame.iloc[1::step].copy()
        new[id_col] = "NEW" + new[id_col].astype(str)
        pd.concat([frame, new]).to_csv(export, sep=";", index=False)
        timed("changed")
        timed("again")
        ws.close()
    out["peak_mb"] = peak_mb()
    return out


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
    print(f"{'customers':>10} {'records':>10} {'import s':>9} {'first s':>8} {'changed s':>10} {'again s':>8} "
          f"{'peak MB':>8}  reference")
    for r in results:
        print(f"{r['customers']:>10,} {r['records']:>10,} {r['import_s']:>9.1f} {r['first_s']:>8.1f} "
              f"{r['changed_s']:>10.1f} {r['again_s']:>8.1f} {r['peak_mb']:>8.0f}  none named (import for scale)")
    for r in results:
        print(f"\n{r['customers']:,}: changed export {r['changed_rows']}")
        for label in ("first", "changed", "again"):
            print(f"  {label:8} " + ", ".join(f"{k} {v[0]} {v[1]} s" for k, v in r[f"{label}_steps"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

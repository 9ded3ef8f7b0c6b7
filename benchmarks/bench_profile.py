"""Profile page benchmark: its first open and a rename, on a store of n generated customers with a 5-segment run.

The store is built once per size (``benchmarks/data/profile_<n>.duckdb``: the
generated customers file of :func:`common.customers_file` imported, then
K-means with k = 5 on the default features; not timed). Each measurement
runs in a fresh child process with Streamlit's caches empty:

- ``open``: the Profile page's first run with AppTest (cards, figures, traits, rules; the details closed),
  from ``switch_page`` to the end of the script;
- ``rename``: typing a new name for segment 0 and saving it (the page's rerun after the click; in the
  browser only the card's fragment reruns, which is less);
- ``engine``: ``segments.profile`` on a cold process (no page), and ``segments.rename_segment``.

Each is measured twice: on the store as the fit left it (the profile computed on the first open, then kept
in ``segment_profiles``), and on a copy where an earlier process computed and kept it (``kept``: what every
later first open of the page costs, in a fresh process, until the data or the run's assignment change).

Usage::

    .venv/bin/python benchmarks/bench_profile.py                  # 10k, 100k, 1M
    .venv/bin/python benchmarks/bench_profile.py --sizes 100000 --store /tmp/s.duckdb

Goals (issue 16), at 1M customers: first open < 3 s, a rename < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import DATA, ROOT, child, customers_file, peak_mb

GOALS = {"open": 3.0, "rename": 1.0}


def build(rows: int) -> Path:
    """The store of ``rows`` customers with a run "Bench" (made once)."""
    from segmentation import ImportSettings, open_workspace
    path = DATA / f"profile_{rows}.duckdb"
    if not path.exists():
        tmp = path.with_suffix(".tmp.duckdb")
        with open_workspace(tmp) as ws:
            handle = ws.ingest.import_path(customers_file(rows), ImportSettings(name="customers"))
            handle.segments.run(handle.segments.default_features(), 5, name="Bench")
        tmp.rename(path)
    return path


def measure(store: str, what: str) -> dict:
    """One measurement on a copy of ``store`` (the copy is deleted after)."""
    folder = Path(tempfile.mkdtemp())
    copy = folder / "s.duckdb"
    if what != "keep":
        shutil.copy(store, copy)
    try:
        if what == "keep":  # an earlier process computes the profile and keeps it in the store (not timed)
            from segmentation import open_workspace
            with open_workspace(store) as ws:
                ws.dataset().segments.profile()
            return {}
        if what == "engine":
            from segmentation import open_workspace
            with open_workspace(copy) as ws:
                segments = ws.dataset().segments
                run = segments.current_run()
                t = time.perf_counter()
                profile = segments.profile(run.name)
                cold = time.perf_counter() - t
                t = time.perf_counter()
                segments.rename_segment(run.name, 0, "Renamed")
                renamed = time.perf_counter() - t
                t = time.perf_counter()
                segments.profile(run.name)
                after = time.perf_counter() - t
            return {"profile": round(cold, 2), "rename": round(renamed, 3), "profile_after_rename": round(after, 3),
                    "names": list(profile.names.values()), "peak_mb": round(peak_mb())}
        os.environ["SEGMENT_STUDIO_DB"] = str(copy)
        from streamlit.testing.v1 import AppTest
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        t = time.perf_counter()
        at.switch_page("pages/profile.py").run()
        opened = time.perf_counter() - t
        assert not at.exception, [e.value for e in at.exception]
        cards = len(at.subheader)
        at.text_input(key="rename_name_0").set_value("Renamed").run()
        t = time.perf_counter()
        at.button(key="rename_button_0").click().run()
        renamed = time.perf_counter() - t
        assert not at.exception and at.subheader[0].value == "Renamed"
        return {"open": round(opened, 2), "rename": round(renamed, 2), "cards": cards, "peak_mb": round(peak_mb())}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--store", help="an existing store with a run (instead of building one; one size)")
    parser.add_argument("--child", nargs=2, metavar=("STORE", "WHAT"), help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child)))
        return
    results = []
    for rows in args.sizes:
        store = args.store or str(build(rows))
        page = child(__file__, store, "page", check=False)
        engine = child(__file__, store, "engine", check=False)
        folder = Path(tempfile.mkdtemp())
        try:
            kept = folder / "kept.duckdb"
            shutil.copy(store, kept)
            child(__file__, kept, "keep")
            page_kept = child(__file__, kept, "page", check=False)
            engine_kept = child(__file__, kept, "engine", check=False)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        results.append({"customers": rows, "page": page, "engine": engine, "page_kept": page_kept,
                        "engine_kept": engine_kept, "met": {k: page.get(k, 1e9) < v for k, v in GOALS.items()},
                        "met_kept": {k: page_kept.get(k, 1e9) < v for k, v in GOALS.items()}})
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    for r in results:
        for label, p, e, met in (("computed", r["page"], r["engine"], r["met"]),
                                 ("kept", r["page_kept"], r["engine_kept"], r["met_kept"])):
            print(f"{r['customers']:>9,} customers, profile {label:>8}: first open {p.get('open')} s, rename "
                  f"{p.get('rename')} s (goals {GOALS['open']} s / {GOALS['rename']} s: {met}); engine: profile "
                  f"{e.get('profile')} s, rename {e.get('rename')} s, profile after the rename "
                  f"{e.get('profile_after_rename')} s; peak {p.get('peak_mb')} MB {p.get('error', '')}"
                  f"{e.get('error', '')}")


if __name__ == "__main__":
    main()

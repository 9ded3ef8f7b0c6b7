"""The dedupe commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse

from ..activate.export import write_file
from ..dedupe.review import find_pairs, merge, pairs_table, rows_for_ids, unmerge
from ..ingest.importer import read_pairs_file
from ..workspace import Workspace
from .base import command, log


@command("dedupe")
def cmd_dedupe(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    columns = [c.strip() for c in args.match_columns.split(",")] if args.match_columns else None
    summary = find_pairs(store, args.dataset, match_columns=columns,
                         progress=lambda f, m: log.info("%3.0f%% %s", 100 * f, m))
    if args.pairs_out:
        pairs = pairs_table(store, args.dataset)[["left_id", "right_id", "score"]]
        write_file(pairs, args.pairs_out)
    return {"records": summary.records, "pairs_compared": summary.pairs_compared,
            "candidate_pairs": summary.candidate_pairs, "sure_matches": summary.sure_matches,
            "to_review": summary.to_review, "blocks_capped": summary.blocks_capped}


@command("merge")
def cmd_merge(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    pairs = None
    if args.pairs:
        listed = read_pairs_file(args.pairs)
        pairs = rows_for_ids(store, listed, args.dataset)
    result = merge(store, args.dataset, above=args.above, pairs=pairs, source="cli")
    return result


@command("unmerge")
def cmd_unmerge(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    return unmerge(store, args.dataset, group=args.group, everything=args.all)


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    p = sub.add_parser("dedupe", parents=[common], help="find candidate duplicate pairs")
    p.add_argument("--dataset")
    p.add_argument("--match-columns", help="comma-separated columns to compare (default: by roles)")
    p.add_argument("--pairs-out", help="write every candidate pair as CSV: left_id,right_id,score")

    p = sub.add_parser("merge", parents=[common], help="merge duplicate pairs into golden records")
    p.add_argument("--dataset")
    how = p.add_mutually_exclusive_group(required=True)
    how.add_argument("--above", type=float, help="merge every candidate pair scoring at least this (0..1)")
    how.add_argument("--pairs", help="CSV with columns left_id,right_id")

    p = sub.add_parser("unmerge", parents=[common], help="undo merges")
    p.add_argument("--dataset")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true")
    which.add_argument("--group", type=int)


"""The dedupe commands of the CLI (each a few lines over the facade: ``ws.dataset(...).dedupe``)."""

from __future__ import annotations

import argparse

from .. import Workspace
from .base import command, progress


@command("dedupe")
def cmd_dedupe(ws: Workspace, args: argparse.Namespace) -> dict:
    dedupe = ws.dataset(args.dataset).dedupe
    columns = [c.strip() for c in args.match_columns.split(",")] if args.match_columns else None
    summary = dedupe.find(match_columns=columns, progress=progress)
    if args.pairs_out:
        dedupe.export_pairs(args.pairs_out)
    return summary.to_dict()


@command("merge")
def cmd_merge(ws: Workspace, args: argparse.Namespace) -> dict:
    dedupe = ws.dataset(args.dataset).dedupe
    pairs = dedupe.pairs_from_file(args.pairs) if args.pairs else None
    return dedupe.merge(above=args.above, pairs=pairs, source="cli").to_dict()


@command("unmerge")
def cmd_unmerge(ws: Workspace, args: argparse.Namespace) -> dict:
    return ws.dataset(args.dataset).dedupe.unmerge(group=args.group, everything=args.all).to_dict()


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

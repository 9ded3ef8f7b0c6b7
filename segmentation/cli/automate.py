"""The automate commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse
import json

from .. import RefreshError, SettingError, Workspace, write_file
from .base import command
from .base import progress as _progress


@command("refresh")
def cmd_refresh(ws: Workspace, args: argparse.Namespace) -> dict:
    try:
        result = ws.refresh.run_file(args.config, progress=_progress)
    except RefreshError as exc:
        if args.json:  # a scheduler gets the figures of the steps that ran too
            print(json.dumps({"refresh": exc.refresh_id, "status": "failed", "failed_step": exc.step,
                              "error": str(exc), **exc.summary}, ensure_ascii=False, default=str))
        raise
    return result.to_dict()


@command("config")
def cmd_config(ws: Workspace, args: argparse.Namespace) -> dict:
    config = ws.refresh.config_from_store(args.dataset, files=_pairs_option(args.source, "--source"),
                                          outputs=_pairs_option(args.audience_file, "--audience-file"),
                                          segment_mode=args.segments, auto_merge=not args.no_auto_merge,
                                          segment_k=args.k)
    path = ws.refresh.save_config(config, args.out)
    return {"config": str(path), "sources": [s.dataset for s in config.sources],
            "dedupe": config.dedupe is not None, "rfm": config.rfm is not None,
            "scores": [s.name for s in config.scores],
            "segments": config.segments.run if config.segments else None,
            "audiences": [a.name for a in config.audiences]}


def _pairs_option(items: list[str] | None, option: str) -> dict[str, str]:
    """``NAME=VALUE`` options as a dict."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise SettingError(option, item, "NAME=PATH")
        out[name.strip()] = value.strip()
    return out


@command("snapshots")
def cmd_snapshots(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = ws.dataset(args.dataset).segments
    table, sizes = segments.snapshots(), segments.snapshot_sizes()
    return {"snapshots": [{"id": int(r.id), "taken_at": r.taken_at.isoformat(timespec="seconds"), "run": r.run,
                           "customers": int(r.customers),
                           "sizes": {n: int(c) for n, c in sizes.loc[sizes["snapshot"] == r.id,
                                                                    ["name", "customers"]].to_numpy()}}
                          for r in table.itertuples()]}


@command("migration")
def cmd_migration(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = ws.dataset().segments  # snapshots are named by id: any dataset's stage reads them
    table = segments.migration(args.before, args.after)
    out = {"before": args.before, "after": args.after,
           "matrix": {str(a): {str(b): int(n) for b, n in row.items()} for a, row in table.iterrows()}}
    if args.movers_out:
        movers = segments.movers(args.before, args.after, args.from_segment, args.to_segment)
        write_file(movers, args.movers_out)
        out.update(movers=len(movers), movers_out=args.movers_out)
    return out


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    p = sub.add_parser("refresh", parents=[common],
                       help="run the whole pipeline of a config file (for cron, Airflow, Prefect)")
    p.add_argument("--config", required=True, help="pipeline file (TOML), as saved by the Refresh page or 'config'")

    p = sub.add_parser("config", parents=[common], help="save the pipeline set up in the store as a TOML file")
    p.add_argument("--out", required=True, help="file to write, e.g. pipeline.toml")
    p.add_argument("--dataset", help="customers dataset (default: the most recent)")
    p.add_argument("--segments", choices=["assign", "refit"], default="assign",
                   help="assign customers with the current run (default), or re-fit it on each refresh")
    p.add_argument("--k", type=int, help="with --segments refit: number of segments (default: the run's)")
    p.add_argument("--no-auto-merge", action="store_true", help="queue sure matches for review too")
    p.add_argument("--source", action="append", metavar="DATASET=PATH",
                   help="where each refresh reads the dataset's new export (repeatable; relative to the file)")
    p.add_argument("--audience-file", action="append", metavar="AUDIENCE=PATH",
                   help="file each refresh writes the saved audience to (repeatable; .csv or .xlsx)")

    p = sub.add_parser("snapshots", parents=[common], help="segment sizes in every snapshot")
    p.add_argument("--dataset")

    p = sub.add_parser("migration", parents=[common], help="who moved between segments from one snapshot to another")
    p.add_argument("before", type=int, help="earlier snapshot id")
    p.add_argument("after", type=int, help="later snapshot id")
    p.add_argument("--movers-out", help="write the customers who moved (CSV or XLSX)")
    p.add_argument("--from-segment", help="with --movers-out: only those who were in this segment")
    p.add_argument("--to-segment", help="with --movers-out: only those now in this segment")

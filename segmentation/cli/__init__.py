"""Command-line interface: ``segment-studio`` / ``python -m segmentation [--db PATH] COMMAND ... [--json]``.

Each command is a few lines over the facade (:mod:`segmentation.workspace`), one module per stage.
With ``--json`` a command prints exactly one JSON object on standard output;
logs go to standard error; errors print one ``error: ...`` line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import duckdb

from .. import SegmentStudioError, __version__, load_config, open_workspace
from . import activate, automate, behaviour, dedupe, ingest, profile, segment
from .base import COMMANDS, _Parser

STAGES = (ingest, dedupe, activate, segment, profile, behaviour, automate)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on standard output")
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="working store file (default: $SEGMENT_STUDIO_DB or workspace.duckdb)")
    # "segment-studio" once installed, "python -m segmentation" from a checkout.
    prog = "segment-studio" if Path(sys.argv[0]).name.startswith("segment-studio") else "python -m segmentation"
    parser = _Parser(prog=prog, parents=[common],
                     description="Segment Studio: clean CRM exports into customer segments.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    for stage in STAGES:
        stage.add_parsers(sub, common)
    return parser


def _print_human(result: dict) -> None:
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            print(f"{key}:")
            for item in value:
                print("  " + ", ".join(f"{k}={v}" for k, v in item.items()))
        elif isinstance(value, dict):
            print(f"{key}:")
            for k, v in value.items():
                print(f"  {k}: {v}")
        else:
            print(f"{key}: {value}")


def _config_store(args: argparse.Namespace) -> str | None:
    """The store a refresh config names (``store = ...``, relative to the file), unless --db says otherwise."""
    if args.command != "refresh":
        return None
    config = load_config(args.config)
    return str(config.path(config.store)) if config.store else None


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        ws = open_workspace(getattr(args, "db", None) or _config_store(args))
        try:
            result = COMMANDS[args.command](ws, args)
        finally:
            ws.close()
    except SegmentStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file the command reads or writes: disk full, no permission, a missing folder
        where = f" '{exc.filename}'" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}. Check the path, free some space or pick "
              "another folder.", file=sys.stderr)
        return 2
    except (duckdb.IOException, duckdb.TransactionException) as exc:  # a store write failed (a full disk): rolled back
        print(f"error: the working store could not save this change: {exc}. Nothing of it was kept; free some "
              "space on the store's disk (or check it can be written) and run the command again.", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        _print_human(result)
    return 0


"""Command-line interface: ``python -m segmentation [--db PATH] COMMAND ... [--json]``.

Each command is a few lines calling the same engine function as the page.
With ``--json`` a command prints exactly one JSON object on standard output;
logs go to standard error; errors print one ``error: ...`` line and exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from . import __version__
from .customers import customer_rows
from .errors import SegmentStudioError
from .export import write_file
from .importer import KINDS, ImportSettings, import_path
from .quality import QualitySettings, quality_report
from .store import Store

log = logging.getLogger("segmentation")
COMMANDS: dict[str, Callable[[Store, argparse.Namespace], dict]] = {}


def command(name: str):
    """Register a command handler: ``(store, args) -> dict`` (the JSON result)."""
    def register(fn):
        COMMANDS[name] = fn
        return fn
    return register


@command("import")
def cmd_import(store: Store, args: argparse.Namespace) -> dict:
    settings = ImportSettings(name=args.name, sheet=args.sheet, kind=args.kind, id_column=args.id_column,
                              default_region=args.region)
    ds = import_path(store, args.file, settings, progress=lambda f, m: log.info("%3.0f%% %s", 100 * f, m))
    return {"dataset": ds.name, "rows": ds.row_count, "columns": ds.columns, "encoding": ds.encoding,
            "delimiter": ds.delimiter, "rejected_rows": ds.rejected_rows}


@command("datasets")
def cmd_datasets(store: Store, args: argparse.Namespace) -> dict:
    return {"datasets": [{"name": d.name, "kind": d.kind, "rows": d.row_count,
                          "imported_at": d.imported_at.isoformat(timespec="seconds")}
                         for d in store.datasets()]}


@command("quality")
def cmd_quality(store: Store, args: argparse.Namespace) -> dict:
    return quality_report(store, args.dataset, QualitySettings(stale_months=args.stale_months)).to_dict()


@command("export")
def cmd_export(store: Store, args: argparse.Namespace) -> dict:
    frame = customer_rows(store, args.dataset)
    file_format = write_file(frame, args.out)
    return {"rows": len(frame), "columns": list(frame.columns), "out": str(Path(args.out)),
            "format": file_format}


class _Parser(argparse.ArgumentParser):
    """Usage errors as one ``error:`` line and exit status 2, like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = _Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object on standard output")
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="working store file (default: $SEGMENT_STUDIO_DB or workspace.duckdb)")
    parser = _Parser(prog="python -m segmentation", parents=[common],
                                     description="Segment Studio: clean CRM exports into customer segments.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("import", parents=[common], help="import a CSV or Excel file")
    p.add_argument("file")
    p.add_argument("--name")
    p.add_argument("--sheet")
    p.add_argument("--kind", choices=KINDS, default="customers")
    p.add_argument("--id-column")
    p.add_argument("--region", default="FR", help="default phone region (ISO code)")

    sub.add_parser("datasets", parents=[common], help="list imported datasets")

    p = sub.add_parser("quality", parents=[common], help="data-quality report of a dataset")
    p.add_argument("--dataset")
    p.add_argument("--stale-months", type=int, default=12)

    p = sub.add_parser("export", parents=[common], help="write customers to CSV or Excel")
    p.add_argument("--dataset")
    p.add_argument("--out", required=True)
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


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        store = Store(getattr(args, "db", None))
        try:
            result = COMMANDS[args.command](store, args)
        finally:
            store.close()
    except SegmentStudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        _print_human(result)
    return 0

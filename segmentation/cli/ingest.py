"""The ingest commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse

from ..ingest.importer import KINDS, ImportSettings, import_path
from ..ingest.quality import QualitySettings, quality_report
from ..workspace import Workspace
from .base import command, log


@command("import")
def cmd_import(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    settings = ImportSettings(name=args.name, sheet=args.sheet, kind=args.kind, id_column=args.id_column,
                              default_region=args.region, append_to=args.append_to)
    ds = import_path(store, args.file, settings, progress=lambda f, m: log.info("%3.0f%% %s", 100 * f, m))
    out = {"dataset": ds.name, "rows": ds.row_count, "columns": ds.columns, "encoding": ds.encoding,
           "delimiter": ds.delimiter, "rejected_rows": ds.rejected_rows}
    if args.append_to:
        out.update({k: v for k, v in ds.last_import.items() if k != "batch"})
    return out


@command("datasets")
def cmd_datasets(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    return {"datasets": [{"name": d.name, "kind": d.kind, "rows": d.row_count,
                          "imported_at": d.imported_at.isoformat(timespec="seconds")}
                         for d in store.datasets()]}


@command("quality")
def cmd_quality(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    return quality_report(store, args.dataset, QualitySettings(stale_months=args.stale_months)).to_dict()


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    p = sub.add_parser("import", parents=[common], help="import a CSV or Excel file")
    p.add_argument("file")
    p.add_argument("--name")
    p.add_argument("--sheet")
    p.add_argument("--kind", choices=KINDS, default="customers")
    p.add_argument("--id-column")
    p.add_argument("--region", default="FR", help="default phone region (ISO code)")
    p.add_argument("--append-to", metavar="DATASET",
                   help="add the rows to this dataset (a later export of the same CRM; same record id = update)")

    sub.add_parser("datasets", parents=[common], help="list imported datasets")

    p = sub.add_parser("quality", parents=[common], help="data-quality report of a dataset")
    p.add_argument("--dataset")
    p.add_argument("--stale-months", type=int, default=12)


"""The ingest commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse

from .. import KINDS, MISSING_WORDS, ROLES, ImportSettings, QualitySettings, SettingError, Workspace
from .base import command, progress


def parse_roles(text: str | None) -> dict[str, str]:
    """``"Header=role,Header 2=role"`` as a dict (split on commas, then on each pair's last ``=``)."""
    roles = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        column, sep, role = pair.rpartition("=")
        if not sep or not column.strip():
            raise SettingError("--roles", pair.strip(),
                               '"Header=role" pairs separated by commas (for example "E-mail=email,Montant=measure")')
        roles[column.strip()] = role.strip()
    return roles


@command("import")
def cmd_import(ws: Workspace, args: argparse.Namespace) -> dict:
    missing = None if args.missing is None else tuple(args.missing.split(","))
    settings = ImportSettings(name=args.name, sheet=args.sheet, kind=args.kind, id_column=args.id_column,
                              roles=parse_roles(args.roles), default_region=args.region, date_order=args.date_order,
                              decimal=args.decimal, missing=missing, append_to=args.append_to)
    return ws.ingest.import_path(args.file, settings, progress=progress).ingest.import_result().to_dict()


@command("datasets")
def cmd_datasets(ws: Workspace, args: argparse.Namespace) -> dict:
    return {"datasets": [d.to_dict() for d in ws.ingest.summaries()]}


@command("quality")
def cmd_quality(ws: Workspace, args: argparse.Namespace) -> dict:
    return ws.dataset(args.dataset).ingest.quality(QualitySettings(stale_months=args.stale_months)).to_dict()


@command("forget")
def cmd_forget(ws: Workspace, args: argparse.Namespace) -> dict:
    if args.lift:
        return ws.ingest.lift(email=args.email, id=args.id).to_dict()
    return ws.ingest.forget(email=args.email, id=args.id, dataset=args.dataset).to_dict()


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    p = sub.add_parser("import", parents=[common], help="import a CSV or Excel file")
    p.add_argument("file")
    p.add_argument("--name")
    p.add_argument("--sheet")
    p.add_argument("--kind", choices=KINDS, default="customers")
    p.add_argument("--id-column")
    p.add_argument("--roles", metavar='"HEADER=ROLE,..."',
                   help="roles of columns, overriding the guesses (role names: " + ", ".join(ROLES) + ")")
    p.add_argument("--region", default="FR", help="default phone region (ISO code)")
    p.add_argument("--date-order", choices=["auto", "dmy", "mdy", "ymd"], default="auto",
                   help="day/month order of dates such as 03/04/2024 (auto: decided per column)")
    p.add_argument("--decimal", choices=["auto", ",", "."], default="auto", metavar='{auto,",","."}',
                   help="decimal mark of amounts (auto: decided per column)")
    p.add_argument("--missing", metavar='"NA,N/A,..."',
                   help="cell texts meaning no value, separated by commas (default: " + ",".join(MISSING_WORDS) + ")")
    p.add_argument("--append-to", metavar="DATASET",
                   help="add the rows to this dataset (a later export of the same CRM; same record id = update)")

    sub.add_parser("datasets", parents=[common], help="list imported datasets")

    p = sub.add_parser("quality", parents=[common], help="data-quality report of a dataset")
    p.add_argument("--dataset")
    p.add_argument("--stale-months", type=int, default=12)

    p = sub.add_parser("forget", parents=[common],
                       help="remove a person from every table (GDPR art. 17); later imports skip them")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--email")
    who.add_argument("--id", help="the record id")
    p.add_argument("--dataset", help="only this dataset (default: every dataset)")
    p.add_argument("--lift", action="store_true", help="let the person be imported again")

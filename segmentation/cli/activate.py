"""The activate commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from .. import GENERAL_FORMATS, NO_CONSENT_CHOICES, PRESET_NAMES, AudienceSpec, Workspace, parse_filter, write_file
from .base import command


@command("export")
def cmd_export(ws: Workspace, args: argparse.Namespace) -> dict:
    audience_options = (args.segments, args.filter, args.columns, args.channel, args.include_no_consent,
                        args.holdout, args.audience, args.save_as, args.preset, args.no_consent_column,
                        args.holdout_out, args.changes_out)
    if not any(audience_options):  # every customer, with the segment of a run
        handle = ws.dataset(args.dataset)
        if args.run and not args.dataset:
            handle = handle.segments.dataset_of_run(args.run)
        frame = handle.segments.with_segments(args.run)
        file_format = write_file(frame, args.out)
        return {"rows": len(frame), "columns": list(frame.columns), "out": str(Path(args.out)),
                "format": file_format}
    saved = ws.dataset(args.dataset).audiences.get(args.audience) if args.audience else None
    audiences = ws.dataset(args.dataset or (saved.dataset if saved else None)).audiences
    spec = _audience_spec(audiences, saved or AudienceSpec(dataset=audiences.handle.name, run=args.run), args)
    if args.save_as:
        audiences.save(args.save_as, spec)
    preset, excel_french = args.preset, False
    if preset in GENERAL_FORMATS:  # the audience's own columns, in a general format
        preset, excel_french = None, args.preset == "excel-fr"
    return audiences.export(spec, args.out, excel_french=excel_french, holdout_out=args.holdout_out,
                            audience=args.audience or args.save_as, preset=preset, hashed=args.hash,
                            changes_out=args.changes_out).to_dict()


def _audience_spec(audiences, spec: AudienceSpec, args: argparse.Namespace) -> AudienceSpec:
    """The audience the export options describe (a saved one, with the options given on top)."""
    changes: dict = {}
    if args.segments:
        run, chosen = audiences.segments_by_name(args.segments.split(","), args.run or spec.run)
        changes.update(run=run, segments=chosen)
    if args.filter:
        changes["groups"] = ((*(spec.groups[0] if spec.groups else ()), *(parse_filter(f) for f in args.filter)),)
    if args.columns:
        changes["columns"] = tuple(c.strip() for c in args.columns.split(",") if c.strip())
    if args.channel:
        changes["channel"] = None if args.channel == "none" else args.channel
    if args.include_no_consent:
        changes["include_no_consent"] = True
    if args.holdout is not None:
        changes.update(holdout=args.holdout / 100, seed=args.seed)
    if args.no_consent_column:
        changes["no_consent_column"] = args.no_consent_column
    return replace(spec, **changes)


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    p = sub.add_parser("export", parents=[common], help="write customers to CSV or Excel")
    p.add_argument("--dataset")
    p.add_argument("--out", required=True)
    p.add_argument("--run", help="segment run whose segment column to add (default: the current run)")
    p.add_argument("--segments", help="audience: segments of the run, by number or name, comma-separated")
    p.add_argument("--filter", action="append", metavar="EXPR",
                   help="audience: column=value, column!=value, column>=number, column<=number, column~text "
                        "(repeatable, all must hold; a|b for one of)")
    p.add_argument("--columns", help="audience: columns to export (default: id, names, contact point, segment)")
    p.add_argument("--channel", choices=["email", "phone", "none"],
                   help="audience: customers need this contact point and consent for it (default email)")
    p.add_argument("--include-no-consent", action="store_true",
                   help="audience: keep customers without consent or who opted out (recorded in the export log)")
    p.add_argument("--no-consent-column", choices=list(NO_CONSENT_CHOICES),
                   help="audience: what a dataset without any consent or opt-out column means (required then; "
                        "recorded in the export log)")
    p.add_argument("--holdout", type=float, metavar="PCT", help="audience: percentage kept aside as control group")
    p.add_argument("--holdout-out", metavar="FILE",
                   help="audience: file of the control group (default: '<out name> (holdout).<ext>' beside --out); "
                        "--out then holds only the customers to contact")
    p.add_argument("--preset", choices=list(PRESET_NAMES),
                   help="audience: the destination's import format (headers, separator, value formats)")
    p.add_argument("--changes-out", metavar="DIR",
                   help="audience: with --audience, also write '<name> added' and '<name> removed' (the customers "
                        "gained and lost since its previous export) in this folder")
    p.add_argument("--hash", action="store_true",
                   help="audience: SHA-256 the identifiers, normalised as the destination says (ad platforms)")
    p.add_argument("--seed", type=int, default=0, help="seed of the holdout draw")
    p.add_argument("--audience", help="export a saved audience (on today's data)")
    p.add_argument("--save-as", help="save this audience's definition under a name")

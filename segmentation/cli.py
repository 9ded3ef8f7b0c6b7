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
from dataclasses import replace
from pathlib import Path

from . import __version__
from .activate.export import write_file
from .core.errors import ColumnError, SegmentStudioError
from .core.store import Store
from .dedupe.review import find_pairs, merge, pairs_table, rows_for_ids, unmerge
from .ingest.importer import KINDS, ImportSettings, import_path, read_pairs_file
from .ingest.quality import QualitySettings, quality_report

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
                              default_region=args.region, append_to=args.append_to)
    ds = import_path(store, args.file, settings, progress=lambda f, m: log.info("%3.0f%% %s", 100 * f, m))
    out = {"dataset": ds.name, "rows": ds.row_count, "columns": ds.columns, "encoding": ds.encoding,
           "delimiter": ds.delimiter, "rejected_rows": ds.rejected_rows}
    if args.append_to:
        out.update({k: v for k, v in ds.last_import.items() if k != "batch"})
    return out


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
    from .segment import runs as segments

    audience_options = (args.segments, args.filter, args.columns, args.channel, args.include_no_consent,
                        args.holdout, args.audience, args.save_as)
    if not any(audience_options):  # every customer, with the segment of a run
        frame = segments.with_segments(store, args.dataset, args.run)
        file_format = write_file(frame, args.out)
        return {"rows": len(frame), "columns": list(frame.columns), "out": str(Path(args.out)),
                "format": file_format}
    from .activate import audiences

    spec = _audience_spec(store, args, segments, audiences)
    if args.save_as:
        audiences.save_audience(store, args.save_as, spec)
    return audiences.export(store, spec, args.out, audience=args.audience or args.save_as)


def _audience_spec(store: Store, args: argparse.Namespace, segments, audiences):
    """The audience the export options describe (a saved one, with the options given on top)."""
    spec = audiences.get_audience(store, args.audience) if args.audience else audiences.AudienceSpec(
        dataset=args.dataset, run=args.run)
    changes: dict = {}
    if args.segments:
        run = segments.get_run(store, args.run or spec.run, args.dataset or spec.dataset)
        by_name = {name.casefold(): k for k, name in segments.names_of(store, run.name).items()}
        chosen = []
        for item in (x.strip() for x in args.segments.split(",") if x.strip()):
            if item.isdigit():
                chosen.append(int(item))
            elif item.casefold() in by_name:
                chosen.append(by_name[item.casefold()])
            else:
                raise ColumnError(f"Run {run.name!r} has no segment {item!r}; its segments are "
                                  f"{segments.names_of(store, run.name)}")
        changes.update(run=run.name, segments=tuple(chosen))
    if args.filter:
        changes["groups"] = ((*(spec.groups[0] if spec.groups else ()),
                              *(audiences.parse_filter(f) for f in args.filter)),)
    if args.columns:
        changes["columns"] = tuple(c.strip() for c in args.columns.split(",") if c.strip())
    if args.channel:
        changes["channel"] = None if args.channel == "none" else args.channel
    if args.include_no_consent:
        changes["include_no_consent"] = True
    if args.holdout is not None:
        changes.update(holdout=args.holdout / 100, seed=args.seed)
    return replace(spec, **changes)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one ``error:`` line and exit status 2, like every other error."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


@command("dedupe")
def cmd_dedupe(store: Store, args: argparse.Namespace) -> dict:
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
def cmd_merge(store: Store, args: argparse.Namespace) -> dict:
    pairs = None
    if args.pairs:
        listed = read_pairs_file(args.pairs)
        pairs = rows_for_ids(store, listed, args.dataset)
    result = merge(store, args.dataset, above=args.above, pairs=pairs, source="cli")
    return result


@command("unmerge")
def cmd_unmerge(store: Store, args: argparse.Namespace) -> dict:
    return unmerge(store, args.dataset, group=args.group, everything=args.all)


def _features(store: Store, args: argparse.Namespace):
    """``--features`` split into numeric and categorical by the dataset's candidates; else the defaults."""
    from .segment import runs as segments
    from .segment.features import FeatureSettings

    if not args.features:
        return segments.default_features(store, args.dataset)
    wanted = [f.strip() for f in args.features.split(",") if f.strip()]
    table = segments.candidates(store, args.dataset).set_index("feature")
    unknown = [f for f in wanted if f not in table.index]
    if unknown:
        raise ColumnError(f"Unknown features {unknown}; the dataset offers {list(table.index)}")
    return FeatureSettings(numeric=tuple(f for f in wanted if table.loc[f, "kind"] == "numeric"),
                           categorical=tuple(f for f in wanted if table.loc[f, "kind"] == "categorical"))


def _progress(fraction: float, message: str) -> None:
    log.info("%3.0f%% %s", 100 * fraction, message)


@command("elbow")
def cmd_elbow(store: Store, args: argparse.Namespace) -> dict:
    from .segment import runs as segments

    scan = segments.scan(store, args.dataset, _features(store, args), args.k_min, args.k_max, progress=_progress)
    scores = scan.scores_.astype(object).where(scan.scores_.notna(), None)
    return {"k": scores["k"].tolist(), "inertia": scores["inertia"].tolist(),
            "silhouette": scores["silhouette"].tolist(), "calinski_harabasz": scores["calinski_harabasz"].tolist(),
            "davies_bouldin": scores["davies_bouldin"].tolist(), "smallest_share": scores["smallest_share"].tolist(),
            "stability": scores["stability"].tolist(), "knee": scan.knee_, "recommended_k": scan.recommended_k_,
            "reason": scan.reason_}


@command("segment")
def cmd_segment(store: Store, args: argparse.Namespace) -> dict:
    from .segment import runs as segments

    run = segments.run_segments(store, args.dataset, _features(store, args), args.k, name=args.name,
                                progress=_progress)
    return {"run": run.name, "k": run.k, "sizes": segments.segment_sizes(store, run.name),
            "features": run.settings.columns}


@command("assign")
def cmd_assign(store: Store, args: argparse.Namespace) -> dict:
    from .segment import runs as segments

    return segments.assign(store, args.run, args.dataset, progress=_progress)


@command("runs")
def cmd_runs(store: Store, args: argparse.Namespace) -> dict:
    from .segment import runs as segments

    table = segments.runs(store, args.dataset)
    return {"runs": [{"name": r.name, "dataset": r.dataset, "k": int(r.k), "customers": int(r.customers),
                      "current": bool(r.current), "created_at": r.created_at.isoformat(timespec="seconds")}
                     for r in table.itertuples()]}


@command("profile")
def cmd_profile(store: Store, args: argparse.Namespace) -> dict:
    from .segment import runs as segments

    run = segments.get_run(store, args.run)
    profile = segments.profile_run(store, run.name)
    rules = profile.rules.set_index("segment")
    sizes = profile.sizes.set_index("segment")
    reach = profile.reach.set_index("segment")
    numeric = profile.numeric
    out = []
    for s in range(run.k):
        feats = numeric[numeric["segment"] == s]
        out.append({
            "segment": s, "name": profile.names[s], "size": int(sizes.loc[s, "size"]),
            "share": round(float(sizes.loc[s, "share"]), 4), "rule": rules.loc[s, "rule"],
            "rule_precision": round(float(rules.loc[s, "precision"]), 4),
            "rule_coverage": round(float(rules.loc[s, "coverage"]), 4),
            "reachable_email": int(reach.loc[s, "email"]) if "email" in reach else None,
            "features": {r.feature: {"mean": _num(r.mean), "median": _num(r.median), "index": _num(r.index)}
                         for r in feats.itertuples()},
        })
    return {"run": run.name, "tree_agreement": round(profile.agreement, 4), "segments": out, "hints": profile.hints}


def _num(value) -> float | None:
    return None if value != value else round(float(value), 4)  # NaN -> null


@command("rename")
def cmd_rename(store: Store, args: argparse.Namespace) -> dict:
    from .segment import runs as segments

    run = segments.get_run(store, args.run)
    segments.names_of(store, run.name)  # the other segments keep their suggested names
    names = segments.rename_segment(store, run.name, args.segment, args.name)
    return {"run": run.name, "names": {str(k): v for k, v in names.items()}}


@command("rfm")
def cmd_rfm(store: Store, args: argparse.Namespace) -> dict:
    from .behaviour import rfm

    settings = rfm.RFMSettings(as_of=args.as_of, window_days=args.window_days, link_column=args.link_column)
    return rfm.compute(store, args.dataset, args.orders, settings)


@command("score")
def cmd_score(store: Store, args: argparse.Namespace) -> dict:
    from .behaviour import propensity

    features = _features(store, args) if args.features else None
    return propensity.score(store, args.dataset, propensity.ScoreSettings(target=args.target, name=args.name,
                                                                          features=features))


@command("refresh")
def cmd_refresh(store: Store, args: argparse.Namespace) -> dict:
    from .automate import runner as refresh
    from .core.errors import RefreshError

    try:
        result = refresh.run_file(store, args.config, progress=_progress)
    except RefreshError as exc:
        if args.json:  # a scheduler gets the figures of the steps that ran too
            print(json.dumps({"refresh": exc.refresh_id, "status": "failed", "failed_step": exc.step,
                              "error": str(exc), **exc.summary}, ensure_ascii=False, default=str))
        raise
    return {"refresh": result.id, "status": result.status, **result.summary}


@command("config")
def cmd_config(store: Store, args: argparse.Namespace) -> dict:
    from .automate import config as pipeline

    config = pipeline.from_store(store, args.dataset, files=_pairs_option(args.source, "--source"),
                                 outputs=_pairs_option(args.audience_file, "--audience-file"),
                                 segment_mode=args.segments, auto_merge=not args.no_auto_merge, segment_k=args.k)
    path = pipeline.save(config, args.out)
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
            raise ColumnError(f"{option} takes NAME=PATH; found {item!r}.")
        out[name.strip()] = value.strip()
    return out


@command("snapshots")
def cmd_snapshots(store: Store, args: argparse.Namespace) -> dict:
    from .segment import snapshots

    table = snapshots.snapshots(store, args.dataset)
    sizes = snapshots.sizes(store, args.dataset)
    return {"snapshots": [{"id": int(r.id), "taken_at": r.taken_at.isoformat(timespec="seconds"), "run": r.run,
                           "customers": int(r.customers),
                           "sizes": {n: int(c) for n, c in sizes.loc[sizes["snapshot"] == r.id,
                                                                    ["name", "customers"]].to_numpy()}}
                          for r in table.itertuples()]}


@command("migration")
def cmd_migration(store: Store, args: argparse.Namespace) -> dict:
    from .segment import snapshots

    table = snapshots.migration(store, args.before, args.after)
    out = {"before": args.before, "after": args.after,
           "matrix": {str(a): {str(b): int(n) for b, n in row.items()} for a, row in table.iterrows()}}
    if args.movers_out:
        movers = snapshots.movers(store, args.before, args.after, args.from_segment, args.to_segment)
        write_file(movers, args.movers_out)
        out.update(movers=len(movers), movers_out=args.movers_out)
    return out


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
    p.add_argument("--append-to", metavar="DATASET",
                   help="add the rows to this dataset (a later export of the same CRM; same record id = update)")

    sub.add_parser("datasets", parents=[common], help="list imported datasets")

    p = sub.add_parser("quality", parents=[common], help="data-quality report of a dataset")
    p.add_argument("--dataset")
    p.add_argument("--stale-months", type=int, default=12)

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
    p.add_argument("--holdout", type=float, metavar="PCT", help="audience: percentage kept aside as control group")
    p.add_argument("--seed", type=int, default=0, help="seed of the holdout draw")
    p.add_argument("--audience", help="export a saved audience (on today's data)")
    p.add_argument("--save-as", help="save this audience's definition under a name")

    features_help = "comma-separated features (default: numeric measures and dates with few missing values)"
    p = sub.add_parser("elbow", parents=[common], help="score k-means for a range of k and recommend one")
    p.add_argument("--dataset")
    p.add_argument("--features", help=features_help)
    p.add_argument("--k-min", type=int, default=2)
    p.add_argument("--k-max", type=int, default=10)

    p = sub.add_parser("segment", parents=[common], help="run k-means and save the run (made current)")
    p.add_argument("--dataset")
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--features", help=features_help)
    p.add_argument("--name", help="run name (default: '<dataset> · k=<k>')")

    p = sub.add_parser("assign", parents=[common], help="assign customers with a saved run, without re-fitting")
    p.add_argument("--run", help="run name (default: the current run)")
    p.add_argument("--dataset", help="customers to assign (default: the run's dataset)")

    p = sub.add_parser("profile", parents=[common], help="what sets each segment of a run apart, in words")
    p.add_argument("--run", help="run name (default: the current run)")

    p = sub.add_parser("rename", parents=[common], help="name a segment of a run")
    p.add_argument("--run", required=True)
    p.add_argument("--segment", type=int, required=True)
    p.add_argument("--name", required=True)

    p = sub.add_parser("rfm", parents=[common], help="recency, frequency, monetary per customer from orders")
    p.add_argument("--dataset", help="customers dataset (default: the most recent)")
    p.add_argument("--orders", help="orders dataset, imported with --kind transactions (default: the most recent)")
    p.add_argument("--as-of", help="reference date YYYY-MM-DD (default: today)")
    p.add_argument("--window-days", type=int, default=365, help="frequency counts orders of this many days")
    p.add_argument("--link-column", help="orders column holding the customer's record id (default: detected)")

    p = sub.add_parser("score", parents=[common], help="train a propensity model and score every customer")
    p.add_argument("--dataset")
    p.add_argument("--target", required=True, help="yes/no column to predict (e.g. churned)")
    p.add_argument("--name", help="model name (default: the target); scores go to column score_<name>")
    p.add_argument("--features", help=features_help)

    p = sub.add_parser("runs", parents=[common], help="list segment runs")
    p.add_argument("--dataset")

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
    from .automate import config as pipeline

    config = pipeline.load(args.config)
    return str(config.path(config.store)) if config.store else None


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (0 ok, 2 error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    try:
        store = Store(getattr(args, "db", None) or _config_store(args))
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

"""The segment commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse

from .. import ColumnError, FeatureSettings, Workspace
from .base import command
from .base import progress as _progress

FEATURES_HELP = "comma-separated features (default: numeric measures and dates with few missing values)"


def features_of(segments, args: argparse.Namespace) -> FeatureSettings:
    """``--features`` split into numeric and categorical by the dataset's candidates; else the defaults."""
    if not args.features:
        return segments.default_features()
    wanted = [f.strip() for f in args.features.split(",") if f.strip()]
    table = segments.candidates().set_index("feature")
    unknown = [f for f in wanted if f not in table.index]
    if unknown:
        raise ColumnError(f"Unknown features {unknown}; the dataset offers {list(table.index)}")
    return FeatureSettings(numeric=tuple(f for f in wanted if table.loc[f, "kind"] == "numeric"),
                           categorical=tuple(f for f in wanted if table.loc[f, "kind"] == "categorical"))


def segments_of(ws: Workspace, args: argparse.Namespace):
    """The segment stage of the dataset ``--run`` belongs to (any dataset), else of ``--dataset`` or the newest."""
    segments = ws.dataset(getattr(args, "dataset", None)).segments
    return segments.dataset_of_run(args.run).segments if args.run else segments


@command("elbow")
def cmd_elbow(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = ws.dataset(args.dataset).segments
    scan = segments.scan(features_of(segments, args), args.k_min, args.k_max, progress=_progress)
    scores = scan.scores_.astype(object).where(scan.scores_.notna(), None)
    return {**{c: scores[c].tolist() for c in ("k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin",
                                                "smallest_share", "stability")},
            "knee": scan.knee_, "recommended_k": scan.recommended_k_, "reason": str(scan.reason_)}


@command("segment")
def cmd_segment(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = ws.dataset(args.dataset).segments
    run = segments.run(features_of(segments, args), args.k, name=args.name, progress=_progress)
    return {"run": run.name, "k": run.k, "sizes": segments.sizes(run), "features": run.settings.columns}


@command("assign")
def cmd_assign(ws: Workspace, args: argparse.Namespace) -> dict:
    owner = segments_of(ws, args)
    customers = ws.dataset(args.dataset).segments if args.dataset else owner  # a run may assign another dataset
    return customers.assign(owner.get_run(args.run), progress=_progress).to_dict()


@command("runs")
def cmd_runs(ws: Workspace, args: argparse.Namespace) -> dict:
    handles = [ws.dataset(args.dataset)] if args.dataset else ws.datasets("customers")
    found = sorted((r for h in handles for r in h.segments.runs().itertuples()), key=lambda r: r.created_at,
                   reverse=True)  # newest first across datasets
    return {"runs": [{"name": r.name, "dataset": r.dataset, "k": int(r.k), "customers": int(r.customers),
                      "current": bool(r.current), "created_at": r.created_at.isoformat(timespec="seconds")}
                     for r in found]}


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    features_help = FEATURES_HELP
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

    p = sub.add_parser("runs", parents=[common], help="list segment runs")
    p.add_argument("--dataset")


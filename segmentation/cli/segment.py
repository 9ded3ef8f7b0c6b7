"""The segment commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse

from .. import ColumnError, FeatureSettings, RFMSettings, ScoreSettings, Workspace
from .base import command
from .base import progress as _progress


def _features(segments, args: argparse.Namespace) -> FeatureSettings:
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


def _segments(ws: Workspace, args: argparse.Namespace):
    """The segment stage of the dataset ``--run`` belongs to (any dataset), else of ``--dataset`` or the newest."""
    segments = ws.dataset(getattr(args, "dataset", None)).segments
    return segments.dataset_of_run(args.run).segments if args.run else segments


@command("elbow")
def cmd_elbow(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = ws.dataset(args.dataset).segments
    scan = segments.scan(_features(segments, args), args.k_min, args.k_max, progress=_progress)
    scores = scan.scores_.astype(object).where(scan.scores_.notna(), None)
    return {**{c: scores[c].tolist() for c in ("k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin",
                                                "smallest_share", "stability")},
            "knee": scan.knee_, "recommended_k": scan.recommended_k_, "reason": scan.reason_}


@command("segment")
def cmd_segment(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = ws.dataset(args.dataset).segments
    run = segments.run(_features(segments, args), args.k, name=args.name, progress=_progress)
    return {"run": run.name, "k": run.k, "sizes": segments.sizes(run), "features": run.settings.columns}


@command("assign")
def cmd_assign(ws: Workspace, args: argparse.Namespace) -> dict:
    owner = _segments(ws, args)
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


@command("profile")
def cmd_profile(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = _segments(ws, args)
    run = segments.get_run(args.run)
    profile = segments.profile(run)
    rules, sizes = profile.rules.set_index("segment"), profile.sizes.set_index("segment")
    reach, numeric = profile.reach.set_index("segment"), profile.numeric
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
def cmd_rename(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = _segments(ws, args)
    run = segments.get_run(args.run)
    names = segments.rename_segment(run, args.segment, args.name)
    return {"run": run.name, "names": {str(k): v for k, v in names.items()}}


@command("rfm")
def cmd_rfm(ws: Workspace, args: argparse.Namespace) -> dict:
    settings = RFMSettings(as_of=args.as_of, window_days=args.window_days, link_column=args.link_column)
    orders = ws.dataset(args.orders) if args.orders else None  # None: the newest transactions dataset
    return ws.dataset(args.dataset).behaviour.rfm(orders, settings).to_dict()


@command("score")
def cmd_score(ws: Workspace, args: argparse.Namespace) -> dict:
    handle = ws.dataset(args.dataset)
    features = _features(handle.segments, args) if args.features else None
    return handle.behaviour.score(ScoreSettings(target=args.target, name=args.name, features=features)).to_dict()


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
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


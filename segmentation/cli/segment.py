"""The segment commands of the CLI (each a few lines over the facade)."""

from __future__ import annotations

import argparse

from ..core.errors import ColumnError
from ..workspace import Workspace
from .base import command
from .base import progress as _progress


def _features(store, args: argparse.Namespace):
    """``--features`` split into numeric and categorical by the dataset's candidates; else the defaults."""
    from ..segment import runs as segments
    from ..segment.features import FeatureSettings

    if not args.features:
        return segments.default_features(store, args.dataset)
    wanted = [f.strip() for f in args.features.split(",") if f.strip()]
    table = segments.candidates(store, args.dataset).set_index("feature")
    unknown = [f for f in wanted if f not in table.index]
    if unknown:
        raise ColumnError(f"Unknown features {unknown}; the dataset offers {list(table.index)}")
    return FeatureSettings(numeric=tuple(f for f in wanted if table.loc[f, "kind"] == "numeric"),
                           categorical=tuple(f for f in wanted if table.loc[f, "kind"] == "categorical"))


@command("elbow")
def cmd_elbow(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..segment import runs as segments

    scan = segments.scan(store, args.dataset, _features(store, args), args.k_min, args.k_max, progress=_progress)
    scores = scan.scores_.astype(object).where(scan.scores_.notna(), None)
    return {"k": scores["k"].tolist(), "inertia": scores["inertia"].tolist(),
            "silhouette": scores["silhouette"].tolist(), "calinski_harabasz": scores["calinski_harabasz"].tolist(),
            "davies_bouldin": scores["davies_bouldin"].tolist(), "smallest_share": scores["smallest_share"].tolist(),
            "stability": scores["stability"].tolist(), "knee": scan.knee_, "recommended_k": scan.recommended_k_,
            "reason": scan.reason_}


@command("segment")
def cmd_segment(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..segment import runs as segments

    run = segments.run_segments(store, args.dataset, _features(store, args), args.k, name=args.name,
                                progress=_progress)
    return {"run": run.name, "k": run.k, "sizes": segments.segment_sizes(store, run.name),
            "features": run.settings.columns}


@command("assign")
def cmd_assign(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..segment import runs as segments

    return segments.assign(store, args.run, args.dataset, progress=_progress)


@command("runs")
def cmd_runs(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..segment import runs as segments

    table = segments.runs(store, args.dataset)
    return {"runs": [{"name": r.name, "dataset": r.dataset, "k": int(r.k), "customers": int(r.customers),
                      "current": bool(r.current), "created_at": r.created_at.isoformat(timespec="seconds")}
                     for r in table.itertuples()]}


@command("profile")
def cmd_profile(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..segment import runs as segments

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
def cmd_rename(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..segment import runs as segments

    run = segments.get_run(store, args.run)
    segments.names_of(store, run.name)  # the other segments keep their suggested names
    names = segments.rename_segment(store, run.name, args.segment, args.name)
    return {"run": run.name, "names": {str(k): v for k, v in names.items()}}


@command("rfm")
def cmd_rfm(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..behaviour import rfm

    settings = rfm.RFMSettings(as_of=args.as_of, window_days=args.window_days, link_column=args.link_column)
    return rfm.compute(store, args.dataset, args.orders, settings)


@command("score")
def cmd_score(ws: Workspace, args: argparse.Namespace) -> dict:
    store = ws.store  # transitional: to move onto the facade
    from ..behaviour import propensity

    features = _features(store, args) if args.features else None
    return propensity.score(store, args.dataset, propensity.ScoreSettings(target=args.target, name=args.name,
                                                                          features=features))


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


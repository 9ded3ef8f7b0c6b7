"""The profile commands of the CLI: what sets each segment apart, and segment names."""

from __future__ import annotations

import argparse

from .. import Workspace
from .base import command
from .segment import segments_of


@command("profile")
def cmd_profile(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = segments_of(ws, args)
    run = segments.get_run(args.run)
    profile = segments.profile(run)
    rules, sizes = profile.rules.set_index("segment"), profile.sizes.set_index("segment")
    reach, numeric, mixes = profile.reach.set_index("segment"), profile.numeric, profile.categorical
    out = []
    for s in range(run.k):
        feats = numeric[numeric["segment"] == s]
        mix = mixes[mixes["segment"] == s]
        out.append({
            "segment": s, "name": profile.names[s], "size": int(sizes.loc[s, "size"]),
            "share": round(float(sizes.loc[s, "share"]), 4),
            "value_share": _num(sizes.loc[s, "value_share"]) if "value_share" in sizes else None,
            "rule": rules.loc[s, "rule"],
            "rule_precision": round(float(rules.loc[s, "precision"]), 4),
            "rule_coverage": round(float(rules.loc[s, "coverage"]), 4),
            "reachable_email": int(reach.loc[s, "email"]) if "email" in reach else None,
            "reachable_phone": int(reach.loc[s, "phone"]) if "phone" in reach else None,
            "traits": [str(t) for t in profile.traits.get(s, [])],
            "features": {r.feature: {"mean": _num(r.mean), "median": _num(r.median), "index": _num(r.index),
                                     "index_median": _num(r.index_median), "skewed": bool(r.skewed),
                                     "effect": _num(r.effect)}
                         for r in feats.itertuples()},
            "categories": {feature: {str(r.category): {"share": _num(r.share), "overall_share": _num(r.overall_share)}
                                     for r in part.itertuples()}
                           for feature, part in mix.groupby("feature", sort=False)},
        })
    return {"run": run.name, "tree_agreement": round(profile.agreement, 4), "segments": out,
            "hints": [str(h) for h in profile.hints]}


def _num(value) -> float | None:
    return None if value != value else round(float(value), 4)  # NaN -> null


@command("rename")
def cmd_rename(ws: Workspace, args: argparse.Namespace) -> dict:
    segments = segments_of(ws, args)
    run = segments.get_run(args.run)
    names = segments.rename_segment(run, args.segment, args.name)
    return {"run": run.name, "names": {str(k): v for k, v in names.items()}}


def add_parsers(sub, common) -> None:
    """The sub-commands of this stage."""
    p = sub.add_parser("profile", parents=[common], help="what sets each segment of a run apart, in words")
    p.add_argument("--run", help="run name (default: the current run)")

    p = sub.add_parser("rename", parents=[common], help="name a segment of a run")
    p.add_argument("--run", required=True)
    p.add_argument("--segment", type=int, required=True)
    p.add_argument("--name", required=True)

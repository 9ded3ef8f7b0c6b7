"""Propensity benchmark: train and score N customers, beside a plain scikit-learn baseline on the same split.

Customers are generated in numpy (six measures, two categories, a little missing data) with a response that
depends on them non-linearly (base rate about 12 %). A fifth of them is held out: the propensity model
(:class:`segmentation.behaviour.propensity.PropensityModel`: two models cross-validated on a stratified sample of
at most ``MAX_TRAIN`` customers, the better one calibrated) trains on the rest and then scores **every**
customer in batches, as the Behaviour page and the ``score`` command do; the baseline is scikit-learn's
``HistGradientBoostingClassifier`` with its documented defaults, trained on all the training customers. Both
AUCs are measured on the held-out customers. ``CPU s`` is the process's CPU time for training and scoring
(on a shared machine the wall time also counts the waits for a core). Each size runs in a process of its own,
so peak memory (VmHWM) belongs to it; threads as the app uses them (one below 100,000 training rows).

Usage: ``python benchmarks/bench_propensity.py [--sizes 10000 100000 1000000] [--json]``.
Goal (issue 17): 1M customers trained and scored in under 2 minutes, AUC within 0.02 of the baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from common import ROOT, child, peak_mb

GOAL_SECONDS = 120.0
GOAL_AUC_GAP = 0.02


def customers(n: int, seed: int = 0):
    """``n`` generated customers (a data frame) and whether each answered (0/1)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "recency_days": rng.exponential(120, n), "orders": rng.poisson(3, n).astype(float),
        "spend": rng.lognormal(5, 1, n), "tenure_days": rng.uniform(30, 3000, n),
        "tickets": rng.poisson(1, n).astype(float), "visits": rng.gamma(2, 2, n),
        "region": rng.choice(["Bretagne", "Île-de-France", "Occitanie", "Grand Est", "Normandie"], n),
        "channel": rng.choice(["web", "store", "phone"], n, p=[0.6, 0.3, 0.1])})
    logit = (-2.2 - 0.012 * frame["recency_days"] + 0.35 * np.minimum(frame["orders"], 6)
             + 0.4 * np.log1p(frame["spend"]) - 0.9 * (frame["tickets"] > 2) + 0.5 * (frame["channel"] == "web")
             + 0.3 * np.sin(frame["visits"]) - 1.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.loc[rng.random(n) < 0.03, "spend"] = np.nan           # a few customers without a known spend
    return frame, y


def measure(n: int) -> dict:
    """Train and score ``n`` customers; the baseline on the same training customers; AUCs on the held-out ones."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    from segmentation.behaviour.propensity import PropensityModel, _threads
    from segmentation.segment.features import FeatureSettings

    frame, y = customers(n)
    numeric = ("recency_days", "orders", "spend", "tenure_days", "tickets", "visits")
    categorical = ("region", "channel")
    train, test = train_test_split(np.arange(n), test_size=0.2, stratify=y, random_state=0)
    start, cpu = time.perf_counter(), time.process_time()
    model = PropensityModel(FeatureSettings(numeric=numeric, categorical=categorical)).fit(frame.iloc[train],
                                                                                           y[train])
    trained = time.perf_counter() - start
    scores = model.predict_proba(frame)[:, 1]                   # everyone, in batches
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    ev = model.evaluation_
    baseline = make_pipeline(make_column_transformer((OrdinalEncoder(), list(categorical)), remainder="passthrough"),
                             HistGradientBoostingClassifier(random_state=0))
    start = time.perf_counter()
    with _threads(len(train)):                                  # the same thread rule as the model
        baseline.fit(frame.iloc[train], y[train])
        base_scores = baseline.predict_proba(frame.iloc[test])[:, 1]
    base_seconds = time.perf_counter() - start
    return {"customers": n, "trained_on": model.sample_size_, "train_s": trained, "seconds": seconds, "cpu_s": cpu,
            "peak_mb": peak_mb(), "chosen": ev.chosen, "cv_auc": float(np.mean(ev.auc[ev.chosen])),
            "auc": float(roc_auc_score(y[test], scores[test])),
            "baseline_auc": float(roc_auc_score(y[test], base_scores)),
            "baseline_s": base_seconds, "base_rate": float(y.mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    results = [child(__file__, size) for size in args.sizes]
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'customers':>10} {'trained on':>10} {'train s':>8} {'+score s':>8} {'CPU s':>6} {'peak MB':>8} {'AUC':>6} "
          f"{'baseline':>8} {'base s':>7}  model                goal")
    for r in results:
        gap_ok = r["auc"] >= r["baseline_auc"] - GOAL_AUC_GAP
        goal = f"AUC gap ≤ {GOAL_AUC_GAP} {'✓' if gap_ok else '✗'}"
        if r["customers"] >= 1_000_000:
            goal += f", < {GOAL_SECONDS:.0f} s {'✓' if r['seconds'] < GOAL_SECONDS else '✗'}"
        print(f"{r['customers']:>10,} {r['trained_on']:>10,} {r['train_s']:>8.1f} {r['seconds']:>8.1f} "
              f"{r['cpu_s']:>6.1f} {r['peak_mb']:>8.0f} {r['auc']:>6.3f} {r['baseline_auc']:>8.3f} "
              f"{r['baseline_s']:>7.1f}  {r['chosen']:<20} {goal}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

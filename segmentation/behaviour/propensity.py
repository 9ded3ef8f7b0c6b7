"""Propensity scores: who is likely to buy, convert or churn, checked by cross-validation.

Two scikit-learn pipelines with the segmentation's preprocessing, a logistic
regression and gradient-boosted trees, are compared by stratified k-fold
ROC AUC; the better one is calibrated and scores every customer. The model
follows the estimator API; :mod:`segmentation.segments`-style store helpers
keep it and its scores (``scores_<dataset id>``), which audiences can filter on.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..core.errors import ColumnError, NotFoundError
from ..core.store import Store, quote
from ..segment.features import FeatureSettings, build_preprocessor, source_column

MIN_POSITIVES = 30          # fewer positive customers than this: no trustworthy model
LEAKAGE_AUC = 0.98          # one feature alone predicting the target this well looks like leakage
TRUE_WORDS = ("true", "1", "yes", "oui", "y", "o", "vrai", "x")


@dataclass
class Evaluation:
    """Cross-validated quality of the candidate models and what drives the chosen one."""

    auc: dict[str, list[float]]                 # model -> AUC per fold
    chosen: str
    top_decile_precision: float
    base_rate: float
    lift: pd.DataFrame                          # decile, customers, positives, rate, lift
    calibration: pd.DataFrame                   # predicted, observed
    importance: pd.DataFrame                    # feature, importance (drop in AUC when shuffled)
    warnings: list[str] = field(default_factory=list)


def _models(seed: int) -> dict[str, BaseEstimator]:
    return {"logistic regression": LogisticRegression(max_iter=2000),
            "gradient boosting": HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)}


class PropensityModel(BaseEstimator, ClassifierMixin):
    """The better of two cross-validated pipelines, calibrated, as one estimator.

    Parameters
    ----------
    settings : FeatureSettings, optional
        Features and preprocessing (as for segmentation).
    folds : int
        Stratified folds of the cross-validation.
    random_state : int
        Seed of folds and models.

    Attributes
    ----------
    evaluation_ : Evaluation
    pipeline_ : sklearn.calibration.CalibratedClassifierCV
        The chosen pipeline, calibrated (isotonic on enough data, else sigmoid).
    """

    def __init__(self, settings: FeatureSettings | None = None, folds: int = 5, random_state: int = 0):
        self.settings = settings
        self.folds = folds
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, y) -> PropensityModel:
        settings = self.settings or FeatureSettings(numeric=tuple(X.columns))
        y = np.asarray(y).astype(int)
        positives, n = int(y.sum()), len(y)
        if positives < 2 or positives > n - 2:
            raise ColumnError(f"The target needs both yes and no customers; it has {positives:,} yes of {n:,}.")
        warnings = []
        if positives < MIN_POSITIVES or positives / n < 0.01:
            warnings.append(f"Only {positives:,} customers ({positives / n:.1%}) have the target: scores will be "
                            "unreliable. Choose a broader target or wait for more data.")
        folds = StratifiedKFold(min(self.folds, positives, n - positives), shuffle=True,
                                random_state=self.random_state)
        prep = build_preprocessor(X, settings)[0]
        pipes = {name: Pipeline([("prep", clone(prep)), ("model", model)])
                 for name, model in _models(self.random_state).items()}
        auc = {name: [] for name in pipes}
        oof = {name: np.zeros(n) for name in pipes}
        for train, test in folds.split(X, y):
            for name, pipe in pipes.items():
                fitted = clone(pipe).fit(X.iloc[train], y[train])
                oof[name][test] = fitted.predict_proba(X.iloc[test])[:, 1]
                auc[name].append(float(roc_auc_score(y[test], oof[name][test])))
        chosen = max(auc, key=lambda k: np.mean(auc[k]))
        if np.mean(auc[chosen]) < 0.6:
            warnings.append(f"The best model reaches an AUC of {np.mean(auc[chosen]):.2f} only (0.5 is chance): the "
                            "features say little about this target.")
        for col in settings.numeric:
            values = X[col].astype(float).fillna(X[col].astype(float).median())
            if values.nunique() > 1:
                alone = roc_auc_score(y, values)
                alone = max(alone, 1 - alone)
                if alone >= LEAKAGE_AUC:
                    warnings.append(f"{col!r} alone predicts the target almost perfectly (AUC {alone:.3f}): it may be "
                                    "recorded after the fact (leakage). Leave it out unless you are sure.")
        scores = oof[chosen]
        order = np.argsort(-scores, kind="stable")
        decile = np.empty(n, dtype=int)
        decile[order] = np.arange(n) * 10 // n + 1
        frame = pd.DataFrame({"decile": decile, "y": y})
        lift = frame.groupby("decile").agg(customers=("y", "size"), positives=("y", "sum")).reset_index()
        lift["rate"] = lift["positives"] / lift["customers"]
        lift["lift"] = lift["rate"] / max(y.mean(), 1e-12)
        observed, predicted = calibration_curve(y, scores, n_bins=10, strategy="quantile")
        best = clone(pipes[chosen]).fit(X, y)
        sample = X.sample(min(n, 5000), random_state=self.random_state)
        imp = permutation_importance(best, sample, y[X.index.get_indexer(sample.index)], scoring="roc_auc",
                                     n_repeats=3, random_state=self.random_state)
        importance = pd.DataFrame({"feature": list(X.columns), "importance": imp.importances_mean}) \
            .sort_values("importance", ascending=False, ignore_index=True)
        method = "isotonic" if positives >= 200 else "sigmoid"
        self.pipeline_ = CalibratedClassifierCV(clone(pipes[chosen]), method=method, cv=3).fit(X, y)
        self.evaluation_ = Evaluation(auc=auc, chosen=chosen, top_decile_precision=float(lift["rate"].iloc[0]),
                                      base_rate=float(y.mean()), lift=lift,
                                      calibration=pd.DataFrame({"predicted": predicted, "observed": observed}),
                                      importance=importance, warnings=warnings)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "pipeline_")
        return self.pipeline_.predict_proba(X)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def drivers(evaluation: Evaluation, top: int = 5) -> list[str]:
    """The features that drive the model, in words."""
    rows = evaluation.importance[evaluation.importance["importance"] > 0].head(top)
    return [f"{r.feature} (AUC drops by {r.importance:.3f} when shuffled)" for r in rows.itertuples()]


# ------------------------------------------------------------------ over the store

@dataclass(frozen=True)
class ScoreSettings:
    """What to predict, from what."""

    target: str
    name: str | None = None
    features: FeatureSettings | None = None
    folds: int = 5
    within_days: int | None = None  # a days-ago target (RFM recency): yes when at most this many days


def target_values(frame: pd.Series) -> pd.Series:
    """A yes/no column as 0/1 (missing counts as no)."""
    if frame.dtype == bool:
        return frame.astype(int)
    text = frame.astype(str).str.strip().str.lower()
    return text.isin(TRUE_WORDS).astype(int)


def score(store: Store, dataset: str | None, settings: ScoreSettings) -> dict:
    """Train, evaluate and keep a propensity model; store every customer's calibrated score.

    Returns
    -------
    dict
        ``model``, ``auc_mean``, ``auc_std``, ``chosen``, ``top_features``, ``warnings``, ``column``.
    """
    from ..segment import runs as segments

    ds = store.dataset(dataset or None)
    features = settings.features or segments.default_features(store, ds.name)
    features = FeatureSettings(**{**asdict(features), "numeric": tuple(f for f in features.numeric
                                                                         if source_column(f) != settings.target),
                                  "categorical": tuple(f for f in features.categorical if f != settings.target)})
    frame = segments.customer_features(store, ds.name, features)
    from ..customers.identity import customer_table

    target = customer_table(store, ds.name, [settings.target]).set_index("customer_id")[settings.target]
    target = target.reindex(frame.index)
    if settings.within_days is not None:  # "bought in the last N days"
        days = pd.to_numeric(target, errors="coerce").astype(float)  # no orders: NaN, so "no"
        y = (days <= settings.within_days).astype(int)
    else:
        y = target_values(target)
    model = PropensityModel(features, folds=settings.folds).fit(frame, y)
    name = (settings.name or settings.target).strip()
    column = f"score_{name}"
    probabilities = model.predict_proba(frame)[:, 1]
    ev = model.evaluation_
    auc = ev.auc[ev.chosen]
    result = {"model": name, "auc_mean": round(float(np.mean(auc)), 4), "auc_std": round(float(np.std(auc)), 4),
              "chosen": ev.chosen, "top_features": [f for f in ev.importance["feature"].head(5)],
              "warnings": ev.warnings, "column": column,
              "top_decile_precision": round(ev.top_decile_precision, 4), "base_rate": round(ev.base_rate, 4)}
    # "Top 20% most likely" is a filter on the rank: 1 for the most likely customer, 100 for the least.
    top = np.ceil(pd.Series(probabilities).rank(ascending=False, method="max").to_numpy() / len(frame) * 100)
    scores = pd.DataFrame({"customer_id": frame.index.astype(str), "score": probabilities, "top": top})
    with store.transaction() as tx:
        tx.execute(f"CREATE TABLE IF NOT EXISTS scores_{int(ds.id)} (customer_id VARCHAR PRIMARY KEY)")
        tx.execute(f"ALTER TABLE scores_{int(ds.id)} ADD COLUMN IF NOT EXISTS {quote(column)} DOUBLE")
        tx.execute(f"ALTER TABLE scores_{int(ds.id)} ADD COLUMN IF NOT EXISTS {quote(column + ' top %')} DOUBLE")
        tx.register("_scores", scores)
        tx.execute(f"INSERT INTO scores_{int(ds.id)} (customer_id) SELECT customer_id FROM _scores "
                   f"ON CONFLICT DO NOTHING")
        tx.execute(f"UPDATE scores_{int(ds.id)} SET {quote(column)} = s.score, {quote(column + ' top %')} = s.top "
                   f"FROM _scores s "
                   f"WHERE scores_{int(ds.id)}.customer_id = s.customer_id")
        tx.unregister("_scores")
        tx.execute("INSERT OR REPLACE INTO score_models VALUES (?, ?, ?, ?, ?, ?)",
                   [ds.id, name, datetime.now(), json.dumps(asdict(settings), default=str),
                    json.dumps({**result, "lift": ev.lift.to_dict(orient="list"),
                                "calibration": ev.calibration.to_dict(orient="list"),
                                "importance": ev.importance.to_dict(orient="list"), "auc": ev.auc}),
                    pickle.dumps(model)])
    return result


def candidate_targets(store: Store, dataset: str | None = None) -> list[str]:
    """Columns a propensity model can predict: yes/no columns (two values) and, once computed, RFM recency."""
    from ..customers.attributes import kinds

    ds = store.dataset(dataset or None)
    found = []
    for col in ds.columns:
        if ds.roles.get(col) in ("id", "email", "phone", "first_name", "last_name", "full_name", "address"):
            continue
        distinct = store.query_value(f"SELECT count(DISTINCT {quote(col)}) FROM {ds.clean_table}")
        if distinct == 2:
            found.append(col)
    if "RFM recency (days)" in kinds(store, ds):
        found.append("RFM recency (days)")
    return found


def models(store: Store, dataset: str | None = None) -> list[dict]:
    """Saved propensity models of a dataset with their evaluation."""
    ds = store.dataset(dataset or None)
    rows = store.query_rows("SELECT name, trained_at, report FROM score_models WHERE dataset_id = ? "
                            "ORDER BY trained_at DESC", [ds.id])
    return [{"name": n, "trained_at": at, **json.loads(report)} for n, at, report in rows]


def get_model(store: Store, name: str, dataset: str | None = None) -> dict:
    """One saved model's report."""
    found = [m for m in models(store, dataset) if m["name"] == name]
    if not found:
        raise NotFoundError(f"No propensity model named {name!r}.")
    return found[0]


__all__ = ["Evaluation", "PropensityModel", "ScoreSettings", "candidate_targets", "drivers", "get_model", "models",
           "score",
           "target_values"]

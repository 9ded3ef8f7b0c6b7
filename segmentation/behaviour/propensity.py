"""Propensity scores: who is likely to buy, convert or churn, checked by cross-validation.

Two scikit-learn pipelines with the segmentation's preprocessing, a logistic
regression and gradient-boosted trees, are compared by stratified k-fold
ROC AUC; the better one is calibrated and scores every customer. The model
follows the estimator API and knows nothing of the store; the functions
below read the customers' features through the segment stage and keep the
model and its scores (``scores_<dataset id>``, which audiences can filter on)
through :class:`segmentation.behaviour.repository.BehaviourRepository`, the
stage's only SQL executor. Yes/no targets are read with the one vocabulary
(:func:`segmentation.core.vocabulary.yes_no_series`).
"""

from __future__ import annotations

import json
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

from ..core import models as saved_models
from ..core.errors import DataError, NotFoundError
from ..core.store import Dataset, Store
from ..core.vocabulary import yes_no_series
from ..customers import repository as customers_repo
from ..customers.attributes import kinds as attribute_kinds
from ..ingest.repository import DatasetsRepository
from ..segment.features import FeatureSettings, build_preprocessor, source_column
from ..segment.runs import dataset_default_features, features_of
from .repository import BehaviourRepository

MIN_POSITIVES = 30          # fewer positive customers than this: no trustworthy model
LEAKAGE_AUC = 0.98          # one feature alone predicting the target this well looks like leakage


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
            raise DataError(f"The target needs both yes and no customers; it has {positives:,} yes of {n:,}.")
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


@dataclass
class ScoreResult:
    """A trained propensity model: its name, cross-validated quality, drivers, warnings and score column.

    ``lift``, ``calibration``, ``importance`` and ``auc`` (per fold) are
    kept with the model for the charts; :meth:`to_dict` leaves them out.
    """

    model: str
    auc_mean: float
    auc_std: float
    chosen: str
    top_features: list[str]
    warnings: list[str]
    column: str
    top_decile_precision: float
    base_rate: float
    lift: dict = field(default_factory=dict, compare=False)
    calibration: dict = field(default_factory=dict, compare=False)
    importance: dict = field(default_factory=dict, compare=False)
    auc: dict = field(default_factory=dict, compare=False)
    trained_at: datetime | None = field(default=None, compare=False)
    settings: ScoreSettings | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """``model``, ``auc_mean``, ``auc_std``, ``chosen``, ``top_features``, ``warnings``, ``column``,
        ``top_decile_precision``, ``base_rate`` (the CLI's JSON)."""
        return {"model": self.model, "auc_mean": self.auc_mean, "auc_std": self.auc_std, "chosen": self.chosen,
                "top_features": list(self.top_features), "warnings": list(self.warnings), "column": self.column,
                "top_decile_precision": self.top_decile_precision, "base_rate": self.base_rate}

    def report(self) -> dict:
        """Everything kept with the model (the JSON of ``score_models.report``)."""
        return {**self.to_dict(), "lift": self.lift, "calibration": self.calibration,
                "importance": self.importance, "auc": self.auc}


def target_values(frame: pd.Series) -> pd.Series:
    """A yes/no column as 0/1 (missing or unknown counts as no), read with the one yes/no vocabulary."""
    if frame.dtype == bool:
        return frame.astype(int)
    return yes_no_series(frame).fillna(False).astype(int)


def score_dataset(store: Store, ds: Dataset, settings: ScoreSettings) -> ScoreResult:
    """Train, evaluate and keep a propensity model for the customers of ``ds``; store every customer's
    calibrated score (column ``score_<name>``) and rank (``score_<name> top %``)."""
    features = settings.features or dataset_default_features(store, ds)
    features = FeatureSettings(**{**asdict(features), "numeric": tuple(f for f in features.numeric
                                                                         if source_column(f) != settings.target),
                                  "categorical": tuple(f for f in features.categorical if f != settings.target)})
    frame = features_of(store, ds, features)
    target = customers_repo.customer_table(store, ds, [settings.target]).set_index("customer_id")[settings.target]
    target = target.reindex(frame.index)
    if settings.within_days is not None:  # "bought in the last N days"
        days = pd.to_numeric(target, errors="coerce").astype(float)  # no orders: NaN, so "no"
        y = (days <= settings.within_days).astype(int)
    else:
        y = target_values(target)
    model = PropensityModel(features, folds=settings.folds).fit(frame, y)
    name = (settings.name or settings.target).strip()
    probabilities = model.predict_proba(frame)[:, 1]
    ev = model.evaluation_
    auc = ev.auc[ev.chosen]
    result = ScoreResult(
        model=name, auc_mean=round(float(np.mean(auc)), 4), auc_std=round(float(np.std(auc)), 4), chosen=ev.chosen,
        top_features=[f for f in ev.importance["feature"].head(5)], warnings=ev.warnings, column=f"score_{name}",
        top_decile_precision=round(ev.top_decile_precision, 4), base_rate=round(ev.base_rate, 4),
        lift=ev.lift.to_dict(orient="list"), calibration=ev.calibration.to_dict(orient="list"),
        importance=ev.importance.to_dict(orient="list"), auc=ev.auc, settings=settings)
    # "Top 20% most likely" is a filter on the rank: 1 for the most likely customer, 100 for the least.
    top = np.ceil(pd.Series(probabilities).rank(ascending=False, method="max").to_numpy() / len(frame) * 100)
    scores = pd.DataFrame({"customer_id": frame.index.astype(str), "score": probabilities, "top": top})
    BehaviourRepository(store).write_scores(ds.id, name, result.column, scores,
                                            json.dumps(asdict(settings), default=str), json.dumps(result.report()),
                                            saved_models.dumps(model.pipeline_))
    return result


def targets_of(store: Store, ds: Dataset) -> list[str]:
    """Columns a propensity model can predict: yes/no columns (two values) and, once computed, RFM recency."""
    repo = BehaviourRepository(store)
    found = [col for col in ds.columns
             if ds.roles.get(col) not in ("id", "email", "phone", "first_name", "last_name", "full_name", "address")
             and repo.distinct_values(ds, col) == 2]
    if "RFM recency (days)" in attribute_kinds(store, ds):
        found.append("RFM recency (days)")
    return found


def models_of(store: Store, ds: Dataset) -> list[ScoreResult]:
    """Saved propensity models of a dataset with their evaluation, newest first."""
    out = []
    for _name, at, settings, report in BehaviourRepository(store).models(ds.id):
        saved = json.loads(report)
        fields = {k: v for k, v in saved.items() if k in ScoreResult.__dataclass_fields__}
        out.append(ScoreResult(**fields, trained_at=at, settings=_settings_from(json.loads(settings))))
    return out


def _settings_from(saved: dict) -> ScoreSettings:
    """The :class:`ScoreSettings` a model was trained with, from its JSON."""
    values = {k: v for k, v in saved.items() if k in ScoreSettings.__dataclass_fields__}
    if values.get("features"):
        values["features"] = FeatureSettings(**{k: tuple(v) if isinstance(v, list) else v
                                                for k, v in values["features"].items()})
    return ScoreSettings(**values)


def model_of(store: Store, ds: Dataset, name: str) -> ScoreResult:
    """One saved model's report."""
    found = [m for m in models_of(store, ds) if m.model == name]
    if not found:
        raise NotFoundError(f"No propensity model named {name!r}.")
    return found[0]


def saved_model(store: Store, ds: Dataset, name: str) -> CalibratedClassifierCV:
    """The fitted (calibrated) pipeline of a saved model, read without running anything the store says.

    A model saved by an earlier version (a pickle) or naming an unexpected type is refused with a
    :class:`StoreError` that says to train it again (see :mod:`segmentation.core.models`).
    """
    data = BehaviourRepository(store).model_blob(ds.id, name)
    if data is None:
        raise NotFoundError(f"No propensity model named {name!r}.")
    return saved_models.loads(data, (CalibratedClassifierCV,), f"Propensity model {name!r}",
                              "train it again (same target and features) on the Behaviour page or with "
                              "the `score` command")


# ------------------------------------------------------------------ by name (older callers)

def score(store: Store, dataset: str | None, settings: ScoreSettings) -> dict:
    """Train, evaluate and keep a propensity model; store every customer's calibrated score.

    Returns
    -------
    dict
        ``model``, ``auc_mean``, ``auc_std``, ``chosen``, ``top_features``, ``warnings``, ``column``.
    """
    return score_dataset(store, DatasetsRepository(store).dataset(dataset or None), settings).to_dict()


def candidate_targets(store: Store, dataset: str | None = None) -> list[str]:
    """Columns a propensity model can predict (see :func:`targets_of`)."""
    return targets_of(store, DatasetsRepository(store).dataset(dataset or None))


def models(store: Store, dataset: str | None = None) -> list[dict]:
    """Saved propensity models of a dataset with their evaluation."""
    return [{"name": m.model, "trained_at": m.trained_at, **m.report()}
            for m in models_of(store, DatasetsRepository(store).dataset(dataset or None))]


def get_model(store: Store, name: str, dataset: str | None = None) -> dict:
    """One saved model's report."""
    found = [m for m in models(store, dataset) if m["name"] == name]
    if not found:
        raise NotFoundError(f"No propensity model named {name!r}.")
    return found[0]


__all__ = ["Evaluation", "PropensityModel", "ScoreResult", "ScoreSettings", "candidate_targets", "drivers",
           "get_model", "model_of", "models", "models_of", "saved_model", "score", "score_dataset", "target_values",
           "targets_of"]

"""Propensity scores: who is likely to buy, convert or churn, checked by cross-validation.

Two scikit-learn pipelines with the segmentation's preprocessing, a logistic
regression and gradient-boosted trees, are compared by stratified k-fold
ROC AUC; the better one is calibrated and scores every customer. On small
data BLAS/OpenMP run on one thread (threads on busy cores wait on each other);
on large data the models train on a stratified sample (:data:`MAX_TRAIN`
customers) and score everyone in batches (:data:`BATCH`), telling a
``progress(fraction, message)`` callback the stage and the time left. The model
follows the estimator API and knows nothing of the store; the functions
below read the customers' features through the segment stage and keep the
model and its scores (``scores_<dataset id>``, which audiences can filter on)
through :class:`segmentation.behaviour.repository.BehaviourRepository`, the
stage's only SQL executor. Yes/no targets are read with the one vocabulary
(:func:`segmentation.core.vocabulary.yes_no_series`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from ..core import models as saved_models
from ..core.errors import DataError, NotFoundError
from ..core.store import Dataset, Store
from ..core.vocabulary import yes_no_series
from ..customers import repository as customers_repo
from ..customers.attributes import kinds as attribute_kinds
from ..i18n import Message, message
from ..ingest.repository import DatasetsRepository
from ..segment.features import FeatureSettings, build_preprocessor, source_column
from ..segment.runs import dataset_default_features, features_of
from .repository import BehaviourRepository

MIN_POSITIVES = 30          # fewer positive customers than this: no trustworthy model
LEAKAGE_AUC = 0.98          # one feature alone predicting the target this well looks like leakage
MAX_TRAIN = 40_000          # customers the models are cross-validated and trained on (a stratified sample above)
ONE_THREAD_BELOW = 100_000  # training rows under which BLAS/OpenMP run on one thread (threads wait on each other)
BATCH = 100_000             # customers scored at a time (bounded memory)
IMPORTANCE_ROWS = 5_000     # held-out customers the permutation importance is measured on
MIN_SAMPLE_MINORITY = 500   # customers of the rarer answer a training sample should hold (it grows to have them)

Progress = Callable[[float, object], None]


def _no_progress(_fraction: float, _message: object) -> None:
    return None


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
    warnings: list[Message] = field(default_factory=list)


def _models(seed: int) -> dict[str, BaseEstimator]:
    # Early stopping on every size (scikit-learn turns it on from 10,000 rows): on a few thousand customers the
    # trees stop after tens of rounds instead of 200, with the same AUC, in a fifth of the time.
    return {"logistic regression": LogisticRegression(max_iter=2000),
            "gradient boosting": HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, early_stopping=True,
                                                                random_state=seed)}


def _model_name(name: str) -> Message:
    """A candidate model's name for people (the JSON keeps the English name)."""
    return message("logistic regression") if name == "logistic regression" else message("gradient boosting")


def _threads(rows: int):
    """One BLAS/OpenMP thread on small data (as the segmentation does), every core on large data."""
    return threadpool_limits(1 if rows < ONE_THREAD_BELOW else None)


def _sample_size(n: int, minority: int, max_train: int) -> int:
    """Customers to train on: ``max_train``, more (up to 4 times) when the rarer answer would have fewer than
    :data:`MIN_SAMPLE_MINORITY` customers in it, every customer when they are fewer."""
    wanted = -(-MIN_SAMPLE_MINORITY * n // max(minority, 1))
    return min(n, max(max_train, min(4 * max_train, wanted)))


def stratified_sample(y: np.ndarray, size: int, random_state: int = 0) -> np.ndarray:
    """Sorted positions of at most ``size`` rows, each class keeping its share (every row when there are fewer)."""
    y = np.asarray(y)
    n = len(y)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    picked = []
    for value in np.unique(y):
        rows = np.flatnonzero(y == value)
        take = max(1, round(size * len(rows) / n))
        picked.append(rng.choice(rows, min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(picked))


def _auc_rows(scores: np.ndarray, y: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of ``scores`` against the 0/1 labels ``y`` (ties count half), by ranks."""
    ranks = rankdata(scores, axis=1)
    positives = int(y.sum())
    negatives = len(y) - positives
    return (ranks[:, y == 1].sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)


def permutation_drops(model, X: pd.DataFrame, y: np.ndarray, repeats: int = 3, random_state: int = 0,
                      rows_per_call: int = 200_000) -> np.ndarray:
    """Mean drop in ROC AUC when each column of ``X`` is shuffled (``repeats`` times), in column order.

    :func:`sklearn.inspection.permutation_importance` with ``scoring="roc_auc"``, computed with a few
    large ``predict_proba`` calls (the shuffled copies stacked) instead of one per copy: the preprocessing's
    fixed cost per call dominates on small data.
    """
    y = np.asarray(y).astype(int)
    rng = np.random.default_rng(random_state)
    base = _auc_rows(model.predict_proba(X)[:, 1][None, :], y)[0]
    per_call = max(1, rows_per_call // max(len(X) * repeats, 1))
    drops = []
    columns = list(X.columns)
    for start in range(0, len(columns), per_call):
        copies = []
        for col in columns[start:start + per_call]:
            for _ in range(repeats):
                shuffled = X.copy()
                shuffled[col] = X[col].to_numpy()[rng.permutation(len(X))]
                copies.append(shuffled)
        scores = model.predict_proba(pd.concat(copies, ignore_index=True))[:, 1].reshape(len(copies), len(X))
        drops.append((base - _auc_rows(scores, y)).reshape(-1, repeats).mean(axis=1))
    return np.concatenate(drops)


class _Clock:
    """Fractions of the work done, and the time left estimated from the time taken so far."""

    def __init__(self, progress: Progress, start: float, end: float):
        self.progress, self.start, self.end = progress, start, end
        self.began = time.perf_counter()

    def tell(self, done: float, stage: Message) -> None:
        fraction = self.start + (self.end - self.start) * done
        elapsed = time.perf_counter() - self.began
        if 0 < done < 1:
            left = max(1, round(elapsed * (1 - done) / done))
            self.progress(fraction, message("{stage}, about {seconds} s left", stage=stage, seconds=left))
        else:
            self.progress(fraction, stage)


class PropensityModel(BaseEstimator, ClassifierMixin):
    """The better of two cross-validated pipelines, calibrated, as one estimator.

    On more than ``max_train`` customers the models are cross-validated and
    trained on a stratified sample of that size (each class keeps its share);
    :meth:`predict_proba` scores any number of customers in batches.

    Parameters
    ----------
    settings : FeatureSettings, optional
        Features and preprocessing (as for segmentation).
    folds : int
        Stratified folds of the cross-validation.
    random_state : int
        Seed of the sample, folds and models.
    max_train : int
        Customers the models are trained on at most.
    batch_size : int
        Customers scored at a time by :meth:`predict_proba`.

    Attributes
    ----------
    evaluation_ : Evaluation
    pipeline_ : sklearn.calibration.CalibratedClassifierCV
        The chosen pipeline, calibrated with a sigmoid (Platt), which keeps the model's order of the customers:
        isotonic calibration's steps would tie hundreds of them, and a "top 20 %" audience would hold fewer.
    n_customers_ : int
        Customers given to :meth:`fit`.
    sample_size_ : int
        Customers the models were trained on (``n_customers_`` when no sample was needed).
    """

    def __init__(self, settings: FeatureSettings | None = None, folds: int = 5, random_state: int = 0,
                 max_train: int = MAX_TRAIN, batch_size: int = BATCH):
        self.settings = settings
        self.folds = folds
        self.random_state = random_state
        self.max_train = max_train
        self.batch_size = batch_size

    def fit(self, X: pd.DataFrame, y, progress: Progress | None = None) -> PropensityModel:
        """Cross-validate both pipelines, keep and calibrate the better one.

        ``progress(fraction, message)`` is told the stage under way and the time left.
        """
        progress = progress or _no_progress
        settings = self.settings or FeatureSettings(numeric=tuple(X.columns))
        y = np.asarray(y).astype(int)
        positives, n = int(y.sum()), len(y)
        if positives < 2 or positives > n - 2:
            raise DataError(message("The target needs both yes and no customers; it has {positives} yes of {n}.",
                                    positives=positives, n=n))
        warnings = []
        if positives < MIN_POSITIVES or positives / n < 0.01:
            warnings.append(message("Only {positives} customers ({share}%) have the target: scores will be "
                                    "unreliable. Choose a broader target or wait for more data.",
                                    positives=positives, share=round(100 * positives / n, 1)))
        rows = stratified_sample(y, _sample_size(n, min(positives, n - positives), self.max_train), self.random_state)
        X, y = (X.iloc[rows], y[rows]) if len(rows) < n else (X, y)
        self.n_customers_, self.sample_size_ = n, len(rows)
        if len(rows) < n:
            progress(0.0, message("Training on a stratified sample of {sample} of {customers} customers",
                                  sample=len(rows), customers=n))
        with _threads(len(rows)):
            self._fit(X, y, settings, warnings, progress)
        return self

    def _fit(self, X: pd.DataFrame, y: np.ndarray, settings: FeatureSettings, warnings: list,
             progress: Progress) -> None:
        n, positives = len(y), int(y.sum())
        folds = StratifiedKFold(min(self.folds, positives, n - positives), shuffle=True,
                                random_state=self.random_state)
        prep = build_preprocessor(X, settings)[0]
        pipes = {name: Pipeline([("prep", clone(prep)), ("model", model)])
                 for name, model in _models(self.random_state).items()}
        auc = {name: [] for name in pipes}
        oof = {name: np.zeros(n) for name in pipes}
        fitted: dict[str, Pipeline] = {}
        # Work units: each fold (both models), then the calibrated fit (about as long as 3 folds' boosting).
        count = folds.get_n_splits()
        clock = _Clock(progress, 0.0, 1.0)
        clock.tell(0.0, message("Cross-validating two models: fold {fold} of {folds}", fold=1, folds=count))
        for i, (train, test) in enumerate(folds.split(X, y)):
            # One preprocessing per fold, shared by both models (fitted on the fold's training rows only).
            fold_prep = clone(prep).fit(X.iloc[train])
            seen, unseen = fold_prep.transform(X.iloc[train]), fold_prep.transform(X.iloc[test])
            for name, pipe in pipes.items():
                model = clone(pipe.named_steps["model"]).fit(seen, y[train])
                fitted[name] = Pipeline([("prep", fold_prep), ("model", model)])
                oof[name][test] = model.predict_proba(unseen)[:, 1]
                auc[name].append(float(roc_auc_score(y[test], oof[name][test])))
            if i + 1 < count:
                clock.tell((i + 1) / (count + 3), message("Cross-validating two models: fold {fold} of {folds}",
                                                          fold=i + 2, folds=count))
        chosen = max(auc, key=lambda k: np.mean(auc[k]))
        if np.mean(auc[chosen]) < 0.6:
            warnings.append(message("The best model reaches an AUC of {auc} only (0.5 is chance): the features "
                                    "say little about this target.", auc=round(float(np.mean(auc[chosen])), 2)))
        for col in settings.numeric:
            values = X[col].astype(float).fillna(X[col].astype(float).median())
            if values.nunique() > 1:
                alone = roc_auc_score(y, values)
                alone = max(alone, 1 - alone)
                if alone >= LEAKAGE_AUC:
                    warnings.append(message("'{column}' alone predicts the target almost perfectly (AUC {auc}): it "
                                            "may be recorded after the fact (leakage). Leave it out unless you "
                                            "are sure.", column=col, auc=round(float(alone), 3)))
        scores = oof[chosen]
        order = np.argsort(-scores, kind="stable")
        decile = np.empty(n, dtype=int)
        decile[order] = np.arange(n) * 10 // n + 1
        frame = pd.DataFrame({"decile": decile, "y": y})
        lift = frame.groupby("decile").agg(customers=("y", "size"), positives=("y", "sum")).reset_index()
        lift["rate"] = lift["positives"] / lift["customers"]
        lift["lift"] = lift["rate"] / max(y.mean(), 1e-12)
        observed, predicted = calibration_curve(y, scores, n_bins=10, strategy="quantile")
        # What drives it: the drop in AUC when a feature is shuffled, on customers the last fold's model never saw.
        held = test if len(test) <= IMPORTANCE_ROWS else \
            np.random.default_rng(self.random_state).choice(test, IMPORTANCE_ROWS, replace=False)
        drops = permutation_drops(fitted[chosen], X.iloc[held], y[held], repeats=3, random_state=self.random_state)
        importance = pd.DataFrame({"feature": list(X.columns), "importance": drops}) \
            .sort_values("importance", ascending=False, ignore_index=True)
        clock.tell(count / (count + 3), message("Calibrating the chosen model ({model})", model=_model_name(chosen)))
        method = "sigmoid"
        # One pipeline fitted on every training customer, calibrated on 3-fold out-of-fold scores: scoring runs
        # one model, not three (ensemble=False).
        self.pipeline_ = CalibratedClassifierCV(clone(pipes[chosen]), method=method, cv=3, ensemble=False).fit(X, y)
        clock.tell(1.0, message("Model ready"))
        self.evaluation_ = Evaluation(auc=auc, chosen=chosen, top_decile_precision=float(lift["rate"].iloc[0]),
                                      base_rate=float(y.mean()), lift=lift,
                                      calibration=pd.DataFrame({"predicted": predicted, "observed": observed}),
                                      importance=importance, warnings=warnings)

    def predict_proba(self, X: pd.DataFrame, progress: Progress | None = None) -> np.ndarray:
        """Both classes' calibrated probabilities, computed ``batch_size`` customers at a time."""
        check_is_fitted(self, "pipeline_")
        progress = progress or _no_progress
        n = len(X)
        if n <= self.batch_size:
            with _threads(n):
                return self.pipeline_.predict_proba(X)
        out = np.empty((n, 2))
        clock = _Clock(progress, 0.0, 1.0)
        with _threads(n):
            for start in range(0, n, self.batch_size):
                stop = min(start + self.batch_size, n)
                out[start:stop] = self.pipeline_.predict_proba(X.iloc[start:stop])
                clock.tell(stop / n, message("Scoring customers: {done} of {customers}", done=stop, customers=n))
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def drivers(evaluation: Evaluation, top: int = 5) -> list[Message]:
    """The features that drive the model, in words."""
    rows = evaluation.importance[evaluation.importance["importance"] > 0].head(top)
    return [message("{feature} (AUC drops by {drop} when shuffled)", feature=r.feature, drop=round(r.importance, 3))
            for r in rows.itertuples()]


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

    ``warnings`` are :class:`segmentation.i18n.Message` objects (English text in the JSON);
    ``trained_on`` is less than ``customers`` when the models were trained on a stratified sample.

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
    customers: int = 0          # customers scored
    trained_on: int = 0         # customers the models were trained on (a stratified sample on large data)
    lift: dict = field(default_factory=dict, compare=False)
    calibration: dict = field(default_factory=dict, compare=False)
    importance: dict = field(default_factory=dict, compare=False)
    auc: dict = field(default_factory=dict, compare=False)
    trained_at: datetime | None = field(default=None, compare=False)
    settings: ScoreSettings | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """``model``, ``auc_mean``, ``auc_std``, ``chosen``, ``top_features``, ``warnings`` (English),
        ``column``, ``top_decile_precision``, ``base_rate``, ``customers``, ``trained_on`` (the CLI's JSON)."""
        return {"model": self.model, "auc_mean": self.auc_mean, "auc_std": self.auc_std, "chosen": self.chosen,
                "top_features": list(self.top_features), "warnings": [str(w) for w in self.warnings],
                "column": self.column, "top_decile_precision": self.top_decile_precision,
                "base_rate": self.base_rate, "customers": self.customers, "trained_on": self.trained_on}

    def report(self) -> dict:
        """Everything kept with the model (the JSON of ``score_models.report``); warnings with their values."""
        return {**self.to_dict(), "lift": self.lift, "calibration": self.calibration,
                "importance": self.importance, "auc": self.auc,
                "warning_messages": [_message_dict(w) for w in self.warnings]}


def _message_dict(warning) -> dict:
    return warning.to_dict() if isinstance(warning, Message) else {"text": str(warning), "values": {}}


def _warnings_from(saved: dict) -> list[Message]:
    """The warnings of a saved report as messages (older reports kept English text only)."""
    if "warning_messages" in saved:
        return [Message(w["text"], dict(w.get("values") or {})) for w in saved["warning_messages"]]
    return [Message(str(w)) for w in saved.get("warnings", [])]


def target_values(frame: pd.Series) -> pd.Series:
    """A yes/no column as 0/1 (missing or unknown counts as no), read with the one yes/no vocabulary."""
    if frame.dtype == bool or isinstance(frame.dtype, pd.BooleanDtype):  # a yes/no column read at import
        return frame.astype("boolean").fillna(False).astype(int)
    return yes_no_series(frame).fillna(False).astype(int)


def score_dataset(store: Store, ds: Dataset, settings: ScoreSettings, progress: Progress | None = None,
                  max_train: int = MAX_TRAIN) -> ScoreResult:
    """Train, evaluate and keep a propensity model for the customers of ``ds``; store every customer's
    calibrated score (column ``score_<name>``) and rank (``score_<name> top %``).

    On more than ``max_train`` customers the models train on a stratified sample of that size
    (``trained_on`` in the result); everyone is scored, in batches. ``progress(fraction, message)`` is told
    the stage under way and the time left.
    """
    progress = progress or _no_progress
    progress(0.0, message("Reading customers"))
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
    model = PropensityModel(features, folds=settings.folds, max_train=max_train).fit(
        frame, y, progress=lambda f, m: progress(0.05 + 0.75 * f, m))
    name = (settings.name or settings.target).strip()
    probabilities = model.predict_proba(frame, progress=lambda f, m: progress(0.8 + 0.15 * f, m))[:, 1]
    progress(0.95, message("Saving the scores"))
    ev = model.evaluation_
    auc = ev.auc[ev.chosen]
    result = ScoreResult(
        model=name, auc_mean=round(float(np.mean(auc)), 4), auc_std=round(float(np.std(auc)), 4), chosen=ev.chosen,
        top_features=[f for f in ev.importance["feature"].head(5)], warnings=ev.warnings, column=f"score_{name}",
        top_decile_precision=round(ev.top_decile_precision, 4), base_rate=round(ev.base_rate, 4),
        customers=model.n_customers_, trained_on=model.sample_size_, lift=ev.lift.to_dict(orient="list"),
        calibration=ev.calibration.to_dict(orient="list"),
        importance=ev.importance.to_dict(orient="list"), auc=ev.auc, settings=settings)
    # "Top 20% most likely" is a filter on the rank: 1 for the most likely customer, 100 for the least.
    top = np.ceil(pd.Series(probabilities).rank(ascending=False, method="max").to_numpy() / len(frame) * 100)
    scores = pd.DataFrame({"customer_id": frame.index.astype(str), "score": probabilities, "top": top})
    BehaviourRepository(store).write_scores(ds.id, name, result.column, scores,
                                            json.dumps(asdict(settings), default=str), json.dumps(result.report()),
                                            saved_models.dumps(model.pipeline_))
    progress(1.0, message("Scores saved"))
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
        fields["warnings"] = _warnings_from(saved)
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
        raise NotFoundError(message("No propensity model named '{name}'.", name=name))
    return found[0]


def saved_model(store: Store, ds: Dataset, name: str) -> CalibratedClassifierCV:
    """The fitted (calibrated) pipeline of a saved model, read without running anything the store says.

    A model saved by an earlier version (a pickle) or naming an unexpected type is refused with a
    :class:`StoreError` that says to train it again (see :mod:`segmentation.core.models`).
    """
    data = BehaviourRepository(store).model_blob(ds.id, name)
    if data is None:
        raise NotFoundError(message("No propensity model named '{name}'.", name=name))
    return saved_models.loads(data, (CalibratedClassifierCV,), f"Propensity model {name!r}",
                              "train it again (same target and features) on the Behaviour page or with "
                              "the `score` command")


# ------------------------------------------------------------------ by name (older callers)

def score(store: Store, dataset: str | None, settings: ScoreSettings, progress: Progress | None = None) -> dict:
    """Train, evaluate and keep a propensity model; store every customer's calibrated score.

    Returns
    -------
    dict
        ``model``, ``auc_mean``, ``auc_std``, ``chosen``, ``top_features``, ``warnings``, ``column``.
    """
    return score_dataset(store, DatasetsRepository(store).dataset(dataset or None), settings, progress).to_dict()


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
        raise NotFoundError(message("No propensity model named '{name}'.", name=name))
    return found[0]


__all__ = ["BATCH", "MAX_TRAIN", "Evaluation", "PropensityModel", "ScoreResult", "ScoreSettings",
           "candidate_targets", "drivers", "get_model", "model_of", "models", "models_of", "permutation_drops",
           "saved_model", "score", "score_dataset", "stratified_sample", "target_values", "targets_of"]

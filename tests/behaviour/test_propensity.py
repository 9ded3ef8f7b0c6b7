"""Propensity scores: a known signal is found, no signal is said, leakage is flagged, scores reach audiences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from segmentation.activate import audiences
from segmentation.behaviour import propensity
from segmentation.behaviour.propensity import PropensityModel
from segmentation.core.errors import DataError
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.segment.features import FeatureSettings
from tests.conftest import ROOT

REAL = ROOT / "tests" / "data" / "real"


def generated(n: int = 2000, signal: bool = True, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"usage": rng.gamma(2, 3, n), "tickets": rng.poisson(2, n).astype(float),
                          "value": rng.lognormal(8, 1, n)})
    logit = (0.5 * frame["usage"] - 0.8 * frame["tickets"] - 1) if signal else np.zeros(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y


def test_a_known_signal_is_found():
    frame, y = generated()
    model = PropensityModel(FeatureSettings(numeric=("usage", "tickets", "value"))).fit(frame, y)
    ev = model.evaluation_
    assert np.mean(ev.auc[ev.chosen]) >= 0.8 and len(ev.auc[ev.chosen]) == 5
    assert set(ev.importance["feature"].head(2)) == {"usage", "tickets"}     # value is noise
    assert ev.lift["lift"].iloc[0] > 1.5 and ev.top_decile_precision > ev.base_rate
    assert not ev.warnings
    p = model.predict_proba(frame)[:, 1]
    assert p.min() >= 0 and p.max() <= 1 and abs(p.mean() - y.mean()) < 0.05   # calibrated on average
    assert str(propensity.drivers(ev)[0]).startswith(ev.importance["feature"].iloc[0])


def test_no_signal_is_said():
    frame, y = generated(signal=False)
    ev = PropensityModel(FeatureSettings(numeric=("usage", "tickets", "value"))).fit(frame, y).evaluation_
    assert abs(np.mean(ev.auc[ev.chosen]) - 0.5) < 0.06
    assert any("say little about this target" in str(w) for w in ev.warnings)


def test_leakage_and_too_few_positives_are_flagged():
    frame, y = generated()
    frame["cancelled_on"] = y * 100 + np.random.default_rng(1).random(len(y))   # written after the fact
    ev = PropensityModel(FeatureSettings(numeric=("usage", "tickets", "cancelled_on"))).fit(frame, y).evaluation_
    assert any("'cancelled_on' alone predicts the target almost perfectly" in str(w) for w in ev.warnings)
    few = np.zeros(len(y), dtype=int)
    few[:12] = 1
    ev = PropensityModel(FeatureSettings(numeric=("usage",))).fit(frame, few).evaluation_
    assert any("Only 12 customers" in str(w) for w in ev.warnings)
    with pytest.raises(DataError, match="needs both yes and no"):
        PropensityModel(FeatureSettings(numeric=("usage",))).fit(frame, np.zeros(len(y)))


def imported(store, frame: pd.DataFrame, target: str, answers, role: str):
    """A CRM export of ``frame``'s usage and tickets with the ``target`` column's ``answers``, imported."""
    text = f"id;usage;tickets;{target}\n" + "".join(
        f"K{i};{u:.3f};{t:.0f};{a}\n"
        for i, (u, t, a) in enumerate(zip(frame["usage"], frame["tickets"], answers, strict=True)))
    return import_file(store, text.encode(), "crm.csv",
                       ImportSettings(roles={"usage": "measure", "tickets": "measure", target: role}))


def test_scores_are_stored_and_usable_in_audiences(store):
    frame, y = generated(600)
    ds = imported(store, frame, "churned", np.where(y == 1, "oui", "non"), "category")
    result = propensity.score(store, ds.name, propensity.ScoreSettings(target="churned", name="churn"))
    assert result["column"] == "score_churn" and result["auc_mean"] >= 0.75
    assert result["chosen"] in ("logistic regression", "gradient boosting")
    assert set(result["top_features"]) <= {"usage", "tickets"}
    top = audiences.select(store, audiences.AudienceSpec(channel=None, columns=("id", "score_churn"), groups=(
        (audiences.Condition("score_churn", "ge", 0.8),),)))
    assert len(top) > 0 and (top["score_churn"] >= 0.8).all()
    top20 = audiences.count(store, audiences.AudienceSpec(channel=None, groups=(
        (audiences.Condition("score_churn top %", "le", 20),),)))
    assert top20.final == 120                                      # the 20% most likely of 600
    saved = propensity.get_model(store, "churn", ds.name)
    assert saved["top_decile_precision"] > saved["base_rate"]
    assert saved["auc_mean"] == result["auc_mean"] and len(saved["lift"]["decile"]) == 10
    (model,) = propensity.models_of(store, ds)                          # what the facade hands out
    assert model.to_dict() == result and model.settings == propensity.ScoreSettings(target="churned", name="churn")
    assert model.lift["decile"] == list(range(1, 11)) and model.trained_at is not None


# ------------------------------------------------------------------ saved models never run code (issue 19)

class _Planted:
    """What a crafted store holds: unpickling it writes the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


def _scored(store):
    frame, y = generated(600)
    text = "id;usage;tickets;churned\n" + "".join(
        f"K{i};{u:.3f};{t:.0f};{'oui' if c else 'non'}\n"
        for i, (u, t, c) in enumerate(zip(frame["usage"], frame["tickets"], y, strict=True)))
    ds = import_file(store, text.encode(), "crm.csv",
                     ImportSettings(roles={"usage": "measure", "tickets": "measure", "churned": "category"}))
    propensity.score(store, ds.name, propensity.ScoreSettings(
        target="churned", name="churn", features=FeatureSettings(numeric=("usage", "tickets")), folds=3))
    return ds


def test_a_yes_no_column_with_blanks_is_a_target_blank_meaning_no(store):
    """A column read as yes/no at import (here a consent) comes back with <NA> for blanks: it is a target too."""
    frame, y = generated(600, seed=3)
    answers = np.where(y == 1, "oui", "non").astype(object)
    answers[::7] = ""                                                   # 86 blanks
    ds = imported(store, frame, "accord", answers, "consent")
    result = propensity.score(store, ds.name, propensity.ScoreSettings(target="accord", name="accord"))
    positives = int(((y == 1) & (answers != "")).sum())                 # a blank counts as no
    assert result["customers"] == 600 and result["base_rate"] == pytest.approx(positives / 600)
    assert result["auc_mean"] >= 0.7


def test_a_saved_propensity_model_predicts_exactly_the_stored_scores(store):
    from segmentation.behaviour.repository import BehaviourRepository
    from segmentation.core import models as saved_models
    from segmentation.segment.runs import features_of

    ds = _scored(store)
    assert BehaviourRepository(store).model_blob(ds.id, "churn").startswith(saved_models.HEADER)
    frame = features_of(store, ds, FeatureSettings(numeric=("usage", "tickets")))
    stored = store.query_df(f"SELECT customer_id, score_churn FROM scores_{ds.id}").set_index("customer_id")
    again = propensity.saved_model(store, ds, "churn").predict_proba(frame)[:, 1]
    np.testing.assert_array_equal(again, stored["score_churn"].reindex(frame.index.astype(str)).to_numpy())


def test_both_kinds_of_propensity_pipeline_round_trip_identically():
    from sklearn.base import clone
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from segmentation.core import models as saved_models
    from segmentation.segment.features import build_preprocessor

    frame, y = generated(600)
    frame["sector"] = np.where(frame["value"] > 3000, "bank", "shop").astype(object)
    settings = FeatureSettings(numeric=("usage", "tickets", "value"), categorical=("sector",))
    prep = build_preprocessor(frame, settings)[0]
    for model, method in ((HistGradientBoostingClassifier(max_iter=30, random_state=0), "isotonic"),
                          (LogisticRegression(max_iter=500), "sigmoid")):
        fitted = CalibratedClassifierCV(Pipeline([("prep", clone(prep)), ("model", model)]), method=method,
                                        cv=3).fit(frame, y)
        back = saved_models.loads(saved_models.dumps(fitted), (CalibratedClassifierCV,), "model", "train it again")
        np.testing.assert_array_equal(back.predict_proba(frame), fitted.predict_proba(frame))


def test_a_crafted_pickle_in_score_models_is_refused_and_never_runs(store, tmp_path):
    import pickle

    from segmentation.core.errors import StoreError

    ds = _scored(store)
    marker = tmp_path / "pwned"
    with store.transaction(ds.id) as tx:
        tx.execute("UPDATE score_models SET model = ? WHERE name = 'churn'", [pickle.dumps(_Planted(marker))])
    with pytest.raises(StoreError, match=r"^Propensity model 'churn' was saved by an earlier version of Segment "
                                         r"Studio as a pickle, which can run code when loaded: it was not loaded\. "
                                         r"Train it again \(same target and features\)"):
        propensity.saved_model(store, ds, "churn")
    assert not marker.exists()
    assert propensity.model_of(store, ds, "churn").column == "score_churn"  # its report is still there


# ------------------------------------------------------------------ propensity that finishes (issue 17)

def test_a_designed_signal_reaches_the_auc_of_the_true_probabilities():
    rng = np.random.default_rng(3)
    n = 3000
    frame = pd.DataFrame({"visits": rng.poisson(4, n).astype(float), "basket": rng.gamma(2, 40, n),
                          "noise": rng.normal(0, 1, n)})
    truth = 1 / (1 + np.exp(-(0.6 * frame["visits"] - 0.02 * frame["basket"] - 1)))
    y = (rng.random(n) < truth).astype(int)
    oracle = roc_auc_score(y, truth)                          # the best any model can do on these customers
    assert round(oracle, 3) == 0.823
    model = PropensityModel(FeatureSettings(numeric=("visits", "basket", "noise"))).fit(frame, y)
    ev = model.evaluation_
    assert abs(np.mean(ev.auc[ev.chosen]) - oracle) < 0.02
    assert ev.chosen == "logistic regression"                 # the signal is linear in its logit
    assert model.sample_size_ == model.n_customers_ == n
    assert set(ev.importance["feature"].head(2)) == {"visits", "basket"}


def test_large_data_trains_on_a_stratified_sample_and_scores_everyone_in_batches():
    frame, y = generated(12_000, seed=5)
    told = []
    model = PropensityModel(FeatureSettings(numeric=("usage", "tickets", "value")), folds=3, max_train=1_500,
                            batch_size=5_000).fit(frame, y, progress=lambda f, m: told.append((f, str(m))))
    assert (model.n_customers_, model.sample_size_) == (12_000, 1_500)
    assert told[0] == (0.0, "Training on a stratified sample of 1,500 of 12,000 customers")
    assert told[1] == (0.0, "Cross-validating two models: fold 1 of 3")
    assert told[-1] == (1.0, "Model ready")
    assert [f for f, _ in told] == sorted(f for f, _ in told)
    assert any(m.startswith("Cross-validating two models: fold 2 of 3, about ") and m.endswith(" s left")
               for _, m in told)
    rows = propensity.stratified_sample(y, 1_500, 0)
    assert len(rows) == 1_500 and y[rows].sum() == round(1_500 * y.mean())   # each class keeps its share
    scored = []
    p = model.predict_proba(frame, progress=lambda f, m: scored.append(str(m)))[:, 1]
    assert scored[-1] == "Scoring customers: 12,000 of 12,000"
    assert [m.split(",")[0] for m in scored[:2]] == ["Scoring customers: 5", "Scoring customers: 10"]
    np.testing.assert_allclose(p, model.pipeline_.predict_proba(frame)[:, 1])    # batches change nothing
    assert roc_auc_score(y, p) > 0.8


def test_small_data_runs_on_one_thread():
    from threadpoolctl import threadpool_info

    with propensity._threads(2_000):
        assert {pool["num_threads"] for pool in threadpool_info()} == {1}


def test_warnings_and_progress_speak_french():
    frame, y = generated(600)
    few = np.zeros(len(y), dtype=int)
    few[:12] = 1
    ev = PropensityModel(FeatureSettings(numeric=("usage",)), folds=3).fit(frame, few).evaluation_
    assert ev.warnings[0].render("fr") == ("Seuls 12 clients (2 %) ont la cible : les scores seront peu fiables. "
                                           "Choisissez une cible plus large ou attendez d'avoir plus de données.")
    assert str(ev.warnings[0]).startswith("Only 12 customers (2%) have the target")


def test_marketing_campaign_auc_is_within_002_of_a_cross_validated_baseline():
    """Kaggle "Customer Personality Analysis" (2,240 customers, CC0): who answered the last campaign."""
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder

    data = pd.read_csv(REAL / "marketing_campaign_full.csv")
    assert data.shape == (2240, 29) and int(data["Response"].sum()) == 334
    data["Tenure"] = (pd.Timestamp("2014-12-31") - pd.to_datetime(data["Dt_Customer"], format="%d-%b-%y")).dt.days
    y = data.pop("Response").to_numpy()
    categorical = ["Education", "Marital_Status"]
    numeric = [c for c in data.columns if c not in ("ID", "Dt_Customer", "Z_CostContact", "Z_Revenue", *categorical)]
    X = data[numeric + categorical]
    baseline_model = make_pipeline(  # scikit-learn's defaults, categories as codes, 5 stratified folds
        make_column_transformer((OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical),
                                remainder="passthrough"),
        HistGradientBoostingClassifier(random_state=0))
    baseline = cross_val_score(baseline_model, X, y, scoring="roc_auc",
                               cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
    assert round(baseline, 2) == 0.91
    ev = PropensityModel(FeatureSettings(numeric=tuple(numeric), categorical=tuple(categorical))).fit(X, y).evaluation_
    assert np.mean(ev.auc[ev.chosen]) >= baseline - 0.02
    assert "Recency" in set(ev.importance["feature"].head(3))         # recent buyers answer campaigns


def test_a_rare_answer_grows_the_training_sample():
    # 12 % answered: 40,000 customers hold 4,800 of them. 0.5 %: 100,000 to hold 500. 0.05 %: at most 4 × 40,000.
    assert propensity._sample_size(1_000_000, 120_000, 40_000) == 40_000
    assert propensity._sample_size(1_000_000, 5_000, 40_000) == 100_000
    assert propensity._sample_size(1_000_000, 500, 40_000) == 160_000
    assert propensity._sample_size(3_000, 900, 40_000) == 3_000                 # small data: everyone

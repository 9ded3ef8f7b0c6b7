"""Features for segmentation: which columns can describe customers, and the preprocessing pipeline.

Numeric measures are used as they are; dates become "days ago" (tenure,
recency); categories are one-hot encoded with a weight. The preprocessing a
careful analyst does is one scikit-learn ``ColumnTransformer``: missing
values imputed (median, most frequent), skewed money and count columns
log-transformed, scaling (standard or robust), feature weights; the k scan
computes the same matrix in numpy (:func:`fit_transform`). Pure: it
takes a dataset's description and frames, and knows nothing of the store (the
stage's only SQL executor is :mod:`segmentation.segment.repository`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, RobustScaler, StandardScaler
from sklearn.utils.validation import FLOAT_DTYPES, check_array

from ..core.errors import DataError, MissingColumnsError, SettingError
from ..core.store import Dataset
from ..i18n import Message, message

DAYS_AGO = " (days ago)"
NUMERIC_ROLES = ("measure",)
DATE_ROLES = ("created_date", "last_activity_date", "date")
CATEGORY_ROLES = ("category", "region", "country", "city")
MAX_CATEGORIES = 30     # a category with more values is used as its 29 most frequent values plus "other"
MAX_DEFAULT_MISSING = 0.2
SKEW_LIMIT = 1.0        # |skewness| above which a non-negative column is log-transformed
# Two customers in different categories differ by 2·w² in squared distance; two random customers
# differ by 2 on average on a standardised numeric feature. w = 1/sqrt(2) makes a categorical
# attribute weigh half a numeric feature, so categories do not swamp the measures.
CATEGORICAL_WEIGHT = round(1 / math.sqrt(2), 2)


@dataclass(frozen=True)
class FeatureSettings:
    """What to segment on and how to prepare it; built the same way by the page, the CLI and the tests.

    Parameters
    ----------
    numeric : tuple of str
        Numeric features: measure columns, or ``"<date column> (days ago)"``.
    categorical : tuple of str
        Category columns, one-hot encoded.
    log : tuple of str, optional
        Numeric features to log-transform; ``None``: every non-negative
        feature with skewness above 1 (see :func:`skewed`).
    scaling : {"standard", "robust"}
        Standard (mean 0, sd 1) or robust (median 0, IQR 1) scaling.
    categorical_weight : float
        Multiplier of the one-hot columns (see ``CATEGORICAL_WEIGHT``).
    weights : dict of str to float
        Extra weight per feature (default 1).
    reference_date : str, optional
        ISO date from which "days ago" are counted (default today).
    """

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    log: tuple[str, ...] | None = None
    scaling: str = "standard"
    categorical_weight: float = CATEGORICAL_WEIGHT
    weights: dict[str, float] = field(default_factory=dict)
    reference_date: str | None = None

    @property
    def columns(self) -> list[str]:
        """Every feature, numeric first."""
        return [*self.numeric, *self.categorical]


def source_column(feature: str) -> str:
    """The dataset column a feature comes from (``"Created (days ago)"`` -> ``"Created"``)."""
    return feature[: -len(DAYS_AGO)] if feature.endswith(DAYS_AGO) else feature


def candidate_features(ds: Dataset, missing: dict[str, float], distinct: dict[str, int]) -> pd.DataFrame:
    """Columns that can describe customers, with a sensible default choice.

    Parameters
    ----------
    ds : Dataset
        The customers dataset (its roles decide).
    missing : dict
        Share of missing values per column.
    distinct : dict
        Distinct values per column.

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``kind`` (numeric/categorical), ``column``, ``missing``
        (share), ``default`` (bool) and ``note``. Ids, names, e-mails,
        phones, addresses and free text are never offered, nor columns with
        one value or none (a constant says nothing about who differs). A
        category with more than ``MAX_CATEGORIES`` values is offered as its
        most frequent values plus "other" (see :func:`build_preprocessor`).
    """
    rows = []
    for col in ds.columns:
        role = ds.roles.get(col)
        share = float(missing.get(col, 0.0))
        if col in distinct and distinct[col] <= 1:
            continue
        if role in NUMERIC_ROLES:
            rows.append((col, "numeric", col, share, share <= MAX_DEFAULT_MISSING, ""))
        elif role in DATE_ROLES:
            rows.append((col + DAYS_AGO, "numeric", col, share, share <= MAX_DEFAULT_MISSING and role != "date",
                         "days between the date and the reference date"))
        elif role in CATEGORY_ROLES:
            many = distinct.get(col, 0) > MAX_CATEGORIES
            rows.append((col, "categorical", col, share, False,
                         f"its {MAX_CATEGORIES - 1} most frequent values, the others as one \"other\" value"
                         if many else ""))
    return pd.DataFrame(rows, columns=["feature", "kind", "column", "missing", "default", "note"])


def feature_frame(customers: pd.DataFrame, settings: FeatureSettings) -> pd.DataFrame:
    """The features of ``customers`` (dataset columns) as the pipeline takes them; dates become days ago."""
    reference = pd.Timestamp(settings.reference_date or date.today())
    out = {}
    for feature in settings.columns:
        col = source_column(feature)
        if col not in customers.columns:
            raise MissingColumnsError([col], list(customers.columns))
        values = customers[col]
        if feature.endswith(DAYS_AGO):
            values = (reference - pd.to_datetime(values, errors="coerce")).dt.days.astype(float)
        elif feature in settings.numeric:
            values = pd.to_numeric(values, errors="coerce").astype(float)
        else:  # categories as text; missing as NaN, which the imputer fills
            values = values.astype(str).where(values.notna(), np.nan)
        out[feature] = values.to_numpy(dtype=object if feature in settings.categorical else float)
    frame = pd.DataFrame(out, index=customers.index)
    for col in settings.categorical:
        frame[col] = frame[col].astype(object)
    return frame


def skewed(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    """Non-negative columns whose skewness exceeds ``SKEW_LIMIT`` (money, counts): log them."""
    found = []
    for col in columns:  # column by column: pandas' skewness of the values present
        values = frame[col].to_numpy(dtype=float, na_value=np.nan)
        values = values[~np.isnan(values)]
        if len(values) > 2 and values.min() >= 0 and abs(pd.Series(values).skew()) > SKEW_LIMIT:
            found.append(col)
    return found


def scale_columns(x, weights):
    """Multiply each column by its weight (a module-level function a saved pipeline names: see core.models)."""
    return np.asarray(x, dtype=float) * weights


def _weigh(weights):
    return FunctionTransformer(scale_columns, kw_args={"weights": weights}, feature_names_out="one-to-one")


def build_preprocessor(frame: pd.DataFrame, settings: FeatureSettings) -> tuple[ColumnTransformer, dict]:
    """The (unfitted) preprocessing of ``feature_frame`` output, and what it will do, for display.

    Returns
    -------
    preprocessor : sklearn.compose.ColumnTransformer
    steps : dict
        ``imputed`` (feature -> missing count), ``log`` (features logged),
        ``scaling``, ``categorical_weight``, ``weights``.
    """
    if not settings.columns:
        error = SettingError("features", (), "at least one feature")
        error.args = ("Pick at least one feature to segment on.",)
        raise error
    if settings.scaling not in ("standard", "robust"):
        raise SettingError("scaling", settings.scaling, "'standard' or 'robust'")
    numeric, categorical = list(settings.numeric), list(settings.categorical)
    missing, infinite = {}, []
    for c in settings.columns:  # one look at each column (pandas' isna three times took a quarter of this)
        values = frame[c]
        if c in numeric:
            values = values.to_numpy(dtype=float, na_value=np.nan)
            missing[c] = int(np.count_nonzero(np.isnan(values)))
            if np.isinf(values).any():
                infinite.append(c)
        else:
            missing[c] = int(values.isna().sum())
    empty = [c for c in settings.columns if missing[c] == len(frame)]
    if empty:
        raise DataError(f"Features {empty} have no value at all: leave them out.")
    if infinite:
        raise DataError(f"Features {infinite} have infinite values: expected finite numbers (or empty cells).")
    log = skewed(frame, numeric) if settings.log is None else [c for c in settings.log if c in numeric]
    weights = np.array([float(settings.weights.get(c, 1.0)) for c in numeric])
    parts = []
    for cols, logged in ((([c for c in numeric if c in log]), True), ([c for c in numeric if c not in log], False)):
        if not cols:
            continue
        steps = [("impute", SimpleImputer(strategy="median"))]
        if logged:
            steps.append(("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one")))
        steps.append(("scale", StandardScaler() if settings.scaling == "standard" else RobustScaler()))
        steps.append(("weight", _weigh(np.array([weights[numeric.index(c)] for c in cols]))))
        parts.append(("logged" if logged else "numeric", Pipeline(steps), cols))
    for col in categorical:
        weight = settings.categorical_weight * float(settings.weights.get(col, 1.0))
        parts.append((f"cat:{col}", Pipeline([
            ("impute", SimpleImputer(strategy="most_frequent")),
            # At most MAX_CATEGORIES columns: the most frequent values, the others (and values first seen
            # when customers are assigned again) in one "other" column.
            ("onehot", OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=MAX_CATEGORIES,
                                     sparse_output=False)),
            ("weight", _weigh(weight)),
        ]), [col]))
    steps = {
        "numeric": numeric,
        "imputed": {c: n for c, n in missing.items() if n},
        "log": log, "scaling": settings.scaling, "categorical_weight": settings.categorical_weight,
        "weights": {c: w for c, w in settings.weights.items() if w != 1.0},
    }
    return ColumnTransformer(parts, remainder="drop"), steps


def fit_transform(frame: pd.DataFrame, settings: FeatureSettings) -> tuple[np.ndarray, dict]:
    """The preprocessed matrix of ``frame``: ``build_preprocessor(frame, settings)`` fitted on ``frame``.

    The same numbers, bit for bit (see ``tests/segment/test_features_fast.py``), as the
    ``ColumnTransformer``'s ``fit_transform``, without its overhead (column selection, validation and
    copies in every step: at 10,000 customers × 8 features, seven times the time of this, and a third
    of the k scan): the numeric features are imputed with their medians, logged and standardised in
    numpy (robust scaling by scikit-learn's scaler on the array); a categorical feature goes through
    its own pipeline. For a scan, which keeps the matrix, not the fitted preprocessing (a run needs it
    to assign customers later: it fits the ``ColumnTransformer``).

    Returns
    -------
    xt : numpy.ndarray
        Customers × output columns (logged numeric features, the other numeric ones, one-hot columns).
    steps : dict
        As :func:`build_preprocessor`'s.
    """
    prep, steps = build_preprocessor(frame, settings)
    blocks = []
    for name, pipe, cols in prep.transformers:
        if name in ("logged", "numeric"):
            blocks.append(_numeric_block(frame, cols, pipe))
        else:
            blocks.append(np.asarray(clone(pipe).fit_transform(frame[cols]), dtype=float))
    return np.hstack(blocks), steps


def _numeric_block(frame: pd.DataFrame, cols: list[str], pipe: Pipeline) -> np.ndarray:
    """``pipe`` (impute the median, log, scale, weigh) fitted on and applied to ``frame[cols]``, in numpy.

    The array is converted as the imputer converts it (its memory layout decides the order in which
    the scaler's sums add the numbers, hence their last bits)."""
    x = check_array(frame[cols], dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan", copy=True, force_writeable=True)
    missing = np.isnan(x)
    for j in np.flatnonzero(missing.any(axis=0)):  # column by column: the median of the values present
        column = x[:, j]
        column[missing[:, j]] = np.median(column[~missing[:, j]])
    if "log" in pipe.named_steps:
        np.log1p(x, out=x)
    scaler = pipe.named_steps["scale"]
    x = _standardise(x) if isinstance(scaler, StandardScaler) else clone(scaler).fit_transform(x)
    return scale_columns(x, pipe.named_steps["weight"].kw_args["weights"])


def _standardise(x: np.ndarray) -> np.ndarray:
    """``StandardScaler().fit_transform(x)`` of an array without missing values, in place: the operations of
    scikit-learn's first pass (``_incremental_mean_and_var``: the corrected two-pass variance) and of its test
    of near-constant features (scale 1), in the same order on the same array, so the same bits (tested
    against it in ``tests/segment/test_features_fast.py``) without its validation of the array twice."""
    count = np.full(x.shape[1], float(len(x)))
    zeros = np.zeros(x.shape[1])
    total = np.sum(x, axis=0)
    mean = (zeros + total) / count
    temp = x - total / count
    correction = np.sum(temp, axis=0)
    temp **= 2
    var = np.sum(temp, axis=0)
    var -= correction**2 / count
    var = var / count
    eps = np.finfo(np.float64).eps
    constant = var <= count[0] * eps * var + (count[0] * mean * eps) ** 2
    scale = np.sqrt(var)
    scale[constant] = 1.0
    x -= mean
    x /= scale
    return x


def describe_steps(steps: dict) -> list[Message]:
    """The preprocessing in sentences a marketer reads (:class:`segmentation.i18n.Message`; ``str()``: English)."""
    out = []
    for col, n in steps["imputed"].items():
        out.append(message("{feature}: {count} missing values filled with the median.", feature=col, count=n)
                   if col in steps["numeric"] else
                   message("{feature}: {count} missing values filled with the most frequent value.", feature=col,
                           count=n))
    if steps["log"]:
        out.append(message("Log-transformed (skewed): {features}.", features=", ".join(steps["log"])))
    out.append(message("Scaled to mean 0 and standard deviation 1.") if steps["scaling"] == "standard"
               else message("Scaled robustly (median 0, interquartile range 1): outliers weigh less."))
    if steps["weights"]:
        out.append(message("Weights: {weights}.", weights=", ".join(f"{c} × {w:g}" for c, w in
                                                                   steps["weights"].items())))
    return out


__all__ = ["CATEGORICAL_WEIGHT", "DAYS_AGO", "MAX_CATEGORIES", "FeatureSettings", "build_preprocessor",
           "candidate_features", "describe_steps", "feature_frame", "fit_transform", "skewed",
           "source_column"]

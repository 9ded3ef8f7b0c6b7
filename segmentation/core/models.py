"""Fitted models kept in the store, in a format that cannot run code when it is loaded.

A store is shared between colleagues like a document, so opening it must
never execute it. ``pickle`` (what earlier versions wrote) runs whatever the
bytes say; here a model is written with ``skops.io`` (scikit-learn's own safe
format: a zip of a JSON schema and ``.npy`` arrays, read with
``allow_pickle=False``) behind a header of our own, and read back only when
every type the file names is on :data:`TRUSTED`: the scikit-learn, numpy and
project classes the segmentation and propensity pipelines really contain.

Why ``skops`` rather than our own arrays (centres, scaler parameters,
coefficients): the propensity model is a calibrated logistic regression *or*
gradient-boosted trees, whose fitted state (bins, trees, calibrators) has no
small stable form we could re-build faithfully; ``skops`` keeps the exact
scikit-learn objects (the same predictions, bit for bit) while refusing any
type we did not list. The types are checked twice: by reading the file's
schema ourselves before loading, and by ``skops`` itself (``trusted=`` the
same explicit list, never ``True``).

Anything else is refused with a :class:`StoreError` and nothing in it runs: a
pickle (a run or model saved by an earlier version: the message says to
re-run it), a file naming an unexpected type, or a model of the wrong kind.
Pure: bytes in, bytes out; the repositories keep the bytes.
"""

from __future__ import annotations

import io
import json
import zipfile

from .errors import StoreError

#: What starts every model this version writes (then the ``skops`` bytes).
HEADER = b"segment-studio model; skops\n"

#: Every type a saved pipeline may contain (module.qualname, as ``skops`` names them).
TRUSTED = frozenset({
    *(f"builtins.{t}" for t in ("dict", "list", "tuple", "str", "slice", "int", "float", "bool", "NoneType")),
    *(f"numpy.{t}" for t in ("ndarray", "dtype", "float64", "float32", "int64", "int32", "uint64", "uint8",
                             "bool_", "log1p")),
    "numpy.random._generator.Generator", "numpy.random._pcg64.PCG64", "numpy.random.mtrand.RandomState",
    "segmentation.segment.features.scale_columns",
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.cluster._kmeans.KMeans",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
})


def dumps(model) -> bytes:
    """The bytes to keep for a fitted pipeline (refused if it holds a type :data:`TRUSTED` does not list)."""
    import skops.io as sio

    data = sio.dumps(model)
    unexpected = sorted(_types(data) - TRUSTED)
    if unexpected:  # a new kind of step: list it in TRUSTED (after checking it), never save what cannot be read
        raise StoreError(f"This model holds types that cannot be saved safely: {', '.join(unexpected)}.")
    return HEADER + data


def is_current(data: bytes | None) -> bool:
    """Whether ``data`` is a model in this version's format (without loading it)."""
    return bytes(data or b"").startswith(HEADER)


def loads(data: bytes | None, expected: tuple[type, ...], what: str, again: str) -> object:
    """The model kept as ``data``, if it is in this version's format, names only :data:`TRUSTED` types and is
    one of ``expected``; else a :class:`StoreError` (and nothing of it runs).

    ``what`` names the model in the message ("Segment run 'X'"); ``again`` says how to make it anew
    ("re-run this segmentation").
    """
    data = bytes(data or b"")
    if not data:
        raise StoreError(f"{what} has no saved model: {again}.")
    if not data.startswith(HEADER):
        old = data[:1] == b"\x80" or data[:1] in (b"(", b"c", b"}", b"]")  # pickle protocols
        why = ("was saved by an earlier version of Segment Studio as a pickle, which can run code when loaded"
               if old else "is not in a format Segment Studio reads")
        raise StoreError(f"{what} {why}: it was not loaded. {again[0].upper()}{again[1:]} to use it.")
    body = data[len(HEADER):]
    try:
        found = _types(body)
    except (zipfile.BadZipFile, KeyError, ValueError, UnicodeDecodeError) as error:
        raise StoreError(f"{what}'s saved model is damaged ({error}): {again}.") from None
    unexpected = sorted(found - TRUSTED)
    if unexpected:
        raise StoreError(f"{what}'s saved model names types Segment Studio does not trust "
                         f"({', '.join(unexpected)}): it was not loaded. {again[0].upper()}{again[1:]}.")
    import skops.io as sio

    try:
        model = sio.loads(body, trusted=sorted(found))
    except Exception as error:  # skops' own refusals and damaged arrays alike
        raise StoreError(f"{what}'s saved model cannot be read ({type(error).__name__}): {again}.") from None
    if not isinstance(model, expected):
        raise StoreError(f"{what}'s saved model is a {type(model).__name__}, not a "
                         f"{' or '.join(t.__name__ for t in expected)}: {again}.")
    return model


def _types(body: bytes) -> set[str]:
    """Every ``module.class`` the ``skops`` file's schema names."""
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    todo = [schema]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if "__class__" in node or "__module__" in node:
                found.add(f"{node.get('__module__')}.{node.get('__class__')}")
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return found


__all__ = ["HEADER", "TRUSTED", "dumps", "is_current", "loads"]

"""Profiles of a run computed where the customers are: the store summarises, :mod:`.profiling` assembles.

A million customers never travel to pandas: sizes, value, reach, staleness,
the statistics of every measure (means, medians, on the log scale too) and
the category counts are a few ``GROUP BY`` queries in DuckDB; only a sample
(:data:`TREE_SAMPLE` customers, everyone below that) comes back for the
surrogate tree and the charts. The SQL text is built here (pure functions of
the run's settings); :class:`segmentation.segment.repository.SegmentRepository`
executes it. The figures equal those of
:func:`segmentation.segment.profiling.build_profile` on every customer.

A profile once computed is kept in the store as JSON (``segment_profiles``:
:func:`profile_to_json`, nothing executable), keyed on the run, the settings,
the day (days-ago measures count from today), the run's assignment and the
version of what describes the dataset's customers
(:meth:`~segmentation.core.store.Store.attributes_version`: their records, RFM
and scores); names, audiences, other runs are no inputs of a profile and leave
it valid, any change of the records or attributes leaves it behind, so it is
computed again. A fresh process reads it back instead of summarising a million
customers again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, fields, replace
from datetime import date

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA

from ..core.store import Dataset, Store, quote
from ..customers import repository as customers_repo
from ..customers.identity import customer_order_sql, customers_sql
from ..i18n import Message
from ..ingest.repository import DatasetsRepository
from . import runs
from .features import CATEGORY_ROLES, DAYS_AGO, source_column
from .profiling import MISSING, MONEY, NUMERIC_STATS, Profile, ProfileSettings, assemble
from .repository import SegmentRepository

TREE_SAMPLE = 30_000     # customers the surrogate tree is fitted on (everyone below that)
CHART_SAMPLE = 20_000    # customers the box plots and the map show


def _sql_text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def feature_sql(feature: str, numeric: bool, reference: str) -> str:
    """A feature as the pipeline sees it, in SQL: a date's whole days before ``reference``, a number, a text."""
    col = quote(source_column(feature))
    if feature.endswith(DAYS_AGO):
        return (f"floor((epoch(TIMESTAMP {_sql_text(reference)}) - epoch(TRY_CAST({col} AS TIMESTAMP))) "
                f"/ 86400.0)")
    return f"TRY_CAST({col} AS DOUBLE)" if numeric else f"CAST({col} AS VARCHAR)"


def base_sql(customers: str, run_id: int, numeric: list[str], categorical: list[str], reference: str,
             value: str | None, contact: dict[str, str | None], today: str) -> str:
    """One row per customer of the run: ``customer_id``, ``segment``, ``f0..`` measures, ``c0..`` categories,
    ``_value``, ``_email``/``_phone`` (reachable with consent), ``_stale``."""
    cols = [f"{feature_sql(f, True, reference)} AS f{i}" for i, f in enumerate(numeric)]
    cols += [f"{feature_sql(c, False, reference)} AS c{i}" for i, c in enumerate(categorical)]
    cols.append(f"TRY_CAST({quote(value)} AS DOUBLE) AS _value" if value else "NULL::DOUBLE AS _value")
    allowed = ["true"]
    if contact.get("consent"):
        allowed.append(f"coalesce(TRY_CAST({quote(contact['consent'])} AS BOOLEAN), false)")
    if contact.get("opt_out"):
        allowed.append(f"NOT coalesce(TRY_CAST({quote(contact['opt_out'])} AS BOOLEAN), false)")
    for r in ("email", "phone"):
        cols.append(f"({quote(contact[r])} IS NOT NULL AND {' AND '.join(allowed)}) AS _{r}" if contact.get(r)
                    else f"false AS _{r}")
    last = contact.get("last_activity_date")
    cols.append(f"coalesce(TRY_CAST({quote(last)} AS TIMESTAMP) < TIMESTAMP {_sql_text(today)} - INTERVAL 12 MONTH,"
                f" false) AS _stale" if last else "NULL::BOOLEAN AS _stale")
    return (f"SELECT c.customer_id, m.segment, {', '.join(cols)} FROM ({customers}) c "
            f"JOIN segment_members m ON m.customer_id = c.customer_id AND m.run_id = {int(run_id)}")


def summary_sql(base: str, numeric: list[str]) -> str:
    """Per segment and overall (``segment`` NULL): customers, value, reach, stale share, measure statistics."""
    return _summary_part(f"({base})", numeric)


def _summary_part(relation: str, numeric: list[str]) -> str:
    parts = ["count(*) AS _n", "sum(_value) AS _value", "sum(_email::INT) AS _email", "sum(_phone::INT) AS _phone",
             "avg(_stale::INT) AS _stale"]
    for i in range(len(numeric)):
        f, lf = f"f{i}", f"ln(1 + CASE WHEN f{i} < 0 THEN 0 ELSE f{i} END)"  # NULL stays NULL
        parts += [f"count({f}) AS n{i}", f"avg({f}) AS mean{i}", f"quantile_cont({f}, 0.5) AS median{i}",
                  f"avg({lf}) AS lmean{i}", f"stddev_pop({f}) AS sd{i}", f"stddev_pop({lf}) AS lsd{i}",
                  f"skewness({f}) AS skew{i}", f"min({f}) AS min{i}"]
    return f"SELECT 'n' AS _part, segment, {', '.join(parts)} FROM {relation} GROUP BY GROUPING SETS ((segment), ())"


def categories_sql(base: str, categorical: list[str]) -> str | None:
    """Customers per (``feature`` index, ``category``, ``segment``) for every category column."""
    if not categorical:
        return None
    return " UNION ALL ".join(_category_part(f"({base})", i) for i in range(len(categorical)))


def _category_part(relation: str, i: int) -> str:
    return (f"SELECT 'c' AS _part, {i} AS feature, coalesce(c{i}, {_sql_text(MISSING)}) AS category, segment, "
            f"count(*) AS _n FROM {relation} GROUP BY ALL")


def sample_sql(base: str, n: int, numeric: int, categorical: int) -> str:
    """At most ``n`` customers of the run (the same ones each time), in file order: ``customer_id``,
    ``segment`` and the ``numeric`` measures ``f0..`` and ``categorical`` categories ``c0..``."""
    return f"SELECT * EXCLUDE (_part) FROM ({_sample_part(f'({base})', n, numeric, categorical)})"


def _sample_part(relation: str, n: int, numeric: int, categorical: int) -> str:
    picked = ", ".join(["customer_id", "segment", *(f"f{i}" for i in range(numeric)),
                        *(f"c{i}" for i in range(categorical))])
    return (f"SELECT 's' AS _part, * FROM (SELECT {picked} FROM {relation} ORDER BY hash(customer_id), "
            f"customer_id LIMIT {int(n)}) ORDER BY {customer_order_sql()}")


def profile_sql(base: str, numeric: list[str], categorical: list[str], n: int) -> str:
    """One statement for the whole profile (the customers read and joined once): rows with ``_part`` 'n'
    (:func:`summary_sql`), 'c' (:func:`categories_sql`) and 's' (:func:`sample_sql`)."""
    parts = [_summary_part("b", numeric), *(_category_part("b", i) for i in range(len(categorical))),
             f"SELECT * FROM ({_sample_part('b', n, len(numeric), len(categorical))})"]
    return f"WITH b AS MATERIALIZED ({base}) " + " UNION ALL BY NAME ".join(f"({p})" for p in parts)


# ------------------------------------------------------------------ the workflow

def _inputs(store: Store, run: runs.Run, ds: Dataset):
    """What the profile describes (as :func:`segmentation.segment.runs.profile_of` does) and the base SQL."""
    settings = run.settings
    attrs = customers_repo.computed(store, ds)
    described = [*ds.columns_with_role(*CATEGORY_ROLES), *(n for n, (_t, _c, kind) in attrs.items()
                                                            if kind == "category")]
    categorical = list(dict.fromkeys([*settings.categorical, *described]))
    numeric = list(settings.numeric)
    value = next((c for c in ds.columns_with_role("measure") if MONEY.search(c)), None)
    contact = {r: (ds.columns_with_role(r) or [None])[0] for r in ("email", "phone", "consent", "opt_out",
                                                                     "last_activity_date")}
    columns = list(dict.fromkeys([*(source_column(f) for f in numeric), *categorical, *([value] if value else []),
                                  *(c for c in contact.values() if c)]))
    own, extra = [c for c in columns if c not in attrs], [c for c in columns if c in attrs]
    golden = customers_repo.golden_table(store, ds) if customers_repo.has_merges(store, ds) else None
    customers = customers_sql(ds, golden, own)
    if extra:
        customers = customers_repo.attributes_join_sql(attrs, extra, customers)
    reference = settings.reference_date or date.today().isoformat()
    base = base_sql(customers, run.id, numeric, categorical, reference, value, contact, date.today().isoformat())
    return base, numeric, categorical, value, contact


def _dataset(store: Store, run: runs.Run, ds: Dataset | None) -> Dataset:
    return ds if ds is not None and ds.id == run.dataset_id else DatasetsRepository(store).dataset_by_id(
        run.dataset_id)


#: Profiles computed in this process: (store, run id, settings) -> (the attributes version, profile).
_MEMO: dict[tuple, tuple[int, Profile]] = {}
_MEMO_SIZE = 16


def _memo_key(store: Store, run: runs.Run, settings: ProfileSettings) -> tuple:
    return (id(store), str(getattr(store, "path", "")), run.id, run.assigned_at, settings)


def profile_of(store: Store, run: runs.Run, settings: ProfileSettings | None = None,
               ds: Dataset | None = None) -> Profile:
    """The profile of a run's segments from store-side summaries and a sample, with the saved names.

    Suggested names are saved the first time (as :func:`segmentation.segment.runs.profile_of` does), so
    audiences, exports and the CLI show the names the page shows. A profile already computed in this
    process for the same records and attributes (:meth:`Store.attributes_version`) is given again (with the
    names saved now); else one kept in the store with the same inputs (:func:`kept_profile`); else it is
    computed and kept (:func:`keep_profile`).
    """
    ds = _dataset(store, run, ds)
    settings = settings or ProfileSettings()
    key, version = _memo_key(store, run, settings), store.attributes_version(ds.id)
    found = _MEMO.get(key)
    if found is not None and found[0] == version:
        return replace(found[1], names=runs.saved_names(store, run, suggested=found[1].names))
    result = kept_profile(store, run, settings, ds, version)
    if result is None:
        result = keep_profile(store, run, settings, ds, version)
    result.names = runs.saved_names(store, run, suggested=result.names)
    _MEMO[key] = (version, result)  # saving the suggested names does not move the attributes version
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.pop(next(iter(_MEMO)))
    return result


def _settings_json(settings: ProfileSettings) -> str:
    # "inputs" marks profiles kept at an attributes version: one kept at a dataset write version (before)
    # can never be read back as if it were current.
    return json.dumps({**asdict(settings), "inputs": "attributes"}, sort_keys=True)


def kept_profile(store: Store, run: runs.Run, settings: ProfileSettings | None = None, ds: Dataset | None = None,
                 version: int | None = None) -> Profile | None:
    """The run's profile kept in the store, if its inputs are unchanged (else None); names as suggested.

    ``version`` is the dataset's attributes version the caller read (default: now).
    """
    ds = _dataset(store, run, ds)
    text = SegmentRepository(store).kept_profile(
        run.id, _settings_json(settings or ProfileSettings()),
        store.attributes_version(ds.id) if version is None else version,
        run.assigned_at, date.today())
    if text is None:
        return None
    try:
        return profile_from_json(text)
    except (TypeError, KeyError, ValueError):  # kept by another version of the app: computed again
        return None


def keep_profile(store: Store, run: runs.Run, settings: ProfileSettings | None = None, ds: Dataset | None = None,
                 version: int | None = None) -> Profile:
    """Compute a run's profile (names as suggested, none saved) and keep it in the store for the next process.

    ``version`` is the dataset's attributes version read before the computation
    (default: now); nothing is kept if the dataset changed meanwhile. The end of
    a run's fit may call this so that the Profile page's first open reads it.
    """
    ds = _dataset(store, run, ds)
    settings = settings or ProfileSettings()
    version = store.attributes_version(ds.id) if version is None else version
    result = _profile(store, run, settings, ds)
    SegmentRepository(store).keep_profile(run.id, ds.id, _settings_json(settings), version, run.assigned_at,
                                          date.today(), profile_to_json(result))
    return result


# ------------------------------------------------------------------ a profile as JSON (nothing executable)

def _encode(value):
    """A value of a profile as JSON: plain numbers, texts, booleans and None as they are, the rest tagged."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else {"float": str(float(value))}  # nan, inf, -inf
    if isinstance(value, Message):
        return {"message": value.text, "values": {k: _encode(v) for k, v in value.values.items()}}
    if isinstance(value, pd.DataFrame):
        return {"frame": {"columns": _index(value.columns), "index": _index(value.index),
                          "dtypes": [str(t) for t in value.dtypes],
                          "data": [[_encode(v) for v in value.iloc[:, i].tolist()] for i in range(value.shape[1])]}}
    if isinstance(value, dict):
        return {"pairs": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [_encode(v) for v in value]}
    raise TypeError(f"A profile holds frames, messages, numbers and texts; got {type(value).__name__}.")


def _index(index: pd.Index) -> dict:
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": index.name}
    return {"values": [_encode(v) for v in index.tolist()], "dtype": str(index.dtype), "name": index.name}


def _decode(value):
    if not isinstance(value, dict):
        return value
    if "float" in value:
        return float(value["float"])
    if "message" in value:
        return Message(value["message"], {k: _decode(v) for k, v in value["values"].items()})
    if "pairs" in value:
        return {_decode(k): _decode(v) for k, v in value["pairs"]}
    if "list" in value:
        return [_decode(v) for v in value["list"]]
    frame = value["frame"]
    index = _unindex(frame["index"])
    out = pd.DataFrame({i: pd.Series([_decode(v) for v in data], dtype=dtype, index=index)
                        for i, (data, dtype) in enumerate(zip(frame["data"], frame["dtypes"], strict=True))},
                       index=index)
    out.columns = _unindex(frame["columns"])
    return out


def _unindex(index: dict) -> pd.Index:
    if "range" in index:
        return pd.RangeIndex(*index["range"], name=index["name"])
    return pd.Index([_decode(v) for v in index["values"]], dtype=index["dtype"], name=index["name"])


def profile_to_json(profile: Profile) -> str:
    """A profile as JSON text: its frames with their dtypes, its messages with their values (exact floats)."""
    return json.dumps({f.name: _encode(getattr(profile, f.name)) for f in fields(profile)}, ensure_ascii=False,
                      allow_nan=False)


def profile_from_json(text: str) -> Profile:
    """The profile :func:`profile_to_json` wrote, equal to it (frames, dtypes, messages, names)."""
    return Profile(**{k: _decode(v) for k, v in json.loads(text).items()})


def rename(store: Store, run: runs.Run, segment: int, name: str, ds: Dataset | None = None) -> dict[int, str]:
    """Name a segment (the others keep their suggested names); its profile stays valid, not recomputed."""
    ds = _dataset(store, run, ds)
    names_of(store, run, ds)  # the other segments keep their suggested names
    return runs.name_segment(store, run, segment, name)  # a name moves no attributes version


def _profile(store: Store, run: runs.Run, settings: ProfileSettings, ds: Dataset) -> Profile:
    repo = SegmentRepository(store)
    base, numeric, categorical, value, contact = _inputs(store, run, ds)
    k = run.k
    rows = repo.summary(profile_sql(base, numeric, categorical, TREE_SAMPLE))
    summary, sample = rows[rows["_part"] == "n"], rows[rows["_part"] == "s"].reset_index(drop=True)
    overall = summary[summary["segment"].isna()]
    per = summary[summary["segment"].notna()].assign(segment=lambda f: f["segment"].astype(int)).set_index("segment")
    per = per.reindex(range(k))
    counts = per["_n"].fillna(0).astype(np.int64).to_numpy()
    value_sums = per["_value"].fillna(0).to_numpy(dtype=float) if value else None
    reach = pd.DataFrame({"segment": range(k), "email": per["_email"].fillna(0).astype(int).to_numpy(),
                          "phone": per["_phone"].fillna(0).astype(int).to_numpy()})
    stale = per["_stale"].astype(float) if contact.get("last_activity_date") else None
    stat_rows = []
    for i, f in enumerate(numeric):
        for s in range(k):
            if counts[s]:
                stat_rows.append((s, f, int(per.loc[s, f"n{i}"]), per.loc[s, f"mean{i}"], per.loc[s, f"median{i}"],
                             per.loc[s, f"lmean{i}"], np.nan, np.nan, np.nan, np.nan))
        o = overall.iloc[0] if len(overall) else None
        if o is not None:
            stat_rows.append((-1, f, int(o[f"n{i}"]), o[f"mean{i}"], o[f"median{i}"], o[f"lmean{i}"], o[f"sd{i}"],
                         o[f"lsd{i}"], o[f"skew{i}"], o[f"min{i}"]))
    stats = pd.DataFrame(stat_rows, columns=NUMERIC_STATS).astype({c: float for c in NUMERIC_STATS[3:]})
    # Without a category column the statement has no category part, and its rows no such columns.
    cats = rows.loc[rows["_part"] == "c"].reindex(columns=["feature", "category", "segment", "_n"]).rename(
        columns={"_n": "n"})
    cats = cats.astype({"segment": int, "n": np.int64}).assign(
        feature=lambda f: f["feature"].astype(int).map(dict(enumerate(categorical))))
    tree_frame = sample.rename(columns={**{f"f{i}": f for i, f in enumerate(numeric)},
                                        **{f"c{i}": c for i, c in enumerate(categorical)}})
    for c in categorical:
        tree_frame[c] = tree_frame[c].astype(object).where(tree_frame[c].notna(), np.nan)
    result = assemble(k, counts, stats, cats, numeric, categorical, tree_frame,
                      sample["segment"].astype(int).to_numpy(),
                      value_sums, reach, stale, settings,
                      frozenset(ds.columns_with_role("region", "city", "country")))
    return result  # names as suggested: the caller applies the saved ones


def names_of(store: Store, run: runs.Run, ds: Dataset | None = None) -> dict[int, str]:
    """Segment names of a run: the saved ones, else suggested from a (store-side) profile and saved."""
    if SegmentRepository(store).has_names(run.id):
        return runs.saved_names(store, run)
    return profile_of(store, run, ds=ds).names


def sample_of(store: Store, run: runs.Run, n: int = CHART_SAMPLE, ds: Dataset | None = None) -> pd.DataFrame:
    """At most ``n`` customers of a run (the same ones each time): their features, ``segment``, and their
    position on the first two principal components of the run's preprocessed features (``pc1``, ``pc2``).

    Refuses (:class:`segmentation.core.errors.StoreError`) a run whose model was saved by an earlier version.
    """
    ds = _dataset(store, run, ds)
    settings = run.settings
    model = runs._model(store, run)  # the run's saved pipeline, read safely by the runs module
    columns = list(dict.fromkeys(source_column(f) for f in settings.columns))
    attrs = customers_repo.computed(store, ds)
    own, extra = [c for c in columns if c not in attrs], [c for c in columns if c in attrs]
    golden = customers_repo.golden_table(store, ds) if customers_repo.has_merges(store, ds) else None
    customers = customers_sql(ds, golden, own)
    if extra:
        customers = customers_repo.attributes_join_sql(attrs, extra, customers)
    reference = settings.reference_date or date.today().isoformat()
    base = base_sql(customers, run.id, list(settings.numeric), list(settings.categorical), reference, None, {},
                    date.today().isoformat())
    sample = SegmentRepository(store).summary(sample_sql(base, n, len(settings.numeric),
                                                             len(settings.categorical)))
    frame = pd.DataFrame({**{f: sample[f"f{i}"].astype(float) for i, f in enumerate(settings.numeric)},
                          **{c: sample[f"c{i}"].astype(object).where(sample[f"c{i}"].notna(), np.nan)
                             for i, c in enumerate(settings.categorical)}})
    frame.index = pd.Index(sample["customer_id"], name="customer_id")
    frame["segment"] = sample["segment"].astype(int).to_numpy()
    if frame.empty:
        return frame.assign(pc1=[], pc2=[])
    xt = model["prep"].transform(frame[settings.columns])
    if xt.shape[1] >= 2 and len(frame) >= 2:
        frame[["pc1", "pc2"]] = PCA(2, random_state=0).fit_transform(xt)
    else:
        frame["pc1"], frame["pc2"] = xt[:, 0], 0.0
    return frame


__all__ = ["CHART_SAMPLE", "TREE_SAMPLE", "base_sql", "categories_sql", "feature_sql", "keep_profile", "kept_profile",
           "names_of", "profile_from_json", "profile_of", "profile_sql", "profile_to_json", "rename", "sample_of",
           "sample_sql", "summary_sql"]

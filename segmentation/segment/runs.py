"""Segment runs over the store: features of the customers, the k scan, runs saved, assigned, compared.

The models are :mod:`segmentation.clustering`; this module reads the
(deduplicated) customers through :mod:`segmentation.customers`, keeps each
run (settings, scores, the fitted pipeline, every customer's segment) in the
store, and assigns new or changed customers with a saved run's pipeline.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from ..core.errors import ColumnError, NotFoundError
from ..core.store import Store, quote
from ..customers.attributes import computed as computed_attributes
from ..customers.identity import customer_rows, customer_table
from .clustering import KScan, SegmentModel
from .features import FeatureSettings, candidate_features, feature_frame, source_column

Progress = Callable[[float, str], None]
RUN_COLUMNS = "id, dataset_id, name, created_at, k, settings, scores, steps, is_current, customers, assigned_at"


def _no_progress(_fraction: float, _message: str) -> None:
    return None


@dataclass
class Run:
    """A saved segmentation run, as the store describes it."""

    id: int
    dataset_id: int
    name: str
    created_at: datetime
    k: int
    settings: FeatureSettings
    scores: dict
    steps: dict
    is_current: bool
    customers: int
    assigned_at: datetime


def _run_from_row(row: tuple) -> Run:
    values = list(row)
    values[5] = _settings_from_json(values[5])
    values[6], values[7] = json.loads(values[6]), json.loads(values[7])
    return Run(*values)


def candidates(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Columns of a customers dataset that can be features (see :func:`features.candidate_features`)."""
    ds = store.dataset(dataset or None)
    if not ds.columns:
        return candidate_features(ds, {}, {})
    parts = [f"count({quote(c)}) AS {quote('n:' + c)}, approx_count_distinct({quote(c)}) AS {quote('d:' + c)}"
             for c in ds.columns]
    row = store.query_df(f"SELECT count(*) AS _n, {', '.join(parts)} FROM {ds.clean_table}").iloc[0]
    n = max(int(row["_n"]), 1)
    table = candidate_features(ds, {c: 1 - int(row["n:" + c]) / n for c in ds.columns},
                               {c: int(row["d:" + c]) for c in ds.columns})
    found = computed_attributes(store, ds)
    if found:  # RFM from orders (customers without orders have none), propensity scores
        rows = []
        for name, (source, _col, kind) in found.items():
            present = int(store.query_value(f"SELECT count({quote(_col)}) FROM {source}") or 0)
            rows.append((name, "numeric" if kind == "number" else "categorical", name, max(0.0, 1 - present / n),
                         False, "from orders (RFM)" if source.startswith("rfm_") else "propensity score"))
        table = pd.concat([table, pd.DataFrame(rows, columns=table.columns)], ignore_index=True)
    return table


def default_features(store: Store, dataset: str | None = None) -> FeatureSettings:
    """Numeric measures and dates with few missing values; no ids, names, e-mails or free text."""
    table = candidates(store, dataset)
    chosen = table[table["default"]]
    return FeatureSettings(numeric=tuple(chosen.loc[chosen["kind"] == "numeric", "feature"]),
                           categorical=tuple(chosen.loc[chosen["kind"] == "categorical", "feature"]))


def customer_features(store: Store, dataset: str | None, settings: FeatureSettings) -> pd.DataFrame:
    """The features of every customer, indexed by ``customer_id`` (dates as days before the reference date)."""
    columns = list(dict.fromkeys(source_column(f) for f in settings.columns))
    customers = customer_table(store, dataset, columns).set_index("customer_id")
    return feature_frame(customers, settings)


def feature_sample(store: Store, dataset: str | None, settings: FeatureSettings, n: int = 20_000) -> pd.DataFrame:
    """At most ``n`` customers' features (a random sample, the same each time), for distribution charts."""
    frame = customer_features(store, dataset, _dated(settings))
    return frame.sample(n, random_state=0) if len(frame) > n else frame


def _dated(settings: FeatureSettings) -> FeatureSettings:
    """Settings with the reference date fixed (today), so a run says from when its "days ago" count."""
    if settings.reference_date:
        return settings
    return FeatureSettings(**{**asdict(settings), "reference_date": date.today().isoformat()})


@dataclass
class Scan:
    """A k scan kept in the store (the last one of a dataset): what the page shows after a reload."""

    scanned_at: datetime
    settings: FeatureSettings
    k_min: int
    k_max: int
    scores: pd.DataFrame
    knee: int | None
    recommended_k: int
    reason: str
    steps: dict


def _settings_json(settings: FeatureSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def _settings_from_json(text: str) -> FeatureSettings:
    values = json.loads(text)
    return FeatureSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def scan(store: Store, dataset: str | None, settings: FeatureSettings, k_min: int = 2, k_max: int = 10,
         progress: Progress = _no_progress) -> KScan:
    """Score K-means for k in ``k_min..k_max`` on the customers and recommend one k (see :class:`KScan`).

    The result is kept in the store as the dataset's last scan (see :func:`last_scan`).
    """
    ds = store.dataset(dataset or None)
    settings = _dated(settings)
    progress(0.01, "Reading customers")
    frame = customer_features(store, ds.name, settings)
    result = KScan(settings, k_min=k_min, k_max=k_max).fit(frame, progress=lambda f, m: progress(0.05 + 0.95 * f, m))
    scores = result.scores_.astype(object).where(result.scores_.notna(), None)
    with store.transaction() as tx:
        tx.execute("INSERT OR REPLACE INTO segment_scans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [ds.id, datetime.now(), _settings_json(settings), k_min, k_max,
                    json.dumps(scores.to_dict(orient="list")), result.knee_, result.recommended_k_, result.reason_,
                    json.dumps(result.steps_)])
    return result


def last_scan(store: Store, dataset: str | None = None) -> Scan | None:
    """The dataset's last k scan, if any."""
    ds = store.dataset(dataset or None)
    rows = store.query_rows("SELECT scanned_at, settings, k_min, k_max, scores, knee, recommended_k, reason, steps "
                            "FROM segment_scans WHERE dataset_id = ?", [ds.id])
    if not rows:
        return None
    at, settings, k_min, k_max, scores, knee, k, reason, steps = rows[0]
    return Scan(at, _settings_from_json(settings), k_min, k_max, pd.DataFrame(json.loads(scores)).astype(
        {"k": int}), knee, k, reason, json.loads(steps))


def run_segments(store: Store, dataset: str | None, settings: FeatureSettings, k: int, name: str | None = None,
                 random_state: int = 0, progress: Progress = _no_progress) -> Run:
    """Fit K-means with ``k`` segments, save the run (made current) and every customer's segment.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str, optional
        Customers dataset (the most recent by default).
    settings : FeatureSettings
        Features and preprocessing.
    k : int
        Number of segments.
    name : str, optional
        Run name (unique; default ``"<dataset> · k=<k>"``).
    random_state : int
        Seed (the same data and settings give the same segments).
    progress : callable, optional
        Called with a fraction in 0..1 and a message.
    """
    ds = store.dataset(dataset or None)
    settings = _dated(settings)
    progress(0.05, "Reading customers")
    frame = customer_features(store, ds.name, settings)
    progress(0.3, f"Fitting {k} segments")
    model = SegmentModel(settings, k=k, random_state=random_state).fit(frame)
    progress(0.8, "Saving the run")
    members = pd.DataFrame({"customer_id": frame.index.astype(str), "segment": model.labels_.astype("int32")})
    now = datetime.now()
    with store.transaction() as tx:
        run_id = tx.nextval("segment_run_ids")
        run_name = store.unique_name("segment_runs", (name or "").strip() or f"{ds.name} · k={k}")
        tx.execute("UPDATE segment_runs SET is_current = false WHERE dataset_id = ?", [ds.id])
        tx.execute("INSERT INTO segment_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, true, ?, ?)",
                   [run_id, ds.id, run_name, now, k, json.dumps(asdict(settings)), json.dumps(model.scores_),
                    json.dumps(model.steps_), pickle.dumps(model), len(members), now])
        tx.register("_members", members)
        tx.execute("INSERT INTO segment_members SELECT ?, customer_id, segment FROM _members", [run_id])
        tx.unregister("_members")
    progress(1.0, "Done")
    return get_run(store, run_name)


def runs(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Saved runs (of one dataset, or all), newest first: name, date, k, features, customers, current."""
    where, params = "", []
    if dataset:
        where, params = "WHERE r.dataset_id = ?", [store.dataset(dataset).id]
    return store.query_df(
        f"SELECT r.name, d.name AS dataset, r.created_at, r.k, r.customers, r.is_current AS current, "
        f"CAST(r.settings AS VARCHAR) AS settings FROM segment_runs r JOIN datasets d ON d.id = r.dataset_id "
        f"{where} ORDER BY r.created_at DESC, r.id DESC", params)


def get_run(store: Store, name: str | None = None, dataset: str | None = None) -> Run:
    """A run by name, or the current run (of ``dataset``, else of the most recent customers dataset)."""
    if name:
        rows = store.query_rows(f"SELECT {RUN_COLUMNS} FROM segment_runs WHERE name = ?", [name])
        if not rows:
            known = [r[0] for r in store.query_rows("SELECT name FROM segment_runs ORDER BY id")]
            raise NotFoundError(f"No segment run named {name!r}; the store has {known}.")
        return _run_from_row(rows[0])
    ds = store.dataset(dataset or None)
    rows = store.query_rows(f"SELECT {RUN_COLUMNS} FROM segment_runs WHERE dataset_id = ? AND is_current", [ds.id])
    if not rows:
        raise NotFoundError(f"Dataset {ds.name!r} has no segment run yet: run a segmentation first.")
    return _run_from_row(rows[0])


def _model(store: Store, run: Run) -> SegmentModel:
    blob = store.query_value("SELECT model FROM segment_runs WHERE id = ?", [run.id])
    return pickle.loads(blob)  # our own store's bytes, written by run_segments


def assign(store: Store, run: str | None = None, dataset: str | None = None,
           progress: Progress = _no_progress) -> dict:
    """Assign every customer of ``dataset`` (default: the run's) with a saved run, without re-fitting.

    New customers get a segment; existing ones keep theirs unless their
    features changed. Returns ``{"run", "assigned", "sizes"}``.
    """
    saved = get_run(store, run, dataset)
    ds = store.dataset(dataset) if dataset else store.dataset_by_id(saved.dataset_id)
    progress(0.1, "Reading customers")
    frame = customer_features(store, ds.name, saved.settings)
    progress(0.5, "Assigning segments")
    labels = _model(store, saved).predict(frame)
    members = pd.DataFrame({"customer_id": frame.index.astype(str), "segment": labels.astype("int32")})
    with store.transaction() as tx:
        tx.execute("DELETE FROM segment_members WHERE run_id = ?", [saved.id])
        tx.register("_members", members)
        tx.execute("INSERT INTO segment_members SELECT ?, customer_id, segment FROM _members", [saved.id])
        tx.unregister("_members")
        tx.execute("UPDATE segment_runs SET customers = ?, assigned_at = ? WHERE id = ?",
                   [len(members), datetime.now(), saved.id])
    progress(1.0, "Done")
    return {"run": saved.name, "assigned": len(members), "sizes": segment_sizes(store, saved.name)}


def segment_sizes(store: Store, run: str | None = None) -> dict[str, int]:
    """Customers per segment of a run, ``{"0": n, ...}`` (every segment, empty ones too)."""
    saved = get_run(store, run)
    counts = dict(store.query_rows("SELECT segment, count(*) FROM segment_members WHERE run_id = ? GROUP BY 1",
                                   [saved.id]))
    return {str(s): int(counts.get(s, 0)) for s in range(saved.k)}


def assignments(store: Store, run: str | None = None) -> pd.DataFrame:
    """``customer_id`` and ``segment`` of every customer of a run."""
    saved = get_run(store, run)
    return store.query_df("SELECT customer_id, segment FROM segment_members WHERE run_id = ? ORDER BY customer_id",
                          [saved.id])


def _profile_inputs(store: Store, saved: Run, ds) -> tuple[pd.DataFrame, list[str], list[str], str | None,
                                                           pd.DataFrame | None, pd.Series | None]:
    """Customers of a run with what a profile needs: features unscaled, categories, value, reach, staleness."""
    from .profiling import MONEY

    settings = saved.settings
    table = candidates(store, ds.name)
    described = [c for c in table.loc[table["kind"] == "categorical", "feature"] if c not in settings.categorical]
    categorical = [*settings.categorical, *described]
    measures = ds.columns_with_role("measure")
    value = next((c for c in measures if MONEY.search(c)), None)
    one = lambda role: (ds.columns_with_role(role) or [None])[0]  # noqa: E731
    contact = {r: one(r) for r in ("email", "phone", "consent", "opt_out", "last_activity_date")}
    columns = list(dict.fromkeys([*(source_column(f) for f in settings.numeric), *categorical,
                                  *([value] if value else []), *(c for c in contact.values() if c)]))
    customers = customer_table(store, ds.name, columns).set_index("customer_id")
    frame = feature_frame(customers, FeatureSettings(numeric=settings.numeric, categorical=tuple(categorical),
                                                     reference_date=settings.reference_date))
    if value and value not in frame:
        frame[value] = pd.to_numeric(customers[value], errors="coerce")
    allowed = pd.Series(True, index=customers.index)
    if contact["consent"]:
        allowed &= customers[contact["consent"]].astype("boolean").fillna(False).astype(bool)
    if contact["opt_out"]:
        allowed &= ~customers[contact["opt_out"]].astype("boolean").fillna(False).astype(bool)
    reach = pd.DataFrame({r: (customers[contact[r]].notna() & allowed) if contact[r] else False
                          for r in ("email", "phone")}, index=customers.index)
    stale = None
    if contact["last_activity_date"]:
        last = pd.to_datetime(customers[contact["last_activity_date"]], errors="coerce")
        stale = last < pd.Timestamp(date.today()) - pd.DateOffset(months=12)
    return frame, list(settings.numeric), categorical, value, reach, stale


def profile_run(store: Store, run: str | None = None, dataset: str | None = None, settings=None):
    """The profile of a run's segments (see :func:`segmentation.segment.profiling.build_profile`), with saved names.

    Suggested names are saved the first time, so exports and the CLI show the same names as the page.
    """
    from .profiling import ProfileSettings, build_profile

    saved = get_run(store, run, dataset)
    ds = store.dataset_by_id(saved.dataset_id)
    frame, numeric, categorical, value, reach, stale = _profile_inputs(store, saved, ds)
    members = assignments(store, saved.name).set_index("customer_id")["segment"]
    labels = members.reindex(frame.index)
    keep = labels.notna().to_numpy()  # customers added since the run was assigned have no segment yet
    frame, labels = frame[keep], labels[keep].astype(int).to_numpy()
    result = build_profile(frame, labels, saved.k, numeric, categorical, value,
                           reach[keep] if reach is not None else None, stale[keep] if stale is not None else None,
                           settings or ProfileSettings(), frozenset(ds.columns_with_role("region", "city", "country")))
    named = segment_names(store, saved.name, suggested=result.names)
    result.names = named
    return result


def segment_names(store: Store, run: str | None = None, suggested: dict[int, str] | None = None) -> dict[int, str]:
    """Name of every segment of a run: saved ones, else ``suggested`` (then saved), else ``Segment <n>``."""
    saved = get_run(store, run)
    names = dict(store.query_rows("SELECT segment, name FROM segment_names WHERE run_id = ?", [saved.id]))
    missing = [s for s in range(saved.k) if s not in names]
    if missing and suggested:
        with store.transaction() as tx:
            for s in missing:
                tx.execute("INSERT OR REPLACE INTO segment_names VALUES (?, ?, ?)", [saved.id, s, suggested[s]])
        names.update({s: suggested[s] for s in missing})
    return {s: names.get(s, f"Segment {s}") for s in range(saved.k)}


def names_of(store: Store, run: str | None = None) -> dict[int, str]:
    """Segment names of a run, suggesting (and saving) them from its profile if none was saved yet."""
    saved = get_run(store, run)
    if store.query_value("SELECT count(*) FROM segment_names WHERE run_id = ?", [saved.id]):
        return segment_names(store, saved.name)
    return profile_run(store, saved.name).names


def rename_segment(store: Store, run: str | None, segment: int, name: str) -> dict[int, str]:
    """Name a segment (used after by audiences, exports and the CLI)."""
    saved = get_run(store, run)
    if not 0 <= segment < saved.k:
        raise ColumnError(f"Run {saved.name!r} has segments 0..{saved.k - 1}; got {segment}.")
    name = name.strip()
    if not name:
        raise ColumnError("A segment name cannot be empty.")
    with store.transaction() as tx:
        tx.execute("INSERT OR REPLACE INTO segment_names VALUES (?, ?, ?)", [saved.id, segment, name])
    return segment_names(store, saved.name)


def segment_sample(store: Store, run: str | None = None, n: int = 20_000) -> pd.DataFrame:
    """At most ``n`` customers of a run: their features, segment, and position on the first two principal
    components of the run's preprocessed features (``pc1``, ``pc2``), for charts."""
    from sklearn.decomposition import PCA

    saved = get_run(store, run)
    ds = store.dataset_by_id(saved.dataset_id)
    frame = customer_features(store, ds.name, saved.settings)
    members = assignments(store, saved.name).set_index("customer_id")["segment"]
    frame = frame.assign(segment=members.reindex(frame.index)).dropna(subset=["segment"])
    if len(frame) > n:
        frame = frame.sample(n, random_state=0)
    frame["segment"] = frame["segment"].astype(int)
    xt = _model(store, saved).pipeline_["prep"].transform(frame[saved.settings.columns])
    if xt.shape[1] >= 2 and len(frame) >= 2:
        frame[["pc1", "pc2"]] = PCA(2, random_state=0).fit_transform(xt)
    else:
        frame["pc1"], frame["pc2"] = xt[:, 0], 0.0
    return frame


def profile_table(profile) -> pd.DataFrame:
    """One row per segment for download: name, size, share, rule with precision and coverage, reach, the
    mean and index of every numeric feature."""
    table = profile.sizes.merge(profile.rules, on="segment").merge(profile.reach, on="segment")
    table.insert(1, "name", table["segment"].map(profile.names))
    wide = profile.numeric.pivot(index="segment", columns="feature", values=["mean", "index"])
    wide.columns = [f"{feature} ({what})" for what, feature in wide.columns]
    return table.merge(wide, left_on="segment", right_index=True)


def with_segments(store: Store, dataset: str | None = None, run: str | None = None) -> pd.DataFrame:
    """Customers of a dataset (golden records once merged) with a ``segment`` column from a run.

    ``run`` defaults to the dataset's current run; without any run the
    customers come back unchanged.
    """
    ds = store.dataset(dataset or None)
    rows = customer_rows(store, ds.name, keep_id=True)
    try:
        saved = get_run(store, run, ds.name)
    except NotFoundError:
        if run:
            raise
        return rows.drop(columns=["customer_id"])
    members = assignments(store, saved.name).set_index("customer_id")["segment"]
    rows.insert(1, "segment", rows["customer_id"].map(members).astype("Int64"))
    names = names_of(store, saved.name)
    rows.insert(2, "segment_name", rows["segment"].map(names))
    return rows.drop(columns=["customer_id"])


def set_current(store: Store, run: str) -> Run:
    """Make a run the current one of its dataset."""
    saved = get_run(store, run)
    with store.transaction() as tx:
        tx.execute("UPDATE segment_runs SET is_current = (id = ?) WHERE dataset_id = ?", [saved.id, saved.dataset_id])
    return get_run(store, run)


def rename_run(store: Store, run: str, new_name: str) -> Run:
    """Give a run another (unique) name."""
    saved = get_run(store, run)
    new_name = new_name.strip()
    if not new_name:
        raise ColumnError("A run name cannot be empty.")
    if new_name.lower() != saved.name.lower() and store.query_value(
            "SELECT count(*) FROM segment_runs WHERE lower(name) = lower(?)", [new_name]):
        raise ColumnError(f"A run named {new_name!r} already exists: pick another name.")
    with store.transaction() as tx:
        tx.execute("UPDATE segment_runs SET name = ? WHERE id = ?", [new_name, saved.id])
    return get_run(store, new_name)


def delete_run(store: Store, run: str) -> None:
    """Delete a run, its segments and names; the newest remaining run of the dataset becomes current."""
    saved = get_run(store, run)
    with store.transaction() as tx:
        for table in ("segment_members", "segment_names"):
            tx.execute(f"DELETE FROM {table} WHERE run_id = ?", [saved.id])
        tx.execute("DELETE FROM segment_runs WHERE id = ?", [saved.id])
        if saved.is_current:
            tx.execute("UPDATE segment_runs SET is_current = (id = (SELECT max(id) FROM segment_runs "
                       "WHERE dataset_id = ?)) WHERE dataset_id = ?", [saved.dataset_id, saved.dataset_id])


def compare_runs(store: Store, run_a: str, run_b: str) -> pd.DataFrame:
    """Migration matrix: customers in each segment of run A (rows) and of run B (columns).

    Customers in only one of the runs are counted under ``"(none)"``.
    """
    a, b = get_run(store, run_a), get_run(store, run_b)
    pairs = store.query_df(
        "SELECT coalesce(CAST(x.segment AS VARCHAR), '(none)') AS a, coalesce(CAST(y.segment AS VARCHAR), '(none)') "
        "AS b, count(*) AS n FROM (SELECT * FROM segment_members WHERE run_id = ?) x FULL JOIN "
        "(SELECT * FROM segment_members WHERE run_id = ?) y USING (customer_id) GROUP BY ALL", [a.id, b.id])
    order = lambda k: [*map(str, range(k)), "(none)"]  # noqa: E731
    table = pairs.pivot_table(index="a", columns="b", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(index=order(a.k), columns=order(b.k), fill_value=0)
    table = table.loc[(table.sum(axis=1) > 0) | (table.index != "(none)"),
                      (table.sum(axis=0) > 0) | (table.columns != "(none)")]
    table.index.name, table.columns.name = f"{a.name} segment", f"{b.name} segment"
    return table.astype(np.int64)


def carry_names(store: Store, old: str, new: str) -> dict[int, str]:
    """Give each segment of a re-fitted run the name of the old segment it takes most customers from."""
    from scipy.optimize import linear_sum_assignment

    overlap = compare_runs(store, old, new)
    overlap = overlap.drop(index="(none)", columns="(none)", errors="ignore")
    old_names, rows = names_of(store, old), overlap.to_numpy()
    a, b = linear_sum_assignment(-rows)
    names = names_of(store, new)
    for i, j in zip(a, b, strict=True):
        if rows[i, j] > 0:
            names[int(overlap.columns[j])] = old_names[int(overlap.index[i])]
    for segment, name in names.items():
        rename_segment(store, new, segment, name)
    return names


__all__ = [
    "Run",
    "Scan",
    "assign",
    "assignments",
    "candidates",
    "carry_names",
    "compare_runs",
    "customer_features",
    "default_features",
    "delete_run",
    "feature_sample",
    "get_run",
    "last_scan",
    "names_of",
    "profile_run",
    "profile_table",
    "rename_run",
    "rename_segment",
    "run_segments",
    "runs",
    "scan",
    "segment_names",
    "segment_sample",
    "segment_sizes",
    "set_current",
    "with_segments",
]

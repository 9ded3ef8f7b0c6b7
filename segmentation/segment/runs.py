"""Segment runs: features of the customers, the k scan, runs fitted, saved, assigned, profiled, compared.

The models are :mod:`segmentation.segment.clustering` and the profiles
:mod:`segmentation.segment.profiling` (pure); the customers come from the
customers stage (:mod:`segmentation.customers`, golden records once merged).
This module holds the workflow and executes no SQL: every read and write of
the runs, their members and names goes through
:class:`segmentation.segment.repository.SegmentRepository`, the stage's only
SQL executor.

Two layers: functions taking a resolved dataset (:class:`Dataset`) and run
(:class:`Run`), which the dataset handle's ``segments`` stage calls, and the
older name-based functions (``store, dataset name, run name``) kept for the
stages that still call them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from ..behaviour.repository import BehaviourRepository
from ..core import models as saved_models
from ..core.errors import NotFoundError, SettingError
from ..core.store import Dataset, Store
from ..customers import repository as customers_repo
from ..customers.attributes import computed as computed_attributes
from ..i18n import Message
from ..ingest.repository import DatasetsRepository
from .clustering import KScan, SegmentModel
from .features import FeatureSettings, candidate_features, feature_frame, source_column
from .profiling import MONEY, Profile, ProfileSettings, build_profile
from .repository import SegmentRepository

Progress = Callable[[float, str], None]


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

    def to_dict(self) -> dict:
        """The run in JSON terms (name, k, features, customers, current, dates)."""
        return {"run": self.name, "k": self.k, "features": self.settings.columns, "customers": self.customers,
                "current": self.is_current, "created_at": self.created_at.isoformat(timespec="seconds"),
                "assigned_at": self.assigned_at.isoformat(timespec="seconds")}


@dataclass
class AssignResult:
    """What :func:`assign_run` did: the run, how many customers it assigned, the segment sizes after."""

    run: str
    assigned: int
    sizes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """``{"run", "assigned", "sizes"}`` (the CLI's JSON)."""
        return {"run": self.run, "assigned": self.assigned, "sizes": dict(self.sizes)}


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
    reason: Message
    steps: dict


def _run_from_row(row: tuple) -> Run:
    values = list(row)
    values[5] = _settings_from_json(values[5])
    values[6], values[7] = json.loads(values[6]), json.loads(values[7])
    return Run(*values)


def _settings_json(settings: FeatureSettings) -> str:
    return json.dumps(asdict(settings), sort_keys=True)


def _settings_from_json(text: str) -> FeatureSettings:
    values = json.loads(text)
    return FeatureSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


def _dated(settings: FeatureSettings) -> FeatureSettings:
    """Settings with the reference date fixed (today), so a run says from when its "days ago" count."""
    if settings.reference_date:
        return settings
    return FeatureSettings(**{**asdict(settings), "reference_date": date.today().isoformat()})


def members_sql(run: Run) -> str:
    """SQL text of a run's members (``customer_id``, ``segment``), for stages that join them (audiences)."""
    return f"SELECT customer_id, segment FROM segment_members WHERE run_id = {int(run.id)}"


# ------------------------------------------------------------------ on a resolved dataset and run

def find_run(store: Store, name: str | None = None, ds: Dataset | None = None) -> Run:
    """A run by name (of ``ds`` when given, else of any dataset), or the current run of ``ds``."""
    repo = SegmentRepository(store)
    if name:
        row = repo.run_row(name, ds.id if ds is not None else None)
        if row is None:
            known = repo.run_names(ds.id if ds is not None else None)
            where = f"dataset {ds.name!r} has" if ds is not None else "the store has"
            raise NotFoundError(f"No segment run named {name!r}; {where} {known}.")
        return _run_from_row(row)
    if ds is None:
        raise NotFoundError("Name a segment run, or the dataset whose current run is meant.")
    row = repo.current_run_row(ds.id)
    if row is None:
        raise NotFoundError(f"Dataset {ds.name!r} has no segment run yet: run a segmentation first.")
    return _run_from_row(row)


def dataset_candidates(store: Store, ds: Dataset) -> pd.DataFrame:
    """Columns of a customers dataset that can be features (see :func:`features.candidate_features`), with the
    computed attributes (RFM measures, propensity scores) once they exist."""
    rows, present, distinct = SegmentRepository(store).column_counts(ds)
    if not ds.columns:
        return candidate_features(ds, {}, {})
    n = max(rows, 1)
    table = candidate_features(ds, {c: 1 - present[c] / n for c in ds.columns}, distinct)
    found = computed_attributes(store, ds)
    if found:  # RFM from orders (customers without orders have none), propensity scores
        behaviour = BehaviourRepository(store)
        extra = []
        for name, (source, column, kind) in found.items():
            have = behaviour.non_missing(source, column)
            extra.append((name, "numeric" if kind == "number" else "categorical", name, max(0.0, 1 - have / n),
                          False, "from orders (RFM)" if source.startswith("rfm_") else "propensity score"))
        table = pd.concat([table, pd.DataFrame(extra, columns=table.columns)], ignore_index=True)
    return table


def dataset_default_features(store: Store, ds: Dataset) -> FeatureSettings:
    """Numeric measures and dates with few missing values; no ids, names, e-mails or free text."""
    table = dataset_candidates(store, ds)
    chosen = table[table["default"]]
    return FeatureSettings(numeric=tuple(chosen.loc[chosen["kind"] == "numeric", "feature"]),
                           categorical=tuple(chosen.loc[chosen["kind"] == "categorical", "feature"]))


def features_of(store: Store, ds: Dataset, settings: FeatureSettings) -> pd.DataFrame:
    """The features of every customer, indexed by ``customer_id`` (dates as days before the reference date)."""
    columns = list(dict.fromkeys(source_column(f) for f in settings.columns))
    customers = customers_repo.customer_table(store, ds, columns).set_index("customer_id")
    return feature_frame(customers, settings)


def sample_features(store: Store, ds: Dataset, settings: FeatureSettings, n: int = 20_000) -> pd.DataFrame:
    """At most ``n`` customers' features (a random sample, the same each time), for distribution charts."""
    frame = features_of(store, ds, _dated(settings))
    return frame.sample(n, random_state=0) if len(frame) > n else frame


def scan_dataset(store: Store, ds: Dataset, settings: FeatureSettings, k_min: int = 2, k_max: int = 10,
                 progress: Progress | None = None) -> KScan:
    """Score K-means for k in ``k_min..k_max`` on the customers and recommend one k (see :class:`KScan`).

    The result is kept in the store as the dataset's last scan (see :func:`dataset_last_scan`).
    """
    progress = progress or _no_progress
    settings = _dated(settings)
    progress(0.01, "Reading customers")
    frame = features_of(store, ds, settings)
    result = KScan(settings, k_min=k_min, k_max=k_max).fit(frame, progress=lambda f, m: progress(0.05 + 0.95 * f, m))
    scores = result.scores_.astype(object).where(result.scores_.notna(), None)
    SegmentRepository(store).save_scan(ds.id, _settings_json(settings), k_min, k_max,
                                       json.dumps(scores.to_dict(orient="list")), result.knee_,
                                       result.recommended_k_, message_json(result.reason_), json.dumps(result.steps_))
    return result


def dataset_last_scan(store: Store, ds: Dataset) -> Scan | None:
    """The dataset's last k scan, if any."""
    row = SegmentRepository(store).last_scan(ds.id)
    if row is None:
        return None
    at, settings, k_min, k_max, scores, knee, k, reason, steps = row
    return Scan(at, _settings_from_json(settings), k_min, k_max, pd.DataFrame(json.loads(scores)).astype(
        {"k": int}), knee, k, message_from_json(reason), json.loads(steps))


def message_json(msg: Message) -> str:
    """A :class:`Message` (values may be messages too) as JSON text, for the store."""
    def plain(m: Message) -> dict:
        return {"text": m.text, "values": {k: plain(v) if isinstance(v, Message) else v for k, v in m.values.items()}}
    return json.dumps(plain(msg))


def message_from_json(text: str) -> Message:
    """The :class:`Message` :func:`message_json` wrote (a scan saved by an earlier version: its English text)."""
    def build(d: dict) -> Message:
        return Message(d["text"], {k: build(v) if isinstance(v, dict) and "text" in v else v
                                   for k, v in d.get("values", {}).items()})
    try:
        found = json.loads(text)
    except (TypeError, ValueError):
        found = None
    return build(found) if isinstance(found, dict) and "text" in found else Message(str(text))


def fit_run(store: Store, ds: Dataset, settings: FeatureSettings, k: int, name: str | None = None,
            random_state: int = 0, progress: Progress | None = None) -> Run:
    """Fit K-means with ``k`` segments on the customers of ``ds``, save the run (made current) and every
    customer's segment (see :func:`run_segments` for the parameters).

    The partition is the one a k scan with the same settings and seed scored at ``k`` (same inertia), and
    the same settings give the same segments again (see :func:`segmentation.segment.clustering.fit_partition`).
    """
    progress = progress or _no_progress
    settings = _dated(settings)
    progress(0.05, "Reading customers")
    frame = features_of(store, ds, settings)
    progress(0.3, f"Fitting {k} segments")
    model = SegmentModel(settings, k=k, random_state=random_state).fit(frame)
    progress(0.8, "Saving the run")
    members = pd.DataFrame({"customer_id": frame.index.astype(str), "segment": model.labels_.astype("int32")})
    repo = SegmentRepository(store)
    run_name = repo.insert_run(ds.id, (name or "").strip() or f"{ds.name} · k={k}", k, json.dumps(asdict(settings)),
                               json.dumps(model.scores_), json.dumps(model.steps_),
                               saved_models.dumps(model.pipeline_), members)
    progress(1.0, "Done")
    return find_run(store, run_name, ds)


def _with_dataset_names(table: pd.DataFrame, names: dict[int, str]) -> pd.DataFrame:
    """``dataset_id`` replaced by the dataset's name (column ``dataset``, second)."""
    table.insert(1, "dataset", table.pop("dataset_id").map(names).astype(object))
    return table


def dataset_runs(store: Store, ds: Dataset) -> pd.DataFrame:
    """The runs of ``ds``, newest first: name, dataset, created_at, k, customers, current, settings."""
    return _with_dataset_names(SegmentRepository(store).runs(ds.id), {ds.id: ds.name})


def _model(store: Store, run: Run) -> Pipeline:
    """The run's fitted pipeline (``prep`` then ``kmeans``), read without running anything the store says.

    A run saved by an earlier version (a pickle) or naming an unexpected type is refused with a
    :class:`StoreError` that says to re-run the segmentation (see :mod:`segmentation.core.models`).
    """
    return saved_models.loads(SegmentRepository(store).model(run.id), (Pipeline,), f"Segment run {run.name!r}",
                              "re-run this segmentation (same features and k) on the Segment page or with "
                              "the `segment` command")


def sizes_of(store: Store, run: Run) -> dict[str, int]:
    """Customers per segment of a run, ``{"0": n, ...}`` (every segment, empty ones too)."""
    counts = SegmentRepository(store).segment_counts(run.id)
    return {str(s): int(counts.get(s, 0)) for s in range(run.k)}


def members_of(store: Store, run: Run) -> pd.DataFrame:
    """``customer_id`` and ``segment`` of every customer of a run."""
    return SegmentRepository(store).members(run.id)


def assign_run(store: Store, run: Run, ds: Dataset, progress: Progress | None = None) -> AssignResult:
    """Assign every customer of ``ds`` with a saved run, without re-fitting.

    New customers get a segment; existing ones keep theirs unless their features changed.
    """
    progress = progress or _no_progress
    progress(0.1, "Reading customers")
    frame = features_of(store, ds, run.settings)
    progress(0.5, "Assigning segments")
    labels = _model(store, run).predict(frame[run.settings.columns])
    members = pd.DataFrame({"customer_id": frame.index.astype(str), "segment": labels.astype("int32")})
    SegmentRepository(store).replace_members(run.id, run.dataset_id, members)
    progress(1.0, "Done")
    return AssignResult(run.name, len(members), sizes_of(store, run))


def _profile_inputs(store: Store, saved: Run, ds: Dataset) -> tuple[pd.DataFrame, list[str], list[str], str | None,
                                                                    pd.DataFrame | None, pd.Series | None]:
    """Customers of a run with what a profile needs: features unscaled, categories, value, reach, staleness."""
    settings = saved.settings
    table = dataset_candidates(store, ds)
    described = [c for c in table.loc[table["kind"] == "categorical", "feature"] if c not in settings.categorical]
    categorical = [*settings.categorical, *described]
    measures = ds.columns_with_role("measure")
    value = next((c for c in measures if MONEY.search(c)), None)
    one = lambda role: (ds.columns_with_role(role) or [None])[0]  # noqa: E731
    contact = {r: one(r) for r in ("email", "phone", "consent", "opt_out", "last_activity_date")}
    columns = list(dict.fromkeys([*(source_column(f) for f in settings.numeric), *categorical,
                                  *([value] if value else []), *(c for c in contact.values() if c)]))
    customers = customers_repo.customer_table(store, ds, columns).set_index("customer_id")
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


def _setting_error(setting: str, value, expected: str, message: str) -> SettingError:
    """A :class:`SettingError` with its fields, worded as the pages and the CLI have always said it."""
    error = SettingError(setting, value, expected)
    error.args = (message,)
    return error


def profile_of(store: Store, run: Run, settings: ProfileSettings | None = None, ds: Dataset | None = None) -> Profile:
    """The profile of a run's segments (see :func:`segmentation.segment.profiling.build_profile`), with saved names.

    Suggested names are saved the first time, so exports and the CLI show the same names as the page.
    ``ds`` is the run's dataset when the caller has it already.
    """
    ds = ds if ds is not None and ds.id == run.dataset_id else DatasetsRepository(store).dataset_by_id(run.dataset_id)
    frame, numeric, categorical, value, reach, stale = _profile_inputs(store, run, ds)
    labels = members_of(store, run).set_index("customer_id")["segment"].reindex(frame.index)
    keep = labels.notna().to_numpy()  # customers added since the run was assigned have no segment yet
    frame, labels = frame[keep], labels[keep].astype(int).to_numpy()
    result = build_profile(frame, labels, run.k, numeric, categorical, value,
                           reach[keep] if reach is not None else None, stale[keep] if stale is not None else None,
                           settings or ProfileSettings(), frozenset(ds.columns_with_role("region", "city", "country")))
    result.names = saved_names(store, run, suggested=result.names)
    return result


def saved_names(store: Store, run: Run, suggested: dict[int, str] | None = None) -> dict[int, str]:
    """Name of every segment of a run: saved ones, else ``suggested`` (then saved), else ``Segment <n>``."""
    repo = SegmentRepository(store)
    names = repo.names(run.id)
    if suggested and any(s not in names for s in range(run.k)):
        names = repo.save_missing_names(run.id, run.dataset_id, {s: suggested[s] for s in range(run.k)
                                                                 if s in suggested})
    return {s: names.get(s, f"Segment {s}") for s in range(run.k)}


def names_for(store: Store, run: Run, ds: Dataset | None = None) -> dict[int, str]:
    """Segment names of a run, suggesting (and saving) them from its profile if none was saved yet
    (``ds``: the run's dataset when the caller has it)."""
    if SegmentRepository(store).has_names(run.id):
        return saved_names(store, run)
    return profile_of(store, run, ds=ds).names


def name_segment(store: Store, run: Run, segment: int, name: str) -> dict[int, str]:
    """Name a segment (used after by audiences, exports and the CLI); returns every segment's name."""
    if not 0 <= segment < run.k:
        raise _setting_error("segment", segment, f"one of 0..{run.k - 1}",
                             f"Run {run.name!r} has segments 0..{run.k - 1}; got {segment}.")
    name = name.strip()
    if not name:
        raise _setting_error("segment name", name, "a name", "A segment name cannot be empty.")
    SegmentRepository(store).set_name(run.id, run.dataset_id, segment, name)
    return saved_names(store, run)


def sample_of(store: Store, run: Run, n: int = 20_000, ds: Dataset | None = None) -> pd.DataFrame:
    """At most ``n`` customers of a run: their features, segment, and position on the first two principal
    components of the run's preprocessed features (``pc1``, ``pc2``), for charts."""
    ds = ds if ds is not None and ds.id == run.dataset_id else DatasetsRepository(store).dataset_by_id(run.dataset_id)
    frame = features_of(store, ds, run.settings)
    members = members_of(store, run).set_index("customer_id")["segment"]
    frame = frame.assign(segment=members.reindex(frame.index)).dropna(subset=["segment"])
    if len(frame) > n:
        frame = frame.sample(n, random_state=0)
    frame["segment"] = frame["segment"].astype(int)
    xt = _model(store, run)["prep"].transform(frame[run.settings.columns])
    if xt.shape[1] >= 2 and len(frame) >= 2:
        frame[["pc1", "pc2"]] = PCA(2, random_state=0).fit_transform(xt)
    else:
        frame["pc1"], frame["pc2"] = xt[:, 0], 0.0
    return frame


def profile_table(profile: Profile) -> pd.DataFrame:
    """One row per segment for download: name, size, share, rule with precision and coverage, reach, the
    mean and index of every numeric feature."""
    table = profile.sizes.merge(profile.rules, on="segment").merge(profile.reach, on="segment")
    table.insert(1, "name", table["segment"].map(profile.names))
    wide = profile.numeric.pivot(index="segment", columns="feature", values=["mean", "index"])
    wide.columns = [f"{feature} ({what})" for what, feature in wide.columns]
    return table.merge(wide, left_on="segment", right_index=True)


def rows_with_segments(store: Store, ds: Dataset, run: Run | None) -> pd.DataFrame:
    """Customers of a dataset (golden records once merged) with ``segment`` and ``segment_name`` from ``run``
    (unchanged without a run)."""
    rows = customers_repo.customer_rows(store, ds, keep_id=True)
    if run is None:
        return rows.drop(columns=["customer_id"])
    members = members_of(store, run).set_index("customer_id")["segment"]
    rows.insert(1, "segment", rows["customer_id"].map(members).astype("Int64"))
    rows.insert(2, "segment_name", rows["segment"].map(names_for(store, run, ds)))
    return rows.drop(columns=["customer_id"])


def make_current(store: Store, run: Run) -> Run:
    """Make a run the current one of its dataset."""
    SegmentRepository(store).set_current(run.id, run.dataset_id)
    return _run_from_row(SegmentRepository(store).run_row_by_id(run.id))


def rename(store: Store, run: Run, new_name: str) -> Run:
    """Give a run another (unique) name."""
    new_name = new_name.strip()
    if not new_name:
        raise _setting_error("run name", new_name, "a name", "A run name cannot be empty.")
    if not SegmentRepository(store).rename_run(run.id, run.dataset_id, new_name):
        raise _setting_error("run name", new_name, "a name no other run has",
                             f"A run named {new_name!r} already exists: pick another name.")
    return _run_from_row(SegmentRepository(store).run_row_by_id(run.id))


def delete(store: Store, run: Run) -> None:
    """Delete a run, its segments and names; the newest remaining run of the dataset becomes current."""
    SegmentRepository(store).delete_run(run.id, run.dataset_id)


def migration_matrix(store: Store, a: Run, b: Run) -> pd.DataFrame:
    """Migration matrix: customers in each segment of run A (rows) and of run B (columns).

    Customers in only one of the runs are counted under ``"(none)"``.
    """
    pairs = SegmentRepository(store).migration_pairs(a.id, b.id)
    order = lambda k: [*map(str, range(k)), "(none)"]  # noqa: E731
    table = pairs.pivot_table(index="a", columns="b", values="n", aggfunc="sum", fill_value=0)
    table = table.reindex(index=order(a.k), columns=order(b.k), fill_value=0)
    table = table.loc[(table.sum(axis=1) > 0) | (table.index != "(none)"),
                      (table.sum(axis=0) > 0) | (table.columns != "(none)")]
    table.index.name, table.columns.name = f"{a.name} segment", f"{b.name} segment"
    return table.astype(np.int64)


def carry(store: Store, old: Run, new: Run) -> dict[int, str]:
    """Give each segment of a re-fitted run the name of the old segment it takes most customers from."""
    overlap = migration_matrix(store, old, new).drop(index="(none)", columns="(none)", errors="ignore")
    old_names, rows = names_for(store, old), overlap.to_numpy()
    a, b = linear_sum_assignment(-rows)
    names = names_for(store, new)
    for i, j in zip(a, b, strict=True):
        if rows[i, j] > 0:
            names[int(overlap.columns[j])] = old_names[int(overlap.index[i])]
    SegmentRepository(store).set_names(new.id, new.dataset_id, names)
    return names


# ------------------------------------------------------------------ by name (older callers)

def get_run(store: Store, name: str | None = None, dataset: str | None = None) -> Run:
    """A run by name, or the current run (of ``dataset``, else of the most recent customers dataset)."""
    if name:
        return find_run(store, name)
    return find_run(store, None, DatasetsRepository(store).dataset(dataset or None))


def candidates(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Columns of a customers dataset that can be features (see :func:`dataset_candidates`)."""
    return dataset_candidates(store, DatasetsRepository(store).dataset(dataset or None))


def default_features(store: Store, dataset: str | None = None) -> FeatureSettings:
    """Numeric measures and dates with few missing values; no ids, names, e-mails or free text."""
    return dataset_default_features(store, DatasetsRepository(store).dataset(dataset or None))


def customer_features(store: Store, dataset: str | None, settings: FeatureSettings) -> pd.DataFrame:
    """The features of every customer, indexed by ``customer_id`` (see :func:`features_of`)."""
    return features_of(store, DatasetsRepository(store).dataset(dataset or None), settings)


def feature_sample(store: Store, dataset: str | None, settings: FeatureSettings, n: int = 20_000) -> pd.DataFrame:
    """At most ``n`` customers' features, for distribution charts (see :func:`sample_features`)."""
    return sample_features(store, DatasetsRepository(store).dataset(dataset or None), settings, n)


def scan(store: Store, dataset: str | None, settings: FeatureSettings, k_min: int = 2, k_max: int = 10,
         progress: Progress = _no_progress) -> KScan:
    """Score K-means for k in ``k_min..k_max`` (see :func:`scan_dataset`)."""
    return scan_dataset(store, DatasetsRepository(store).dataset(dataset or None), settings, k_min, k_max, progress)


def last_scan(store: Store, dataset: str | None = None) -> Scan | None:
    """The dataset's last k scan, if any."""
    return dataset_last_scan(store, DatasetsRepository(store).dataset(dataset or None))


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
    return fit_run(store, DatasetsRepository(store).dataset(dataset or None), settings, k, name, random_state, progress)


def runs(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Saved runs (of one dataset, or all), newest first: name, date, k, features, customers, current."""
    if dataset:
        return dataset_runs(store, DatasetsRepository(store).dataset(dataset))
    names = {d.id: d.name for d in DatasetsRepository(store).datasets()}
    return _with_dataset_names(SegmentRepository(store).runs(None), names)


def assign(store: Store, run: str | None = None, dataset: str | None = None,
           progress: Progress = _no_progress) -> dict:
    """Assign every customer of ``dataset`` (default: the run's) with a saved run, without re-fitting.

    Returns ``{"run", "assigned", "sizes"}`` (see :func:`assign_run`).
    """
    saved = get_run(store, run, dataset)
    datasets = DatasetsRepository(store)
    ds = datasets.dataset(dataset) if dataset else datasets.dataset_by_id(saved.dataset_id)
    return assign_run(store, saved, ds, progress).to_dict()


def segment_sizes(store: Store, run: str | None = None) -> dict[str, int]:
    """Customers per segment of a run, ``{"0": n, ...}`` (every segment, empty ones too)."""
    return sizes_of(store, get_run(store, run))


def assignments(store: Store, run: str | None = None) -> pd.DataFrame:
    """``customer_id`` and ``segment`` of every customer of a run."""
    return members_of(store, get_run(store, run))


def profile_run(store: Store, run: str | None = None, dataset: str | None = None, settings=None) -> Profile:
    """The profile of a run's segments, with saved names (see :func:`profile_of`)."""
    return profile_of(store, get_run(store, run, dataset), settings)


def segment_names(store: Store, run: str | None = None, suggested: dict[int, str] | None = None) -> dict[int, str]:
    """Name of every segment of a run: saved ones, else ``suggested`` (then saved), else ``Segment <n>``."""
    return saved_names(store, get_run(store, run), suggested)


def names_of(store: Store, run: str | None = None) -> dict[int, str]:
    """Segment names of a run, suggesting (and saving) them from its profile if none was saved yet."""
    return names_for(store, get_run(store, run))


def rename_segment(store: Store, run: str | None, segment: int, name: str) -> dict[int, str]:
    """Name a segment (used after by audiences, exports and the CLI)."""
    return name_segment(store, get_run(store, run), segment, name)


def segment_sample(store: Store, run: str | None = None, n: int = 20_000) -> pd.DataFrame:
    """At most ``n`` customers of a run with their features, segment and ``pc1``, ``pc2`` (see :func:`sample_of`)."""
    return sample_of(store, get_run(store, run), n)


def with_segments(store: Store, dataset: str | None = None, run: str | None = None) -> pd.DataFrame:
    """Customers of a dataset (golden records once merged) with a ``segment`` column from a run.

    ``run`` defaults to the dataset's current run; without any run the
    customers come back unchanged.
    """
    ds = DatasetsRepository(store).dataset(dataset or None)
    try:
        saved = get_run(store, run, ds.name)
    except NotFoundError:
        if run:
            raise
        saved = None
    return rows_with_segments(store, ds, saved)


def set_current(store: Store, run: str) -> Run:
    """Make a run the current one of its dataset."""
    return make_current(store, get_run(store, run))


def rename_run(store: Store, run: str, new_name: str) -> Run:
    """Give a run another (unique) name."""
    return rename(store, get_run(store, run), new_name)


def delete_run(store: Store, run: str) -> None:
    """Delete a run, its segments and names; the newest remaining run of the dataset becomes current."""
    delete(store, get_run(store, run))


def compare_runs(store: Store, run_a: str, run_b: str) -> pd.DataFrame:
    """Migration matrix between two runs (see :func:`migration_matrix`)."""
    return migration_matrix(store, get_run(store, run_a), get_run(store, run_b))


def carry_names(store: Store, old: str, new: str) -> dict[int, str]:
    """Give each segment of a re-fitted run the name of the old segment it takes most customers from."""
    return carry(store, get_run(store, old), get_run(store, new))


__all__ = [
    "AssignResult",
    "Run",
    "Scan",
    "assign",
    "assign_run",
    "assignments",
    "candidates",
    "carry",
    "carry_names",
    "compare_runs",
    "customer_features",
    "dataset_candidates",
    "dataset_default_features",
    "dataset_last_scan",
    "dataset_runs",
    "default_features",
    "delete",
    "delete_run",
    "feature_sample",
    "features_of",
    "find_run",
    "fit_run",
    "get_run",
    "last_scan",
    "make_current",
    "members_of",
    "members_sql",
    "migration_matrix",
    "name_segment",
    "names_for",
    "names_of",
    "profile_of",
    "profile_run",
    "profile_table",
    "rename",
    "rename_run",
    "rename_segment",
    "rows_with_segments",
    "run_segments",
    "runs",
    "sample_features",
    "sample_of",
    "saved_names",
    "scan",
    "scan_dataset",
    "segment_names",
    "segment_sample",
    "segment_sizes",
    "set_current",
    "sizes_of",
    "with_segments",
]

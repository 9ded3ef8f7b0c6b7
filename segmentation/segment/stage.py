"""The segment stage as a dataset handle carries it (``handle.segments``).

Thin methods over :mod:`segmentation.segment.runs` and
:mod:`segmentation.segment.snapshots`, on the handle's dataset (resolved
once, when the handle was made). A run is named by its name within this
dataset, or given as the :class:`Run` a method returned; each call resolves
it once. The stage's only SQL executor is
:mod:`segmentation.segment.repository`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from ..core.errors import NotFoundError
from ..core.stage import Stage
from ..i18n import Message
from . import profiles, runs, snapshots
from .clustering import KScan
from .features import FeatureSettings
from .profiling import Profile, ProfileSettings
from .runs import AssignResult, Progress, Run, Scan

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # the handle imports the stages; only its type is needed here
    from ..workspace import DatasetHandle


class SegmentsStage(Stage):
    """Features, the k scan, segment runs, profiles, segment names and snapshots of one customers dataset."""

    def _run(self, run: str | Run | None = None) -> Run:
        """The run named ``run`` in this dataset (a :class:`Run` as is), or the current one when None."""
        if isinstance(run, Run):
            return run
        return runs.find_run(self.store, run or None, self.dataset)

    # -- features ----------------------------------------------------------
    def candidates(self) -> pd.DataFrame:
        """Columns (and computed attributes: RFM, scores) that can be features, with kind, missing share, default."""
        return runs.dataset_candidates(self.store, self.dataset)

    def default_features(self) -> FeatureSettings:
        """Numeric measures and dates with few missing values; no ids, names, e-mails or free text."""
        return runs.dataset_default_features(self.store, self.dataset)

    def feature_sample(self, settings: FeatureSettings, n: int = 20_000) -> pd.DataFrame:
        """At most ``n`` customers' features (the same sample each time), for distribution charts."""
        return runs.sample_features(self.store, self.dataset, settings, n)

    def features(self, settings: FeatureSettings) -> pd.DataFrame:
        """Every customer's features, indexed by ``customer_id``."""
        return runs.features_of(self.store, self.dataset, settings)

    # -- how many segments -------------------------------------------------
    def scan(self, features: FeatureSettings, k_min: int = 2, k_max: int = 10,
             progress: Progress | None = None) -> KScan:
        """Score K-means for k in ``k_min..k_max`` and recommend one k; kept as the dataset's last scan."""
        return runs.scan_dataset(self.store, self.dataset, features, k_min, k_max, progress)

    def last_scan(self) -> Scan | None:
        """The dataset's last k scan, if any."""
        return runs.dataset_last_scan(self.store, self.dataset)

    # -- runs --------------------------------------------------------------
    def run(self, features: FeatureSettings, k: int, name: str | None = None, random_state: int = 0,
            progress: Progress | None = None) -> Run:
        """Fit K-means with ``k`` segments, save the run (made current) and every customer's segment."""
        run = runs.fit_run(self.store, self.dataset, features, k, name, random_state, progress)
        self._keep_profile(run)
        return run

    def _keep_profile(self, run: Run) -> None:
        """Profile a run just fitted or assigned and keep it, so that the Profile page's first open reads it.

        The run is saved either way: a profile that fails here is computed (and its error shown) on the
        Profile page."""
        try:
            profiles.keep_profile(self.store, run, None, self.dataset)
        except Exception:
            log.warning("Could not keep the profile of run %r", run.name, exc_info=True)

    def runs(self) -> pd.DataFrame:
        """This dataset's runs, newest first: name, dataset, created_at, k, customers, current, settings."""
        return runs.dataset_runs(self.store, self.dataset)

    def get_run(self, name: str | None = None) -> Run:
        """A run of this dataset by name, or its current run (:class:`NotFoundError` if none)."""
        return self._run(name)

    def current_run(self) -> Run | None:
        """The dataset's current run, or None before the first run."""
        try:
            return self._run(None)
        except NotFoundError:
            return None

    def dataset_of_run(self, name: str) -> DatasetHandle:
        """The dataset (of this workspace) a run of any dataset belongs to, for commands that name only a run."""
        run = runs.find_run(self.store, name)
        return self.handle if run.dataset_id == self.dataset.id else self.handle.workspace.dataset_by_id(
            run.dataset_id)

    def set_current(self, run: str | Run) -> Run:
        """Make a run the current one of this dataset."""
        return runs.make_current(self.store, self._run(run))

    def rename_run(self, run: str | Run, new_name: str) -> Run:
        """Give a run another (unique) name."""
        return runs.rename(self.store, self._run(run), new_name)

    def delete_run(self, run: str | Run) -> None:
        """Delete a run, its segments and names; the newest remaining run becomes current."""
        runs.delete(self.store, self._run(run))

    def compare_runs(self, run_a: str | Run, run_b: str | Run) -> pd.DataFrame:
        """Migration matrix: customers per segment of run A (rows) and of run B (columns)."""
        return runs.migration_matrix(self.store, self._run(run_a), self._run(run_b))

    def assign(self, run: str | Run | None = None, progress: Progress | None = None) -> AssignResult:
        """Give every customer of this dataset a segment with a saved run's pipeline, without re-fitting."""
        found = self._run(run)
        result = runs.assign_run(self.store, found, self.dataset, progress)
        self._keep_profile(self._run(found.name))  # assigned anew: profiled anew
        return result

    def sizes(self, run: str | Run | None = None) -> dict[str, int]:
        """Customers per segment, ``{"0": n, ...}`` (every segment, empty ones too)."""
        return runs.sizes_of(self.store, self._run(run))

    def members(self, run: str | Run | None = None) -> pd.DataFrame:
        """``customer_id`` and ``segment`` of every customer of a run."""
        return runs.members_of(self.store, self._run(run))

    def members_sql(self, run: str | Run | None = None) -> str:
        """SQL text of a run's members (``customer_id``, ``segment``), for stages that join them."""
        return runs.members_sql(self._run(run))

    def sample(self, run: str | Run | None = None, n: int = 20_000) -> pd.DataFrame:
        """At most ``n`` customers of a run with their features, segment and two principal components."""
        return profiles.sample_of(self.store, self._run(run), n, self.dataset)

    def with_segments(self, run: str | Run | None = None) -> pd.DataFrame:
        """Customers (golden records once merged) with ``segment`` and ``segment_name`` of ``run`` (default the
        current run; unchanged without any run)."""
        saved = self._run(run) if run else self.current_run()
        return runs.rows_with_segments(self.store, self.dataset, saved)

    # -- profiles and names ------------------------------------------------
    def profile(self, run: str | Run | None = None, settings: ProfileSettings | None = None) -> Profile:
        """What sets each segment apart: sizes, index, rules in words, reach, hints, and the saved names."""
        return profiles.profile_of(self.store, self._run(run), settings, self.dataset)

    def profile_table(self, run: str | Run | None = None, settings: ProfileSettings | None = None,
                      profile: Profile | None = None) -> pd.DataFrame:
        """The profile as one row per segment, with its saved name (what the CSV and Excel downloads hold).

        ``profile`` is a profile of this stage already at hand (then ``run`` and ``settings`` are not needed).
        """
        return runs.profile_table(profile if profile is not None else self.profile(run, settings))

    def names(self, run: str | Run | None = None) -> dict[int, str]:
        """Every segment's name (suggested from the profile and saved the first time)."""
        return profiles.names_of(self.store, self._run(run), self.dataset)

    def labels(self, run: str | Run | None = None) -> dict[int, str | Message]:
        """Every segment's name to show: a renamed segment's name, else its suggestion as a message that the
        pages render in the reader's language (``app_state.say``)."""
        profile = profiles.profile_of(self.store, self._run(run), None, self.dataset)
        return {s: profile.label(s) for s in profile.names}

    def rename_segment(self, run: str | Run | None, segment: int, name: str) -> dict[int, str]:
        """Name a segment (audiences, exports and the CLI use it); the others keep their names."""
        return profiles.rename(self.store, self._run(run), segment, name, self.dataset)

    def carry_names(self, old: str | Run, new: str | Run) -> dict[int, str]:
        """Give each segment of ``new`` the name of the segment of ``old`` it takes most customers from."""
        return runs.carry(self.store, self._run(old), self._run(new))

    # -- snapshots ---------------------------------------------------------
    def snapshots(self) -> pd.DataFrame:
        """Snapshots of this dataset, oldest first: ``id``, ``taken_at``, ``run``, ``customers``, ``refresh_id``."""
        return snapshots.snapshots_of(self.store, self.dataset)

    def snapshot_sizes(self) -> pd.DataFrame:
        """Customers per segment in every snapshot (segments named as on the snapshot's day)."""
        return snapshots.sizes_of(self.store, self.dataset)

    def take_snapshot(self, run: str | Run | None = None, refresh_id: int | None = None,
                      only_if_changed: bool = True) -> int | None:
        """Keep a run's membership as a snapshot; None when it equals the run's last snapshot."""
        return snapshots.take_of(self.store, self._run(run), refresh_id, only_if_changed, self.dataset)

    def migration(self, before: int, after: int) -> pd.DataFrame:
        """Customers per segment of snapshot ``before`` (rows) and ``after`` (columns), by segment name."""
        return snapshots.migration_of(self.store, before, after)

    def movers(self, before: int, after: int, from_segment: str | None = None,
               to_segment: str | None = None) -> pd.DataFrame:
        """Customers whose segment differs between two snapshots (one cell of :meth:`migration` if named)."""
        return snapshots.movers_of(self.store, before, after, from_segment, to_segment)

"""The dedupe stage as a dataset handle carries it (``handle.dedupe``).

Thin methods over :mod:`segmentation.dedupe.review` (the workflow) with the
handle's dataset resolved once; :mod:`segmentation.dedupe.repository` is the
stage's only SQL executor. Operations return result dataclasses with
``to_dict()`` (the CLI's JSON).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

import pandas as pd

from ..activate.export import write_file
from ..core.stage import Stage
from ..customers.golden import Survivorship, rules_from_table, rules_table
from ..ingest.importer import read_pairs_file
from . import repository, review
from .matching import MatchSettings
from .review import DedupeSummary, MergeResult, PairReview, UnmergeResult

Pair = tuple[int, int]


def _pairs(pairs: Sequence[Pair] | pd.DataFrame | None) -> list[Pair] | None:
    if pairs is None:
        return None
    if isinstance(pairs, pd.DataFrame):
        return list(zip(pairs["left_row"].astype(int), pairs["right_row"].astype(int), strict=True))
    return [(int(a), int(b)) for a, b in pairs]


class DedupeStage(Stage):
    """Candidate pairs, review decisions, merges and golden-record rules of one dataset."""

    # -- matching ---------------------------------------------------------------
    def find(self, settings: MatchSettings | None = None, match_columns: Sequence[str] | None = None,
             progress: Callable[[float, str], None] | None = None) -> DedupeSummary:
        """Score candidate duplicate pairs and keep them (see :func:`review.find_pairs`)."""
        return review.find_pairs(self.store, self.dataset, settings,
                                 match_columns=list(match_columns) if match_columns else None,
                                 **({"progress": progress} if progress else {}))

    def last_run(self) -> DedupeSummary | None:
        """Figures of the last matching run, if any."""
        return review.last_run(self.store, self.dataset)

    def last_settings(self) -> MatchSettings | None:
        """The settings of the last matching run, if any."""
        saved = repository.run_settings(self.store, self.dataset)
        if saved is None:
            return None
        known = MatchSettings.__dataclass_fields__
        return MatchSettings(**{k: v for k, v in saved.items() if k in known})

    def last_run_time(self) -> str | None:
        """When the last matching run happened (text), if any."""
        return repository.run_time(self.store, self.dataset)

    # -- pairs and decisions ---------------------------------------------------------
    def pairs(self, status: str | None = None, undecided_only: bool = False, min_score: float = 0.0) -> pd.DataFrame:
        """Candidate pairs with their latest decision and record ids, best first."""
        return review.pairs_table(self.store, self.dataset, status=status, undecided_only=undecided_only,
                                  min_score=min_score)

    def waiting_for_review(self) -> int:
        """How many pairs wait for a person."""
        return review.waiting_for_review(self.store, self.dataset)

    def queue_size(self, status: str | None = "review") -> int:
        """How many pairs of ``status`` (``"review"``, ``"sure"``, None: all) wait for a decision."""
        return review.queue_size(self.store, self.dataset, status)

    def queue_pair(self, status: str | None = "review", position: int = 0) -> dict | None:
        """The pair at ``position`` of the undecided queue of ``status`` (wrapping around), or None."""
        return review.queue_pair(self.store, self.dataset, status, int(position))

    def pair_from_link(self, text: str) -> dict:
        """The pair a deep link ``?pair=LEFT-RIGHT`` names (record ids or row numbers); NotFoundError if none."""
        return review.pair_from_link(self.store, text, self.dataset)

    def score_sample(self, limit: int = 50_000) -> pd.DataFrame:
        """``score``, ``status`` of the candidate pairs, a repeatable sample of ``limit`` when there are more."""
        return review.score_sample(self.store, self.dataset, limit)

    def decide(self, pairs: Sequence[Pair] | pd.DataFrame, decision: str, source: str = "review") -> int:
        """Record ``"match"`` or ``"no_match"`` on pairs of row numbers; returns how many pairs."""
        return review.decide(self.store, _pairs(pairs) or [], decision, self.dataset, source=source)

    def rows_for_ids(self, pairs: pd.DataFrame) -> list[Pair]:
        """Row-number pairs of a frame of ``left_id``/``right_id`` record ids."""
        return review.rows_for_ids(self.store, pairs, self.dataset)

    def pairs_from_file(self, path: str | os.PathLike) -> list[Pair]:
        """Row-number pairs of a CSV of record-id pairs (``left_id,right_id``, as ``export_pairs`` writes)."""
        return self.rows_for_ids(read_pairs_file(path))

    def export_pairs(self, path: str | os.PathLike) -> str:
        """Write every candidate pair as ``left_id,right_id,score`` (CSV or XLSX by extension); returns the path."""
        return write_file(self.pairs()[["left_id", "right_id", "score"]], path)

    def pair_records(self, left_row: int, right_row: int) -> pd.DataFrame:
        """Two records side by side: ``field``, ``left``, ``right``, ``differs``."""
        return review.pair_records(self.store, int(left_row), int(right_row), self.dataset)

    def pair_review(self, left_row: int, right_row: int, levels: str | dict | None,
                    in_chain: bool = False) -> PairReview:
        """Evidence per comparison and the reasons the pair waits, in words (``levels``: the pair's, as
        :meth:`pairs` gives them; ``in_chain``: it links two parts of a chain)."""
        return review.pair_review(self.store, int(left_row), int(right_row), levels, self.dataset,
                                  in_chain=bool(in_chain))

    # -- merges ------------------------------------------------------------------
    def merge(self, above: float | None = None, pairs: Sequence[Pair] | pd.DataFrame | None = None,
              source: str = "review") -> MergeResult:
        """Merge decided pairs, ``pairs`` and (with ``above``) the candidate pairs scoring at least that."""
        return review.merge_records(self.store, self.dataset, above=above, pairs=_pairs(pairs), source=source)

    def unmerge(self, group: int | None = None, everything: bool = False) -> UnmergeResult:
        """Split one merge group again, or undo every merge."""
        return review.unmerge_records(self.store, self.dataset, group=None if group is None else int(group),
                                      everything=everything)

    def groups(self, limit: int | None = None) -> pd.DataFrame:
        """Active merge groups (the newest ``limit``): ``group_id``, ``created_at``, ``source``, ``records``,
        ``record_ids``."""
        return review.merge_groups(self.store, self.dataset, limit)

    def group_count(self) -> int:
        """How many active merge groups."""
        return review.group_count(self.store, self.dataset)

    def record_count(self) -> int:
        """Customers after merges."""
        return review.record_count(self.store, self.dataset)

    def audit_log(self, limit: int | None = None) -> pd.DataFrame:
        """Every decision and merge change (the newest ``limit``), newest first."""
        return review.audit_log(self.store, self.dataset, limit)

    # -- golden records -------------------------------------------------------------
    def survivorship(self) -> Survivorship:
        """The saved survivorship rules."""
        return review.saved_survivorship(self.store, self.dataset)

    def survivorship_table(self) -> pd.DataFrame:
        """``Column`` and ``Rule`` (its label) for every column: the saved rule, else the default."""
        return rules_table(self.dataset, self.survivorship())

    def save_survivorship(self, rules: dict[str, str] | pd.DataFrame) -> Survivorship:
        """Keep per-column rules (a dict column -> rule key, or a table like :meth:`survivorship_table`'s)."""
        if isinstance(rules, pd.DataFrame):
            rules = rules_from_table(rules)
        return review.save_survivorship(self.store, rules, self.dataset)

    def preview_golden(self, rows: Sequence[int], survivorship: Survivorship | None = None) -> pd.DataFrame:
        """The golden record that merging ``rows`` would give (nothing is written)."""
        return review.preview_golden(self.store, [int(r) for r in rows], self.dataset, survivorship)

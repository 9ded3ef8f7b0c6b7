"""Deduplication workflow: find pairs, decide, merge, undo (the logic, not the SQL).

The matching itself is :mod:`segmentation.dedupe.matching` (frames in, scored
pairs out); this module decides what to keep of its results and of every
decision, and which merge groups to write, in terms of calls to
:mod:`segmentation.dedupe.repository`, the stage's only SQL executor (the
statements are built by :mod:`segmentation.dedupe.sql`). Raw and normalised
rows are never changed: a merge is a group of row numbers, and undoing it
marks the group undone.

Merges, undos, decisions and saved rules are read-modify-writes: the read
that decides and the write happen in one transaction of the dataset, under
the store's write lock, so two sessions pressing the same button at once end
with the store one of them alone would have left.

The functions take the store and a dataset (its name, or its
:class:`~segmentation.core.store.Dataset` as a handle passes it); new code
calls them through ``handle.dedupe`` (:mod:`segmentation.dedupe.stage`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from ..core.errors import (
    MatchingError,
    MissingColumnsError,
    NotFoundError,
    SegmentStudioError,
    SettingError,
    check_choices,
)
from ..core.store import Dataset, Store, Transaction
from ..customers import repository as customers_repository
from ..customers.golden import RULES, Survivorship
from ..i18n import Message, message
from ..ingest.repository import DatasetsRepository
from . import repository
from .comparisons import default_comparisons
from .matching import Matcher, MatchSettings, consistent_groups, group_pairs
from .reasons import Evidence, evidence, reasons, sentence, shared_values
from .sql import ACTIVE_MEMBERS, LATEST_DECISIONS  # noqa: F401  (kept for the stages that still compose them)

Progress = Callable[[float, Message | str], None]
log = logging.getLogger(__name__)


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def _resolve(store: Store, dataset: str | Dataset | None) -> Dataset:
    """``dataset`` itself when a handle passed its description, else looked up by name (newest if None)."""
    return dataset if isinstance(dataset, Dataset) else DatasetsRepository(store).dataset(dataset or None)


@dataclass
class DedupeSummary:
    """What a matching run found (the CLI's JSON and the page's figures)."""

    records: int
    pairs_compared: int
    candidate_pairs: int
    sure_matches: int
    to_review: int
    blocks: int = 0
    blocks_capped: int = 0
    note: str = ""

    def to_dict(self) -> dict:
        """The ``dedupe`` command's JSON."""
        return {"records": self.records, "pairs_compared": self.pairs_compared,
                "candidate_pairs": self.candidate_pairs, "sure_matches": self.sure_matches,
                "to_review": self.to_review, "blocks_capped": self.blocks_capped}


@dataclass(frozen=True)
class MergeResult:
    """What a merge did: groups created or grown, customers before and after, groups split by a decision."""

    groups_merged: int
    records_before: int
    records_after: int
    refused_chains: int = 0

    def to_dict(self) -> dict:
        """The ``merge`` command's JSON."""
        return asdict(self)


@dataclass(frozen=True)
class UnmergeResult:
    """Customers after an undo."""

    records_after: int

    def to_dict(self) -> dict:
        """The ``unmerge`` command's JSON."""
        return asdict(self)


def find_pairs(store: Store, dataset: str | Dataset | None = None, settings: MatchSettings | None = None,
               match_columns: list[str] | None = None, progress: Progress = _no_progress) -> DedupeSummary:
    """Score candidate duplicate pairs of a dataset and keep them in the store.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str or Dataset, optional
        Customers dataset (the most recent one by default).
    settings : MatchSettings, optional
        Thresholds and blocking limits.
    match_columns : list of str, optional
        Compare only these columns (by their roles); default every column
        whose role has a comparison.
    progress : callable, optional
        Called with a fraction in 0..1 and a message.
    """
    ds = _resolve(store, dataset)
    settings = settings or MatchSettings()
    roles = dict(ds.roles)
    if match_columns:
        missing = [c for c in match_columns if c not in ds.columns]
        if missing:
            raise MissingColumnsError(missing, ds.columns)
        roles = {c: ds.roles[c] for c in match_columns}
        roles.update({c: r for c, r in ds.roles.items() if r == "id"})
    progress(0.1, message("Reading customers"))
    frame = repository.records(store, ds, list(roles))
    step = "comparing records"
    try:  # the store is written only at the end: a failure here leaves it as it was
        progress(0.3, message("Comparing records"))
        matcher = Matcher(settings, roles=roles).fit(frame)
        pairs = matcher.predict(frame)
        step = "checking groups of more than two"
        progress(0.75, message("Checking groups of more than two"))
        pairs, in_chains = _check_chains(matcher, frame, pairs, settings)
    except SegmentStudioError:
        raise
    except Exception as exc:  # an unexpected failure becomes one clear error
        log.debug("Matching failed on dataset %r while %s", ds.name, step, exc_info=True)  # CLI: one line
        raise MatchingError(ds.name, step, roles, exc) from exc
    status = np.where((pairs["score"] >= settings.upper) & ~in_chains, "sure", "review")
    level_cols = [c for c in pairs.columns if c not in ("left", "right", "score", "weight")]
    stored = pd.DataFrame({
        "dataset_id": ds.id, "left_row": pairs["left"].astype("int64"), "right_row": pairs["right"].astype("int64"),
        "score": pairs["score"].astype(float), "status": status, "in_chain": in_chains,
        "levels": pairs[level_cols].astype(int).to_json(orient="records", lines=True).splitlines()
        if len(pairs) else [],
    })
    stats = dict(getattr(matcher, "stats_", {}))
    summary = DedupeSummary(
        records=len(frame), pairs_compared=int(stats.get("pairs_compared", len(pairs))),
        candidate_pairs=len(pairs), sure_matches=int((status == "sure").sum()),
        to_review=int((status == "review").sum()), blocks=int(stats.get("blocks", 0)),
        blocks_capped=int(stats.get("blocks_capped", 0)), note=str(stats.get("note", "")))
    progress(0.9, message("Saving pairs"))
    repository.save_run(store, ds, stored, asdict(settings), asdict(summary))
    progress(1.0, message("Done"))
    return summary


def _check_chains(matcher, frame: pd.DataFrame, pairs: pd.DataFrame, settings: MatchSettings):
    """Compare the members of every group of sure matches that no pair compared (A~B~C: A with C).

    Returns the pairs with those new comparisons added (from ``settings.lower``), and a mask of the pairs
    that join two parts of a chain (see :func:`segmentation.dedupe.matching.group_pairs`): the conflicting links,
    which go to review instead of being merged, while each consistent part merges.
    """
    scored: list[pd.DataFrame] = []

    def rescore(left, right):
        found = matcher.score_pairs(frame, left, right)
        scored.append(found)
        return found["score"].to_numpy()

    groups, refused = group_pairs(pairs, frame.index, settings, rescore=rescore)
    extra = [f[f["score"] >= settings.lower] for f in scored]
    pairs = pairs.assign(_extra=False)
    if any(len(f) for f in extra):
        pairs = pd.concat([pairs, *(f.assign(_extra=True) for f in extra)], ignore_index=True)
        pairs = pairs.drop_duplicates(["left", "right"])
        pairs = pairs.sort_values(["score", "left", "right"], ascending=[False, True, True], ignore_index=True)
    refused_keys = pd.MultiIndex.from_frame(refused[["left", "right"]])
    in_chains = pd.MultiIndex.from_frame(pairs[["left", "right"]]).isin(refused_keys)
    # A new comparison is within one chain: a conflicting link unless both records ended in one part.
    same = groups.reindex(pairs["left"]).to_numpy() == groups.reindex(pairs["right"]).to_numpy()
    in_chains |= pairs["_extra"].to_numpy(bool) & ~same
    return pairs.drop(columns="_extra"), in_chains


def pairs_table(store: Store, dataset: str | Dataset | None = None, status: str | None = None,
                undecided_only: bool = False, min_score: float = 0.0) -> pd.DataFrame:
    """Candidate pairs with their latest decision and the record ids, best first.

    Returns
    -------
    pandas.DataFrame
        ``left_row``, ``right_row``, ``left_id``, ``right_id``, ``score``,
        ``status`` (sure/review), ``decision`` (match/no_match or None),
        ``levels`` (JSON of comparison levels).
    """
    return repository.pairs_table(store, _resolve(store, dataset), status, undecided_only, min_score)


def waiting_for_review(store: Store, dataset: str | Dataset | None = None) -> int:
    """How many pairs wait for a person: to review, undecided, not already in one customer."""
    return repository.waiting_for_review(store, _resolve(store, dataset))


def _pair_frame(pairs: list[tuple[int, int]]) -> pd.DataFrame:
    return pd.DataFrame([(min(int(a), int(b)), max(int(a), int(b))) for a, b in pairs],
                        columns=["left_row", "right_row"]).astype("int64")


def _check_decision(decision: str) -> None:
    if decision not in ("match", "no_match"):
        raise SettingError("decision", decision, "'match' or 'no_match'")


def decide(store: Store, pairs: list[tuple[int, int]], decision: str, dataset: str | Dataset | None = None,
           source: str = "review") -> int:
    """Record a decision (``"match"`` or ``"no_match"``) on pairs of row numbers; returns how many pairs.

    A pair whose standing decision is already ``decision`` is not logged
    again (two people deciding the same pair at once leave one decision).
    """
    _check_decision(decision)
    ds = _resolve(store, dataset)
    if not pairs:
        return 0
    frame = _pair_frame(pairs)
    with repository.writing(store, ds, records=False) as tx:  # decisions alone: no merge, no rule
        repository.insert_decisions(tx, ds, frame, decision, source, datetime.now())
    return len(frame)


def rows_for_ids(store: Store, pairs: pd.DataFrame, dataset: str | Dataset | None = None) -> list[tuple[int, int]]:
    """Translate ``left_id``/``right_id`` record ids (as in a CSV) to row-number pairs."""
    ds = _resolve(store, dataset)
    ids = ds.columns_with_role("id")
    if not ids:
        return [(int(a), int(b)) for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True)]
    index = repository.id_lookup(store, ds, ids[0])
    unknown = sorted({str(v) for v in pd.concat([pairs["left_id"], pairs["right_id"]]) if str(v) not in index})
    if unknown:
        raise NotFoundError(f"Unknown record ids {unknown[:10]}{' …' if len(unknown) > 10 else ''} "
                            f"in column {ids[0]!r} of dataset {ds.name!r}.")
    return [(int(index[str(a)]), int(index[str(b)])) for a, b in zip(pairs["left_id"], pairs["right_id"],
                                                                      strict=True)]


def record_count(store: Store, dataset: str | Dataset | None = None) -> int:
    """Customers after merges (golden records)."""
    return repository.record_count(store, _resolve(store, dataset))


def merge_records(store: Store, ds: Dataset, above: float | None = None, pairs: list[tuple[int, int]] | None = None,
                  source: str = "review") -> MergeResult:
    """Merge accepted pairs into groups; links that would chain records told apart are refused.

    The edges are: pairs decided ``match``, plus, with ``above``, every
    candidate pair scoring at least ``above`` that nobody rejected and that
    does not join two parts of a chain (``in_chain``), plus ``pairs`` (row
    numbers), recorded as decided. Records already merged keep their group
    (its id does not change when records join it). Where a person decided
    that two records of one resulting group are different customers
    (``no_match``), the group is split as :func:`find_pairs` splits chains
    (:func:`segmentation.dedupe.matching.consistent_groups`): existing groups stay
    whole, then decided pairs and then the others by descending score join
    two parts unless a rejected pair lies across them; the refused links are
    not merged.

    Everything (the count before, the decisions, the current groups, the
    writes, the count after) happens in one transaction of the dataset: two
    sessions merging the same pair at once leave one group, as one would.
    """
    with repository.writing(store, ds) as tx:
        before = repository.record_count(tx, ds)
        if pairs:
            repository.insert_decisions(tx, ds, _pair_frame(pairs), "match", source, datetime.now())
        edges = repository.merge_edges(tx, ds, above)
        current = repository.active_members(tx, ds)
        # Records already in a group are tied to it through its first member.
        anchors = current.groupby("group_id")["row"].transform("min")
        links = pd.concat([edges.rename(columns={"left_row": "a", "right_row": "b"}).assign(forced=False),
                           pd.DataFrame({"a": anchors, "b": current["row"], "priority": 3.0, "forced": True})],
                          ignore_index=True)
        if links.empty:
            return MergeResult(0, before, before, 0)
        accepted, refused = _chain_guard(links, repository.rejected_pairs(tx, ds))
        created = _write_groups(tx, ds, accepted, current, source)
        after = repository.record_count(tx, ds)
    return MergeResult(created, before, after, refused)


def merge(store: Store, dataset: str | Dataset | None = None, above: float | None = None,
          pairs: list[tuple[int, int]] | None = None, source: str = "review") -> dict:
    """:func:`merge_records` on a dataset named (or passed); returns its figures as a dict.

    Returns
    -------
    dict
        ``groups_merged`` (groups created or grown), ``records_before``,
        ``records_after``, ``refused_chains`` (groups that were split because
        a person told two of their records apart).
    """
    return merge_records(store, _resolve(store, dataset), above=above, pairs=pairs, source=source).to_dict()


def _chain_guard(links: pd.DataFrame, rejected: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Groups of the linked rows, split where a person said two members are different customers.

    Chains that matching found (A~B~C with A and C clearly different) are
    already split by :func:`find_pairs`, whose conflicting links are flagged
    ``in_chain`` and never merged in bulk; this guard keeps decisions of
    different people from joining two customers that someone told apart,
    with the same logic (:func:`segmentation.dedupe.matching.consistent_groups`).

    Parameters
    ----------
    links : pandas.DataFrame
        ``a``, ``b`` (row numbers), ``priority`` (higher first) and
        ``forced`` (ties to an existing group, never refused).
    rejected : pandas.DataFrame
        ``a``, ``b``: the pairs decided ``no_match``.

    Returns
    -------
    accepted : pandas.DataFrame
        ``row``, ``comp``: the rows of each group of two or more.
    refused : int
        Components that were split.
    """
    nodes = pd.Index(np.unique(links[["a", "b"]].to_numpy().astype("int64")))
    ra, rb = nodes.get_indexer(rejected["a"]), nodes.get_indexer(rejected["b"])
    linked = (ra >= 0) & (rb >= 0)
    component, core = consistent_groups(len(nodes), nodes.get_indexer(links["a"]), nodes.get_indexer(links["b"]),
                                        links["priority"].to_numpy(float), ra[linked], rb[linked],
                                        links["forced"].to_numpy(bool))
    keep = np.bincount(core)[core] >= 2
    refused = int((pd.Series(core).groupby(component).nunique() > 1).sum())
    return pd.DataFrame({"row": nodes.to_numpy()[keep], "comp": core[keep]}), refused


def _write_groups(tx: Transaction, ds: Dataset, comp: pd.DataFrame, current: pd.DataFrame, source: str) -> int:
    """Write the accepted components inside the merge's transaction, set-wise (a statement per table).

    A component without a group becomes a new group; new records join the
    component's oldest group; when a component spans several groups, the
    oldest id survives and the others are closed.
    """
    if comp.empty:
        return 0
    frame = comp[["row", "comp"]].merge(current.rename(columns={"group_id": "group"}), on="row", how="left")
    frame["_new"] = frame["group"].isna().astype("int64")  # vectorised: no Python call per group
    per_comp = frame.groupby("comp").agg(keep=("group", "min"), groups=("group", "nunique"), new=("_new", "sum"))
    changed = per_comp[(per_comp["new"] > 0) | (per_comp["groups"] > 1)].copy()
    if changed.empty:
        return 0
    fresh = changed.index[changed["keep"].isna()]
    new_ids = repository.new_group_ids(tx, len(fresh)) if len(fresh) else []
    if len(fresh):
        changed.loc[fresh, "keep"] = new_ids
    changed["keep"] = changed["keep"].astype("int64")
    frame = frame[frame["comp"].isin(changed.index)].assign(keep=lambda f: f["comp"].map(changed["keep"]))
    joiners = frame.loc[frame["group"].isna(), ["keep", "row"]].astype("int64")
    absorbed = frame.loc[frame["group"].notna() & (frame["group"] != frame["keep"]), ["group", "keep"]]
    absorbed = absorbed.drop_duplicates().astype("int64")
    repository.write_groups(tx, ds, new_ids, absorbed, joiners, source, datetime.now())
    return len(changed)


def unmerge_records(store: Store, ds: Dataset, group: int | None = None, everything: bool = False) -> UnmergeResult:
    """Split one merge group again (or all of them); the records come back exactly as they were.

    The check that the group is active, the undo and the count after are one transaction of the dataset.
    """
    if group is None and not everything:
        raise SettingError("group", group, "a merge group to split, or everything=True to undo every merge")
    with repository.writing(store, ds) as tx:
        now = datetime.now()
        if everything:
            repository.close_all_groups(tx, ds, now)
        else:
            if not repository.is_active_group(tx, ds, int(group)):
                raise NotFoundError(f"No active merge group {group} in dataset {ds.name!r}.")
            repository.close_group(tx, ds, int(group), now)
        after = repository.record_count(tx, ds)
    return UnmergeResult(after)


def unmerge(store: Store, dataset: str | Dataset | None = None, group: int | None = None,
            everything: bool = False) -> dict:
    """:func:`unmerge_records` on a dataset named (or passed); returns ``{"records_after": ...}``."""
    return unmerge_records(store, _resolve(store, dataset), group=group, everything=everything).to_dict()


def merge_groups(store: Store, dataset: str | Dataset | None = None, limit: int | None = None) -> pd.DataFrame:
    """Active merge groups with their members' record ids (the newest ``limit`` groups, in id order)."""
    return repository.merge_groups(store, _resolve(store, dataset), limit)


def group_count(store: Store, dataset: str | Dataset | None = None) -> int:
    """How many active merge groups the dataset has."""
    return repository.group_count(store, _resolve(store, dataset))


def audit_log(store: Store, dataset: str | Dataset | None = None, limit: int | None = None) -> pd.DataFrame:
    """Every decision and merge change (the newest ``limit``), newest first."""
    return repository.audit_log(store, _resolve(store, dataset), limit)


def saved_survivorship(store: Store, dataset: str | Dataset | None = None) -> Survivorship:
    """The survivorship rules the user chose for a dataset (defaults for the other columns)."""
    return repository.survivorship(store, _resolve(store, dataset))


def save_survivorship(store: Store, rules: dict[str, str], dataset: str | Dataset | None = None) -> Survivorship:
    """Keep per-column survivorship rules; every later golden record and export uses them.

    Checked, then replaced and read back in one transaction of the dataset.
    """
    ds = _resolve(store, dataset)
    check_choices(rules, ds.columns, RULES, "rules")
    with repository.writing(store, ds) as tx:
        repository.replace_survivorship(tx, ds, dict(rules))
        return repository.survivorship(tx, ds)


def golden_rows(store: Store, dataset: str | Dataset | None = None, survivorship: Survivorship | None = None,
                limit: int | None = None) -> pd.DataFrame:
    """One row per customer after merges (see :func:`segmentation.customers.golden.golden_sql`).

    ``survivorship`` defaults to the rules saved for the dataset. Kept for the
    stages not yet on ``handle.customers.golden_rows``.
    """
    return customers_repository.golden_rows(store, _resolve(store, dataset), survivorship, limit=limit)


def has_merges(store: Store, dataset: str | Dataset | None = None) -> bool:
    """Whether the dataset has any active merge group."""
    return repository.has_merges(store, _resolve(store, dataset))


def pair_records(store: Store, left_row: int, right_row: int, dataset: str | Dataset | None = None) -> pd.DataFrame:
    """Two records side by side: ``field``, ``left``, ``right``, ``differs`` (normalised values)."""
    ds = _resolve(store, dataset)
    rows = repository.two_records(store, ds, left_row, right_row)
    if len(rows) != 2:
        raise NotFoundError(f"Rows {left_row} and {right_row} are not both in dataset {ds.name!r}.")
    left, right = rows.iloc[0][ds.columns], rows.iloc[1][ds.columns]
    as_text = lambda v: "" if pd.isna(v) else str(v)  # noqa: E731
    frame = pd.DataFrame({"field": ds.columns, "left": [as_text(v) for v in left],
                          "right": [as_text(v) for v in right]})
    frame["differs"] = frame["left"].str.casefold() != frame["right"].str.casefold()
    return frame


def queue_size(store: Store, dataset: str | Dataset | None = None, status: str | None = "review") -> int:
    """How many pairs of ``status`` (None: any) wait for a decision: undecided, not already in one customer."""
    return repository.waiting_for_review(store, _resolve(store, dataset), status)


def queue_pair(store: Store, dataset: str | Dataset | None = None, status: str | None = "review",
               position: int = 0) -> dict | None:
    """The pair at ``position`` (0 first; past the end wraps around) of the undecided queue of ``status``.

    Returns a dict as a row of :func:`pairs_table` (``left_row``, ``right_row``, ``left_id``, ``right_id``,
    ``score``, ``status``, ``decision``, ``levels``, ``in_chain``), or None when nothing waits.
    """
    ds = _resolve(store, dataset)
    size = repository.waiting_for_review(store, ds, status)
    if not size:
        return None
    found = repository.queue_pair(store, ds, status, int(position) % size)
    return _pair_dict(found)


def _pair_dict(frame: pd.DataFrame) -> dict | None:
    if frame.empty:
        return None
    row = frame.iloc[0].to_dict()
    for key in ("left_row", "right_row"):
        row[key] = int(row[key])
    row["score"], row["in_chain"] = float(row["score"]), bool(row["in_chain"])
    row["decision"] = None if pd.isna(row["decision"]) else str(row["decision"])
    return row


def pair_from_link(store: Store, text: str, dataset: str | Dataset | None = None) -> dict:
    """The candidate pair a deep link names: ``LEFT-RIGHT``, two record ids (or row numbers), in either order.

    Ids may hold ``-`` themselves: every split of ``text`` at a ``-`` is tried. Raises
    :class:`~segmentation.core.errors.NotFoundError` when no split names a pair of the last run.
    """
    ds = _resolve(store, dataset)
    text = str(text or "").strip()
    splits = [(text[:i].strip(), text[i + 1:].strip()) for i, ch in enumerate(text) if ch == "-"]
    splits = [(a, b) for a, b in splits if a and b]
    known = repository.rows_of_ids(store, ds, sorted({part for pair in splits for part in pair}))
    for a, b in splits:
        candidates = [(known[a], known[b])] if a in known and b in known else []
        if a.isdigit() and b.isdigit():  # row numbers, as the pair's caption falls back to without ids
            candidates.append((int(a), int(b)))
        for left, right in candidates:
            found = _pair_dict(repository.pair(store, ds, left, right))
            if found:
                return found
    raise NotFoundError(f"No candidate pair {text!r} in dataset {ds.name!r}: expected two record ids joined by "
                        "'-' (as in ?pair=A12-A57) of a pair that the last 'Find duplicates' kept.")


def score_sample(store: Store, dataset: str | Dataset | None = None, limit: int = 50_000) -> pd.DataFrame:
    """``score`` and ``status`` of the candidate pairs (a repeatable sample of ``limit`` when there are more)."""
    return repository.score_sample(store, _resolve(store, dataset), int(limit))


@dataclass(frozen=True)
class PairReview:
    """What the review shows about one pair: the evidence per comparison and the reasons it waits, in words.

    ``evidence`` and ``reasons`` hold :class:`segmentation.i18n.Message` texts
    (see :mod:`segmentation.dedupe.reasons`) that the page renders in the
    user's language; ``to_dict()`` gives them in English.
    """

    left_row: int
    right_row: int
    evidence: tuple[Evidence, ...]
    reasons: tuple[Message, ...]

    @property
    def why(self) -> Message:
        """The reasons as one line: ``same name, birth dates 3 years apart``."""
        return sentence(self.reasons)

    def to_dict(self) -> dict:
        return {"left_row": self.left_row, "right_row": self.right_row, "reasons": [str(r) for r in self.reasons],
                "evidence": [e.to_dict() for e in self.evidence]}


def _levels(levels_json: str | dict | None) -> dict[str, int]:
    levels = json.loads(levels_json) if isinstance(levels_json, str) and levels_json else (levels_json or {})
    return {str(k): int(v) for k, v in levels.items() if v is not None}


def pair_review(store: Store, left_row: int, right_row: int, levels_json: str | dict | None,
                dataset: str | Dataset | None = None, in_chain: bool = False) -> PairReview:
    """The evidence and the reasons in words for one pair (its ``levels`` as :func:`pairs_table` gives them).

    Missing (a side has no value) is told from not compared (both have one that the comparison left aside)
    and from different by the two records themselves; agreeing on a value that many records share (a
    switchboard phone) is named with the count of records that hold it.
    """
    ds = _resolve(store, dataset)
    rows = repository.two_records(store, ds, int(left_row), int(right_row))
    if len(rows) != 2:
        raise NotFoundError(f"Rows {left_row} and {right_row} are not both in dataset {ds.name!r}.")
    left, right = rows.iloc[0].to_dict(), rows.iloc[1].to_dict()
    levels = _levels(levels_json)
    comparisons = [c for c in default_comparisons(ds.roles) if c.name in levels]
    wanted = shared_values(comparisons, levels, left, right)
    shared = repository.count_shared(store, ds, wanted) if wanted else {}
    found = evidence(comparisons, levels, left, right, shared)
    return PairReview(int(left_row), int(right_row), tuple(found), tuple(reasons(found, in_chain=bool(in_chain))))


def preview_golden(store: Store, rows: list[int], dataset: str | Dataset | None = None,
                   survivorship: Survivorship | None = None) -> pd.DataFrame:
    """The golden record that merging ``rows`` would give (nothing is written)."""
    ds = _resolve(store, dataset)
    return repository.preview_golden(store, ds, rows, survivorship or repository.survivorship(store, ds))


def last_run(store: Store, dataset: str | Dataset | None = None) -> DedupeSummary | None:
    """Figures of the dataset's last matching run, if any."""
    stats = repository.run_stats(store, _resolve(store, dataset))
    return DedupeSummary(**stats) if stats else None

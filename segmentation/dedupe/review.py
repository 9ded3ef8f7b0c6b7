"""Deduplication workflow over the store: find pairs, decide, merge, undo, golden records.

The matching itself is :mod:`segmentation.matching` (frames in, scored pairs
out); this module keeps its results and every decision in the store, so a
reload or a second tab loses nothing, and builds golden records with
:mod:`segmentation.golden`. Raw and normalised rows are never changed: a merge
is a group of row numbers, and undoing it marks the group undone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import ColumnError, NotFoundError, check_choices
from ..core.store import Dataset, Store, quote
from ..customers.golden import RULES, Survivorship, golden_sql

if TYPE_CHECKING:
    from .matching import MatchSettings

Progress = Callable[[float, str], None]

ACTIVE_MEMBERS = ("SELECT mm.row, mm.group_id FROM merge_members mm JOIN merge_groups g ON g.id = mm.group_id "
                  "WHERE g.dataset_id = {id} AND g.undone_at IS NULL")
# The decision that stands for each pair: the latest one (the log keeps them all).
LATEST_DECISIONS = ("SELECT left_row, right_row, arg_max(decision, decided_at) AS decision FROM decisions "
                    "WHERE dataset_id = {id} GROUP BY ALL")


def _no_progress(_fraction: float, _message: str) -> None:
    return None


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


def _customers(store: Store, ds: Dataset, columns: list[str]) -> pd.DataFrame:
    frame = store.read_table(ds.clean_table, ["_row", *columns])
    return frame.set_index("_row")


def find_pairs(store: Store, dataset: str | None = None, settings: MatchSettings | None = None,
               match_columns: list[str] | None = None, progress: Progress = _no_progress) -> DedupeSummary:
    """Score candidate duplicate pairs of a dataset and keep them in the store.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str, optional
        Customers dataset (the most recent one by default).
    settings : MatchSettings, optional
        Thresholds and blocking limits.
    match_columns : list of str, optional
        Compare only these columns (by their roles); default every column
        whose role has a comparison.
    progress : callable, optional
        Called with a fraction in 0..1 and a message.
    """
    from .matching import Matcher, MatchSettings  # the heavy part, needed only here

    ds = store.dataset(dataset or None)
    settings = settings or MatchSettings()
    roles = dict(ds.roles)
    if match_columns:
        missing = [c for c in match_columns if c not in ds.columns]
        if missing:
            raise ColumnError(f"Missing columns {missing}; found {ds.columns}")
        roles = {c: ds.roles[c] for c in match_columns}
        roles.update({c: r for c, r in ds.roles.items() if r == "id"})
    progress(0.1, "Reading customers")
    frame = _customers(store, ds, list(roles))
    progress(0.3, "Comparing records")
    matcher = Matcher(settings, roles=roles).fit(frame)
    pairs = matcher.predict(frame)
    progress(0.75, "Checking groups of more than two")
    pairs, in_chains = _check_chains(matcher, frame, pairs, settings)
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
    progress(0.9, "Saving pairs")
    with store.transaction() as tx:
        tx.execute("DELETE FROM match_pairs WHERE dataset_id = ?", [ds.id])
        tx.register("_pairs", stored)
        tx.execute("INSERT INTO match_pairs SELECT dataset_id, left_row, right_row, score, status, "
                   "CAST(levels AS JSON), in_chain FROM _pairs")
        tx.unregister("_pairs")
        tx.execute("INSERT OR REPLACE INTO match_runs VALUES (?, ?, ?, ?)",
                   [ds.id, datetime.now(), json.dumps(asdict(settings), default=str),
                    json.dumps(asdict(summary))])
    progress(1.0, "Done")
    return summary


def _check_chains(matcher, frame: pd.DataFrame, pairs: pd.DataFrame, settings: MatchSettings):
    """Compare the members of every group of sure matches that no pair compared (A~B~C: A with C).

    Returns the pairs with those new comparisons added (from ``settings.lower``), and a mask of the pairs
    that join two parts of a chain (see :func:`segmentation.dedupe.matching.group_pairs`): the conflicting links,
    which go to review instead of being merged, while each consistent part merges.
    """
    from .matching import group_pairs

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


def _id_column(ds: Dataset) -> str | None:
    ids = ds.columns_with_role("id")
    return ids[0] if ids else None


def _pairs_sql(ds: Dataset, status: str | None, undecided_only: bool, min_score: float) -> tuple[str, str, list]:
    """``WITH ... FROM match_pairs p ...`` with the pair's decision ``d`` and groups ``gl``/``gr`` joined, and the
    ``WHERE`` condition that picks the pairs, with its parameters."""
    where = ["p.dataset_id = ?", "p.score >= ?"]
    params: list = [ds.id, min_score]
    if status:
        where.append("p.status = ?")
        params.append(status)
    if undecided_only:  # nor already in one customer (merged in bulk, or an earlier run)
        where.append("coalesce(d.decision, 'undone') = 'undone' AND NOT coalesce(gl.group_id = gr.group_id, false)")
    source = (f"WITH d AS ({LATEST_DECISIONS.format(id=int(ds.id))}), g AS ({ACTIVE_MEMBERS.format(id=int(ds.id))}) "
              "{select} FROM match_pairs p LEFT JOIN d USING (left_row, right_row) "
              "LEFT JOIN g gl ON gl.row = p.left_row LEFT JOIN g gr ON gr.row = p.right_row")
    return source, " AND ".join(where), params


def pairs_table(store: Store, dataset: str | None = None, status: str | None = None,
                undecided_only: bool = False, min_score: float = 0.0) -> pd.DataFrame:
    """Candidate pairs with their latest decision and the record ids, best first.

    Returns
    -------
    pandas.DataFrame
        ``left_row``, ``right_row``, ``left_id``, ``right_id``, ``score``,
        ``status`` (sure/review), ``decision`` (match/no_match or None),
        ``levels`` (JSON of comparison levels).
    """
    ds = store.dataset(dataset or None)
    idc = _id_column(ds)
    id_expr = (lambda side: f"CAST({side}.{quote(idc)} AS VARCHAR)") if idc else \
        (lambda side: f"CAST({side}._row AS VARCHAR)")
    source, where, params = _pairs_sql(ds, status, undecided_only, min_score)
    select = (f"SELECT p.left_row, p.right_row, {id_expr('l')} AS left_id, {id_expr('r')} AS right_id, p.score, "
              "p.status, d.decision, CAST(p.levels AS VARCHAR) AS levels")
    return store.query_df(
        f"{source.format(select=select)} JOIN {ds.clean_table} l ON l._row = p.left_row "
        f"JOIN {ds.clean_table} r ON r._row = p.right_row WHERE {where} "
        f"ORDER BY p.score DESC, p.left_row, p.right_row", params)


def waiting_for_review(store: Store, dataset: str | None = None) -> int:
    """How many pairs wait for a person: to review, undecided, not already in one customer."""
    ds = store.dataset(dataset or None)
    source, where, params = _pairs_sql(ds, "review", True, 0.0)
    return int(store.query_value(f"{source.format(select='SELECT count(*)')} WHERE {where}", params))


def decide(store: Store, pairs: list[tuple[int, int]], decision: str, dataset: str | None = None,
           source: str = "review") -> int:
    """Record a decision (``"match"`` or ``"no_match"``) on pairs of row numbers; returns how many."""
    if decision not in ("match", "no_match"):
        raise ValueError(f"decision must be 'match' or 'no_match', got {decision!r}")
    ds = store.dataset(dataset or None)
    if not pairs:
        return 0
    frame = pd.DataFrame([(min(a, b), max(a, b)) for a, b in pairs], columns=["left_row", "right_row"])
    now = datetime.now()
    with store.transaction() as tx:
        tx.register("_decided", frame)
        tx.execute("INSERT INTO decisions SELECT ?, d.left_row, d.right_row, ?, p.score, ?, ? FROM _decided d "
                   "LEFT JOIN match_pairs p ON p.dataset_id = ? AND p.left_row = d.left_row "
                   "AND p.right_row = d.right_row", [ds.id, decision, now, source, ds.id])
        tx.unregister("_decided")
    return len(frame)


def rows_for_ids(store: Store, pairs: pd.DataFrame, dataset: str | None = None) -> list[tuple[int, int]]:
    """Translate ``left_id``/``right_id`` record ids (as in a CSV) to row-number pairs."""
    ds = store.dataset(dataset or None)
    idc = _id_column(ds)
    if idc is None:
        return [(int(a), int(b)) for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True)]
    lookup = store.query_df(f"SELECT CAST({quote(idc)} AS VARCHAR) AS id, _row FROM {ds.clean_table}")
    index = dict(zip(lookup["id"], lookup["_row"], strict=True))
    unknown = sorted({str(v) for v in pd.concat([pairs["left_id"], pairs["right_id"]]) if str(v) not in index})
    if unknown:
        raise NotFoundError(f"Unknown record ids {unknown[:10]}{' …' if len(unknown) > 10 else ''} "
                            f"in column {idc!r} of dataset {ds.name!r}.")
    return [(int(index[str(a)]), int(index[str(b)])) for a, b in zip(pairs["left_id"], pairs["right_id"],
                                                                      strict=True)]


def record_count(store: Store, dataset: str | None = None) -> int:
    """Customers after merges (golden records)."""
    ds = store.dataset(dataset or None)
    merged = store.query_value(
        f"SELECT coalesce(count(*) - count(DISTINCT group_id), 0) FROM ({ACTIVE_MEMBERS.format(id=ds.id)})")
    return ds.row_count - int(merged or 0)


def merge(store: Store, dataset: str | None = None, above: float | None = None,
          pairs: list[tuple[int, int]] | None = None, source: str = "review") -> dict:
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

    Returns
    -------
    dict
        ``groups_merged`` (groups created or grown), ``records_before``,
        ``records_after``, ``refused_chains`` (groups that were split because
        a person told two of their records apart).
    """
    ds = store.dataset(dataset or None)
    before = record_count(store, ds.name)
    if pairs:
        decide(store, pairs, "match", ds.name, source=source)
    edges = store.query_df(
        f"WITH d AS ({LATEST_DECISIONS.format(id=int(ds.id))}) "
        "SELECT left_row, right_row, 2.0 AS priority FROM d WHERE decision = 'match' "  # a person's word first
        # Pairs someone rejected, or whose merge was undone, are not merged again without a person.
        "UNION ALL SELECT p.left_row, p.right_row, p.score FROM match_pairs p LEFT JOIN d USING (left_row, right_row) "
        "WHERE p.dataset_id = ? AND p.score >= ? AND d.decision IS NULL AND NOT p.in_chain",
        [ds.id, above if above is not None else 2.0])
    current = store.query_df(ACTIVE_MEMBERS.format(id=ds.id))
    # Records already in a group are tied to it through its first member.
    anchors = current.groupby("group_id")["row"].transform("min")
    links = pd.concat([edges.rename(columns={"left_row": "a", "right_row": "b"}).assign(forced=False),
                       pd.DataFrame({"a": anchors, "b": current["row"], "priority": 3.0, "forced": True})],
                      ignore_index=True)
    if links.empty:
        return {"groups_merged": 0, "records_before": before, "records_after": before, "refused_chains": 0}
    accepted, refused = _chain_guard(store, ds, links)
    created = _write_groups(store, ds, accepted, current, source)
    after = record_count(store, ds.name)
    return {"groups_merged": created, "records_before": before, "records_after": after, "refused_chains": refused}


def _chain_guard(store: Store, ds: Dataset, links: pd.DataFrame) -> tuple[pd.DataFrame, int]:
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

    Returns
    -------
    accepted : pandas.DataFrame
        ``row``, ``comp``: the rows of each group of two or more.
    refused : int
        Components that were split.
    """
    from .matching import consistent_groups

    nodes = pd.Index(np.unique(links[["a", "b"]].to_numpy().astype("int64")))
    rejected = store.query_df(
        f"SELECT left_row AS a, right_row AS b FROM ({LATEST_DECISIONS.format(id=int(ds.id))}) "
        "WHERE decision = 'no_match'")
    ra, rb = nodes.get_indexer(rejected["a"]), nodes.get_indexer(rejected["b"])
    linked = (ra >= 0) & (rb >= 0)
    component, core = consistent_groups(len(nodes), nodes.get_indexer(links["a"]), nodes.get_indexer(links["b"]),
                                        links["priority"].to_numpy(float), ra[linked], rb[linked],
                                        links["forced"].to_numpy(bool))
    keep = np.bincount(core)[core] >= 2
    refused = int((pd.Series(core).groupby(component).nunique() > 1).sum())
    return pd.DataFrame({"row": nodes.to_numpy()[keep], "comp": core[keep]}), refused


def _write_groups(store: Store, ds: Dataset, comp: pd.DataFrame, current: pd.DataFrame, source: str) -> int:
    """Write the accepted components in one transaction, set-wise (a statement per table, not per group).

    A component without a group becomes a new group; new records join the
    component's oldest group; when a component spans several groups, the
    oldest id survives and the others are closed.
    """
    if comp.empty:
        return 0
    frame = comp[["row", "comp"]].merge(current.rename(columns={"group_id": "group"}), on="row", how="left")
    per_comp = frame.groupby("comp").agg(keep=("group", "min"), groups=("group", "nunique"),
                                         new=("group", lambda g: int(g.isna().sum())))
    changed = per_comp[(per_comp["new"] > 0) | (per_comp["groups"] > 1)].copy()
    if changed.empty:
        return 0
    now = datetime.now()
    with store.transaction() as tx:
        fresh = changed.index[changed["keep"].isna()]
        if len(fresh):
            ids = tx.execute(f"SELECT nextval('merge_group_ids') FROM range({len(fresh)})")
            changed.loc[fresh, "keep"] = sorted(r[0] for r in ids)
        changed["keep"] = changed["keep"].astype("int64")
        new_groups = pd.DataFrame({"id": changed.loc[fresh, "keep"].to_numpy(), "dataset_id": ds.id})
        frame = frame[frame["comp"].isin(changed.index)].assign(keep=lambda f: f["comp"].map(changed["keep"]))
        joiners = frame.loc[frame["group"].isna(), ["keep", "row"]]
        absorbed = frame.loc[frame["group"].notna() & (frame["group"] != frame["keep"]), ["group", "keep"]]
        absorbed = absorbed.drop_duplicates().astype("int64")
        tx.register("_new_groups", new_groups)
        tx.execute("INSERT INTO merge_groups SELECT id, dataset_id, ?, NULL, ? FROM _new_groups", [now, source])
        tx.unregister("_new_groups")
        if len(absorbed):  # two groups joined: the oldest id survives
            tx.register("_absorbed", absorbed)
            tx.execute("UPDATE merge_members SET group_id = a.keep FROM _absorbed a "
                       "WHERE merge_members.group_id = a.\"group\"")
            tx.execute("UPDATE merge_groups SET undone_at = ? WHERE id IN (SELECT \"group\" FROM _absorbed)", [now])
            tx.unregister("_absorbed")
        tx.register("_joiners", joiners.astype("int64"))
        tx.execute("INSERT INTO merge_members SELECT keep, row FROM _joiners")
        tx.unregister("_joiners")
    return len(changed)


def unmerge(store: Store, dataset: str | None = None, group: int | None = None, everything: bool = False) -> dict:
    """Split one merge group again (or all of them); the records come back exactly as they were."""
    ds = store.dataset(dataset or None)
    if group is None and not everything:
        raise ValueError("Name a group to split, or ask for all merges to be undone.")
    with store.transaction() as tx:
        if everything:
            tx.execute("UPDATE merge_groups SET undone_at = ? WHERE dataset_id = ? AND undone_at IS NULL",
                       [datetime.now(), ds.id])
        else:
            found = tx.fetchone("SELECT id FROM merge_groups WHERE id = ? AND dataset_id = ? AND undone_at IS NULL",
                                [group, ds.id])
            if not found:
                raise NotFoundError(f"No active merge group {group} in dataset {ds.name!r}.")
            tx.execute("UPDATE merge_groups SET undone_at = ? WHERE id = ?", [datetime.now(), group])
            # Its pairs are not merged again automatically: they go back to review.
            tx.execute("INSERT INTO decisions SELECT ?, a.row, b.row, 'undone', NULL, ?, 'undo' "
                       "FROM merge_members a JOIN merge_members b ON a.group_id = b.group_id AND a.row < b.row "
                       "WHERE a.group_id = ?", [ds.id, datetime.now(), group])
    return {"records_after": record_count(store, ds.name)}


def merge_groups(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Active merge groups with their members' record ids."""
    ds = store.dataset(dataset or None)
    idc = _id_column(ds)
    ident = f"CAST(c.{quote(idc)} AS VARCHAR)" if idc else "CAST(c._row AS VARCHAR)"
    return store.query_df(
        f"SELECT g.id AS group_id, g.created_at, g.source, count(*) AS records, "
        f"string_agg({ident}, ';' ORDER BY c._row) AS record_ids FROM merge_groups g "
        f"JOIN merge_members m ON m.group_id = g.id JOIN {ds.clean_table} c ON c._row = m.row "
        f"WHERE g.dataset_id = ? AND g.undone_at IS NULL GROUP BY ALL ORDER BY g.id", [ds.id])


def audit_log(store: Store, dataset: str | None = None) -> pd.DataFrame:
    """Every decision and merge change, newest first."""
    ds = store.dataset(dataset or None)
    return store.query_df(
        "SELECT decided_at AS \"time\", source, decision AS action, left_row, right_row, score FROM decisions "
        "WHERE dataset_id = ? UNION ALL "
        "SELECT created_at, source, 'merged group ' || id, NULL, NULL, NULL FROM merge_groups WHERE dataset_id = ? "
        "UNION ALL SELECT undone_at, 'undo', 'split group ' || id, NULL, NULL, NULL FROM merge_groups "
        "WHERE dataset_id = ? AND undone_at IS NOT NULL ORDER BY 1 DESC", [ds.id, ds.id, ds.id])


def saved_survivorship(store: Store, dataset: str | None = None) -> Survivorship:
    """The survivorship rules the user chose for a dataset (defaults for the other columns)."""
    ds = store.dataset(dataset or None)
    rows = store.query_rows('SELECT "column", rule FROM survivorship WHERE dataset_id = ?', [ds.id])
    return Survivorship(dict(rows))


def save_survivorship(store: Store, rules: dict[str, str], dataset: str | None = None) -> Survivorship:
    """Keep per-column survivorship rules; every later golden record and export uses them."""
    ds = store.dataset(dataset or None)
    check_choices(rules, ds.columns, RULES, "rules")
    with store.transaction() as tx:
        tx.execute("DELETE FROM survivorship WHERE dataset_id = ?", [ds.id])
        for column, rule in rules.items():
            tx.execute("INSERT INTO survivorship VALUES (?, ?, ?)", [ds.id, column, rule])
    return Survivorship(dict(rules))


def golden_rows(store: Store, dataset: str | None = None, survivorship: Survivorship | None = None,
                limit: int | None = None) -> pd.DataFrame:
    """One row per customer after merges (see :func:`segmentation.customers.golden.golden_sql`).

    ``survivorship`` defaults to the rules saved for the dataset.
    """
    ds = store.dataset(dataset or None)
    sql = golden_sql(ds, ACTIVE_MEMBERS.format(id=ds.id), survivorship or saved_survivorship(store, ds.name))
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return store.query_df(sql)


def has_merges(store: Store, dataset: str | None = None) -> bool:
    """Whether the dataset has any active merge group."""
    ds = store.dataset(dataset or None)
    return bool(store.query_value("SELECT count(*) FROM merge_groups WHERE dataset_id = ? AND undone_at IS NULL",
                                  [ds.id]))


def pair_records(store: Store, left_row: int, right_row: int, dataset: str | None = None) -> pd.DataFrame:
    """Two records side by side: ``field``, ``left``, ``right``, ``differs`` (normalised values)."""
    ds = store.dataset(dataset or None)
    rows = store.query_df(f"SELECT * FROM {ds.clean_table} WHERE _row IN (?, ?) ORDER BY _row = ?",
                          [left_row, right_row, right_row])
    if len(rows) != 2:
        raise NotFoundError(f"Rows {left_row} and {right_row} are not both in dataset {ds.name!r}.")
    left, right = rows.iloc[0][ds.columns], rows.iloc[1][ds.columns]
    as_text = lambda v: "" if pd.isna(v) else str(v)  # noqa: E731
    frame = pd.DataFrame({"field": ds.columns, "left": [as_text(v) for v in left],
                          "right": [as_text(v) for v in right]})
    frame["differs"] = frame["left"].str.casefold() != frame["right"].str.casefold()
    return frame


def pair_evidence(levels_json: str | None, dataset_roles: dict[str, str]) -> pd.DataFrame:
    """What each comparison found for one pair: ``comparison`` (its label) and ``result`` (its level).

    ``levels_json`` is the ``levels`` column of :func:`pairs_table`.
    """
    from .comparisons import default_comparisons

    levels = json.loads(levels_json) if levels_json else {}
    by_name = {c.name: c for c in default_comparisons(dataset_roles)}
    rows = []
    for name, level in levels.items():
        comp = by_name.get(name)
        rows.append((comp.label if comp else name,
                     comp.level_names().get(int(level), str(level)) if comp else str(level)))
    return pd.DataFrame(rows, columns=["comparison", "result"])


def preview_golden(store: Store, rows: list[int], dataset: str | None = None,
                   survivorship: Survivorship | None = None) -> pd.DataFrame:
    """The golden record that merging ``rows`` would give (nothing is written)."""
    ds = store.dataset(dataset or None)
    members = "SELECT unnest(?::BIGINT[]) AS row, -1 AS group_id"
    sql = golden_sql(ds, members, survivorship or saved_survivorship(store, ds.name))
    return store.query_df(f"SELECT * FROM ({sql}) WHERE customer_id = ?", [list(map(int, rows)), f"C{min(rows)}"])


def last_run(store: Store, dataset: str | None = None) -> DedupeSummary | None:
    """Figures of the dataset's last matching run, if any."""
    ds = store.dataset(dataset or None)
    stats = store.query_value("SELECT stats FROM match_runs WHERE dataset_id = ?", [ds.id])
    return DedupeSummary(**json.loads(stats)) if stats else None

"""SQL text over the dedupe stage's tables, built here and run by :mod:`segmentation.dedupe.repository`.

Nothing here executes anything: each function returns a statement (and its
parameters). Other stages compose these texts (the customers stage reads the
active merge members through :func:`active_members_sql`) instead of naming the
dedupe tables themselves. :mod:`segmentation.dedupe.repository` is the stage's
only SQL executor.
"""

from __future__ import annotations

from ..core.store import Dataset, quote

# ``(row, group_id)`` of the records in the dataset's active merge groups (``{id}``: the dataset id).
ACTIVE_MEMBERS = ("SELECT mm.row, mm.group_id FROM merge_members mm JOIN merge_groups g ON g.id = mm.group_id "
                  "WHERE g.dataset_id = {id} AND g.undone_at IS NULL")
# The decision that stands for each pair: the latest one (the log keeps them all).
LATEST_DECISIONS = ("SELECT left_row, right_row, arg_max(decision, decided_at) AS decision FROM decisions "
                    "WHERE dataset_id = {id} GROUP BY ALL")


def active_members_sql(dataset_id: int) -> str:
    """``(row, group_id)`` of every record in an active merge group of the dataset."""
    return ACTIVE_MEMBERS.format(id=int(dataset_id))


def latest_decisions_sql(dataset_id: int) -> str:
    """``(left_row, right_row, decision)``: the decision that stands for each decided pair."""
    return LATEST_DECISIONS.format(id=int(dataset_id))


def record_id_sql(ds: Dataset, alias: str) -> str:
    """A record's id as text (its id column, else its row number), for the records of ``alias``."""
    ids = ds.columns_with_role("id")
    return f"CAST({alias}.{quote(ids[0]) if ids else '_row'} AS VARCHAR)"


def pairs_source_sql(ds: Dataset, status: str | None, undecided_only: bool,
                     min_score: float) -> tuple[str, str, list]:
    """``WITH ... {select} FROM match_pairs p ...`` with the pair's decision ``d`` and groups ``gl``/``gr``
    joined, and the ``WHERE`` condition that picks the pairs, with its parameters."""
    where = ["p.dataset_id = ?", "p.score >= ?"]
    params: list = [ds.id, min_score]
    if status:
        where.append("p.status = ?")
        params.append(status)
    if undecided_only:  # nor already in one customer (merged in bulk, or an earlier run)
        where.append("coalesce(d.decision, 'undone') = 'undone' AND NOT coalesce(gl.group_id = gr.group_id, false)")
    source = (f"WITH d AS ({latest_decisions_sql(ds.id)}), g AS ({active_members_sql(ds.id)}) "
              "{select} FROM match_pairs p LEFT JOIN d USING (left_row, right_row) "
              "LEFT JOIN g gl ON gl.row = p.left_row LEFT JOIN g gr ON gr.row = p.right_row")
    return source, " AND ".join(where), params


def pairs_table_sql(ds: Dataset, status: str | None, undecided_only: bool, min_score: float) -> tuple[str, list]:
    """Candidate pairs with their latest decision and the record ids, best first."""
    source, where, params = pairs_source_sql(ds, status, undecided_only, min_score)
    select = (f"SELECT p.left_row, p.right_row, {record_id_sql(ds, 'l')} AS left_id, "
              f"{record_id_sql(ds, 'r')} AS right_id, p.score, p.status, d.decision, "
              "CAST(p.levels AS VARCHAR) AS levels, p.in_chain")
    return (f"{source.format(select=select)} JOIN {ds.clean_table} l ON l._row = p.left_row "
            f"JOIN {ds.clean_table} r ON r._row = p.right_row WHERE {where} "
            f"ORDER BY p.score DESC, p.left_row, p.right_row"), params


def waiting_sql(ds: Dataset, status: str | None = "review") -> tuple[str, list]:
    """How many pairs wait for a person: of ``status`` (to review by default; None: any), undecided, not already
    in one customer."""
    source, where, params = pairs_source_sql(ds, status, True, 0.0)
    return f"{source.format(select='SELECT count(*)')} WHERE {where}", params


_PAIR_COLUMNS = ("SELECT p.left_row, p.right_row, p.score, p.status, d.decision, CAST(p.levels AS VARCHAR) AS levels, "
                 "p.in_chain")


def _with_ids(ds: Dataset, inner: str) -> str:
    """The pairs of ``inner`` (a query) with their records' ids, joined after the pairs were picked."""
    return (f"SELECT q.left_row, q.right_row, {record_id_sql(ds, 'l')} AS left_id, "
            f"{record_id_sql(ds, 'r')} AS right_id, q.score, q.status, q.decision, q.levels, q.in_chain "
            f"FROM ({inner}) q "
            f"JOIN {ds.clean_table} l ON l._row = q.left_row JOIN {ds.clean_table} r ON r._row = q.right_row "
            "ORDER BY q.score DESC, q.left_row, q.right_row")


def queue_pair_sql(ds: Dataset, status: str | None, position: int) -> tuple[str, list]:
    """The pair at ``position`` (0 first) of the review queue of ``status`` (undecided, best first), with its ids:
    one pair is picked before any join, so showing the next pair stays quick on a million records."""
    source, where, params = pairs_source_sql(ds, status, True, 0.0)
    inner = (f"{source.format(select=_PAIR_COLUMNS)} WHERE {where} "
             "ORDER BY p.score DESC, p.left_row, p.right_row LIMIT 1 OFFSET ?")
    return _with_ids(ds, inner), [*params, max(int(position), 0)]


def pair_sql(ds: Dataset, left_row: int, right_row: int) -> tuple[str, list]:
    """One candidate pair of the dataset by its two row numbers (in either order), with its ids and decision."""
    source, _where, _params = pairs_source_sql(ds, None, False, 0.0)
    inner = f"{source.format(select=_PAIR_COLUMNS)} WHERE p.dataset_id = ? AND p.left_row = ? AND p.right_row = ?"
    a, b = sorted((int(left_row), int(right_row)))
    return _with_ids(ds, inner), [ds.id, a, b]


def rows_of_ids_sql(ds: Dataset, count: int) -> str:
    """``(id, _row)`` of the records whose id (as text) is one of ``count`` parameters (row numbers without ids)."""
    ids = ds.columns_with_role("id")
    key = f"CAST({quote(ids[0])} AS VARCHAR)" if ids else "CAST(_row AS VARCHAR)"
    return f"SELECT {key} AS id, _row FROM {ds.clean_table} WHERE {key} IN ({', '.join('?' * count)})"


def score_sample_sql(dataset_id: int, limit: int) -> str:
    """``score``, ``status`` of the dataset's candidate pairs, a repeatable sample of ``limit`` when there are more."""
    return (f"SELECT score, status FROM (SELECT score, status FROM match_pairs WHERE dataset_id = {int(dataset_id)}) "
            f"USING SAMPLE reservoir({int(limit)} ROWS) REPEATABLE (7)")


def merged_away_sql(dataset_id: int) -> str:
    """How many records merging removed: members of active groups minus one per group."""
    return f"SELECT coalesce(count(*) - count(DISTINCT group_id), 0) FROM ({active_members_sql(dataset_id)})"


def merge_edges_sql(dataset_id: int, above: float | None) -> tuple[str, list]:
    """The links a merge considers: pairs decided ``match`` (priority 2), and with ``above`` the candidate pairs
    scoring at least that which nobody decided and which do not join two parts of a chain."""
    return (f"WITH d AS ({latest_decisions_sql(dataset_id)}) "
            "SELECT left_row, right_row, 2.0 AS priority FROM d WHERE decision = 'match' "  # a person's word first
            # Pairs someone rejected, or whose merge was undone, are not merged again without a person.
            "UNION ALL SELECT p.left_row, p.right_row, p.score FROM match_pairs p "
            "LEFT JOIN d USING (left_row, right_row) "
            "WHERE p.dataset_id = ? AND p.score >= ? AND d.decision IS NULL AND NOT p.in_chain",
            [int(dataset_id), above if above is not None else 2.0])


def rejected_sql(dataset_id: int) -> str:
    """``(a, b)``: the pairs whose standing decision is ``no_match``."""
    return f"SELECT left_row AS a, right_row AS b FROM ({latest_decisions_sql(dataset_id)}) WHERE decision = 'no_match'"


def has_merges_sql() -> str:
    """Whether a dataset (``?``) has an active merge group."""
    return "SELECT count(*) > 0 FROM merge_groups WHERE dataset_id = ? AND undone_at IS NULL"


def merge_groups_sql(ds: Dataset, limit: int | None = None) -> tuple[str, list]:
    """Active merge groups with their members' record ids (with ``limit``: the newest ``limit`` groups, picked
    before their members are read)."""
    groups = "SELECT * FROM merge_groups WHERE dataset_id = ? AND undone_at IS NULL"
    if limit is not None:
        groups += f" ORDER BY id DESC LIMIT {int(limit)}"
    return (f"SELECT g.id AS group_id, g.created_at, g.source, count(*) AS records, "
            f"string_agg({record_id_sql(ds, 'c')}, ';' ORDER BY c._row) AS record_ids FROM ({groups}) g "
            f"JOIN merge_members m ON m.group_id = g.id JOIN {ds.clean_table} c ON c._row = m.row "
            f"GROUP BY ALL ORDER BY g.id", [ds.id])


def group_count_sql() -> str:
    """How many active merge groups a dataset (``?``) has."""
    return "SELECT count(*) FROM merge_groups WHERE dataset_id = ? AND undone_at IS NULL"


def audit_log_sql(dataset_id: int, limit: int | None = None) -> tuple[str, list]:
    """Every decision and merge change (the newest ``limit`` with a limit), newest first."""
    return ("SELECT decided_at AS \"time\", source, decision AS action, left_row, right_row, score FROM decisions "
            "WHERE dataset_id = ? UNION ALL "
            "SELECT created_at, source, 'merged group ' || id, NULL, NULL, NULL FROM merge_groups WHERE dataset_id = ? "
            "UNION ALL SELECT undone_at, 'undo', 'split group ' || id, NULL, NULL, NULL FROM merge_groups "
            "WHERE dataset_id = ? AND undone_at IS NOT NULL ORDER BY 1 DESC"
            + (f" LIMIT {int(limit)}" if limit is not None else ""), [dataset_id] * 3)


def shared_counts_sql(ds: Dataset, wanted: dict[str, dict[str, object]]) -> tuple[str, list]:
    """One scan counting, per entry of ``wanted`` (a name -> ``{column: value}``), the records holding all of
    those values: how widely a value two records share is shared (a switchboard phone, a frequent name)."""
    terms, params = [], []
    for i, values in enumerate(wanted.values()):
        condition = " AND ".join(f"{quote(c)} = ?" for c in values)  # no cast: a plain comparison is 3x faster
        terms.append(f"count(*) FILTER (WHERE {condition}) AS k{i}")
        params += list(values.values())
    return f"SELECT {', '.join(terms)} FROM {ds.clean_table}", params

"""SQL text of the ingest stage's imports: built here, executed by :mod:`segmentation.ingest.repository`.

Pure: functions take a dataset description (and plans) and return SQL
strings; nothing here touches the store. The repository is the ingest
stage's only SQL executor.
"""

from __future__ import annotations

from ..core import schema
from ..core.store import Dataset, quote
from ..core.vocabulary import MISSING_WORDS
from .normalize import ColumnPlan
from .sqltext import sql_string, trimmed_in_sql


def current_versions_sql(ds: Dataset) -> str:
    """Raw rows to normalise once later files were added to a dataset.

    A later export of the same CRM repeats most records. A row whose record
    id first came in an earlier file is a newer version of that record: the
    last such row replaces it *under the record's first row number*, so
    merges, decisions and customer ids made on the record stay valid. Rows
    without an id, new ids, and repeated ids within one file are all kept.
    Every version stays in the raw table.
    """
    ids = ds.columns_with_role("id")
    if not ids:
        return f"SELECT * FROM {ds.raw_table}"
    key = f"coalesce(nullif(trim({quote(ids[0])}), ''), '#' || _row)"
    return (
        f"SELECT * EXCLUDE (_first, _first_batch, _last_batch, _last) "
        f"REPLACE (CASE WHEN _batch > _first_batch THEN _first ELSE _row END AS _row) FROM ("
        f"SELECT *, min(_row) OVER w AS _first, min(_batch) OVER w AS _first_batch, "
        f"max(_batch) OVER w AS _last_batch, max(_row) OVER w AS _last FROM {ds.raw_table} "
        f"WINDOW w AS (PARTITION BY {key})) "
        f"WHERE CASE WHEN _last_batch = _first_batch THEN true "
        f"WHEN _batch = _first_batch THEN _row <> _first ELSE _row = _last END"
    )


def raw_text_sql(source: str, names: dict[str, str], missing: tuple[str, ...] | list[str] | None = None) -> str:
    """``SELECT _row, <column as written> AS <name>`` over ``source``, a dataset's current raw rows
    (:meth:`segmentation.ingest.repository.DatasetsRepository.raw_source`), for each column of ``names``.

    Blank cells and the missing-value words (``None``: :data:`~segmentation.core.vocabulary.MISSING_WORDS`)
    are NULL: what is left is text a person wrote.
    """
    words = MISSING_WORDS if missing is None else tuple(missing)
    items = [f"CASE WHEN {trimmed_in_sql(f'CAST({quote(c)} AS VARCHAR)', ('', *words))} THEN NULL "
             f"ELSE trim(CAST({quote(c)} AS VARCHAR)) END AS {quote(name)}" for c, name in names.items()]
    return f"SELECT _row, {', '.join(items)} FROM {source}"


def fresh_rows_sql(ds: Dataset, incoming: str = "_incoming") -> str:
    """Rows of ``incoming`` that are new or changed: a later export repeats most records as they were.

    A row is left out when it equals, column for column, the latest version
    of its record id (without an id column, or with an empty id: any stored
    row), so adding the same export twice adds nothing.
    """
    cols = [quote(c) for c in ds.columns]
    same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM l.{c}" for c in cols)
    ids = ds.columns_with_role("id")
    if ids:
        q = quote(ids[0])
        latest = (f"SELECT {', '.join(cols)} FROM {ds.raw_table} "
                  f"QUALIFY nullif(trim({q}), '') IS NULL "
                  f"OR row_number() OVER (PARTITION BY trim({q}) ORDER BY _row DESC) = 1")
    else:
        latest = f"SELECT DISTINCT {', '.join(cols)} FROM {ds.raw_table}"
    return f"SELECT i.* FROM {incoming} i ANTI JOIN ({latest}) l ON {same}"


def has_batches_sql() -> str:
    """Whether a raw table (parameter: its name) has the ``_batch`` column of later exports."""
    return ("SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
            "AND column_name = '_batch'")


def updated_records_sql(ds: Dataset) -> str:
    """How many record ids of one batch (parameters: the batch, twice) were already in an earlier one."""
    q = quote(ds.columns_with_role("id")[0])
    return (f"SELECT count(DISTINCT trim({q})) FROM {ds.raw_table} WHERE _batch = ? AND trim({q}) IN "
            f"(SELECT trim({q}) FROM {ds.raw_table} WHERE _batch < ?)")


def value_sql(plan: ColumnPlan, column: str) -> str:
    """A raw column reference as the plan reads it: a missing-value word (``NA``, ``#N/A``...) is NULL."""
    if not plan.missing:
        return column
    return f"CASE WHEN {trimmed_in_sql(column, plan.missing)} THEN NULL ELSE {column} END"


def _context(plan: ColumnPlan, alias: str = "r") -> tuple[str, str]:
    """The select item and group key of a plan's context column (empty without one)."""
    if plan.context is None:
        return "", ""
    return f", {alias}.{quote(plan.context)} AS context", ", 2"


def cleaned_source_sql(plans: list[ColumnPlan], source: str, extra: list[str] = ()) -> str:
    """``source`` with the plans' columns read once: missing-value words NULL (and the context columns, and
    the ``extra`` select items).

    Plans' expressions repeat ``{v}`` many times: reading each column once
    in a subquery keeps the SQL small (DuckDB plans a long expression slowly)
    and the missing words are tested once per cell.
    """
    items, seen = ["_row"], set()
    for plan in plans:
        for column in (plan.column, plan.context):
            if column is None or column in seen:
                continue
            seen.add(column)
            items.append(f"{value_sql(plan, quote(column))} AS {quote(column)}")
    return f"(SELECT {', '.join([*items, *extra])} FROM {source})"


def _context(plan: ColumnPlan, alias: str = "r") -> tuple[str, str]:
    """The select item and group key of a plan's context column (empty without one)."""
    if plan.context is None:
        return "", ""
    return f", {alias}.{quote(plan.context)} AS context", ", 2"


def distinct_values_sql(plan: ColumnPlan, source: str) -> str:
    """Distinct raw values of a mapped column and their counts (``value``, ``n``; ``context`` if any)."""
    col = f"r.{quote(plan.column)}"
    ctx, key = _context(plan)
    return (f"SELECT {col} AS value{ctx}, count(*) AS n FROM {cleaned_source_sql([plan], source)} r "
            f"WHERE {col} IS NOT NULL GROUP BY 1{key}")


def unfilled_values_sql(plan: ColumnPlan, source: str, clean_table: str) -> str:
    """Distinct raw values that the SQL of a ``fill`` plan left NULL in the clean table."""
    q = quote(plan.column)
    ctx, key = _context(plan)
    when = f" AND ({plan.fill_when.replace('{v}', f'r.{q}')})" if plan.fill_when else ""
    return (f"SELECT r.{q} AS value{ctx}, count(*) AS n FROM {cleaned_source_sql([plan], source)} r "
            f"JOIN {clean_table} c USING (_row) WHERE c.{q} IS NULL AND r.{q} IS NOT NULL{when} GROUP BY 1{key}")


def _join_on(plan: ColumnPlan, mapping: str, alias: str = "r") -> str:
    on = f"{mapping}.value = {alias}.{quote(plan.column)}"
    if plan.context is not None:
        on += f" AND {mapping}.context IS NOT DISTINCT FROM {alias}.{quote(plan.context)}"
    return on


def fill_sql(plan: ColumnPlan, source: str, clean_table: str, view: str) -> str:
    """Write a ``fill`` plan's mapped values (the registered ``view``) into the clean table."""
    q = quote(plan.column)
    return (f"UPDATE {clean_table} SET {q} = CAST(m.norm AS {plan.sql_type}) "
            f"FROM {cleaned_source_sql([plan], source)} r JOIN {view} m ON {_join_on(plan, 'm')} "
            f"WHERE {clean_table}._row = r._row AND m.norm IS NOT NULL")


def clean_select_sql(plans: list[ColumnPlan], source: str, views: dict[int, str]) -> str:
    """``SELECT _row, <every plan's expression>`` over ``source`` (columns read once, see
    :func:`cleaned_source_sql`).

    ``views`` maps a plan's position to the registered view of its mapped
    values (plans with a mapper and no ``fill``), joined on the raw value
    (and the context column's).
    """
    selects, joins, binds = ["r._row"], [], []
    for i, plan in enumerate(plans):
        col = f"r.{quote(plan.column)}"
        mapped_value = "NULL"
        if i in views:
            joins.append(f"LEFT JOIN {views[i]} m{i} ON {_join_on(plan, f'm{i}')}")
            mapped_value = f"m{i}.norm"
        context = f"r.{quote(plan.context)}" if plan.context is not None else "NULL"
        bound = "NULL"
        if plan.bind is not None:
            binds.append(f"{plan.bind.replace('{v}', f'({value_sql(plan, quote(plan.column))})')} AS _bind_{i}")
            bound = f"r._bind_{i}"
        expr = plan.expr.replace("{v}", col).replace("{m}", mapped_value).replace("{c}", context).replace("{b}", bound)
        selects.append(f"CAST({expr} AS {plan.sql_type}) AS {quote(plan.column)}")
    # The bound values of each row, computed once beside the columns (not in a subquery of their own, which
    # DuckDB would merge, repeating the missing words' test in every use of a column).
    return f"SELECT {', '.join(selects)} FROM {cleaned_source_sql(plans, source, binds)} r {' '.join(joins)}"


def clean_table_sql(ds: Dataset, plans: list[ColumnPlan], source: str, views: dict[int, str]) -> str:
    """``CREATE TABLE clean_<id> AS`` :func:`clean_select_sql`."""
    return f"CREATE TABLE {ds.clean_table} AS {clean_select_sql(plans, source, views)}"


def evidence_query_sql(source: str, evidence: dict[str, dict[str, str]],
                       missing: tuple[str, ...]) -> tuple[str, list[tuple[str, str]]]:
    """One query computing every column's evidence aggregates over ``source``; and the (column, name) order.

    Each aggregate is a ``count(*) FILTER (WHERE <test>)``. The tests run once per distinct value of the column,
    weighted by how many rows hold it (the same counts): a date column of a million rows holds a few thousand
    dates.
    """
    order, parts = [], []
    for column, aggregates in evidence.items():
        probe = ColumnPlan(column, "", "", "", "", missing=missing)
        items = []
        for name, aggregate in aggregates.items():
            order.append((column, name))
            head, tail = "count(*) FILTER (WHERE ", ")"
            if not (aggregate.startswith(head) and aggregate.endswith(tail)):
                raise ValueError(f"an evidence aggregate must be {head}...{tail}, not {aggregate!r}")
            test = aggregate[len(head):-len(tail)].replace("{v}", "_value")
            items.append(f"CAST(coalesce(sum(_n) FILTER (WHERE {test}), 0) AS BIGINT)")
        parts.append(f"(SELECT {', '.join(items)} FROM (SELECT {value_sql(probe, quote(column))} AS _value, "
                     f"count(*) AS _n FROM {source} GROUP BY 1))")
    return (f"SELECT * FROM {', '.join(parts)}" if parts else "SELECT 1"), order


def rejects_select_sql(source: str) -> str:
    """The rows that could not be read, from a registered frame, typed (an empty frame must not make NULL columns)."""
    return (f"SELECT CAST(line AS BIGINT) AS line, CAST(reason AS VARCHAR) AS reason, CAST(raw AS VARCHAR) AS raw "
            f"FROM {source}")


def untyped_rejects_sql() -> str:
    """Columns of a rejects table (parameter: its name) that an empty first file left without a type."""
    return ("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND column_name IN ('reason', 'raw') AND data_type = '\"NULL\"'")


# -- for other stages: the ingest tables as SQL text to compose (they need not name clean_<id> themselves).
# The current raw rows: DatasetsRepository.raw_source(ds) (it checks for later exports at run time).

def clean_rows_sql(ds: Dataset, columns: list[str] | None = None) -> str:
    """``SELECT _row, <columns> FROM clean_<id>``: the normalised rows of a dataset (every column by default)."""
    cols = ", ".join(["_row", *(quote(c) for c in (ds.columns if columns is None else columns))])
    return f"SELECT {cols} FROM {ds.clean_table}"



# -- uploads ------------------------------------------------------------------
def uploads_sql() -> str:
    """Every stored upload with its size and the datasets imported from it (newest first)."""
    return (f"SELECT u.id, u.file_name, u.size AS bytes, u.uploaded_at, "
            f"(SELECT string_agg(DISTINCT d.name, ', ' ORDER BY d.name) FROM {schema.DATASETS} d "
            f"LEFT JOIN {schema.IMPORT_BATCHES} b ON b.dataset_id = d.id "
            f"WHERE d.upload_id = u.id OR b.upload_id = u.id) AS used_by "
            f"FROM {schema.UPLOADS} u ORDER BY u.uploaded_at DESC, u.id DESC")


def dataset_sizes_sql() -> str:
    """Every dataset's rows and the bytes of the files it was imported from (when they were uploads)."""
    return (f"SELECT d.name, d.kind, d.row_count AS rows, "
            f"(SELECT sum(u.size) FROM {schema.UPLOADS} u WHERE u.id = d.upload_id OR u.id IN "
            f"(SELECT b.upload_id FROM {schema.IMPORT_BATCHES} b WHERE b.dataset_id = d.id)) AS bytes "
            f"FROM {schema.DATASETS} d ORDER BY d.imported_at DESC, d.id DESC")


def unused_uploads_sql(upload_id: int | None = None, before=None) -> tuple[str, list]:
    """``id`` of the uploads no dataset or later export refers to (one of them, or those made before)."""
    sql = (f"SELECT id FROM {schema.UPLOADS} u WHERE NOT EXISTS (SELECT 1 FROM {schema.DATASETS} d "
           f"WHERE d.upload_id = u.id) AND NOT EXISTS (SELECT 1 FROM {schema.IMPORT_BATCHES} b "
           f"WHERE b.upload_id = u.id)")
    params: list = []
    if upload_id is not None:
        sql += " AND u.id = ?"
        params.append(int(upload_id))
    if before is not None:
        sql += " AND u.uploaded_at < ?"
        params.append(before)
    return sql, params


def raw_from_csv_sql(ds: Dataset, delimiter: str, max_line_bytes: int) -> str:
    """``CREATE TABLE raw_<id>`` straight from a plain CSV file of records (parameter: its path), without ``_row``.

    For :func:`segmentation.ingest.readers.plain_csv` files only (no quotes, no
    header, every line a record): DuckDB's own multi-threaded reader splits
    lines and fields, every column text, empty cells NULL, in file order.
    Strict: a line with another number of fields, a line over
    ``max_line_bytes`` or bytes that are not UTF-8 are an error, and the
    caller reads the file the careful way instead. The row numbers come after
    the commit (:func:`raw_row_numbers_sql`): a window ``row_number()`` here
    would cost a third of the read.
    """
    columns = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in ds.columns) + "}"
    delim = "\\t" if delimiter == "\t" else delimiter
    return (f"CREATE TABLE {ds.raw_table} AS SELECT {', '.join(quote(c) for c in ds.columns)} "
            f"FROM read_csv(?, delim={sql_string(delim)}, quote='', "
            f"escape='', comment='', header=false, auto_detect=false, columns={columns}, strict_mode=true, "
            f"null_padding=false, ignore_errors=false, encoding='utf-8', max_line_size={int(max_line_bytes)})")


def raw_row_numbers_sql(ds: Dataset) -> list[str]:
    """Statements giving a raw table written by :func:`raw_from_csv_sql`, once committed, its 1-based ``_row``.

    A committed table that no one has changed yet numbers its rows ``rowid``
    0, 1, 2, ... in the order they were written: the file's order (DuckDB
    keeps insertion order). The caller checks the numbers run from 1 to the
    record count (:func:`raw_row_range_sql`).
    """
    return [f"ALTER TABLE {ds.raw_table} ADD COLUMN _row BIGINT", f"UPDATE {ds.raw_table} SET _row = rowid + 1"]


def raw_row_range_sql(ds: Dataset) -> str:
    """``count(*)``, ``min(_row)`` and ``max(_row)`` of a raw table (rowids are distinct)."""
    return f"SELECT count(*), min(_row), max(_row) FROM {ds.raw_table}"

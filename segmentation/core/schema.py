"""The store's schema: its migrations and the names of its tables.

:mod:`segmentation.core.store` runs :data:`MIGRATIONS` (and nothing else of
the domain); each stage's repository owns its tables, named here once. Pure:
this module only builds SQL text (:func:`delete_dataset_sql`); the stage
repositories and the store execute it.
"""

from __future__ import annotations

# Each entry moves the schema one version up; never edit a released entry.
MIGRATIONS: list[list[str]] = [
    [
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        "CREATE SEQUENCE dataset_ids START 1",
        """CREATE TABLE uploads (
            id INTEGER PRIMARY KEY, sha256 VARCHAR UNIQUE NOT NULL, file_name VARCHAR NOT NULL,
            size BIGINT NOT NULL, uploaded_at TIMESTAMP NOT NULL, data BLOB NOT NULL)""",
        """CREATE TABLE datasets (
            id INTEGER PRIMARY KEY, name VARCHAR UNIQUE NOT NULL, source_file VARCHAR,
            kind VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, row_count BIGINT NOT NULL,
            rejected_rows BIGINT NOT NULL DEFAULT 0, file_format VARCHAR, encoding VARCHAR,
            delimiter VARCHAR, sheet VARCHAR, columns JSON NOT NULL, roles JSON NOT NULL,
            options JSON NOT NULL, warnings JSON, upload_id INTEGER)""",
        # Room for later steps: each later step adds its tables in a migration of its own.
    ],
    [  # 2: deduplication — candidate pairs, decisions (an audit log), reversible merge groups.
        """CREATE TABLE match_runs (dataset_id INTEGER PRIMARY KEY, run_at TIMESTAMP NOT NULL,
            settings JSON NOT NULL, stats JSON NOT NULL)""",
        """CREATE TABLE match_pairs (dataset_id INTEGER NOT NULL, left_row BIGINT NOT NULL,
            right_row BIGINT NOT NULL, score DOUBLE NOT NULL, status VARCHAR NOT NULL, levels JSON,
            PRIMARY KEY (dataset_id, left_row, right_row))""",
        """CREATE TABLE decisions (dataset_id INTEGER NOT NULL, left_row BIGINT NOT NULL,
            right_row BIGINT NOT NULL, decision VARCHAR NOT NULL, score DOUBLE, decided_at TIMESTAMP NOT NULL,
            source VARCHAR NOT NULL)""",
        "CREATE SEQUENCE merge_group_ids START 1",
        """CREATE TABLE merge_groups (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL,
            created_at TIMESTAMP NOT NULL, undone_at TIMESTAMP, source VARCHAR NOT NULL)""",
        "CREATE TABLE merge_members (group_id INTEGER NOT NULL, row BIGINT NOT NULL)",
        """CREATE TABLE survivorship (dataset_id INTEGER NOT NULL, "column" VARCHAR NOT NULL,
            rule VARCHAR NOT NULL, PRIMARY KEY (dataset_id, "column"))""",
    ],
    [  # 3: later exports of the same CRM added to a dataset (incremental matching).
        """CREATE TABLE import_batches (dataset_id INTEGER NOT NULL, batch INTEGER NOT NULL,
            file_name VARCHAR, imported_at TIMESTAMP NOT NULL, rows_read BIGINT NOT NULL,
            rows_added BIGINT NOT NULL, rows_updated BIGINT NOT NULL, upload_id INTEGER,
            PRIMARY KEY (dataset_id, batch))""",
    ],
    [  # 4: segment runs: settings, scores, the fitted pipeline (pickled), each customer's segment.
        "CREATE SEQUENCE segment_run_ids START 1",
        """CREATE TABLE segment_runs (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, name VARCHAR UNIQUE NOT NULL,
            created_at TIMESTAMP NOT NULL, k INTEGER NOT NULL, settings JSON NOT NULL, scores JSON NOT NULL,
            steps JSON NOT NULL, model BLOB NOT NULL, is_current BOOLEAN NOT NULL, customers BIGINT NOT NULL,
            assigned_at TIMESTAMP NOT NULL)""",
        """CREATE TABLE segment_members (run_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL,
            segment INTEGER NOT NULL)""",
        """CREATE TABLE segment_names (run_id INTEGER NOT NULL, segment INTEGER NOT NULL, name VARCHAR NOT NULL,
            PRIMARY KEY (run_id, segment))""",
        """CREATE TABLE segment_scans (dataset_id INTEGER PRIMARY KEY, scanned_at TIMESTAMP NOT NULL,
            settings JSON NOT NULL, k_min INTEGER NOT NULL, k_max INTEGER NOT NULL, scores JSON NOT NULL,
            knee INTEGER, recommended_k INTEGER NOT NULL, reason VARCHAR NOT NULL, steps JSON NOT NULL)""",
    ],
    [  # 5: pairs within a chain (A~B~C, A and C clearly different) are never merged without a person.
        "ALTER TABLE match_pairs ADD COLUMN in_chain BOOLEAN DEFAULT false",
    ],
    [  # 6: audiences: saved definitions, suppression lists, the log of every export.
        "CREATE TABLE audiences (name VARCHAR PRIMARY KEY, saved_at TIMESTAMP NOT NULL, spec JSON NOT NULL)",
        """CREATE TABLE suppression_lists (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL,
            uploaded_at TIMESTAMP NOT NULL, size BIGINT NOT NULL)""",
        "CREATE TABLE suppression_values (list_id INTEGER NOT NULL, value VARCHAR NOT NULL)",
        """CREATE TABLE export_log (exported_at TIMESTAMP NOT NULL, audience VARCHAR, rows BIGINT NOT NULL,
            columns JSON NOT NULL, file_name VARCHAR, include_no_consent BOOLEAN NOT NULL, spec JSON NOT NULL)""",
    ],
    [  # 7: RFM computed from an orders dataset (the per-customer table is rfm_<customers dataset id>).
        """CREATE TABLE rfm_runs (dataset_id INTEGER PRIMARY KEY, orders_id INTEGER NOT NULL,
            computed_at TIMESTAMP NOT NULL, settings JSON NOT NULL, stats JSON NOT NULL)""",
    ],
    [  # 8: propensity models (scores per customer are columns of scores_<customers dataset id>).
        """CREATE TABLE score_models (dataset_id INTEGER NOT NULL, name VARCHAR NOT NULL, trained_at TIMESTAMP NOT NULL,
            settings JSON NOT NULL, report JSON NOT NULL, model BLOB NOT NULL, PRIMARY KEY (dataset_id, name))""",
    ],
    [  # 9: unattended refreshes (a log of runs and their steps) and snapshots of segment membership.
        "CREATE SEQUENCE refresh_ids START 1",
        """CREATE TABLE refreshes (id INTEGER PRIMARY KEY, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
            config_file VARCHAR, status VARCHAR NOT NULL, failed_step VARCHAR, error VARCHAR, summary JSON)""",
        """CREATE TABLE refresh_steps (refresh_id INTEGER NOT NULL, position INTEGER NOT NULL, step VARCHAR NOT NULL,
            status VARCHAR NOT NULL, seconds DOUBLE, state VARCHAR, detail JSON, error VARCHAR,
            PRIMARY KEY (refresh_id, position))""",
        "CREATE SEQUENCE snapshot_ids START 1",
        """CREATE TABLE segment_snapshots (id INTEGER PRIMARY KEY, dataset_id INTEGER NOT NULL, run_id INTEGER NOT NULL,
            run_name VARCHAR NOT NULL, taken_at TIMESTAMP NOT NULL, refresh_id INTEGER, customers BIGINT NOT NULL,
            names JSON NOT NULL)""",
        """CREATE TABLE snapshot_members (snapshot_id INTEGER NOT NULL, customer_id VARCHAR NOT NULL,
            segment INTEGER NOT NULL)""",
    ],
]
MIGRATIONS.append([  # 10: the write version, overall ('*') and per dataset ('<id>'); caches key on it.
    "CREATE TABLE write_versions (scope VARCHAR PRIMARY KEY, version BIGINT NOT NULL)",
    "INSERT INTO write_versions VALUES ('*', 1)",
])
MIGRATIONS.append([  # 11: files a refresh wrote (path, sha256): it overwrites no file it did not write itself.
    """CREATE TABLE refresh_outputs (path VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, written_at TIMESTAMP NOT NULL,
        refresh_id INTEGER, PRIMARY KEY (path, sha256))""",
])
MIGRATIONS.append([  # the right to be forgotten: one audit line per erasure (a salted hash, no personal data).
    """CREATE TABLE forgotten (forgotten_at TIMESTAMP NOT NULL, dataset VARCHAR, identifier VARCHAR NOT NULL,
        hash VARCHAR NOT NULL, counts JSON NOT NULL, lifted_at TIMESTAMP)""",
])
MIGRATIONS.append([  # the customers each saved audience held at its last export (its next export's changes).
    """CREATE TABLE export_members (dataset_id INTEGER NOT NULL, audience VARCHAR NOT NULL,
        exported_at TIMESTAMP NOT NULL, customer_id VARCHAR NOT NULL)""",
])
MIGRATIONS.append([  # a run's profile as computed (JSON only), read again while its inputs are unchanged.
    """CREATE TABLE segment_profiles (run_id INTEGER NOT NULL, settings VARCHAR NOT NULL,
        dataset_version BIGINT NOT NULL, assigned_at TIMESTAMP NOT NULL, computed_on DATE NOT NULL,
        profile JSON NOT NULL, PRIMARY KEY (run_id, settings))""",
])
SCHEMA_VERSION = len(MIGRATIONS)

# -- table names ------------------------------------------------------------
META = "meta"
WRITE_VERSIONS = "write_versions"
UPLOADS = "uploads"              # ingest
DATASETS = "datasets"            # ingest
IMPORT_BATCHES = "import_batches"  # ingest

#: Prefixes of the tables each dataset has of its own (``raw_<id>``...), with the stage that writes them.
DATASET_TABLE_PREFIXES: dict[str, str] = {
    "raw": "ingest",        # raw rows exactly as read, all VARCHAR, plus _row (and _batch)
    "clean": "ingest",      # normalised rows, typed, plus _row
    "rejects": "ingest",    # rows that could not be read: line, reason, raw
    "rfm": "behaviour",     # RFM measures per customer
    "scores": "behaviour",  # propensity scores per customer
    "golden": "customers",  # golden records after merges
    "reports": "ingest",    # the read and quality reports as computed (JSON), with the key of their inputs
}

#: Store tables holding rows of a dataset: table -> (key column, parent). With no parent the key column
#: is the dataset id; otherwise it is the ``id`` of a row of the parent table. Children come before their
#: parents and ``datasets`` comes last, so deleting in this order never leaves a dangling row.
DATASET_ROWS: dict[str, tuple[str, str | None]] = {
    "merge_members": ("group_id", "merge_groups"),
    "snapshot_members": ("snapshot_id", "segment_snapshots"),
    "segment_members": ("run_id", "segment_runs"),
    "segment_names": ("run_id", "segment_runs"),
    "segment_profiles": ("run_id", "segment_runs"),
    "merge_groups": ("dataset_id", None),
    "match_runs": ("dataset_id", None),
    "match_pairs": ("dataset_id", None),
    "decisions": ("dataset_id", None),
    "survivorship": ("dataset_id", None),
    IMPORT_BATCHES: ("dataset_id", None),
    "segment_runs": ("dataset_id", None),
    "segment_scans": ("dataset_id", None),
    "rfm_runs": ("dataset_id", None),
    "score_models": ("dataset_id", None),
    "segment_snapshots": ("dataset_id", None),
    "export_members": ("dataset_id", None),
    DATASETS: ("id", None),
}

FORGOTTEN = "forgotten"          # ingest: the audit of the right to be forgotten

#: Where a person's rows are, for the right to be forgotten: table -> (key columns, what they hold, parent).
#: ``row`` columns hold a record's row number (``_row``), ``customer`` columns a customer id (``C<row>``);
#: a parent is as in :data:`DATASET_ROWS` (else the table has ``dataset_id``). The dataset's own tables
#: are in :data:`DATASET_TABLE_PERSON_KEYS`.
PERSON_ROWS: dict[str, tuple[tuple[str, ...], str, str | None]] = {
    "match_pairs": (("left_row", "right_row"), "row", None),
    "decisions": (("left_row", "right_row"), "row", None),
    "merge_members": (("row",), "row", "merge_groups"),
    "segment_members": (("customer_id",), "customer", "segment_runs"),
    "snapshot_members": (("customer_id",), "customer", "segment_snapshots"),
    "export_members": (("customer_id",), "customer", None),
}
#: The key of a person's rows in each of a dataset's own tables (None: derived, dropped and rebuilt).
DATASET_TABLE_PERSON_KEYS: dict[str, tuple[str, str] | None] = {
    "raw": ("_row", "row"), "clean": ("_row", "row"), "rfm": ("customer_id", "customer"),
    "scores": ("customer_id", "customer"), "golden": None, "rejects": None, "reports": None,
}


def forget_person_sql(dataset_id: int, rows: str, customers: str) -> list[tuple[str, str, list]]:
    """The statements (label, SQL text, parameters) removing a person's rows of one dataset everywhere.

    ``rows`` and ``customers`` are relations of one column (the person's record rows, customer ids).
    The dataset's own tables must exist (the caller checks); ``rejects`` are matched on their text.
    """
    ds = int(dataset_id)
    out: list[tuple[str, str, list]] = []
    for table, (keys, holds, parent) in PERSON_ROWS.items():
        match = " OR ".join(f"{k} IN (SELECT * FROM {rows if holds == 'row' else customers})" for k in keys)
        owner = ("dataset_id = ?" if parent is None
                 else f"{DATASET_ROWS[table][0]} IN (SELECT id FROM {parent} WHERE dataset_id = ?)")
        out.append((table, f"DELETE FROM {table} WHERE ({match}) AND {owner}", [ds]))
    for prefix, key in DATASET_TABLE_PERSON_KEYS.items():
        if key is None:
            continue
        column, holds = key
        out.append((dataset_table(prefix, ds), f"DELETE FROM {dataset_table(prefix, ds)} WHERE {column} IN "
                    f"(SELECT * FROM {rows if holds == 'row' else customers})", []))
    # Saved profiles are totals computed with the person: stale now, and dropped rather than left behind.
    out.append(("segment_profiles", "DELETE FROM segment_profiles WHERE run_id IN "
                "(SELECT id FROM segment_runs WHERE dataset_id = ?)", [ds]))
    return out


#: A table name that belongs to one dataset (for the orphan clean-up).
DATASET_TABLE_PATTERN = "^(" + "|".join(DATASET_TABLE_PREFIXES) + ")_[0-9]+$"


def dataset_table(prefix: str, dataset_id: int) -> str:
    """The name of one of a dataset's own tables (``raw_12``); ``prefix`` is a key of :data:`DATASET_TABLE_PREFIXES`."""
    if prefix not in DATASET_TABLE_PREFIXES:
        raise ValueError(f"Unknown dataset table prefix {prefix!r}")
    return f"{prefix}_{int(dataset_id)}"


def dataset_tables(dataset_id: int) -> list[str]:
    """Every table a dataset may have of its own."""
    return [dataset_table(p, dataset_id) for p in DATASET_TABLE_PREFIXES]


def delete_dataset_sql(dataset_id: int) -> list[tuple[str, list]]:
    """The statements (SQL text, parameters) that remove a dataset, its tables and its rows in every stage."""
    statements: list[tuple[str, list]] = [(f"DROP TABLE IF EXISTS {t}", []) for t in dataset_tables(dataset_id)]
    for table, (key, parent) in DATASET_ROWS.items():
        if parent is None:
            statements.append((f"DELETE FROM {table} WHERE {key} = ?", [int(dataset_id)]))
        else:
            statements.append((f"DELETE FROM {table} WHERE {key} IN (SELECT id FROM {parent} WHERE dataset_id = ?)",
                               [int(dataset_id)]))
    return statements


# The computed attributes of a customers dataset: table ``rfm_<id>`` (written by the behaviour stage) holds
# these columns, seen by customers, features and audiences under these names; ``scores_<id>`` holds one
# ``score_<model>`` column (and its rank) per propensity model.
RFM_COLUMNS = {
    "recency_days": "RFM recency (days)", "frequency": "RFM frequency", "monetary": "RFM monetary",
    "average_order": "RFM average order", "tenure_days": "RFM tenure (days)", "favourite_category":
    "RFM favourite category", "r": "R score", "f": "F score", "m": "M score", "rfm_group": "RFM group",
    "orders": "RFM orders (all time)",
}
RFM_NUMERIC = ("recency_days", "frequency", "monetary", "average_order", "tenure_days", "r", "f", "m", "orders")

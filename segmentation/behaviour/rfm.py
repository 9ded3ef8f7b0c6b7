"""RFM from an orders file: recency, frequency, monetary per customer, quintile scores, named groups.

Orders are linked to customers by record id; after merges, the orders of
merged records belong to the golden record (its ``customer_id``). The whole
computation is one DuckDB statement built here; the result is a table per
customers dataset (``rfm_<id>``) that later steps read as customer attributes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date, datetime

import pandas as pd

from ..core.errors import ColumnError, NotFoundError
from ..core.store import Dataset, Store, quote
from ..dedupe.review import ACTIVE_MEMBERS

#: The named groups, first matching rule wins (R, F, M are quintile scores 1-5, 5 best).
GROUPS: list[tuple[str, str, str]] = [
    ("Champions", "r >= 4 AND f >= 4", "bought recently, buy often"),
    ("Loyal", "r >= 3 AND f >= 3", "buy often, fairly recently"),
    ("New", "r >= 4 AND f <= 1", "first orders, very recent"),
    ("Potential loyalists", "r >= 3", "recent, not yet frequent"),
    ("Can't lose them", "f >= 4 AND m >= 4", "were big and frequent buyers, not lately"),
    ("At risk", "f >= 3", "used to buy often, not lately"),
    ("Hibernating", "r = 2", "few orders, a while ago"),
    ("Lost", "true", "few orders, long ago"),
]
COLUMNS = {  # table column -> the attribute name customers see
    "recency_days": "RFM recency (days)", "frequency": "RFM frequency", "monetary": "RFM monetary",
    "average_order": "RFM average order", "tenure_days": "RFM tenure (days)", "favourite_category":
    "RFM favourite category", "r": "R score", "f": "F score", "m": "M score", "rfm_group": "RFM group",
    "orders": "RFM orders (all time)",
}


@dataclass(frozen=True)
class RFMSettings:
    """How RFM is computed.

    Parameters
    ----------
    as_of : str, optional
        ISO reference date (default today): recency and tenure count days to it; later orders are ignored.
    window_days : int
        Frequency counts the orders of this many days before ``as_of``.
    link_column : str, optional
        Column of the orders holding the customer's record id (default: the one whose values match most).
    """

    as_of: str | None = None
    window_days: int = 365
    link_column: str | None = None


NUMERIC = ("recency_days", "frequency", "monetary", "average_order", "tenure_days", "r", "f", "m", "orders")


def groups_table() -> pd.DataFrame:
    """The named groups with their rules, as the page shows them."""
    return pd.DataFrame([(name, rule.replace("AND", "and").replace("true", "otherwise"), meaning)
                         for name, rule, meaning in GROUPS], columns=["group", "rule (scores 1-5)", "meaning"])


def _one(ds: Dataset, *roles: str) -> str | None:
    found = ds.columns_with_role(*roles)
    return found[0] if found else None


def link_column(store: Store, customers: Dataset, orders: Dataset) -> str:
    """The orders column whose values are most often a customer's record id."""
    idc = _one(customers, "id")
    if idc is None:
        raise ColumnError(f"Dataset {customers.name!r} has no record id column to link orders to.")
    candidates = [c for c in orders.columns if orders.roles.get(c) in ("id", "text", "category", "exact")]
    best, share = None, 0.0
    for col in candidates:
        hit = store.query_value(
            f"SELECT avg(CAST(lower(trim(CAST(o.{quote(col)} AS VARCHAR))) IN (SELECT lower(trim(CAST({quote(idc)} "
            f"AS VARCHAR))) FROM {customers.clean_table}) AS DOUBLE)) FROM (SELECT {quote(col)} FROM "
            f"{orders.clean_table} WHERE {quote(col)} IS NOT NULL LIMIT 5000) o")
        if hit is not None and hit > share:
            best, share = col, float(hit)
    if best is None or share < 0.5:
        raise ColumnError(f"No column of {orders.name!r} holds the customers' ids ({idc!r} of {customers.name!r}); "
                          f"columns: {orders.columns}. Name it with link_column / --link-column.")
    return best


def _when(orders: Dataset) -> str | None:
    return _one(orders, "date", "created_date", "last_activity_date")


def rfm_sql(customers: Dataset, orders: Dataset, link: str, settings: RFMSettings) -> tuple[str, str, list]:
    """SQL of the RFM table and of the orders whose customer is unknown, with their parameters."""
    idc, when, amount = _one(customers, "id"), _when(orders), _one(orders, "measure")
    if when is None or amount is None:
        raise ColumnError(f"Orders need a date and an amount column; {orders.name!r} has roles {orders.roles}.")
    category = next((c for c in orders.columns_with_role("category") if c != link), None)
    as_of = settings.as_of or date.today().isoformat()
    fav = f"mode(o.{quote(category)})" if category else "NULL"
    ids = (f"SELECT trim(CAST(t.{quote(idc)} AS VARCHAR)) AS rid, min('C' || coalesce(m.anchor, t._row)) "
           f"AS customer_id FROM {customers.clean_table} t LEFT JOIN (SELECT row, min(row) OVER (PARTITION BY "
           f"group_id) AS anchor FROM ({ACTIVE_MEMBERS.format(id=int(customers.id))})) m ON m.row = t._row "
           f"WHERE t.{quote(idc)} IS NOT NULL GROUP BY 1")
    # "_customer", not "customer_id": an orders file often has a column of that name.
    linked = (f"SELECT i.customer_id AS _customer, o.* FROM {orders.clean_table} o LEFT JOIN ({ids}) i "
              f"ON i.rid = CAST(o.{quote(link)} AS VARCHAR) "  # ids are trimmed text once normalised
              f"WHERE o.{quote(when)} IS NOT NULL AND o.{quote(when)} <= CAST(? AS DATE)")
    per = (f"SELECT _customer AS customer_id, date_diff('day', max(o.{quote(when)}), CAST(? AS DATE)) AS recency_days, "
           f"count(*) FILTER (WHERE o.{quote(when)} > CAST(? AS DATE) - CAST(? AS INTEGER)) AS frequency, "
           f"coalesce(sum(o.{quote(amount)}), 0) AS monetary, avg(o.{quote(amount)}) AS average_order, "
           f"date_diff('day', min(o.{quote(when)}), CAST(? AS DATE)) AS tenure_days, {fav} AS favourite_category, "
           f"count(*) AS orders "
           f"FROM ({linked}) o WHERE _customer IS NOT NULL GROUP BY _customer")
    # Quintiles by rank, so that equal values get equal scores (5: most recent, most frequent, most spent).
    quintile = "5 - CAST(floor(5 * (rank() OVER (ORDER BY {} ) - 1) / count(*) OVER ()) AS INTEGER)"
    scored = (f"SELECT *, {quintile.format('recency_days')} AS r, {quintile.format('frequency DESC')} AS f, "
              f"{quintile.format('monetary DESC')} AS m FROM ({per})")
    case = "CASE " + " ".join(f"WHEN {rule} THEN '{name.replace(chr(39), chr(39) * 2)}'"
                              for name, rule, _ in GROUPS) + " END"
    table = f"SELECT *, {case} AS rfm_group FROM ({scored})"
    params = [as_of, as_of, int(settings.window_days), as_of, as_of]  # in the order the SQL reads them
    unknown = f"SELECT * EXCLUDE (_customer, _row) FROM ({linked}) WHERE _customer IS NULL ORDER BY _row"
    return table, unknown, params


def compute(store: Store, customers: str | None = None, orders: str | None = None,
            settings: RFMSettings = RFMSettings()) -> dict:
    """Compute RFM for a customers dataset from an orders dataset and keep it as ``rfm_<id>``.

    Returns
    -------
    dict
        ``customers_with_orders``, ``unknown_customer_orders``, ``groups`` (name -> customers),
        ``link_column``, ``as_of``.
    """
    cust = store.dataset(customers or None)
    ords = store.dataset(orders or None, kind="transactions")
    if ords.kind != "transactions":
        raise ColumnError(f"Dataset {ords.name!r} holds customers, not orders: import the orders file with kind "
                          "'transactions'.")
    link = settings.link_column or link_column(store, cust, ords)
    if link not in ords.columns:
        raise ColumnError(f"Missing columns [{link!r}]; found {ords.columns}")
    settings = RFMSettings(**{**asdict(settings), "as_of": settings.as_of or date.today().isoformat(),
                              "link_column": link})
    table, _unknown, params = rfm_sql(cust, ords, link, settings)
    with store.transaction() as tx:
        tx.execute(f"CREATE OR REPLACE TABLE rfm_{int(cust.id)} AS {table}", params)
        n_unknown = tx.fetchone(  # orders up to as_of that no customer took
            f"SELECT (SELECT count(*) FROM {ords.clean_table} WHERE {quote(_when(ords))} <= CAST(? AS DATE)) "
            f"- (SELECT coalesce(sum(orders), 0) FROM rfm_{int(cust.id)})", [settings.as_of])[0]
        groups = dict(tx.execute(f"SELECT rfm_group, count(*) FROM rfm_{int(cust.id)} GROUP BY 1"))
        n = sum(groups.values())
        stats = {"customers_with_orders": n, "unknown_customer_orders": int(n_unknown),
                 "groups": {name: int(groups.get(name, 0)) for name, _r, _m in GROUPS},
                 "link_column": link, "as_of": settings.as_of}
        tx.execute("INSERT OR REPLACE INTO rfm_runs VALUES (?, ?, ?, ?, ?)",
                   [cust.id, ords.id, datetime.now(), json.dumps(asdict(settings)), json.dumps(stats)])
    return stats


def last(store: Store, customers: str | None = None) -> dict | None:
    """Settings and figures of the last RFM computation of a customers dataset, if any."""
    cust = store.dataset(customers or None)
    row = store.query_rows("SELECT orders_id, computed_at, settings, stats FROM rfm_runs WHERE dataset_id = ?",
                           [cust.id])
    if not row:
        return None
    orders_id, at, settings, stats = row[0]
    return {"orders_id": orders_id, "computed_at": at, "settings": json.loads(settings), **json.loads(stats)}


def rfm_table(store: Store, customers: str | None = None) -> pd.DataFrame:
    """Per customer with orders: recency, frequency, monetary, average order, tenure, favourite category,
    R, F, M scores and RFM group."""
    cust = store.dataset(customers or None)
    if last(store, cust.name) is None:
        raise NotFoundError(f"No RFM for {cust.name!r} yet: compute it from an orders file first.")
    return store.query_df(f"SELECT * FROM rfm_{int(cust.id)} ORDER BY customer_id")


def unknown_orders(store: Store, customers: str | None = None) -> pd.DataFrame:
    """Orders whose customer id matches no customer (to download and fix)."""
    info = last(store, customers)
    if info is None:
        raise NotFoundError("No RFM computed yet.")
    cust = store.dataset(customers or None)
    ords = store.dataset_by_id(info["orders_id"])
    _table, unknown, _params = rfm_sql(cust, ords, info["link_column"], RFMSettings(**info["settings"]))
    return store.query_df(unknown, [info["as_of"]])


def grid(store: Store, customers: str | None = None) -> pd.DataFrame:
    """The R × F grid: customers and total value per cell."""
    cust = store.dataset(customers or None)
    rfm_table(store, cust.name)  # raises if none
    return store.query_df(f"SELECT r, f, count(*) AS customers, sum(monetary) AS value FROM rfm_{int(cust.id)} "
                          "GROUP BY ALL ORDER BY r, f")


__all__ = [
    "COLUMNS",
    "GROUPS",
    "RFMSettings",
    "compute",
    "grid",
    "groups_table",
    "last",
    "link_column",
    "rfm_sql",
    "rfm_table",
    "unknown_orders",
]

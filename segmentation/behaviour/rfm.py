"""RFM from an orders file: recency, frequency, monetary per customer, quintile scores, named groups.

Orders are linked to customers by record id; after merges, the orders of
merged records belong to the golden record (its ``customer_id``, as the
customers stage defines it: :func:`segmentation.customers.identity.record_customers_sql`).
The whole computation is one DuckDB statement built here as text
(:func:`rfm_sql`); :class:`segmentation.behaviour.repository.BehaviourRepository`,
the stage's only SQL executor, runs it and keeps the result as a table per
customers dataset (``rfm_<id>``) that later steps read as customer attributes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import pandas as pd

from ..core import schema
from ..core.errors import ColumnError, MissingColumnsError, NotFoundError, SettingError
from ..core.store import Dataset, Store, quote
from ..customers.identity import record_customers_sql
from ..ingest.repository import DatasetsRepository
from .repository import BehaviourRepository

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
COLUMNS = schema.RFM_COLUMNS  # table column -> the attribute name customers see


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


@dataclass
class RFMResult:
    """What an RFM computation found: customers with orders, orders of unknown customers, customers per group.

    ``orders_id``, ``computed_at`` and ``settings`` say which orders, when and
    how (for :meth:`segmentation.behaviour.stage.BehaviourStage.last_rfm`).
    """

    customers_with_orders: int
    unknown_customer_orders: int
    groups: dict[str, int]
    link_column: str
    as_of: str
    orders_id: int | None = field(default=None, compare=False)
    computed_at: datetime | None = field(default=None, compare=False)
    settings: RFMSettings | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """``customers_with_orders``, ``unknown_customer_orders``, ``groups``, ``link_column``, ``as_of``
        (the CLI's JSON)."""
        return {"customers_with_orders": self.customers_with_orders,
                "unknown_customer_orders": self.unknown_customer_orders, "groups": dict(self.groups),
                "link_column": self.link_column, "as_of": self.as_of}


NUMERIC = schema.RFM_NUMERIC


def groups_table() -> pd.DataFrame:
    """The named groups with their rules, as the page shows them."""
    return pd.DataFrame([(name, rule.replace("AND", "and").replace("true", "otherwise"), meaning)
                         for name, rule, meaning in GROUPS], columns=["group", "rule (scores 1-5)", "meaning"])


def _one(ds: Dataset, *roles: str) -> str | None:
    found = ds.columns_with_role(*roles)
    return found[0] if found else None


def link_share_sql(customers: Dataset, orders: Dataset, column: str) -> str:
    """SQL of the share of (at most 5,000) values of an orders column that are a customer's record id."""
    idc = _one(customers, "id")
    return (f"SELECT avg(CAST(lower(trim(CAST(o.{quote(column)} AS VARCHAR))) IN (SELECT lower(trim(CAST("
            f"{quote(idc)} AS VARCHAR))) FROM {customers.clean_table}) AS DOUBLE)) FROM (SELECT {quote(column)} "
            f"FROM {orders.clean_table} WHERE {quote(column)} IS NOT NULL LIMIT 5000) o")


def link_column(store: Store, customers: Dataset, orders: Dataset) -> str:
    """The orders column whose values are most often a customer's record id."""
    idc = _one(customers, "id")
    if idc is None:
        raise ColumnError(f"Dataset {customers.name!r} has no record id column to link orders to.")
    candidates = [c for c in orders.columns if orders.roles.get(c) in ("id", "text", "category", "exact")]
    repo = BehaviourRepository(store)
    best, share = None, 0.0
    for col in candidates:
        hit = repo.share(link_share_sql(customers, orders, col))
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
    # Each record id -> the customer its record belongs to after merges (the customers stage's definition).
    ids = (f"SELECT trim(CAST(t.{quote(idc)} AS VARCHAR)) AS rid, min(c.customer_id) AS customer_id "
           f"FROM {customers.clean_table} t JOIN ({record_customers_sql(customers, 'r')}) c ON c._row = t._row "
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


def orders_up_to_sql(orders: Dataset) -> str:
    """SQL counting the orders up to the reference date (one parameter: ``as_of``)."""
    return f"SELECT count(*) FROM {orders.clean_table} WHERE {quote(_when(orders))} <= CAST(? AS DATE)"


def _settings_from(saved: dict) -> RFMSettings:
    return RFMSettings(**{k: v for k, v in saved.items() if k in RFMSettings.__dataclass_fields__})


def compute_rfm(store: Store, cust: Dataset, ords: Dataset, settings: RFMSettings = RFMSettings()) -> RFMResult:
    """Compute RFM for the customers of ``cust`` from the orders of ``ords`` and keep it as ``rfm_<id>``."""
    if ords.kind != "transactions":
        raise _kind_error(ords)
    link = settings.link_column or link_column(store, cust, ords)
    if link not in ords.columns:
        raise MissingColumnsError([link], ords.columns)
    settings = RFMSettings(**{**asdict(settings), "as_of": settings.as_of or date.today().isoformat(),
                              "link_column": link})
    table, _unknown, params = rfm_sql(cust, ords, link, settings)

    def summarise(groups: dict[str, int], unknown: int) -> dict:
        return RFMResult(sum(groups.values()), unknown, {name: int(groups.get(name, 0)) for name, _r, _m in GROUPS},
                         link, settings.as_of).to_dict()

    stats = BehaviourRepository(store).write_rfm(cust.id, ords.id, table, params, orders_up_to_sql(ords),
                                                 [settings.as_of], json.dumps(asdict(settings)), summarise)
    return RFMResult(**stats, orders_id=ords.id, settings=settings)


def _kind_error(ords: Dataset) -> SettingError:
    error = SettingError("orders", ords.name, "a dataset of kind 'transactions'")
    error.args = (f"Dataset {ords.name!r} holds customers, not orders: import the orders file with kind "
                  "'transactions'.",)
    return error


def last_rfm(store: Store, cust: Dataset) -> RFMResult | None:
    """Settings and figures of the last RFM computation of a customers dataset, if any."""
    row = BehaviourRepository(store).rfm_run(cust.id)
    if row is None:
        return None
    orders_id, at, settings, stats = row
    return RFMResult(**json.loads(stats), orders_id=orders_id, computed_at=at,
                     settings=_settings_from(json.loads(settings)))


def _computed(store: Store, cust: Dataset) -> RFMResult:
    info = last_rfm(store, cust)
    if info is None:
        raise NotFoundError(f"No RFM for {cust.name!r} yet: compute it from an orders file first.")
    return info


def rfm_rows(store: Store, cust: Dataset) -> pd.DataFrame:
    """Per customer with orders: recency, frequency, monetary, average order, tenure, favourite category,
    R, F, M scores and RFM group."""
    _computed(store, cust)
    return BehaviourRepository(store).rfm_rows(cust.id)


def unknown_orders_of(store: Store, cust: Dataset, ords: Dataset | None = None) -> pd.DataFrame:
    """Orders whose customer id matches no customer (to download and fix); ``ords``: the orders RFM used."""
    info = _computed(store, cust)
    if ords is None or ords.id != info.orders_id:
        ords = DatasetsRepository(store).dataset_by_id(info.orders_id)
    _table, unknown, _params = rfm_sql(cust, ords, info.link_column, info.settings)
    return BehaviourRepository(store).rows(unknown, [info.as_of])


def grid_of(store: Store, cust: Dataset) -> pd.DataFrame:
    """The R × F grid: customers and total value per cell."""
    _computed(store, cust)
    return BehaviourRepository(store).rfm_grid(cust.id)


# ------------------------------------------------------------------ by name (older callers)

def compute(store: Store, customers: str | None = None, orders: str | None = None,
            settings: RFMSettings = RFMSettings()) -> dict:
    """Compute RFM for a customers dataset from an orders dataset and keep it as ``rfm_<id>``.

    Returns
    -------
    dict
        ``customers_with_orders``, ``unknown_customer_orders``, ``groups`` (name -> customers),
        ``link_column``, ``as_of``.
    """
    datasets = DatasetsRepository(store)
    cust, ords = datasets.dataset(customers or None), datasets.dataset(orders or None, kind="transactions")
    return compute_rfm(store, cust, ords, settings).to_dict()


def last(store: Store, customers: str | None = None) -> dict | None:
    """Settings and figures of the last RFM computation of a customers dataset, if any."""
    info = last_rfm(store, DatasetsRepository(store).dataset(customers or None))
    if info is None:
        return None
    return {"orders_id": info.orders_id, "computed_at": info.computed_at, "settings": asdict(info.settings),
            **info.to_dict()}


def rfm_table(store: Store, customers: str | None = None) -> pd.DataFrame:
    """Per customer with orders: RFM measures, scores and group (see :func:`rfm_rows`)."""
    return rfm_rows(store, DatasetsRepository(store).dataset(customers or None))


def unknown_orders(store: Store, customers: str | None = None) -> pd.DataFrame:
    """Orders whose customer id matches no customer (to download and fix)."""
    return unknown_orders_of(store, DatasetsRepository(store).dataset(customers or None))


def grid(store: Store, customers: str | None = None) -> pd.DataFrame:
    """The R × F grid: customers and total value per cell."""
    return grid_of(store, DatasetsRepository(store).dataset(customers or None))


__all__ = [
    "COLUMNS",
    "GROUPS",
    "RFMResult",
    "RFMSettings",
    "compute",
    "compute_rfm",
    "grid",
    "grid_of",
    "groups_table",
    "last",
    "last_rfm",
    "link_column",
    "link_share_sql",
    "orders_up_to_sql",
    "rfm_rows",
    "rfm_sql",
    "rfm_table",
    "unknown_orders",
    "unknown_orders_of",
]

"""RFM from an orders file: recency, frequency, monetary per customer, quintile scores, named groups.

**Which columns.** A transactions dataset's columns keep their import role; the
*order roles* (:data:`segmentation.core.vocabulary.ORDER_ROLES`) say which of
them RFM reads: the customer id (the link to the customers' record ids), the
order date, the order id (an invoice number), the amount (or a quantity and a
unit price: the amount is then quantity × price), a category and a status.
They are guessed (:func:`order_columns`: headers in English and French, then
values; the link is the column whose values are most often a customer's record
id), can be set in :class:`RFMSettings` (``""``: no such column), and every
result says which columns were used.

**Orders, not lines.** A line is a *purchase* unless it is

- a *cancellation*: its order id is a cancellation invoice (the prefix
  ``cancel_prefix``, ``C`` by default, followed by a digit, as ``C536379``; a
  file whose every order id starts so uses the letter as part of its ids and has
  none), or its status is a cancelled word
  (:data:`~segmentation.core.vocabulary.CANCELLED_WORDS`);
- a *return*: a negative quantity or amount, or a returned status
  (:data:`~segmentation.core.vocabulary.RETURNED_WORDS`).

A cancellation invoice or a negative line takes its value off monetary
(``-|value|``); a line that only *says* it was cancelled or returned (its
status) adds nothing (and takes off a negative value). Cancellations and
returns are never orders; a customer with no purchase line is not a buyer (not
in the table; counted). Frequency counts the distinct order ids of purchase
lines (each line an order when there is no order id column) of the
``window_days`` days up to ``as_of``; monetary sums the net value of the lines
of that same window; ``orders`` and ``monetary_all_time`` are the same figures
over all time; ``average_order`` is ``monetary_all_time / orders``. Recency
and tenure are days from the last and the first purchase to ``as_of``; orders
after ``as_of`` are left out. The favourite category is the most frequent
category of the customer's purchase orders (an order's category: that of its
first purchase line).

**Scores** (1–5, 5 best): ``1 + floor(5 × (customers strictly worse) / customers)``
on recency (fewer days is better), frequency and monetary: customers with equal
values share a score, the lowest their positions span (ties take the lower
score); a customer without an order in the window has F = 1. **Groups**: the
R × F segment map :data:`SEGMENT_MAP`, the widely used 10-cell map of R and F
scores (``[1-2][1-2]`` Hibernating, ``[1-2][3-4]`` At risk, ``[1-2]5`` Can't
lose them, ``3[1-2]`` About to sleep, ``33`` Need attention, ``[3-4][4-5]``
Loyal, ``41`` Promising, ``51`` New, ``[4-5][2-3]`` Potential loyalists,
``5[4-5]`` Champions) with its Hibernating corner split as the 11-group map
does: R = 1 and F ≤ 2 is Lost. Every cell has a group, every group a cell.

**Lifetime measures** (``lifetime=True``), as ``lifetimes``'
``summary_data_from_transaction_data`` defines them with daily periods:
``repeat_frequency`` (days with a purchase, minus one), ``lifetime_recency``
(days from the first to the last purchase), ``lifetime_t`` (days from the
first purchase to ``as_of``) and ``lifetime_monetary`` (the mean value of the
purchase days after the first; 0 without one).

Orders are linked to customers by record id; after merges, the orders of
merged records belong to the golden record (its ``customer_id``, as the
customers stage defines it: :func:`segmentation.customers.identity.record_customers_sql`).
The statements are built here as text; :class:`segmentation.behaviour.repository.BehaviourRepository`,
the stage's only SQL executor, runs them and keeps the result as a table per
customers dataset (``rfm_<id>``) that later steps read as customer attributes.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime

import pandas as pd

from ..core import schema
from ..core.errors import ColumnError, MissingColumnsError, NotFoundError, SettingError
from ..core.store import Dataset, Store, quote
from ..core.vocabulary import (
    CANCELLATION_PREFIX,
    CANCELLED_WORDS,
    ORDER_ROLE_COLUMNS,
    ORDER_ROLES,
    RETURNED_WORDS,
    ROLES,
    fold_word_sql,
)
from ..customers.identity import record_customers_sql
from ..i18n import Message, message
from ..ingest.repository import DatasetsRepository
from ..ingest.roles import guess_order_roles
from .repository import BehaviourRepository

#: The R × F segment map: group, its R scores, its F scores, what it means (first orders, then the map's order).
SEGMENT_MAP: list[tuple[str, tuple[int, ...], tuple[int, ...], str]] = [
    ("Champions", (5,), (4, 5), "bought recently, buy often"),
    ("Loyal", (3, 4), (4, 5), "buy often, fairly recently"),
    ("Potential loyalists", (4, 5), (2, 3), "recent, a few orders"),
    ("New", (5,), (1,), "very recent, few orders yet"),
    ("Promising", (4,), (1,), "recent, few orders yet"),
    ("Need attention", (3,), (3,), "average recency and frequency"),
    ("About to sleep", (3,), (1, 2), "fairly long ago, few orders"),
    ("At risk", (1, 2), (3, 4), "used to buy often, not lately"),
    ("Can't lose them", (1, 2), (5,), "bought the most often, not lately"),
    ("Hibernating", (2,), (1, 2), "few orders, a while ago"),
    ("Lost", (1,), (1, 2), "few orders, long ago"),
]
#: The named groups as rules over the R and F scores (``name, SQL rule, meaning``).
GROUPS: list[tuple[str, str, str]] = [
    (name, f"r IN ({', '.join(map(str, rs))}) AND f IN ({', '.join(map(str, fs))})", meaning)
    for name, rs, fs, meaning in SEGMENT_MAP]
COLUMNS = schema.RFM_COLUMNS  # table column -> the attribute name customers see
NUMERIC = schema.RFM_NUMERIC
#: Columns of ``rfm_<id>`` with ``lifetime=True``.
LIFETIME_COLUMNS = ("repeat_frequency", "lifetime_recency", "lifetime_t", "lifetime_monetary")
#: Order role -> the :class:`RFMSettings` field that sets its column.
SETTING_OF_ROLE = {"customer": "link_column", "order_date": "date_column", "order_id": "order_column",
                   "amount": "amount_column", "quantity": "quantity_column", "unit_price": "price_column",
                   "category": "category_column", "status": "status_column"}


@dataclass(frozen=True)
class RFMSettings:
    """How RFM is computed.

    Parameters
    ----------
    as_of : str, optional
        ISO reference date (default today): recency and tenure count days to it; later orders are ignored.
    window_days : int
        Frequency and monetary count the orders of this many days up to ``as_of``.
    link_column : str, optional
        Column of the orders holding the customer's record id (default: the one whose values match most).
    amount_column, order_column, quantity_column, price_column, status_column : str, optional
        The orders' columns for each order role (default: guessed; ``""``: no such column). Monetary sums
        ``amount_column``, else ``quantity_column × price_column``.
    date_column, category_column : str, optional
        The order date and the category (default: guessed; ``""``: no category).
    cancel_prefix : str
        An order id made of this prefix and digits is a cancellation invoice (``""``: none).
    lifetime : bool
        Also compute the ``lifetimes`` summary measures (repeat frequency, recency, T, monetary value).
    """

    as_of: str | None = None
    window_days: int = 365
    link_column: str | None = None
    amount_column: str | None = None
    order_column: str | None = None
    quantity_column: str | None = None
    price_column: str | None = None
    status_column: str | None = None
    date_column: str | None = None
    category_column: str | None = None
    cancel_prefix: str = CANCELLATION_PREFIX
    lifetime: bool = False


@dataclass(frozen=True)
class OrderColumns:
    """The orders' column for each order role (``None``: none), as RFM reads them."""

    customer: str | None = None
    order_date: str | None = None
    order_id: str | None = None
    amount: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    category: str | None = None
    status: str | None = None

    def to_dict(self) -> dict:
        """Order role -> column (or None)."""
        return asdict(self)

    def monetary(self) -> str:
        """How monetary is read, in words (English; the page has its own)."""
        if self.amount:
            return f"sum of {self.amount}"
        return f"sum of {self.quantity} × {self.unit_price}"


@dataclass
class RFMResult:
    """What an RFM computation found and which columns it read.

    ``customers_with_orders``: buyers (customers with a purchase up to ``as_of``);
    ``unknown_customer_orders``: lines whose customer id matches no customer;
    ``guest_lines``: lines without a customer id; ``cancelled_lines`` and
    ``returned_lines``: lines that are not purchases; ``return_only_customers``:
    known customers with lines but no purchase (not buyers); ``orders``: distinct
    purchase orders of the buyers (all time); ``monetary`` and
    ``monetary_all_time``: the buyers' net value in the window and over all time.
    ``orders_id``, ``computed_at`` and ``settings`` say which orders, when and
    how (for :meth:`segmentation.behaviour.stage.BehaviourStage.last_rfm`).
    """

    customers_with_orders: int
    unknown_customer_orders: int
    groups: dict[str, int]
    link_column: str
    as_of: str
    window_days: int = 365
    columns: dict[str, str | None] = field(default_factory=dict)
    cancel_prefix: str = CANCELLATION_PREFIX
    order_lines: int = 0
    orders: int = 0
    guest_lines: int = 0
    cancelled_lines: int = 0
    returned_lines: int = 0
    return_only_customers: int = 0
    monetary: float = 0.0
    monetary_all_time: float = 0.0
    orders_id: int | None = field(default=None, compare=False)
    computed_at: datetime | None = field(default=None, compare=False)
    settings: RFMSettings | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """Every figure and the columns used (the CLI's JSON)."""
        return {f.name: (dict(getattr(self, f.name)) if isinstance(getattr(self, f.name), dict)
                         else getattr(self, f.name))
                for f in fields(self) if f.compare}


def groups_table() -> pd.DataFrame:
    """The named groups with their R and F scores and meaning, as the page shows them."""
    def span(scores: tuple[int, ...]) -> str:
        return "–".join(map(str, sorted({scores[0], scores[-1]})))
    return pd.DataFrame([(name, span(rs), span(fs), meaning) for name, rs, fs, meaning in SEGMENT_MAP],
                        columns=["group", "R", "F", "meaning"])


def segment_map() -> pd.DataFrame:
    """The R × F map: a row per R score (5 first), a column per F score (1 to 5), the group in each cell."""
    cells = {(r, f): name for name, rs, fs, _m in SEGMENT_MAP for r in rs for f in fs}
    return pd.DataFrame([[cells[(r, f)] for f in range(1, 6)] for r in range(5, 0, -1)],
                        index=pd.Index([5, 4, 3, 2, 1], name="R"), columns=pd.Index([1, 2, 3, 4, 5], name="F"))


def group_of(r: int, f: int) -> str:
    """The group of an R and an F score."""
    return next(name for name, rs, fs, _m in SEGMENT_MAP if r in rs and f in fs)


# ------------------------------------------------------------------ which columns

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
        raise ColumnError(message("Dataset '{dataset}' has no record id column to link orders to.",
                                  dataset=customers.name))
    candidates = orders.columns_with_role(*ORDER_ROLE_COLUMNS["customer"])
    repo = BehaviourRepository(store)
    best, share = None, 0.0
    for col in candidates:
        hit = repo.share(link_share_sql(customers, orders, col))
        if hit is not None and hit > share:
            best, share = col, float(hit)
    if best is None or share < 0.5:
        raise ColumnError(message("No column of '{orders}' holds the customers' ids ('{id}' of '{customers}'); "
                                  "columns: {columns}. Name it with link_column / --link-column.",
                                  orders=orders.name, id=idc, customers=customers.name,
                                  columns=", ".join(orders.columns)))
    return best


def guessed_columns(store: Store, customers: Dataset, orders: Dataset, link: bool = True) -> OrderColumns:
    """The order columns guessed from the orders' headers and values (the link: from the customers' ids, unless
    ``link`` is false: then from the header only)."""
    guess = guess_order_roles(orders.columns, orders.roles)             # the headers
    left = set(orders.columns) - {c for c in guess.values() if c}
    if any(orders.roles.get(c) in ORDER_ROLE_COLUMNS[role] for c in left for role, v in guess.items() if v is None):
        guess = guess_order_roles(orders.columns, orders.roles, BehaviourRepository(store).sample(orders))
    if link:
        with contextlib.suppress(ColumnError):  # else the header's guess; order_columns says what is missing
            guess["customer"] = link_column(store, customers, orders)
    return OrderColumns(**guess)


def column_choices(orders: Dataset) -> dict[str, list[str]]:
    """Order role -> the orders' columns that can hold it (their import role fits), in file order."""
    return {role: orders.columns_with_role(*allowed) for role, allowed in ORDER_ROLE_COLUMNS.items()}


def _role_error(orders: Dataset, role: str, column: str) -> ColumnError:
    allowed = ", ".join(ROLES[r] for r in ORDER_ROLE_COLUMNS[role])
    current = ROLES.get(orders.roles.get(column), orders.roles.get(column))
    return ColumnError(message("Column '{column}' of '{orders}' cannot be the “{role}” column: its role is "
                               "'{current}', expected {allowed}. Change its role on import, or choose another "
                               "column.", column=column, orders=orders.name, role=Message(ORDER_ROLES[role]),
                               current=current, allowed=allowed))


def order_columns(store: Store, customers: Dataset, orders: Dataset, settings: RFMSettings = RFMSettings(),
                  guessed: OrderColumns | None = None) -> OrderColumns:
    """The columns RFM reads: those named in ``settings`` (``""``: none), else the guesses; checked.

    Raises
    ------
    MissingColumnsError
        A named column is not in the orders.
    ColumnError
        A column cannot hold its role (an amount that is not a number...), there is no customer id, no
        order date, or neither an amount nor a quantity and a unit price.
    """
    chosen = {role: getattr(settings, SETTING_OF_ROLE[role]) for role in ORDER_ROLES}
    if any(v is None for v in chosen.values()):
        guessed = guessed or guessed_columns(store, customers, orders, link=chosen["customer"] is None)
        chosen = {role: (getattr(guessed, role) if v is None else v) for role, v in chosen.items()}
    chosen = {role: v or None for role, v in chosen.items()}
    named = [c for c in chosen.values() if c is not None]
    missing = [c for c in named if c not in orders.columns]
    if missing:
        raise MissingColumnsError(missing, orders.columns, where=repr(orders.name))
    for role, column in chosen.items():
        if column is not None and orders.roles.get(column) not in ORDER_ROLE_COLUMNS[role]:
            raise _role_error(orders, role, column)
    if chosen["customer"] is None:
        link_column(store, customers, orders)  # raises, saying what was expected
    if chosen["order_date"] is None:
        raise ColumnError(message("The orders need an order date column; '{orders}' has none read as dates. "
                                  "Give a column the role of a date on import, or name it with date_column / "
                                  "--date-column.", orders=orders.name))
    if chosen["amount"] is None and (chosen["quantity"] is None or chosen["unit_price"] is None):
        numeric = ", ".join(orders.columns_with_role("measure")) or "–"
        raise ColumnError(message("The orders need an amount column, or a quantity and a unit price column; the "
                                  "numeric columns of '{orders}' are: {numeric}. Choose them (amount_column / "
                                  "--amount-column, or quantity_column and price_column).",
                                  orders=orders.name, numeric=numeric))
    return OrderColumns(**chosen)


# ------------------------------------------------------------------ the statements

PURCHASE, CANCEL, RETURN = 0, 1, 2  # the kinds of line (``_kind``)
# The temporary tables of one computation: figures per customer, lifetime measures.
STAGE, LIFETIME = "_rfm_stage", "_rfm_lifetime"


def _words(words) -> str:
    return "(" + ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(words)) + ")"


def prefix_applies_sql(orders: Dataset, cols: OrderColumns) -> str | None:
    """SQL: whether some order id does *not* start with ``$prefix`` (else the prefix is part of every id and marks
    no cancellation); ``None`` without an order id column."""
    if not cols.order_id:
        return None
    order = f"CAST({quote(cols.order_id)} AS VARCHAR)"
    return (f"SELECT EXISTS (SELECT 1 FROM {orders.clean_table} WHERE {quote(cols.order_id)} IS NOT NULL "
            f"AND NOT starts_with({order}, $prefix))")


def lines_sql(customers: Dataset, orders: Dataset, cols: OrderColumns, prefix: bool = True) -> str:
    """SQL of the orders' lines up to ``$as_of``: ``_line`` (the row), ``_customer`` (NULL: unknown or guest),
    ``_guest``, ``_day``, ``_recent`` (in the window), ``_kind`` (:data:`PURCHASE`, :data:`CANCEL`,
    :data:`RETURN`), ``_net`` (what the line adds to monetary), ``_order`` and ``_category``.

    ``prefix``: whether ``$prefix`` marks cancellation invoices (see :func:`prefix_applies_sql`).
    Parameters: ``$as_of``, ``$window`` and, with an order id and ``prefix``, ``$prefix``.
    """
    idc = _one(customers, "id")
    link, when = quote(cols.customer), quote(cols.order_date)
    if cols.amount:
        value = f"CAST(o.{quote(cols.amount)} AS DOUBLE)"
    else:
        value = f"(CAST(o.{quote(cols.quantity)} AS DOUBLE) * CAST(o.{quote(cols.unit_price)} AS DOUBLE))"
    negative = f"coalesce({value} < 0, false)"
    if cols.quantity:
        negative += f" OR coalesce(o.{quote(cols.quantity)} < 0, false)"
    if cols.order_id:
        text = f"CAST(o.{quote(cols.order_id)} AS VARCHAR)"  # normalised ids and texts are trimmed
        order = f"coalesce({text}, '#' || CAST(o._row AS VARCHAR))"  # a line without an order id: an order
        prefixed = (f"coalesce(starts_with({text}, $prefix) AND substr({text}, length($prefix) + 1, 1) "
                    f"BETWEEN '0' AND '9', false)") if prefix else "false"
    else:
        prefixed, order = "false", "NULL"
    if cols.status:
        status = fold_word_sql(f"CAST(o.{quote(cols.status)} AS VARCHAR)")
        said_cancel = f"coalesce({status} IN {_words(CANCELLED_WORDS)}, false)"
        said_return = f"coalesce({status} IN {_words(RETURNED_WORDS)}, false)"
    else:
        said_cancel = said_return = "false"
    category = f"o.{quote(cols.category)}" if cols.category else "NULL"
    # Each record id -> the customer its record belongs to after merges (the customers stage's definition).
    ids = (f"SELECT trim(CAST(t.{quote(idc)} AS VARCHAR)) AS rid, min(c.customer_id) AS customer_id "
           f"FROM {customers.clean_table} t JOIN ({record_customers_sql(customers, 'r')}) c ON c._row = t._row "
           f"WHERE t.{quote(idc)} IS NOT NULL GROUP BY 1")
    # "_customer", not "customer_id": an orders file often has a column of that name.
    typed = (f"SELECT o._row AS _line, i.customer_id AS _customer, "
             f"(o.{link} IS NULL OR CAST(o.{link} AS VARCHAR) = '') AS _guest, "
             f"o.{when} AS _day, o.{when} > CAST($as_of AS DATE) - CAST($window AS INTEGER) AS _recent, "
             f"coalesce({value}, 0) AS _value, {prefixed} AS _prefixed, ({negative}) AS _negative, "
             f"{said_cancel} AS _said_cancel, {said_return} AS _said_return, {order} AS _order, "
             f"{category} AS _category "
             f"FROM {orders.clean_table} o LEFT JOIN ({ids}) i ON i.rid = CAST(o.{link} AS VARCHAR) "
             f"WHERE o.{when} IS NOT NULL AND o.{when} <= CAST($as_of AS DATE)")
    kind = (f"CAST(CASE WHEN _prefixed OR _said_cancel THEN {CANCEL} WHEN _negative OR _said_return THEN {RETURN} "
            f"ELSE {PURCHASE} END AS TINYINT)")
    net = ("CASE WHEN _prefixed OR _negative THEN -abs(_value) WHEN _said_cancel OR _said_return "
           "THEN least(_value, 0) ELSE _value END")
    return (f"SELECT _line, _customer, _guest, _day, _recent, {kind} AS _kind, {net} AS _net, _order, _category "
            f"FROM ({typed})")


def stage_sql(cols: OrderColumns, lines: str) -> str:
    """SQL of the figures per customer (and per unknown / guest group: ``customer_id`` NULL) from ``lines`` (a
    table or a parenthesised :func:`lines_sql`): with an order id, orders first (an order is bought when one of
    its lines is a purchase; its category that of its first purchase line). The favourite category is the most
    frequent category of the customer's purchase orders (of its purchase lines without an order id)."""
    buy = f"_kind = {PURCHASE}"
    common = (f"count(*) FILTER (WHERE _kind = {CANCEL}) AS cancelled_lines, "
              f"count(*) FILTER (WHERE _kind = {RETURN}) AS returned_lines, "
              f"max(_day) FILTER (WHERE {buy}) AS last_buy, min(_day) FILTER (WHERE {buy}) AS first_buy")
    category = f"mode(_category) FILTER (WHERE {buy})" if cols.category else "CAST(NULL AS VARCHAR)"
    first = f"arg_min(_category, _line) FILTER (WHERE {buy})" if cols.category else "CAST(NULL AS VARCHAR)"
    if cols.order_id:
        per_order = (f"SELECT _customer, _guest, count(*) AS lines, {common}, bool_or({buy}) AS buy, "
                     f"bool_or({buy} AND _recent) AS buy_recent, sum(_net) AS net, "
                     f"sum(_net) FILTER (WHERE _recent) AS net_recent, {first} AS category "
                     f"FROM {lines} GROUP BY _customer, _guest, _order")
        figures = ("sum(lines) AS lines, sum(cancelled_lines) AS cancelled_lines, "
                   "sum(returned_lines) AS returned_lines, count(*) FILTER (WHERE buy_recent) AS frequency, "
                   "count(*) FILTER (WHERE buy) AS orders, coalesce(sum(net_recent), 0) AS monetary, "
                   "coalesce(sum(net), 0) AS monetary_all_time, max(last_buy) AS last_buy, "
                   "min(first_buy) AS first_buy, "
                   + ("mode(category) FILTER (WHERE buy)" if cols.category else "CAST(NULL AS VARCHAR)")
                   + " AS favourite_category")
        source = f"({per_order})"
    else:
        figures = (f"count(*) AS lines, {common}, count(*) FILTER (WHERE {buy} AND _recent) AS frequency, "
                   f"count(*) FILTER (WHERE {buy}) AS orders, coalesce(sum(_net) FILTER (WHERE _recent), 0) "
                   f"AS monetary, coalesce(sum(_net), 0) AS monetary_all_time, {category} AS favourite_category")
        source = lines
    return (f"SELECT _customer AS customer_id, _guest AS guest, {figures} FROM {source} "
            f"GROUP BY _customer, _guest")


def lifetime_sql(lines: str) -> str:
    """SQL of ``lifetimes``' summary per customer (daily periods): repeat frequency, recency, T, monetary value."""
    days = (f"SELECT _customer, _day, sum(_net) AS v FROM {lines} WHERE _kind = {PURCHASE} "
            f"AND _customer IS NOT NULL GROUP BY ALL")
    return (f"SELECT _customer AS customer_id, count(*) - 1 AS repeat_frequency, "
            f"date_diff('day', min(_day), max(_day)) AS lifetime_recency, "
            f"date_diff('day', min(_day), CAST($as_of AS DATE)) AS lifetime_t, "
            f"CASE WHEN count(*) > 1 THEN (sum(v) - arg_min(v, _day)) / (count(*) - 1) ELSE 0 END "
            f"AS lifetime_monetary FROM ({days}) GROUP BY ALL")


def table_sql(cols: OrderColumns, settings: RFMSettings, stage: str = STAGE) -> str:
    """SQL of the RFM table from the per-customer figures in table ``stage``: buyers, scores, groups (and the
    lifetime measures of table :data:`LIFETIME`)."""
    score = "1 + (5 * (rank() OVER (ORDER BY {}) - 1)) // count(*) OVER ()"   # ties: the lowest position
    case = "CASE " + " ".join(f"WHEN {rule} THEN '{name.replace(chr(39), chr(39) * 2)}'"
                              for name, rule, _ in GROUPS) + " END"
    buyers = (f"SELECT customer_id, date_diff('day', last_buy, CAST($as_of AS DATE)) AS recency_days, frequency, "
              f"monetary, monetary_all_time, monetary_all_time / orders AS average_order, "
              f"date_diff('day', first_buy, CAST($as_of AS DATE)) AS tenure_days, favourite_category, orders, "
              f"cancelled_lines, returned_lines FROM {stage} WHERE customer_id IS NOT NULL AND orders > 0")
    scored = (f"SELECT *, {score.format('recency_days DESC')} AS r, "
              f"CASE WHEN frequency = 0 THEN 1 ELSE {score.format('frequency')} END AS f, "
              f"{score.format('monetary')} AS m FROM ({buyers})")
    table = f"SELECT *, {case} AS rfm_group FROM ({scored})"
    columns, life = "t.*", ""
    if settings.lifetime:
        columns += ", " + ", ".join(f"coalesce(l.{c}, 0) AS {c}" for c in LIFETIME_COLUMNS)
        life = f"LEFT JOIN {LIFETIME} l USING (customer_id)"
    return f"SELECT {columns} FROM ({table}) t {life}"


def counts_sql(stage: str = STAGE) -> str:
    """SQL of the run's figures from the per-customer figures in table ``stage`` (one row, named columns)."""
    known = "customer_id IS NOT NULL"
    return (f"SELECT coalesce(sum(lines), 0) AS order_lines, "
            f"coalesce(sum(lines) FILTER (WHERE guest), 0) AS guest_lines, "
            f"coalesce(sum(lines) FILTER (WHERE customer_id IS NULL AND NOT guest), 0) AS unknown_customer_orders, "
            f"coalesce(sum(cancelled_lines), 0) AS cancelled_lines, "
            f"coalesce(sum(returned_lines), 0) AS returned_lines, "
            f"count(*) FILTER (WHERE {known} AND orders = 0) AS return_only_customers, "
            f"coalesce(sum(orders) FILTER (WHERE {known} AND orders > 0), 0) AS orders, "
            f"coalesce(sum(monetary) FILTER (WHERE {known} AND orders > 0), 0) AS monetary, "
            f"coalesce(sum(monetary_all_time) FILTER (WHERE {known} AND orders > 0), 0) AS monetary_all_time "
            f"FROM {stage}")


def unknown_sql(customers: Dataset, orders: Dataset, cols: OrderColumns, prefix: bool = True) -> str:
    """SQL of the order lines up to ``$as_of`` whose customer id matches no customer (guests left out)."""
    lines = lines_sql(customers, orders, cols, prefix)
    return (f"SELECT o.* EXCLUDE (_row) FROM {orders.clean_table} o JOIN ({lines}) l ON l._line = o._row "
            f"WHERE l._customer IS NULL AND NOT l._guest ORDER BY o._row")


def params_of(settings: RFMSettings) -> dict:
    """The statements' parameters (each statement takes those it names)."""
    return {"as_of": settings.as_of or date.today().isoformat(), "window": int(settings.window_days),
            "prefix": settings.cancel_prefix or ""}


def rfm_sql(customers: Dataset, orders: Dataset, cols: OrderColumns, settings: RFMSettings,
            prefix: bool = True) -> dict:
    """The statements of an RFM computation: ``temporary`` (``[(table, SQL)]``, in order), ``table``, ``counts``."""
    prefix = prefix and bool(settings.cancel_prefix)
    # The lines are read again by each aggregate rather than kept: a scan costs less than a temporary table.
    lines = f"({lines_sql(customers, orders, cols, prefix)})"
    temporary = [(STAGE, stage_sql(cols, lines))]
    if settings.lifetime:
        temporary.append((LIFETIME, lifetime_sql(lines)))
    return {"temporary": temporary, "table": table_sql(cols, settings), "counts": counts_sql()}


# ------------------------------------------------------------------ computing and reading

def _settings_from(saved: dict) -> RFMSettings:
    return RFMSettings(**{k: v for k, v in saved.items() if k in RFMSettings.__dataclass_fields__})


def _result_from(stats: dict, **extra) -> RFMResult:
    return RFMResult(**{k: v for k, v in stats.items() if k in RFMResult.__dataclass_fields__}, **extra)


def _check(settings: RFMSettings) -> None:
    if not isinstance(settings.window_days, int) or isinstance(settings.window_days, bool) \
            or settings.window_days < 1:
        raise SettingError("window_days", settings.window_days, "a whole number of days, 1 or more")
    if settings.as_of is not None:
        try:
            date.fromisoformat(str(settings.as_of))
        except ValueError:
            raise SettingError("as_of", settings.as_of, "a date YYYY-MM-DD") from None


def compute_rfm(store: Store, cust: Dataset, ords: Dataset, settings: RFMSettings = RFMSettings(),
                progress: Callable[[float, Message], None] | None = None) -> RFMResult:
    """Compute RFM for the customers of ``cust`` from the orders of ``ords`` and keep it as ``rfm_<id>``.

    ``progress(fraction, message)`` is told each step (adding up the orders, the lifetime measures, the
    scores and groups, the counts), as the other long steps tell a page's progress bar.
    """
    if ords.kind != "transactions":
        raise _kind_error(ords)
    _check(settings)
    cols = order_columns(store, cust, ords, settings)
    settings = replace(settings, as_of=settings.as_of or date.today().isoformat(),
                       **{SETTING_OF_ROLE[role]: (column or "") for role, column in cols.to_dict().items()})
    repo = BehaviourRepository(store)
    check = prefix_applies_sql(ords, cols) if settings.cancel_prefix else None
    applies = bool(check and repo.share(check, {"prefix": settings.cancel_prefix}))
    statements = rfm_sql(cust, ords, cols, settings, prefix=applies)

    def summarise(groups: dict[str, int], counts: dict) -> dict:
        return RFMResult(sum(groups.values()), int(counts["unknown_customer_orders"]),
                         {name: int(groups.get(name, 0)) for name, _r, _m in GROUPS}, cols.customer, settings.as_of,
                         window_days=settings.window_days, columns=cols.to_dict(), cancel_prefix=settings.cancel_prefix,
                         **{k: (float(v) if k.startswith("monetary") else int(v)) for k, v in counts.items()
                            if k != "unknown_customer_orders"}).to_dict()

    labels = [message("Adding up each customer's orders"),
              *([message("Lifetime measures")] if settings.lifetime else []),
              message("Scores and groups"), message("Counting the orders left out")]

    def step(done: int, steps: int) -> None:
        if progress is not None:
            progress(done / steps, labels[min(done, len(labels) - 1)])

    stats = repo.write_rfm(cust.id, ords.id, statements, params_of(settings),
                           json.dumps(asdict(settings)), summarise, step)
    return _result_from(stats, orders_id=ords.id, settings=settings)


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
    return _result_from(json.loads(stats), orders_id=orders_id, computed_at=at,
                        settings=_settings_from(json.loads(settings)))


def _computed(store: Store, cust: Dataset) -> RFMResult:
    info = last_rfm(store, cust)
    if info is None:
        raise NotFoundError(f"No RFM for {cust.name!r} yet: compute it from an orders file first.")
    return info


def rfm_rows(store: Store, cust: Dataset) -> pd.DataFrame:
    """Per buyer: recency, frequency, monetary (window and all time), average order, tenure, favourite
    category, orders, cancelled and returned lines, R, F, M scores and RFM group (and lifetime measures)."""
    _computed(store, cust)
    return BehaviourRepository(store).rfm_rows(cust.id)


def unknown_orders_of(store: Store, cust: Dataset, ords: Dataset | None = None) -> pd.DataFrame:
    """Order lines whose customer id matches no customer (to download and fix); ``ords``: the orders RFM used."""
    info = _computed(store, cust)
    if ords is None or ords.id != info.orders_id:
        ords = DatasetsRepository(store).dataset_by_id(info.orders_id)
    settings = info.settings or RFMSettings(as_of=info.as_of, link_column=info.link_column)
    cols = order_columns(store, cust, ords, settings) if not info.columns else OrderColumns(**{
        role: info.columns.get(role) for role in ORDER_ROLES})
    if cols.customer is None:
        cols = replace(cols, customer=info.link_column)
    return BehaviourRepository(store).rows(unknown_sql(cust, ords, cols, prefix=False), params_of(settings))


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
        :meth:`RFMResult.to_dict`: ``customers_with_orders``, ``unknown_customer_orders``, ``groups`` (name ->
        customers), ``link_column``, ``as_of``, ``columns`` (order role -> column) and the counts.
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
    """Per buyer: RFM measures, scores and group (see :func:`rfm_rows`)."""
    return rfm_rows(store, DatasetsRepository(store).dataset(customers or None))


def unknown_orders(store: Store, customers: str | None = None) -> pd.DataFrame:
    """Order lines whose customer id matches no customer (to download and fix)."""
    return unknown_orders_of(store, DatasetsRepository(store).dataset(customers or None))


def grid(store: Store, customers: str | None = None) -> pd.DataFrame:
    """The R × F grid: customers and total value per cell."""
    return grid_of(store, DatasetsRepository(store).dataset(customers or None))


__all__ = [
    "COLUMNS",
    "GROUPS",
    "LIFETIME_COLUMNS",
    "SEGMENT_MAP",
    "OrderColumns",
    "RFMResult",
    "RFMSettings",
    "column_choices",
    "compute",
    "compute_rfm",
    "grid",
    "grid_of",
    "group_of",
    "groups_table",
    "guessed_columns",
    "last",
    "last_rfm",
    "link_column",
    "link_share_sql",
    "order_columns",
    "prefix_applies_sql",
    "rfm_rows",
    "rfm_sql",
    "rfm_table",
    "segment_map",
    "unknown_orders",
    "unknown_orders_of",
]

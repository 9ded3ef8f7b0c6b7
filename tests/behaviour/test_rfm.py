"""RFM on hand-made orders with known answers, on real order histories against plain pandas, and the order
columns guessed from headers and values; orders of merged records belong to the golden record."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation import i18n
from segmentation.behaviour import rfm
from segmentation.core.errors import ColumnError, MissingColumnsError, SettingError
from segmentation.dedupe import review as dedupe
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.ingest.roles import guess_order_roles, order_header_role
from tests.app.conftest import app_store, error_details, opened_stores, seeded_db, seeded_template  # noqa: F401
from tests.conftest import ROOT

REAL = ROOT / "tests" / "data" / "real"
CUSTOMERS = b"id;name\n" + b"".join(f"K{i};N{i}\n".encode() for i in range(1, 11))
# K1..K10: K(i) ordered i times, the last one on Jan 31 2026, 100 euros each (K10: 1000 each).
ORDERS = "order_id;customer_id;order_date;amount;category\n" + "".join(
    f"O{i}-{j};K{i};{(31 - min(j, 30)):02d}/01/2026;{1000 if i == 10 else 100};{'A' if j % 2 else 'B'}\n"
    for i in range(1, 11) for j in range(i)) + "O99;K99;01/01/2026;50;A\n" + "O98;K1;01/01/2027;50;A\n"

# Invoice lines: two lines of one invoice, a cancellation invoice (C prefix), a return (negative quantity), a
# guest line, a cancelled status, a customer with only a cancellation, one without orders in the window, an
# unknown customer, a returned status.
SIX = b"id;name\n" + b"".join(f"K{i};N{i}\n".encode() for i in range(1, 7))   # no K9
LINES = """InvoiceNo;CustomerID;InvoiceDate;Quantity;UnitPrice;Statut
1001;K1;2026-01-10;2;5.00;
1001;K1;2026-01-10;1;3.50;
1002;K1;2026-01-20;1;10.00;
C1003;K1;2026-01-21;-1;10.00;
1004;K2;2026-01-15;3;4.00;
1005;K2;2026-01-16;-2;4.00;
1006;;2026-01-18;1;7.00;
1007;K3;2026-01-05;1;20.00;Annulée
C1008;K4;2026-01-12;-1;15.00;
1009;K5;2024-06-01;2;50.00;
1010;K9;2026-01-02;1;1.00;
1011;K6;2026-01-25;1;30.00;Retournée
1012;K6;2026-01-26;1;40.00;Livrée
"""


@pytest.fixture
def stores(store):
    import_file(store, CUSTOMERS, "customers.csv")
    import_file(store, ORDERS.encode(), "orders.csv", ImportSettings(kind="transactions"))
    return store


def _with_orders(store, text: str, customers: bytes = SIX, name: str = "orders.csv", **options):
    import_file(store, customers, "customers.csv")
    import_file(store, text.encode(), name, ImportSettings(kind="transactions", **options))
    return store


def test_known_answers(stores):
    stats = rfm.compute(stores, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31", window_days=365))
    assert stats["customers_with_orders"] == 10 and stats["link_column"] == "customer_id"
    assert stats["unknown_customer_orders"] == 1                      # K99; the 2027 order is after as_of
    assert stats["columns"] == {"customer": "customer_id", "order_date": "order_date", "order_id": "order_id",
                                "amount": "amount", "quantity": None, "unit_price": None, "category": "category",
                                "status": None}
    table = rfm.rfm_table(stores).set_index("customer_id")
    k3 = table.loc["C3"]                                               # orders on Jan 31, 30, 29
    assert (k3["recency_days"], k3["frequency"], k3["monetary"], k3["tenure_days"]) == (0, 3, 300.0, 2)
    assert k3["average_order"] == 100.0 and k3["favourite_category"] == "B"   # B, A, B
    # Frequency 1..10 gives F quintiles 1,1,2,2,...,5,5.
    assert table.sort_values("frequency")["f"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert table["r"].eq(1).all()                     # everyone's last order is Jan 31: a tie takes the lower score
    assert table.loc["C10", "m"] == 5 and table.loc["C1", "m"] == 1
    assert table.loc["C10", "rfm_group"] == "Can't lose them"        # R 1 (the tie), F 5
    assert stats["groups"] == {**dict.fromkeys(stats["groups"], 0), "Lost": 4, "At risk": 4, "Can't lose them": 2}
    assert rfm.unknown_orders(stores)["customer_id"].tolist() == ["K99"]
    assert rfm.grid(stores)["customers"].sum() == 10


def test_invoice_lines_orders_cancellations_returns_and_guests(store):
    _with_orders(store, LINES)
    stats = rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31"))
    assert stats["columns"] == {"customer": "CustomerID", "order_date": "InvoiceDate", "order_id": "InvoiceNo",
                                "amount": None, "quantity": "Quantity", "unit_price": "UnitPrice", "category": None,
                                "status": "Statut"}
    figures = {k: stats[k] for k in ("customers_with_orders", "unknown_customer_orders", "order_lines", "orders",
                                     "guest_lines", "cancelled_lines", "returned_lines", "return_only_customers",
                                     "monetary", "monetary_all_time")}
    assert figures == {"customers_with_orders": 4, "unknown_customer_orders": 1, "order_lines": 13, "orders": 5,
                       "guest_lines": 1, "cancelled_lines": 3, "returned_lines": 2, "return_only_customers": 2,
                       "monetary": 57.5, "monetary_all_time": 157.5}
    table = rfm.rfm_table(store).set_index("customer_id")
    assert sorted(table.index) == ["C1", "C2", "C5", "C6"]            # K3, K4: only a cancellation, not buyers
    got = table[["recency_days", "frequency", "orders", "monetary", "monetary_all_time", "cancelled_lines",
                 "returned_lines", "r", "f", "m", "rfm_group"]].to_dict(orient="index")
    assert got == {
        # 1001 (two lines: one order) and 1002; C1003 takes 10 off: 10 + 3.5 + 10 - 10.
        "C1": {"recency_days": 11, "frequency": 2, "orders": 2, "monetary": 13.5, "monetary_all_time": 13.5,
               "cancelled_lines": 1, "returned_lines": 0, "r": 3, "f": 4, "m": 3, "rfm_group": "Loyal"},
        # 1004 (12) and the return 1005 (-2 × 4): not an order.
        "C2": {"recency_days": 16, "frequency": 1, "orders": 1, "monetary": 4.0, "monetary_all_time": 4.0,
               "cancelled_lines": 0, "returned_lines": 1, "r": 2, "f": 2, "m": 2, "rfm_group": "Hibernating"},
        # One order in 2024: none in the window, F = 1; monetary in the window 0, all time 100.
        "C5": {"recency_days": (date(2026, 1, 31) - date(2024, 6, 1)).days, "frequency": 0, "orders": 1,
               "monetary": 0.0, "monetary_all_time": 100.0, "cancelled_lines": 0, "returned_lines": 0,
               "r": 1, "f": 1, "m": 1, "rfm_group": "Lost"},
        # "Retournée" adds nothing; 1012 "Livrée" is the order. F: tied with C2 across the 2/3 boundary: 2.
        "C6": {"recency_days": 5, "frequency": 1, "orders": 1, "monetary": 40.0, "monetary_all_time": 40.0,
               "cancelled_lines": 0, "returned_lines": 1, "r": 4, "f": 2, "m": 4, "rfm_group": "Potential loyalists"},
    }
    assert rfm.unknown_orders(store)["InvoiceNo"].tolist() == ["1010"]   # the guest line is not "unknown"


def test_each_step_is_told_to_the_progress_bar(store):
    from segmentation.ingest.repository import DatasetsRepository

    _with_orders(store, LINES)
    repo = DatasetsRepository(store)
    told: list[tuple[float, str]] = []
    for lifetime, expected in ((False, [(0.0, "Adding up each customer's orders"), (1 / 3, "Scores and groups"),
                                        (2 / 3, "Counting the orders left out")]),
                               (True, [(0.0, "Adding up each customer's orders"), (0.25, "Lifetime measures"),
                                       (0.5, "Scores and groups"), (0.75, "Counting the orders left out")])):
        told.clear()
        rfm.compute_rfm(store, repo.dataset("customers"), repo.dataset("orders"),
                        rfm.RFMSettings(as_of="2026-01-31", lifetime=lifetime),
                        progress=lambda fraction, msg: told.append((fraction, msg.text)))
        assert told == expected


def test_no_order_column_counts_lines_and_no_prefix_means_no_cancellation(store):
    _with_orders(store, LINES)
    rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31", order_column=""))
    table = rfm.rfm_table(store).set_index("customer_id")
    assert table.loc["C1", ["frequency", "monetary", "cancelled_lines", "returned_lines"]].tolist() == [3, 13.5, 0, 1]
    rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31", cancel_prefix=""))
    table = rfm.rfm_table(store).set_index("customer_id")   # C1003 has a negative quantity: still a return
    assert table.loc["C1", ["frequency", "monetary", "cancelled_lines", "returned_lines"]].tolist() == [2, 13.5, 0, 1]


def test_a_prefix_on_every_order_id_is_part_of_the_ids(store):
    text = "order;client;date;montant\nC100;K1;2026-01-10;10\nC101;K1;2026-01-11;5\nC102;K2;2026-01-11;7\n"
    _with_orders(store, text)
    stats = rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31"))
    assert stats["columns"]["order_id"] == "order" and stats["columns"]["amount"] == "montant"
    assert (stats["cancelled_lines"], stats["orders"], stats["monetary"]) == (0, 3, 22.0)


def test_ties_take_the_lower_score_across_the_f_boundary(store):
    frequencies = [1, 1, 1, 2, 2, 2, 2, 3, 4, 5]
    text = "order_id;customer_id;order_date;amount\n" + "".join(
        f"O{i}-{j};K{i + 1};2026-01-{10 + j:02d};10\n" for i, n in enumerate(frequencies) for j in range(n))
    _with_orders(store, text, CUSTOMERS)
    rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31"))
    table = rfm.rfm_table(store).sort_values("frequency", kind="stable")
    # Positions 3 to 6 would give 2, 2, 3, 3: the four tied customers take the lowest, 2.
    assert table["f"].tolist() == [1, 1, 1, 2, 2, 2, 2, 4, 5, 5]
    assert table["m"].tolist() == [1, 1, 1, 2, 2, 2, 2, 4, 5, 5]       # monetary is 10 × frequency


def test_every_named_group_is_reached_on_a_designed_set(store):
    # 25 customers, one per (R, F) cell: distinct recencies and frequencies placed so that customer (a, b) has
    # R = a and F = b (score = 1 + floor(customers strictly worse / 5)).
    cells = [(a, b) for a in range(1, 6) for b in range(1, 6)]
    customers = b"id;name\n" + b"".join(f"R{a}F{b};x\n".encode() for a, b in cells)
    rows = []
    for a, b in cells:
        recency, frequency = 24 - (5 * (a - 1) + (b - 1)), 1 + 5 * (b - 1) + (a - 1)
        rows += [f"R{a}F{b}-{j};R{a}F{b};{(date(2026, 3, 1) - pd.Timedelta(days=recency + j)).isoformat()};1\n"
                 for j in range(frequency)]
    _with_orders(store, "order_id;customer_id;order_date;amount\n" + "".join(rows), customers)
    stats = rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-03-01"))
    table = rfm.rfm_table(store)
    ids = rfm.rfm_table(store)["customer_id"].str[1:].astype(int) - 1
    expected = [cells[i] for i in ids]
    assert list(zip(table["r"], table["f"], strict=True)) == expected
    assert table["rfm_group"].tolist() == [rfm.group_of(r, f) for r, f in expected]
    assert stats["groups"] == {"Champions": 2, "Loyal": 4, "Potential loyalists": 4, "New": 1, "Promising": 1,
                               "Need attention": 1, "About to sleep": 2, "At risk": 4, "Can't lose them": 2,
                               "Hibernating": 2, "Lost": 2}
    assert rfm.segment_map().loc[1].tolist() == ["Lost", "Lost", "At risk", "At risk", "Can't lose them"]
    assert rfm.segment_map().loc[5].tolist() == ["New", "Potential loyalists", "Potential loyalists", "Champions",
                                                 "Champions"]
    assert rfm.groups_table().iloc[0].tolist() == ["Champions", "5", "4–5", "bought recently, buy often"]


# ---------------------------------------------------------------- real order histories against pandas

def _scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The R, F, M scores and groups by the documented rule, in pandas: 1 + floor(5 × (rank min - 1) / n)."""
    n = len(frame)

    def score(values: pd.Series) -> pd.Series:
        return 1 + (5 * (values.rank(method="min") - 1) // n).astype(int)
    out = frame.assign(r=score(-frame["recency_days"]), f=score(frame["frequency"]), m=score(frame["monetary"]))
    out.loc[out["frequency"] == 0, "f"] = 1
    return out.assign(rfm_group=[rfm.group_of(r, f) for r, f in zip(out["r"], out["f"], strict=True)])


def _compare(store, expected: pd.DataFrame, ids: pd.Series) -> None:
    got = rfm.rfm_table(store)
    got["record"] = got["customer_id"].map(dict(zip("C" + pd.Series(range(1, len(ids) + 1)).astype(str), ids,
                                                    strict=True)))
    got = got.set_index("record").sort_index()
    expected = _scores(expected).sort_index()
    assert list(got.index) == list(expected.index)                      # the same buyers
    for column in ("recency_days", "frequency", "r", "f", "m", "rfm_group", "orders"):
        assert got[column].tolist() == expected[column].tolist(), column   # 100 % of customers
    np.testing.assert_allclose(got["monetary"], expected["monetary"], atol=1e-9)
    np.testing.assert_allclose(got["monetary_all_time"], expected["monetary_all_time"], atol=1e-9)


def test_online_retail_matches_pandas_for_every_customer(store):
    raw = pd.read_csv(REAL / "online_retail_uci.csv", dtype={"CustomerID": str, "InvoiceNo": str},
                      encoding="utf-8-sig")
    ids = pd.Series(sorted(raw["CustomerID"].dropna().unique()))
    customers = ("id;name\n" + "".join(f"{i};x\n" for i in ids)).encode()
    import_file(store, customers, "customers.csv")
    import_file(store, (REAL / "online_retail_uci.csv").read_bytes(), "orders.csv",
                ImportSettings(kind="transactions", date_order="mdy"))
    stats = rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2010-12-10", window_days=365))
    assert stats["columns"] == {"customer": "CustomerID", "order_date": "InvoiceDate", "order_id": "InvoiceNo",
                                "amount": None, "quantity": "Quantity", "unit_price": "UnitPrice",
                                "category": None, "status": None}
    # The standard: invoices starting with C are cancellations, negative quantities returns; neither is an order.
    lines = raw.assign(day=pd.to_datetime(raw["InvoiceDate"], format="%m-%d-%Y %H:%M").dt.normalize(),
                       value=raw["Quantity"] * raw["UnitPrice"])
    cancelled = lines["InvoiceNo"].str.startswith("C") | (lines["Quantity"] < 0)
    assert (stats["guest_lines"], stats["cancelled_lines"] + stats["returned_lines"]) == (
        int(lines["CustomerID"].isna().sum()), int(cancelled.sum()))
    known = lines[lines["CustomerID"].notna()].assign(buy=~cancelled)
    buys = known[known["buy"]]
    expected = pd.DataFrame({
        "recency_days": (pd.Timestamp("2010-12-10") - buys.groupby("CustomerID")["day"].max()).dt.days,
        "frequency": buys.groupby("CustomerID")["InvoiceNo"].nunique(),
        "orders": buys.groupby("CustomerID")["InvoiceNo"].nunique(),
        "monetary": known.groupby("CustomerID")["value"].sum(),
        "monetary_all_time": known.groupby("CustomerID")["value"].sum(),
    }).dropna(subset=["frequency"])
    assert len(expected) == stats["customers_with_orders"] > 20
    _compare(store, expected, ids)


def _cdnow() -> pd.DataFrame:
    return pd.read_csv(REAL / "cdnow_master.txt", sep=r"\s+", dtype={"customer_id": str, "date": str})


def test_cdnow_matches_pandas_for_every_customer_with_dollars_as_monetary(store):
    raw = _cdnow()
    ids = pd.Series(sorted(raw["customer_id"].unique()))
    import_file(store, ("id;name\n" + "".join(f"{i};x\n" for i in ids)).encode(), "customers.csv")
    import_file(store, (REAL / "cdnow_master.txt").read_bytes(), "orders.txt", ImportSettings(kind="transactions"))
    stats = rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="1998-06-30", window_days=365))
    assert stats["columns"] == {"customer": "customer_id", "order_date": "date", "order_id": None,
                                "amount": "dollar_value", "quantity": "number_of_cds", "unit_price": None,
                                "category": None, "status": None}
    day = pd.to_datetime(raw["date"], format="%Y%m%d")
    recent = day > pd.Timestamp("1998-06-30") - pd.Timedelta(days=365)
    per = raw.assign(day=day, recent=recent).groupby("customer_id")
    expected = pd.DataFrame({
        "recency_days": (pd.Timestamp("1998-06-30") - per["day"].max()).dt.days,
        "frequency": per["recent"].sum(), "orders": per.size(),
        "monetary": raw.assign(v=raw["dollar_value"].where(recent, 0)).groupby("customer_id")["v"].sum(),
        "monetary_all_time": per["dollar_value"].sum(),
    })
    assert (expected["frequency"] == 0).sum() > 0                       # customers without an order in the window
    _compare(store, expected, ids)
    table = rfm.rfm_table(store)
    assert table.loc[table["frequency"] == 0, "f"].eq(1).all()
    assert sum(1 for n in stats["groups"].values() if n) >= 5


def test_lifetime_measures_as_the_lifetimes_summary_defines_them(store):
    raw = _cdnow()
    ids = pd.Series(sorted(raw["customer_id"].unique()))
    import_file(store, ("id;name\n" + "".join(f"{i};x\n" for i in ids)).encode(), "customers.csv")
    import_file(store, (REAL / "cdnow_master.txt").read_bytes(), "orders.txt", ImportSettings(kind="transactions"))
    rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="1998-06-30", lifetime=True))
    got = rfm.rfm_table(store)
    got.index = got["customer_id"].str[1:].astype(int).map(lambda i: ids[i - 1])
    # lifetimes.utils.summary_data_from_transaction_data(freq="D"), written out: values summed per day.
    days = raw.assign(day=pd.to_datetime(raw["date"], format="%Y%m%d")).groupby(["customer_id", "day"])[
        "dollar_value"].sum().reset_index()
    first = days.groupby("customer_id")["day"].transform("min")
    per = days.groupby("customer_id")
    expected = pd.DataFrame({
        "repeat_frequency": per.size() - 1,
        "lifetime_recency": (per["day"].max() - per["day"].min()).dt.days,
        "lifetime_t": (pd.Timestamp("1998-06-30") - per["day"].min()).dt.days,
        "lifetime_monetary": days[days["day"] > first].groupby("customer_id")["dollar_value"].mean(),
    }).fillna({"lifetime_monetary": 0.0}).sort_index()
    got = got.sort_index()
    for column in ("repeat_frequency", "lifetime_recency", "lifetime_t"):
        assert got[column].tolist() == expected[column].tolist(), column
    np.testing.assert_allclose(got["lifetime_monetary"], expected["lifetime_monetary"], atol=1e-9)
    assert expected["repeat_frequency"].max() > 0


# ---------------------------------------------------------------- the order columns

def test_order_headers_in_english_and_french():
    headers = ["InvoiceNo", "Quantity", "UnitPrice", "InvoiceDate", "CustomerID", "Statut", "N° commande",
               "Montant TTC", "Prix unitaire", "Qté", "Date de commande", "N° client", "Famille produit",
               "dollar_value", "number_of_cds", "StockCode", "Description", "Country"]
    assert [order_header_role(h) for h in headers] == [
        "order_id", "quantity", "unit_price", "order_date", "customer", "status", "order_id", "amount",
        "unit_price", "quantity", "order_date", "customer", "category", "amount", "quantity", None, None, None]


def test_order_roles_from_values_when_headers_say_nothing():
    columns = ["a", "b", "c", "d", "e"]
    roles = {"a": "id", "b": "date", "c": "measure", "d": "measure", "e": "category"}
    sample = pd.DataFrame({"a": ["K1", "K2", "K3"], "b": [date(2026, 1, 1)] * 3, "c": [1.0, 2.0, 3.0],
                           "d": [9.99, 12.5, 3.0], "e": ["livrée", "annulée", "livrée"]})
    assert guess_order_roles(columns, roles, sample) == {
        "customer": None, "order_date": "b", "order_id": None, "amount": "d", "quantity": "c", "unit_price": None,
        "category": None, "status": "e"}
    # A lone price is the amount; a text column is never an amount.
    assert guess_order_roles(["Prix", "Total"], {"Prix": "measure", "Total": "text"})["amount"] == "Prix"


def test_settings_name_the_columns_and_are_checked(store):
    _with_orders(store, LINES)
    with pytest.raises(MissingColumnsError, match=r"Missing columns \['nope'\]"):
        rfm.compute(store, "customers", "orders", rfm.RFMSettings(amount_column="nope"))
    with pytest.raises(ColumnError, match="'InvoiceNo' of 'orders' cannot be the “Amount” column: its role is "
                                          "'Free text', expected Numeric measure"):
        rfm.compute(store, "customers", "orders", rfm.RFMSettings(amount_column="InvoiceNo"))
    with pytest.raises(ColumnError, match="an amount column, or a quantity and a unit price"):
        rfm.compute(store, "customers", "orders", rfm.RFMSettings(price_column=""))
    with pytest.raises(SettingError, match="window_days must be a whole number of days"):
        rfm.compute(store, "customers", "orders", rfm.RFMSettings(window_days=0))
    stats = rfm.compute(store, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31", amount_column="UnitPrice",
                                                                      status_column=""))
    assert stats["columns"]["amount"] == "UnitPrice" and stats["columns"]["status"] is None
    saved = rfm.last(store)["settings"]
    assert (saved["amount_column"], saved["status_column"], saved["order_column"]) == ("UnitPrice", "", "InvoiceNo")


def test_orders_of_merged_records_go_to_the_golden_record(stores):
    dedupe.merge(stores, "customers", pairs=[(1, 2)])                   # K1 and K2 are one customer
    rfm.compute(stores, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31"))
    table = rfm.rfm_table(stores).set_index("customer_id")
    assert "C2" not in table.index
    assert (table.loc["C1", "frequency"], table.loc["C1", "monetary"]) == (3, 300.0)


def test_bad_inputs(stores):
    with pytest.raises(SettingError, match="holds customers, not orders"):
        rfm.compute(stores, "customers", "customers")
    with pytest.raises(MissingColumnsError, match=r"Missing columns \['nope'\]"):
        rfm.compute(stores, "customers", "orders", rfm.RFMSettings(link_column="nope"))


def test_rfm_attributes_in_segments_profiles_and_audiences(stores):
    from segmentation.activate import audiences
    from segmentation.segment import runs as segments
    from segmentation.segment.features import FeatureSettings

    rfm.compute(stores, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31"))
    table = segments.candidates(stores, "customers").set_index("feature")
    assert table.loc["RFM monetary", "kind"] == "numeric" and table.loc["RFM group", "kind"] == "categorical"
    run = segments.run_segments(stores, "customers", FeatureSettings(numeric=("RFM monetary", "RFM frequency"),
                                                                     log=()), k=2)
    assert run.customers == 10
    profile = segments.profile_run(stores)
    assert "RFM group" in set(profile.categorical["feature"])
    spec = audiences.AudienceSpec(dataset="customers", channel=None, columns=("id", "RFM group"),
                                  groups=((audiences.Condition("RFM group", "eq", "At risk"),
                                           audiences.Condition("RFM monetary", "ge", 500)),))
    chosen = audiences.select(stores, spec)
    expected = rfm.rfm_table(stores).query("rfm_group == 'At risk' and monetary >= 500")
    assert sorted(chosen["id"]) == sorted("K" + expected["customer_id"].str[1:]) and len(chosen) > 0
    assert set(chosen["RFM group"]) == {"At risk"}


# ---------------------------------------------------------------- the page, in French

def test_behaviour_page_in_french_shows_the_columns_used_and_the_map(seeded_db, opened_stores):  # noqa: F811
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP, TIMEOUT
    from tests.app.test_i18n_pages import english_sentences, foreign_texts, page_texts

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["language"] = "fr"
    at.run()
    at.switch_page("pages/behaviour.py").run()
    assert at.selectbox(key="rfm_col_order_id_sample orders").value == "order_id"     # guessed
    assert at.selectbox(key="rfm_col_amount_sample orders").value == "amount"
    at.date_input(key="rfm_as_of").set_value(date(2026, 11, 1)).run()
    at.selectbox(key="rfm_col_category_sample orders").set_value("(aucune)").run()
    at.button(key="rfm_compute").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    info = rfm.last(app_store(opened_stores), "sample customers")
    assert info["columns"]["category"] is None and info["columns"]["amount"] == "amount"
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Colonnes utilisées : n° client **customer\\_id**") for c in captions), captions
    shown = {m.label: m.value for m in at.metric}
    assert shown["Clients acheteurs"] == i18n.format_number(info["customers_with_orders"], "fr")
    grid = next(d.value for d in at.dataframe if "R 1" in d.value.index)
    assert grid.loc["R 1"].tolist() == [
        "Perdus", "Perdus", "À risque", "À risque", "À ne pas perdre"]
    columns = {"order_id", "customer_id", "order_date", "amount", "category", "channel"}   # the file's own names
    texts = [t for t in page_texts(at) if t not in columns]
    french = i18n.catalogue("fr")
    assert not set(foreign_texts(texts, french)) | set(english_sentences(texts))

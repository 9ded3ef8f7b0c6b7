"""The behaviour stage as a dataset handle carries it: RFM results, the write version, yes/no targets."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation import RFMResult, RFMSettings, SettingError, open_workspace
from segmentation.behaviour.propensity import target_values
from segmentation.ingest.importer import ImportSettings, import_file
from tests.behaviour.test_rfm import CUSTOMERS, ORDERS

GROUPS = {"Champions": 0, "Loyal": 0, "Potential loyalists": 0, "New": 0, "Promising": 0, "Need attention": 0,
          "About to sleep": 0, "At risk": 4, "Can't lose them": 2, "Hibernating": 0, "Lost": 4}


@pytest.fixture
def ws(tmp_path):
    workspace = open_workspace(tmp_path / "ws.duckdb")
    import_file(workspace.store, CUSTOMERS, "customers.csv")
    import_file(workspace.store, ORDERS.encode(), "orders.csv", ImportSettings(kind="transactions"))
    yield workspace
    workspace.close()


def test_rfm_through_the_handle(ws):
    customers = ws.dataset("customers")
    assert customers.behaviour.last_rfm() is None and customers.behaviour.rfm_groups() == {}
    version = customers.version
    result = customers.behaviour.rfm(settings=RFMSettings(as_of="2026-01-31"))   # the newest orders dataset
    assert isinstance(result, RFMResult)
    assert result.to_dict() == {
        "customers_with_orders": 10, "unknown_customer_orders": 1, "groups": GROUPS, "link_column": "customer_id",
        "as_of": "2026-01-31", "window_days": 365, "cancel_prefix": "C",
        "columns": {"customer": "customer_id", "order_date": "order_date", "order_id": "order_id", "amount": "amount",
                    "quantity": None, "unit_price": None, "category": "category", "status": None},
        "order_lines": 56, "orders": 55, "guest_lines": 0, "cancelled_lines": 0, "returned_lines": 0,
        "return_only_customers": 0, "monetary": 14500.0, "monetary_all_time": 14500.0}
    assert customers.version == version + 1          # one committed write, on the customers dataset
    last = customers.behaviour.last_rfm()
    assert last == result and last.orders_id == ws.dataset("orders").id
    assert last.settings == RFMSettings(as_of="2026-01-31", window_days=365, link_column="customer_id",
                                        amount_column="amount", order_column="order_id", quantity_column="",
                                        price_column="", status_column="", date_column="order_date",
                                        category_column="category")   # the columns used; "": none
    assert customers.behaviour.rfm_groups() == GROUPS
    assert customers.behaviour.unknown_orders()["customer_id"].tolist() == ["K99"]
    assert customers.behaviour.grid().to_dict(orient="list") == {
        "r": [1] * 5, "f": [1, 2, 3, 4, 5], "customers": [2] * 5, "value": [300.0, 700.0, 1100.0, 1500.0, 10900.0]}
    assert customers.behaviour.rfm_table()["customer_id"].tolist()[:3] == ["C1", "C10", "C2"]
    # The measures are attributes of the customers: features on the segment stage, targets of a model.
    assert "RFM monetary" in set(customers.segments.candidates()["feature"])
    assert customers.behaviour.candidate_targets() == ["RFM recency (days)"]
    with pytest.raises(SettingError, match="holds customers, not orders"):
        customers.behaviour.rfm(ws.dataset("customers"))


def test_yes_no_targets_use_the_one_vocabulary():
    values = pd.Series(["1.0", "0.0", "1", "0", "x", None, "Oui", "NON", "opt-in", "maybe", "true", "False"])
    assert target_values(values).tolist() == [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    assert target_values(pd.Series([True, False, True])).tolist() == [1, 0, 1]

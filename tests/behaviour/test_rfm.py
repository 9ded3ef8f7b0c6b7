"""RFM on hand-made orders with known answers; orders of merged records belong to the golden record."""

from __future__ import annotations

import pytest

from segmentation.behaviour import rfm
from segmentation.core.errors import MissingColumnsError, SettingError
from segmentation.dedupe import review as dedupe
from segmentation.ingest.importer import ImportSettings, import_file

CUSTOMERS = b"id;name\n" + b"".join(f"K{i};N{i}\n".encode() for i in range(1, 11))
# K1..K10: K(i) ordered i times, the last one 10*i days before 2026-01-31, 100 euros each (K10: 1000 each).
ORDERS = "order_id;customer_id;order_date;amount;category\n" + "".join(
    f"O{i}-{j};K{i};{(31 - min(j, 30)):02d}/01/2026;{1000 if i == 10 else 100};{'A' if j % 2 else 'B'}\n"
    for i in range(1, 11) for j in range(i)) + "O99;K99;01/01/2026;50;A\n" + "O98;K1;01/01/2027;50;A\n"


@pytest.fixture
def stores(store):
    import_file(store, CUSTOMERS, "customers.csv")
    import_file(store, ORDERS.encode(), "orders.csv", ImportSettings(kind="transactions"))
    return store


def test_known_answers(stores):
    stats = rfm.compute(stores, "customers", "orders", rfm.RFMSettings(as_of="2026-01-31", window_days=365))
    assert stats["customers_with_orders"] == 10 and stats["link_column"] == "customer_id"
    assert stats["unknown_customer_orders"] == 1                      # K99; the 2027 order is after as_of
    table = rfm.rfm_table(stores).set_index("customer_id")
    k3 = table.loc["C3"]                                               # orders on Jan 31, 30, 29
    assert (k3["recency_days"], k3["frequency"], k3["monetary"], k3["tenure_days"]) == (0, 3, 300.0, 2)
    assert k3["average_order"] == 100.0 and k3["favourite_category"] == "B"   # B, A, B
    # Everyone's last order is Jan 31 (recency 0); frequency 1..10 gives F quintiles 1,1,2,2,...,5,5.
    assert table.sort_values("frequency")["f"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert table["r"].eq(5).all()                                     # equal recency, equal score
    assert table.loc["C10", "m"] == 5 and table.loc["C1", "m"] == 1
    assert table.loc["C10", "rfm_group"] == "Champions"
    assert stats["groups"]["Champions"] == table["rfm_group"].eq("Champions").sum() > 0
    assert rfm.unknown_orders(stores)["customer_id"].tolist() == ["K99"]
    assert rfm.grid(stores)["customers"].sum() == 10


def test_recency_groups():
    # A customer whose last order is old, who bought often: "At risk" or "Can't lose them", never "Champions".
    names = [name for name, _rule, _m in rfm.GROUPS]
    assert names == ["Champions", "Loyal", "New", "Potential loyalists", "Can't lose them", "At risk",
                     "Hibernating", "Lost"]
    assert rfm.groups_table()["rule (scores 1-5)"].iloc[-1] == "otherwise"


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
                                  groups=((audiences.Condition("RFM group", "eq", "Champions"),
                                           audiences.Condition("RFM monetary", "ge", 500)),))
    chosen = audiences.select(stores, spec)
    expected = rfm.rfm_table(stores).query("rfm_group == 'Champions' and monetary >= 500")
    assert sorted(chosen["id"]) == sorted("K" + expected["customer_id"].str[1:]) and len(chosen) > 0
    assert set(chosen["RFM group"]) == {"Champions"}

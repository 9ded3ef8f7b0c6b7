"""Segment profiles on data whose segments are known: index, rules in words, names, reach, audit hints."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.segment import runs as segments
from segmentation.segment.features import FeatureSettings
from segmentation.segment.profiling import ProfileSettings, build_profile, fmt_number


def known_segments(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Segment 0: high value in Île-de-France; 1: low value, heavy users; 2: low value, light users, elsewhere;
    3: high value outside Île-de-France (so that value alone does not tell segment 0)."""
    rng = np.random.default_rng(seed)
    sizes = [300, 500, 700, 250]
    value = np.r_[rng.normal(20_000, 2_000, 300), rng.normal(2_000, 400, 500), rng.normal(1_500, 400, 700),
                  rng.normal(20_000, 2_000, 250)]
    usage = np.r_[rng.normal(14, 5, 300), rng.normal(20, 2, 500), rng.normal(2, 0.5, 700), rng.normal(14, 5, 250)]
    region = np.r_[np.where(rng.random(300) < 0.97, "Île-de-France", "Bretagne"),
                   rng.choice(["Bretagne", "Normandie", "Île-de-France"], 500),
                   rng.choice(["Bretagne", "Normandie"], 700), rng.choice(["Bretagne", "Normandie"], 250)]
    labels = np.repeat([0, 1, 2, 3], sizes)
    return pd.DataFrame({"Valeur contrat": value, "Usage": usage, "Région": region}), labels


def test_index_rules_names_on_known_segments():
    frame, labels = known_segments()
    profile = build_profile(frame, labels, 4, ["Valeur contrat", "Usage"], ["Région"], value="Valeur contrat",
                            places=frozenset({"Région"}))
    assert profile.sizes["size"].tolist() == [300, 500, 700, 250]
    assert profile.sizes["share"].round(3).tolist() == [0.171, 0.286, 0.4, 0.143]
    assert profile.sizes["value_share"].sum() == pytest.approx(1.0)
    index = profile.numeric.set_index(["segment", "feature"])["index"]
    overall = frame["Valeur contrat"].mean()
    assert index[(0, "Valeur contrat")] == pytest.approx(frame["Valeur contrat"][:300].mean() / overall * 100)
    assert index[(0, "Valeur contrat")] > 250 and index[(2, "Usage")] < 50
    mix = profile.categorical.set_index(["segment", "category"])
    assert mix.loc[(0, "Île-de-France"), "share"] > 0.9 > 0.3 > mix.loc[(0, "Île-de-France"), "overall_share"]
    rule = profile.rules.set_index("segment").loc[0]
    assert "Valeur contrat above" in rule["rule"] and "€" in rule["rule"]   # the value column, in euros
    assert "Région is Île-de-France" in rule["rule"]                          # and the region
    assert rule["precision"] >= 0.9 and rule["coverage"] >= 0.9
    assert "Usage above" in profile.rules.set_index("segment").loc[1, "rule"]
    assert profile.agreement >= 0.95
    assert {"High Valeur contrat", "Île-de-France"} <= set(profile.names[0].split(" · "))
    assert "High Usage" in profile.names[1].split(" · ")
    assert len(set(profile.names.values())) == 4


def test_reach_and_audit_hints():
    frame, labels = known_segments()
    labels = labels.copy()
    frame, labels = frame.iloc[:1500], labels[:1500].copy()   # segments 0, 1, 2
    labels[:10] = 3                                           # a tiny fourth segment
    reach = pd.DataFrame({"email": np.arange(1500) % 2 == 0, "phone": np.zeros(1500, bool)})
    stale = pd.Series(np.arange(1500) >= 800)                # segment 2 (rows 800..1499) all stale
    twin = np.where(labels == 2, np.where(np.arange(1500) % 2 == 0, 2, 4), labels)  # segment 2 cut in two
    profile = build_profile(frame, twin, 5, ["Valeur contrat", "Usage"], ["Région"], reach=reach, stale=stale,
                            settings=ProfileSettings(min_share=0.05))
    assert profile.reach.set_index("segment").loc[3].tolist() == [5, 0]
    assert profile.reach["email"].sum() == 750
    hints = " ".join(profile.hints)
    assert "Segment 3" in hints and "too small to act on" in hints
    assert "Segments 2 and 4 are much alike" in hints
    assert "Segment 2" in hints and "no activity for 12 months" in hints


def test_money_and_number_formats():
    assert fmt_number(12400.5, "Valeur contrat") == "12\u202f400 €"
    assert fmt_number(3.25, "Usage") == "3.25" and fmt_number(12.0, "Usage") == "12"


CSV = ("id;email;consent;value;visits;region\n" + "".join(
    f"A{i};{f'a{i}@x.fr' if i % 3 else ''};{'oui' if i % 2 else 'non'};{v};{n};{r}\n"
    for i, (v, n, r) in enumerate([(20000, 2, "Île-de-France")] * 8 + [(900, 30, "Bretagne")] * 12))).encode()


def test_profile_of_a_run_names_saved_and_used_in_exports(store):
    ds = import_file(store, CSV, "crm.csv", ImportSettings(roles={"value": "measure", "visits": "measure"}))
    run = segments.run_segments(store, ds.name, FeatureSettings(numeric=("value", "visits"), log=()), k=2)
    profile = segments.profile_run(store)
    assert profile.sizes["size"].tolist() == [12, 8]
    # Reachable by e-mail: an address (rows not multiple of 3) and consent (odd rows).
    members = segments.assignments(store).set_index("customer_id")["segment"]
    expected = [sum(1 for i in range(20) if i % 3 and i % 2 and members[f"C{i + 1}"] == s) for s in (0, 1)]
    assert profile.reach["email"].tolist() == expected
    names = segments.segment_names(store, run.name)
    assert names == profile.names and "Île-de-France" in names[1]
    segments.rename_segment(store, run.name, 1, "Paris VIPs")
    exported = segments.with_segments(store, ds.name)
    assert set(exported.loc[exported["segment"] == 1, "segment_name"]) == {"Paris VIPs"}
    assert segments.profile_run(store).names[1] == "Paris VIPs"

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
    assert profile.names == {0: "Île-de-France · Very high Valeur contrat", 1: "Very high Usage",
                             2: "Very low Usage · Low Valeur contrat", 3: "Very high Valeur contrat · High Usage"}
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
    hints = " ".join(str(h) for h in profile.hints)
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


# --- names and traits that tell segments apart (issue 16) ---------------------------------------------------

def two_groups() -> tuple[pd.DataFrame, np.ndarray]:
    """Segment 0: recent buyers with children, mostly small spenders but two big ones (a mean above the base,
    a median far below); segment 1: lapsed buyers without children, steady mid spenders. Visits alike."""
    frame = pd.DataFrame({
        "Dépense": [10, 12, 15, 20, 25, 30, 5000, 6000, 300, 320, 340, 360, 380, 400, 420, 440],
        "Visites": [2, 3] * 8,
        "Dernier achat (days ago)": [10, 20, 15, 25, 12, 18, 22, 16, 400, 420, 380, 500, 450, 410, 390, 430],
        "Enfants": ["oui"] * 8 + ["non"] * 8})
    return frame, np.repeat([0, 1], 8)


MEASURES = ["Dépense", "Visites", "Dernier achat (days ago)"]


def test_skewed_money_is_named_by_its_median_with_both_indexes():
    frame, labels = two_groups()
    profile = build_profile(frame, labels, 2, MEASURES, ["Enfants"], value="Dépense")
    spend = profile.numeric[profile.numeric["feature"] == "Dépense"].set_index("segment")
    assert spend["skewed"].tolist() == [True, True]
    assert spend["index"].round(1).tolist() == [157.9, 42.1]          # means: segment 0 looks like big spenders
    assert spend["index_median"].round(1).tolist() == [6.8, 112.1]    # medians: it is not
    assert spend["effect"].round(3).tolist() == [-0.408, 0.408]       # log scale, as the segmentation sees it
    assert [str(t) for t in profile.traits[0]] == [
        "oui (Enfants): 100% of the segment, against 50% of all customers",
        "Recent Dernier achat (17 days ago at the median, against 202 for all customers)",
        "Low Dépense (median 22.5 €, against 330 € for all customers: index 7)"]
    assert [str(t) for t in profile.traits[1]] == [
        "non (Enfants): 100% of the segment, against 50% of all customers",
        "Dernier achat long ago (415 days ago at the median, against 202 for all customers)",
        "High Dépense (median 370 €, against 330 € for all customers: index 112)"]


def test_recency_reads_recent_or_long_ago_and_agrees_with_the_rule():
    frame, labels = two_groups()
    profile = build_profile(frame, labels, 2, MEASURES, ["Enfants"])
    assert profile.names == {0: "Enfants: oui · Recent Dernier achat", 1: "Enfants: non · Dernier achat long ago"}
    assert profile.rules["rule"].tolist() == ["Dernier achat within the last 202 days",
                                              "Dernier achat more than 202 days ago"]
    assert profile.suggested[1].render("fr") == "Enfants : non · Dernier achat : il y a longtemps"
    assert profile.rule_words[0].render("fr") == "Dernier achat dans les 202 derniers jours"


def test_a_difference_in_a_category_only_names_the_segments():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"Panier": rng.normal(50, 5, 200), "Canal": ["Boutique"] * 90 + ["Web"] * 10 +
                          ["Web"] * 95 + ["Boutique"] * 5})
    labels = np.repeat([0, 1], 100)
    profile = build_profile(frame, labels, 2, ["Panier"], ["Canal"])
    assert profile.names == {0: "Canal: Boutique", 1: "Canal: Web"}
    assert [str(t) for t in profile.traits[1]] == ["Web (Canal): 95% of the segment, against 52% of all customers"]
    assert profile.suggested[1].render("fr") == "Canal : Web"


def test_no_two_segments_share_a_name_and_none_is_numbered():
    rng = np.random.default_rng(2)
    # Four segments on one measure: two are clearly high, two clearly low, by different amounts.
    centres = [100, 160, 40, 10]
    frame = pd.DataFrame({"Usage": np.concatenate([rng.normal(c, 3, 50) for c in centres])})
    labels = np.repeat(range(4), 50)
    profile = build_profile(frame, labels, 4, ["Usage"], [])
    assert profile.names == {0: "High Usage", 1: "Very high Usage", 2: "Low Usage", 3: "Very low Usage"}
    assert profile.rules["rule"].tolist() == ["Usage between 70 and 129", "Usage above 129", "Usage between 25 and 70",
                                              "Usage at most 25"]
    # Identical segments still get names of their own.
    same = pd.DataFrame({"Usage": np.tile(rng.normal(50, 5, 50), 2)})
    twins = build_profile(same, np.repeat([0, 1], 50), 2, ["Usage"], [])
    assert twins.names == {0: "Typical customers", 1: "Typical customers, group 1"}


def test_a_trait_the_rule_contradicts_is_left_out_of_the_name():
    from segmentation.i18n import message
    from segmentation.segment.profiling import Trait, _contradicts

    low = Trait("Valeur contrat", None, -1, message("Low {feature}", feature="Valeur contrat"), 0.6, message("x"))
    assert _contradicts(low, [("Valeur contrat", ">", 3885.0)])
    assert not _contradicts(low, [("Valeur contrat", "<=", 3885.0)])
    web = Trait("Canal", "Web", 1, message("{feature}: {value}", feature="Canal", value="Web"), 1.0, message("x"))
    assert _contradicts(web, [("Canal = Web", "<=", 0.5)]) and _contradicts(web, [("Canal = Boutique", ">", 0.5)])
    assert not _contradicts(web, [("Canal = Web", ">", 0.5), ("Valeur contrat", ">", 1.0)])


def test_store_side_profile_equals_the_one_from_every_customer(store):
    from segmentation.segment import profiles
    ds = import_file(store, CSV, "crm.csv", ImportSettings(roles={"value": "measure", "visits": "measure"}))
    run = segments.run_segments(store, ds.name, FeatureSettings(numeric=("value", "visits"), log=()), k=2)
    fast = profiles.profile_of(store, run, ds=ds)
    full = segments.profile_run(store)
    for table in ("sizes", "numeric", "reach", "rules"):
        pd.testing.assert_frame_equal(getattr(fast, table), getattr(full, table), check_dtype=False)
    key = ["feature", "category", "segment"]
    pd.testing.assert_frame_equal(fast.categorical.sort_values(key).reset_index(drop=True),
                                  full.categorical.sort_values(key).reset_index(drop=True), check_dtype=False)
    assert fast.names == full.names and {s: str(m) for s, m in fast.suggested.items()} == full.names
    sample = profiles.sample_of(store, run, ds=ds)
    assert len(sample) == 20 and {"pc1", "pc2", "segment", "value", "visits"} <= set(sample.columns)


def test_a_rename_keeps_the_profile_computed(tmp_path, monkeypatch):
    from segmentation import open_workspace
    from segmentation.segment import profiles
    with open_workspace(tmp_path / "w.duckdb") as ws:
        handle = ws.ingest.import_bytes(CSV, "crm.csv", ImportSettings(roles={"value": "measure",
                                                                              "visits": "measure"}))
        stage = handle.segments
        run = stage.run(FeatureSettings(numeric=("value", "visits"), log=()), 2)
        first = stage.profile(run.name)
        monkeypatch.setattr(profiles, "_profile", lambda *a: pytest.fail("the profile was computed again"))
        stage.rename_segment(run.name, 0, "Loyal")
        again = stage.profile(run.name)
        assert again.names[0] == "Loyal" and again.names[1] == first.names[1]
        assert again.label(0) == "Loyal" and again.label(1) is first.suggested[1]
        pd.testing.assert_frame_equal(again.numeric, first.numeric)
        assert stage.names(run.name)[0] == "Loyal"


def test_cli_profile_has_category_mixes_traits_and_both_indexes(capsys, tmp_path):
    import json

    from segmentation.cli import main
    from tests.conftest import ROOT
    db = str(tmp_path / "cli.duckdb")
    assert main(["--db", db, "import", str(ROOT / "sample_data" / "customers.csv")]) == 0
    assert main(["--db", db, "segment", "--k", "3", "--name", "R",
                 "--features", "Valeur contrat,Fréquence d'utilisation,Taille"]) == 0
    capsys.readouterr()
    assert main(["--db", db, "profile", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    first = out["segments"][0]
    shares = first["categories"]["Taille"]
    assert set(shares) >= {"PME", "TPE"} and all(0 <= v["share"] <= 1 for v in shares.values())
    assert sum(v["overall_share"] for v in shares.values()) == pytest.approx(1.0)
    assert {"index", "index_median", "skewed", "effect"} <= set(first["features"]["Valeur contrat"])
    assert 1 <= len(first["traits"]) <= 5 and all(isinstance(t, str) for t in first["traits"])
    assert len({s["name"] for s in out["segments"]}) == 3


def test_days_since_measures_read_recent_or_long_ago_and_money_has_its_unit():
    from segmentation.segment.profiling import amount, direction
    assert str(direction("RFM recency (days)", -0.5)) == "Recent RFM recency (days)"
    assert str(direction("Dernière activité (days ago)", 1.2)) == "Dernière activité very long ago"
    assert direction("Dernière activité (days ago)", 1.2).render("fr") == "Dernière activité : il y a très longtemps"
    assert str(direction("RFM monetary", 0.3)) == "High RFM monetary"
    assert direction("Valeur contrat", -1.5).render("fr") == "Valeur contrat : niveau très faible"
    assert amount(1007.4, "RFM monetary").render("fr") == "1\u202f007 €"
    assert amount(3.256, "Visites").render("en") == "3.26"

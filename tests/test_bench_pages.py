"""benchmarks/bench_pages.py: the figures beside their goals (no server, no browser)."""

from __future__ import annotations

import importlib.util
import sys

from tests.conftest import ROOT

BENCHMARKS = ROOT / "benchmarks"


def bench():
    sys.path.insert(0, str(BENCHMARKS))  # it imports its sibling ``common``
    try:
        spec = importlib.util.spec_from_file_location("bench_pages", BENCHMARKS / "bench_pages.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCHMARKS))
    return module


RESULT = {
    "open": {"s": 14.3},
    "first": {"Deduplicate": {"s": 2.5},
              "Profile": {"s": 41.7, "received_kb": 1266.6,
                          "calls": [["SegmentsStage.profile", 38.2], ["SegmentsStage.labels", 0.01]]}},
    "warm": {"Import": [{"s": 0.4}, {"s": 0.9}, {"s": 0.5}], "Deduplicate": [{"s": 1.2}, {"s": 0.8}, {"s": 1.0}],
             "Profile": [{"s": 0.3}, {"s": 0.2}, {"s": 0.4}]},
    "switch": [0.1, None, 0.3],
    "actions": {"review: merge (Y)": [{"s": 12.8}, {"s": 11.0}, {"s": 13.1}],
                "profile: type the name (Enter)": [{"s": 0.2}]},
}


def test_every_figure_stands_beside_its_goal_with_met_or_miss():
    rows = {r["what"]: r for r in bench().rows_of(RESULT)}
    assert list(rows) == ["first load: opens the store, runs Import", "Import: warm visit",
                          "Deduplicate: first visit", "Deduplicate: warm visit", "Behaviour: warm visit",
                          "Segment: warm visit", "Profile: first visit", "Profile: warm visit",
                          "Audiences: warm visit", "Refresh: warm visit", "page switch (click to title shown)",
                          "review: merge (Y)", "profile: type the name (Enter)"]
    assert (rows["Import: warm visit"]["s"], rows["Import: warm visit"]["verdict"]) == (0.5, "met")
    assert (rows["Deduplicate: warm visit"]["s"], rows["Deduplicate: warm visit"]["verdict"]) == (1.0, "MISS")
    assert (rows["Deduplicate: first visit"]["goal"], rows["Deduplicate: first visit"]["verdict"]) == (3.0, "met")
    assert (rows["Profile: first visit"]["s"], rows["Profile: first visit"]["verdict"]) == (41.7, "MISS")
    assert (rows["page switch (click to title shown)"]["s"], rows["page switch (click to title shown)"]["tries"]) \
        == (0.2, [0.1, 0.3])
    assert (rows["review: merge (Y)"]["s"], rows["review: merge (Y)"]["goal"]) == (12.8, 1.0)
    assert rows["first load: opens the store, runs Import"]["verdict"] == ""  # no goal: it opens the store
    assert rows["profile: type the name (Enter)"]["goal"] is None
    assert rows["Behaviour: warm visit"]["s"] is None and rows["Behaviour: warm visit"]["verdict"] == "MISS"


def test_the_table_prints_medians_tries_and_goals():
    module = bench()
    lines = module.table(module.rows_of(RESULT)).splitlines()
    assert lines[0] == "| what | seconds | tries | goal | |"
    assert "| Deduplicate: warm visit | 1.00 | 1.20, 0.80, 1.00 | < 1 s | MISS |" in lines
    assert "| Profile: first visit | 41.70 | 41.70 | < 3 s | MISS |" in lines
    assert "| first load: opens the store, runs Import | 14.30 | 14.30 |  |  |" in lines
    assert "| Behaviour: warm visit | n/a |  | < 1 s | MISS |" in lines


def test_slow_spots_name_the_engine_calls_of_each_slow_figure():
    spots = bench().slow_spots(RESULT)
    assert ("Profile: first visit: 41.70 s; engine 38.21 s: SegmentsStage.profile 38.20 s; 1,267 kB sent to the "
            "browser") in spots
    assert "Import: warm visit: 0.50 s (tries 0.40–0.90); engine 0.00 s: no engine call over 0.05 s" in spots

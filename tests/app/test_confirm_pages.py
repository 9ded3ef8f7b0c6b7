"""Destructive buttons ask first: the store changes only after "Yes, …" in the dialog, never on "Cancel"."""

from __future__ import annotations

from segmentation.dedupe import review as dedupe
from segmentation.segment import runs as segments
from tests.app.conftest import app_store, run_app

DATASET = "sample customers"


def open_page(page: str):
    at = run_app()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def merged(at, store):
    at.button(key="find").click().run()
    at.button(key="bulk_merge").click().run()
    groups = dedupe.merge_groups(store, DATASET)
    assert len(groups) > 1
    return groups


def keys(at) -> set[str]:
    return {b.key for b in at.button}


def asks_then_cancels(at, key: str, unchanged) -> None:
    """Click ``key``: a dialog asks and nothing changes; Cancel closes it and still nothing changes."""
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert {f"{key}_yes", f"{key}_cancel"} <= keys(at)
    unchanged()
    at.run()                                           # the dialog stays open until it is answered
    assert f"{key}_yes" in keys(at)
    unchanged()
    at.button(key=f"{key}_cancel").click().run()
    assert not keys(at) & {f"{key}_yes", f"{key}_cancel"}
    unchanged()
    at.run()
    assert f"{key}_yes" not in keys(at)
    unchanged()


def test_undo_all_merges_asks_first(seeded_db, opened_stores):
    at = open_page("pages/deduplicate.py")
    store = app_store(opened_stores)
    groups = merged(at, store)
    records = dedupe.record_count(store, DATASET)

    def unchanged():
        assert dedupe.merge_groups(store, DATASET).equals(groups)
        assert dedupe.record_count(store, DATASET) == records

    asks_then_cancels(at, "undo_all", unchanged)
    at.button(key="undo_all").click().run()
    question = [m.value for m in at.markdown if m.value.startswith("Undo all")]
    assert question == [f"Undo all {len(groups):,} merges of dataset {DATASET}? Every merged customer is split "
                        "back into its records (the audit log keeps what happened)."]
    unchanged()
    at.button(key="undo_all_yes").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert dedupe.merge_groups(store, DATASET).empty
    assert "undo_all_yes" not in keys(at)


def test_split_asks_first_and_splits_the_group_shown(seeded_db, opened_stores):
    at = open_page("pages/deduplicate.py")
    store = app_store(opened_stores)
    groups = merged(at, store)
    group = int(groups["group_id"].iloc[1])
    at.selectbox(key="split_group").set_value(group).run()

    def unchanged():
        assert dedupe.merge_groups(store, DATASET).equals(groups)

    asks_then_cancels(at, "split", unchanged)
    at.button(key="split").click().run()
    assert any(m.value.startswith(f"Split merge group {group} back") for m in at.markdown)
    unchanged()
    at.button(key="split_yes").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = dedupe.merge_groups(store, DATASET)["group_id"].tolist()
    assert sorted(after) == sorted(int(g) for g in groups["group_id"] if int(g) != group)


def test_delete_run_asks_first(seeded_db, opened_stores):
    at = open_page("pages/segment.py")
    store = app_store(opened_stores)
    at.text_input(key="seg_run_name").set_value("Spring").run()
    at.button(key="run").click().run()
    assert list(segments.runs(store)["name"]) == ["Spring"]

    def unchanged():
        assert list(segments.runs(store)["name"]) == ["Spring"]

    asks_then_cancels(at, "delete_run", unchanged)
    at.button(key="delete_run").click().run()
    assert any(m.value.startswith("Delete run **Spring**, its segments") for m in at.markdown)
    unchanged()
    at.button(key="delete_run_yes").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert segments.runs(store).empty
    assert at.caption[-1].value == "No run yet."

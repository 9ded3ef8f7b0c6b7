"""The Deduplicate page on the facade: two sessions at once, reads that follow every write, the review pair
(reasons in words, a fragment, a deep link), both languages and a failure that leaves the store as it was."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from segmentation import i18n
from segmentation.dedupe import review as dedupe
from segmentation.dedupe.matching import Matcher
from tests.app.conftest import APP, TIMEOUT, app_store, metrics, sample_customer_count, sample_customers
from tests.app.test_i18n_pages import english_sentences, foreign_texts, page_texts

DATASET = "sample customers"
CAPTION = re.compile(r"^(?:Pair \d+ of [\d,]+|Paire \d+ sur [\d\u202f ]+|Pair from the link|Paire du lien) · "
                     r"score [\d.,]+ · (\S+) ↔ (\S+)$")


def open_dedupe(language: str = "en", pair: str | None = None):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["language"] = language
    if pair:
        at.query_params["pair"] = pair
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/deduplicate.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def found(at) -> AppTest:
    at.button(key="find").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown_pair(at) -> tuple[str, str]:
    caption = next(c.value for c in at.caption if CAPTION.match(c.value))
    match = CAPTION.match(caption)
    return match.group(1), match.group(2)


def why(at) -> str:
    text = next(i.value for i in at.info if i.value.startswith(("Why", "Pourquoi")))
    return re.sub(r"\\(.)", r"\1", text)  # plain()'s escapes


def test_two_sessions_accepting_the_same_pair_merge_it_once(seeded_db, opened_stores):
    first = found(open_dedupe())
    second = open_dedupe()
    for at in (first, second):
        at.radio(key="review_status").set_value("sure").run()
    pair = shown_pair(first)
    assert shown_pair(second) == pair
    first.button(key="accept").click().run()
    second.button(key="accept").click().run()                # the pair it was shown, merged already
    assert not first.exception and not second.exception
    store = app_store(opened_stores)
    groups = dedupe.merge_groups(store, DATASET)
    assert len(groups) == 1 and sorted(groups["record_ids"].iloc[0].split(";")) == sorted(pair)
    customers = sample_customer_count() - 1
    first.run()
    for at in (first, second):
        assert metrics(at)["Customers after merges"] == f"{customers:,}"
    assert dedupe.record_count(store, DATASET) == len(dedupe.golden_rows(store, DATASET)) == customers


def test_a_merge_in_another_session_shows_on_the_next_run(seeded_db, opened_stores):
    first = found(open_dedupe())
    records = sample_customer_count()
    assert metrics(first)["Customers after merges"] == f"{records:,}"
    second = open_dedupe()
    second.button(key="bulk_merge").click().run()
    merged = dedupe.record_count(app_store(opened_stores), DATASET)
    assert merged < records
    first.run()                                                # nothing clicked: the cached reads are stale now
    assert metrics(first)["Customers after merges"] == f"{merged:,}"
    shown = next(d.value for d in first.dataframe if "Record ids" in d.value.columns)
    assert len(shown) == len(dedupe.merge_groups(app_store(opened_stores), DATASET))


def test_splitting_a_group_another_session_split_says_so(seeded_db, opened_stores):
    first = found(open_dedupe())
    first.button(key="bulk_merge").click().run()
    second = open_dedupe()
    group = int(dedupe.merge_groups(app_store(opened_stores), DATASET)["group_id"].iloc[0])
    for at in (first, second):
        at.selectbox(key="split_group").set_value(group).run()
    for at in (first, second):
        at.button(key="split").click().run()
    first.button(key="split_yes").click().run()
    second.button(key="split_yes").click().run()
    assert not second.exception, [e.value for e in second.exception]
    assert [e.value for e in second.error] == [f"No active merge group {group} in dataset '{DATASET}'."]
    assert group not in dedupe.merge_groups(app_store(opened_stores), DATASET)["group_id"].tolist()


def test_the_page_says_what_it_is_for_why_a_pair_waits_and_what_comes_next(seeded_db, opened_stores):
    at = open_dedupe()
    assert at.markdown[0].value.startswith("Find the customers entered more than once")
    found(at)
    store = app_store(opened_stores)
    waiting = dedupe.pairs_table(store, DATASET, status="review", undecided_only=True)
    first = waiting.iloc[0]
    expected = dedupe.pair_review(store, int(first["left_row"]), int(first["right_row"]), first["levels"], DATASET,
                                  in_chain=bool(first["in_chain"]))
    assert why(at) == "Why: " + str(expected.why)
    assert len(expected.reasons) >= 1
    evidence = next(d.value for d in at.dataframe if "Found" in d.value.columns)
    assert evidence["Found"].tolist() == [str(e.result) for e in expected.evidence]
    assert "missing" not in " ".join(evidence["Found"])      # "no value on one side", "not compared", never that
    details = next(e for e in at.expander if e.label == "Details: how the score works")
    assert "Fellegi–Sunter" in details.markdown[0].value and "EM:" in details.markdown[0].value
    assert not any("Fellegi" in m.value for m in at.markdown if m not in details.markdown)
    link = at.get("page_link")[-1]
    assert link.proto.label == "Next: segment your customers" and link.proto.icon == ":material/arrow_forward:"


def test_decisions_move_through_the_queue(seeded_db, opened_stores):
    at = found(open_dedupe())
    at.radio(key="review_status").set_value("sure").run()
    store = app_store(opened_stores)
    queue = dedupe.pairs_table(store, DATASET, status="sure", undecided_only=True)
    ids = list(zip(queue["left_id"], queue["right_id"], strict=True))
    assert shown_pair(at) == ids[0]
    at.button(key="skip").click().run()                       # S: the next pair, nothing written
    assert shown_pair(at) == ids[1] and dedupe.audit_log(store, DATASET).empty
    at.button(key="reject").click().run()                     # N on the second: the third comes in its place
    assert shown_pair(at) == ids[2]
    assert dedupe.audit_log(store, DATASET)["action"].tolist() == ["no_match"]
    at.button(key="accept").click().run()                     # Y on the third
    assert len(dedupe.merge_groups(store, DATASET)) == 1
    assert metrics(at)["Customers after merges"] == f"{sample_customer_count() - 1:,}"


def test_a_deep_link_opens_that_pair(seeded_db, opened_stores):
    found(open_dedupe())
    store = app_store(opened_stores)
    queue = dedupe.pairs_table(store, DATASET, status="review", undecided_only=True)
    last = queue.iloc[-1]
    at = open_dedupe(pair=f"{last['right_id']}-{last['left_id']}")  # either order
    assert shown_pair(at) == (last["left_id"], last["right_id"])
    assert any(c.value.startswith("Pair from the link · ") for c in at.caption)
    at.button(key="skip").click().run()                       # then the queue takes over
    assert not any(c.value.startswith("Pair from the link") for c in at.caption)
    wrong = open_dedupe(pair="nope-nada")
    assert any(w.value.startswith("The link names no pair of the last run") for w in wrong.warning)


def test_the_page_in_french(seeded_db, opened_stores):
    at = found(open_dedupe("fr"))
    assert at.title[0].value == "Dédoublonner les clients"
    assert metrics(at)["Fiches"] == f"{sample_customer_count():,}".replace(",", "\u202f")
    assert why(at).startswith("Pourquoi : ")
    evidence = next(d.value for d in at.dataframe if "Constat" in d.value.columns)
    assert set(evidence["Constat"]) <= {"identiques", "proches", "différents", "vide d'un côté",
                                        "vide des deux côtés", "identiques, non pris en compte",
                                        "différents, non pris en compte"} | {
        v for v in evidence["Constat"] if re.match(r"^(identiques, partagés par|proches : |\S+ \S+ d'écart)", v)}
    assert at.button(key="accept").label == "Même client : fusionner"
    # With pairs, reasons and evidence on it, the French page shows no English (its data aside), and the reverse.
    texts = page_texts(at)
    french = i18n.catalogue("fr")
    assert not set(foreign_texts(texts, french)) | set(english_sentences(texts))
    english = found(open_dedupe("en"))
    own = set(sample_customers().columns)                   # the file's own French headers stay as they are
    assert not foreign_texts([t for t in page_texts(english) if t not in own], {v: k for k, v in french.items()})


def test_a_failure_in_matching_is_a_message_and_the_store_is_unchanged(seeded_db, opened_stores, monkeypatch):
    at = found(open_dedupe())
    store = app_store(opened_stores)
    before = dedupe.pairs_table(store, DATASET)

    def broken(self, frame):
        raise KeyError(2)

    monkeypatch.setattr(Matcher, "fit", broken)
    at.button(key="find").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [e.value for e in at.error]
    assert error.startswith("Finding duplicates in dataset") and "KeyError" in error and "Nothing was changed" in error
    after = dedupe.pairs_table(store, DATASET)
    assert after.equals(before)

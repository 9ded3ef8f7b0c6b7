"""End to end in headless Chromium: the real server, the real upload and download.

``app_server`` (module scope) starts ``streamlit run app.py`` on a free port with a store of its own
and stops it at the end; ``browser`` launches Debian's Chromium once. Later steps of the app add
tests here that reuse both: each test opens a page with ``open_app(browser, app_server)``.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import ROOT, SAMPLE

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
STARTUP_TIMEOUT = 180  # seconds until /_stcore/health says ok
SCRIPT_TIMEOUT = 120_000  # ms for one script run (the first one seeds the store)
# Shared machines are slow at times (and the other test worker runs beside these tests): assertions wait as long
# as the app may take, not 5 s.
expect.set_options(timeout=SCRIPT_TIMEOUT)
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@dataclass
class AppServer:
    url: str
    db: Path
    log: Path
    process: subprocess.Popen

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(server: AppServer, timeout: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"streamlit exited with status {server.process.returncode} before it was healthy:\n"
                        f"{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as response:
                last = response.read().decode(errors="replace").strip()
                if last == "ok":
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = repr(exc)
        time.sleep(0.25)
    pytest.fail(f"streamlit not healthy after {timeout:.0f} s (last answer: {last}):\n{server.log_tail()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextlib.contextmanager
def served(db: Path, log: Path) -> Iterator[AppServer]:
    """``streamlit run app.py`` on a free port over the store ``db``, for a test of its own."""
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--", "--db", str(db)]
    env = {**os.environ, "SEGMENT_STUDIO_DB": str(db), "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    server = AppServer(url=f"http://127.0.0.1:{port}", db=db, log=log, process=process)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="module")
def app_server(tmp_path_factory) -> Iterator[AppServer]:
    """``streamlit run app.py`` on a free port and an empty store of its own (seeded on first run)."""
    work = tmp_path_factory.mktemp("browser")
    with served(work / "store.duckdb", work / "streamlit.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium. Run `bash .ci/test` "
                    "(it installs it) or `apt-get install -y chromium` as root.")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def wait_idle(page: Page, timeout: float = SCRIPT_TIMEOUT) -> None:
    """Wait until the script run triggered by the last action has finished, and no other follows.

    A page that calls ``st.rerun()`` after a click runs twice, idle for a moment in between: the app has
    settled only once it stays idle for a short while.
    """
    page.wait_for_selector(IDLE, timeout=timeout)
    for _ in range(20):
        try:
            page.wait_for_selector(RUNNING, timeout=700)
        except PlaywrightTimeoutError:
            return
        page.wait_for_selector(IDLE, timeout=timeout)


def open_app(browser: Browser, server: AppServer) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(SCRIPT_TIMEOUT)
    page.goto(server.url)
    wait_idle(page)
    return page


def screenshot(page: Page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside stMain, so the viewport is stretched to its height first."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    height = page.evaluate("() => document.querySelector(\"[data-testid='stMain']\")?.scrollHeight || 0")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12_000)})
    page.wait_for_timeout(500)  # let the data grids and charts lay out again
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


def websocket_status(server: AppServer, host: str) -> str:
    """The status line the app answers to a WebSocket handshake sent with this ``Host`` header."""
    port = int(server.url.rsplit(":", 1)[1])
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: http://{host}:{port}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        return conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def test_the_app_answers_only_for_this_machine_names(app_server):
    # DNS rebinding: a page of another site whose name resolves to 127.0.0.1 must not reach the app.
    assert " 101 " in websocket_status(app_server, "127.0.0.1")
    assert " 101 " in websocket_status(app_server, "localhost")
    refused = websocket_status(app_server, "attacker.example")
    assert refused.startswith("HTTP/1.1 ") and " 101 " not in refused, refused


def test_upload_import_quality_report_and_download(browser, app_server, tmp_path):
    source = SAMPLE / "customers.csv"
    expected = pd.read_csv(source, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    page = open_app(browser, app_server)
    try:
        # The store was empty: the app seeded it and shows the sample dataset.
        expect(page.get_by_role("heading", name="Import customers")).to_be_visible()
        expect(page.get_by_test_id("stMetric").filter(has_text="Rows").first).to_contain_text(f"{len(expected):,}")

        page.get_by_test_id("stFileUploader").locator("input[type='file']").set_input_files(str(source))
        facts = page.get_by_text(re.compile(r"Format CSV · encoding cp1252 · delimiter ;"))
        expect(facts).to_be_visible()
        wait_idle(page)
        expect(page.get_by_role("heading", name="Column roles")).to_be_visible()

        page.locator(".st-key-import").get_by_role("button", name="Import").click()
        success = page.get_by_test_id("stAlertContentSuccess")
        expect(success).to_contain_text(f"Imported {len(expected):,} rows into dataset customers")
        wait_idle(page)
        assert not page.get_by_test_id("stException").count()
        assert not page.get_by_test_id("stAlertContentError").count()

        expect(page.locator(".st-key-import_dataset").get_by_role("combobox")).to_have_value("customers")
        expect(page.get_by_role("heading", name="Data quality")).to_be_visible()
        chart = page.get_by_test_id("stPlotlyChart").first
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        expect(chart.locator(".main-svg").first).to_be_visible()  # plotly actually drew it

        # The first issue is the missing e-mails: download its rows.
        expect(page.locator(".st-key-issue").get_by_role("combobox")).to_have_value("Missing E-mail")
        button = page.locator(".st-key-issue_download").get_by_role("button")
        button.scroll_into_view_if_needed()
        label = button.inner_text()
        match = re.search(r"Download these ([\d,]+) rows", label)
        assert match, label
        with page.expect_download() as download:
            button.click()
        saved = tmp_path / download.value.suggested_filename
        download.value.save_as(saved)
        assert saved.name == "customers - Missing E-mail.csv"
        rows = pd.read_csv(saved, dtype=str, keep_default_na=False)
        assert list(rows.columns) == ["row", *expected.columns]
        blank_emails = expected["E-mail"].str.strip().eq("")
        assert len(rows) == int(match.group(1).replace(",", "")) == int(blank_emails.sum()) > 0
        assert rows["E-mail"].str.strip().eq("").all()
        # "row" is the record's position in the file: the same customers as in the source.
        positions = rows["row"].astype(int) - 1
        assert rows["ID client"].tolist() == expected["ID client"].iloc[positions].tolist()
    finally:
        screenshot(page, "browser-import")
        page.context.close()



RUNNING = "[data-testid='stApp'][data-test-script-state='running']"
EXPECT_TIMEOUT = 120_000  # ms for an expectation after an action (a rerun after a merge takes a few seconds)
MATCH_TIMEOUT = 300_000  # ms for "Find duplicates" on the 5,480 sample customers


def click_and_wait(page: Page, target: Locator, timeout: float = SCRIPT_TIMEOUT) -> None:
    """Click a widget, see its script run start (unless it was over already), and wait until it ends."""
    target.click()
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_selector(RUNNING, timeout=3_000)
    wait_idle(page, timeout)


def shown(target: Locator, timeout: float = EXPECT_TIMEOUT) -> Locator:
    expect(target).to_be_visible(timeout=timeout)
    return target


def metric_value(page: Page, label: str) -> int:
    """The figure of the ``st.metric`` labelled ``label`` (``1,234`` -> 1234)."""
    value = page.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")
    expect(value).to_have_text(re.compile(r"^[\d,]+$"), timeout=EXPECT_TIMEOUT)
    return int(value.inner_text().replace(",", ""))


def go_to(page: Page, link: str, heading: str) -> None:
    """Open a page from the sidebar and see its title."""
    click_and_wait(page, page.get_by_test_id("stSidebarNav").get_by_role("link").filter(has_text=link))
    shown(page.get_by_role("heading", name=heading, exact=True))


def pick_dataset(page: Page, widget_key: str, dataset: str) -> None:
    """Take ``dataset`` in a page's dataset picker (another test imports a newer one, offered first)."""
    picker = page.locator(f".st-key-{widget_key}").get_by_role("combobox")
    if picker.input_value() != dataset:
        picker.click()
        click_and_wait(page, page.get_by_role("option", name=dataset, exact=True))
    expect(picker).to_have_value(dataset, timeout=EXPECT_TIMEOUT)


def test_review_one_pair_and_merge(browser, app_server):
    dataset = "sample customers"  # seeded from sample_data/customers.csv
    records = len(pd.read_csv(SAMPLE / "customers.csv", sep=";", encoding="cp1252", dtype=str,
                              keep_default_na=False))
    page = open_app(browser, app_server)
    try:
        go_to(page, "Deduplicate", "Deduplicate customers")
        pick_dataset(page, "dedupe_dataset", dataset)

        click_and_wait(page, page.locator(".st-key-find").get_by_role("button", name="Find duplicates"),
                       timeout=MATCH_TIMEOUT)
        metrics = page.get_by_test_id("stMetric")
        for label in ("Records", "Pairs compared", "Sure matches", "Pairs to review", "Customers after merges"):
            shown(metrics.filter(has_text=label), timeout=MATCH_TIMEOUT)
        assert metric_value(page, "Records") == records
        sure, to_review = metric_value(page, "Sure matches"), metric_value(page, "Pairs to review")
        assert sure + to_review > 0, "matching found no candidate pair at all"
        before = metric_value(page, "Customers after merges")
        assert before == records  # a store of its own: nothing merged yet
        shown(page.get_by_text("No merge yet."))

        # A queue with a pair in it: "To review", or "Sure matches" when nothing is left to review.
        shown(page.get_by_role("heading", name="Review pairs"))
        show = page.locator(".st-key-review_status")
        expect(show.get_by_role("radio", name="To review")).to_be_checked()
        caption = page.get_by_text(re.compile(r"^Pair 1 of [\d,]+ · score"))
        empty = page.get_by_text("Nothing left to review here.")
        shown(caption.or_(empty))
        queued = to_review
        if empty.is_visible():
            assert to_review == 0
            click_and_wait(page, show.get_by_text("Sure matches", exact=True))
            expect(show.get_by_role("radio", name="Sure matches")).to_be_checked(timeout=EXPECT_TIMEOUT)
            queued = sure  # no decision yet: every sure pair is queued
        text = shown(caption).inner_text().strip()
        match = re.fullmatch(r"Pair 1 of ([\d,]+) · score ([\d.]+) · (\S+) ↔ (\S+)", text)
        assert match, text
        assert int(match.group(1).replace(",", "")) == queued
        left_id, right_id = match.group(3), match.group(4)
        # The side-by-side table is the first table on the page; its text comes from the grid's accessible table.
        side = page.get_by_test_id("stDataFrame").first
        side.scroll_into_view_if_needed()
        shown(side.locator("canvas").first)
        for text in ("Field", left_id, right_id):
            expect(side).to_contain_text(text, timeout=EXPECT_TIMEOUT)

        click_and_wait(page, page.locator(".st-key-accept").get_by_role("button", name="Same customer: merge"))
        after = metrics.filter(has_text="Customers after merges").get_by_test_id("stMetricValue")
        expect(after).to_have_text(f"{before - 1:,}", timeout=EXPECT_TIMEOUT)  # after the click's rerun
        wait_idle(page)
        assert metric_value(page, "Customers after merges") == before - 1
        # The merged pair is decided now: it left the queue.
        shown(page.get_by_text(re.compile(rf"^Pair 1 of {queued - 1:,} · score")) if queued > 1 else empty)
        if queued > 2:  # the keyboard flow: N marks the next pair as two different customers
            shown(page.get_by_text(re.compile(r"Keyboard: Y same customer")))
            page.keyboard.press("n")
            shown(page.get_by_text(re.compile(rf"^Pair 1 of {queued - 2:,} · score")))
            wait_idle(page)
            assert metric_value(page, "Customers after merges") == before - 1  # rejected: nothing merged

        # A decision reruns the review pair only (a fragment): the list of merges follows on the next full run.
        go_to(page, "Deduplicate", "Deduplicate customers")
        shown(page.get_by_role("heading", name="Merged customers"))
        expect(page.get_by_text("No merge yet.")).to_have_count(0)
        merged = page.get_by_test_id("stDataFrame").filter(has_text="Record ids")
        merged.scroll_into_view_if_needed()
        shown(merged)
        for text in ("Group", "one by one", left_id, right_id):  # one group, from the review, of the two records
            expect(merged).to_contain_text(text, timeout=EXPECT_TIMEOUT)
        shown(page.locator(".st-key-split").get_by_role("button", name="Split this group again"))
        assert not page.get_by_test_id("stException").count()
        assert not page.get_by_test_id("stAlertContentError").count()
    finally:
        screenshot(page, "browser-dedupe")
        page.context.close()


def test_two_reviewers_accept_the_same_pair_at_once(browser, app_server):
    """Two browser sessions press "Same customer" on the same pair together: one merge, and counts that agree."""
    dataset = "sample customers"
    pages = [open_app(browser, app_server), open_app(browser, app_server)]
    try:
        for page in pages:
            go_to(page, "Deduplicate", "Deduplicate customers")
            pick_dataset(page, "dedupe_dataset", dataset)
        first, second = pages
        if first.get_by_text("to compare the records.").count():  # no matching run yet in this store
            click_and_wait(first, first.locator(".st-key-find").get_by_role("button", name="Find duplicates"),
                           timeout=MATCH_TIMEOUT)
            second.reload()
            wait_idle(second)
            go_to(second, "Deduplicate", "Deduplicate customers")
            pick_dataset(second, "dedupe_dataset", dataset)
        captions = []
        for page in pages:  # the sure matches: the queue that has pairs in it on the sample
            show = page.locator(".st-key-review_status")
            click_and_wait(page, show.get_by_text("Sure matches", exact=True))
            expect(show.get_by_role("radio", name="Sure matches")).to_be_checked(timeout=EXPECT_TIMEOUT)
            captions.append(shown(page.get_by_text(re.compile(r"^Pair 1 of [\d,]+ · score"))).inner_text().strip())
        assert captions[0] == captions[1], captions
        match = re.fullmatch(r"Pair 1 of ([\d,]+) · score ([\d.]+) · (\S+) ↔ (\S+)", captions[0])
        assert match, captions[0]
        queued, left_id, right_id = int(match.group(1).replace(",", "")), match.group(3), match.group(4)
        before = metric_value(first, "Customers after merges")
        assert metric_value(second, "Customers after merges") == before

        buttons = [p.locator(".st-key-accept").get_by_role("button", name="Same customer: merge") for p in pages]
        for button in buttons:
            shown(button)
        for button in buttons:  # both clicks before either script run is waited for
            button.click()
        for page in pages:
            wait_idle(page)

        # One merge of that pair, whichever session came second: the counts agree on both pages.
        for page in pages:
            after = page.get_by_test_id("stMetric").filter(has_text="Customers after merges")
            expect(after.get_by_test_id("stMetricValue")).to_have_text(f"{before - 1:,}", timeout=EXPECT_TIMEOUT)
            left = f"Pair 1 of {queued - 1:,} · score" if queued > 1 else "Nothing left to review here."
            shown(page.get_by_text(re.compile("^" + re.escape(left))))
            go_to(page, "Deduplicate", "Deduplicate customers")  # the list of merges: on the next full run
            merged = page.get_by_test_id("stDataFrame").filter(has_text="Record ids")
            merged.scroll_into_view_if_needed()
            for text in (left_id, right_id):
                expect(merged).to_contain_text(text, timeout=EXPECT_TIMEOUT)
            text = merged.text_content() or ""
            assert text.count(left_id) == 1 and text.count(right_id) == 1, text  # each record in one group
            assert not page.get_by_test_id("stException").count()
        # A fresh session reads the store again: the same figure.
        second.reload()
        wait_idle(second)
        go_to(second, "Deduplicate", "Deduplicate customers")
        pick_dataset(second, "dedupe_dataset", dataset)
        assert metric_value(second, "Customers after merges") == before - 1
    finally:
        screenshot(pages[0], "browser-dedupe-two-reviewers")
        for page in pages:
            page.context.close()


def test_score_k_see_elbow_and_run_segments(browser, app_server):
    dataset = "sample customers"
    page = open_app(browser, app_server)
    try:
        go_to(page, "Segment", "Segment customers")
        pick_dataset(page, "segment_dataset", dataset)
        shown(page.get_by_text("No run yet."))

        click_and_wait(page, page.locator(".st-key-scan").get_by_role("button", name="Score k = 2…10"),
                       timeout=MATCH_TIMEOUT)
        advice = shown(page.get_by_text(re.compile(r"^Recommended: (\d+) segments: ")), timeout=MATCH_TIMEOUT)
        k = int(re.match(r"Recommended: (\d+)", advice.inner_text()).group(1))
        assert 2 <= k <= 10
        elbow = page.locator(".st-key-elbow")
        shown(elbow)
        expect(elbow).to_contain_text("spread within segments", timeout=EXPECT_TIMEOUT)
        expect(elbow).to_contain_text(f"recommended: {k} segments", timeout=EXPECT_TIMEOUT)

        click_and_wait(page, page.locator(".st-key-run").get_by_role("button", name=f"Run K-means with {k} segments"),
                       timeout=MATCH_TIMEOUT)
        shown(page.get_by_text(re.compile(rf"^Run {re.escape(dataset)} · k={k} saved: [\d,]+ customers in {k} "
                                          "segments\\.$")))
        runs = page.get_by_test_id("stDataFrame").filter(has_text="customers")
        runs.scroll_into_view_if_needed()
        shown(runs)
        expect(runs).to_contain_text(f"{dataset} · k={k}", timeout=EXPECT_TIMEOUT)
        shown(page.locator(".st-key-sizes"))
        assert not page.get_by_test_id("stException").count()
        assert not page.get_by_test_id("stAlertContentError").count()
    finally:
        screenshot(page, "browser-segment")
        page.context.close()


def test_open_profile_and_rename_a_segment(browser, app_server):
    # Runs after test_score_k_see_elbow_and_run_segments, which saved a run of the sample customers.
    page = open_app(browser, app_server)
    try:
        go_to(page, "Profile", "Segment profiles")
        pick_dataset(page, "profile_dataset", "sample customers")
        card = shown(page.locator(".st-key-card_0"))
        rule = r"^Rule: .+ \(it picks \d+% of the segment; \d+% of those it picks are in it\)"
        shown(card.get_by_text(re.compile(rule)))
        card.get_by_role("button", name="Rename").click()
        name_box = shown(page.locator(".st-key-rename_name_0").get_by_role("textbox"))
        name_box.fill("Champions")
        name_box.press("Enter")
        wait_idle(page)
        click_and_wait(page, page.locator(".st-key-rename_button_0").get_by_role("button", name="Save the name"))
        shown(page.get_by_text("The segment is now called Champions: audiences and exports use this name."))
        page.keyboard.press("Escape")  # close the popover
        shown(card.get_by_role("heading", name="Champions", exact=True))
        details = page.locator(".st-key-profile_details")
        click_and_wait(page, details.get_by_text("Details: charts and the full profile"))
        shown(page.get_by_text(re.compile(r"agrees with the segments for \d+% of customers")))
        shown(page.locator(".st-key-index_heatmap").filter(has_text="Champions").first)
        with page.expect_download() as download:
            page.locator(".st-key-profile_csv").get_by_role("button").click()
        path = download.value.path()
        table = pd.read_csv(path)
        assert table.loc[table["segment"] == 0, "name"].tolist() == ["Champions"]
        assert {"size", "share", "rule", "precision", "coverage"} <= set(table.columns)
        assert table["rule"].str.len().min() > 0
        assert 5000 < table["size"].sum() <= 5480  # every sample customer (less those merged by another test)
        assert not page.get_by_test_id("stException").count()
    finally:
        screenshot(page, "browser-profile")
        page.context.close()


def choose(page: Page, widget_key: str, option: str | re.Pattern) -> None:
    """Pick an option of a selectbox or multiselect from its list, then close the list."""
    box = page.locator(f".st-key-{widget_key}").get_by_role("combobox")
    target = page.get_by_role("option", name=option).first
    for _attempt in range(3):  # a rerun that ends just after the click closes the list again
        box.scroll_into_view_if_needed()
        box.click()
        with contextlib.suppress(PlaywrightTimeoutError):
            target.wait_for(state="visible", timeout=10_000)
            break
        page.keyboard.press("Escape")
        wait_idle(page)
    click_and_wait(page, target)
    page.keyboard.press("Escape")  # a multiselect keeps its list open over the widgets below
    wait_idle(page)


def test_build_an_audience_and_download_it(browser, app_server):
    # Runs after the segment test, which saved a run of the sample customers (the current run).
    from segmentation.ingest.normalize import fold_category

    page = open_app(browser, app_server)
    try:
        go_to(page, "Audiences", "Audiences")
        pick_dataset(page, "audience_dataset", "sample customers")
        choose(page, "audience_segments", re.compile(r"^0 · "))
        choose(page, "cond_column", re.compile(r"^Région$"))
        value = page.locator(".st-key-cond_value").get_by_role("textbox")
        value.fill("Île-de-France")
        value.press("Enter")
        wait_idle(page)
        click_and_wait(page, page.locator(".st-key-add_condition").get_by_role("button", name="Add condition"))
        shown(page.get_by_text("Group 1: Région is Île-de-France"))
        total = metric_value(page, "In the audience")
        assert total > 0
        button = page.locator(".st-key-audience_download").get_by_role("button")
        expect(button).to_contain_text(f"Download {total:,} customers", timeout=EXPECT_TIMEOUT)
        with page.expect_download() as download:
            button.click()
        rows = pd.read_csv(download.value.path(), sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert len(rows) == total
        assert list(rows.columns) == ["ID client", "Société", "Prénom", "Nom", "E-mail", "segment_name"]
        assert rows["segment_name"].nunique() == 1 and (rows["E-mail"].str.contains("@")).all()
        source = pd.read_csv(SAMPLE / "customers.csv", sep=";", encoding="cp1252", dtype=str,
                             keep_default_na=False).drop_duplicates("ID client").set_index("ID client")
        chosen = source.loc[rows["ID client"]]
        assert set(fold_category(chosen["Région"])) == {"ile de france"}
        assert (chosen["Consentement"].str.lower() == "oui").all()
        assert not page.get_by_test_id("stException").count()
    finally:
        screenshot(page, "browser-audience")
        page.context.close()


def fill(page: Page, widget_key: str, text: str) -> None:
    """Type into a text input and commit it (Enter), then wait for the rerun."""
    box = page.locator(f".st-key-{widget_key}").get_by_role("textbox")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_save_the_pipeline_and_refresh_twice(browser, app_server, tmp_path):
    # Runs last: the segment run and the saved audiences of the other tests are part of the pipeline.
    import tomllib

    config_file = tmp_path / "project" / "pipeline.toml"
    page = open_app(browser, app_server)
    try:
        go_to(page, "Refresh", "Refresh")
        pick_dataset(page, "refresh_dataset", "sample customers")
        fill(page, "refresh_config_file", str(config_file))
        fill(page, "refresh_src_0_sample-customers", str(SAMPLE / "customers.csv"))
        click_and_wait(page, page.locator(".st-key-refresh_save").get_by_role("button", name="Save config file"))
        shown(page.get_by_text(f"Saved {config_file}"))
        config = tomllib.loads(config_file.read_text(encoding="utf-8"))
        assert config["sources"][0] == {**config["sources"][0], "dataset": "sample customers",
                                        "file": str(SAMPLE / "customers.csv")}
        assert config.get("segments", {"mode": "assign"})["mode"] == "assign"  # a run exists when run with the rest

        fill(page, "refresh_run_file", str(config_file))
        run = page.locator(".st-key-refresh_run").get_by_role("button", name="Run refresh")
        click_and_wait(page, run, timeout=MATCH_TIMEOUT)
        first = shown(page.get_by_text(re.compile(r"^Refresh \d+ done: ")), timeout=MATCH_TIMEOUT).inner_text()
        assert "nothing changed" not in first  # a first refresh of this pipeline does its steps
        for audience in config.get("audiences", []):  # every saved audience written where the file says
            written = config_file.parent / audience["out"]
            assert written.exists() and "ID client" in pd.read_csv(written, sep=";", encoding="utf-8-sig").columns
        click_and_wait(page, run, timeout=MATCH_TIMEOUT)
        shown(page.get_by_text(re.compile(r"^Refresh \d+ done: nothing changed\.$")), timeout=MATCH_TIMEOUT)
        shown(page.get_by_role("heading", name="How segments moved"))
        assert not page.get_by_test_id("stException").count()
    finally:
        screenshot(page, "browser-refresh")
        page.context.close()


# --- Data shown as text, destructive actions confirmed, nothing fetched (issue 19) -------------------------------


def foreign(requests: list[str], server: AppServer) -> list[str]:
    """The requests that went anywhere but the app's own origin (data: and blob: URLs aside)."""
    return [u for u in requests if not (u == server.url or u.startswith(server.url + "/")
                                        or u.startswith(("data:", "blob:")))]


def test_markdown_in_the_data_is_shown_as_text_and_undo_all_asks_first(browser, tmp_path):
    from tests.app.test_text_pages import DATASET, IMG, RUN, build_markdown_store

    db = build_markdown_store(tmp_path)
    with served(db, tmp_path / "streamlit.log") as server:
        page = open_app(browser, server)
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))

        def nothing_planted() -> None:
            assert page.locator("img[src*='127.0.0.1:9'], img[src='x']").count() == 0
            assert not [u for u in requests if "127.0.0.1:9/" in u], requests

        try:
            go_to(page, "Segment", "Segment customers")
            shown(page.get_by_text(f"Current run: {RUN} ·"))          # the run name, literally
            nothing_planted()
            go_to(page, "Profile", "Segment profiles")
            nothing_planted()
            go_to(page, "Behaviour", "Behaviour and prediction")
            nothing_planted()
            go_to(page, "Audiences", "Audiences")
            choose(page, "cond_column", IMG)
            click_and_wait(page, page.locator(".st-key-add_condition").get_by_role("button"))
            shown(page.get_by_text(re.compile(r"^Group 1: .*" + re.escape(IMG))))
            nothing_planted()

            go_to(page, "Deduplicate", "Deduplicate customers")
            click_and_wait(page, page.locator(".st-key-find").get_by_role("button", name="Find duplicates"),
                           timeout=MATCH_TIMEOUT)
            click_and_wait(page, page.locator(".st-key-bulk_merge").get_by_role("button"))
            shown(page.get_by_role("heading", name="Merged customers"))
            expect(page.get_by_text("No merge yet.")).to_have_count(0)
            undo = page.locator(".st-key-undo_all").get_by_role("button", name="Undo all merges")
            click_and_wait(page, undo)
            dialog = shown(page.get_by_role("dialog"))
            expect(dialog).to_contain_text(f"of dataset {DATASET}?")  # the name, literally
            nothing_planted()
            click_and_wait(page, dialog.get_by_role("button", name="Cancel"))
            expect(page.get_by_role("dialog")).to_have_count(0)
            expect(page.get_by_text("No merge yet.")).to_have_count(0)  # nothing undone
            click_and_wait(page, undo)
            click_and_wait(page, shown(page.get_by_role("dialog")).get_by_role("button", name="Yes, undo all merges"))
            shown(page.get_by_text("No merge yet."))
            expect(page.get_by_role("dialog")).to_have_count(0)

            nothing_planted()  # (the Refresh page is checked by its owner's change: its labels quote names)
            assert not foreign(requests, server), foreign(requests, server)
            assert not page.get_by_test_id("stException").count()
        finally:
            screenshot(page, "browser-markdown-data")
            page.context.close()


PAGES = [("Import", "Import customers"), ("Deduplicate", "Deduplicate customers"),
         ("Behaviour", "Behaviour and prediction"), ("Segment", "Segment customers"),
         ("Profile", "Segment profiles"), ("Audiences", "Audiences"), ("Refresh", "Refresh")]


def test_every_page_fetches_only_from_the_app(browser, app_server):
    """"Nothing fetched at run time": every request of every page goes to the app's own origin."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(SCRIPT_TIMEOUT)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(app_server.url)
        wait_idle(page)
        for link, heading in PAGES:
            go_to(page, link, heading)
            page.wait_for_timeout(1_000)  # let charts, grids and fonts load
        assert len(requests) > 10, requests  # the pages were loaded through this listener
        assert not foreign(requests, app_server), foreign(requests, app_server)
    finally:
        screenshot(page, "browser-every-page")
        context.close()


def test_a_deep_link_opened_first_on_a_fresh_server_goes_through_the_router(browser, tmp_path):
    """A bookmarked address as the server's very first request: the page runs inside the app, query kept.

    Until the router has run once, Streamlit would run ``pages/audiences.py`` on its own, with a menu
    listing every module of ``pages/`` and none of the session's defaults.
    """
    with served(tmp_path / "store.duckdb", tmp_path / "streamlit.log") as server:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(SCRIPT_TIMEOUT)
        try:
            page.goto(server.url + "/audiences?dataset=sample+customers")
            wait_idle(page)
            shown(page.get_by_role("heading", name="Audiences", exact=True))
            menu = page.get_by_test_id("stSidebarNav").get_by_role("link")
            expect(menu).to_have_count(len(PAGES))
            assert [t.split("\n")[-1].strip() for t in menu.all_inner_texts()] == [  # after the icon's name
                "Import", "Deduplicate", "Behaviour and prediction", "Segment", "Profile", "Audiences", "Refresh"]
            expect(page.locator(".st-key-audience_dataset").get_by_role("combobox")).to_have_value("sample customers")
            assert "dataset=sample" in page.url, page.url
            assert not page.get_by_test_id("stException").count()
            assert "Traceback" not in server.log.read_text()
        finally:
            screenshot(page, "browser-deep-link")
            context.close()


def test_google_preset_download_and_its_separate_holdout_file(browser, tmp_path):
    """Issue 18: an audience in the Google Customer Match format, the control group in a file of its own."""
    import csv
    import io

    with served(tmp_path / "store.duckdb", tmp_path / "streamlit.log") as server:  # seeded with the sample
        page = open_app(browser, server)
        try:
            go_to(page, "Audiences", "Audiences")
            pick_dataset(page, "audience_dataset", "sample customers")
            thumb = page.locator(".st-key-audience_holdout").get_by_role("slider")
            thumb.focus()
            for _step in range(10):
                thumb.press("ArrowRight")
            wait_idle(page)
            expect(thumb).to_have_value("10", timeout=EXPECT_TIMEOUT)
            choose(page, "audience_preset", "Google Ads Customer Match")
            shown(page.get_by_role("link", name="Google Ads Customer Match"))
            total, held = metric_value(page, "In the audience"), metric_value(page, "Holdout")
            assert held == int(total * 0.1 + 0.5) > 0
            files = {}
            for key in ("audience_download", "audience_download_holdout"):
                with page.expect_download() as download:
                    page.locator(f".st-key-{key}").get_by_role("button").click()
                files[key] = (download.value.suggested_filename, download.value.path().read_bytes())
            assert files["audience_download"][0] == "audience (google).csv"
            assert files["audience_download_holdout"][0] == "audience (google) (holdout).csv"
            contact, control = (list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
                                for _name, data in files.values())
            header = ["Email", "Email", "Email", "Phone", "Phone", "Phone", "First Name", "Last Name", "Country", "Zip"]
            assert contact[0] == control[0] == header
            assert (len(contact) - 1, len(control) - 1) == (total - held, held)
            emails = [r[0] for r in contact[1:]]
            assert all("@" in e for e in emails)
            source = pd.read_csv(SAMPLE / "customers.csv", sep=";", encoding="cp1252", dtype=str)
            shared = source["E-mail"].str.strip().str.lower().value_counts()
            # Customers are disjoint; an e-mail in both files is one that several (unmerged) customers share.
            assert set(emails) & {r[0] for r in control[1:]} <= set(shared[shared > 1].index)
            phones = [r[3] for r in contact[1:] + control[1:] if r[3]]
            assert phones and all(re.fullmatch(r"\+\d{8,15}", p) for p in phones)   # bare E.164, no apostrophe
            assert not page.get_by_test_id("stException").count()
        finally:
            screenshot(page, "browser-audience-google")
            page.context.close()


# --- issue 20: the browser's language is the interface's -------------------------------------------------------

LANGUAGE_CASES = {
    # browser locale: (Import page title, grouped number, Deduplicate link, a metric label of Audiences)
    "fr-FR": ("Importer des clients", r"^\d{1,3}(\u202f\d{3})+$", "Dédoublonner", "Dans l'audience"),
    "en-US": ("Import customers", r"^\d{1,3}(,\d{3})+$", "Deduplicate", "In the audience"),
}


@pytest.fixture(scope="module")
def language_server(tmp_path_factory) -> Iterator[AppServer]:
    """A server of its own over the seeded sample with a segment run "Q1" whose segment 0 is called "Champions"."""
    import app_state
    from segmentation import open_workspace

    work = tmp_path_factory.mktemp("languages")
    ws = open_workspace(work / "store.duckdb")
    try:
        app_state.seed(ws)
        segments = ws.dataset("sample customers").segments
        segments.run(segments.default_features(), k=3, name="Q1")
        segments.rename_segment("Q1", 0, "Champions")
    finally:
        ws.close()
    with served(work / "store.duckdb", work / "streamlit.log") as server:
        yield server


@pytest.mark.parametrize("locale", list(LANGUAGE_CASES))
def test_the_browser_language_is_the_interface_language(browser, language_server, locale):
    title, grouped, dedupe_link, audience_metric = LANGUAGE_CASES[locale]
    other_link = LANGUAGE_CASES["en-US" if locale == "fr-FR" else "fr-FR"][2]
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(SCRIPT_TIMEOUT)
    try:
        page.goto(language_server.url)
        wait_idle(page)
        shown(page.get_by_role("heading", name=title, exact=True))                   # a page title
        rows = page.get_by_test_id("stMetric").first.get_by_test_id("stMetricValue")
        expect(rows).to_have_text(re.compile(grouped), timeout=EXPECT_TIMEOUT)     # 5 480 / 5,480
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav).to_contain_text(dedupe_link, timeout=EXPECT_TIMEOUT)
        assert not nav.get_by_text(other_link, exact=True).count()
        # The Profile page's deep link: an audience started with segment 0 of run Q1, shown by its name.
        page.goto(f"{language_server.url}/audiences?run=Q1&segment=0")
        wait_idle(page)
        shown(page.get_by_test_id("stMetric").filter(has_text=audience_metric))
        expect(page.locator(".st-key-audience_segments")).to_contain_text("0 · Champions", timeout=EXPECT_TIMEOUT)
        assert not page.get_by_test_id("stException").count()
    finally:
        screenshot(page, f"browser-language-{locale}")
        context.close()

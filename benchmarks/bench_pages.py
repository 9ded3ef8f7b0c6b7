"""Page benchmark: every page of the real app, served over a store of N customers, timed in headless Chromium.

The store is built the way a user builds it, through the facade (``segmentation.open_workspace``): the
generated customers export imported (``benchmarks/common.py: customers_file``), duplicates found and the sure
matches merged, a segment run (k = 5), an orders file of about 10 lines per customer imported as kind
``transactions`` (generated like ``bench_rfm.py``'s: two lines per invoice, 2 % cancellations, 3 % returns,
1 % guest lines, a few customers ordering a lot) and RFM on it, a propensity score, a saved audience. Each
build step is timed on stderr. The store is ``benchmarks/data/pages_<N>.duckdb`` (``--reuse`` keeps it when a
complete build of that size is there).

Then ``python -m streamlit run app.py ... -- --db STORE`` serves it (as ``tests/app/test_browser.py`` does)
and Playwright drives Debian's Chromium: the first load (which also opens the store), then every page from the
sidebar, a first visit and ``--repeat`` warm visits each, then the main interactions: a review decision on
*Deduplicate* (keys S, N, Y), an audience count change on *Audiences* (a segment picked, the holdout slider
moved), a rename on *Profile*. A figure is the time from the click (or key press) in the browser to the
script run it started having finished (``[data-testid='stApp']`` back to ``notRunning`` and staying so, the
page's title shown for a navigation); "page switch" is the time from the click in the sidebar to the new page's
title being shown (warm visits). A first visit is measured once (the app's caches live as long as the
server). Times are taken in the browser (``performance.now()``, a ``MutationObserver``
on the script state), so Playwright's own polling is not counted. Medians of the tries.

By default the server is started through this file (``--serve-traced``), which wraps every
public method of the facade's stages with a timer and then runs Streamlit's own command line unchanged: the
report then names, for each slow figure, the engine calls the page made during it (calls the pages' cache
answered cost nothing and are not seen), and the kilobytes the app sent the browser over its WebSocket during
it (large charts are drawn in the browser). ``--no-trace`` runs the bare ``python -m streamlit run`` command.
The app is served on a copy of the store (deleted afterwards), so the interactions' writes (merges, a
rename) leave the built store as it was; the whole report is also written to
``benchmarks/data/pages_<N>_last.json``.

Usage: ``python benchmarks/bench_pages.py [--customers 1000000] [--repeat 3] [--reuse] [--json] [--no-trace]
[--screenshot FILE]``.
Goals (issue 21, 1M customers, this 2-core machine): every page warm < 1 s, first visit < 3 s (the store already
open); a review decision, an audience count change, a rename, a page switch < 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from common import DATA, ROOT, customers_file

GOAL_WARM, GOAL_FIRST, GOAL_ACTION = 1.0, 3.0, 1.0
PAGES = [("Import", "Import customers"), ("Deduplicate", "Deduplicate customers"),
         ("Behaviour", "Behaviour and prediction"), ("Segment", "Segment customers"),
         ("Profile", "Segment profiles"), ("Audiences", "Audiences"), ("Refresh", "Refresh")]
DATASET, ORDERS, RUN, AUDIENCE = "bench customers", "bench orders", "bench k=5", "bench segment 0"
AS_OF = "2026-11-01"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
SETTLE_MS = 700      # a run counts as finished once the app stays idle this long (a page may st.rerun())
START_MS = 5_000     # an action that starts no script run within this long is "no run" (0 s)
RUN_TIMEOUT_S = 900  # one script run at most (a first visit at 1M)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the store, built through the facade

def store_path(customers: int) -> Path:
    return DATA / f"pages_{customers}.duckdb"


def orders_file(customers: int, source: Path) -> Path:
    """About 10 order lines per customer, their ``customer_id`` the export's record ids (made once, shared)."""
    import duckdb

    path = DATA / f"orders_{customers}_utf8.csv"
    if path.exists():
        return path
    con = duckdb.connect()
    con.execute("CREATE TABLE ids AS SELECT row_number() OVER () AS i, \"ID client\" AS id FROM "
                "read_csv(?, delim=';', header=true, all_varchar=true)", [str(source)])
    n = con.execute("SELECT count(*) FROM ids").fetchone()[0]
    m = customers * 10
    tmp = path.with_suffix(".tmp")
    # As bench_rfm.py: two lines per invoice, its customer and day drawn once (a hash of the invoice number),
    # a few customers ordering a lot, 2 % of the invoices cancellations, 3 % returns, 1 % guest lines.
    con.execute(f"""COPY (
        SELECT CASE WHEN hash(j // 2) % 50 = 0 THEN 'C' ELSE '' END || CAST(100000 + j // 2 AS VARCHAR) AS order_id,
               CASE WHEN hash(j // 2 + 7) % 100 = 0 THEN NULL ELSE ids.id END AS customer_id,
               strftime(DATE '2019-01-01' + CAST(hash(j // 2 + 2) % 2800 AS INTEGER), '%Y-%m-%d') AS order_date,
               CAST(CASE WHEN hash(j // 2) % 50 = 0 OR random() < 0.03 THEN -1 ELSE 1 END
                    * (1 + floor(random() * 5)) AS INTEGER) AS quantity,
               round(exp(1 + 2 * random()), 2) AS unit_price,
               ['Licences', 'Modules', 'Formation', 'Abonnement'][1 + CAST(floor(random() * 4) AS INTEGER)]
                   AS category
        FROM range(1, {m + 1}) t(j)
        JOIN ids ON ids.i = 1 + CAST(floor({n} * pow((hash(j // 2 + 1) % 1000003) / 1000003.0, 2)) AS BIGINT)
        ORDER BY j) TO '{tmp}' (HEADER, DELIMITER ';')""")
    con.close()
    tmp.rename(path)
    return path


def build(customers: int, path: Path) -> dict:
    """Build the store at ``path`` as a user would; the seconds of each step (also printed on stderr)."""
    sys.path.insert(0, str(ROOT))
    from segmentation import AudienceSpec, ImportSettings, MatchSettings, RFMSettings, ScoreSettings, open_workspace

    steps: dict[str, float] = {}

    @contextlib.contextmanager
    def step(label: str):
        log(f"build {customers:,}: {label}…")
        start = time.perf_counter()
        yield
        steps[label] = round(time.perf_counter() - start, 2)
        log(f"build {customers:,}: {label}: {steps[label]:.1f} s")

    with step("generate the customers file"):
        source = customers_file(customers)
    with step("generate the orders file"):
        orders_path = orders_file(customers, source)
    for stale in (path, path.with_name(path.name + ".wal"), path.with_suffix(".json")):
        stale.unlink(missing_ok=True)
    ws = open_workspace(path)
    try:
        with step("import customers"):
            ds = ws.ingest.import_path(source, ImportSettings(name=DATASET))
            ds.ingest.import_result()  # as the Import page and the CLI do after an import: the read report kept
        with step("find duplicates"):
            found = ds.dedupe.find(MatchSettings())
        with step("merge sure matches"):  # as the page's bulk merge and the refresh's auto_merge: sure ones only
            merged = ds.dedupe.merge(above=MatchSettings().upper)
        with step("segment run (k = 5)"):
            ds.segments.run(ds.segments.default_features(), 5, name=RUN)
        with step("import orders"):
            orders = ws.ingest.import_path(orders_path, ImportSettings(name=ORDERS, kind="transactions"))
        with step("RFM"):
            rfm = ds.behaviour.rfm(orders, RFMSettings(as_of=AS_OF, link_column="customer_id"))
        with step("propensity score"):
            # "Bought in the last 90 days" (the RFM recency): a yes/no column with missing values such as
            # "Consentement" fails in propensity.target_values (a pandas "boolean" series with <NA>).
            ds.behaviour.score(ScoreSettings(target="RFM recency (days)", name="bench bought in 90 days",
                                             within_days=90))
        with step("save an audience"):
            ds.audiences.save(AUDIENCE, AudienceSpec(dataset=ds.name, segments=(0,)))
        facts = {"customers": customers, "records": ds.info.row_count, "pairs_to_review": found.to_review,
                 "sure_matches": found.sure_matches, "customers_after_merges": merged.records_after,
                 "order_lines": orders.info.row_count, "customers_with_orders": rfm.customers_with_orders,
                 "build_s": steps}
    finally:
        ws.close()
    path.with_suffix(".json").write_text(json.dumps(facts, indent=1), encoding="utf-8")
    return facts


def store(customers: int, reuse: bool) -> tuple[Path, dict]:
    """The store of ``customers`` customers: built now, or the last complete build with ``reuse``."""
    path = store_path(customers)
    facts = path.with_suffix(".json")
    if reuse and path.exists() and facts.exists():
        log(f"reusing {path} (built before: {facts.read_text(encoding='utf-8').strip()})")
        return path, {**json.loads(facts.read_text(encoding="utf-8")), "reused": True}
    DATA.mkdir(parents=True, exist_ok=True)
    return path, build(customers, path)


# ------------------------------------------------------------------ the server (optionally traced)

def serve_traced(trace: Path, streamlit_args: list[str]) -> None:
    """Time every public method of the facade's stages into ``trace`` (JSON lines), then run Streamlit's CLI."""
    sys.path.insert(0, str(ROOT))
    import functools

    import segmentation.workspace as facade

    out = open(trace, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (open while the server runs)
    lock, local = threading.Lock(), threading.local()
    classes = [facade.Workspace, facade.DatasetHandle, facade.IngestStage, facade.WorkspaceIngest,
               facade.DedupeStage, facade.CustomersStage, facade.SegmentsStage, facade.BehaviourStage,
               facade.AudiencesStage, facade.RefreshStage]

    def timed(name: str, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            depth = getattr(local, "depth", 0)
            local.depth = depth + 1
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                local.depth = depth
                if depth == 0:  # the page's own call: what it waits for (nested calls are inside it)
                    seconds = time.perf_counter() - start
                    with lock:
                        out.write(json.dumps({"end": time.time(), "s": round(seconds, 4), "call": name}) + "\n")
        return wrapper

    for cls in classes:
        for attr, value in list(vars(cls).items()):
            if not attr.startswith("_") and callable(value) and not isinstance(value, staticmethod | classmethod):
                setattr(cls, attr, timed(f"{cls.__name__}.{attr}", value))
    from streamlit.web import cli

    sys.argv = ["streamlit", *streamlit_args]
    sys.exit(cli.main())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(db: Path, server_log: Path, trace: Path | None):
    """The real app over ``db`` on a free port (its process, its URL); stopped at the end."""
    port = free_port()
    args = ["run", "app.py", "--server.headless", "true", "--server.port", str(port), "--server.address",
            "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", "--", "--db",
            str(db)]
    if trace is None:
        cmd = [sys.executable, "-m", "streamlit", *args]
    else:
        trace.unlink(missing_ok=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-traced", str(trace), "--", *args]
    log("server: " + " ".join(cmd))
    env = {**os.environ, "SEGMENT_STUDIO_DB": str(db), "PYTHONUNBUFFERED": "1"}
    with open(server_log, "wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited ({process.returncode}):\n{server_log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read().strip() == b"ok":
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit not healthy after 120 s:\n{server_log.read_text()[-3000:]}")
            time.sleep(0.25)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=20)


def peak_memory_mb(pid: int) -> float | None:
    """The process's peak resident memory so far (VmHWM), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# ------------------------------------------------------------------ timing in the browser

# Recorded in the page itself: every change of the script state, the last click or key press, and when the
# title wanted appeared.
OBSERVER = """
(() => {
  window.__states = [];
  window.__t0 = null;
  window.__want = null;
  window.__titleAt = null;
  const mark = () => { window.__t0 = performance.now(); };
  document.addEventListener('pointerdown', mark, true);
  document.addEventListener('keydown', mark, true);
  const title = () => {
    if (window.__want === null || window.__titleAt !== null) return;
    for (const h of document.querySelectorAll('h1')) {
      if (h.textContent.trim() === window.__want) { window.__titleAt = performance.now(); return; }
    }
  };
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes' && r.attributeName === 'data-test-script-state') {
        window.__states.push([performance.now(), r.target.getAttribute('data-test-script-state')]);
      }
    }
    title();
  }).observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
                                        attributeFilter: ['data-test-script-state']});
})();
"""

STATE = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return {now: performance.now(), t0: window.__t0, titleAt: window.__titleAt, states: window.__states,
          current: app ? app.getAttribute('data-test-script-state') : null};
}"""


class Timer:
    """Times one action in the page: from its click or key press to the end of the script run(s) it started."""

    def __init__(self, page, trace: Path | None):
        self.page, self.trace = page, trace
        self.received = 0  # bytes the app sent the browser over its WebSocket (the page's elements and charts)
        page.on("websocket", lambda ws: ws.on("framereceived", self._count))

    def _count(self, payload) -> None:
        self.received += len(payload)

    def arm(self, title: str | None = None) -> None:
        self.page.evaluate("(want) => { window.__t0 = null; window.__want = want; window.__titleAt = null; "
                           "window.__states = []; }", title)
        self.trace_at, self.received = time.time(), 0

    def finish(self, started_at_zero: bool = False) -> dict:
        """Wait for the action's runs to end; its figures (seconds, title seconds, engine calls)."""
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while True:
            s = self.page.evaluate(STATE)
            t0 = 0.0 if started_at_zero else s["t0"]
            ran = any(state == "running" for _t, state in s["states"])
            last = s["states"][-1][0] if s["states"] else t0
            if t0 is not None and s["current"] == "notRunning":
                if ran and s["now"] - last >= SETTLE_MS:
                    break
                if not ran and s["now"] - t0 >= START_MS:
                    last = t0  # nothing ran (or it was over before the observer saw it)
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no end of the script run after {RUN_TIMEOUT_S} s")
            time.sleep(0.05)
        end = max(last, s["titleAt"] or 0.0) if self.page_title_wanted() else last
        result = {"s": round((end - t0) / 1000, 3), "ran": ran, "received_kb": round(self.received / 1000, 1)}
        if s["titleAt"] is not None:
            result["title_s"] = round((s["titleAt"] - t0) / 1000, 3)
        if self.trace is not None:
            result["calls"] = engine_calls(self.trace, self.trace_at)
        errors = self.page.get_by_test_id("stException")
        if errors.count():
            result["error"] = errors.first.inner_text()[:300]
        return result

    def page_title_wanted(self) -> bool:
        return self.page.evaluate("() => window.__want !== null")


def engine_calls(trace: Path, since: float) -> list[list]:
    """The engine calls (name, seconds) logged by the traced server since ``since``, slowest first."""
    time.sleep(0.05)
    calls: dict[str, float] = {}
    try:
        lines = trace.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    for line in lines:
        with contextlib.suppress(ValueError):
            item = json.loads(line)
            if item["end"] >= since:
                calls[item["call"]] = calls.get(item["call"], 0.0) + item["s"]
    return sorted(([name, round(s, 3)] for name, s in calls.items()), key=lambda c: -c[1])


def drive(url: str, repeat: int, trace: Path | None, shots: Path | None) -> dict:
    """Every page's first and warm visits and the main interactions, timed in headless Chromium."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=RUN_TIMEOUT_S * 1000)
    out: dict = {"first": {}, "warm": {}, "switch": [], "actions": {}, "errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
        context.add_init_script(OBSERVER)
        page = context.new_page()
        page.set_default_timeout(120_000)  # a click or a locator; a script run has its own limit
        timer = Timer(page, trace)
        trace_start = time.time()
        page.goto(url)
        page.evaluate("() => { window.__want = 'Import customers'; }")
        timer.trace_at = trace_start
        out["open"] = timer.finish(started_at_zero=True)  # from the navigation's start (performance.now() = 0)
        log(f"first load (opens the store, runs Import): {out['open']['s']:.2f} s")

        def visit(link: str, title: str) -> dict:
            nav = page.get_by_test_id("stSidebarNav").get_by_role("link").filter(has_text=link)
            timer.arm(title)
            nav.click()
            result = timer.finish()
            try:
                expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible(timeout=15_000)
            except AssertionError:
                result["error"] = result.get("error", f"the title {title!r} is not shown")
            return result

        for link, title in PAGES[1:]:
            out["first"][link] = visit(link, title)
            log(f"first visit {link}: {out['first'][link]['s']:.2f} s")
        for _ in range(repeat):
            for link, title in PAGES:
                result = visit(link, title)
                out["warm"].setdefault(link, []).append(result)
                out["switch"].append(result.get("title_s"))
                log(f"warm visit {link}: {result['s']:.2f} s")

        def act(name: str, do, shows=None) -> None:
            timer.arm()
            do()
            result = timer.finish()
            if shows is not None:  # what the page shows after the action (that it did what it should)
                try:
                    result["shows"] = shows()
                except Exception as exc:  # a figure the page shows, not the measure: never fatal
                    result["shows"] = f"? ({type(exc).__name__})"
            out["actions"].setdefault(name, []).append(result)
            log(f"{name}: {result['s']:.2f} s" + (f" ({result['shows']})" if shows is not None else ""))

        def metric(label: str) -> str:
            shown = page.get_by_test_id("stMetric").filter(has_text=label)
            return shown.first.get_by_test_id("stMetricValue").inner_text() if shown.count() else "not shown"

        def review() -> None:
            """Deduplicate: the review queue (to review, else the sure matches), one key press per decision."""
            visit("Deduplicate", "Deduplicate customers")
            if page.get_by_text("Nothing left to review here.").count():
                timer.arm()
                page.locator(".st-key-review_status").get_by_text("Sure matches", exact=True).click()
                timer.finish()
            caption = page.get_by_text(re.compile(r"^Pair [\d,]+ of [\d,]+ · score"))
            if not caption.count():
                raise RuntimeError("no pair to review")

            def queue() -> str:  # "Pair 2 of 1,234" and the customers after merges
                return f"{caption.first.inner_text().split(' · ')[0]}; customers {metric('Customers after merges')}"

            for key, name in (("s", "review: skip (S)"), ("n", "review: different (N)"), ("y", "review: merge (Y)")):
                for _ in range(repeat):
                    act(name, lambda key=key: page.keyboard.press(key), queue)

        def audience() -> None:
            """Audiences: pick segments (each a new count), then move the holdout slider."""
            visit("Audiences", "Audiences")
            box = page.locator(".st-key-audience_segments").get_by_role("combobox")
            for segment in range(1, 1 + repeat):
                option = page.get_by_role("option", name=re.compile(rf"^{segment} · ")).first
                for _attempt in range(3):
                    box.click()
                    with contextlib.suppress(PlaywrightTimeoutError):
                        option.wait_for(state="visible", timeout=10_000)
                        break
                    page.keyboard.press("Escape")
                act("audience: pick a segment", option.click, lambda: f"in the audience {metric('In the audience')}")
                page.keyboard.press("Escape")
                page.wait_for_timeout(SETTLE_MS)
            thumb = page.locator(".st-key-audience_holdout").get_by_role("slider")
            thumb.focus()
            for _ in range(repeat):
                act("audience: holdout slider", lambda: thumb.press("ArrowRight"),
                    lambda: f"in the audience {metric('In the audience')}, holdout {metric('Holdout')}")

        def rename() -> None:
            """Profile: rename segment 0 (the popover's box, then "Save the name")."""
            visit("Profile", "Segment profiles")
            card = page.locator(".st-key-card_0")
            for attempt in range(repeat):
                card.get_by_role("button", name="Rename").click()
                name_box = page.locator(".st-key-rename_name_0").get_by_role("textbox")
                name_box.wait_for(state="visible")
                new_name = f"Bench {attempt + 1} {int(time.time()) % 10_000}"
                name_box.fill(new_name)
                act("profile: type the name (Enter)", lambda box=name_box: box.press("Enter"))
                save = page.locator(".st-key-rename_button_0").get_by_role("button", name="Save the name")
                act("profile: rename (Save the name)", save.click,
                    lambda new_name=new_name: "card 0 shows the new name" if card.get_by_role(
                        "heading", name=new_name, exact=True).count() else "card 0 does not show the new name yet")
                page.keyboard.press("Escape")
                page.wait_for_timeout(300)

        for part in (review, audience, rename):  # one that fails is reported; the others are still measured
            try:
                part()
            except Exception as exc:  # a long run is not thrown away for one broken step
                out["errors"].append(f"{part.__name__}: {type(exc).__name__}: {str(exc)[:300]}")
                log(f"{part.__name__} failed: {exc}")
                with contextlib.suppress(Exception):
                    page.keyboard.press("Escape")
        if shots is not None:
            page.screenshot(path=str(shots), full_page=True)
        context.close()
        browser.close()
    return out


# ------------------------------------------------------------------ the table

def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def verdict(seconds: float | None, goal: float) -> str:
    """``met`` when the figure is under its goal, ``MISS`` otherwise (and when it is unknown)."""
    return "met" if seconds is not None and seconds < goal else "MISS"


def rows_of(result: dict) -> list[dict]:
    """The table's rows: what, its median seconds, the tries, the goal and the verdict."""
    opened = result["open"]["s"]
    rows = [{"what": "first load: opens the store, runs Import", "s": opened, "tries": [opened], "goal": None}]
    for link, _title in PAGES:
        if link in result["first"]:
            first = result["first"][link]["s"]
            rows.append({"what": f"{link}: first visit", "s": first, "tries": [first], "goal": GOAL_FIRST})
        tries = [r["s"] for r in result["warm"].get(link, [])]
        rows.append({"what": f"{link}: warm visit", "s": median(tries), "tries": tries, "goal": GOAL_WARM})
    switch = [s for s in result["switch"] if s is not None]
    rows.append({"what": "page switch (click to title shown)", "s": median(switch), "tries": switch,
                 "goal": GOAL_ACTION})
    for name, tries in result["actions"].items():
        seconds = [t["s"] for t in tries]
        goal = None if name.startswith("profile: type") else GOAL_ACTION
        rows.append({"what": name, "s": median(seconds), "tries": seconds, "goal": goal})
    for row in rows:
        row["verdict"] = verdict(row["s"], row["goal"]) if row["goal"] is not None else ""
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table (seconds with two decimals, the tries in brackets)."""
    lines = ["| what | seconds | tries | goal | |", "| --- | ---: | --- | --- | --- |"]
    for row in rows:
        seconds = "n/a" if row["s"] is None else f"{row['s']:.2f}"
        tries = ", ".join("n/a" if t is None else f"{t:.2f}" for t in row["tries"])
        goal = "" if row["goal"] is None else f"< {row['goal']:g} s"
        lines.append(f"| {row['what']} | {seconds} | {tries} | {goal} | {row['verdict']} |")
    return "\n".join(lines)


def slow_spots(result: dict, at_least: float = 0.5, top: int = 4) -> list[str]:
    """For each figure of at least ``at_least`` seconds, the engine calls (traced) that took the time.

    A call's seconds are its mean over the figure's tries; calls under 0.05 s are counted in the engine's total
    but not named.
    """
    measured: dict[str, list[dict]] = {"first load": [result["open"]]}
    measured.update({f"{k}: first visit": [v] for k, v in result["first"].items()})
    measured.update({f"{k}: warm visit": vs for k, vs in result["warm"].items()})
    measured.update(result["actions"])
    found = []
    for what, items in measured.items():
        seconds = median([item.get("s") for item in items])
        if seconds is None or seconds < at_least:
            continue
        calls: dict[str, float] = {}
        for item in items:
            for name, s in item.get("calls", []):
                calls[name] = calls.get(name, 0.0) + s / len(items)
        named = sorted((c for c in calls.items() if c[1] >= 0.05), key=lambda c: -c[1])[:top]
        spent = ", ".join(f"{name} {s:.2f} s" for name, s in named) or "no engine call over 0.05 s"
        tries = [item["s"] for item in items if item.get("s") is not None]
        spread = f" (tries {min(tries):.2f}–{max(tries):.2f})" if len(tries) > 1 else ""
        sent = [item["received_kb"] for item in items if item.get("received_kb") is not None]
        sent = f"; {median(sent):,.0f} kB sent to the browser" if sent else ""
        found.append(f"{what}: {seconds:.2f} s{spread}; engine {sum(calls.values()):.2f} s: {spent}{sent}")
        found += [f"  error on the page: {item['error']}" for item in items if "error" in item]
    return found


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve-traced"]:
        serve_traced(Path(argv[1]), argv[3:] if argv[2:3] == ["--"] else argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="reuse the last complete store of this size")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--no-trace", dest="trace", action="store_false",
                        help="serve with the bare `python -m streamlit run` (no engine call timing)")
    parser.add_argument("--screenshot", type=Path, help="a screenshot of the last page here")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is missing: `apt-get install -y chromium` as root.")
    db, facts = store(args.customers, args.reuse)
    # A copy, so the interactions (merges, renames) leave the built store as it was for the next --reuse.
    served_db = db.with_name(db.stem + "_served.duckdb")
    for stale in (served_db, served_db.with_name(served_db.name + ".wal")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(db, served_db)
    if db.with_name(db.name + ".wal").exists():
        shutil.copyfile(db.with_name(db.name + ".wal"), served_db.with_name(served_db.name + ".wal"))
    trace = DATA / f"pages_{args.customers}_trace.jsonl" if args.trace else None
    server_log = DATA / f"pages_{args.customers}_streamlit.log"
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_before = os.getloadavg()
    try:
        with served(served_db, server_log, trace) as (process, url):
            result = drive(url, args.repeat, trace, args.screenshot)
            peak = peak_memory_mb(process.pid)
    finally:
        for copy in (served_db, served_db.with_name(served_db.name + ".wal")):
            copy.unlink(missing_ok=True)
    rows = rows_of(result)
    report = {"customers": args.customers, "store": facts, "started": started,
              "load_before": [round(x, 2) for x in load_before],
              "load_after": [round(x, 2) for x in os.getloadavg()], "server_peak_mb": peak,
              "rows": rows, "raw": result, "slow_spots": slow_spots(result) if args.trace else []}
    (DATA / f"pages_{args.customers}_last.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{args.customers:,} customers ({facts.get('records', '?'):,} records, "
          f"{facts.get('customers_after_merges', '?'):,} after merges, {facts.get('order_lines', '?'):,} order "
          f"lines); started {started}, load average {' '.join(f'{x:.2f}' for x in load_before)} before, "
          f"{' '.join(f'{x:.2f}' for x in report['load_after'])} after")
    print(table(rows))
    if peak is not None:
        print(f"server peak memory (VmHWM): {peak:,.0f} MB")
    for error in result["errors"]:
        print(f"not measured: {error}")
    tracebacks = server_log.read_text(errors="replace").count("Traceback")
    if tracebacks:
        print(f"the server logged {tracebacks} tracebacks: see {server_log}")
    if report["slow_spots"]:
        print("\nwhere the time goes (engine calls the page made during each slow figure):")
        print("\n".join(report["slow_spots"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

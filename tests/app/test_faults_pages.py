"""Faults on the pages: a store held by another process, a refresh a killed process left running."""

from __future__ import annotations

import subprocess
import sys

from pages.text import plain
from segmentation.automate import runner as refresh
from tests.app.conftest import app_store, run_app
from tests.conftest import ROOT

HOLD = """
import sys, time
from segmentation.core.store import Store
store = Store(sys.argv[1])
print("ready", flush=True)
time.sleep(120)
"""

KILLED_REFRESH = """
import os, sys
from segmentation.automate.repository import RefreshRepository
from segmentation.core.store import Store
RefreshRepository(Store(sys.argv[1])).start("pipeline.toml")
os.kill(os.getpid(), 9)
"""


def test_a_store_held_by_another_process_is_a_message_saying_what_to_do(empty_db, opened_stores):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(empty_db)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = run_app()
        assert len(at.error) == 1 and at.error[0].value.startswith(
            plain(f"The working store cannot be opened. Cannot open the working store '{empty_db}': "))
        assert plain("Another Segment Studio (app or command) may be using it") in at.error[0].value
        assert at.info[0].value.startswith("What to do: if another Segment Studio uses this store")
        assert opened_stores == []
    finally:
        holder.kill()
        holder.wait()
    at.run()                                            # released: the next run opens it
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert app_store(opened_stores).path == empty_db


def test_the_refresh_page_marks_a_refresh_left_running_as_interrupted(seeded_db, opened_stores):
    done = subprocess.run([sys.executable, "-c", KILLED_REFRESH, str(seeded_db)], cwd=ROOT, capture_output=True,
                          check=False)
    assert done.returncode == -9, done.stderr
    at = run_app()
    s = app_store(opened_stores)
    assert refresh.history(s)["status"].tolist() == ["running"]
    at.switch_page("pages/refresh.py").run()
    assert not at.exception, [e.value for e in at.exception]
    log = refresh.history(s)
    assert log["status"].tolist() == ["interrupted"]
    assert log["error"].iloc[0].startswith("Interrupted: found still running on ")
    shown = next(d.value for d in at.dataframe if "What changed" in d.value.columns)
    assert shown["Status"].tolist() == ["interrupted"]

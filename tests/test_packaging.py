"""The package installs as a distribution: every stage package is in it, and ``segment-studio`` is the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, SAMPLE

STAGES = ("core", "ingest", "dedupe", "customers", "segment", "behaviour", "activate", "automate", "cli", "i18n")


def test_install_gives_every_stage_and_the_console_command(tmp_path):
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                           "--no-deps", "--no-build-isolation", "--target", str(site), str(ROOT)],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    installed = site / "segmentation"
    assert sorted(p.name for p in installed.iterdir() if (p / "__init__.py").exists()) == sorted(STAGES)
    script = site / "bin" / "segment-studio"
    assert script.exists()
    # Run the installed command from an empty folder, so that only the installed copy can be imported.
    env = {**os.environ, "PYTHONPATH": str(site)}
    helped = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                            cwd=tmp_path, env=env, check=False)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: segment-studio")
    db = tmp_path / "x.duckdb"
    imported = subprocess.run([sys.executable, str(script), "--db", str(db), "import", str(SAMPLE / "customers.csv"),
                               "--json"], capture_output=True, text=True, cwd=tmp_path, env=env, check=False)
    assert imported.returncode == 0, imported.stderr
    assert '"rows": 5480' in imported.stdout

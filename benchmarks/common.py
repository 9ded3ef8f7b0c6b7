"""What the benchmarks share: the generated export, peak memory, and one measurement per child process."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"


def generator():
    """``sample_data/generate.py`` as a module."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "sample_data" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def customers_file(rows: int) -> Path:
    """The generated customers file of ``rows`` customers, in UTF-8 with ``;`` (made once, shared)."""
    path = DATA / f"customers_{rows}_utf8.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        gen = generator()
        customers, _truth, _orders = gen.generate(rows, gen.DEFAULT_SEED, orders=False)
        customers.to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


def peak_mb() -> float:
    """Peak resident memory of this process (VmHWM, not ru_maxrss: Linux carries that over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(script: str, *args: str, check: bool = True) -> dict:
    """Run ``script --child ARGS`` in a process of its own (its peak memory is its own); its last JSON line.

    With ``check=False`` a failed child gives ``{"error": <its last stderr line>}``.
    """
    out = subprocess.run([sys.executable, script, "--child", *map(str, args)], capture_output=True, text=True)
    if out.returncode:
        if check:
            raise RuntimeError(out.stderr)
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])

"""The shape of the house, checked from the code's own syntax trees.

- Pages, ``app.py`` and ``app_state.py`` import the engine only through the facade (``segmentation``).
- The CLI's modules import only the facade too (``from .. import ...``) and their shared base.
- Only the store (``segmentation/core/store.py``) and each stage's ``repository.py`` execute SQL.
- Nothing in the engine imports Streamlit; charts live beside the pages.
- Every stage package has one repository and a stage class that the dataset handle carries.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

ENGINE = ROOT / "segmentation"
STAGES = ("ingest", "dedupe", "customers", "segment", "behaviour", "activate", "automate")
# Calls that run SQL on the store, a transaction or a DuckDB connection.
EXECUTING = {"execute", "executemany", "fetchone", "fetchall", "df", "query_df", "query_rows", "query_value",
             "read_table", "table_exists", "sql", "register", "unregister", "nextval", "next_id"}
SQL_OWNERS = {ENGINE / "core" / "store.py", *(ENGINE / s / "repository.py" for s in STAGES)}


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported(path: Path) -> list[tuple[str, int, list[str]]]:
    """(module, level, names) of every import in a file."""
    out = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            out.extend((a.name, 0, []) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            out.append((node.module or "", node.level, [a.name for a in node.names]))
    return out


@pytest.mark.parametrize("path", [ROOT / "app.py", ROOT / "app_state.py", *modules(ROOT / "pages")],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_import_only_the_facade(path):
    wrong = [f"{m} ({', '.join(names)})" for m, _, names in imported(path) if m.startswith("segmentation.")]
    assert not wrong, f"{path.name} imports engine internals: {wrong}; use the names of `segmentation`"


@pytest.mark.parametrize("path", modules(ENGINE / "cli"), ids=lambda p: p.name)
def test_cli_commands_import_only_the_facade(path):
    wrong = [m for m, level, _ in imported(path) if level == 2 and m] + \
            [m for m, level, _ in imported(path) if level == 0 and m.startswith("segmentation")]
    assert not wrong, f"cli/{path.name} imports engine internals {wrong}; use `from .. import ...` (the facade)"


def executing_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in EXECUTING:
            # pandas and numpy have no such methods except DataFrame.query / Series.sql (neither used); a
            # call like ``something.execute(...)`` is SQL running here.
            found.append(f"line {node.lineno}: .{node.func.attr}(")
        if isinstance(node, ast.Attribute) and node.attr == "connect" and getattr(node.value, "id", "") == "duckdb":
            found.append(f"line {node.lineno}: duckdb.connect")
    return found


@pytest.mark.parametrize("path", [p for p in modules(ENGINE) if p not in SQL_OWNERS],
                         ids=lambda p: str(p.relative_to(ENGINE)))
def test_only_the_store_and_the_repositories_run_sql(path):
    calls = executing_calls(path)
    assert not calls, (f"{path.relative_to(ROOT)} runs SQL ({calls}); build the SQL here if it belongs here, "
                       "and let the stage's repository.py execute it")


@pytest.mark.parametrize("path", modules(ENGINE), ids=lambda p: str(p.relative_to(ENGINE)))
def test_the_engine_never_imports_streamlit_or_the_pages(path):
    bad = [m for m, _, _ in imported(path) if m.split(".")[0] in ("streamlit", "pages", "app_state", "plotly")]
    assert not bad, f"{path.relative_to(ROOT)} imports presentation modules {bad}"


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_one_repository_and_a_stage_class(stage):
    folder = ENGINE / stage
    assert (folder / "repository.py").exists(), f"segmentation/{stage} has no repository.py"
    classes = [n.name for n in tree(folder / "stage.py").body if isinstance(n, ast.ClassDef)]
    assert classes, f"segmentation/{stage}/stage.py defines no stage class"

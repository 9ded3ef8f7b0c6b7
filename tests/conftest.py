"""Shared fixtures: a store on a temporary file, small CRM files as bytes."""

from __future__ import annotations

import os

# The tests' data are small: one BLAS/OpenMP thread each, as the app uses on small data. Several threads on
# 2 shared cores wait on each other (gradient boosting on 2,000 customers: minutes instead of seconds). Set
# before numpy and scikit-learn load, so that the CLI and app processes the tests start inherit it too.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from segmentation import open_workspace  # noqa: E402
from segmentation.core.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = ROOT / "sample_data"


def values(series) -> list:
    """A column as a list, missing values as None (pandas 3 reads SQL NULL text as NaN)."""
    return [None if v is None or (isinstance(v, float) and v != v) else v for v in series.tolist()]


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "test.duckdb")
    yield s
    s.close()


@pytest.fixture
def ws(tmp_path):
    """A workspace on a new store file (a test module may define its own, with data in it)."""
    workspace = open_workspace(tmp_path / "ws.duckdb")
    yield workspace
    workspace.close()


@pytest.fixture
def french_csv() -> bytes:
    """A small export the way French Excel writes it: cp1252, ';', decimal comma, dd/mm/yyyy."""
    text = (
        "ID client;Société;Région;Prénom;Nom;E-mail;Téléphone;Code postal;Date de création;"
        "Dernière activité;Valeur contrat;Consentement\r\n"
        "C1;Boulangerie Martin SAS;Île-de-France;Hélène;Martin;Helene.Martin@Martin.fr ;01 23 45 67 89;"
        "75001;25/12/2020;03/04/2026;12\u00a0400,50 €;oui\r\n"
        "C2;Transports Durand;ILE DE FRANCE;François;Durand;francois@;0612345678;1000;01/02/2021;"
        "15/01/2020;800;non\r\n"
        "C3;Nexa Conseil;Bretagne;Gaëlle;Lefèvre;gaelle.lefevre@nexa.fr;+33 6 12 34 56 78;35000;"
        "13/13/2021;;1 234,5;Oui\r\n"
        "C4;Nexa Conseil;bretagne ;Jean;Roux;contact@nexa.fr;12345;35000;2022-05-06;01/10/2026;;\r\n"
    )
    return text.encode("cp1252")


# --- Two workers: ``bash .ci/test`` runs ``pytest -n 2 --dist loadfile --no-loadscope-reorder`` (pytest-xdist) ---
# Each test file runs whole on one worker, in its order: module-scoped templates are built once, and the browser
# tests that share one server (the import, then the matching, the segment run, the profile...) keep the order
# they rely on. A worker takes the next file when it is almost done with its own, in collection order, the
# longest files first so that no long file is left for the end (a worker idle meanwhile): the browser tests
# (a third of the suite's time, mostly waiting on the app), then the refresh pipeline and the command line.
LONGEST_FIRST = ("tests/app/test_browser.py", "tests/automate/test_runner.py", "tests/test_cli.py",
                 "tests/test_packaging.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):  # a pytest-xdist worker; a plain run keeps its order
        rank = {module: n for n, module in enumerate(LONGEST_FIRST)}
        # A stable sort: the other files, and the tests within each file, keep their order.
        items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))

"""Import benchmark: Segment Studio's import beside DuckDB's bare ``read_csv``.

Two file shapes, each written in UTF-8 (DuckDB cannot read Windows-1252
without an extension download):

- ``customers``: the generated customers export of ``sample_data/generate.py``;
- ``b2b_fr``: 12 columns of French B2B contacts (``;`` separator, names,
  company, e-mail, phone, postcode, city, two ``dd/mm/yyyy`` dates, an
  amount with a decimal comma such as ``1 234,50``, an order count, an
  opt-in ``Oui``/``Non``).

Each measurement runs in a fresh process of its own so that peak memory
belongs to that measurement alone, and is repeated (``--repeats``, the
median is shown):

- ``duckdb``: ``CREATE TABLE t AS SELECT * FROM read_csv(file, all_varchar=true)``;
- ``import``: :func:`segmentation.ingest.importer.import_file` into a new store;
  "read+store" is the time until normalisation starts (its first progress
  message, "Normalising: ...": reading the file, storing its raw rows,
  guessing the roles from spread rows; normalisation starts by deciding each
  column's formats from all its values), "total" the whole import with
  normalisation.

Usage: ``python benchmarks/bench_import.py [--shapes customers b2b_fr] [--sizes 100000 1000000] [--repeats 3]``
(without ``--sizes``: 100k and 1M customers, 10k, 100k and 1M B2B contacts).
Goals at 1M rows (issue 14): read+store ≤ 1.5× DuckDB, total ≤ 3×, peak < 2 GB.
Both shapes are plain CSV (no quotes, one record a line), which the import
hands to DuckDB's own multi-threaded reader (see
:func:`segmentation.ingest.readers.plain_csv`); files with quotes or ragged
rows take pyarrow's single-threaded path, which this benchmark does not time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import DATA, ROOT, child, customers_file, peak_mb

#: Shape -> the sizes measured when ``--sizes`` is not given.
DEFAULT_SIZES = {"customers": [100_000, 1_000_000], "b2b_fr": [10_000, 100_000, 1_000_000]}
FIRST_NAMES = ["Jean", "Marie", "Hélène", "François", "Gaëlle", "Loïc", "Chloé", "Jérôme", "Léa", "Zoé", "Noël",
               "Inès", "Mathéo", "Anaïs", "Benoît", "Cécile"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fournier",
              "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Légaré", "Müller"]
COMPANIES = ["Nexa", "Atelier Durand", "Boulangerie Roux", "Cabinet Girard", "Transports Moreau", "Éditions Lys",
             "Société Générale de Conseil", "Hôtel du Port", "BTP Lefèvre", "Clinique Saint-Luc"]
CITIES = [("75001", "Paris"), ("69002", "Lyon"), ("13008", "Marseille"), ("31000", "Toulouse"),
          ("01000", "Bourg-en-Bresse"), ("35000", "Rennes"), ("59000", "Lille"), ("06000", "Nice"),
          ("97200", "Fort-de-France"), ("44000", "Nantes")]


def _dates(rng: np.random.Generator, rows: int, start: str, days: int) -> pd.Series:
    """``dd/mm/yyyy`` dates drawn uniformly over ``days`` days from ``start``."""
    when = pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, rows), unit="D")
    return pd.Series(when.strftime("%d/%m/%Y"))


def _amounts(rng: np.random.Generator, rows: int) -> pd.Series:
    """Amounts in French notation: ``1 234,50`` (U+00A0 between thousands as French Excel writes it)."""
    cents = np.round(rng.gamma(1.5, 2_000, rows) * 100).astype(np.int64)
    units, rest = pd.Series(cents // 100), pd.Series(cents % 100).astype(str).str.zfill(2)
    thousands = units // 1000
    head = thousands.astype(str) + "\u00a0" + (units % 1000).astype(str).str.zfill(3)
    return head.where(thousands > 0, units.astype(str)) + "," + rest


def b2b_frame(rows: int, seed: int = 20261202) -> pd.DataFrame:
    """``rows`` French B2B contacts (12 columns of text as a French CRM exports them), vectorised."""
    rng = np.random.default_rng(seed)
    first = pd.Series(np.array(FIRST_NAMES)[rng.integers(0, len(FIRST_NAMES), rows)])
    last = pd.Series(np.array(LAST_NAMES)[rng.integers(0, len(LAST_NAMES), rows)])
    company = pd.Series(np.array(COMPANIES)[rng.integers(0, len(COMPANIES), rows)])
    place = rng.integers(0, len(CITIES), rows)
    ids = pd.Series(np.arange(rows)).astype(str)
    ascii_last = last.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii").str.lower()
    phone = pd.Series(rng.integers(100_000_000, 799_999_999, rows)).astype(str)
    return pd.DataFrame({
        "Prénom": first,
        "Nom": last,
        "Société": company,
        "E-mail": first.str.lower().str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
                  + "." + ascii_last + ids + "@exemple.fr",
        "Téléphone": "0" + phone.str[0] + " " + phone.str[1:3] + " " + phone.str[3:5] + " " + phone.str[5:7]
                     + " " + phone.str[7:9],
        "Code postal": pd.Series(np.array([c for c, _ in CITIES])[place]),
        "Ville": pd.Series(np.array([c for _, c in CITIES])[place]),
        "Date de création": _dates(rng, rows, "2015-01-01", 3_000),
        "Dernière commande": _dates(rng, rows, "2023-01-01", 700),
        "Chiffre d'affaires": _amounts(rng, rows),
        "Nb commandes": pd.Series(rng.poisson(6, rows)).astype(str),
        "Opt-in": pd.Series(np.where(rng.random(rows) < 0.6, "Oui", "Non")),
    })


def data_file(shape: str, rows: int) -> Path:
    """The file of ``shape`` with ``rows`` rows, in UTF-8 with ``;`` (made once, shared)."""
    if shape == "customers":
        return customers_file(rows)
    path = DATA / f"{shape}_{rows}_utf8.csv"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        b2b_frame(rows).to_csv(path, sep=";", index=False, encoding="utf-8")
    return path


def measure(mode: str, path: Path) -> dict:
    """One measurement, in this process (called in a child process)."""
    sys.path.insert(0, str(ROOT))
    import duckdb

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        if mode == "duckdb":
            start = time.perf_counter()
            con = duckdb.connect(str(db))
            con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar=true)", [str(path)])
            rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
            con.close()
            return {"seconds": time.perf_counter() - start, "rows": rows, "peak_mb": peak_mb()}
        from segmentation.core.store import Store
        from segmentation.ingest.importer import import_file

        marks: dict[str, float] = {}
        start = time.perf_counter()
        store = Store(db)
        data = path.read_bytes()
        ds = import_file(store, data, path.name,
                         progress=lambda _f, msg: marks.setdefault(str(msg).split()[0], time.perf_counter()))
        total = time.perf_counter() - start
        store.close()
        return {"seconds": total, "read_store_seconds": marks.get("Normalising", start + total) - start,
                "rows": ds.row_count, "peak_mb": peak_mb()}


def run_child(mode: str, path: Path) -> dict:
    return child(__file__, mode, path)


def median_of(mode: str, path: Path, repeats: int) -> dict:
    """Median seconds (and read+store seconds) and the largest peak of ``repeats`` child measurements."""
    runs = [run_child(mode, path) for _ in range(repeats)]
    result = {key: statistics.median(r[key] for r in runs) for key in ("seconds", "read_store_seconds")
              if key in runs[0]}
    return {**result, "rows": runs[0]["rows"], "peak_mb": max(r["peak_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", nargs="+", choices=sorted(DEFAULT_SIZES), default=["customers", "b2b_fr"])
    parser.add_argument("--sizes", type=int, nargs="+", help="rows (default: per shape, see the usage line)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure (the median is shown)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--make", nargs=2, metavar=("SHAPE", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        data_file(args.make[0], int(args.make[1]))
        return
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    print(f"{'shape':>9} {'rows':>9} {'duckdb s':>9} {'read+store s':>13} {'ratio':>6} {'import s':>9} {'ratio':>6} "
          f"{'duckdb MB':>10} {'import MB':>10}   goal: ≤1.5×, ≤3×, <2048 MB at 1M; medians of {args.repeats}")
    for shape in args.shapes:
        for rows in args.sizes or DEFAULT_SIZES[shape]:
            path = DATA / f"{shape}_{rows}_utf8.csv"
            if not path.exists():  # generated in a child so that this process stays small
                subprocess.run([sys.executable, __file__, "--make", shape, str(rows)], check=True)
            bare = median_of("duckdb", path, args.repeats)
            ours = median_of("import", path, args.repeats)
            print(f"{shape:>9} {ours['rows']:>9,} {bare['seconds']:>9.2f} {ours['read_store_seconds']:>13.2f} "
                  f"{ours['read_store_seconds'] / bare['seconds']:>5.2f}× {ours['seconds']:>9.2f} "
                  f"{ours['seconds'] / bare['seconds']:>5.2f}× {bare['peak_mb']:>10.0f} {ours['peak_mb']:>10.0f}",
                  flush=True)


if __name__ == "__main__":
    main()

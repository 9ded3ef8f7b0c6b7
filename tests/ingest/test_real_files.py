"""Real public exports imported end to end: spot-checked cells, roles and read figures.

The files and their quirks are described in ``tests/data/real/README.md``.
Every expected value below was read off the raw file by hand (the truth), never
taken from what the importer produces. Each file has a :class:`RealFile` spec:
the rows kept and set aside, the role of the columns whose role is certain,
spot-checked cells as ``(row, column, expected)`` where ``row`` is the 1-based
data row of the file (or, for a file with rejected lines, the record id), and
the read report's ``(read, invalid, missing)`` figures of some columns.

Expected cells: a :class:`~datetime.date` is a date the column must hold as a
date (its time of day, if any, is not compared); a float is an amount the
column must hold as a number; a string is a text exactly as expected (ids as
written, phones in E.164, e-mails lower-cased, postcodes with their leading
zero); ``None`` is an empty cell, or a value that cannot be read (then counted
invalid by the read figures).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation import ImportSettings, open_workspace
from segmentation.customers.repository import raw_rows
from segmentation.ingest.statements import clean_rows_sql

REAL = Path(__file__).resolve().parents[1] / "data" / "real"

Cell = tuple[int | str, str, object]


@dataclass(frozen=True)
class RealFile:
    """What importing one real file must give.

    Parameters
    ----------
    name : str
        File name under ``tests/data/real``.
    settings : ImportSettings
        The import settings (the kind of rows, and any option a user would set).
    columns : list of str
        The header, as written in the file (compared with surrounding spaces trimmed).
    rows, rejected : int
        Rows imported, and lines set aside as unreadable.
    roles : dict
        Column -> the role it must be given.
    cells : list of (row, column, expected)
        Normalised values; ``row`` is the 1-based data row, or the ``key`` column's value.
    raw : list of (row, column, expected)
        Values kept as written in the raw table.
    read : dict
        Column -> ``(read, invalid, missing)`` of the read report.
    key : str, optional
        Column whose value names a row in ``cells`` (files with rejected lines).
    """

    name: str
    settings: ImportSettings
    columns: list[str]
    rows: int
    rejected: int
    roles: dict[str, str]
    cells: list[Cell]
    read: dict[str, tuple[int, int, int]]
    raw: list[Cell] = field(default_factory=list)
    key: str | None = None


def _header(name: str, sep: str) -> list[str]:
    """The first line of a UTF-8 file under ``tests/data/real``, split on ``sep``."""
    with open(REAL / name, encoding="utf-8-sig", newline="") as f:
        return f.readline().rstrip("\r\n").split(sep)


ONLINE_RETAIL = RealFile(
    name="online_retail_uci.csv",
    # Every line of the extract is from 1 December 2010 (12-01-2010): only the user can say it is month first.
    settings=ImportSettings(kind="transactions", date_order="mdy"),
    columns=["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID", "Country"],
    rows=900,
    rejected=0,
    roles={"InvoiceDate": "date", "Quantity": "measure", "UnitPrice": "measure", "Country": "country",
           "Description": "text"},
    cells=[
        (1, "InvoiceNo", "536365"),
        (1, "StockCode", "85123A"),
        (1, "Quantity", 6.0),
        (1, "InvoiceDate", date(2010, 12, 1)),
        (1, "UnitPrice", 2.55),
        (1, "CustomerID", "17850"),
        (27, "StockCode", "22728"),
        (27, "UnitPrice", 3.75),
        (46, "StockCode", "POST"),
        (46, "UnitPrice", 18.0),
        (110, "Description", "AIRLINE LOUNGE,METAL SIGN"),
        (142, "InvoiceNo", "C536379"),
        (142, "StockCode", "D"),
        (142, "Quantity", -1.0),
        (142, "UnitPrice", 27.5),
        (142, "CustomerID", "14527"),
        (623, "CustomerID", None),
        (623, "Quantity", 56.0),
        (623, "UnitPrice", 0.0),
        (900, "InvoiceNo", "536488"),
        (900, "InvoiceDate", date(2010, 12, 1)),
    ],
    raw=[(872, "Description", 'RECORD FRAME 7" SINGLE SIZE '), (1, "InvoiceDate", "12-01-2010 08:26")],
    read={"InvoiceDate": (900, 0, 0), "Quantity": (900, 0, 0), "UnitPrice": (900, 0, 0), "CustomerID": (899, 0, 1)},
)

CDNOW = RealFile(
    name="cdnow_master.txt",
    settings=ImportSettings(kind="transactions"),
    columns=["customer_id", "date", "number_of_cds", "dollar_value"],
    rows=300,
    rejected=0,
    roles={"date": "date", "number_of_cds": "measure", "dollar_value": "measure"},
    cells=[
        (1, "customer_id", "00001"),
        (1, "date", date(1997, 1, 1)),
        (1, "number_of_cds", 1.0),
        (1, "dollar_value", 11.77),
        (3, "customer_id", "00002"),
        (3, "date", date(1997, 1, 12)),
        (3, "dollar_value", 77.0),
        (28, "customer_id", "00007"),
        (28, "date", date(1998, 3, 22)),
        (28, "dollar_value", 138.5),
        (57, "number_of_cds", 27.0),
        (57, "dollar_value", 363.6),
        (300, "customer_id", "00077"),
        (300, "dollar_value", 12.97),
    ],
    raw=[(1, "customer_id", "00001"), (1, "date", "19970101")],
    read={"date": (300, 0, 0), "number_of_cds": (300, 0, 0), "dollar_value": (300, 0, 0)},
)

MARKETING_CAMPAIGN = RealFile(
    name="marketing_campaign.csv",
    settings=ImportSettings(kind="customers"),
    columns=_header("marketing_campaign.csv", ","),
    rows=300,
    rejected=0,
    roles={"ID": "id", "Income": "measure", "Dt_Customer": "created_date", "Education": "category",
           "Marital_Status": "category", "MntWines": "measure", "Recency": "measure"},
    cells=[
        (1, "ID", "5524"),
        (1, "Income", 58138.0),
        (1, "Dt_Customer", date(2012, 9, 4)),
        (2, "Dt_Customer", date(2014, 3, 8)),
        (3, "Dt_Customer", date(2013, 8, 21)),
        (11, "ID", "1994"),
        (11, "Income", None),
        (18, "Dt_Customer", date(2012, 8, 31)),
        (49, "Dt_Customer", date(2014, 1, 1)),
        (300, "ID", "3924"),
        (300, "Income", 57912.0),
        (300, "MntWines", 801.0),
    ],
    raw=[(1, "Dt_Customer", "4-Sep-12")],
    read={"Income": (289, 0, 11), "Dt_Customer": (300, 0, 0)},
)

MARKETING_DATA_US = RealFile(
    name="marketing_data_us.csv",
    settings=ImportSettings(kind="customers"),
    columns=_header("marketing_data_us.csv", ","),
    rows=300,
    rejected=0,
    roles={"ID": "id", " Income ": "measure", "Dt_Customer": "created_date", "Country": "country",
           "Education": "category", "MntWines": "measure"},
    cells=[
        (1, "ID", "1826"),
        (1, " Income ", 84835.0),
        (1, "Dt_Customer", date(2014, 6, 16)),
        (4, "Dt_Customer", date(2014, 5, 11)),
        (12, "Dt_Customer", date(2013, 12, 9)),
        (15, " Income ", 4428.0),
        (15, "Dt_Customer", date(2013, 10, 5)),
        (135, "ID", "8996"),
        (135, " Income ", None),
        (135, "Dt_Customer", date(2012, 11, 19)),
        (300, "ID", "9303"),
        (300, " Income ", 5305.0),
        (300, "Dt_Customer", date(2013, 7, 30)),
    ],
    raw=[(1, " Income ", "$84,835.00 "), (4, "Dt_Customer", "05/11/2014")],
    read={" Income ": (298, 0, 2), "Dt_Customer": (300, 0, 0)},
)

DVF = RealFile(
    name="dvf_2020_ain.txt",
    settings=ImportSettings(kind="transactions"),
    columns=_header("dvf_2020_ain.txt", "|"),
    rows=172,
    rejected=0,
    roles={"Date mutation": "date", "Valeur fonciere": "measure", "Code postal": "postcode", "Commune": "city",
           "Voie": "address", "Surface reelle bati": "measure", "Surface terrain": "measure",
           "Type local": "category"},
    cells=[
        (1, "Date mutation", date(2020, 1, 7)),
        (1, "Valeur fonciere", 8000.0),
        (1, "Code postal", "01250"),
        (1, "Surface terrain", 1061.0),
        (2, "Date mutation", date(2020, 1, 2)),
        (15, "Valeur fonciere", 54800.0),
        (15, "Surface Carrez du 1er lot", 31.68),
        (15, "Surface reelle bati", 32.0),
        (15, "Code postal", "01000"),
        (22, "Valeur fonciere", 1.0),
        (25, "Date mutation", date(2020, 1, 13)),
        (41, "Valeur fonciere", 11734.8),
        (41, "Date mutation", date(2020, 1, 3)),
        (172, "Date mutation", date(2020, 1, 22)),
        (172, "Valeur fonciere", 480000.0),
        (172, "Code postal", "01240"),
    ],
    raw=[(1, "Code postal", "1250"), (1, "Valeur fonciere", "8000,00")],
    read={"Date mutation": (172, 0, 0), "Valeur fonciere": (172, 0, 0), "Code postal": (172, 0, 0),
          "Surface Carrez du 1er lot": (9, 0, 163), "Surface terrain": (154, 0, 18)},
)

ANNUAIRE = RealFile(
    name="annuaire_education_35.csv",
    settings=ImportSettings(kind="customers"),
    columns=_header("annuaire_education_35.csv", ";"),
    rows=200,
    rejected=0,
    roles={"Identifiant_de_l_etablissement": "id", "Nom_etablissement": "company", "Type_etablissement": "category",
           "Adresse_1": "address", "Code postal": "postcode", "Nom_commune": "city", "Telephone": "phone",
           "Mail": "email", "SIREN_SIRET": "exact", "Nombre_d_eleves": "measure", "latitude": "measure",
           "date_ouverture": "date", "Libelle_region": "region"},
    cells=[
        (1, "Identifiant_de_l_etablissement", "0350122T"),
        (1, "Code postal", "35580"),
        (1, "Telephone", "+33299853802"),
        (1, "Mail", "ecole.0350122t@ac-rennes.fr"),
        (1, "SIREN_SIRET", "21350016800025"),
        (1, "Nombre_d_eleves", 143.0),
        (1, "latitude", 47.98614492070133),
        (1, "date_ouverture", date(1965, 10, 1)),
        (136, "Telephone", "+33299680650"),
        (136, "Mail", "tinteniac@cneap.fr"),
        (136, "Nombre_d_eleves", None),
        (191, "Telephone", None),
        (191, "SIREN_SIRET", None),
        (200, "Identifiant_de_l_etablissement", "0352934Z"),
        (200, "date_ouverture", date(2019, 9, 1)),
    ],
    raw=[(136, "Telephone", "02 99 68 06 50"), (1, "Mail", "ecole.0350122T@ac-rennes.fr")],
    read={"Telephone": (198, 0, 2), "Mail": (194, 0, 6), "Code postal": (200, 0, 0), "date_ouverture": (200, 0, 0),
          "Nombre_d_eleves": (175, 0, 25), "SIREN_SIRET": (193, 0, 7)},
)

NORTHWIND = RealFile(
    name="northwind_customers.csv",
    settings=ImportSettings(kind="customers"),
    columns=_header("northwind_customers.csv", ","),
    # 24 unquoted addresses with a comma give lines of 12 fields: set aside, counted.
    rows=67,
    rejected=24,
    roles={"customerID": "id", "companyName": "company", "contactName": "full_name", "address": "address",
           "city": "city", "region": "region", "postalCode": "postcode", "country": "country", "phone": "phone"},
    key="customerID",
    # Phones read with the row's country; None where libphonenumber (9.0) finds no valid number.
    cells=[
        ("ALFKI", "phone", "+49300074321"),
        ("ALFKI", "postalCode", "12209"),
        ("ALFKI", "region", None),
        ("ANATR", "postalCode", "05021"),
        ("ANATR", "phone", None),
        ("AROUT", "postalCode", "WA1 1DP"),
        ("AROUT", "phone", None),
        ("BERGS", "phone", "+46921123465"),
        ("GREAL", "phone", "+15035557555"),
        ("HUNGO", "postalCode", None),
        ("LAMAI", "phone", None),
        ("MAISD", "phone", "+3222012467"),
        ("SIMOB", "phone", "+4531123456"),
        ("WOLZA", "phone", "+48266427012"),
        ("WOLZA", "postalCode", "01-012"),
    ],
    raw=[("ALFKI", "region", "NULL"), ("ANATR", "phone", "(5) 555-4729")],
    read={"phone": (41, 26, 0), "region": (22, 0, 45), "postalCode": (66, 0, 1)},
)

RNE_MAIRES = RealFile(
    name="rne_maires_lot.txt",
    settings=ImportSettings(kind="customers"),
    # Line 1 is the report title "Titre du rapport"; the header is line 2.
    columns=["Code du département (Maire)", "Libellé de département (Maires)", "Code Insee de la commune",
             "Libellé de la commune", "Nom de l'élu", "Prénom de l'élu", "Code sexe", "Date de naissance",
             "Code profession", "Libellé de la profession", "Date de début du mandat", "Date de début de la fonction"],
    rows=300,
    rejected=0,
    roles={"Nom de l'élu": "last_name", "Prénom de l'élu": "first_name", "Date de naissance": "birth_date",
           "Libellé de la commune": "city", "Code sexe": "category", "Libellé de la profession": "category",
           "Date de début du mandat": "date", "Date de début de la fonction": "date"},
    cells=[
        (1, "Date de naissance", date(1972, 5, 30)),
        (1, "Date de début du mandat", date(2014, 3, 23)),
        (2, "Prénom de l'élu", "Catherine"),
        (2, "Date de début de la fonction", date(2014, 3, 28)),
        (92, "Date de naissance", date(1952, 7, 23)),
        (92, "Date de début du mandat", date(2016, 1, 1)),
        (92, "Date de début de la fonction", date(2018, 2, 24)),
        (300, "Date de naissance", date(1947, 9, 23)),
        (300, "Date de début de la fonction", date(2014, 3, 28)),
    ],
    raw=[(92, "Libellé de la commune", "Cœur de Causse"), (1, "Date de naissance", "30/5/1972"),
         (300, "Libellé de département (Maires)", "LOT ET GARONNE ")],
    read={"Date de naissance": (300, 0, 0), "Date de début du mandat": (300, 0, 0),
          "Date de début de la fonction": (300, 0, 0)},
)

FILES = [ONLINE_RETAIL, CDNOW, MARKETING_CAMPAIGN, MARKETING_DATA_US, DVF, ANNUAIRE, NORTHWIND, RNE_MAIRES]
_IDS = [f.name for f in FILES]


@dataclass
class Imported:
    """One real file imported: the dataset's columns, roles, clean and raw rows and read report."""

    columns: list[str]
    roles: dict[str, str]
    rows: int
    rejected: int
    clean: pd.DataFrame
    raw: pd.DataFrame
    report: dict[str, tuple[int, int, int]]


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """Import each real file once into its own workspace (lazily, so one failing file spares the others)."""
    done: dict[str, Imported] = {}

    def get(spec: RealFile) -> Imported:
        if spec.name not in done:
            with open_workspace(tmp_path_factory.mktemp("real") / "s.duckdb") as ws:
                h = ws.ingest.import_path(REAL / spec.name, spec.settings)
                result = h.ingest.import_result()
                ds = h.ingest.dataset
                done[spec.name] = Imported(
                    columns=list(h.columns), roles=dict(h.roles), rows=result.rows, rejected=result.rejected_rows,
                    clean=h.store.query_df(clean_rows_sql(ds) + " ORDER BY _row").reset_index(drop=True),
                    raw=raw_rows(h.store, ds).sort_values("_row").reset_index(drop=True),
                    report={c.name: (c.read, c.invalid, c.missing) for c in result.report.columns})
        return done[spec.name]

    return get


def _column(got: Imported, name: str) -> str | None:
    """The dataset's column for a header as written in the file (surrounding spaces aside), if exactly one."""
    matches = [c for c in got.columns if c.strip() == name.strip()]
    return matches[0] if len(matches) == 1 else None


def _plain(value: object) -> object:
    """A cell as a plain Python value: None, date, float, bool or str (a date-time compared on its date)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (pd.Timestamp, datetime, np.datetime64)):
        return pd.Timestamp(value).date()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, Decimal, np.integer, np.floating)):
        return float(value)
    return value


def _row_index(spec: RealFile, frame: pd.DataFrame, got: Imported, row: int | str) -> int | None:
    """Position in ``frame`` of a data row number, or of the row whose ``spec.key`` value is ``row``."""
    if spec.key is None:
        return row - 1 if 0 < row <= len(frame) else None
    key = _column(got, spec.key)
    if key is None:
        return None
    hits = frame.index[(frame[key].astype("string").str.strip() == row).fillna(False)].tolist()
    return hits[0] if len(hits) == 1 else None


def _mismatches(spec: RealFile, got: Imported, frame: pd.DataFrame, cells: list[Cell],
                plain=_plain) -> list[tuple[object, str, object, object]]:
    """``(row, column, expected, got)`` of each expected cell that differs (``got`` names a missing row or column)."""
    out = []
    for row, name, expected in cells:
        i, column = _row_index(spec, frame, got, row), _column(got, name)
        if i is None or column is None:
            value = "<no such row>" if i is None else "<no such column>"
        else:
            value = plain(frame.at[i, column])
        if value != expected:
            out.append((row, name, expected, value))
    return out


@pytest.mark.parametrize("spec", FILES, ids=_IDS)
def test_real_file_rows_and_columns(imported, spec):
    got = imported(spec)
    assert [c.strip() for c in got.columns] == [c.strip() for c in spec.columns], f"columns read: {got.columns}"
    assert (got.rows, got.rejected) == (spec.rows, spec.rejected), "(rows, rejected lines)"


@pytest.mark.parametrize("spec", FILES, ids=_IDS)
def test_real_file_roles(imported, spec):
    got = imported(spec)
    wrong = {name: (role, got.roles.get(_column(got, name))) for name, role in spec.roles.items()
             if got.roles.get(_column(got, name)) != role}
    assert wrong == {}, f"column: (expected role, guessed role): {wrong}"


@pytest.mark.parametrize("spec", FILES, ids=_IDS)
def test_real_file_spot_checked_values(imported, spec):
    got = imported(spec)
    wrong = _mismatches(spec, got, got.clean, spec.cells)
    assert wrong == [], "(row, column, expected, got):\n" + "\n".join(map(repr, wrong))


@pytest.mark.parametrize("spec", FILES, ids=_IDS)
def test_real_file_raw_values_kept(imported, spec):
    got = imported(spec)
    wrong = _mismatches(spec, got, got.raw, spec.raw, plain=lambda v: v)
    assert wrong == [], "(row, column, expected, got):\n" + "\n".join(map(repr, wrong))


@pytest.mark.parametrize("spec", FILES, ids=_IDS)
def test_real_file_read_report(imported, spec):
    got = imported(spec)
    figures = {name: got.report.get(_column(got, name)) for name in spec.read}
    assert figures == spec.read, f"column: (read, invalid, missing): {figures}"

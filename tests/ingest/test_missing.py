"""Missing-value words are missing in every role; identifiers and codes keep their exact text."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from segmentation import ImportSettings, open_workspace
from segmentation.core.vocabulary import MISSING_WORDS
from segmentation.customers.repository import raw_rows
from segmentation.ingest.statements import clean_rows_sql

ROLES = {"id": "id", "mail": "email", "tel": "phone", "created": "created_date", "amount": "measure",
         "segment": "category", "note": "text", "optin": "consent"}
VALID = ["A0", "a@x.fr", "01 23 45 67 89", "25/12/2024", "12,5", "Gold", "hello", "Oui"]
WORDS = ["NA", "N/A", "n/a", "null", "NULL", "None", "-", "--", "#N/A"]


def values(series: pd.Series) -> list:
    """A column as a list, every kind of missing value (NaN, NaT, NA) as None."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def _import(tmp_path, csv: str, roles: dict[str, str], **settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Import ``csv`` with ``roles``: its clean rows and its raw rows, in file order."""
    ws = open_workspace(tmp_path / "s.duckdb")
    try:
        handle = ws.ingest.import_bytes(csv.encode(), "f.csv", ImportSettings(roles=roles, **settings))
        clean = handle.ingest.repository.frame(clean_rows_sql(handle.info) + " ORDER BY _row")
        return clean, raw_rows(ws.store, handle.info)
    finally:
        ws.close()


def test_missing_words_are_missing_in_every_role(tmp_path):
    rows = [VALID] + [[f" {w} "] * len(ROLES) for w in WORDS]
    csv = ";".join(ROLES) + "\n" + "".join(";".join(r) + "\n" for r in rows)
    clean, raw = _import(tmp_path, csv, ROLES)
    assert {c: values(clean[c]) for c in ROLES} == {
        "id": ["A0"] + [None] * 9, "mail": ["a@x.fr"] + [None] * 9, "tel": ["+33123456789"] + [None] * 9,
        "created": [pd.Timestamp(dt.date(2024, 12, 25))] + [None] * 9, "amount": [12.5] + [None] * 9,
        "segment": ["Gold"] + [None] * 9, "note": ["hello"] + [None] * 9, "optin": [True] + [None] * 9}
    # The raw values stay as written.
    assert raw["note"].tolist() == ["hello"] + [f" {w} " for w in WORDS]


def test_default_missing_words_include_the_common_spellings():
    assert set(WORDS) <= set(MISSING_WORDS)


def test_missing_setting_replaces_the_list(tmp_path):
    csv = "id;note;amount\nNA;?;-\n?;N/A;?\nB;x;3\n"
    clean, _ = _import(tmp_path, csv, {"id": "id", "note": "text", "amount": "measure"}, missing=("?",))
    assert {c: values(clean[c]) for c in ("id", "note", "amount")} == {
        "id": ["NA", None, "B"], "note": [None, "N/A", "x"], "amount": [None, None, 3.0]}


def test_identifiers_and_codes_keep_their_exact_text(tmp_path):
    codes = ["C536379", "84459A", "00123", " 42 ", "536365"]
    csv = "invoice;stock_code;qty\n" + "".join(f"{c};{c};1\n" for c in codes)
    clean, raw = _import(tmp_path, csv, {"invoice": "id", "stock_code": "text", "qty": "measure"})
    assert values(clean["invoice"]) == ["C536379", "84459A", "00123", "42", "536365"]
    assert values(clean["stock_code"]) == ["C536379", "84459A", "00123", "42", "536365"]
    assert raw["invoice"].tolist() == codes


def test_codes_read_as_amounts_are_invalid_not_truncated(tmp_path):
    csv = "id;code\n1;C536379\n2;84459A\n3;536365\n"
    clean, _ = _import(tmp_path, csv, {"id": "id", "code": "measure"})
    assert values(clean["code"]) == [None, None, 536365.0]

"""Import end to end through the engine: raw kept, normalised beside it, failures change nothing."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation.core.errors import ColumnError, InputFileError
from segmentation.customers.identity import customer_rows, raw_rows
from segmentation.ingest.importer import ImportSettings, import_file, preview_file, rejected_rows, set_roles
from tests.conftest import values


def test_french_export_imported_and_normalised(store, french_csv):
    ds = import_file(store, french_csv, "crm.csv")
    assert (ds.name, ds.row_count, ds.encoding, ds.delimiter) == ("crm", 4, "cp1252", ";")
    assert ds.roles["E-mail"] == "email" and ds.roles["Téléphone"] == "phone"
    rows = customer_rows(store, "crm")
    assert values(rows["E-mail"])[:3] == ["helene.martin@martin.fr", None, "gaelle.lefevre@nexa.fr"]
    assert values(rows["Téléphone"]) == ["+33123456789", "+33612345678", "+33612345678", None]
    assert values(rows["Région"]) == ["Île-de-France", "Île-de-France", "Bretagne", "Bretagne"]
    assert values(rows["Code postal"]) == ["75001", "01000", "35000", "35000"]
    assert values(rows["Date de création"])[:2] == [pd.Timestamp(2020, 12, 25), pd.Timestamp(2021, 2, 1)]
    assert values(rows["Valeur contrat"])[:3] == [12400.5, 800.0, 1234.5]
    assert values(rows["Consentement"])[:3] == [True, False, True]
    raw = raw_rows(store, "crm")
    assert raw["E-mail"].tolist()[0] == "Helene.Martin@Martin.fr "
    assert raw["Valeur contrat"].tolist()[0] == "12\u00a0400,50 €"


def test_sql_in_header_imports_as_that_exact_column(store):
    header = 'Nom"; DROP TABLE datasets; --'
    ds = import_file(store, f'id,"{header.replace(chr(34), chr(34) * 2)}"\n1,x\n'.encode(), "evil.csv")
    assert header in ds.columns
    assert customer_rows(store, ds.name)[header].tolist() == ["x"]
    assert store.table_exists("datasets")


def test_case_colliding_headers_both_kept(store):
    ds = import_file(store, b"Email,email\na@b.fr,c@d.fr\n", "dup.csv")
    assert len(ds.columns) == 2 and ds.columns[0] == "Email"
    assert customer_rows(store, ds.name).iloc[0].tolist() == ["a@b.fr", "c@d.fr"]


@pytest.mark.parametrize("data", [b"", b"a;b;c\r\n", b"\x00\x01\x02\xff\xfe\x00garbage\x00" * 50])
def test_bad_files_leave_store_unchanged(store, french_csv, data):
    import_file(store, french_csv, "good.csv")
    tables_before = store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1")
    with pytest.raises(InputFileError):
        import_file(store, data, "bad.csv")
    assert [d.name for d in store.datasets()] == ["good"]
    assert store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1") == tables_before


def test_failure_half_way_rolls_back(store, french_csv, monkeypatch):
    from segmentation.ingest import importer

    def boom(*_args, **_kwargs):
        raise InputFileError("simulated failure while normalising")

    monkeypatch.setattr(importer, "build_clean_table", boom)
    with pytest.raises(InputFileError):
        import_file(store, french_csv, "crm.csv")
    assert store.datasets() == []
    assert not store.table_exists("raw_1")


def test_ragged_rows_counted_and_kept(store):
    ds = import_file(store, b"a,b\n1,2\n3,4,5\n6,7\n", "ragged.csv")
    assert (ds.row_count, ds.rejected_rows) == (2, 1)
    rejects = rejected_rows(store, ds.name)
    assert rejects["raw"].tolist() == ["3,4,5"]


def test_roles_override_and_id_column(store, french_csv):
    ds = import_file(store, french_csv, "crm.csv", ImportSettings(id_column="Nom", roles={"Région": "text"}))
    assert ds.roles["Nom"] == "id" and ds.roles["ID client"] != "id"
    assert customer_rows(store, ds.name)["Région"].tolist()[1] == "ILE DE FRANCE"
    with pytest.raises(ColumnError, match=r"Missing columns \['nope'\]"):
        import_file(store, french_csv, "crm.csv", ImportSettings(id_column="nope"))


def test_set_roles_renormalises(store, french_csv):
    import_file(store, french_csv, "crm.csv")
    set_roles(store, "crm", {"Région": "text"})
    assert customer_rows(store, "crm")["Région"].tolist()[1] == "ILE DE FRANCE"
    assert store.dataset("crm").roles["Région"] == "text"


def test_same_name_gets_a_suffix(store, french_csv):
    assert import_file(store, french_csv, "crm.csv").name == "crm"
    assert import_file(store, french_csv, "crm.csv").name == "crm (2)"


def test_preview_reads_head_of_large_file():
    big = ("id,email\n" + "".join(f"{i},user{i}@example.com\n" for i in range(100_000))).encode()
    preview = preview_file(big, "big.csv")
    assert preview.partial and preview.roles["email"] == "email"
    assert preview.frame["id"].tolist()[:2] == ["0", "1"]

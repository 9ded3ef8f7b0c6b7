"""Import end to end through the engine: raw kept, normalised beside it, failures change nothing."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from segmentation.core.errors import ColumnError, InputFileError
from segmentation.customers.repository import customer_rows, raw_rows
from segmentation.ingest.importer import ImportSettings, import_file, preview_file, rejected_rows, set_roles
from segmentation.ingest.repository import DatasetsRepository
from segmentation.ingest.statements import clean_rows_sql
from tests.conftest import values


def test_french_export_imported_and_normalised(store, french_csv):
    ds = import_file(store, french_csv, "crm.csv")
    assert (ds.name, ds.row_count, ds.encoding, ds.delimiter) == ("crm", 4, "cp1252", ";")
    assert ds.roles["E-mail"] == "email" and ds.roles["Téléphone"] == "phone"
    rows = customer_rows(store, DatasetsRepository(store).dataset("crm"))
    assert values(rows["E-mail"])[:3] == ["helene.martin@martin.fr", None, "gaelle.lefevre@nexa.fr"]
    assert values(rows["Téléphone"]) == ["+33123456789", "+33612345678", "+33612345678", None]
    assert values(rows["Région"]) == ["Île-de-France", "Île-de-France", "Bretagne", "Bretagne"]
    assert values(rows["Code postal"]) == ["75001", "01000", "35000", "35000"]
    assert values(rows["Date de création"])[:2] == [pd.Timestamp(2020, 12, 25), pd.Timestamp(2021, 2, 1)]
    assert values(rows["Valeur contrat"])[:3] == [12400.5, 800.0, 1234.5]
    assert values(rows["Consentement"])[:3] == [True, False, True]
    raw = raw_rows(store, DatasetsRepository(store).dataset("crm"))
    assert raw["E-mail"].tolist()[0] == "Helene.Martin@Martin.fr "
    assert raw["Valeur contrat"].tolist()[0] == "12\u00a0400,50 €"


def test_sql_in_header_imports_as_that_exact_column(store):
    header = 'Nom"; DROP TABLE datasets; --'
    ds = import_file(store, f'id,"{header.replace(chr(34), chr(34) * 2)}"\n1,x\n'.encode(), "evil.csv")
    assert header in ds.columns
    assert customer_rows(store, DatasetsRepository(store).dataset(ds.name))[header].tolist() == ["x"]
    assert store.table_exists("datasets")


def test_case_colliding_headers_both_kept(store):
    ds = import_file(store, b"Email,email\na@b.fr,c@d.fr\n", "dup.csv")
    assert len(ds.columns) == 2 and ds.columns[0] == "Email"
    assert customer_rows(store, DatasetsRepository(store).dataset(ds.name)).iloc[0].tolist() == ["a@b.fr", "c@d.fr"]


@pytest.mark.parametrize("data", [b"", b"a;b;c\r\n", b"\x00\x01\x02\xff\xfe\x00garbage\x00" * 50])
def test_bad_files_leave_store_unchanged(store, french_csv, data):
    import_file(store, french_csv, "good.csv")
    tables_before = store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1")
    with pytest.raises(InputFileError):
        import_file(store, data, "bad.csv")
    assert [d.name for d in DatasetsRepository(store).datasets()] == ["good"]
    assert store.query_rows("SELECT table_name FROM information_schema.tables ORDER BY 1") == tables_before


def test_failure_half_way_rolls_back(store, french_csv, monkeypatch):
    def boom(*_args, **_kwargs):
        raise InputFileError("simulated failure while normalising")

    monkeypatch.setattr(DatasetsRepository, "build_clean_table", boom)
    with pytest.raises(InputFileError):
        import_file(store, french_csv, "crm.csv")
    assert DatasetsRepository(store).datasets() == []
    assert not store.table_exists("raw_1")


def test_ragged_rows_counted_and_kept(store):
    ds = import_file(store, b"a,b\n1,2\n3,4,5\n6,7\n", "ragged.csv")
    assert (ds.row_count, ds.rejected_rows) == (2, 1)
    rejects = rejected_rows(store, ds.name)
    assert rejects["raw"].tolist() == ["3,4,5"]


def test_roles_override_and_id_column(store, french_csv):
    ds = import_file(store, french_csv, "crm.csv", ImportSettings(id_column="Nom", roles={"Région": "text"}))
    assert ds.roles["Nom"] == "id" and ds.roles["ID client"] != "id"
    assert customer_rows(store, DatasetsRepository(store).dataset(ds.name))["Région"].tolist()[1] == "ILE DE FRANCE"
    with pytest.raises(ColumnError, match=r"Missing columns \['nope'\]"):
        import_file(store, french_csv, "crm.csv", ImportSettings(id_column="nope"))


def test_set_roles_renormalises(store, french_csv):
    import_file(store, french_csv, "crm.csv")
    set_roles(store, "crm", {"Région": "text"})
    assert customer_rows(store, DatasetsRepository(store).dataset("crm"))["Région"].tolist()[1] == "ILE DE FRANCE"
    assert DatasetsRepository(store).dataset("crm").roles["Région"] == "text"


def test_same_name_gets_a_suffix(store, french_csv):
    assert import_file(store, french_csv, "crm.csv").name == "crm"
    assert import_file(store, french_csv, "crm.csv").name == "crm (2)"


def test_preview_reads_head_of_large_file():
    big = ("id,email\n" + "".join(f"{i},user{i}@example.com\n" for i in range(100_000))).encode()
    preview = preview_file(big, "big.csv")
    assert preview.partial and preview.roles["email"] == "email"
    assert preview.frame["id"].tolist()[:2] == ["0", "1"]


def test_orphan_clean_up_while_an_import_commits_never_drops_its_tables(store, french_csv, monkeypatch):
    with store.transaction() as tx:  # a real orphan: the tables of an import that died long ago
        tx.execute("CREATE TABLE raw_99 (_row BIGINT)")
    commit_new = DatasetsRepository.commit_new
    dropped: list[str] = []

    def clean_up_in_between(self, *args, **kwargs):
        # Another browser session cleans up orphans exactly between the import's two transactions:
        # the raw table exists, the dataset row does not yet.
        assert store.table_exists("raw_1") and not DatasetsRepository(store).datasets()

        def other_session():
            for _ in range(3):
                dropped.extend(store.drop_orphan_tables())

        other = threading.Thread(target=other_session)
        other.start()
        other.join()
        return commit_new(self, *args, **kwargs)

    monkeypatch.setattr(DatasetsRepository, "commit_new", clean_up_in_between)
    outcome: dict = {}

    def run_import():
        try:
            outcome["ds"] = import_file(store, french_csv, "crm.csv")
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    importing = threading.Thread(target=run_import)
    importing.start()
    importing.join()
    assert "error" not in outcome, outcome.get("error")
    assert dropped == ["raw_99"]  # the clean-up ran, and took only the real orphan
    ds = DatasetsRepository(store).dataset("crm")
    assert (ds.id, ds.row_count) == (outcome["ds"].id, 4)
    assert [store.query_value(f"SELECT count(*) FROM {t}") for t in (ds.raw_table, ds.clean_table)] == [4, 4]
    assert store.table_exists(ds.rejects_table)
    assert store.drop_orphan_tables() == []  # once the import is committed, nothing of it is an orphan


def test_clean_rows_as_sql_text_for_other_stages(store, french_csv):
    ds = import_file(store, french_csv, "crm.csv")
    rows = store.query_df(clean_rows_sql(ds, ["E-mail", "Consentement"]) + " ORDER BY _row")
    assert list(rows.columns) == ["_row", "E-mail", "Consentement"]
    assert values(rows["E-mail"]) == ["helene.martin@martin.fr", None, "gaelle.lefevre@nexa.fr", "contact@nexa.fr"]
    assert rows["Consentement"].tolist()[:3] == [True, False, True] and pd.isna(rows["Consentement"].iloc[3])
    assert list(store.query_df(clean_rows_sql(ds)).columns) == ["_row", *ds.columns]


def test_preview_guesses_from_rows_spread_over_a_large_file():
    """The first half megabyte holds e-mails, the rest of the file dates: the preview's guess sees both."""
    head = "".join(f"{i},user{i}@example.com\n" for i in range(15_000))
    tail = "".join(f"{i},2024-03-{1 + i % 28:02d}\n" for i in range(15_000, 200_000))
    preview = preview_file(("id,Email Address\n" + head + tail).encode(), "big.csv")
    assert preview.partial and preview.roles["Email Address"] == "date"
    assert preview.frame["Email Address"].tolist()[:2] == ["user0@example.com", "user1@example.com"]

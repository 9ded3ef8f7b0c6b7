"""The matcher's records carry e-mails and phones as written, beside their normalised values."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation import ImportSettings, open_workspace
from segmentation.dedupe import repository
from segmentation.dedupe.comparisons import raw_column

HEADER = "ID client;Prénom;Nom;E-mail;Téléphone;Ville\n"
FIRST = HEADER + ("1;Jean;Dupont; jean.dupont ;4512;Paris\n"
                  "2;Jean;Dupont;jean.dupont;45 12;Paris\n"
                  "3;Marie;Curie;NA;#N/A;Lyon\n"
                  "4;Paul;Martin;paul@x.fr;06 12 34 56 78;Nice\n")
EMAIL, PHONE = raw_column("E-mail"), raw_column("Téléphone")
ROLES = ImportSettings(roles={"E-mail": "email", "Téléphone": "phone"})  # too few good values to be guessed


@pytest.fixture
def ws(tmp_path):
    workspace = open_workspace(tmp_path / "ws.duckdb")
    yield workspace
    workspace.close()


def records(ws, handle) -> pd.DataFrame:
    ds = handle.reload().info
    frame = repository.records(ws.store, ds, ["E-mail", "Téléphone", "Ville"]).sort_index()
    return frame.astype(object).where(frame.notna(), None)


def test_text_as_written_beside_the_normalised_value(ws):
    handle = ws.ingest.import_bytes(FIRST.encode(), "crm.csv", ROLES)
    frame = records(ws, handle)
    assert list(frame.columns) == ["E-mail", "Téléphone", "Ville", EMAIL, PHONE]  # no raw text for a city
    assert frame["E-mail"].isna().tolist() == [True, True, True, False]  # no domain, twice; a missing word
    assert frame[EMAIL].tolist() == ["jean.dupont", "jean.dupont", None, "paul@x.fr"]  # trimmed, NA is missing
    assert frame[PHONE].tolist() == ["4512", "45 12", None, "06 12 34 56 78"]
    assert frame["Téléphone"].tolist()[3] == "+33612345678"


def test_a_later_export_gives_the_record_its_newest_text(ws):
    handle = ws.ingest.import_bytes(FIRST.encode(), "crm.csv", ROLES)
    handle.ingest.append((HEADER + "1;Jean;Dupont;jdupont;4512;Paris\n5;Ana;Lopez;ana;;Lille\n").encode(), "2.csv")
    frame = records(ws, handle)
    assert len(frame) == 5  # record 1 updated in place, record 5 added
    assert frame[EMAIL].tolist() == ["jdupont", "jean.dupont", None, "paul@x.fr", "ana"]
    assert frame[PHONE].tolist() == ["4512", "45 12", None, "06 12 34 56 78", None]

"""The import's progress messages are catalogue messages: a French page shows them in French."""

from segmentation import open_workspace
from segmentation.i18n import Message
from segmentation.ingest.importer import ImportSettings, import_file


def test_every_progress_message_of_an_import_has_a_french_text(tmp_path):
    told: list = []
    csv = "id;Nom;Téléphone;Montant\nA;Durand;06 12 34 56 78;1 234,50\nB;Martin;+32 470 12 34 56;12,00\n"
    ws = open_workspace(tmp_path / "s.duckdb")
    try:
        import_file(ws.store, csv.encode(), "contacts.csv", ImportSettings(),
                    progress=lambda _fraction, msg: told.append(msg))
    finally:
        ws.close()
    assert told and all(isinstance(m, Message) for m in told)
    french = [m.render("fr") for m in told]
    assert [(str(m), f) for m, f in zip(told, french, strict=True) if f == str(m)] == []
    assert french[0] == "Lecture de contacts.csv" and french[-1] == "Import terminé"
    assert "Normalisation de Téléphone" in french

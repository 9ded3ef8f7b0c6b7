"""The activate stage on a dataset handle: counts, lists, saved audiences and exports through ``handle.audiences``."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from segmentation import (
    AudienceSpec,
    Condition,
    DataError,
    FeatureSettings,
    ImportSettings,
    NotFoundError,
    SettingError,
)

ROWS = [  # id, first, last, email, region, value, consent, opt-out (the yes/no words of a spreadsheet)
    ("A1", "Ana", "Roy", "ana@x.fr", "Bretagne", "20000", "1.0", ""),
    ("A2", "Bob", "Lee", "bob@x.fr", "Bretagne", "500", "0.0", ""),
    ("A3", "Cy", "Moe", "cy@x.fr", "Normandie", "15000", "1.0", "x"),
    ("A4", "Di", "Fox", "di@x.fr", "Normandie", "900", "1.0", ""),
]


def _csv(rows, header="id;Prénom;Nom;E-mail;Région;Valeur contrat;Consentement;Désabonné") -> bytes:
    return (header + "\n" + "".join(";".join(r) + "\n" for r in rows)).encode()


@pytest.fixture
def crm(ws):
    ws.ingest.import_bytes(_csv(ROWS), "crm.csv", ImportSettings(
        name="crm", roles={"Consentement": "consent", "Désabonné": "opt_out"}))
    ws.ingest.import_bytes(_csv([("B1", "Eve", "Ng", "eve@y.fr", "Bretagne", "100", "1.0", "")]), "other.csv",
                           ImportSettings(name="other", roles={"Consentement": "consent", "Désabonné": "opt_out"}))
    return ws.dataset("crm")


def ids(audiences, spec: AudienceSpec) -> list[str]:
    return audiences.select(AudienceSpec(**{**spec.__dict__, "columns": ("id",)}))["id"].tolist()


def test_consent_written_as_numbers_and_opt_out_as_a_mark(crm):
    audiences = crm.audiences
    spec = AudienceSpec(channel="email")
    # A2 said no (0.0), A3 opted out (x): both excluded and counted; the handle's dataset, not the newest one.
    assert ids(audiences, spec) == ["A1", "A4"]
    figures = audiences.count(spec)
    assert (figures.in_segments, figures.excluded_no_consent, figures.final) == (4, 2, 2)
    assert figures.to_dict()["excluded_no_consent"] == 2
    assert ids(audiences, AudienceSpec(channel="email", include_no_consent=True)) == ["A1", "A2", "A3", "A4"]


def test_a_spec_of_another_dataset_is_refused(crm):
    with pytest.raises(SettingError, match="dataset must be this handle's dataset, 'crm'; got 'other'"):
        crm.audiences.count(AudienceSpec(dataset="other"))
    assert crm.workspace.dataset("other").audiences.count(AudienceSpec(channel=None)).final == 1


def test_saved_audiences_belong_to_their_dataset(crm):
    rich = AudienceSpec(channel=None, groups=((Condition("Valeur contrat", "ge", 10000),),))
    assert crm.audiences.save(" Rich ", rich) == "Rich"
    other = crm.workspace.dataset("other").audiences
    other.save("Everyone", AudienceSpec(channel=None))
    assert crm.audiences.saved()["name"].tolist() == ["Rich"]
    assert other.saved()["name"].tolist() == ["Everyone"]
    # get() resolves in the workspace; the definition was stored with its dataset's name.
    assert other.get("rich") == AudienceSpec(dataset="crm", channel=None, groups=rich.groups)
    assert crm.audiences.overlap(("Rich",)).to_dict() == {"Rich": {"Rich": 2}}
    with pytest.raises(NotFoundError, match=r"No saved audience named 'nope'; the store has \['Everyone', 'Rich'\]"):
        crm.audiences.get("nope")


def test_saving_writes_once_and_moves_the_dataset_version(crm):
    before, other_before = crm.version, crm.workspace.dataset("other").version
    crm.audiences.save("All", AudienceSpec(channel=None))
    assert crm.version == before + 1 and crm.workspace.dataset("other").version == other_before
    total = crm.workspace.version
    crm.audiences.count(AudienceSpec(channel=None))  # reading writes nothing
    assert crm.workspace.version == total


def test_export_result_render_and_the_log(crm, tmp_path):
    out = tmp_path / "list.csv"
    result = crm.audiences.export(AudienceSpec(channel="email", holdout=0.5, seed=3), out, audience="half")
    written = pd.read_csv(out, dtype=str)
    held = pd.read_csv(tmp_path / "list (holdout).csv", dtype=str)
    assert result.rows == len(written) and result.holdout_rows == len(held) and len(written) + len(held) == 2
    assert result.to_dict() == {"rows": len(written), "excluded_no_consent": 2, "holdout_rows": len(held),
                                "out": str(out), "holdout_out": str(tmp_path / "list (holdout).csv"),
                                "columns": ["id", "Prénom", "Nom", "E-mail", "segment_name"]}
    data = crm.audiences.render(AudienceSpec(channel=None, columns=("id",)), "csv")
    assert data.decode().splitlines() == ["id", "A1", "A2", "A3", "A4"]
    log = crm.audiences.export_log()
    assert log["rows"].tolist() == [4, len(written)] and log["file_name"].tolist() == ["audience.csv", "list.csv"]


def test_suppression_file_and_segments_by_name(crm):
    list_id = crm.audiences.save_suppression_file("bounces.csv", b"Email\nANA@x.fr\n")
    assert ids(crm.audiences, AudienceSpec(channel="email", suppression=list_id)) == ["A4"]
    with pytest.raises(DataError, match="holds no e-mail"):
        crm.audiences.save_suppression("empty", [" "])
    run = crm.segments.run(FeatureSettings(numeric=("Valeur contrat",), log=()), 2, name="R")
    crm.segments.rename_segment(run.name, 1, "Big")
    names = crm.segments.names(run.name)
    assert crm.audiences.segments_by_name(["big", " 0 "]) == ("R", (1, 0)) and names[1] == "Big"
    with pytest.raises(NotFoundError, match="Run 'R' has no segment 'Huge'"):
        crm.audiences.segments_by_name(["Huge"], "R")


def test_no_saved_audience_is_an_empty_table_with_its_columns(crm):
    saved = crm.audiences.saved()
    assert saved.empty and list(saved.columns) == ["name", "saved_at", "spec"]


def test_a_download_for_a_french_page_names_the_app_columns_in_french_and_keeps_the_users(crm):
    """Issue 20: ``segment_name``, ``holdout`` and yes/no values follow the language; the file's own columns and
    a destination preset's headers never change; without a language (the CLI) nothing changes."""
    spec = AudienceSpec(channel="email", columns=("id", "Prénom", "Consentement", "segment_name"))
    french = pd.read_csv(io.BytesIO(crm.audiences.render(spec, "csv", language="fr")), dtype=str,
                         keep_default_na=False)
    assert list(french.columns) == ["id", "Prénom", "Consentement", "nom du segment"]
    assert french["Consentement"].tolist() == ["oui", "oui"]                  # A1 and A4 consented
    english = pd.read_csv(io.BytesIO(crm.audiences.render(spec, "csv", language="en")), dtype=str,
                          keep_default_na=False)
    assert list(english.columns) == ["id", "Prénom", "Consentement", "segment_name"]
    assert english["Consentement"].tolist() == ["yes", "yes"]
    cli = pd.read_csv(io.BytesIO(crm.audiences.render(spec, "csv")), dtype=str, keep_default_na=False)
    assert cli["Consentement"].tolist() == ["True", "True"]
    preset = crm.audiences.render(AudienceSpec(channel="email"), preset="mailchimp", language="fr")
    assert preset.decode("utf-8-sig").splitlines()[0] == "Email Address,First Name,Last Name,Phone Number,Tags"

    shown = crm.audiences.localise(pd.DataFrame({"id": ["A1", "A2"], "segment": [0, 1], "holdout": [True, False],
                                                 "E-mail (all)": ["a", None]}), "fr")
    assert list(shown.columns) == ["id", "segment", "groupe témoin", "E-mail (tous)"]
    assert shown["groupe témoin"].tolist() == ["oui", "non"]


def test_the_page_keys_count_once_for_any_holdout_and_flags_the_preview_as_select(crm):
    """Issue 21: the page counts on ``counting(spec)`` and flags its preview from ``draw_places``."""
    audiences = crm.audiences
    spec = AudienceSpec(channel=None, holdout=0.5, seed=2, columns=("id",))
    counting = audiences.counting(spec)
    assert counting == AudienceSpec(dataset="crm", channel=None)       # no share, seed or columns: one count
    figures = audiences.with_holdout(audiences.count(counting), spec)
    assert figures.to_dict() == audiences.count(spec).to_dict() and figures.holdout == 2
    preview = audiences.select(AudienceSpec(**{**spec.__dict__, "holdout": 0.0, "seed": 0}), limit=3)
    places = audiences.draw_places(AudienceSpec(**{**counting.__dict__, "seed": 2}), 3)
    assert len(set(places)) == 3 and set(places) <= {0, 1, 2, 3}      # each its own place among the 4
    assert audiences.held_out(preview, places, spec, figures).equals(audiences.select(spec, limit=3))

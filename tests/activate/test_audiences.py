"""Audiences: every operator, OR of AND-groups, consent, suppression, holdout, safe files, the export log."""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pandas as pd
import pytest

from segmentation.activate import audiences as A
from segmentation.activate.audiences import AudienceSpec, Condition
from segmentation.core.errors import ColumnError, DataError, NotFoundError
from segmentation.dedupe import review as dedupe
from segmentation.ingest.importer import ImportSettings, import_file
from segmentation.segment import runs as segments
from segmentation.segment.features import FeatureSettings

QUOTED = 'Taille "eff." ; x'
RECENT = (date.today() - timedelta(days=10)).strftime("%d/%m/%Y")
OLD = (date.today() - timedelta(days=400)).strftime("%d/%m/%Y")
ROWS = [
    # id, first, last, email, phone, region, value, last activity, consent, opt-out, size
    ("A1", "Ana", "Roy", "ana@x.fr", "0611111111", "Île-de-France", "20000", RECENT, "oui", "non", "PME"),
    ("A2", "Bob", "Lee", "=a@x.fr", "", "Bretagne", "500", OLD, "oui", "non", "TPE"),
    ("A3", "Cy", "Moe", "cy@x.fr", "0633333333", "Île-de-France", "15000", RECENT, "non", "non", "PME"),
    ("A4", "Di", "Fox", "", "0644444444", "Normandie", "", "", "oui", "non", ""),
    ("A5", "Ed", "Kim", "ed@x.fr", "", "ile de france", "12000", OLD, "oui", "oui", "ETI"),
    ("A6", "=1+1", "Ray", "fy@x.fr", "", "Bretagne", "30000", RECENT, "oui", "non", "PME"),
]


@pytest.fixture
def ds(store):
    quoted = QUOTED.replace('"', '""')
    header = f'id;Prénom;Nom;E-mail;Téléphone;Région;Valeur contrat;Dernière activité;Consentement;Opt-out;"{quoted}"\n'
    body = "".join(";".join(row) + "\n" for row in ROWS)
    return import_file(store, (header + body).encode(), "crm.csv",
                       ImportSettings(roles={QUOTED: "category", "Opt-out": "opt_out"}))


def ids(store, spec) -> list[str]:
    return A.select(store, AudienceSpec(**{**spec.__dict__, "columns": ("id",)}))["id"].tolist()


def anyone(*groups) -> AudienceSpec:
    return AudienceSpec(groups=groups, channel=None)


@pytest.mark.parametrize(("cond", "expected"), [
    (Condition("Région", "eq", "ÎLE-DE-FRANCE "), ["A1", "A3", "A5"]),          # categories folded at import
    (Condition("Région", "ne", "Bretagne"), ["A1", "A3", "A4", "A5"]),
    (Condition("Région", "in", ["Bretagne", "Normandie"]), ["A2", "A4", "A6"]),
    (Condition("Région", "not_in", ["Bretagne", "Normandie"]), ["A1", "A3", "A5"]),
    (Condition("Valeur contrat", "ge", "15 000"), ["A1", "A3", "A6"]),
    (Condition("Valeur contrat", "le", 500), ["A2"]),
    (Condition("Valeur contrat", "empty"), ["A4"]),
    (Condition("Dernière activité", "within_days", 90), ["A1", "A3", "A6"]),
    (Condition("Dernière activité", "before_days", 90), ["A2", "A5"]),
    (Condition("Dernière activité", "not_empty"), ["A1", "A2", "A3", "A5", "A6"]),
    (Condition("Nom", "contains", "o"), ["A1", "A3", "A4"]),
    (Condition(QUOTED, "eq", "pme"), ["A1", "A3", "A6"]),                        # a header with quotes and ;
    (Condition("Consentement", "eq", "non"), ["A3"]),
])
def test_each_operator(store, ds, cond, expected):
    assert ids(store, anyone((cond,))) == expected


def test_and_within_groups_or_between_and_counts(store, ds):
    spec = AudienceSpec(groups=((Condition("Région", "eq", "Île-de-France"), Condition("Valeur contrat", "ge", 14000)),
                                (Condition("Région", "eq", "Normandie"),)), channel="email")
    assert ids(store, anyone(*spec.groups)) == ["A1", "A3", "A4"]
    figures = A.count(store, spec)
    assert figures.in_segments == 6 and figures.matching == 3
    assert figures.excluded_by_rule == {"Région is Île-de-France": 3, "Valeur contrat at least 14000": 3,
                                        "Région is Normandie": 5}
    # A4 has no e-mail; A3 said no to contact: both out, and counted.
    assert (figures.excluded_no_contact, figures.excluded_no_consent, figures.final) == (1, 1, 1)
    assert ids(store, spec) == ["A1"]


def test_consent_opt_out_and_the_explicit_choice(store, ds):
    email = AudienceSpec(channel="email")
    assert ids(store, email) == ["A1", "A2", "A6"]          # A3 no consent, A5 opted out, A4 no e-mail
    assert A.count(store, email).excluded_no_consent == 2
    everyone = AudienceSpec(channel="email", include_no_consent=True)
    assert ids(store, everyone) == ["A1", "A2", "A3", "A5", "A6"]
    assert ids(store, AudienceSpec(channel="phone")) == ["A1", "A4"]


def test_suppression_list(store, ds):
    list_id = A.save_suppression(store, "bounces", A.suppression_values(pd.DataFrame({"Email": [" ANA@x.fr", "a6"]})))
    spec = AudienceSpec(channel="email", suppression=list_id)
    assert ids(store, spec) == ["A2"]                         # "a6" is no e-mail, but A6's record id
    list_id = A.save_suppression(store, "ids", ["a6", "A2"])
    assert ids(store, AudienceSpec(channel="email", suppression=list_id)) == ["A1"]
    assert A.count(store, AudienceSpec(channel="email", suppression=list_id)).excluded_suppressed == 2
    with pytest.raises(DataError, match="holds no e-mail"):
        A.save_suppression(store, "empty", ["", " "])


def test_holdout_is_reproducible(store):
    rows = "".join(f"C{i};n{i}@x.fr;oui\n" for i in range(400))
    ds = import_file(store, ("id;email;consent\n" + rows).encode(), "big.csv")
    spec = AudienceSpec(dataset=ds.name, holdout=0.25, seed=7)
    first = A.select(store, spec)
    assert 70 <= first["holdout"].sum() <= 130
    assert first.equals(A.select(store, spec))
    other = A.select(store, AudienceSpec(dataset=ds.name, holdout=0.25, seed=8))
    assert not first["holdout"].equals(other["holdout"])
    assert A.count(store, spec).holdout == first["holdout"].sum()


def test_segments_by_name_minimal_columns_and_safe_files(store, ds, tmp_path):
    run = segments.run_segments(store, ds.name, FeatureSettings(numeric=("Valeur contrat",), log=()), k=2)
    segments.rename_segment(store, run.name, 0, "Small")
    spec = AudienceSpec(segments=(0,), channel=None)
    assert A.default_columns(store, spec) == ["id", "Prénom", "Nom", "segment_name"]
    assert A.personal_columns(store, spec, ["id", "Prénom", "E-mail", "Région"]) == ["Prénom", "E-mail"]
    frame = A.select(store, AudienceSpec(channel=None, columns=("id", "Prénom", "E-mail", "segment_name")))
    assert set(frame.loc[frame["segment_name"] == "Small", "id"]) == set(ids(store, spec))

    spec = AudienceSpec(channel=None, columns=("id", "Prénom", "E-mail"))
    out = tmp_path / "list.xlsx"
    result = A.export(store, spec, out, audience="All")
    assert result.rows == 6 and result.columns == ["id", "Prénom", "E-mail"]
    assert result.to_dict() == {"rows": 6, "excluded_no_consent": 0, "holdout_rows": 0, "out": str(out),
                                "columns": ["id", "Prénom", "E-mail"]}
    cells = [c for row in openpyxl.load_workbook(out).active.iter_rows() for c in row]
    assert not [c.value for c in cells if c.data_type == "f"]            # no cell holds a formula
    assert "'=1+1" in [c.value for c in cells]
    csv = A.render(store, spec, "csv-excel", audience="All")
    assert csv.startswith(b"\xef\xbb\xbf") and b"'=1+1" in csv and b";" in csv.splitlines()[0]
    assert b"\n=" not in csv and b";=" not in csv and b"'=a@x.fr" in csv
    log = A.export_log(store)
    assert log["rows"].tolist() == [6, 6] and set(log["audience"]) == {"All"}


def test_saved_audiences_and_overlap(store, ds):
    idf = AudienceSpec(channel=None, groups=((Condition("Région", "eq", "Île-de-France"),),))
    rich = AudienceSpec(channel=None, groups=((Condition("Valeur contrat", "ge", 14000),),))
    A.save_audience(store, "IDF", idf)
    A.save_audience(store, "Rich", rich)
    assert A.get_audience(store, "idf") == idf
    assert A.overlap(store, ["IDF", "Rich"]).to_dict() == {"IDF": {"IDF": 3, "Rich": 2}, "Rich": {"IDF": 2, "Rich": 3}}
    with pytest.raises(NotFoundError, match="No saved audience named 'nope'"):
        A.get_audience(store, "nope")
    with pytest.raises(ColumnError, match=r"Missing columns \['Nowhere'\]"):
        A.save_audience(store, "Bad", AudienceSpec(groups=((Condition("Nowhere", "eq", "x"),),)))


@pytest.mark.parametrize(("text", "cond"), [
    ("Région=Île-de-France", Condition("Région", "eq", "Île-de-France")),
    ('"Valeur contrat">=10000', Condition("Valeur contrat", "ge", "10000")),
    ("Région!=Bretagne|Normandie", Condition("Région", "not_in", ["Bretagne", "Normandie"])),
    ("Secteur=Santé|Industrie", Condition("Secteur", "in", ["Santé", "Industrie"])),
    ("Nom~dup", Condition("Nom", "contains", "dup")),
])
def test_cli_filters(text, cond):
    assert A.parse_filter(text) == cond


def test_counts_follow_merges_and_undo(store, ds):
    everyone = AudienceSpec(channel=None)
    assert A.count(store, everyone).final == 6
    dedupe.merge(store, ds.name, pairs=[(1, 3)])                      # A1 and A3: one customer
    assert A.count(store, everyone).final == 5
    merged = set(ids(store, everyone)) - {"A2", "A4", "A5", "A6"}
    assert len(merged) == 1 and merged <= {"A1", "A3"}                # one golden record for the two
    dedupe.save_survivorship(store, {"Valeur contrat": "sum"}, ds.name)     # new rules: the golden rows change
    total = A.select(store, AudienceSpec(channel=None, columns=("id", "Valeur contrat")))
    assert total.loc[total["id"] == "A1", "Valeur contrat"].item() == 35000
    dedupe.unmerge(store, ds.name, everything=True)
    assert A.count(store, everyone).final == 6


def test_consent_sql_reads_booleans_and_yes_no_words(store):
    words = ["oui", "NON", "1.0", "0", "x", "opt-out", "unsubscribed", "", None, "maybe"]
    text = store.query_rows(f"SELECT {A._yes_no('c')}, {A._yes_no('c', opt_out=True)} FROM "
                            "(SELECT unnest(?::VARCHAR[]) AS c, generate_subscripts(?::VARCHAR[], 1) AS i) "
                            "ORDER BY i", [words, words])
    assert text == [(True, True), (False, False), (True, True), (False, False), (True, True), (False, True),
                    (False, True), (None, None), (None, None), (None, None)]
    typed = store.query_rows(f"SELECT {A._yes_no('c')} FROM (SELECT unnest([true, false, NULL]) AS c)")
    assert typed == [(True,), (False,), (None,)]

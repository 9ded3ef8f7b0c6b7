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
    assert first["holdout"].sum() == 100                      # the requested share, exactly
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


def test_every_email_and_phone_of_a_customer_can_be_picked(store, ds):
    dedupe.merge(store, ds.name, pairs=[(1, 3)])                      # A1 and A3: one customer, two e-mails
    columns = ("id", "E-mail", "E-mail 2", "E-mail 3", "E-mail (all)", "Téléphone 2")
    assert set(A.contact_columns(ds)) == {"E-mail (all)", "E-mail 2", "E-mail 3", "Téléphone (all)",
                                          "Téléphone 2", "Téléphone 3"}
    frame = A.select(store, AudienceSpec(dataset=ds.name, channel=None, columns=columns))
    first = frame.iloc[0].tolist()
    assert first[:2] == ["A1", "ana@x.fr"]
    assert first[2] == "cy@x.fr" and pd.isna(first[3])
    assert first[4] == "ana@x.fr; cy@x.fr"
    assert first[5] == "+33633333333"
    assert frame["E-mail (all)"].fillna("-").tolist()[1:] == ["=a@x.fr", "-", "ed@x.fr", "fy@x.fr"]


def test_list_columns_without_merges_are_one_value(store, ds):
    frame = A.select(store, AudienceSpec(dataset=ds.name, channel=None, columns=("id", "E-mail 2", "E-mail (all)")))
    assert frame["E-mail (all)"].fillna("-").tolist() == ["ana@x.fr", "=a@x.fr", "cy@x.fr", "-", "ed@x.fr", "fy@x.fr"]
    assert frame["E-mail 2"].isna().all()


@pytest.mark.parametrize(("customers", "share", "held"), [(265, 0.10, 27), (400, 0.25, 100), (7, 0.5, 4), (3, 0.1, 0)])
def test_contact_file_and_holdout_file_partition_the_audience(store, tmp_path, customers, share, held):
    rows = "".join(f"C{i:03d};n{i}@x.fr;oui\n" for i in range(customers))
    ds = import_file(store, ("id;email;consent\n" + rows).encode(), "big.csv")
    spec = AudienceSpec(dataset=ds.name, holdout=share, seed=3, columns=("id",))
    out, held_out = tmp_path / "contact.csv", tmp_path / "control.csv"
    result = A.export(store, spec, out, holdout_out=held_out)
    contact = pd.read_csv(out, dtype=str)["id"].tolist()
    control = pd.read_csv(held_out, dtype=str)["id"].tolist()
    assert list(pd.read_csv(out, dtype=str).columns) == ["id"]             # no holdout flag in the contact file
    assert len(control) == held == result.holdout_rows == A.count(store, spec).holdout
    assert len(contact) == customers - held == result.rows == A.count(store, spec).contacts
    assert sorted(contact + control) == [f"C{i:03d}" for i in range(customers)] and not set(contact) & set(control)
    again = A.select(store, spec, part="holdout")["id"].tolist()
    assert again == control                                                    # the same seed, the same customers
    assert A.render(store, spec, "csv", part="holdout").decode().splitlines() == ["id", *control]


def test_category_conditions_fold_case_accents_and_spaces(store):
    rows = "".join(f"C{i};Île-de-France\n" for i in range(3)) + "C9;Bretagne\n"
    ds = import_file(store, ("id;Région\n" + rows).encode(), "regions.csv",
                     ImportSettings(roles={"Région": "category"}))
    counts = {spelling: A.count(store, anyone((Condition("Région", "eq", spelling),))).final
              for spelling in ("ile de france", "Ile-de-France", "ILE DE FRANCE", "Île-de-France")}
    assert counts == dict.fromkeys(counts, 3)
    assert A.count(store, anyone((Condition("Région", "in", ["ile-de-france", "BRETAGNE"]),))).final == 4
    picker = A.category_values(store, ds, "Région")
    assert picker.values.tolist() == [["Île-de-France", 3], ["Bretagne", 1]]
    assert A.category_values(store, ds, "Région", search="ILE de").values.tolist() == [["Île-de-France", 3]]


def test_a_condition_on_a_column_the_dataset_lacks_does_not_apply(store, ds):
    assert A.applies(ds, Condition("Région", "eq", "Bretagne"))
    assert not A.applies(ds, Condition("Secteur", "eq", "Retail"))
    assert A.applies(ds, Condition("segment_name", "eq", "x"))


def test_consent_choice_for_a_dataset_without_consent_column(store, tmp_path):
    ds = import_file(store, b"id;email\nN1;a@x.fr\nN2;b@x.fr\n", "noconsent.csv")
    spec = AudienceSpec(dataset=ds.name, columns=("id",))
    figures = A.count(store, spec)
    assert not figures.consent_column and figures.final == 2                # counting needs no choice
    with pytest.raises(A.SettingError, match="has no consent or opt-out column"):
        A.export(store, spec, tmp_path / "x.csv")
    with pytest.raises(A.SettingError, match="has no consent or opt-out column"):
        A.render(store, spec, "csv")
    assert not (tmp_path / "x.csv").exists()
    excluded = A.export(store, AudienceSpec(dataset=ds.name, columns=("id",), no_consent_column="exclude"),
                        tmp_path / "x.csv")
    kept = A.render(store, AudienceSpec(dataset=ds.name, columns=("id",), no_consent_column="treat-as-consenting"),
                    "csv")
    assert excluded.rows == 0 and kept.decode().splitlines() == ["id", "N1", "N2"]
    assert A.export_log(store)["consent"].tolist() == ["no consent column: treated as consenting",
                                                       "no consent column: everyone excluded"]


def test_saved_audiences_sizes_duplicate_and_delete(store, ds):
    A.save_audience(store, "IDF", AudienceSpec(channel=None, groups=((Condition("Région", "eq", "idf"),),)))
    A.save_audience(store, "Bretagne", AudienceSpec(channel=None, groups=((Condition("Région", "eq", "bretagne"),),)))
    assert A.duplicate_audience(store, "bretagne", "Bretagne (copy)") == "Bretagne (copy)"
    with pytest.raises(A.SettingError, match="a name no saved audience has"):
        A.duplicate_audience(store, "IDF", "bretagne")
    sized = A.saved_with_sizes(store, ds.name)
    assert sized[["name", "customers", "status"]].astype(object).values.tolist() == [
        ["Bretagne", 2, "ok"], ["Bretagne (copy)", 2, "ok"], ["IDF", 0, "ok"]]
    A.delete_audience(store, "bretagne")
    assert A.saved_with_sizes(store, ds.name)["name"].tolist() == ["Bretagne (copy)", "IDF"]
    with pytest.raises(NotFoundError, match="No saved audience named 'Bretagne'"):
        A.delete_audience(store, "Bretagne")


def test_changes_since_the_last_export_and_parquet(store, ds, tmp_path):
    bretagne = AudienceSpec(channel=None, columns=("id", "E-mail"), groups=((Condition("Région", "eq", "bretagne"),),))
    A.save_audience(store, "B", bretagne)
    changes = tmp_path / "changes"
    changes.mkdir()
    first = A.export(store, bretagne, tmp_path / "b.csv", audience="B", changes_out=changes)
    assert first.changes == {"added": {"out": str(changes / "B added.csv"), "rows": 2},
                             "removed": {"out": str(changes / "B removed.csv"), "rows": 0}}
    wider = AudienceSpec(channel=None, columns=("id", "E-mail"),
                         groups=((Condition("Région", "in", ["normandie", "ile de france"]),),))
    A.save_audience(store, "B", wider)                                   # the audience changed since
    result = A.export(store, wider, tmp_path / "b.parquet", audience="B", changes_out=changes)
    added = pd.read_parquet(changes / "B added.parquet")
    removed = pd.read_parquet(changes / "B removed.parquet")
    assert added["id"].tolist() == ["A1", "A3", "A4", "A5"] and removed["id"].tolist() == ["A2", "A6"]
    assert removed["E-mail"].tolist() == ["=a@x.fr", "fy@x.fr"]          # Parquet: values as they are
    assert result.rows == 4 and pd.read_parquet(tmp_path / "b.parquet")["id"].tolist() == ["A1", "A3", "A4", "A5"]
    with pytest.raises(A.SettingError, match="an export of a saved audience"):
        A.export(store, wider, tmp_path / "c.csv", changes_out=changes)


# ---------------------------------------------------------------- issue 21: a change reads only what it changes

def _figures(store, spec) -> dict:
    return A.with_holdout(A.count(store, A.counting_spec(spec)), spec).to_dict()


def test_figures_counted_without_holdout_and_columns_are_the_specs(store, ds):
    run = segments.run_segments(store, ds.name, FeatureSettings(numeric=("Valeur contrat",), log=()), k=2)
    specs = [AudienceSpec(), AudienceSpec(holdout=0.5, seed=3, columns=("id",)),
             AudienceSpec(run=run.name, segments=(1,), holdout=0.2),
             AudienceSpec(run=run.name, groups=((Condition("segment_name", "not_empty"),),), holdout=0.34),
             AudienceSpec(groups=((Condition("Région", "eq", "Bretagne"),), (Condition("Valeur contrat", "ge", 1),)),
                          include_no_consent=True, holdout=0.5, seed=9)]
    for spec in specs:
        assert _figures(store, spec) == A.count(store, spec).to_dict(), spec
    assert A.counting_spec(specs[1]) == A.counting_spec(AudienceSpec(holdout=0.1, seed=8))  # one count, any share
    assert A.count(store, specs[2]).in_segments == int((segments.members_of(store, run)["segment"] == 1).sum())


@pytest.mark.parametrize(("customers", "share", "seed"), [(400, 0.25, 7), (265, 0.1, 3), (57, 0.5, 0), (3, 0.1, 1)])
def test_preview_flags_from_draw_places_equal_the_window(store, customers, share, seed):
    rows = "".join(f"C{i:03d};n{i}@x.fr;{'non' if i % 7 == 0 else 'oui'}\n" for i in range(customers))
    ds = import_file(store, ("id;email;consent\n" + rows).encode(), "big.csv")
    spec = AudienceSpec(dataset=ds.name, holdout=share, seed=seed, columns=("id", "email"))
    figures = A.with_holdout(A.count(store, A.counting_spec(spec)), spec)
    for limit in (20, customers):
        preview = A.select(store, AudienceSpec(**{**spec.__dict__, "holdout": 0.0, "seed": 0}), limit)
        assert "holdout" not in preview
        places = A.draw_places(store, AudienceSpec(**{**A.counting_spec(spec).__dict__, "seed": seed}), limit)
        shown = A.held_out(preview, places, spec, figures)
        expected = A.select(store, spec, limit)
        assert shown.equals(expected)                                  # the same rows and the same flags
        assert list(shown.columns) == ["id", "email", "holdout"]
    assert int(shown["holdout"].sum()) == figures.holdout == A.holdout_size(spec, figures.final)
    other = AudienceSpec(**{**A.counting_spec(spec).__dict__, "seed": seed, "holdout": 0.4})
    assert A.draw_places(store, other, 20) == A.draw_places(store, AudienceSpec(
        **{**A.counting_spec(spec).__dict__, "seed": seed}), 20)       # the share does not move a place
    assert A.held_out(preview, places, AudienceSpec(**{**spec.__dict__, "holdout": 0.0}), figures) is preview


def test_a_rename_and_a_new_run_show_in_counts_and_previews(store, ds):
    run = segments.run_segments(store, ds.name, FeatureSettings(numeric=("Valeur contrat",), log=()), k=2,
                                name="Q1")
    spec = AudienceSpec(run="Q1", segments=(0,), channel=None, columns=("id", "segment", "segment_name"))
    segments.rename_segment(store, run.name, 0, "Champions")
    shown = A.select(store, spec)
    assert set(shown["segment_name"]) == {"Champions"} and set(shown["segment"]) == {0}
    named = AudienceSpec(run="Q1", channel=None, groups=((Condition("segment_name", "eq", "Champions"),),))
    assert A.count(store, named).matching == len(shown) == A.count(store, spec).final
    everyone = A.count(store, AudienceSpec(run="Q1", channel=None))
    assert everyone.in_segments == everyone.final == len(ROWS)       # no segment chosen: every customer
    every = AudienceSpec(run="Q1", channel="email", columns=("id", "segment", "segment_name", "Région"))
    whole = A.select(store, every)                                   # its segments joined after picking the rows
    assert A.select(store, every, 3).equals(whole.head(3)) and whole["segment_name"].notna().all()
    assert "Champions" in set(whole["segment_name"]) and len(whole) == A.count(store, every).final
    second = segments.run_segments(store, ds.name, FeatureSettings(numeric=("Valeur contrat",), log=()), k=3,
                                   name="Q2")
    by_segment = [A.count(store, AudienceSpec(run="Q2", segments=(k,), channel=None)).final for k in range(3)]
    assert sum(by_segment) == len(ROWS) and second.k == 3

"""Why a pair waits for review, in words (segmentation/dedupe/reasons.py): small inline pairs, exact texts."""

from __future__ import annotations

from segmentation.dedupe import reasons as why
from segmentation.dedupe.comparisons import (
    CompanyComparison,
    DateComparison,
    EmailComparison,
    NameComparison,
    PhoneComparison,
    PostcodeComparison,
)

NAME = NameComparison(["first", "last"])
BIRTH = DateComparison("birth_date", ["born"])
EMAIL = EmailComparison(["email"])
PHONE = PhoneComparison(["phone"])
COMPANY = CompanyComparison(["company"])
POSTCODE = PostcodeComparison(["zip"])
TOP = {c.name: c.n_levels - 1 for c in (NAME, BIRTH, EMAIL, PHONE, COMPANY, POSTCODE)}


def texts(items, language="en"):
    return [m.render(language) for m in items]


def found(comparisons, levels, left, right, shared=None):
    return why.evidence(comparisons, levels, left, right, shared)


def test_same_name_birth_dates_three_years_apart():
    left = {"first": "Jean", "last": "Dupont", "born": "1980-02-01"}
    right = {"first": "Jean", "last": "Dupont", "born": "1983-01-15"}
    ev = found([NAME, BIRTH], {NAME.name: TOP[NAME.name], "born": 0}, left, right)
    assert [(e.kind, e.result.render("en")) for e in ev] == [("same", "same"), ("different", "3 years apart")]
    items = why.reasons(ev)
    assert texts(items) == ["same name", "birth dates 3 years apart"]
    assert why.sentence(items).render("en") == "same name, birth dates 3 years apart"
    assert why.sentence(items).render("fr") == "même nom, dates de naissance à 3 ans d'écart"


def test_an_email_present_on_both_sides_is_never_called_missing():
    left, right = {"email": "jean.dupont@acme.fr"}, {"email": "jd@gmail.com"}
    for level in (-1, -2):  # whatever the comparison said, both sides have an e-mail
        (e,) = found([EMAIL], {"email": level}, left, right)
        assert (e.kind, e.result.render("en"), e.reason.render("en")) == \
            ("not compared", "different, not counted", "e-mails differ (not counted)")
    (e,) = found([EMAIL], {"email": 0}, left, right)
    assert (e.kind, e.result.render("en"), e.reason.render("en")) == ("different", "different", "e-mails differ")
    (e,) = found([EMAIL], {"email": -1}, left, {"email": None})
    assert (e.kind, e.result.render("en"), e.reason.render("en")) == \
        ("missing", "no value on one side", "no e-mail on one side")
    (e,) = found([EMAIL], {"email": -1}, {"email": ""}, {"email": float("nan")})
    assert (e.kind, e.result.render("en"), e.reason) == ("missing", "no value on either side", None)


def test_a_phone_shared_by_many_records_is_named_as_weak_evidence():
    left = {"first": "Jean", "last": "Dupont", "phone": "+33123456789", "company": "ACME"}
    right = {"first": "Marie", "last": "Durand", "phone": "+33123456789", "company": "ACME"}
    levels = {NAME.name: 0, "phone": TOP["phone"], "company": TOP["company"]}
    wanted = why.shared_values([NAME, PHONE, COMPANY], levels, left, right)
    assert wanted == {"phone": {"phone": "+33123456789"}, "company": {"company": "ACME"}}
    ev = found([NAME, PHONE, COMPANY], levels, left, right, {"phone": 12, "company": 2})
    assert texts(why.reasons(ev)) == ["same company", "phone shared by 12 records", "names differ"]
    assert texts(why.reasons(ev), "fr") == ["même société", "téléphone partagé par 12 fiches", "noms différents"]
    assert [e.result.render("fr") for e in ev] == ["différents", "identiques, partagés par 12 fiches", "identiques"]
    big = found([PHONE], {"phone": TOP["phone"]}, left, right, {"phone": 5480})
    assert texts(why.reasons(big), "fr") == ["téléphone partagé par 5\u202f480 fiches"]
    assert texts(why.reasons(big), "en") == ["phone shared by 5,480 records"]


def test_a_link_between_two_parts_of_a_chain_says_so_first():
    left, right = {"email": "a@x.fr", "zip": "75001"}, {"email": "a@x.fr", "zip": "13001"}
    ev = found([EMAIL, POSTCODE], {"email": TOP["email"], "zip": 0}, left, right)
    assert texts(why.reasons(ev, in_chain=True)) == [
        "links two groups that other comparisons keep apart", "same e-mail", "postcodes differ"]


def test_levels_are_read_by_kind_even_without_level_kinds():
    class Plain:  # a comparison that only says how many levels it has
        name, roles, columns, unless, n_levels = "code", ("exact",), ("code",), (), 3

        def level_names(self):
            return {2: "same", 1: "near", 0: "different", -1: "missing", -2: "not compared"}

    comparison = Plain()
    assert [why.level_kind(comparison, lv) for lv in (2, 1, 0, -1, -2)] == \
        ["same", "close", "different", "missing", "not compared"]
    (e,) = found([comparison], {"code": 0}, {"code": "X1"}, {"code": "X2"})
    assert (e.kind, e.reason.render("en"), e.reason.render("fr")) == \
        ("different", "code differs", "code : valeurs différentes")


def test_gaps_in_words_and_nothing_to_say():
    assert [why.gap_words(d).render("en") for d in (1, 12, 75, 400, 1100)] == \
        ["a day", "12 days", "2 months", "a year", "3 years"]
    assert [why.gap_words(d).render("fr") for d in (1, 12, 75, 400, 1100)] == \
        ["un jour", "12 jours", "2 mois", "un an", "3 ans"]
    assert texts(why.reasons([])) == ["little to compare"]
    assert why.sentence([]).render("fr") == "peu d'éléments à comparer"

"""Field comparisons: exact levels for small inline values."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation.dedupe.comparisons import (
    CompanyComparison,
    DateComparison,
    EmailComparison,
    ExactComparison,
    JaroWinklerComparison,
    NameComparison,
    PhoneComparison,
    PostcodeComparison,
    TokenSetComparison,
    company_key,
    default_comparisons,
    fold_text,
    name_similarity,
)


def names(*pairs):
    return pd.DataFrame(list(pairs), columns=["first_name", "last_name"])


def test_fold_text_and_company_key():
    assert fold_text(pd.Series(["Jean-Pierre D'ÉTÉ", "Œnologie  Ça"])).tolist() == ["jean pierre d ete", "oenologie ca"]
    keys = company_key(pd.Series(["Dupuis Conseil SAS", "DUPUIS CONSEIL S.A.S.", "Sté Dupuis Conseil", "Conseil Dupuis",
                                  "Acme GmbH", "Acme Ltd.", "Société Générale"]))
    assert keys.tolist() == ["conseil dupuis"] * 4 + ["acme", "acme", "generale"]


def test_name_levels():
    left = names(("Hélène", "Lefèvre"), ("Hélène", "Lefèvre"), ("Hélène", "Lefèvre"), ("Isabelle", "Bousquet"),
                 ("Pierre", "Martin"), ("Marie", "Martin"), ("Christophe", "Dupont"), ("Jean", "Durand"),
                 ("Jean", None), ("Zoé", "Boyer"), ("Nathalie", "Simon"))
    right = names(("HELENE", "LEFEVRE"), ("Lefèvre", "Hélène"), ("LEFEVRE", "Heleen"), ("Isbaelle", "Bousquet"),
                  ("Sophie", "Martin"), ("Marie", "Roux"), ("Christine", "Dupond"), ("Paul", "Roux"),
                  ("Jean", "Durand"), ("Zéo", "Boyer"), ("Nathalie", "Simon"))
    #  exact after folding, swapped, swapped with a typo, typo, relatives, same first name only,
    #  both close, different, missing, a transposition in a short name, exact
    assert NameComparison().levels(left, right).tolist() == [5, 5, 4, 4, 2, 1, 3, 0, -1, 4, 5]


def test_name_similarity_raises_one_slip_on_short_names():
    score = name_similarity(pd.Series(["zoe", "gay", "lea"], dtype=object).to_numpy(),
                            pd.Series(["zeo", "gy", "lea"], dtype=object).to_numpy())
    assert score.tolist() == pytest.approx([0.92, 0.80, 1.0])


def test_last_name_only_when_a_first_name_is_missing():
    comp = JaroWinklerComparison("last_name", unless=["first_name"])
    left = names((None, "Martin"), ("Jean", "Martin"), (None, "Martin"), (None, "Martin"))
    right = names(("Jean", "MARTIN"), ("Jean", "Martin"), (None, "Martine"), (None, "Durand"))
    assert comp.levels(left, right).tolist() == [3, -2, 2, 0]  # -2: both first names there, not compared here
    assert comp.label == "Last name: Jaro-Winkler (if no first name)"


def test_company_levels_strip_legal_forms():
    comp = CompanyComparison()
    left = ["Dupuis Conseil SAS", "Sté Dupuis Conseil", "Boulangerie Martin", "Boulangerie Martin & Fils", "Acme", None]
    right = ["DUPUIS CONSEIL S.A.S.", "Dupuis Conseil SARL", "Boulangerie Martinez", "Martin Boulangerie",
             "Transports Durand", "Acme"]
    assert comp.levels(left, right).tolist() == [3, 3, 2, 2, 0, -1]
    assert comp.label == "Company: token-set ratio"


def test_email_levels():
    comp = EmailComparison()
    left = ["Marie.Dupont@acme.fr", "marie.dupont@acme.fr", "mdupont@acme.fr", "m.dupont42@gmail.com",
            "contact@acme.fr", "jean@acme.fr", None]
    right = ["marie.dupont@acme.fr ", "marie.dupont@gmail.com", "m.dupont@orange.fr", "mdupont@free.fr",
             "contact@acme.fr", "paul@acme.fr", "jean@acme.fr"]
    # same address, same local part, near local parts (separators, digits), role mailbox (not compared),
    # different, missing
    assert comp.levels(left, right).tolist() == [3, 2, 1, 1, -2, 0, -1]


def test_email_local_parts_made_of_the_names_say_nothing_more():
    comp = EmailComparison(["email", "first_name", "last_name"])
    left = pd.DataFrame({"email": ["marie.martin@acme.fr", "marie.martin@acme.fr", "lulu75@acme.fr"],
                         "first_name": ["Marie"] * 3, "last_name": ["Martin"] * 3})
    right = pd.DataFrame({"email": ["marie.martin@gmail.com", "marie.martin@acme.fr", "lulu75@gmail.com"],
                          "first_name": ["Marie"] * 3, "last_name": ["Martin"] * 3})
    assert comp.levels(left, right).tolist() == [-2, 3, 2]


def test_phone_levels():
    left = ["+33123456789", "+33123456789", "+33123456789", "+33123456789", None]
    right = ["+33123456789", "0123456789", "+33123456788", "+33698765432", "+33123456789"]
    assert PhoneComparison().levels(left, right).tolist() == [3, 2, 1, 0, -1]


def test_postcode_city_and_region_levels():
    assert PostcodeComparison().levels(["75001", "75001", "75001", "2A004"],
                                       ["75 001", "75008", "69001", None]).tolist() == [2, 1, 0, -1]
    assert JaroWinklerComparison("city").levels(["Saint-Étienne", "Marseille", "Paris"],
                                                ["SAINT ETIENNE", "Marseile", "Lyon"]).tolist() == [2, 1, 0]
    # With postcodes, the city counts only where they differ (one fact is not counted twice).
    city = JaroWinklerComparison("city", ["city", "postcode"], ["postcode"])
    city.gate = "same"
    left = pd.DataFrame({"city": ["Paris", "Paris", "Paris"], "postcode": ["75001", "75002", None]})
    right = pd.DataFrame({"city": ["Paris", "Paris", "Lyon"], "postcode": ["75001", "75001", "69001"]})
    assert city.levels(left, right).tolist() == [-2, 2, 0]
    assert ExactComparison("region").levels(["Île-de-France", "Bretagne", None],
                                            ["ILE DE FRANCE", "Normandie", "Bretagne"]).tolist() == [1, 0, -1]


def test_date_levels():
    left = pd.to_datetime(["2024-01-10", "2024-01-10", "2024-01-10", "2024-01-10", None])
    right = pd.to_datetime(["2024-01-10", "2024-01-31", "2024-08-01", "2020-01-10", "2024-01-10"])
    assert DateComparison("created_date").levels(left, right).tolist() == [3, 2, 1, 0, -1]
    # A birth date typed with one digit wrong is very close, even years apart.
    births = DateComparison("birth_date").levels(pd.to_datetime(["1956-04-09", "1956-04-09"]),
                                                 pd.to_datetime(["1965-04-09", "1966-05-09"]))
    assert births.tolist() == [3, 0]


def test_token_set_and_exact_identifier():
    address = TokenSetComparison("address")
    levels = address.levels(["12 rue de la Paix", "12 rue de la Paix", "3 avenue Foch"],
                            ["Rue de la paix 12", "12 rue de la Paix bat B", "8 boulevard Victor Hugo"])
    assert levels.tolist() == [3, 2, 0]
    ident = ExactComparison("exact")
    assert ident.levels(["1804974", "1804974", "1804974", "1804974", "1234", None],
                        ["1804974", "1804975", "1809474", "1800000", "1243", "1"]).tolist() == [2, 1, 1, 0, 0, -1]
    assert ident.tf and not ExactComparison("region").tf


def test_default_comparisons_follow_the_roles():
    roles = {"ID": "id", "Prénom": "first_name", "Nom": "last_name", "Société": "company", "E-mail": "email",
             "Tél": "phone", "CP": "postcode", "Ville": "city", "Région": "region", "Créé": "created_date",
             "CA": "measure", "Secteur": "category"}
    found = default_comparisons(roles)
    assert [c.name for c in found] == ["Prénom + Nom", "Nom", "Prénom", "Société", "E-mail", "Tél", "CP", "Ville",
                                       "Région", "Créé"]
    assert [c.label for c in found][:2] == ["Name: Jaro-Winkler, either order",
                                            "Last name: Jaro-Winkler (if no first name)"]
    assert found[4].columns == ("E-mail", "Prénom", "Nom")
    assert found[7].unless == ("postcode",) and found[8].unless == ("postcode", "city")
    assert all(set(c.level_names()) == set(range(-2, c.n_levels)) for c in found)
    assert all(len(c.m_prior) == len(c.u_prior) == len(c.c_prior) == c.n_levels for c in found)
    assert default_comparisons({"CA": "measure"}) == []

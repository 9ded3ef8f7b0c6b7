"""Column role guessing from headers (French and English) and from values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.core.errors import ColumnError
from segmentation.ingest.roles import ROLE_KIND, ROLES, SINGLE_ROLES, guess_roles, header_role, validate_roles

N = 300
_FIRST = ["Nathalie", "Aurélie", "Sandrine", "Mickaël", "Raphaël", "Jean-Luc", "Anne", "Zoë", "Hélène", "Marc",
          "Julie", "Thomas", "Camille", "Léa", "Hugo", "Chloé", "Lucas", "Inès", "Nicolas", "Manon"]
_LAST = ["Morel", "Rousset", "Delaunay", "Adam", "Étienne", "Perrin", "David", "Faure", "Lefèvre", "Bonnet",
         "Girard", "Mercier", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrot", "Mathieu"]
_CITY = ["Toulouse", "Nancy", "Bordeaux", "Versailles", "Lyon", "Orléans", "Cannes", "Paris", "Lille", "Nantes"]


def _values(kind: str, rng: np.random.Generator, n: int = N) -> list[str | None]:
    """Realistic raw CRM strings of one kind, with a few blanks."""
    i = np.arange(n)
    first, last = rng.choice(_FIRST, n), rng.choice(_LAST, n)
    days = pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 3000, n), unit="D")
    make = {
        "code": lambda: [f"C{k:06d}" for k in rng.permutation(n) + 1000],
        "number_id": lambda: [str(k) for k in rng.permutation(n) + 50_000],
        "first": lambda: list(first),
        "last": lambda: [str(x).upper() if k % 7 == 0 else str(x) for k, x in zip(i, last, strict=True)],
        "full": lambda: [f"{f} {la}" for f, la in zip(first, last, strict=True)],
        "email": lambda: [f"{str(f).lower()}.{str(la).lower()}{k}@example.fr" for k, f, la
                          in zip(i, first, last, strict=True)],
        "phone_fr": lambda: [f"0{rng.integers(1, 8)} {rng.integers(10, 99)} {rng.integers(10, 99)} "
                             f"{rng.integers(10, 99)} {rng.integers(10, 99)}" if k % 3 else
                             f"0{rng.integers(600000000, 799999999)}" for k in i],
        # Excel turned the number into an integer and dropped the leading zero.
        "phone_number": lambda: [str(rng.integers(100000000, 799999999)) for _ in i],
        "phone_us": lambda: [f"+1 ({rng.integers(200, 999)}) {rng.integers(200, 999)}-{rng.integers(1000, 9999)}"
                             for _ in i],
        "company": lambda: [f"{la} {s}" for la, s in zip(rng.choice(_LAST, n),
                                                          rng.choice(["SA", "SAS", "SARL", "Frères", "& Fils"], n),
                                                          strict=True)],
        "sector": lambda: list(rng.choice(["Services", "Tech", "Santé", "Commerce", "Transport"], n)),
        "size": lambda: list(rng.choice(["TPE", "PME", "ETI", "GE"], n)),
        "region_fr": lambda: list(rng.choice(["Occitanie", "Grand Est", "Île-de-France", "NOUVELLE-AQUITAINE",
                                              "Auvergne-Rhône-Alpes"], n)),
        "city": lambda: list(rng.choice(_CITY, n)),
        "postcode_fr": lambda: list(rng.choice(["31000", "54000", "33000", "78000", "69004", "01000", "06400"], n)),
        "date_fr": lambda: list(days.strftime("%d/%m/%Y")),
        "date_iso": lambda: list(days.strftime("%Y-%m-%d %H:%M")),
        "date_us": lambda: list(days.strftime("%m/%d/%Y")),
        "decimal_fr": lambda: [f"{x:.1f}".replace(".", ",") for x in rng.gamma(2, 4, n)],
        "count": lambda: [str(x) for x in rng.poisson(3, n)],
        "amount_fr": lambda: [f"{x:,.2f}".replace(",", "\u00a0").replace(".", ",") + " €"
                              for x in rng.gamma(2, 5000, n)],
        "amount_k": lambda: [f"{x:.1f}k€" for x in rng.gamma(2, 10, n)],
        "maturity": lambda: list(rng.choice(["Faible", " faible ", "Moyenne", "MOYENNE", "Élevée"], n)),
        "oui_non": lambda: list(rng.choice(["oui", "non", "Oui", "NON"], n)),
        "bool_01": lambda: list(rng.choice(["0", "1"], n)),
        "true_false": lambda: list(rng.choice(["true", "false"], n)),
        "opt_words": lambda: list(rng.choice(["opt-in", "opt-out"], n)),
        "stage": lambda: list(rng.choice(["lead", "subscriber", "customer", "opportunity"], n)),
        "rating": lambda: [str(x) for x in rng.integers(1, 6, n)],
        "country": lambda: list(rng.choice(["FR", "BE", "CH"], n)),
        "notes": lambda: [f"Appel le {k} : rappeler {f} après la démo" for k, f in zip(i, first, strict=True)],
    }
    values: list[str | None] = list(make[kind]())
    for k in rng.choice(n, n // 20, replace=False):  # some empty cells
        values[k] = None
    if kind in ("code", "number_id"):
        values = list(make[kind]())  # identifiers are complete
    return values


def _sample(spec: list[tuple[str, str, str]], seed: int = 0) -> tuple[list[str], pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({header: _values(kind, rng) for header, kind, _ in spec}, dtype=object)
    return [h for h, _, _ in spec], frame, {h: role for h, _, role in spec}


EXPORTS = {
    "french_excel": [
        ("ID client", "code", "id"),
        ("Société", "company", "company"),
        ("Secteur", "sector", "category"),
        ("Taille", "size", "category"),
        ("Région", "region_fr", "region"),
        ("Prénom", "first", "first_name"),
        ("Nom", "last", "last_name"),
        ("E-mail", "email", "email"),
        ("Téléphone", "phone_fr", "phone"),
        ("Code postal", "postcode_fr", "postcode"),
        ("Ville", "city", "city"),
        ("Date de création", "date_fr", "created_date"),
        ("Dernière activité", "date_fr", "last_activity_date"),
        ("Fréquence d'utilisation", "decimal_fr", "measure"),
        ("Tickets support", "count", "measure"),
        ("Maturité digitale", "maturity", "category"),
        ("Valeur contrat", "amount_fr", "measure"),
        ("Consentement", "oui_non", "consent"),
    ],
    "hubspot": [
        ("Record ID", "number_id", "id"),
        ("First Name", "first", "first_name"),
        ("Last Name", "last", "last_name"),
        ("Email", "email", "email"),
        ("Phone Number", "phone_us", "phone"),
        ("Company Name", "company", "company"),
        ("Create Date", "date_iso", "created_date"),
        ("Lifecycle Stage", "stage", "category"),
        ("Contact Owner", "full", "text"),
    ],
    "salesforce": [
        ("First Name", "first", "first_name"),
        ("Last Name", "last", "last_name"),
        ("Account Name", "company", "company"),
        ("Email", "email", "email"),
        ("Phone", "phone_us", "phone"),
        ("Mailing City", "city", "city"),
        ("Created Date", "date_us", "created_date"),
        ("Email Opt Out", "bool_01", "opt_out"),
    ],
    "mailchimp": [
        ("Email Address", "email", "email"),
        ("First Name", "first", "first_name"),
        ("Last Name", "last", "last_name"),
        ("MEMBER_RATING", "rating", "measure"),
        ("OPTIN_TIME", "date_iso", "date"),
        ("COUNTRY", "country", "country"),
        ("NOTES", "notes", "text"),
    ],
    "values_only": [
        ("col1", "code", "id"),
        ("col2", "full", "text"),
        ("col3", "email", "email"),
        ("col4", "phone_fr", "phone"),
        ("col5", "date_fr", "date"),
        ("col6", "amount_fr", "measure"),
        ("col7", "amount_k", "measure"),
        ("col8", "decimal_fr", "measure"),
        ("col9", "sector", "category"),
        ("col10", "postcode_fr", "postcode"),
        ("col11", "oui_non", "category"),      # yes/no without a header: no direction
        ("col12", "opt_words", "consent"),     # "opt-in"/"opt-out" carry their direction
        ("col13", "notes", "text"),
        ("col14", "date_iso", "date"),
    ],
    "mixed_headers": [
        ("Customer ID", "code", "id"),
        ("Nom complet", "full", "full_name"),
        ("Courriel", "email", "email"),
        ("Portable", "phone_fr", "phone"),
        ("Raison sociale", "company", "company"),
        ("CP", "postcode_fr", "postcode"),
        ("Pays", "country", "country"),
        ("Date de naissance", "date_fr", "birth_date"),
        ("Chiffre d'affaires", "amount_k", "measure"),
        ("Opt-in", "true_false", "consent"),
        ("Désabonné", "oui_non", "opt_out"),
        ("Industry", "sector", "category"),
    ],
}


@pytest.mark.parametrize("export", EXPORTS)
def test_guess_roles_on_typical_exports(export: str) -> None:
    columns, sample, expected = _sample(EXPORTS[export])
    assert guess_roles(columns, sample) == expected


def test_guess_roles_keeps_column_order_and_accepts_string_dtype() -> None:
    columns, sample, expected = _sample(EXPORTS["french_excel"])
    guessed = guess_roles(columns, sample.astype("string"))
    assert list(guessed) == columns
    assert guessed == expected


@pytest.mark.parametrize(("header", "role"), [
    ("Prénom", "first_name"), ("First Name", "first_name"), ("firstname", "first_name"),
    ("Nom", "last_name"), ("Last name", "last_name"), ("Nom de famille", "last_name"), ("LASTNAME", "last_name"),
    ("Nom complet", "full_name"), ("Full name", "full_name"), ("Contact", "full_name"),
    ("E-mail", "email"), ("Email Address", "email"), ("Courriel", "email"), ("Mail", "email"),
    ("Téléphone", "phone"), ("Tél.", "phone"), ("Phone Number", "phone"), ("Mobile", "phone"),
    ("Portable", "phone"),
    ("Société", "company"), ("Entreprise", "company"), ("Company", "company"), ("Company name", "company"),
    ("Raison sociale", "company"), ("Account Name", "company"), ("Nom du compte", "company"),
    ("Adresse", "address"), ("Street", "address"),
    ("Code postal", "postcode"), ("CP", "postcode"), ("Zip", "postcode"), ("Postal Code", "postcode"),
    ("Mailing Zip/Postal Code", "postcode"),
    ("Ville", "city"), ("City", "city"), ("Région", "region"), ("State/Region", "region"),
    ("Pays", "country"), ("Country", "country"),
    ("Date de création", "created_date"), ("Created Date", "created_date"), ("Create Date", "created_date"),
    ("createdAt", "created_date"),
    ("Dernière activité", "last_activity_date"), ("Last Activity Date", "last_activity_date"),
    ("Date de naissance", "birth_date"), ("Birthdate", "birth_date"), ("OPTIN_TIME", "date"),
    ("CA", "measure"), ("Chiffre d'affaires", "measure"), ("Montant", "measure"), ("Revenue", "measure"),
    ("Amount", "measure"), ("Valeur contrat", "measure"), ("Nombre de commandes", "measure"),
    ("Orders", "measure"), ("Tickets support", "measure"), ("Fréquence d'utilisation", "measure"),
    ("Secteur", "category"), ("Industry", "category"), ("Taille", "category"), ("Segment", "category"),
    ("Statut", "category"), ("Taille entreprise", "category"),
    ("Consentement", "consent"), ("Opt-in", "consent"),
    ("Email Opt Out", "opt_out"), ("Unsubscribed", "opt_out"), ("Désabonné", "opt_out"),
    ("HasOptedOutOfEmail", "opt_out"),
    ("ID client", "id"), ("Customer ID", "id"), ("CustomerID", "id"), ("Record ID", "id"), ("Id", "id"),
    ("Notes", "text"), ("OPTIN_IP", "text"),
    ("Contact Owner", None), ("col1", None), ("Maturité digitale", "category"),
])
def test_header_role(header: str, role: str | None) -> None:
    assert header_role(header) == role


def test_single_roles_go_to_one_column() -> None:
    columns, sample, _ = _sample([
        ("Email", "email", ""), ("Email 2", "email", ""), ("Date de création", "date_fr", ""),
        ("Created Date", "date_iso", ""), ("Company", "company", ""), ("Entreprise", "size", ""),
    ])
    assert guess_roles(columns, sample) == {
        "Email": "email", "Email 2": "text", "Date de création": "created_date", "Created Date": "date",
        "Company": "company", "Entreprise": "category",
    }


def test_named_column_beats_value_guess_for_single_roles() -> None:
    # "Contact" holds addresses, so values make it an email column, but the
    # column named "Email" keeps the role.
    columns, sample, _ = _sample([("Contact", "email", ""), ("Email", "email", "")])
    assert guess_roles(columns, sample) == {"Contact": "text", "Email": "email"}
    columns, sample, _ = _sample([("Contact", "email", ""), ("Prénom", "first", "")])
    assert guess_roles(columns, sample)["Contact"] == "email"


def test_values_contradicting_a_header_win() -> None:
    columns, sample, _ = _sample([
        ("Montant", "size", ""),          # a "measure" of words
        ("Consentement", "date_fr", ""),  # consent dates, not yes/no
        ("Ville", "phone_fr", ""),
    ])
    assert guess_roles(columns, sample) == {"Montant": "category", "Consentement": "date", "Ville": "phone"}


def test_header_wins_when_values_are_ambiguous() -> None:
    columns, sample, _ = _sample([("Nom", "code", ""), ("Région", "count", ""), ("Téléphone", "phone_number", "")])
    assert guess_roles(columns, sample) == {"Nom": "last_name", "Région": "region", "Téléphone": "phone"}


def test_unique_codes_are_an_id_only_in_first_column_or_when_named() -> None:
    columns, sample, _ = _sample([("col1", "full", ""), ("col2", "code", ""), ("Ref", "code", "")])
    assert guess_roles(columns, sample) == {"col1": "text", "col2": "text", "Ref": "id"}


def test_empty_columns_and_header_only() -> None:
    sample = pd.DataFrame({"Prénom": [None, None], "col2": [None, None], "Tickets": [None, None]}, dtype=object)
    assert guess_roles(list(sample.columns), sample) == {"Prénom": "first_name", "col2": "text", "Tickets": "measure"}


def test_missing_sample_column_is_a_column_error() -> None:
    with pytest.raises(ColumnError, match="Email"):
        guess_roles(["Nom", "Email"], pd.DataFrame({"Nom": ["Dupont"]}))


def test_roles_tables() -> None:
    assert list(ROLES)[:5] == ["ignore", "id", "exact", "first_name", "last_name"]
    assert list(ROLES)[-3:] == ["consent", "opt_out", "text"]
    assert len(ROLES) == 23
    assert set(ROLE_KIND) == set(ROLES)
    assert set(ROLE_KIND.values()) <= {"text", "id", "email", "phone", "date", "number", "category", "boolean",
                                       "postcode"}
    assert set(ROLES) >= SINGLE_ROLES


def test_validate_roles() -> None:
    validate_roles({"a": "email", "b": "phone", "c": "phone"})
    with pytest.raises(ColumnError, match="Email"):
        validate_roles({"a": "email", "b": "email"})
    with pytest.raises(ColumnError, match="unknown role"):
        validate_roles({"a": "e-mail"})


@pytest.mark.parametrize("header", ["soc_sec_id", "SIRET", "N° TVA intracommunautaire", "VAT number"])
def test_person_and_company_identifiers_are_matched_exactly(header) -> None:
    assert header_role(header) == "exact"


def test_compact_dates_under_a_date_header_and_suburbs() -> None:
    sample = pd.DataFrame({"date_of_birth": ["19560409", "19830112", None, "20011231"],
                           "suburb": ["marrara", "woodcroft", "kellerberrin", "toowoomba"],
                           "code": ["19560409", "12345678", "99999999", "11111111"]})
    assert guess_roles(list(sample.columns), sample) == {"date_of_birth": "birth_date", "suburb": "city",
                                                         "code": "measure"}

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
    # Without a date header, 8 digits are no date; under a "code" header they are no measure either.
    assert guess_roles(list(sample.columns), sample) == {"date_of_birth": "birth_date", "suburb": "city",
                                                         "code": "text"}


# --------------------------------------------------------------------------
# Real export shapes: a few rows each, with missing words, every role exact.
# --------------------------------------------------------------------------

def _frame(rows: dict[str, list[str | None]]) -> tuple[list[str], pd.DataFrame]:
    return list(rows), pd.DataFrame(rows, dtype=object)


REAL_EXPORTS = {
    "salesforce": ({
        "First Name": ["Jane", "Marc", "Li", "N/A", "Sean", "Rose", "Tim", "Ana"],
        "Last Name": ["Grey", "Benioff", "Wei", "Forbes", "NULL", "Gonzalez", "Barr", "Díaz"],
        "Title": ["VP Sales", "CEO", "Buyer", "", "Director", "CFO", "N/A", "Head of IT"],
        "Account Name": ["Edge Communications", "Burlington Textiles", "Pyramid Construction", "Dickenson plc",
                         "Grand Hotels", "United Oil & Gas", "-", "sForce"],
        "Mailing Street": ["1301 Hoch Drive", "345 Shoreline Park", "2 Place Jussieu", "1301 Avenue of the Americas",
                           "620 SW 5th Avenue Suite 400", None, "888 N Euclid", "NA"],
        "Mailing City": ["Lawrence", "Mountain View", "Paris", "New York", "Portland", "Singapore", "Tucson", None],
        "Mailing State/Province": ["KS", "CA", None, "NY", "OR", "N/A", "AZ", "CA"],
        "Mailing Zip/Postal Code": ["66045", "94043", "75251", "10020", "97204", None, "85721", "02134"],
        "Mailing Country": ["USA", "USA", "France", "USA", "USA", "Singapore", "USA", "USA"],
        "Phone": ["(785) 241-6200", "(650) 450-8810 x4715", "(014) 427-4427", "(212) 842-5500", "(503) 421-7800",
                  "(650) 555-1212 ext. 12", "N/A", "(520) 773-9050"],
        "Mobile": ["(785) 265-5350", "(650) 345-6637", None, "(212) 555-5555", "(503) 555-2222", "-",
                   "(520) 454-6544", "(650) 555-0199"],
        "Email": ["jgrey@edge.com", "marc@burlington.com", "li.wei@pyramid.net", "forbes@dickenson.co.uk",
                  "sean@grandhotels.com", "rose@uog.com", "N/A", "ana.diaz@sforce.com"],
        "Email Opt Out": ["0", "1", "0", "0", "0", "1", "0", "0"],
        "Lead Source": ["Web", "Phone Inquiry", "Partner Referral", "Web", "Trade Show", "-", "Web", "Word of mouth"],
        "Created Date": ["3/12/2024", "3/28/2024", "12/1/2023", "1/15/2024", "N/A", "2/29/2024", "11/30/2023",
                         "3/1/2024"],
        "Last Activity": ["4/2/2024", None, "3/30/2024", "4/15/2024", "3/3/2024", "N/A", "1/5/2024", "4/1/2024"],
        "Contact ID": ["0035g00000XyZabAAF", "0035g00000XyZacAAF", "0035g00000XyZadAAF", "0035g00000XyZaeAAF",
                       "0035g00000XyZafAAF", "0035g00000XyZagAAF", "0035g00000XyZahAAF", "0035g00000XyZaiAAF"],
    }, {
        "First Name": "first_name", "Last Name": "last_name", "Title": "text", "Account Name": "company",
        "Mailing Street": "address", "Mailing City": "city", "Mailing State/Province": "region",
        "Mailing Zip/Postal Code": "postcode", "Mailing Country": "country", "Phone": "phone", "Mobile": "phone",
        "Email": "email", "Email Opt Out": "opt_out", "Lead Source": "category", "Created Date": "created_date",
        "Last Activity": "last_activity_date", "Contact ID": "id",
    }),
    "hubspot": ({
        "Record ID": ["51", "101", "151", "201", "251", "301", "351", "401"],
        "First Name": ["Maria", "Brian", "NA", "Cole", "Dana", "Eve", "Fay", "Gus"],
        "Last Name": ["Johnson", "Halligan", "Shah", "-", "Smith", "Stone", "Lee", "Grant"],
        "Email": ["emailmaria@hubspot.com", "bh@hubspot.com", "dshah@hubspot.com", "cole@example.com", "N/A",
                  "eve@example.org", "fay@example.net", "gus@example.com"],
        "Phone Number": ["+1 617-555-0199", "617.555.0123 ext. 5", "(617) 555-0175", "N/A", "+16175550111",
                         "617-555-0142 x88", "+1 (617) 555-0100", ""],
        "Company Name": ["HubSpot", "HubSpot", "HubSpot", "Acme", "N/A", "Globex", "Initech", "Umbrella"],
        "Lifecycle Stage": ["lead", "customer", "subscriber", "lead", "opportunity", "customer", "lead", "N/A"],
        "Create Date": ["2024-03-12T10:15:00.000Z", "2024-03-12 10:15", "2023-11-02T08:00:00+01:00",
                        "2024-01-05T12:30:45Z", "N/A", "2024-02-29T23:59:59.999Z", "2023-12-31", "2024-03-01 09:00"],
        "Last Activity Date": ["2024-04-02 11:00", "", "2024-03-30 09:12", "2024-04-15 16:40", "null",
                               "2024-03-03 10:00", "2024-01-05 08:15", "2024-04-01 14:00"],
        "Marketing contact status": ["Marketing contact", "Non-marketing contact", "Marketing contact",
                                     "Marketing contact", "Non-marketing contact", "Marketing contact",
                                     "Marketing contact", "Marketing contact"],
    }, {
        "Record ID": "id", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Phone Number": "phone", "Company Name": "company", "Lifecycle Stage": "category",
        "Create Date": "created_date", "Last Activity Date": "last_activity_date",
        "Marketing contact status": "category",
    }),
    "mailchimp": ({
        "Email Address": ["urist.mcvankab@freddiesjokes.com", "mike@example.com", "ana@example.fr",
                          "zoe@example.org", "N/A", "leo@example.net", "kim@example.co", "sam@example.io"],
        "First Name": ["Urist", "Mike", "Ana", "Zoë", "", "Léo", "Kim", "Sam"],
        "Last Name": ["McVankab", "Smith", "Perrin", "NULL", "Roux", "Blanc", "Park", "Ng"],
        "Address": ["123 Main St  Springfield  IL  62701  US", "", "2 rue de la Paix  Paris    75002  FR",
                    "N/A", "1 High St  London    SW1A 1AA  GB", "", "9 Elm Rd  Austin  TX  73301  US", "-"],
        "Phone Number": ["+1 555-123-4567", "555.123.4567", "+33 6 12 34 56 78", "", "+44 20 7946 0958",
                         "N/A", "(555) 987-6543 x12", "+1 555 222 3333"],
        "MEMBER_RATING": ["2", "3", "2", "5", "1", "2", "4", "2"],
        "OPTIN_TIME": ["2024-03-12 10:15:00", "2024-03-13 08:00:00", "", "2023-12-01 23:59:59",
                       "2024-01-02 00:00:00", "N/A", "2024-02-02 12:00:00", "2024-02-03 12:00:00"],
        "CONFIRM_TIME": ["2024-03-12 10:16:02", "2024-03-13 08:01:30", "2024-03-14 09:00:00", "2023-12-02 00:01:00",
                         "2024-01-02 00:05:00", "2024-01-03 10:00:00", "2024-02-02 12:01:00", "2024-02-03 12:03:00"],
        "LAST_CHANGED": ["2024-04-01 10:00:00", "2024-04-02 11:00:00", "2024-04-03 12:00:00", "2024-04-04 13:00:00",
                         "2024-04-05 14:00:00", "2024-04-06 15:00:00", "2024-04-07 16:00:00", "2024-04-08 17:00:00"],
        "TAGS": ['"VIP","Newsletter"', "", '"Newsletter"', "", '"VIP"', "", "", '"Newsletter"'],
    }, {
        "Email Address": "email", "First Name": "first_name", "Last Name": "last_name", "Address": "address",
        "Phone Number": "phone", "MEMBER_RATING": "measure", "OPTIN_TIME": "date", "CONFIRM_TIME": "date",
        "LAST_CHANGED": "date", "TAGS": "category",
    }),
    "brevo": ({
        "EMAIL": ["jean.dupont@example.fr", "marie@example.com", "N/A", "paul@example.org", "lea@example.fr",
                  "hugo@example.be"],
        "FIRSTNAME": ["Jean", "Marie", "Luc", "", "Léa", "Hugo"],
        "LASTNAME": ["Dupont", "Curie", "Besson", "Martin", "NULL", "Peeters"],
        "SMS": ["+33612345678", "+33698765432", "", "+33711223344", "N/A", "+32470123456"],
        "EXT_ID": ["CRM-0001", "CRM-0002", "CRM-0003", "CRM-0004", "CRM-0005", "CRM-0006"],
    }, {"EMAIL": "email", "FIRSTNAME": "first_name", "LASTNAME": "last_name", "SMS": "phone", "EXT_ID": "id"}),
    "shopify": ({
        "Customer ID": ["7083345494291", "7083345527059", "7083345559827", "7083345592595", "7083345625363",
                        "7083345658131"],
        "First Name": ["Russell", "Karine", "", "Ayumu", "Jo", "Hélène"],
        "Last Name": ["Winfield", "Ruby", "Hirano", "NA", "Ngata", "Ravel"],
        "Email": ["russel.winfield@example.com", "karine.ruby@example.com", "N/A", "ayumu.hirano@example.com",
                  "jo@example.co.nz", "helene@example.fr"],
        "Accepts Email Marketing": ["yes", "no", "no", "yes", "yes", "no"],
        "Default Address Company": ["Company Name", "", "Acme Ltd", "N/A", "Kiwi Co", "Ravel SARL"],
        "Default Address Zip": ["K2P 1L4", "90210", "", "100-0001", "0600", "01000"],
        "Total Spent": ["84.00", "0.00", "1,234.50", "12.99", "N/A", "250.00"],
        "Total Orders": ["3", "0", "12", "1", "0", "4"],
        "Tags": ["vip", "", "wholesale, vip", "", "N/A", "newsletter"],
    }, {
        "Customer ID": "id", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
        "Accepts Email Marketing": "consent", "Default Address Company": "company", "Default Address Zip": "postcode",
        "Total Spent": "measure", "Total Orders": "measure", "Tags": "category",
    }),
    "french": ({
        "Prénom": ["Nathalie", "Aurélie", "N/A", "Mickaël", "Zoë", "Jean-Luc"],
        "Nom": ["Morel", "ROUSSET", "Delaunay", "-", "Lefèvre", "Étienne"],
        "Raison sociale": ["Morel SA", "Rousset & Fils", "NC", "Delaunay SARL", "Lefèvre Frères", "Étienne SAS"],
        "Code postal": ["01000", "31000", "N/A", "75011", "06400", "69004"],
        "Téléphone": ["06 12 34 56 78", "01.23.45.67.89", "+33 (0)5 61 00 00 00", "", "0612345678",
                      "01 23 45 67 89 poste 12"],
        "Date de création": ["12/03/2024", "12 mars 2024", "1er avril 2024", "N/A", "31/12/23", "2024-01-05"],
        "Optin": ["Oui", "Non", "oui", "NA", "non", "Oui"],
    }, {
        "Prénom": "first_name", "Nom": "last_name", "Raison sociale": "company", "Code postal": "postcode",
        "Téléphone": "phone", "Date de création": "created_date", "Optin": "consent",
    }),
    "online_retail": ({  # transactions: a line per invoice item
        "InvoiceNo": ["536365", "536365", "536366", "C536379", "536381", "536381", "C536383", "536384", "536385",
                      "536386"],
        "StockCode": ["85123A", "71053", "22633", "D", "84459A", "POST", "35004C", "22752", "84406B", "84029G"],
        "Description": ["WHITE HANGING HEART T-LIGHT HOLDER", "WHITE METAL LANTERN", "HAND WARMER UNION JACK",
                        "Discount", "PINK CHERRY LIGHTS", "POSTAGE", "SET OF 3 COLOURED FLYING DUCKS",
                        "SET 7 BABUSHKA NESTING BOXES", "CREAM CUPID HEARTS COAT HANGER", "KNITTED UNION FLAG"],
        "Quantity": ["6", "6", "6", "-1", "12", "3", "-1", "2", "8", "6"],
        "InvoiceDate": ["12/1/2010 8:26", "12/1/2010 8:26", "12/1/2010 8:28", "12/1/2010 9:41", "12/1/2010 9:41",
                        "12/1/2010 9:41", "12/1/2010 9:49", "12/1/2010 9:53", "12/1/2010 9:56", "12/1/2010 9:57"],
        "UnitPrice": ["2.55", "3.39", "1.85", "27.5", "3.75", "18", "4.65", "7.65", "2.75", "3.39"],
        "CustomerID": ["17850.0", "17850.0", "17850.0", "14527.0", "15311.0", "", "15311.0", "NA", "13047.0",
                       "12583.0"],
        "Country": ["United Kingdom", "United Kingdom", "United Kingdom", "United Kingdom", "United Kingdom",
                    "United Kingdom", "United Kingdom", "United Kingdom", "France", "United Kingdom"],
    }, {
        "InvoiceNo": "text", "StockCode": "text", "Description": "text", "Quantity": "measure", "InvoiceDate": "date",
        "UnitPrice": "measure", "CustomerID": "id", "Country": "country",
    }),
    "marketing_campaign": ({
        "ID": ["5524", "2174", "4141", "6182", "5324", "7446", "965", "6177"],
        "Year_Birth": ["1957", "1954", "1965", "1984", "1981", "1967", "1971", "1985"],
        "Income": ["58138.0", "46344.0", "71613.0", "26646.0", "", "62513.0", "55635.0", "33454.0"],
        "Dt_Customer": ["04-09-2012", "08-03-2014", "21-08-2013", "10-02-2014", "19-01-2014", "09-09-2013",
                        "13-11-2012", "08-05-2013"],
        "Recency": ["58", "38", "26", "26", "94", "16", "34", "32"],
        "Response": ["1", "0", "0", "0", "0", "0", "0", "0"],
    }, {
        "ID": "id", "Year_Birth": "measure", "Income": "measure", "Dt_Customer": "created_date", "Recency": "measure",
        "Response": "category",
    }),
}


@pytest.mark.parametrize("export", REAL_EXPORTS)
def test_guess_roles_on_real_export_shapes(export: str) -> None:
    rows, expected = REAL_EXPORTS[export]
    columns, sample = _frame(rows)
    assert guess_roles(columns, sample) == expected


def _value_role(values: list[str | None]) -> str:
    """The role guessed for a column named ``col2`` (a header that says nothing), after a text column."""
    sample = pd.DataFrame({"col1": [f"Note {k}" for k in range(len(values))], "col2": values}, dtype=object)
    return guess_roles(["col1", "col2"], sample)["col2"]


@pytest.mark.parametrize(("values", "role"), [
    (["2024-03-12T10:15:00Z", "2024-03-12T10:15:00.123+01:00", "2024-03-13 08:00:00.5", "2023-12-01T23:59:59-0500",
      "2024-01-01T00:00:00.000000Z", "NA"], "date"),
    (["12/03/24", "31/12/23", "01/01/25", "5/6/24", "N/A", "28.02.24"], "date"),
    (["4-Sep-12", "12 mars 2024", "1er avril 2024", "Sept. 4, 2012", "March 12, 2024", "12 févr. 2024",
      "3 août 2023", "null"], "date"),
    (["(555) 123-4567 x4715", "555.123.4567", "001-599-042-7428x143", "+1 555 123 4567 ext. 12",
      "01 23 45 67 89 poste 12", "(555) 123-4567", "#N/A"], "phone"),
    (["$84,835", "84,835.00", "1\u00a0234,50 €", "EUR 12", "\u221212,50", "(1,234.00)", "1.23457E+11", "-",
      "($84.00)", "12k€"], "measure"),
])
def test_value_profile_reads_the_normalisers_spellings(values: list[str | None], role: str) -> None:
    assert _value_role(values) == role


@pytest.mark.parametrize("values", [
    ["536365", "536366", "C536379", "536381", "536382", "536383", "536384", "536385"],  # a cancelled invoice
    ["85123", "71053", "84459A", "22633", "22752", "84406", "84029", "21730"],          # a stock code
    ["85123", "71053", "POST", "22633", "22752", "84406", "84029", "21730"],            # a postage line
    ["000123", "000456", "100789", "200111", "300222", "400333", "500444", "600555"],   # leading zeros
])
def test_codes_among_numbers_are_never_a_measure(values: list[str]) -> None:
    assert _value_role(values) == "text"
    sample = pd.DataFrame({"Description": [f"Item {k}" for k in range(8)], "Montant": values}, dtype=object)
    assert guess_roles(["Description", "Montant"], sample)["Montant"] == "text"
    # First and unique, the codes are the record id.
    assert guess_roles(["Montant"], sample) == {"Montant": "id"}


@pytest.mark.parametrize(("header", "role"), [
    ("InvoiceNo", "text"), ("Invoice", "text"), ("Order ID", "text"), ("StockCode", "text"), ("SKU", "text"),
    ("CustomerID", "id"), ("Customer ID", "id"), ("Zip", "postcode"),
])
def test_numeric_columns_named_as_codes_are_never_a_measure(header: str, role: str) -> None:
    values = ["536365", "536366", "536367", "536368", "536369", "536370", "536371", "536372"]
    sample = pd.DataFrame({"Description": [f"Item {k}" for k in range(8)], header: values}, dtype=object)
    assert guess_roles(["Description", header], sample)[header] == role


def test_numbers_under_a_code_header_are_never_a_measure() -> None:
    sample = pd.DataFrame({
        "Nom_commune": ["Rennes", "Vitré", "Fougères", "Redon", "Dinard", "Bruz", "Betton", "Pacé"],
        "code_nature": ["151", "101", "320", "340", "306", "300", "335", "370"],
        "Code_academie": ["14", "14", "14", "14", "14", "14", "14", "14"],
        "No Volume": ["12", "3", "48", "7", "101", "9", "27", "65"],
        "Nombre de lots": ["1", "2", "0", "1", "3", "1", "2", "1"],
        "No. of employees": ["12", "250", "3", "48", "7", "1200", "9", "27"],
        "coordonnee_Y": ["6776558.9", "6809607.2", "6783495.8", "6789447.9", "6764020.9", "6813405.8", "6814116.8",
                         "6809483.9"],
        "Voie_generale": ["0", "1", "1", "0", "0", "1", "0", "1"],
    }, dtype=object)
    assert guess_roles(list(sample.columns), sample) == {
        "Nom_commune": "city", "code_nature": "text", "Code_academie": "category", "No Volume": "text",
        "Nombre de lots": "measure", "No. of employees": "measure", "coordonnee_Y": "measure",
        "Voie_generale": "category"}


def test_codes_with_few_distinct_values_under_a_code_header_are_a_category() -> None:
    sample = pd.DataFrame({"Product Code": ["A1", "B2", "A1", "A1", "B2", "A1", "B2", "A1", "A1", "B2"]}, dtype=object)
    assert guess_roles(["Product Code"], sample) == {"Product Code": "category"}


def test_phone_headers_with_extensions_stay_phones() -> None:
    values = ["(555) 123-4567 x4715", "555.123.4567", "001-599-042-7428x143", "+1-202-555-0188 ext. 12",
              "N/A", "(555) 987-6543"]
    headers = ["Phone 1", "Phone 2", "Mobile Phone", "Home Phone", "Work Phone", "Fax"]
    sample = pd.DataFrame({h: values for h in headers}, dtype=object)
    assert guess_roles(headers, sample) == dict.fromkeys(headers, "phone")


def test_missing_words_are_missing_in_the_profile() -> None:
    sample = pd.DataFrame({
        "Optin": ["Oui", "NA", "Non", "#N/A", "oui", "null"],
        "Flag": ["x", "NA", "", None, "x", "-"],
        "col3": ["N/A", "2024-01-02", "NULL", "2024-03-04", "-", "2024-05-06"],
    }, dtype=object)
    assert guess_roles(list(sample.columns), sample) == {"Optin": "consent", "Flag": "category", "col3": "date"}


def test_typed_header_loses_to_values_of_another_kind() -> None:
    sample = pd.DataFrame({
        "Email Address": ["2024-03-12", "2024-03-13", "12/03/2024", "N/A", "2024-04-01", "2024-04-02"],
        "Phone": ["a@example.com", "b@example.com", "c@example.com", "", "d@example.com", "e@example.com"],
        "Created Date": ["Web", "Partner", "Web", "Web", "Partner", "Web"],
    }, dtype=object)
    assert guess_roles(list(sample.columns), sample) == {"Email Address": "date", "Phone": "email",
                                                         "Created Date": "text"}


def test_email_column_of_dates_further_down_is_a_date_in_the_spread_sample() -> None:
    import pyarrow as pa

    from segmentation.ingest.importer import GUESS_ROWS, spread_sample

    n = 10_000
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(np.arange(n) % 3000, unit="D")
    emails = [f"user{k}@example.com" if k < 2_000 else d for k, d in enumerate(days.strftime("%Y-%m-%d"))]
    table = pa.table({"Customer ID": [f"{k:06d}" for k in range(n)], "Email Address": emails})
    head = table.slice(0, GUESS_ROWS).to_pandas()
    assert guess_roles(table.column_names, head)["Email Address"] == "email"
    assert guess_roles(table.column_names, spread_sample(table, GUESS_ROWS)) == {"Customer ID": "id",
                                                                                "Email Address": "date"}


def test_guess_roles_is_fast_on_wide_samples() -> None:
    import time

    rng = np.random.default_rng(1)
    kinds = ["email", "date_fr", "amount_fr", "phone_fr", "oui_non", "notes", "code", "full"]
    base = {kind: _values(kind, rng, 2_000) for kind in kinds}
    sample = pd.DataFrame({f"c{i}": base[kinds[i % len(kinds)]] for i in range(1_000)}, dtype=object)
    started = time.process_time()
    roles = guess_roles(list(sample.columns), sample)
    assert time.process_time() - started < 10.0
    assert roles["c1"] == "date" and roles["c3"] == "phone" and roles["c2"] == "measure"


def test_a_measure_header_keeps_most_numbers_and_missing_words() -> None:
    sample = pd.DataFrame({
        "Nom": ["Morel", "Adam", "Faure", "Blanc", "Henry", "David", "Perrin", "Roux", "Bonnet", "Muller"],
        "Montant": ["12", "13", "à voir", "14", "15,5", "16", "voir devis", "gratuit", "17", "1"],
        "CA": ["12", "NR", "14", "15", "16", "17", "inconnu", "19", "20", "21"],
    }, dtype=object)
    assert guess_roles(list(sample.columns), sample) == {"Nom": "last_name", "Montant": "measure", "CA": "measure"}


def test_an_empty_column_never_takes_a_single_role_from_the_column_of_values_beside_it():
    """A CRM export with an empty "email_work" before "email_other" full of e-mails (atomic-crm's test data):
    the e-mails are the e-mail column; an empty "Référence" does not take the id from the filled one."""
    sample = pd.DataFrame({
        "email_work": [None] * 4, "email_other": ["Shelley_K47@hotmail.com", "a@b.fr", "c@d.org", "e@f.com"],
        "Référence de la décision": [None] * 4, "Identification du bénéficiaire": ["452474562", "1", "2", "3"]})
    assert guess_roles(list(sample.columns), sample) == {
        "email_work": "text", "email_other": "email", "Référence de la décision": "text",
        "Identification du bénéficiaire": "id"}


@pytest.mark.parametrize("header", ["Identification du bénéficiaire", "idbeneficiaire", "idBeneficiaire",
                                    "Identification de l'attribuant", "idClient"])
def test_french_identification_headers_name_ids(header):
    assert header_role(header) == "id"


def test_a_name_header_over_names_of_organisations_is_the_company():
    """French open data: "nomAttribuant" / "Nom de l'attribuant" hold public bodies, not people's names."""
    sample = pd.DataFrame({
        "nomAttribuant": ["Département de Maine-et-Loire"] * 3 + ["Commune d'Angers"],
        "Nom": ["Durand", "Martin", "Petit", "Le Centre"],
        "Prénom": ["Anne", "Paul", "Marie", "Luc"]})
    assert guess_roles(list(sample.columns), sample) == {
        "nomAttribuant": "company", "Nom": "last_name", "Prénom": "first_name"}


def test_a_column_of_country_names_is_the_country_whatever_its_header():
    """Superstore's "Country/Region" and the churn data's "Geography" hold countries; a French region column
    and a column of state names do not."""
    sample = pd.DataFrame({
        "Country/Region": ["United States", "Canada", "United States", "United States", "Canada"],
        "Geography": ["France", "Spain", "Germany", "France", "France"],
        "Région": ["Bretagne", "Île-de-France", "Normandie", "Occitanie", "Bretagne"],
        "State": ["Texas", "Georgia", "Ohio", "Iowa", "Utah"]})
    assert guess_roles(list(sample.columns), sample) == {
        "Country/Region": "country", "Geography": "country", "Région": "region", "State": "region"}

"""Destination presets: headers, separator, encoding and rows of each destination's file; hashed identifiers."""

from __future__ import annotations

import csv
import hashlib
import io

import openpyxl
import pytest

from segmentation import AudienceSpec, ImportSettings, SettingError, open_workspace
from segmentation.activate.presets import PRESETS, get_preset

HEADER = "id;Prénom;Nom;E-mail;Téléphone;Code postal;Ville;Société;Consentement;Opt-out\n"
ROWS = ("A1;Élodie;D'Arc-Dupont;Elodie.D@X.fr;06 12 34 56 78;75011;Paris;Acme;oui;non\n"
        "A2;Bob;Lee;bob@y.com;+44 20 7946 0958;SW1A 1AA;Saint-Denis;=Evil;oui;non\n"
        "A3;Cy;Moe;cy@z.fr;;69001;Lyon;;non;non\n"
        "A4;Di;Fox;di@z.fr;+1 650 253 0000;94043;Mountain View;Goog;oui;oui\n")
CONTACTS = AudienceSpec(channel="email")                      # A1 and A2 may be contacted
EVERYONE = AudienceSpec(channel="email", include_no_consent=True)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def crm(tmp_path):
    ws = open_workspace(tmp_path / "p.duckdb")
    yield ws.ingest.import_bytes((HEADER + ROWS).encode(), "crm.csv",
                                 ImportSettings(name="crm", roles={"Opt-out": "opt_out"}))
    ws.close()


def rows(data: bytes, separator: str = ",") -> list[list[str]]:
    assert not data.startswith(b"\xef\xbb\xbf")                # UTF-8 without BOM, as every destination takes
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=separator))


def test_meta_plain_and_hashed(crm):
    header = ["email", "email", "email", "phone", "phone", "phone", "fn", "ln", "zip", "ct", "country"]
    assert rows(crm.audiences.render(CONTACTS, preset="meta")) == [
        header,
        ["elodie.d@x.fr", "", "", "+33612345678", "", "", "Élodie", "D'Arc-Dupont", "75011", "Paris", "fr"],
        ["bob@y.com", "", "", "+442079460958", "", "", "Bob", "Lee", "SW1A 1AA", "Saint-Denis", ""]]
    hashed = rows(crm.audiences.render(CONTACTS, preset="meta", hashed=True))
    assert hashed[0] == header
    # Meta's normalisation: e-mail trimmed and lower-case; phone digits only with the country code; names,
    # city and zip lower-case without punctuation or spaces; country lower-case.
    assert hashed[1] == [sha("elodie.d@x.fr"), "", "", sha("33612345678"), "", "", sha("élodie"), sha("darcdupont"),
                         sha("75011"), sha("paris"), sha("fr")]
    assert hashed[2] == [sha("bob@y.com"), "", "", sha("442079460958"), "", "", sha("bob"), sha("lee"),
                         sha("sw1a1aa"), sha("saintdenis"), ""]


def test_google_customer_match_plain_and_hashed(crm):
    header = ["Email", "Email", "Email", "Phone", "Phone", "Phone", "First Name", "Last Name", "Country", "Zip"]
    assert rows(crm.audiences.render(CONTACTS, preset="google")) == [
        header,
        ["elodie.d@x.fr", "", "", "+33612345678", "", "", "Élodie", "D'Arc-Dupont", "FR", "75011"],
        ["bob@y.com", "", "", "+442079460958", "", "", "Bob", "Lee", "", "SW1A 1AA"]]
    hashed = rows(crm.audiences.render(CONTACTS, preset="google", hashed=True))
    # Google: lower-case, trimmed; phones E.164 (with +) before hashing; country and zip stay plain.
    assert hashed == [header,
                      [sha("elodie.d@x.fr"), "", "", sha("+33612345678"), "", "", sha("élodie"), sha("d'arc-dupont"),
                       "FR", "75011"],
                      [sha("bob@y.com"), "", "", sha("+442079460958"), "", "", sha("bob"), sha("lee"), "", "SW1A 1AA"]]


def test_linkedin_template_headers(crm):
    assert rows(crm.audiences.render(CONTACTS, preset="linkedin")) == [
        ["email", "firstname", "lastname", "jobtitle", "employeecompany", "country"],
        ["elodie.d@x.fr", "Élodie", "D'Arc-Dupont", "", "Acme", "FR"],
        ["bob@y.com", "Bob", "Lee", "", "'=Evil", ""]]                     # a formula stays neutralised
    hashed = rows(crm.audiences.render(CONTACTS, preset="linkedin", hashed=True))
    assert [r[0] for r in hashed] == ["email", sha("elodie.d@x.fr"), sha("bob@y.com")] and hashed[1][1] == "Élodie"


def test_tiktok_plain_and_hashed_headers(crm):
    assert rows(crm.audiences.render(CONTACTS, preset="tiktok")) == [
        ["Email", "Email", "Email", "Phone", "Phone", "Phone"],
        ["elodie.d@x.fr", "", "", "+33612345678", "", ""], ["bob@y.com", "", "", "+442079460958", "", ""]]
    hashed = rows(crm.audiences.render(CONTACTS, preset="tiktok", hashed=True))
    assert hashed[0] == ["Email_SHA256"] * 3 + ["Phone_SHA256"] * 3
    assert hashed[1] == [sha("elodie.d@x.fr"), "", "", sha("33612345678"), "", ""]


def test_tiktok_hashes_match_the_published_examples(tmp_path):
    """TikTok's "List of supported IDs and formats for a customer file" gives, for the e-mail normalised to
    ``janedoe@gmail.com``, the hash d611…6c69, and for the phone +374 93 828222 the hash 65b7…22d4."""
    ws = open_workspace(tmp_path / "t.duckdb")
    handle = ws.ingest.import_bytes(b"id;email;phone;consent\nT1; JaneDoe@Gmail.com ;+374 93 828222;yes\n", "t.csv")
    hashed = rows(handle.audiences.render(AudienceSpec(channel="email"), preset="tiktok", hashed=True))
    assert hashed[1][0] == "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
    assert hashed[1][3] == "65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4"
    ws.close()


def test_email_tools(crm):
    assert rows(crm.audiences.render(CONTACTS, preset="mailchimp")) == [
        ["Email Address", "First Name", "Last Name", "Phone Number", "Tags"],
        ["elodie.d@x.fr", "Élodie", "D'Arc-Dupont", "+33612345678", ""],
        ["bob@y.com", "Bob", "Lee", "+442079460958", ""]]
    assert rows(crm.audiences.render(CONTACTS, preset="brevo"), ";") == [
        ["EMAIL", "FIRSTNAME", "LASTNAME", "SMS", "EXT_ID"],
        ["elodie.d@x.fr", "Élodie", "D'Arc-Dupont", "+33612345678", "A1"],
        ["bob@y.com", "Bob", "Lee", "+442079460958", "A2"]]
    assert rows(crm.audiences.render(CONTACTS, preset="hubspot")) == [
        ["Email", "First name", "Last name", "Phone number", "Company name", "Postal code", "City", "Country/Region"],
        ["elodie.d@x.fr", "Élodie", "D'Arc-Dupont", "+33612345678", "Acme", "75011", "Paris", "FR"],
        ["bob@y.com", "Bob", "Lee", "+442079460958", "'=Evil", "SW1A 1AA", "Saint-Denis", ""]]
    # Klaviyo: Email first; consent in its own words (everyone included here, on purpose).
    assert rows(crm.audiences.render(EVERYONE, preset="klaviyo")) == [
        ["Email", "Phone Number", "First Name", "Last Name", "City", "Zip Code", "Country", "Email Marketing Consent"],
        ["elodie.d@x.fr", "+33612345678", "Élodie", "D'Arc-Dupont", "Paris", "75011", "FR", "Subscribed"],
        ["bob@y.com", "+442079460958", "Bob", "Lee", "Saint-Denis", "SW1A 1AA", "", "Subscribed"],
        ["cy@z.fr", "", "Cy", "Moe", "Lyon", "69001", "FR", "Never subscribed"],
        ["di@z.fr", "+16502530000", "Di", "Fox", "Mountain View", "94043", "", "Unsubscribed"]]


def test_general_formats_keep_phones_bare(crm, tmp_path):
    spec = AudienceSpec(channel="email", columns=("id", "Téléphone", "Société"))
    lines = crm.audiences.render(spec, "csv-excel").decode("utf-8-sig").splitlines()
    assert lines == ["id;Téléphone;Société", "A1;+33612345678;Acme", "A2;+442079460958;'=Evil"]
    out = tmp_path / "list.xlsx"
    crm.audiences.export(spec, out)
    cells = [[c.value for c in row] for row in openpyxl.load_workbook(out).active.iter_rows()]
    assert cells == [["id", "Téléphone", "Société"], ["A1", "+33612345678", "Acme"], ["A2", "+442079460958", "'=Evil"]]


def test_every_preset_names_its_documentation_and_limits():
    assert list(PRESETS) == ["meta", "google", "linkedin", "tiktok", "mailchimp", "brevo", "hubspot", "klaviyo"]
    assert all(p.docs_url.startswith("https://") and p.limits for p in PRESETS.values())
    assert get_preset("LinkedIn").size_warning(299).startswith("LinkedIn Matched Audiences (contact list) wants at "
                                                               "least 300 people")
    assert get_preset("linkedin").size_warning(300) is None
    assert "split the audience" in get_preset("linkedin").size_warning(300_001)
    with pytest.raises(SettingError, match="preset must be one of"):
        get_preset("myspace")


def test_hashing_is_refused_for_email_tools_and_presets_check_the_extension(crm, tmp_path):
    with pytest.raises(SettingError, match=r"Brevo .* takes plain values"):
        crm.audiences.render(CONTACTS, preset="brevo", hashed=True)
    with pytest.raises(SettingError, match=r"a \.csv file for the google preset"):
        crm.audiences.export(CONTACTS, tmp_path / "g.xlsx", preset="google")
    result = crm.audiences.export(CONTACTS, tmp_path / "g.csv", preset="google")
    assert result.warnings == ["Google Ads Customer Match wants at least 100 people in a list; this one has 2. "
                               + get_preset("google").limits]
    assert crm.audiences.export_log()["preset"].tolist()[0] == "google"

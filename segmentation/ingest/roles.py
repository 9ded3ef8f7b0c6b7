"""Column roles: what each column of a CRM export means, and a first guess of it.

A role says how a column is normalised (:data:`ROLE_KIND`) and what it is
used for: matching duplicates (names, email, phone, company...), describing
customers (measures, categories) or filtering them (consent, opt-out). The
roles, their kinds and the yes/no words are the one vocabulary of
:mod:`segmentation.core.vocabulary` (re-exported here). Pure: no SQL.

:func:`guess_roles` reads the header (French or English, with any case,
accents or punctuation) and a sample of raw values (the importer draws it
evenly over the whole file). Header evidence wins when the values agree or
say nothing definite; values win when the header is unknown or when they
clearly contradict it (a "Contact" column full of email addresses is an
email column, an "Email Address" column of dates a date column). Missing
words (``NA``, ``#N/A``, ``-``...) are missing, not values. Codes (letters
mixed with digits as in ``C536379`` or ``84459A``, leading zeros as in
``00123``) are never a measure: they are the record id when named so or
when first and unique, else text or a category.

The value profile runs each pattern once over the distinct values of all
columns together (``pyarrow.compute``, RE2 syntax), so a 1,000-column
preview stays fast.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import ColumnError
from ..core.vocabulary import (
    CANCELLED_WORDS,
    MISSING_WORDS,
    NO_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    ORDER_ROLE_COLUMNS,
    ORDER_ROLES,
    RETURNED_WORDS,
    ROLE_KIND,
    ROLES,
    SINGLE_ROLES,
    YES_WORDS,
    fold_word,
    looks_yes_no,
)

# --------------------------------------------------------------------------
# Header vocabulary
# --------------------------------------------------------------------------

# Rules are tried in order on the folded header (see _fold_header); the first
# match wins, so specific phrases come before the words they contain
# ("Email Opt Out" before "Email", "Nom complet" before "Nom", "Taille
# entreprise" before "Entreprise"). A role of None means "a known header that
# says nothing about the role": the values decide.
_CODE_WORDS = (
    r"invoice|invoices|invoice ?(no|nr|num|number|id|ref|reference|code)|facture|factures"
    r"|(n|no|num|numero) (de )?(facture|commande|transaction|ticket)"
    r"|(order|commande|transaction|receipt|ticket|shipment|tracking) ?(id|no|nr|num|number|ref|reference|code)"
    r"|stock ?codes?|sku|skus|(product|item|article|produit) ?(code|id|no|nr|number|ref|reference)"
    r"|code (article|produit)|ref(erence)? (article|produit)|barcode|ean|upc|gtin|isbn|asin"
    r"|(coupon|promo|voucher|discount) ?code"
)
_HEADER_RULES: list[tuple[str | None, str]] = [
    # People and metadata that are not the customer's own data.
    (None, r"owner|proprietaire|created by|modified by|cree par|modifie par|assigned( to)?|sales ?rep"
           r"|account manager|charge d affaires"),
    ("text", r"ip|ip address|adresse ip|notes?|comments?|commentaires?|description|remarques?"
             r"|observations?|message|memo"),
    # Dates, before the words that they qualify ("Date opt-in", "Last order").
    ("birth_date", r"birth ?(date|day)|date of birth|dob|date (de |d )?naissance|naissance|nee? le|anniversaire"),
    ("created_date", r"date (de |d )?(creation|ajout|inscription|entree|premier contact)|dt customer"
                     r"|(creation|created?|creee?) (date|le|on|at|time|timestamp)|date created"
                     r"|^(creation|created|createdate|createddate)$|customer since|client depuis"
                     r"|sign ?up date|inscrit le"),
    ("last_activity_date", r"(last|latest|most recent|derniere?) (activity|activite|action|interaction|engagement"
                           r"|contact|contacted|seen|login|connexion|visite?|touch|echange|relance)"
                           r"|date (de |d )?(la )?derniere?"),
    ("date", r"date|dates|datetime|timestamp|time|jour|heure|dt|last (changed|modified|updated)|\w+ed (at|on)$|le$"),
    # Codes of documents and products, not of customers: text, never a measure.
    ("text", _CODE_WORDS),
    # Contact permissions; opt-out first, since "unsubscribed" contains "subscribed".
    ("opt_out", r"opt ?out|opted out|unsubscribed?|desabonnee?s?|desabonnement|desinscrite?s?|desinscription"
                r"|do not (contact|email|mail|call)|blacklistee?|liste rouge|bloctel"
                r"|refus (de )?(contact|prospection)"),
    ("consent", r"consent(ement|ements|ed|s)?|opt ?in|opted in|optin|rgpd|gdpr|newsletter|subscribed|abonnee?"
                r"|accepte?s? (les )?(e ?mails? |sms )?(communications?|e ?mails?|offres|marketing|sms)"
                r"|accord (commercial|marketing)"
                r"|marketing (ok|allowed|consent)|permission marketing"),
    # Contact points and identifiers.
    ("email", r"e ?mails?|courriels?|mail|mels?|adresse (e )?mail"),
    ("phone", r"phone|phones|telephone|telephones|tel|tels|mobile|portable|cell|cellphone|cellular|gsm|fax|mob|sms"
              r"|numero (de )?(tel|telephone|portable|mobile)|ligne directe"),
    # Identifiers of the person or company, not of the record: the same value means the same customer.
    ("exact", r"siret|siren|n tva|numero tva|tva intracom\w*|vat( number| no| id)?|duns|ssn|social security"
              r"( number)?|soc sec( id)?|securite sociale|nir|passport|passeport|tax id|national id"
              r"|company (registration )?number|registration number"),
    ("id", r"id|ids|identifiant|identifier|identification|uuid|guid|ref|reference|code client|numero client"
           r"|num client|id(beneficiaire|client|contact|customer|compte|account|user|utilisateur|personne|membre)"
           r"|n client|no client|(customer|client|contact) (number|no|nr|key)|matricule|leid|euid"),
    # Geography; a company written in an address block is the company.
    ("company", r"address company|adresse (societe|entreprise)"),
    ("postcode", r"code postal|codes postaux|cp|zip|zip ?code|zipcode|postal ?code|postcode|post code|plz|cedex"),
    ("city", r"ville|villes|city|town|commune|localite|locality|municipality|suburb|quartier"),
    ("region", r"region|regions|state|province|departement|dept|county|canton"),
    ("country", r"pays|country|countries|nation|nationalite|nationality|^cc$"),
    ("address", r"adresse|adresses|address|addresses|street|rue|voie|addr|adr|lieu dit|complement d adresse"),
    # Names, before the measure and category words that a name header never holds.
    ("full_name", r"nom complet|full ?name|contact name|nom (du |de la )?contact|nom (et )?prenoms?|prenoms? (et )?nom"
                  r"|display name|nom d affichage|nom (du )?client|client name|customer name"),
    ("first_name", r"prenoms?|first ?names?|given ?names?|forename|fname"),
    ("measure", r"ca|c a|chiffre d affaires|turnover|montants?|revenues?|revenus?|amounts?|valeurs?|value|prix|price"
                r"|total|cout|couts|cost|costs|budget|spend|spent|depenses?|panier|basket|score|scoring"
                r"|nombre|nb|nbr|number of|count|qty|quantite|quantity|orders|commandes|achats|purchases"
                r"|tickets?|frequence|frequency|visites|visits|sessions|clicks|clics|opens|ouvertures|age"
                r"|anciennete|tenure|duree|duration|ltv|clv|arr|mrr|arpu|marge|margin|salaire|salary|effectifs?"
                r"|employees|employes|salaries|headcount|points|rating|ratio|taux|rate|pourcentage|percent|pct"
                r"|usage|utilisation|consommation|volume|solde|balance|encours|paiements?|payments?|remise"
                r"|discount|nps|csat|jours|days|mois|months|annees|years|latitude|longitude|income|recency|recence"),
    ("category", r"secteurs?|industry|industries|industrie|naf|ape|activite|taille|size|segments?|segmentation"
                 r"|statut|status|stage|lifecycle|types?|categories|categorie|category|sources?|origine|origin"
                 r"|canal|canaux|channel|langue|language|lang|locale|genre|gender|sexe|civilite|salutation|plan"
                 r"|offre|offer|produit|product|gamme|abonnement|subscription|tier|niveau|level|tranche|classe"
                 r"|class|groupe|group|tags?|labels?|etiquettes?|maturite|priorite|priority|persona|cible|target"
                 r"|potentiel|potential|temperature|grade|branche|domaine|vertical|marche|market|typologie"
                 r"|profil|profile|cluster|csp|forme juridique|legal form|devise|currency|timezone|fuseau"),
    ("company", r"societe|societes|entreprise|entreprises|company|companies|raison sociale|account|accounts"
                r"|compte|organi[sz]ation|organisme|etablissement|employer|employeur|firm|business|enseigne"
                r"|denomination|personne morale|nom commercial|cabinet"),
    ("last_name", r"nom|noms|last ?names?|surname|family ?name|lname|nom de famille|nom d usage"),
    ("full_name", r"name|names|contact|contacts|interlocuteur|person|personne|destinataire|titulaire"),
]
# Each alternative must be whole words of the folded header.
_HEADER_PATTERNS = [(role, re.compile(rf"\b(?:{pattern})\b")) for role, pattern in _HEADER_RULES]
# Words of a header that names codes: its numbers are never a measure ("Code nature", "No volume").
_CODE_HEADER = re.compile(rf"\b(?:{_CODE_WORDS}|codes?|id|ids|identifiant|identifier|uuid|ref|reference|numero|nr"
                          r"|no(?! of\b)|matricule|zip|zipcode)\b")


def _fold_header(name: object) -> str:
    """``"Date de Création"`` -> ``"date de creation"``; ``"HasOptedOutOfEmail"`` -> ``"has opted out of email"``."""
    text = str(name)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)", " ", text)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def header_role(name: object) -> str | None:
    """The role that a column name alone suggests, or ``None`` when it says nothing.

    Parameters
    ----------
    name : object
        A column name, in French or English, with any case, accents or
        punctuation (``"Prénom"``, ``"E-mail"``, ``"Date de création"``).

    Returns
    -------
    str or None
        A key of :data:`ROLES`.
    """
    folded = _fold_header(name)
    for role, pattern in _HEADER_PATTERNS:
        if pattern.search(folded):
            return role
    return None


# --------------------------------------------------------------------------
# Value evidence
# --------------------------------------------------------------------------

_MOSTLY = 0.7   # share of non-empty values that makes a column email, date, phone...
_AGREE = 0.5    # share of values that keeps a header role of the same kind
_CODE_SHARE = 0.005  # share of code values (C536379, 84459A, 00123) that keeps a column from being a measure
_CATEGORY_MAX_DISTINCT = 50
_CATEGORY_MAX_SHARE = 0.2

# Missing values: the vocabulary's words, plus the French "not known" abbreviations; compared lower-cased.
_NULL_WORDS = frozenset(w.lower() for w in MISSING_WORDS) | {
    "", "?", "none", "nc", "n.c.", "n/c", "nd", "n.d.", "nr", "n.r.", "ns", "#n/d", "#null!", "<na>", "unknown",
    "inconnu", "inconnue"}
_BOOLEAN_WORDS = YES_WORDS | NO_WORDS  # the one vocabulary: segmentation.core.vocabulary
_OPT_WORDS = OPT_IN_WORDS | OPT_OUT_WORDS

# The patterns below are RE2 (pyarrow.compute), matched against the whole trimmed value.
_EMAIL = r"(?:mailto:)?[^\s@<>,;]+@[^\s@<>,;]+"
_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
          r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
          r"|janvier|janv|f[ée]vrier|f[ée]vr|f[ée]v|mars|avril|avr|mai|juin|juillet|juil|ao[uû]t|ao[uû]"
          r"|septembre|octobre|novembre|d[ée]cembre|d[ée]c)\.?")
_CLOCK = r"\d{1,2}[:h]\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:\s?[ap]\.?m\.?)?"
_ZONE = r"(?:\s*(?:z|utc|gmt|[+-]\d{2}(?::?\d{2})?))?"
_DATE = (
    rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}(?:[t ]{_CLOCK}{_ZONE})?"                     # ISO, with T, fractions, Z, offsets
    rf"|\d{{4}}[/.]\d{{1,2}}[/.]\d{{1,2}}(?:[t ]{_CLOCK})?"
    rf"|(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:\d{{4}}|\d{{2}})(?:[ t]{_CLOCK})?"
    rf"|\d{{1,2}}(?:er|st|nd|rd|th)?[\s./-]+{_MONTH}[\s./,-]+(?:\d{{4}}|\d{{2}})(?:,?\s+(?:à\s+)?{_CLOCK})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?:,?\s+(?:at\s+)?{_CLOCK})?"  # Sept. 4, 2012
)
_EXCEL_SERIAL = r"[1-9]\d{4}(?:\.\d+)?"  # 10000-99999: 1927 to 2173 as an Excel date
_COMPACT_DATE = r"(?:1[89]|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # yyyymmdd, under a date header
_CURRENCY = r"(?:[€$£¥]|eur(?:os?)?|usd|us\$|gbp|chf|cad|aud)"
_DIGITS = r"(?:(?:\d{1,3}(?:[ ',.]\d{3})+|\d+)(?:[.,]\d+)?|[.,]\d+)(?:e[-+]?\d{1,3})?"  # 1 234,50 / 1.23457E+11
_NUMBER = (
    rf"[-+\x{{2212}}]?\s*(?:{_CURRENCY}\s*)?[-+\x{{2212}}]?\s*{_DIGITS}\s*(?:[km]\s*)?(?:(?:{_CURRENCY}|%|ht|ttc)\s*){{0,2}}"
    rf"|\(\s*(?:{_CURRENCY}\s*)?{_DIGITS}\s*(?:{_CURRENCY})?\s*\)"           # accounting negatives: (84.00)
)
_THOUSANDS = r"\d{1,3}(?:[ .,]\d{3})+(?:[.,]\d{1,2})?"
_PHONE_CHARS = r"(?:\+|00)?[\d\s.\-()/]*(?:\(0\))?[\d\s.\-()/]*"
_PHONE_EXTENSION = r"(?i)\s*[,;]?\s*(?:x|ext\.?|extn\.?|extension|poste|p\.|#)\s*\d{1,6}$"
_POSTCODE = (
    r"0\d{4}"                                            # French codes that kept their leading zero
    r"|[a-z]{1,2}\d[a-z\d]? ?\d[a-z]{2}"                 # UK
    r"|[a-z]\d[a-z] ?\d[a-z]\d"                          # Canada
    r"|\d{5}"
)
_WORD_BYTES = 40  # longer values are never a yes/no word
# Words of organisations' names (legal forms, public bodies, associations): a person's name seldom holds one.
_ORGANISATION = (
    r"\b(?:sas|sasu|sarl|eurl|sci|scp|scop|selarl|gie|association|asso|fondation|foundation|federation|fédération"
    r"|syndicat|comite|comité|club|departement|département|conseil|commune|mairie|communaute|communauté"
    r"|metropole|métropole|prefecture|préfecture|ministere|ministère|region|région|universite|université"
    r"|university|ecole|école|lycee|lycée|college|collège|institut|institute|hopital|hôpital|clinique|centre"
    r"|agence|agency|cabinet|societe|société|entreprise|groupe|group|holding|inc|ltd|llc|llp|plc|gmbh|corp"
    r"|corporation|company|bv|nv|spa|srl)\b\.?")
_ORGANISATION_SHARE = 0.3  # of a "Nom" column's values: organisations, not people
_COUNTRY_SHARE = 0.8  # of a region or category column's values: countries ("Country/Region", "Geography")


def _country_names(text: pa.Array) -> np.ndarray:
    """Whether each value is a country's name (four letters or more: codes such as ``CA`` are ambiguous)."""
    from .phones import _fold as country_key
    from .phones import country_names

    names = country_names()
    return np.array([v is not None and len(key := country_key(v)) >= 4 and key in names for v in text.to_pylist()],
                    dtype=bool)
_SHORT_CODE = r"[A-Za-z0-9][A-Za-z0-9_\-/#:]{0,39}"
_CODE = r"['#]?[A-Za-z0-9][A-Za-z0-9_\-/.#:]*"  # a code when it also holds a letter and a digit


@dataclass(frozen=True)
class _Profile:
    """Shares of a column's non-empty sample values that look like each kind."""

    n: int = 0
    distinct: int = 0
    email: float = 0.0
    email_loose: float = 0.0
    date: float = 0.0
    date_loose: float = 0.0
    phone: float = 0.0
    phone_loose: float = 0.0
    number: float = 0.0
    leading_zero: float = 0.0
    code: float = 0.0  # letters mixed with digits (C536379, 84459A), leading zeros (00123), POST: not a number
    postcode: float = 0.0
    boolean: float = 0.0
    boolean_distinct: int = 0
    opt_words: bool = False
    short_code: float = 0.0
    organisation: float = 0.0  # names of organisations: "Département de Maine-et-Loire", "Durand SARL"
    country: float = 0.0  # names of countries (France, United States, Deutschland), not codes
    yes_no: bool = False  # every value a yes/no word, or a flag column (x and empty cells)

    @property
    def few_distinct(self) -> bool:
        """Few distinct values relative to rows: a category."""
        return self.n > 0 and self.distinct <= min(_CATEGORY_MAX_DISTINCT, _CATEGORY_MAX_SHARE * self.n)

    @property
    def all_unique(self) -> bool:
        return self.n >= 2 and self.distinct == self.n

    @property
    def numeric(self) -> bool:
        """Numbers, and no codes among them (a code column stays text, exactly as written)."""
        return self.number >= _MOSTLY and self.code < _CODE_SHARE


def _strings(values: pd.Series) -> pa.Array:
    """A column's cells as an Arrow string array (numbers and other objects as their text; NaN is null)."""
    try:
        return pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(values.astype("string"), type=pa.string(), from_pandas=True)


def _clean(raw: pa.Array) -> pa.Array:
    """Values with non-breaking spaces made plain spaces, trimmed."""
    spaced = pc.or_(pc.match_substring(raw, "\u00a0"), pc.match_substring(raw, "\u202f"))
    mask = spaced.fill_null(False).to_numpy(zero_copy_only=False)
    return pc.utf8_trim_whitespace(_where(mask, raw, lambda v: pc.replace_substring_regex(v, "[\u00a0\u202f]", " ")))


def _distinct_values(columns: list[pd.Series]) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """Each column's distinct non-missing values, trimmed, over all columns at once.

    Returns the values, the position of each value's column, its count in
    that column, and for each column whether some of its cells are missing
    (empty, blank or a missing word).
    """
    nulls = pa.array(sorted(_NULL_WORDS))
    keys: list[pa.Array] = []
    positions: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    missing = np.zeros(len(columns), dtype=bool)
    for i, values in enumerate(columns):
        text = _clean(_strings(values).drop_null())
        present = text.filter(pc.invert(pc.is_in(pc.utf8_lower(text), value_set=nulls)))
        missing[i] = len(present) < len(values)
        tally = pc.value_counts(present)
        keys.append(tally.field(0))
        positions.append(np.full(len(tally), i, dtype=np.int64))
        counts.append(tally.field(1).to_numpy())
    if not keys:
        return pa.array([], type=pa.string()), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), missing
    return pa.concat_arrays(keys), np.concatenate(positions), np.concatenate(counts), missing


def _where(mask: np.ndarray, text: pa.Array, change: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``text`` with ``change`` applied to the values under ``mask`` only (the others kept)."""
    if not mask.any():
        return text
    return pc.replace_with_mask(text, pa.array(mask), change(text.filter(pa.array(mask))))


def _on(mask: np.ndarray, text: pa.Array, test: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    """``test`` of the values under ``mask``; ``False`` for the others."""
    out = np.zeros(len(text), dtype=bool)
    if mask.any():
        out[mask] = test(text.filter(pa.array(mask)))
    return out


def _full(text: pa.Array, pattern: str, ignore_case: bool = False) -> np.ndarray:
    """Whether each value matches ``pattern`` as a whole."""
    found = pc.match_substring_regex(text, f"^(?:{pattern})$", ignore_case=ignore_case)
    return found.to_numpy(zero_copy_only=False)


def _has(text: pa.Array, pattern: str) -> np.ndarray:
    """Whether each value contains a match of ``pattern``."""
    return pc.match_substring_regex(text, pattern).to_numpy(zero_copy_only=False)


def _profiles(columns: list[pd.Series]) -> list[_Profile]:
    """Measure each column's sample values (each distinct value once, weighted by its count).

    Vectorised over all columns: every pattern runs once over the distinct
    values of all columns together.
    """
    text, column, weight, missing = _distinct_values(columns)
    k = len(columns)
    n = np.bincount(column, weights=weight, minlength=k)
    distinct = np.bincount(column, minlength=k)
    safe_n = np.where(n > 0, n, 1)

    def share(mask: np.ndarray) -> np.ndarray:
        return np.bincount(column, weights=weight * mask, minlength=k) / safe_n

    # Yes/no words are short: fold (as vocabulary.fold_word does) only the short values.
    short = pc.less_equal(pc.binary_length(text), _WORD_BYTES).to_numpy(zero_copy_only=False)
    folded = _where(short, text, lambda v: pc.utf8_lower(pc.utf8_normalize(
        pc.replace_substring_regex(v, r"\s+", " "), "NFC")))
    is_bool = short & pc.is_in(folded, value_set=pa.array(sorted(_BOOLEAN_WORDS))).to_numpy(zero_copy_only=False)
    is_opt = short & pc.is_in(folded, value_set=pa.array(sorted(_OPT_WORDS))).to_numpy(zero_copy_only=False)
    is_date = _full(text, _DATE, ignore_case=True)
    number = _full(text, _NUMBER, ignore_case=True)
    letter_digit = _has(text, r"[A-Za-z]") & _has(text, r"\d")
    code = (_full(text, _CODE) & letter_digit & ~number) | _full(text, r"0\d+|[A-Z]{1,6}")
    # A real phone number: 8 to 15 digits (an extension aside), written with a
    # prefix (+, 00, 0) or separators, and not a thousands-grouped amount such as "12 345 678".
    base = _where(_has(text, _PHONE_EXTENSION), text, lambda v: pc.replace_substring_regex(v, _PHONE_EXTENSION, ""))
    phone_chars = _full(base, _PHONE_CHARS)
    phone_loose = _on(phone_chars, base, lambda v: _full(v, r"\D*(?:\d\D*){6,}"))
    phone = _on(phone_loose & ~is_date, base, lambda v: (
        _full(v, r"\D*(?:\d\D*){8,15}") & ~_full(v, _THOUSANDS) & ~_full(v, r"\d+[.,]\d+")
        & (_has(v, r"^(?:\+|0)") | _has(v, r"\d[\s.\-()/]+\d"))))

    bools = pd.DataFrame({"c": column[is_bool], "f": folded.filter(pa.array(is_bool)).to_pandas()})
    boolean_distinct = bools.drop_duplicates().groupby("c").size().reindex(range(k), fill_value=0).to_numpy()
    not_bool = np.bincount(column, weights=~is_bool, minlength=k)
    shares = {
        "email": share(_full(text, _EMAIL)),
        "email_loose": share(_has(text, "@")),
        "date": share(is_date),
        "date_loose": share(is_date | _full(text, _EXCEL_SERIAL) | _full(text, _COMPACT_DATE)),
        "phone": share(phone),
        "phone_loose": share(phone_loose),
        "number": share(number),
        "leading_zero": share(number & _has(text, r"^[-+]?0\d")),
        "code": share(code),
        "postcode": share(_full(text, _POSTCODE, ignore_case=True)),
        "boolean": share(is_bool),
        "short_code": share(_full(text, _SHORT_CODE)),
        "organisation": share(pc.match_substring_regex(text, _ORGANISATION, ignore_case=True).to_numpy(
            zero_copy_only=False)),
        "country": share(_country_names(text)),
    }
    opt_words = np.bincount(column, weights=is_opt, minlength=k) > 0
    starts = np.concatenate([[0], np.cumsum(distinct)[:-1]]) if k else distinct
    profiles = []
    for i in range(k):
        if n[i] == 0:
            profiles.append(_Profile())
            continue
        yes_no = False
        if not_bool[i] == 0:  # only yes/no words: the vocabulary's rule, on the distinct words
            words = folded.slice(starts[i], distinct[i]).to_pylist()  # values come column by column
            yes_no = looks_yes_no(pd.Series(words + ([None] if missing[i] else []), dtype=object))
        profiles.append(_Profile(
            n=int(n[i]), distinct=int(distinct[i]), boolean_distinct=int(boolean_distinct[i]),
            opt_words=bool(opt_words[i]), yes_no=yes_no, **{key: float(v[i]) for key, v in shares.items()}))
    return profiles


def _is_boolean(p: _Profile) -> bool:
    """Yes/no values (:func:`~segmentation.core.vocabulary.looks_yes_no`), or nearly all of them (a few typos)."""
    return p.yes_no or (p.boolean >= 0.9 and p.boolean_distinct <= 4)


def _value_role(p: _Profile, first_column: bool) -> str | None:
    """The role that the values alone suggest; ``None`` for an empty column."""
    if p.n == 0:
        return None
    if p.email >= _MOSTLY:
        return "email"
    if p.date >= _MOSTLY:
        return "date"
    if _is_boolean(p):
        # Plain yes/no has no direction without a header; "opt-out" has one.
        return "consent" if p.opt_words else "category"
    if p.phone >= _MOSTLY:
        return "phone"
    # French postcodes: 5 digits, some of them with a leading zero that a
    # number would not keep.
    if p.postcode >= _MOSTLY and (p.leading_zero > 0 or p.number < _MOSTLY):
        return "postcode"
    if first_column and p.all_unique and p.short_code >= 0.99:
        return "id"
    if p.numeric:
        return "measure"
    if p.few_distinct:
        return "category"
    return "text"


def _agreement(kind: str, p: _Profile) -> float:
    """Share of values consistent with a header role of this normaliser kind."""
    return {
        "email": p.email_loose,
        "date": p.date_loose,
        "phone": p.phone_loose,
        "number": p.number if p.code < _CODE_SHARE else 0.0,  # codes among numbers: not a measure
        "boolean": p.boolean,
    }.get(kind, 1.0)


def _combine(header: str | None, values: str | None, p: _Profile, code_header: bool = False) -> tuple[str, bool]:
    """Choose between the header's and the values' role; also say whether the header decided.

    A ``code_header`` (invoice numbers, stock codes, "Code nature"...) names
    codes that are never a measure: text, or a category when they have few
    distinct values.
    """
    role, named = _choose(header, values, p)
    if code_header and (role == "measure" or header == "text"):
        return ("category" if p.few_distinct else "text"), named
    return role, named


def _choose(header: str | None, values: str | None, p: _Profile) -> tuple[str, bool]:
    """:func:`_combine` before the rule of code headers."""
    if header in (None, "region", "category", "text") and p.country >= _COUNTRY_SHARE:
        return "country", header is not None  # "Country/Region", "Geography": names of countries
    if header is None:
        return values or "text", False
    if header == "text" or p.n == 0:
        return header, True
    kind = ROLE_KIND[header]
    if kind in ("email", "date", "phone", "number", "boolean"):
        # Typed roles keep the header unless the values mostly contradict it.
        if _agreement(kind, p) >= _AGREE:
            return header, True
        return values or "text", False
    if kind in ("text", "category", "postcode") and values in ("email", "phone", "date"):
        # A definite value kind beats a free-text header ("Contact" full of emails).
        return values, False
    if header in ("first_name", "last_name", "full_name") and p.organisation >= _ORGANISATION_SHARE:
        # "Nom de l'attribuant" holding "Département de Maine-et-Loire": the names of organisations.
        return "company", True
    if kind == "text" and _is_boolean(p):
        # Yes/no values are no name or address ("Voie générale" of 0 and 1).
        return values or "text", False
    return header, True


def _fallback(role: str, p: _Profile) -> str:
    """Role for a column whose single-valued role another column already has."""
    if ROLE_KIND[role] == "date":
        return "date"
    return "category" if p.few_distinct else "text"


def guess_roles(columns: list[str], sample: pd.DataFrame) -> dict[str, str]:
    """Guess the role of each column from its name and a sample of its values.

    Parameters
    ----------
    columns : list of str
        Column names, in file order.
    sample : pandas.DataFrame
        Up to a few thousand rows of raw string values (``None`` for empty),
        with a column for each name in ``columns``.

    Returns
    -------
    dict of str to str
        Column name -> key of :data:`ROLES`, in the order of ``columns``.
        The roles of :data:`SINGLE_ROLES` are given to one column at most:
        a column named for the role beats one guessed from its values, then
        (for ``id``) the column with the most unique values, then the first.

    Raises
    ------
    ColumnError
        If a column of ``columns`` is missing from ``sample``.
    """
    missing = [c for c in columns if c not in sample.columns]
    if missing:
        raise ColumnError(
            f"The sample has no column {', '.join(repr(c) for c in missing)}; "
            f"it has {', '.join(repr(str(c)) for c in sample.columns) or 'no columns'}.")

    series = []
    for name in columns:
        values = sample[name]
        if isinstance(values, pd.DataFrame):  # duplicated name: the first one
            values = values.iloc[:, 0]
        series.append(values)
    decided: list[tuple[str, bool, _Profile]] = []
    for position, (name, p) in enumerate(zip(columns, _profiles(series), strict=True)):
        header = header_role(name)
        code_header = bool(_CODE_HEADER.search(_fold_header(name)))
        decided.append((*_combine(header, _value_role(p, position == 0), p, code_header), p))

    # Hand out single-valued roles: columns with values before empty ones (an empty "Email (work)" never takes
    # the role from the column of e-mails beside it), header-named columns first, then the most unique id,
    # then file order.
    order = sorted(range(len(columns)), key=lambda i: (
        decided[i][2].n == 0,
        not decided[i][1],
        -(decided[i][2].distinct / decided[i][2].n) if decided[i][0] == "id" and decided[i][2].n else 0.0,
        i,
    ))
    roles: dict[int, str] = {}
    taken: set[str] = set()
    for i in order:
        role, _, p = decided[i]
        if role in SINGLE_ROLES:
            if role in taken:
                role = _fallback(role, p)
            else:
                taken.add(role)
        roles[i] = role
    return {name: roles[i] for i, name in enumerate(columns)}


def validate_roles(roles: dict[str, str]) -> None:
    """Check a role assignment chosen by the user.

    Parameters
    ----------
    roles : dict of str to str
        Column name -> role key.

    Raises
    ------
    ColumnError
        If a role is not a key of :data:`ROLES`, or a role of
        :data:`SINGLE_ROLES` is given to more than one column.
    """
    unknown = {c: r for c, r in roles.items() if r not in ROLES}
    if unknown:
        column, role = next(iter(unknown.items()))
        raise ColumnError(f"Column {column!r} has the unknown role {role!r}; "
                          f"expected one of {', '.join(ROLES)}.")
    for role in SINGLE_ROLES:
        holders = [c for c, r in roles.items() if r == role]
        if len(holders) > 1:
            raise ColumnError(f"Only one column can be the {ROLES[role]!r} column; "
                              f"{', '.join(repr(c) for c in holders)} all are. Set the others to another role.")


# --------------------------------------------------------------------------
# Order roles (transactions datasets: which columns RFM reads)
# --------------------------------------------------------------------------

# Tried in order on the folded header, first match wins: "Order date" is a date before it is an order id,
# "Unit price" a price before "price" could be an amount, "Total quantity" a quantity before a total.
_ORDER_HEADER_RULES: list[tuple[str, str]] = [
    ("status", r"statut|status|etat|order status|statut (de (la )?)?commande|annul\w*|cancel\w*|returned|retour"
               r"|refund\w*|rembours\w*|state of order"),
    ("order_date", r"date|dates|datetime|timestamp|jour|day|dt|time|le|purchased? (at|on)|ordered (at|on)"),
    ("unit_price", r"unit ?price|unit ?prices|price (each|per unit|unit)|unit (cost|amount|value)"
                   r"|prix (unitaire|unit|u|a l unite)|pu|pu ht|pu ttc|p u|cout unitaire|tarif unitaire"),
    ("quantity", r"quantity|quantities|qty|qte|qt|quantite|quantites|units|unites|pieces|nb (articles|produits|unites)"
                 r"|number of \w+|nombre (d |de )?\w+|nb \w+|count|items"),
    ("amount", r"amount|amounts|montant|montants|total|totals|total price|prix total|revenue|revenues|sales"
               r"|chiffre d affaires|ca|value|valeur|dollars?|euros?|spend|spent|paid|paye|payment|paiement"
               r"|subtotal|sous total|line total|net|gross|ttc|ht|sum|somme|depense|depenses|cost|cout"),
    ("unit_price", r"price|prices|prix|tarif"),
    ("order_id", r"invoice|invoices|invoice ?(no|nr|num|number|id|ref|reference|code)|facture|factures"
                 r"|(n|no|num|numero) (de )?(facture|commande|ticket|transaction|bon|piece)"
                 r"|(order|commande|transaction|receipt|ticket|purchase|achat) ?(id|no|nr|num|number|ref|reference"
                 r"|code|key)?|bon de commande|piece"),
    ("customer", r"customer|customers|client|clients|buyer|acheteur|member|membre|adherent|contact|account"
                 r"|compte|(customer|client|contact|member) ?(id|no|nr|number|code|ref|key)|id client|code client"
                 r"|(n|no|num|numero) client|email|e mail|courriel"),
    ("category", r"category|categories|categorie|categories|famille|family|rayon|department|departement produit"
                 r"|product (type|line|category|family)|type (de )?produit|gamme|univers|segment|type"),
]
_ORDER_PATTERNS = [(role, re.compile(rf"\b(?:{pattern})\b")) for role, pattern in _ORDER_HEADER_RULES]


def order_header_role(name: object) -> str | None:
    """The order role (a key of :data:`~segmentation.core.vocabulary.ORDER_ROLES`) a column name suggests.

    >>> [order_header_role(h) for h in ("InvoiceNo", "Quantity", "UnitPrice", "N° commande", "Montant TTC")]
    ['order_id', 'quantity', 'unit_price', 'order_id', 'amount']
    """
    folded = _fold_header(name)
    for role, pattern in _ORDER_PATTERNS:
        if pattern.search(folded):
            return role
    return None


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(pd.Series(values), errors="coerce").dropna()


def _looks_status(values: pd.Series) -> bool:
    """Some (not all) values are cancelled or returned words: a status column."""
    words = pd.Series(values).dropna().map(fold_word)
    words = words[words != ""]
    marked = words.isin(CANCELLED_WORDS | RETURNED_WORDS)
    return bool(len(words)) and bool(marked.any()) and words.nunique() <= _CATEGORY_MAX_DISTINCT


def guess_order_roles(columns: list[str], roles: dict[str, str], sample: pd.DataFrame | None = None
                      ) -> dict[str, str | None]:
    """Guess which column of a transactions dataset holds each order role, from its header and values.

    Parameters
    ----------
    columns : list of str
        Column names, in file order.
    roles : dict of str to str
        Column name -> column role (a key of :data:`ROLES`), as imported: an
        order role goes only to a column whose role can hold it
        (:data:`~segmentation.core.vocabulary.ORDER_ROLE_COLUMNS`: amounts,
        quantities and prices are numbers, the order date a date).
    sample : pandas.DataFrame, optional
        Normalised values of some rows (numbers as numbers). Values decide
        when the headers say nothing: among numeric columns without a telling
        name, one of whole numbers is a quantity, the first other one the
        amount; a column holding some cancelled or returned words is the status.

    Returns
    -------
    dict of str to (str or None)
        Every key of :data:`~segmentation.core.vocabulary.ORDER_ROLES` ->
        a column name, or ``None`` when no column fits. A column has one
        order role at most. ``amount`` is ``None`` when a quantity and a unit
        price are found instead (monetary is then quantity × price); a lone
        price column is the amount.
    """
    sample = sample if sample is not None else pd.DataFrame()
    found: dict[str, str | None] = dict.fromkeys(ORDER_ROLES)
    fits = {c: {o for o, allowed in ORDER_ROLE_COLUMNS.items() if roles.get(c) in allowed} for c in columns}
    used: set[str] = set()

    def give(role: str, column: str) -> None:
        if found[role] is None and column not in used and role in fits[column]:
            found[role] = column
            used.add(column)

    for column in columns:                         # header evidence first, in file order
        role = order_header_role(column)
        if role is not None:
            give(role, column)
    for column in columns:                         # then values, for the columns the headers left
        if column in used:
            continue
        values = sample[column] if column in sample.columns else pd.Series(dtype=object)
        if "status" in fits[column] and _looks_status(values):
            give("status", column)
        elif ROLE_KIND.get(roles.get(column, "")) == "date":
            give("order_date", column)
        elif roles.get(column) == "measure":
            numbers = _numbers(values)
            whole = len(numbers) > 0 and bool((numbers == numbers.round()).all())
            give("quantity" if whole and found["quantity"] is None else "amount", column)
        elif roles.get(column) == "category":
            give("category", column)
    if found["amount"] is None and found["unit_price"] is not None and found["quantity"] is None:
        found["amount"], found["unit_price"] = found["unit_price"], None   # a lone price is what was paid
    return found


__all__ = ["ROLES", "ROLE_KIND", "SINGLE_ROLES", "guess_order_roles", "guess_roles", "header_role",
           "order_header_role", "validate_roles"]

"""Column roles: what each column of a CRM export means, and a first guess of it.

A role says how a column is normalised (:data:`ROLE_KIND`) and what it is
used for: matching duplicates (names, email, phone, company...), describing
customers (measures, categories) or filtering them (consent, opt-out). The
roles, their kinds and the yes/no words are the one vocabulary of
:mod:`segmentation.core.vocabulary` (re-exported here). Pure: no SQL.

:func:`guess_roles` reads the header (French or English, with any case,
accents or punctuation) and a sample of raw values. Header evidence wins
when the values agree or say nothing definite; values win when the header is
unknown or when they clearly contradict it (a "Contact" column full of email
addresses is an email column).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from ..core.errors import ColumnError
from ..core.vocabulary import (
    NO_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
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
_HEADER_RULES: list[tuple[str | None, str]] = [
    # People and metadata that are not the customer's own data.
    (None, r"owner|proprietaire|created by|modified by|cree par|modifie par|assigned( to)?|sales ?rep"
           r"|account manager|charge d affaires"),
    ("text", r"ip|ip address|adresse ip|notes?|comments?|commentaires?|description|remarques?"
             r"|observations?|message|memo"),
    # Dates, before the words that they qualify ("Date opt-in", "Last order").
    ("birth_date", r"birth ?(date|day)|date of birth|dob|date (de |d )?naissance|naissance|nee? le|anniversaire"),
    ("created_date", r"date (de |d )?(creation|ajout|inscription|entree|premier contact)"
                     r"|(creation|created?|creee?) (date|le|on|at|time|timestamp)|date created"
                     r"|^(creation|created|createdate|createddate)$|customer since|client depuis"
                     r"|sign ?up date|inscrit le"),
    ("last_activity_date", r"(last|latest|most recent|derniere?) (activity|activite|action|interaction|engagement"
                           r"|contact|contacted|seen|login|connexion|visite?|touch|echange|relance)"
                           r"|date (de |d )?(la )?derniere?"),
    ("date", r"date|dates|datetime|timestamp|time|jour|heure|\w+ed (at|on)$|le$"),
    # Contact permissions; opt-out first, since "unsubscribed" contains "subscribed".
    ("opt_out", r"opt ?out|opted out|unsubscribed?|desabonnee?s?|desabonnement|desinscrite?s?|desinscription"
                r"|do not (contact|email|mail|call)|blacklistee?|liste rouge|bloctel"
                r"|refus (de )?(contact|prospection)"),
    ("consent", r"consent(ement|ements|ed|s)?|opt ?in|opted in|optin|rgpd|gdpr|newsletter|subscribed|abonnee?"
                r"|accepte?s? (les )?(communications?|e ?mails?|offres|marketing)|accord (commercial|marketing)"
                r"|marketing (ok|allowed|consent)|permission marketing"),
    # Contact points and identifiers.
    ("email", r"e ?mails?|courriels?|mail|mels?|adresse (e )?mail"),
    ("phone", r"phone|phones|telephone|telephones|tel|tels|mobile|portable|cell|cellphone|cellular|gsm|fax|mob"
              r"|numero (de )?(tel|telephone|portable|mobile)|ligne directe"),
    # Identifiers of the person or company, not of the record: the same value means the same customer.
    ("exact", r"siret|siren|n tva|numero tva|tva intracom\w*|vat( number| no| id)?|duns|ssn|social security"
              r"( number)?|soc sec( id)?|securite sociale|nir|passport|passeport|tax id|national id"
              r"|company (registration )?number|registration number"),
    ("id", r"id|ids|identifiant|identifier|uuid|guid|ref|reference|code client|numero client|num client"
           r"|n client|no client|(customer|client|contact) (number|no|nr|key)|matricule|leid|euid"),
    # Geography.
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
                r"|discount|nps|csat|jours|days|mois|months|annees|years|latitude|longitude"),
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
_CATEGORY_MAX_DISTINCT = 50
_CATEGORY_MAX_SHARE = 0.2

_NULL_WORDS = ("", "-", "--", "?", "n/a", "#n/a", "na", "null", "nan", "none", "nc", "n.c.", "n/c", "nd", "n.d.")
_BOOLEAN_WORDS = YES_WORDS | NO_WORDS  # the one vocabulary: segmentation.core.vocabulary
_OPT_WORDS = OPT_IN_WORDS | OPT_OUT_WORDS

_EMAIL = r"(?:mailto:)?[^\s@<>,;]+@[^\s@<>,;]+"
_DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{4}/\d{1,2}/\d{1,2}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:\d{4}|\d{2})"
    r"(?:[ T]\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s?[AaPp][Mm])?)?"
    r"|\d{1,2}(?:er)?\s+(?:jan|fe|f[ée]v|mar|apr|avr|may|mai|jun|juin|jul|juil|aug|ao[uû]|sep|oct|nov|d[ée]c)"
    r"[a-zéû]*\.?\s+\d{4}"
    r"|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}"
)
_EXCEL_SERIAL = r"[1-9]\d{4}(?:\.\d+)?"  # 10000-99999: 1927 to 2173 as an Excel date
_COMPACT_DATE = r"(?:1[89]|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # yyyymmdd, under a date header
_NUMBER = (
    r"[-+]?\s*(?:[€$£]\s*)?[-+]?(?:\d{1,3}(?:[ ',.]\d{3})+|\d+)(?:[.,]\d+)?"
    r"\s*[kKmM]?\s*(?:€|eur|euros?|\$|usd|£|gbp|chf|%|ht|ttc)?"
)
_THOUSANDS = r"\d{1,3}(?:[ .,]\d{3})+(?:[.,]\d+)?"
_PHONE_CHARS = r"(?:\+|00)?[\d\s.\-()/]*(?:\(0\))?[\d\s.\-()/]*"
_POSTCODE = (
    r"0\d{4}"                                            # French codes that kept their leading zero
    r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"                 # UK
    r"|[A-Z]\d[A-Z] ?\d[A-Z]\d"                          # Canada
)
_SHORT_CODE = r"[A-Za-z0-9][A-Za-z0-9_\-/#:]{0,39}"


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
    postcode: float = 0.0
    boolean: float = 0.0
    boolean_distinct: int = 0
    opt_words: bool = False
    short_code: float = 0.0
    yes_no: bool = False  # every value a yes/no word, or a flag column (x and empty cells)

    @property
    def few_distinct(self) -> bool:
        """Few distinct values relative to rows: a category."""
        return self.n > 0 and self.distinct <= min(_CATEGORY_MAX_DISTINCT, _CATEGORY_MAX_SHARE * self.n)

    @property
    def all_unique(self) -> bool:
        return self.n >= 2 and self.distinct == self.n


def _profile(values: pd.Series) -> _Profile:
    """Measure a column's sample values, each distinct value once (weighted by its count)."""
    text = values.dropna().astype(str).str.replace("[\u00a0\u202f]", " ", regex=True).str.strip()
    text = text[~text.str.lower().isin(_NULL_WORDS)]
    n = len(text)
    if n == 0:
        return _Profile()
    counts = text.value_counts()
    distinct = counts.index.to_series(index=range(len(counts))).astype(str)
    weights = counts.to_numpy()

    def share(mask: pd.Series) -> float:
        return float(weights[mask.fillna(False).to_numpy(dtype=bool)].sum() / n)

    folded = distinct.map(fold_word)
    is_bool = folded.isin(_BOOLEAN_WORDS)
    is_date = distinct.str.fullmatch(_DATE, case=False)
    digits = distinct.str.count(r"\d")
    phone_chars = distinct.str.fullmatch(_PHONE_CHARS)
    # A real phone number: 8 to 15 digits, written with a prefix (+, 00, 0) or
    # separators, and not a thousands-grouped amount such as "12 345 678".
    phone = (phone_chars & digits.between(8, 15) & ~is_date & ~distinct.str.fullmatch(_THOUSANDS)
             & (distinct.str.match(r"(?:\+|0)") | distinct.str.contains(r"\d[\s.\-()/]+\d")))
    number = distinct.str.fullmatch(_NUMBER, case=False)
    return _Profile(
        n=n,
        distinct=len(distinct),
        email=share(distinct.str.fullmatch(_EMAIL)),
        email_loose=share(distinct.str.contains("@", regex=False)),
        date=share(is_date),
        date_loose=share(is_date | distinct.str.fullmatch(_EXCEL_SERIAL) | distinct.str.fullmatch(_COMPACT_DATE)),
        phone=share(phone),
        phone_loose=share(phone_chars & digits.ge(6)),
        number=share(number),
        leading_zero=share(number & distinct.str.match(r"[-+]?0\d")),
        postcode=share(distinct.str.fullmatch(_POSTCODE, case=False) | distinct.str.fullmatch(r"\d{5}")),
        boolean=share(is_bool),
        boolean_distinct=int(folded[is_bool].nunique()),
        opt_words=bool(folded.isin(_OPT_WORDS).any()),
        short_code=share(distinct.str.fullmatch(_SHORT_CODE)),
        yes_no=looks_yes_no(values),
    )


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
    if p.number >= _MOSTLY and p.leading_zero < 0.1:
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
        "number": p.number,
        "boolean": p.boolean,
    }.get(kind, 1.0)


def _combine(header: str | None, values: str | None, p: _Profile) -> tuple[str, bool]:
    """Choose between the header's and the values' role; also say whether the header decided."""
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

    decided: list[tuple[str, bool, _Profile]] = []
    for position, name in enumerate(columns):
        values = sample[name]
        if isinstance(values, pd.DataFrame):  # duplicated name: the first one
            values = values.iloc[:, 0]
        p = _profile(values)
        decided.append((*_combine(header_role(name), _value_role(p, position == 0), p), p))

    # Hand out single-valued roles: header-named columns first, then the most
    # unique id, then file order.
    order = sorted(range(len(columns)), key=lambda i: (
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


__all__ = ["ROLES", "ROLE_KIND", "SINGLE_ROLES", "guess_roles", "header_role", "validate_roles"]

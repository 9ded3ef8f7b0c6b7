"""The one vocabulary of the engine: column roles, their kinds, the kinds of dataset, yes/no words.

The role guesser (:mod:`segmentation.ingest.roles`), the normaliser
(:mod:`segmentation.ingest.normalize`), the propensity targets and the
audience filters all read yes/no values through this module, so that a value
the guesser calls "consent" is also one the normaliser turns into a boolean.
Pure: no SQL is executed here (:func:`yes_no_sql` only builds SQL text).

Folding (:func:`fold_word`): Unicode NFC, surrounding white space trimmed,
inner runs of white space made one space, :meth:`str.casefold`. Accents are
*kept*; the word lists hold both spellings (``abonné`` and ``abonne``), so
``"ABONNÉ"``, ``"Abonne"`` and ``"abonné"`` all match, and the SQL side
(:func:`yes_no_sql`) folds the same way (NFC, trim, ``lower``).

Direction: plain words (``oui``, ``1``, ``true``) mean yes in every column.
The directional words of :data:`OPT_IN_WORDS` and :data:`OPT_OUT_WORDS`
("subscribed", "unsubscribed"...) say what the *customer* chose: in a consent
column an opt-out word is *no*; in an opt-out column (``opt_out=True``) it is
*yes* and an opt-in word is *no*.

Flags: a column whose only non-missing value is one yes word (an ``x``, a
``1``, a ``✓``) and that has missing values is a *flag column*: the mark means
yes and an empty cell means no (:func:`is_flag_column`). In any other column an
empty cell is unknown (``None``/NULL).
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

# --------------------------------------------------------------------------
# Roles and kinds
# --------------------------------------------------------------------------

#: Role key -> the label the Import page shows.
ROLES: dict[str, str] = {
    "ignore": "Ignore",
    "id": "Record id",
    "exact": "Other identifier (matched exactly)",
    "first_name": "First name",
    "last_name": "Last name",
    "full_name": "Full name",
    "email": "Email",
    "phone": "Phone",
    "company": "Company",
    "address": "Address",
    "postcode": "Postcode",
    "city": "City",
    "region": "Region",
    "country": "Country",
    "created_date": "Created date",
    "last_activity_date": "Last activity date",
    "birth_date": "Birth date",
    "date": "Other date",
    "measure": "Numeric measure",
    "category": "Category",
    "consent": "Consent (yes = may contact)",
    "opt_out": "Opt-out (yes = do not contact)",
    "text": "Free text",
}

#: Role key -> how its values are normalised (the normaliser's kind).
ROLE_KIND: dict[str, str] = {
    "ignore": "text",
    "id": "id",
    "exact": "id",
    "first_name": "text",
    "last_name": "text",
    "full_name": "text",
    "email": "email",
    "phone": "phone",
    "company": "text",
    "address": "text",
    "postcode": "postcode",
    "city": "category",
    "region": "category",
    "country": "category",
    "created_date": "date",
    "last_activity_date": "date",
    "birth_date": "date",
    "date": "date",
    "measure": "number",
    "category": "category",
    "consent": "boolean",
    "opt_out": "boolean",
    "text": "text",
}

#: Roles that at most one column may have (a second email column is just text).
SINGLE_ROLES: frozenset[str] = frozenset({
    "id", "first_name", "last_name", "full_name", "email", "company",
    "created_date", "last_activity_date", "birth_date",
})

#: What the rows of a dataset are.
KINDS: tuple[str, ...] = ("customers", "transactions")

# --------------------------------------------------------------------------
# Order roles: what a column of a transactions dataset is for RFM
# --------------------------------------------------------------------------

#: Order role key -> the label the Behaviour page shows. A transactions dataset's columns keep their column
#: role (how they are normalised); the order roles say which of them RFM reads (guessed by
#: :func:`segmentation.ingest.roles.guess_order_roles`, changed on the page or with ``rfm --…-column``).
ORDER_ROLES: dict[str, str] = {
    "customer": "Customer id (link)",
    "order_date": "Order date",
    "order_id": "Order id (invoice)",
    "amount": "Amount",
    "quantity": "Quantity",
    "unit_price": "Unit price",
    "category": "Category",
    "status": "Status (cancelled / returned)",
}

#: Order role -> the column roles (keys of :data:`ROLES`) whose columns can hold it: amounts, quantities and
#: prices are normalised numbers, the order date a normalised date.
ORDER_ROLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("id", "exact", "text", "category", "email", "phone"),
    "order_date": ("date", "created_date", "last_activity_date"),
    "order_id": ("id", "exact", "text", "category", "measure"),
    "amount": ("measure",),
    "quantity": ("measure",),
    "unit_price": ("measure",),
    "category": ("category", "text", "city", "region", "country"),
    "status": ("category", "text", "consent", "opt_out"),
}

#: Folded status words (see :func:`fold_word`) saying an order was cancelled: it never happened.
CANCELLED_WORDS: frozenset[str] = frozenset({
    "cancelled", "canceled", "cancel", "cancellation", "void", "voided", "annulé", "annule", "annulée", "annulee",
    "annulation", "annulé par le client", "commande annulée", "commande annulee", "storniert", "anulado",
})
#: Folded status words saying an order (or this line) was returned or refunded: the money went back.
RETURNED_WORDS: frozenset[str] = frozenset({
    "returned", "return", "refunded", "refund", "partially refunded", "credit note", "chargeback", "retour",
    "retourné", "retourne", "retournée", "retournee", "remboursé", "rembourse", "remboursée", "remboursee",
    "remboursement", "avoir", "rétractation", "retractation",
})
#: The default mark of a cancellation invoice: an order id made of this prefix and the digits of an invoice
#: (``C536379`` in the UCI Online Retail file). Configurable (``RFMSettings.cancel_prefix``; empty: none).
CANCELLATION_PREFIX = "C"

#: Cell texts that mean "no value" in every role (compared trimmed, exactly as listed): what R, pandas,
#: Excel and SQL tools write for a missing value. Configurable per import (``NormalizeOptions.missing``).
MISSING_WORDS: tuple[str, ...] = (
    "NA", "N/A", "n/a", "N/a", "na", "null", "NULL", "Null", "None", "none", "NaN", "nan", "-", "--", "#N/A",
    "#N/D", "#NULL!", "<NA>",
)

# --------------------------------------------------------------------------
# Yes/no words
# --------------------------------------------------------------------------

#: Words that say the customer chose to receive (yes in a consent column, no in an opt-out column).
OPT_IN_WORDS: frozenset[str] = frozenset({
    "opt-in", "optin", "opt in", "opted in", "opted-in", "subscribed", "abonné", "abonne", "abonnée", "abonnee",
    "inscrit", "inscrite", "consent", "consenti", "consentie", "accepte", "accepté", "acceptée", "acceptee",
})
#: Words that say the customer chose not to receive (no in a consent column, yes in an opt-out column).
#: Mailchimp's "cleaned" (the address bounced) may not be mailed either.
OPT_OUT_WORDS: frozenset[str] = frozenset({
    "opt-out", "optout", "opt out", "opted out", "opted-out", "unsubscribed", "désabonné", "desabonne",
    "désabonnée", "desabonnee", "désinscrit", "desinscrit", "désinscrite", "desinscrite", "refus", "refusé",
    "refuse", "refusée", "refusee", "cleaned",
})
#: Marks of a flag column (the mark is yes, an empty cell no) beside the plain yes words.
FLAG_MARKS: frozenset[str] = frozenset({"x", "✓", "✔", "☑"})

_PLAIN_YES = frozenset({
    "1", "1.0", "1,0", "1.00", "true", "vrai", "yes", "y", "oui", "o", "ok", "si", "sí",
})
_PLAIN_NO = frozenset({
    "0", "0.0", "0,0", "0.00", "false", "faux", "no", "n", "non",
})

#: Folded words that mean yes (see :func:`fold_word`); directional words as in a consent column.
YES_WORDS: frozenset[str] = _PLAIN_YES | FLAG_MARKS | OPT_IN_WORDS
#: Folded words that mean no; directional words as in a consent column.
NO_WORDS: frozenset[str] = _PLAIN_NO | OPT_OUT_WORDS

_SPACES = re.compile(r"\s+")


def fold_word(value: object) -> str:
    """A value as the word lists hold it: NFC, trimmed, inner white space single, case-folded (accents kept).

    ``None`` and NaN fold to ``""``.

    >>> fold_word("  Opted   IN ")
    'opted in'
    >>> fold_word("ABONNÉ")
    'abonné'
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    text = unicodedata.normalize("NFC", str(value))
    return _SPACES.sub(" ", text).strip().casefold()


def _words(opt_out: bool) -> tuple[frozenset[str], frozenset[str]]:
    """Yes words and no words, for a consent-like column or an opt-out column."""
    if not opt_out:
        return YES_WORDS, NO_WORDS
    return (YES_WORDS - OPT_IN_WORDS) | OPT_OUT_WORDS, (NO_WORDS - OPT_OUT_WORDS) | OPT_IN_WORDS


def yes_no(value: object, *, opt_out: bool = False) -> bool | None:
    """``True`` for a yes word, ``False`` for a no word, ``None`` for a missing or unknown value.

    With ``opt_out``, the directional words read as an opt-out column means them.
    """
    word = fold_word(value)
    yes, no = _words(opt_out)
    if word in yes:
        return True
    if word in no:
        return False
    return None


def yes_no_series(values: pd.Series, *, opt_out: bool = False, blank_is_no: bool = False) -> pd.Series:
    """:func:`yes_no` of every value, as a pandas ``"boolean"`` series (``<NA>`` for missing or unknown).

    Vectorised: each distinct value is looked up once. With ``blank_is_no``
    (a flag column, see :func:`is_flag_column`) missing and blank values are
    ``False``.
    """
    values = pd.Series(values)
    distinct = pd.Series(values.dropna().unique())
    lookup = {v: yes_no(v, opt_out=opt_out) for v in distinct}
    out = values.map(lambda v: lookup.get(v) if pd.notna(v) else None)
    result = pd.array([None if v is None or v is pd.NA else bool(v) for v in out], dtype="boolean")
    series = pd.Series(result, index=values.index, name=values.name)
    if blank_is_no:
        blank = values.isna() | values.map(lambda v: pd.notna(v) and fold_word(v) == "")
        series[blank.to_numpy(dtype=bool)] = False
    return series


def _sql_list(words) -> str:
    return "(" + ", ".join("'" + w.replace("'", "''") + "'" for w in sorted(words)) + ")"


def fold_word_sql(expr: str) -> str:
    """SQL text folding a VARCHAR expression the way :func:`fold_word` does (NFC, trim, lower).

    White space: runs of spaces and tabs become one space (other control characters are left as they are).
    """
    nfc = f"CASE WHEN strlen({expr}) = length({expr}) THEN {expr} ELSE nfc_normalize({expr}) END"
    # The regex (a third of the cost) runs only on the rare values with doubled spaces or tabs.
    spaced = f"contains({expr}, '  ') OR contains({expr}, chr(9))"
    return f"lower(trim(CASE WHEN {spaced} THEN regexp_replace({nfc}, '\\s+', ' ', 'g') ELSE {nfc} END))"


def yes_no_sql(expr: str, *, opt_out: bool = False, blank_is_no: bool = False) -> str:
    """SQL text: a ``CASE`` giving TRUE, FALSE or NULL from the VARCHAR expression ``expr``.

    ``expr`` is pasted as is (it may be a quoted column or ``{v}``); the words
    are those of :func:`yes_no`. With ``blank_is_no`` missing and blank values
    are FALSE (a flag column).
    """
    yes, no = _words(opt_out)
    folded = fold_word_sql(expr)
    blank = f"WHEN {expr} IS NULL OR trim({expr}) = '' THEN false " if blank_is_no else ""
    return f"(CASE {blank}WHEN {folded} IN {_sql_list(yes)} THEN true WHEN {folded} IN {_sql_list(no)} THEN false END)"


def _present(values: pd.Series) -> pd.Series:
    """Folded non-missing values (blank cells are missing)."""
    folded = pd.Series(values).dropna().map(fold_word)
    return folded[folded != ""]


def is_flag_column(values: pd.Series) -> bool:
    """Whether a column is a flag: one yes word only (``x``, ``1``, ``oui``...) and some missing cells.

    In a flag column an empty cell means no.
    """
    values = pd.Series(values)
    present = _present(values)
    return (len(present) > 0 and len(present) < len(values) and present.nunique() == 1
            and present.iloc[0] in YES_WORDS)


def looks_yes_no(values: pd.Series) -> bool:
    """Whether a column's values are yes/no values (for the role guesser).

    The rule: every distinct non-missing value is a yes or a no word, and
    either both a yes and a no word occur (``oui``/``non``, ``1.0``/``0.0``,
    ``subscribed``/``unsubscribed``), or the column is a flag
    (:func:`is_flag_column`: ``x`` and empty cells). A column holding one
    word and no empty cell is a constant, not a yes/no column.
    """
    present = _present(values)
    if present.empty:
        return False
    words = set(present.unique())
    if not words <= (YES_WORDS | NO_WORDS):
        return False
    if words & YES_WORDS and words & NO_WORDS:
        return True
    return is_flag_column(values)


__all__ = [
    "CANCELLATION_PREFIX",
    "CANCELLED_WORDS",
    "FLAG_MARKS",
    "KINDS",
    "MISSING_WORDS",
    "NO_WORDS",
    "OPT_IN_WORDS",
    "OPT_OUT_WORDS",
    "ORDER_ROLES",
    "ORDER_ROLE_COLUMNS",
    "RETURNED_WORDS",
    "ROLES",
    "ROLE_KIND",
    "SINGLE_ROLES",
    "YES_WORDS",
    "fold_word",
    "fold_word_sql",
    "is_flag_column",
    "looks_yes_no",
    "yes_no",
    "yes_no_series",
    "yes_no_sql",
]

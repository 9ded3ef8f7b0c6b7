"""The one vocabulary: yes/no words as CRMs write them, in Python and in SQL, and the yes/no column rule."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from segmentation.core.vocabulary import (
    NO_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    ROLE_KIND,
    ROLES,
    SINGLE_ROLES,
    YES_WORDS,
    fold_word,
    is_flag_column,
    looks_yes_no,
    yes_no,
    yes_no_series,
    yes_no_sql,
)
from segmentation.ingest import roles as ingest_roles

# Spelling -> meaning in a consent column, meaning in an opt-out column.
SPELLINGS = [
    ("1", True, True), ("0", False, False), ("1.0", True, True), ("0.0", False, False),
    ("1,0", True, True), ("0,0", False, False),
    ("true", True, True), ("FALSE", False, False), ("True", True, True),        # HubSpot, Excel
    ("Oui", True, True), ("NON", False, False), ("o", True, True), ("n", False, False),
    ("Yes", True, True), ("no", False, False), ("Y", True, True),
    ("vrai", True, True), ("Faux", False, False),
    ("x", True, True), ("X", True, True), ("✓", True, True),
    ("subscribed", True, False), ("unsubscribed", False, True), ("cleaned", False, True),  # Mailchimp
    ("opt-in", True, False), ("Opt-Out", False, True), ("  opted   in ", True, False), ("optout", False, True),
    ("abonné", True, False), ("ABONNE", True, False), ("Désabonné", False, True), ("desinscrit", False, True),
    ("Accepté", True, False), ("refusé", False, True), ("refus", False, True),
    ("maybe", None, None), ("2", None, None), ("", None, None), (None, None, None),
]


@pytest.mark.parametrize(("raw", "consent", "opt_out"), SPELLINGS)
def test_yes_no_of_each_spelling(raw, consent, opt_out):
    assert yes_no(raw) is consent
    assert yes_no(raw, opt_out=True) is opt_out


def test_sql_agrees_with_python_on_every_spelling():
    raws = [r for r, _, _ in SPELLINGS]
    con = duckdb.connect()
    sql = (f"SELECT {yes_no_sql('x')}, {yes_no_sql('x', opt_out=True)} "
           f"FROM (SELECT unnest(?::VARCHAR[]) AS x, generate_subscripts(?::VARCHAR[], 1) AS i) ORDER BY i")
    rows = con.execute(sql, [raws, raws]).fetchall()
    assert rows == [(consent, opt_out) for _, consent, opt_out in SPELLINGS]


def test_sql_quotes_a_column_expression_and_blank_is_no():
    con = duckdb.connect()
    con.execute('CREATE TABLE t ("Opt in?" VARCHAR, i INTEGER)')
    con.execute("INSERT INTO t VALUES ('x', 1), (NULL, 2), ('  ', 3), ('X', 4)")
    expr = yes_no_sql('"Opt in?"', blank_is_no=True)
    assert [r[0] for r in con.execute(f"SELECT {expr} FROM t ORDER BY i").fetchall()] == [True, False, False, True]
    assert [r[0] for r in con.execute(f'SELECT {yes_no_sql(chr(34) + "Opt in?" + chr(34))} FROM t ORDER BY i')
            .fetchall()] == [True, None, None, True]


def test_fold_word_trims_collapses_and_casefolds_keeping_accents():
    assert fold_word("  Opted \t IN ") == "opted in"
    assert fold_word("ABONNÉ") == "abonné"
    assert fold_word("abonne\u0301") == "abonné"  # decomposed accent: NFC first
    assert fold_word(None) == "" and fold_word(float("nan")) == "" and fold_word(pd.NA) == ""
    assert fold_word(1) == "1"


def test_word_sets_are_folded_disjoint_and_directional_words_have_their_consent_meaning():
    assert all(fold_word(w) == w for w in YES_WORDS | NO_WORDS)
    assert not YES_WORDS & NO_WORDS
    assert OPT_IN_WORDS <= YES_WORDS and OPT_OUT_WORDS <= NO_WORDS
    assert {"1", "1.0", "true", "vrai", "yes", "y", "oui", "o", "x", "opt-in", "optin", "opted in", "subscribed",
            "abonné", "inscrit", "accepte", "accepté", "ok"} <= YES_WORDS
    assert {"0", "0.0", "false", "faux", "no", "n", "non", "opt-out", "optout", "opted out", "unsubscribed",
            "désabonné", "désinscrit", "refus", "refusé"} <= NO_WORDS


def test_yes_no_series_is_boolean_dtype_with_na():
    values = pd.Series(["Oui", "non", None, "1.0", "maybe", "oui"], index=[10, 11, 12, 13, 14, 15], name="c")
    out = yes_no_series(values)
    assert str(out.dtype) == "boolean"
    assert list(out.index) == [10, 11, 12, 13, 14, 15] and out.name == "c"
    assert out.tolist() == [True, False, pd.NA, True, pd.NA, True]
    assert yes_no_series(pd.Series(["unsubscribed", "subscribed"]), opt_out=True).tolist() == [True, False]
    flag = pd.Series(["x", None, "", "X"])
    assert yes_no_series(flag).tolist() == [True, pd.NA, pd.NA, True]
    assert yes_no_series(flag, blank_is_no=True).tolist() == [True, False, False, True]


@pytest.mark.parametrize(("values", "expected"), [
    (["1.0", "0.0", "1.0"], True),
    (["1", "0"], True),
    (["Oui", "Non", None], True),
    (["TRUE", "FALSE"], True),
    (["subscribed", "unsubscribed", "cleaned"], True),
    (["x", None, None, "x"], True),        # a flag column: x and empty cells
    (["x", "", "X"], True),
    (["oui", "oui"], False),               # a constant, not a yes/no column
    (["x", "x"], False),
    (["oui", "non", "peut-être"], False),  # a word that is neither
    (["3", "1", "0"], False),
    ([None, None], False),
    ([], False),
])
def test_looks_yes_no(values, expected):
    assert looks_yes_no(pd.Series(values, dtype=object)) is expected


def test_flag_column_rule():
    assert is_flag_column(pd.Series(["x", None, "x"]))
    assert is_flag_column(pd.Series(["1", None]))
    assert not is_flag_column(pd.Series(["x", "x"]))           # no empty cell: nothing says "no"
    assert not is_flag_column(pd.Series(["x", "non", None]))   # two words: a yes/no column, empty = unknown
    assert not is_flag_column(pd.Series(["Paris", None]))


def test_roles_come_from_the_vocabulary():
    assert ingest_roles.ROLES is ROLES and ingest_roles.ROLE_KIND is ROLE_KIND
    assert ingest_roles.SINGLE_ROLES is SINGLE_ROLES
    assert set(ROLES) == set(ROLE_KIND)
    assert {r for r, k in ROLE_KIND.items() if k == "boolean"} == {"consent", "opt_out"}

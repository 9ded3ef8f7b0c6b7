"""The SQL text helpers of the ingest builders: the missing-word test and the separators stripped by replace()."""

from __future__ import annotations

import duckdb
import pytest

from segmentation.core.vocabulary import MISSING_WORDS
from segmentation.ingest.phones import compact_sql
from segmentation.ingest.sqltext import SPACE_SEPARATORS, regex_literal, sql_string, trimmed_in_sql

WORDS = [*MISSING_WORDS, "(vide)", "non renseigné", "a.b", "x|y", "[x]", "$", "^v", "a+b", "*", "{1}", "\\"]


def in_list(words) -> str:
    return ", ".join(sql_string(w) for w in words)


def test_the_missing_word_regex_decides_what_trim_and_in_decide_for_every_code_point():
    # DuckDB's trim strips the Unicode space separators (Zs) and nothing else: the regex must strip the same.
    con = duckdb.connect()
    differ, trimmed = con.execute(
        f"SELECT count(*) FILTER (WHERE (trim(s) IN ('NA')) IS DISTINCT FROM ({trimmed_in_sql('s', ['NA'])})), "
        "count(*) FILTER (WHERE trim(s) = 'NA') "
        "FROM (SELECT chr(CAST(range AS INTEGER)) || 'NA' || chr(CAST(range AS INTEGER)) AS s FROM range(1, 65536) "
        "WHERE range NOT BETWEEN 55296 AND 57343)").fetchone()
    assert differ == 0
    assert trimmed == 17  # the space, U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000
    assert [cp for (cp,) in con.execute("SELECT range FROM range(1, 65536) WHERE range NOT BETWEEN 55296 AND 57343 "
                                         "AND trim(chr(CAST(range AS INTEGER)) || 'x') = 'x'").fetchall()] \
        == list(SPACE_SEPARATORS)  # the characters the regex is tried after, when a cell starts with one


def test_every_first_character_of_a_word_or_a_space_is_tried():
    con = duckdb.connect()
    words = ["NA", "été", "😀x", "", "-"]
    for value in ["NA", " NA", "\u3000été ", "été", "😀x", "", "   ", "-", "\u2007-\u2007", "x", "ÉTÉ"]:
        expected, got = con.execute(f"SELECT trim(v) IN ({in_list(words)}), {trimmed_in_sql('v', words)} "
                                    "FROM (SELECT CAST(? AS VARCHAR) AS v)", [value]).fetchone()
        assert got == expected, repr(value)


@pytest.mark.parametrize("value", [*WORDS, " NA ", "\u00a0N/A\u202f", "\tNA", "NA\n", "NAN", "N/A ", "  ", "",
                                   "(vide) ", "vide", "ab", "a b", "xy", "x", "aab", "$$", "v", "ab+", "**", "1",
                                   "\\\\", None, "Martin", "NA NA"])
def test_the_missing_word_regex_matches_exactly_the_trimmed_words(value):
    con = duckdb.connect()
    for words in (WORDS, ["", *WORDS], ["NA"]):
        expected, got = con.execute(f"SELECT trim(v) IN ({in_list(words)}), {trimmed_in_sql('v', words)} "
                                    "FROM (SELECT CAST(? AS VARCHAR) AS v)", [value]).fetchone()
        assert got == expected, (value, words)


def test_no_missing_words_is_false_and_literals_are_escaped():
    assert trimmed_in_sql("x", []) == "false"
    assert regex_literal("#N/A (x)?") == "#N/A \\(x\\)\\?"


def test_the_phone_separators_are_the_ones_regexp_replace_would_remove():
    con = duckdb.connect()
    values = ["01 23 45 67 89", "01.23.45.67.89", "01-23/45\t67\n89\r\x0c", "+33 (0)6 12", "0\u00a0612", "\x0b12",
              None, ""]
    for value in values:
        old, new = con.execute(f"SELECT regexp_replace(?, '[\\s.\\-/()]', '', 'g'), {compact_sql('?')}",
                               [value, value]).fetchone()
        assert new == old, repr(value)

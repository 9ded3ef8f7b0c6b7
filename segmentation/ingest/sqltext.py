"""SQL text helpers shared by the ingest builders (pure: no execution)."""

from __future__ import annotations

_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


def sql_string(value: str) -> str:
    """Quote ``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values) -> str:
    """``['a', 'b']`` as a DuckDB list literal of strings."""
    return "[" + ", ".join(sql_string(str(v)) for v in values) + "]"


def regex_literal(text: str) -> str:
    """``text`` as an RE2 pattern that matches it literally."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


#: The code points DuckDB's ``trim`` strips: the Unicode space separators (Zs).
SPACE_SEPARATORS = (0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)


def trimmed_in_sql(column: str, words) -> str:
    """SQL: whether ``trim(column) IN (words)``, as one regular expression (DuckDB runs it faster than a ``trim``
    and an ``IN`` list), tried only on values whose first character may start one (a space or a word's first).

    DuckDB's ``trim`` strips the Unicode space separators (:data:`SPACE_SEPARATORS`), not tabs or line ends; the
    pattern strips the same. An empty word matches cells of spaces only (and the empty cell). With no words at
    all: false.
    """
    words = [str(w) for w in words]
    if not words:
        return "false"
    firsts = sorted({ord(w[0]) if w else 0 for w in words} | set(SPACE_SEPARATORS) | ({0} if "" in words else set()))
    pattern = r"\p{Zs}*(?:" + "|".join(regex_literal(w) for w in words) + r")\p{Zs}*"
    return (f"(ascii({column}) IN ({', '.join(map(str, firsts))}) "
            f"AND regexp_full_match({column}, {sql_string(pattern)}))")


__all__ = ["SPACE_SEPARATORS", "regex_literal", "sql_list", "sql_string", "trimmed_in_sql"]

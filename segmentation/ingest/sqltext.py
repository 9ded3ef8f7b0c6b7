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


def trimmed_in_sql(column: str, words) -> str:
    """SQL: whether ``trim(column) IN (words)``, as one regular expression (DuckDB runs it faster than
    a ``trim`` and an ``IN`` list).

    DuckDB's ``trim`` strips the Unicode space separators (``\\p{Zs}``: the space, U+00A0, U+2000–U+200A, ...),
    not tabs or line ends; the pattern strips the same. An empty word matches cells of spaces only. With no
    words at all: false.
    """
    words = list(words)
    if not words:
        return "false"
    pattern = r"\p{Zs}*(?:" + "|".join(regex_literal(str(w)) for w in words) + r")\p{Zs}*"
    return f"regexp_full_match({column}, {sql_string(pattern)})"


__all__ = ["regex_literal", "sql_list", "sql_string", "trimmed_in_sql"]

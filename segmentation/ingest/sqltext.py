"""SQL text helpers shared by the ingest builders (pure: no execution)."""

from __future__ import annotations


def sql_string(value: str) -> str:
    """Quote ``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_list(values) -> str:
    """``['a', 'b']`` as a DuckDB list literal of strings."""
    return "[" + ", ".join(sql_string(str(v)) for v in values) + "]"


__all__ = ["sql_list", "sql_string"]

"""The shared shape of a column's normalisation: options and plans (pure, no SQL execution).

:mod:`segmentation.ingest.normalize` chooses a plan per column; the kind
modules (:mod:`~segmentation.ingest.dates`, :mod:`~segmentation.ingest.numbers`,
:mod:`~segmentation.ingest.phones`) build the plans of their kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..core.vocabulary import MISSING_WORDS


@dataclass(frozen=True)
class NormalizeOptions:
    """How ambiguous values are read.

    Parameters
    ----------
    default_region : str
        ISO country code for phone numbers written without a country prefix.
    date_order : {"auto", "dmy", "mdy", "ymd"}
        Order of day, month and year in dates such as ``03/04/2024``;
        ``"auto"`` decides per column from all its values (``25/12/2024``
        proves day first), and falls back to day first for ``FR`` and other
        day-first regions.
    decimal : {"auto", ",", "."}
        The decimal mark of amounts; ``"auto"`` decides per column from all
        its values (``1 234,50`` and ``12,5`` say comma, ``$84,835`` and
        ``84,835.00`` say point).
    missing : tuple of str
        Cell texts that mean "no value" in every role (``NA``, ``N/A``,
        ``#N/A``, ``null``...), compared after trimming.
    """

    default_region: str = "FR"
    date_order: str = "auto"
    decimal: str = "auto"
    missing: tuple[str, ...] = field(default_factory=lambda: tuple(MISSING_WORDS))


@dataclass(frozen=True)
class ColumnPlan:
    """How one column is normalised.

    ``expr`` is a SQL expression in which ``{v}`` stands for the raw value
    and ``{m}`` for the mapper's output for that value. ``mapper`` takes a
    frame of distinct raw values (``value``) and their counts (``n``) and
    returns the normalised values in the same order. With ``fill``, ``expr``
    does the common case alone and the mapper sees only the raw values that
    ``expr`` left NULL, once the table is written: one pass over the rows.

    ``context`` names another column whose raw value the mapper receives
    beside each value (column ``context`` of the distinct frame, pairs
    counted once): the row's country for phone numbers; in ``expr``,
    ``{c}`` stands for that column's raw value. ``missing`` lists
    the cell texts that mean "no value" (trimmed, exact): they never reach
    ``expr`` or the mapper. ``fill_when`` (SQL over ``{v}``) narrows the
    values a ``fill`` mapper sees to those ``expr`` may have left undecided.
    ``bind`` (SQL over ``{v}``) is computed once per row in a subquery; in
    ``expr``, ``{b}`` stands for it: a cleaned-up value that several
    branches test, without a lambda (DuckDB compiles a regex inside a lambda
    once per chunk of rows).
    """

    column: str
    role: str
    kind: str
    sql_type: str
    expr: str
    mapper: Callable[[pd.DataFrame], pd.Series] | None = None
    note: str = ""
    fill: bool = False
    context: str | None = None
    missing: tuple[str, ...] = ()
    fill_when: str | None = None
    bind: str | None = None



__all__ = ["ColumnPlan", "NormalizeOptions"]

"""Computed customer attributes (RFM from orders, propensity scores) beside the imported columns.

Each lives in a table keyed by ``customer_id``; pages, features and audiences
see them as columns. Which exist, their kinds and the join are read and built
by :mod:`segmentation.customers.repository` (the customers stage's only SQL
executor); this module keeps their old names for the stages that import them
from here (new code calls ``handle.customers.attributes()`` / ``attribute_kinds()``).
"""

from __future__ import annotations

from .repository import computed, join_sql, kinds

__all__ = ["computed", "join_sql", "kinds"]

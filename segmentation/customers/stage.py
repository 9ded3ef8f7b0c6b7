"""The customers stage as a dataset handle carries it (``handle.customers``)."""

from __future__ import annotations

from ..core.stage import Stage


class CustomersStage(Stage):
    """The customers operations of one dataset."""

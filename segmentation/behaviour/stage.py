"""The behaviour stage as a dataset handle carries it (``handle.behaviour``).

Thin methods over :mod:`segmentation.behaviour.rfm` and
:mod:`segmentation.behaviour.propensity` on the handle's customers dataset
(resolved once, when the handle was made); the orders dataset is a handle
too. The stage's only SQL executor is :mod:`segmentation.behaviour.repository`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ..core.stage import Stage
from . import propensity, rfm
from .propensity import ScoreResult, ScoreSettings
from .rfm import RFMResult, RFMSettings

if TYPE_CHECKING:  # the handle imports the stages; only its type is needed here
    from ..workspace import DatasetHandle


class BehaviourStage(Stage):
    """RFM from an orders dataset and propensity scores, for one customers dataset."""

    # -- RFM ---------------------------------------------------------------
    def rfm(self, orders: DatasetHandle | None = None, settings: RFMSettings | None = None,
            progress=None) -> RFMResult:
        """Compute RFM from ``orders`` (default: the newest transactions dataset) and keep it per customer;
        ``progress(fraction, message)`` is told each step."""
        orders = orders if orders is not None else self.handle.workspace.dataset(None, kind="transactions")
        return rfm.compute_rfm(self.store, self.dataset, orders.info, settings or RFMSettings(), progress)

    def last_rfm(self) -> RFMResult | None:
        """The figures and settings of the last RFM computation, if any."""
        return rfm.last_rfm(self.store, self.dataset)

    def rfm_table(self) -> pd.DataFrame:
        """Per customer with orders: recency, frequency, monetary, average order, tenure, favourite category,
        R, F, M scores and RFM group."""
        return rfm.rfm_rows(self.store, self.dataset)

    def unknown_orders(self) -> pd.DataFrame:
        """Orders whose customer id matches no customer (to download and fix)."""
        info = self.last_rfm()
        orders = self.handle.workspace.dataset_by_id(info.orders_id).info if info is not None else None
        return rfm.unknown_orders_of(self.store, self.dataset, orders)

    def grid(self) -> pd.DataFrame:
        """The R × F grid: customers and total value per cell."""
        return rfm.grid_of(self.store, self.dataset)

    def rfm_groups(self) -> dict[str, int]:
        """Customers per named group of the last RFM (every group, empty ones too); empty before any RFM."""
        info = self.last_rfm()
        return dict(info.groups) if info is not None else {}

    @staticmethod
    def groups_table() -> pd.DataFrame:
        """The named groups with their R and F scores and meaning, as the page shows them."""
        return rfm.groups_table()

    @staticmethod
    def segment_map() -> pd.DataFrame:
        """The R × F segment map: a row per R score (5 first), a column per F score, the group in each cell."""
        return rfm.segment_map()

    def order_columns(self, orders: str | None = None) -> rfm.OrderColumns:
        """The columns of ``orders`` (a transactions dataset's name; default the newest) RFM would read for each
        order role when none is named: guessed from headers and values, the link from the customers' ids."""
        info = self.handle.workspace.dataset(orders, kind="transactions").info
        return rfm.guessed_columns(self.store, self.dataset, info)

    def order_column_choices(self, orders: str | None = None) -> dict[str, list[str]]:
        """Order role -> the columns of ``orders`` that can hold it (their import role fits), in file order."""
        info = self.handle.workspace.dataset(orders, kind="transactions").info
        return rfm.column_choices(info)

    # -- propensity --------------------------------------------------------
    def score(self, settings: ScoreSettings, progress: propensity.Progress | None = None) -> ScoreResult:
        """Train and compare two cross-validated models, keep the better one, score every customer.

        On large data the models train on a stratified sample (``trained_on`` in the result) and everyone is
        scored in batches; ``progress(fraction, message)`` is told the stage and the time left.
        """
        return propensity.score_dataset(self.store, self.dataset, settings, progress)

    def models(self) -> list[ScoreResult]:
        """Saved propensity models, newest first, with their evaluation."""
        return propensity.models_of(self.store, self.dataset)

    def get_model(self, name: str) -> ScoreResult:
        """One saved model (:class:`NotFoundError` if none of that name)."""
        return propensity.model_of(self.store, self.dataset, name)

    def candidate_targets(self) -> list[str]:
        """Yes/no columns a model can predict and, once RFM exists, its recency."""
        return propensity.targets_of(self.store, self.dataset)

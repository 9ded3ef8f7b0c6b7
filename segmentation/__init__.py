"""Segment Studio's engine: reading, normalising, storing, matching, clustering.

Plain Python with no Streamlit import, so that the pages, the command-line
interface and the tests all drive the same code. This module is the public
API: open a workspace, get a dataset handle, call its stages::

    from segmentation import open_workspace

    ws = open_workspace("workspace.duckdb")
    ds = ws.dataset("sample customers")
    ds.dedupe.find()

Pages, ``app_state`` and the CLI import nothing else from the engine.
"""

__version__ = "0.1.0"

# ruff: noqa: F401, I001  (a list of names handed on, grouped by stage)
from .core.errors import (
    ColumnError,
    ConfigError,
    DataError,
    DatasetNotFoundError,
    InputFileError,
    MissingColumnsError,
    NotFoundError,
    RefreshError,
    SegmentStudioError,
    SettingError,
    StoreError,
)
from .workspace import DatasetHandle, Workspace, open_workspace

# -- ingest: settings and vocabulary the Import page offers
from .ingest.importer import KINDS, ImportSettings
from .ingest.quality import QualityReport, QualitySettings
from .ingest.roles import ROLES

# -- dedupe and customers
from .dedupe.matching import MatchSettings
from .customers.golden import RULES

# -- segment and behaviour
from .segment.features import CATEGORICAL_WEIGHT, FeatureSettings
from .segment.profiling import ProfileSettings

# -- activate (audiences and exports)
from .activate.audiences import OPERATORS, AudienceSpec, Condition

# -- automate (refresh)

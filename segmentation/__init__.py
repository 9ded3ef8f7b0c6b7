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
    MatchingError,
    MissingColumnsError,
    NotFoundError,
    RefreshError,
    SegmentStudioError,
    SettingError,
    StoreError,
)
from .workspace import DatasetHandle, Workspace, open_workspace

# -- ingest: settings and vocabulary the Import page offers
from .core.vocabulary import KINDS, MISSING_WORDS, ROLE_KIND, ROLES, SINGLE_ROLES
from .ingest.importer import ImportSettings, Preview
from .ingest.report import PHONE_REGIONS, READ_THRESHOLD, ColumnRead, ReadReport
from .ingest.normalize import NormalizeOptions
from .ingest.quality import Issue, QualityReport, QualitySettings
from .ingest.stage import DatasetSummary, ImportResult
from .ingest.forget import ForgetResult

# -- dedupe and customers
from .dedupe.matching import MatchSettings
from .dedupe.review import DedupeSummary, MergeResult, UnmergeResult
from .customers.golden import RULES, Survivorship

# -- segment and behaviour
from .segment.features import CATEGORICAL_WEIGHT, FeatureSettings, describe_steps
from .segment.profiling import Profile, ProfileSettings
from .segment.runs import AssignResult, Run, Scan
from .segment.snapshots import NONE as NOT_A_CUSTOMER
from .behaviour.rfm import RFMResult, RFMSettings
from .behaviour.propensity import ScoreResult, ScoreSettings

# -- activate (audiences and exports)
from .activate.audiences import (
    CHANNELS,
    NO_CONSENT_CHOICES,
    OPERATORS,
    AudienceCount,
    AudienceSpec,
    Condition,
    ExportResult,
    ExportSettings,
    parse_filter,
    suppression_values,
)
from .activate.export import to_csv_bytes, to_parquet_bytes, to_xlsx_bytes, write_file
from .activate.presets import GENERAL_FORMATS, PRESET_NAMES, PRESETS, Preset, get_preset

# -- automate (refresh)
from .automate.config import (
    AUDIENCE_FORMATS,
    SEGMENT_MODES,
    AudienceOutput,
    DedupeConfig,
    PipelineConfig,
    RFMConfig,
    ScoreConfig,
    SegmentConfig,
    SourceConfig,
)
from .automate.config import load as load_config
from .automate.runner import RefreshResult, StepResult
from . import i18n
from .i18n import Message, message

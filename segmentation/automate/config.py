"""A pipeline as data: what an unattended refresh does, saved as a TOML file.

The page and the CLI build a :class:`PipelineConfig` from the store (what a
marketer set up in the browser), save it with :func:`to_toml`, and
:mod:`segmentation.refresh` runs what :func:`load` reads back. File paths in
the file are relative to the file's folder, so a project folder can move.
"""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w

from ..core.errors import ConfigError, NotFoundError
from ..core.store import Store
from ..ingest.importer import KINDS
from ..segment.features import FeatureSettings

VERSION = 1
SEGMENT_MODES = ("assign", "refit")
AUDIENCE_FORMATS = ("csv-excel", "csv", "xlsx")


@dataclass(frozen=True)
class SourceConfig:
    """A CRM export to read on every refresh.

    Parameters
    ----------
    dataset : str
        Dataset the rows go to: created by the first refresh, then each new
        export is added to it (a repeated record id updates that record).
    file : str
        The export's path (relative to the config file's folder).
    kind : {"customers", "transactions"}
        What the rows are.
    sheet : str, optional
        Excel sheet (default: the first non-empty one).
    roles : dict of str to str
        Column -> role, as set on the Import page.
    default_region : str
        Region of phone numbers without a country prefix.
    date_order : {"auto", "dmy", "mdy"}
        Day/month order of ambiguous dates.
    """

    dataset: str
    file: str
    kind: str = "customers"
    sheet: str | None = None
    roles: dict[str, str] = field(default_factory=dict)
    default_region: str = "FR"
    date_order: str = "auto"


@dataclass(frozen=True)
class DedupeConfig:
    """Finding duplicates on every refresh; only sure matches are merged unattended.

    Parameters
    ----------
    dataset : str
        Customers dataset.
    upper, lower : float
        Sure-match and review thresholds (match probability).
    auto_merge : bool
        Merge sure matches; pairs to review always wait for a person.
    match_columns : list of str
        Columns compared (empty: every column whose role has a comparison).
    """

    dataset: str
    upper: float = 0.9
    lower: float = 0.3
    auto_merge: bool = True
    match_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class SegmentConfig:
    """Segments on every refresh: assign customers with a saved run, or re-fit it.

    Parameters
    ----------
    dataset : str
        Customers dataset.
    run : str
        The saved run whose model assigns customers (``mode = "assign"``) or
        whose features and k are re-fitted (``mode = "refit"``; the new run
        becomes current and takes the names of the segments it overlaps most).
    mode : {"assign", "refit"}
    k : int, optional
        Number of segments of a re-fit (default: the run's).
    """

    dataset: str
    run: str
    mode: str = "assign"
    k: int | None = None


@dataclass(frozen=True)
class RFMConfig:
    """RFM from an orders dataset on every refresh (see :class:`segmentation.behaviour.rfm.RFMSettings`)."""

    customers: str
    orders: str
    window_days: int = 365
    link_column: str | None = None
    as_of: str | None = None


@dataclass(frozen=True)
class ScoreConfig:
    """A propensity model re-trained on every refresh (see :class:`segmentation.behaviour.propensity.ScoreSettings`)."""

    dataset: str
    target: str
    name: str | None = None
    folds: int = 5
    within_days: int | None = None
    features: FeatureSettings | None = None


@dataclass(frozen=True)
class AudienceOutput:
    """A saved audience written to a file on every refresh.

    Parameters
    ----------
    name : str
        The saved audience (its definition is edited on the Audiences page).
    out : str
        File to write, ``.csv`` or ``.xlsx`` (relative to the config file's folder).
    format : {"csv-excel", "csv", "xlsx"}
        CSV for French Excel (BOM, ``;``, decimal comma), plain CSV, or Excel;
        ``xlsx`` needs an ``.xlsx`` file name.
    holdout_file : bool
        Write the holdout (control group) to ``<name> (holdout).<ext>`` beside it.
    """

    name: str
    out: str
    format: str = "csv-excel"
    holdout_file: bool = False


@dataclass(frozen=True)
class PipelineConfig:
    """Every step of a refresh, in the order they run: sources, dedupe, RFM, scores, segments, audiences.

    ``base_dir`` is the folder relative paths start from (the config file's
    folder); it is not written to the file.
    """

    sources: tuple[SourceConfig, ...] = ()
    dedupe: DedupeConfig | None = None
    rfm: RFMConfig | None = None
    scores: tuple[ScoreConfig, ...] = ()
    segments: SegmentConfig | None = None
    audiences: tuple[AudienceOutput, ...] = ()
    store: str | None = None
    base_dir: Path = Path(".")

    def path(self, relative: str) -> Path:
        """A path of the file, resolved from ``base_dir``."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path


# ------------------------------------------------------------------ reading and writing

def _drop_none(value: Any) -> Any:
    """TOML has no null: leave unset options out (reading gives them their defaults back)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def to_dict(config: PipelineConfig) -> dict:
    """The config as plain data (what the TOML file holds)."""
    data = asdict(config)
    data.pop("base_dir")
    return _drop_none({"version": VERSION, **data})


HEADER = """\
# Segment Studio pipeline: what `python -m segmentation refresh --config {name}` runs.
# Steps run in this order, each in its own transaction: sources (import), dedupe,
# rfm, scores, segments (with a snapshot of who is in which segment), audiences.
# Paths are relative to this file's folder. Pairs to review are never merged
# unattended: they wait on the Deduplicate page.
"""


def to_toml(config: PipelineConfig, name: str = "pipeline.toml") -> str:
    """The config as TOML text, with a short header saying what runs it; sections in the order steps run."""
    data = to_dict(config)
    parts = [HEADER.format(name=name), tomli_w.dumps({k: data[k] for k in ("version", "store") if k in data})]
    for key in ("sources", "dedupe", "rfm", "scores", "segments", "audiences"):
        value = data.get(key)
        if isinstance(value, list):  # one [[key]] table per item, never an inline array
            parts += [tomli_w.dumps({key: [item]}) if any(isinstance(v, dict) for v in item.values())
                      else f"[[{key}]]\n" + tomli_w.dumps(item) for item in value]
        elif value is not None:
            parts.append(tomli_w.dumps({key: value}))
    return "\n".join(parts)


def save(config: PipelineConfig, path: str | Path) -> Path:
    """Write the config to ``path`` (paths in it stay as given); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(config, path.name), encoding="utf-8")
    return path


def _value(value: Any, wanted: str, where: str) -> Any:
    """A TOML value checked against a dataclass field's type (its annotation, as text)."""
    if value is None:
        return None
    base = wanted.split(" | ")[0].split("[")[0]
    if base in ("tuple", "dict"):
        container = list if base == "tuple" else dict
        if not isinstance(value, container):
            raise ConfigError(f"{where} must be a {'list' if base == 'tuple' else 'table'}; found {value!r}.")
        return tuple(value) if base == "tuple" else dict(value)
    if base == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    ok = {"bool": lambda v: isinstance(v, bool), "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
          "str": lambda v: isinstance(v, str)}.get(base, lambda v: True)
    if base == "float" or not ok(value):
        noun = {"bool": "true or false", "int": "a whole number", "float": "a number", "str": "text"}[base]
        raise ConfigError(f"{where} must be {noun}; found {value!r}.")
    return value


def _build(cls, data: Any, where: str):
    """One dataclass from a TOML table, with a clear message for unknown or missing keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{where}] must be a table of settings; found {data!r}.")
    known = {f.name: f for f in fields(cls)}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(f"Unknown settings {unknown} in [{where}]; expected some of {list(known)}.")
    missing = [f.name for f in known.values() if f.name not in data
               and f.default is MISSING and f.default_factory is MISSING]
    if missing:
        raise ConfigError(f"[{where}] needs {missing}.")
    return cls(**{k: _value(v, str(known[k].type), f"{where}.{k}") for k, v in data.items()})


def _check(config: PipelineConfig) -> PipelineConfig:
    for s in config.sources:
        if s.kind not in KINDS:
            raise ConfigError(f"sources.kind of {s.dataset!r} is {s.kind!r}; expected one of {list(KINDS)}.")
    names = [s.dataset.casefold() for s in config.sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"Two [[sources]] fill the same dataset: {[s.dataset for s in config.sources]}.")
    if config.dedupe and not 0 <= config.dedupe.lower <= config.dedupe.upper <= 1:
        raise ConfigError(f"dedupe thresholds must be 0 ≤ lower ≤ upper ≤ 1; found lower {config.dedupe.lower}, "
                          f"upper {config.dedupe.upper}.")
    if config.segments and config.segments.mode not in SEGMENT_MODES:
        raise ConfigError(f"segments.mode is {config.segments.mode!r}; expected one of {list(SEGMENT_MODES)}.")
    if config.segments and config.segments.k is not None and config.segments.k < 2:
        raise ConfigError(f"segments.k must be at least 2; found {config.segments.k}.")
    outs = [str(config.path(a.out).resolve()) for a in config.audiences]
    if len(set(outs)) != len(outs):
        raise ConfigError(f"Two [[audiences]] write the same file: {[a.out for a in config.audiences]}.")
    for a in config.audiences:
        suffix = Path(a.out).suffix.lower()
        if a.format not in AUDIENCE_FORMATS:
            raise ConfigError(f"audiences.format of {a.name!r} is {a.format!r}; expected one of "
                              f"{list(AUDIENCE_FORMATS)}.")
        if suffix not in (".csv", ".xlsx") or (suffix == ".xlsx") != (a.format == "xlsx"):
            raise ConfigError(f"audiences.out of {a.name!r} is {a.out!r}: format {a.format!r} needs a file name "
                              f"ending in {'.xlsx' if a.format == 'xlsx' else '.csv'}.")
    return config


def from_dict(data: dict, base_dir: str | Path = ".") -> PipelineConfig:
    """A config from plain data (a parsed TOML file), checked."""
    if not isinstance(data, dict):
        raise ConfigError("A pipeline config is a TOML file of tables.")
    known = {"version", "store", "sources", "dedupe", "rfm", "scores", "segments", "audiences"}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(f"Unknown sections {unknown}; a pipeline config has {sorted(known)}.")
    version = data.get("version", VERSION)
    if version != VERSION:
        raise ConfigError(f"This config has version {version!r}; this Segment Studio reads version {VERSION}.")

    def many(key: str) -> list:
        items = data.get(key, [])
        if not isinstance(items, list):
            raise ConfigError(f"{key} must be a list of tables ([[{key}]]); found {items!r}.")
        return items

    scores = []
    for i, item in enumerate(many("scores")):
        item = dict(item) if isinstance(item, dict) else item
        features = item.pop("features", None) if isinstance(item, dict) else None
        score = _build(ScoreConfig, item, f"scores[{i}]")
        if features is not None:
            score = replace(score, features=_build(FeatureSettings, features, f"scores[{i}].features"))
        scores.append(score)
    store = data.get("store")
    if store is not None and not isinstance(store, str):
        raise ConfigError(f"store must be a file path; found {store!r}.")
    return _check(PipelineConfig(
        sources=tuple(_build(SourceConfig, s, f"sources[{i}]") for i, s in enumerate(many("sources"))),
        dedupe=_build(DedupeConfig, data["dedupe"], "dedupe") if "dedupe" in data else None,
        rfm=_build(RFMConfig, data["rfm"], "rfm") if "rfm" in data else None,
        scores=tuple(scores),
        segments=_build(SegmentConfig, data["segments"], "segments") if "segments" in data else None,
        audiences=tuple(_build(AudienceOutput, a, f"audiences[{i}]") for i, a in enumerate(many("audiences"))),
        store=store, base_dir=Path(base_dir)))


def loads(text: str, base_dir: str | Path = ".") -> PipelineConfig:
    """A config from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config is not valid TOML: {exc}.") from exc
    return from_dict(data, base_dir)


def load(path: str | Path) -> PipelineConfig:
    """Read and check a config file; relative paths in it start from its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read the config file {str(path)!r}: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"The config file {str(path)!r} is not UTF-8 text.") from exc
    return loads(text, path.resolve().parent)


# ------------------------------------------------------------------ from what the user set up

def slug(name: str) -> str:
    """A file-name-safe form of a name (``"Loyal · FR"`` -> ``"loyal-fr"``)."""
    text = re.sub(r"[^\w]+", "-", name.casefold(), flags=re.UNICODE).strip("-")
    return text or "audience"


def from_store(store: Store, dataset: str | None = None, files: dict[str, str] | None = None,
               outputs: dict[str, str] | None = None, segment_mode: str = "assign",
               auto_merge: bool = True, segment_k: int | None = None) -> PipelineConfig:
    """The pipeline a user set up for a customers dataset, as a config.

    Parameters
    ----------
    store : Store
        The working store.
    dataset : str, optional
        Customers dataset (default: the most recent).
    files : dict, optional
        Dataset name -> export path read on each refresh (default: the file
        name it was last imported from, beside the config file).
    outputs : dict, optional
        Saved audience name -> file to write (default ``audiences/<name>.csv``).
    segment_mode : {"assign", "refit"}
        What the refresh does with the current segment run.
    auto_merge : bool
        Whether sure matches are merged unattended.
    segment_k : int, optional
        Segments of a re-fit (default: the run's k).

    Returns
    -------
    PipelineConfig
        Sources (the customers and, when RFM was computed, the orders), the
        deduplication thresholds last used, RFM and score settings, the
        current segment run and every saved audience of the dataset.
    """
    from ..activate.audiences import AudienceSpec
    from ..behaviour import rfm
    from ..segment import runs as segments

    ds = store.dataset(dataset or None)

    def source(d) -> SourceConfig:
        batches = store.import_batches(d.id)
        last_file = str(batches["file_name"].iloc[-1]) if len(batches) else d.source_file
        return SourceConfig(dataset=d.name, file=last_file or f"{d.name}.csv", kind=d.kind,
                            sheet=d.sheet, roles=dict(d.roles),
                            default_region=d.options.get("default_region", "FR"),
                            date_order=d.options.get("date_order", "auto"))

    sources = [source(ds)]
    match = store.query_value("SELECT settings FROM match_runs WHERE dataset_id = ?", [ds.id])
    dedupe = None
    if match is not None:
        settings = json.loads(match)
        dedupe = DedupeConfig(dataset=ds.name, upper=float(settings["upper"]), lower=float(settings["lower"]))
    rfm_config = None
    last = rfm.last(store, ds.name)
    if last:
        orders = store.dataset_by_id(last["orders_id"])
        sources.append(source(orders))
        rfm_config = RFMConfig(customers=ds.name, orders=orders.name,
                               window_days=int(last["settings"].get("window_days", 365)),
                               link_column=last["settings"].get("link_column"))
    scores = []
    for name, settings in store.query_rows("SELECT name, settings FROM score_models WHERE dataset_id = ? "
                                           "ORDER BY trained_at", [ds.id]):
        saved = json.loads(settings)
        features = _build(FeatureSettings, saved["features"], "features") if saved.get("features") else None
        scores.append(ScoreConfig(dataset=ds.name, target=saved["target"], name=name,
                                  folds=int(saved.get("folds", 5)), within_days=saved.get("within_days"),
                                  features=features))
    segment_config = None
    with contextlib.suppress(NotFoundError):  # no segment run yet: no segments step
        segment_config = SegmentConfig(dataset=ds.name, run=segments.get_run(store, dataset=ds.name).name)
    audiences = tuple(AudienceOutput(name=name, out=f"audiences/{slug(name)}.csv")
                      for name, spec in store.query_rows("SELECT name, CAST(spec AS VARCHAR) FROM audiences "
                                                         "ORDER BY name")
                      if AudienceSpec.from_json(spec).dataset in (None, ds.name))
    config = PipelineConfig(sources=tuple(sources), dedupe=dedupe, rfm=rfm_config, scores=tuple(scores),
                            segments=segment_config, audiences=audiences)
    return with_choices(config, files=files, outputs=outputs, segment_mode=segment_mode, auto_merge=auto_merge,
                        segment_k=segment_k)


def with_choices(config: PipelineConfig, files: dict[str, str] | None = None, outputs: dict[str, str] | None = None,
                 segment_mode: str = "assign", auto_merge: bool = True,
                 segment_k: int | None = None) -> PipelineConfig:
    """A config with the user's choices applied (see :func:`from_store` for what they mean), checked.

    An audience file whose name ends in ``.xlsx`` is written as Excel, any other as CSV for French Excel.
    """
    files, outputs = files or {}, outputs or {}
    sources = tuple(replace(s, file=files.get(s.dataset, s.file)) for s in config.sources)
    audiences = []
    for a in config.audiences:
        out = outputs.get(a.name, a.out)
        audiences.append(replace(a, out=out, format="xlsx" if out.lower().endswith(".xlsx") else "csv-excel"))
    segment_config = config.segments and replace(config.segments, mode=segment_mode,
                                                 k=segment_k if segment_mode == "refit" else None)
    return _check(replace(config, sources=sources, audiences=tuple(audiences), segments=segment_config,
                          dedupe=config.dedupe and replace(config.dedupe, auto_merge=auto_merge)))


__all__ = ["AUDIENCE_FORMATS", "SEGMENT_MODES", "AudienceOutput", "DedupeConfig", "PipelineConfig", "RFMConfig",
           "ScoreConfig", "SegmentConfig", "SourceConfig", "from_dict", "from_store", "load", "loads", "save", "slug",
           "to_dict", "to_toml", "with_choices"]

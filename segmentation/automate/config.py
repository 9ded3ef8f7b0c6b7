"""A pipeline as data: what an unattended refresh does, saved as a TOML file.

Settings are defined once, by the engine: each section of the file holds
(or embeds) the engine's own settings dataclass (:class:`ImportSettings`,
:class:`MatchSettings`, :class:`RFMSettings`, :class:`ScoreSettings`,
:class:`ExportSettings`), with only what a refresh adds of its own beside it
(a source's file, an audience's output file, the segments mode). A generic
reader and writer (:func:`to_dict`, :func:`from_dict`) turns those dataclasses
into TOML tables and back, with clear messages for unknown, missing or
wrongly typed settings. File paths in the file are relative to the file's
folder, so a project folder can move.

Pure: nothing here touches the store. :class:`segmentation.automate.stage.RefreshStage`
builds a config from what a marketer set up (``config_from_store``) and runs it.
"""

from __future__ import annotations

import re
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import tomli_w

from ..activate.audiences import ExportSettings
from ..behaviour.propensity import ScoreSettings
from ..behaviour.rfm import RFMSettings
from ..core.errors import ConfigError
from ..dedupe.matching import MatchSettings
from ..ingest.importer import KINDS, ImportSettings

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
    settings : ImportSettings
        How the file is read (its fields are keys of the ``[[sources]]`` table:
        ``kind``, ``sheet``, ``roles``, ``default_region``, ``date_order``...);
        the dataset's name and what it is appended to come from ``dataset``.
    """

    dataset: str
    file: str
    settings: ImportSettings = field(default_factory=ImportSettings)

    EMBEDDED: ClassVar[dict[str, tuple[str, ...]]] = {"settings": ("name", "append_to")}


@dataclass(frozen=True)
class DedupeConfig:
    """Finding duplicates on every refresh; only sure matches are merged unattended.

    Parameters
    ----------
    dataset : str
        Customers dataset.
    settings : MatchSettings
        Thresholds and matching options (``upper``, ``lower``...: keys of the ``[dedupe]`` table).
    auto_merge : bool
        Merge sure matches; pairs to review always wait for a person.
    match_columns : tuple of str
        Columns compared (empty: every column whose role has a comparison).
    """

    dataset: str
    settings: MatchSettings = field(default_factory=MatchSettings)
    auto_merge: bool = True
    match_columns: tuple[str, ...] = ()

    EMBEDDED: ClassVar[dict[str, tuple[str, ...]]] = {"settings": ("columns",)}


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
    """RFM from an orders dataset on every refresh (``settings``: ``as_of``, ``window_days``, ``link_column``)."""

    customers: str
    orders: str
    settings: RFMSettings = field(default_factory=RFMSettings)

    EMBEDDED: ClassVar[dict[str, tuple[str, ...]]] = {"settings": ()}


@dataclass(frozen=True)
class ScoreConfig:
    """A propensity model re-trained on every refresh (``settings``: target, name, features, folds...)."""

    dataset: str
    settings: ScoreSettings

    EMBEDDED: ClassVar[dict[str, tuple[str, ...]]] = {"settings": ()}

    @property
    def name(self) -> str:
        """The model's name (its target's when not named)."""
        return self.settings.name or self.settings.target


@dataclass(frozen=True)
class AudienceOutput:
    """A saved audience written to a file on every refresh.

    Parameters
    ----------
    name : str
        The saved audience (its definition is edited on the Audiences page).
    out : str
        File to write, ``.csv`` or ``.xlsx`` (relative to the config file's folder).
    settings : ExportSettings
        ``format`` (``xlsx`` needs an ``.xlsx`` file name) and ``holdout_file``.
    """

    name: str
    out: str
    settings: ExportSettings = field(default_factory=ExportSettings)

    EMBEDDED: ClassVar[dict[str, tuple[str, ...]]] = {"settings": ()}


@dataclass(frozen=True)
class PipelineConfig:
    """Every step of a refresh, in the order they run: sources, dedupe, RFM, scores, segments, audiences.

    ``base_dir`` is the folder relative paths start from (the config file's
    folder); it is not written to the file. ``output_dir`` (``output_dir = "..."``
    at the top of the file, relative to it) is a folder outside the file's own
    where audience files may also be written: a refresh writes only inside
    the file's folder or that one (see :func:`check_outputs`).
    """

    sources: tuple[SourceConfig, ...] = ()
    dedupe: DedupeConfig | None = None
    rfm: RFMConfig | None = None
    scores: tuple[ScoreConfig, ...] = ()
    segments: SegmentConfig | None = None
    audiences: tuple[AudienceOutput, ...] = ()
    store: str | None = None
    output_dir: str | None = None
    base_dir: Path = Path(".")

    def path(self, relative: str) -> Path:
        """A path of the file, resolved from ``base_dir``."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path


SECTIONS: dict[str, type] = {"sources": SourceConfig, "dedupe": DedupeConfig, "rfm": RFMConfig,
                             "scores": ScoreConfig, "segments": SegmentConfig, "audiences": AudienceOutput}
MANY = ("sources", "scores", "audiences")


# ------------------------------------------------------------------ dataclasses <-> TOML tables

@dataclass(frozen=True)
class _Key:
    """One key of a section's table: its name, type, whether it must be given, and the embedded field it fills."""

    name: str
    hint: Any
    required: bool
    embedded: str | None = None


def _required(f) -> bool:
    return f.default is MISSING and f.default_factory is MISSING


def keys(cls: type) -> list[_Key]:
    """The keys a table of ``cls`` may hold, in file order: an embedded settings dataclass's fields take its place."""
    hints = typing.get_type_hints(cls)
    embedded = getattr(cls, "EMBEDDED", {})
    out = []
    for f in fields(cls):
        if f.name in embedded:
            inner = hints[f.name]
            inner_hints = typing.get_type_hints(inner)
            out += [_Key(g.name, inner_hints[g.name], _required(f) and _required(g), f.name)
                    for g in fields(inner) if g.name not in embedded[f.name]]
        else:
            out.append(_Key(f.name, hints[f.name], _required(f)))
    return out


def _plain(value: Any) -> Any:
    """A value as TOML holds it (tuples as lists, dataclasses as tables); TOML has no null: None is left out."""
    if is_dataclass(value):
        return dump(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump(obj: Any) -> dict:
    """A (section) dataclass as a TOML table: embedded settings flattened in place, unset options left out."""
    out = {}
    for key in keys(type(obj)):
        value = getattr(getattr(obj, key.embedded), key.name) if key.embedded else getattr(obj, key.name)
        if value is not None:
            out[key.name] = _plain(value)
    return out


_NOUNS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _value(value: Any, hint: Any, where: str) -> Any:
    """A TOML value checked against (and converted to) a field's type."""
    if value is None:
        return None
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = options[0] if len(options) == 1 else Any
    origin = typing.get_origin(hint) or hint
    if is_dataclass(origin):
        return build(origin, value, where)
    if origin in (tuple, list, dict):
        container = dict if origin is dict else list
        if not isinstance(value, container):
            raise ConfigError(f"{where} must be a {'table' if origin is dict else 'list'}; found {value!r}.")
        return dict(value) if origin is dict else tuple(value)
    if origin is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if origin in _NOUNS:
        ok = isinstance(value, origin) and (origin is bool or not isinstance(value, bool))
        if origin is float or not ok:
            raise ConfigError(f"{where} must be {_NOUNS[origin]}; found {value!r}.")
    return value


def build(cls: type, data: Any, where: str):
    """A (section) dataclass from a TOML table, with a clear message for unknown or missing keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"[{where}] must be a table of settings; found {data!r}.")
    known = keys(cls)
    names = [k.name for k in known]
    unknown = [k for k in data if k not in names]
    if unknown:
        raise ConfigError(f"Unknown settings {unknown} in [{where}]; expected some of {names}.")
    missing = [k.name for k in known if k.required and k.name not in data]
    if missing:
        raise ConfigError(f"[{where}] needs {missing}.")
    own: dict[str, Any] = {}
    inner: dict[str, dict[str, Any]] = {}
    for key in known:
        if key.name in data:
            value = _value(data[key.name], key.hint, f"{where}.{key.name}")
            (inner.setdefault(key.embedded, {}) if key.embedded else own)[key.name] = value
    hints = typing.get_type_hints(cls)
    for name in getattr(cls, "EMBEDDED", {}):
        if name in inner or _required(next(f for f in fields(cls) if f.name == name)):
            own[name] = hints[name](**inner.get(name, {}))
    return cls(**own)


def to_dict(config: PipelineConfig) -> dict:
    """The config as plain data (what the TOML file holds)."""
    data: dict[str, Any] = {"version": VERSION}
    if config.store is not None:
        data["store"] = config.store
    if config.output_dir is not None:
        data["output_dir"] = config.output_dir
    for key in SECTIONS:
        value = getattr(config, key)
        if key in MANY:
            data[key] = [dump(item) for item in value]
        elif value is not None:
            data[key] = dump(value)
    return data


HEADER = """\
# Segment Studio pipeline: what `python -m segmentation refresh --config {name}` runs.
# Steps run in this order, each in its own transaction: sources (import), dedupe,
# rfm, scores, segments (with a snapshot of who is in which segment), audiences.
# Paths are relative to this file's folder; audience files are written only inside
# it (or inside `output_dir = "..."`, if set here), never over a file a refresh did
# not write itself nor over a source export. Pairs to review are never merged
# unattended: they wait on the Deduplicate page.
"""


def to_toml(config: PipelineConfig, name: str = "pipeline.toml") -> str:
    """The config as TOML text, with a short header saying what runs it; sections in the order steps run."""
    data = to_dict(config)
    top = {k: data[k] for k in ("version", "store", "output_dir") if k in data}
    parts = [HEADER.format(name=name), tomli_w.dumps(top)]
    for key in SECTIONS:
        value = data.get(key)
        if isinstance(value, list):  # one [[key]] table per item, never an inline array
            parts += [tomli_w.dumps({key: [item]}) if any(isinstance(v, dict) for v in item.values())
                      else f"[[{key}]]\n" + tomli_w.dumps(item) for item in value]
        elif value is not None:
            parts.append(tomli_w.dumps({key: value}))
    return "\n".join(parts)


def is_pipeline_file(path: Path) -> bool:
    """Whether ``path`` holds a pipeline file (TOML text with a ``version`` key): one a save may overwrite."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return "version" in data


def save(config: PipelineConfig, path: str | Path) -> Path:
    """Write the config to ``path`` (paths in it stay as given); returns the path.

    An existing file is overwritten only if it is a pipeline file itself: any other file (notes, an export, a
    folder) is refused with a :class:`ConfigError`, untouched.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"'{path}' is a folder: give a file name such as '{path / 'pipeline.toml'}'.")
    if path.exists() and not is_pipeline_file(path):
        raise ConfigError(f"'{path}' exists and is not a pipeline file: it was not overwritten. Pick another "
                          "name, such as 'pipeline.toml'.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_toml(config, path.name), encoding="utf-8")
    return path


def check(config: PipelineConfig) -> PipelineConfig:
    """The config if what it says can run together (kinds, thresholds, modes, distinct output files)."""
    for s in config.sources:
        if s.settings.kind not in KINDS:
            raise ConfigError(f"sources.kind of {s.dataset!r} is {s.settings.kind!r}; expected one of {list(KINDS)}.")
    names = [s.dataset.casefold() for s in config.sources]
    if len(set(names)) != len(names):
        raise ConfigError(f"Two [[sources]] fill the same dataset: {[s.dataset for s in config.sources]}.")
    if config.dedupe:
        lower, upper = config.dedupe.settings.lower, config.dedupe.settings.upper
        if not 0 <= lower <= upper <= 1:
            raise ConfigError(f"dedupe thresholds must be 0 ≤ lower ≤ upper ≤ 1; found lower {lower}, upper {upper}.")
    if config.segments and config.segments.mode not in SEGMENT_MODES:
        raise ConfigError(f"segments.mode is {config.segments.mode!r}; expected one of {list(SEGMENT_MODES)}.")
    if config.segments and config.segments.k is not None and config.segments.k < 2:
        raise ConfigError(f"segments.k must be at least 2; found {config.segments.k}.")
    outs = [str(config.path(a.out).resolve()) for a in config.audiences]
    if len(set(outs)) != len(outs):
        raise ConfigError(f"Two [[audiences]] write the same file: {[a.out for a in config.audiences]}.")
    for a in config.audiences:
        suffix, file_format = Path(a.out).suffix.lower(), a.settings.format
        if file_format not in AUDIENCE_FORMATS:
            raise ConfigError(f"audiences.format of {a.name!r} is {file_format!r}; expected one of "
                              f"{list(AUDIENCE_FORMATS)}.")
        if suffix not in (".csv", ".xlsx") or (suffix == ".xlsx") != (file_format == "xlsx"):
            raise ConfigError(f"audiences.out of {a.name!r} is {a.out!r}: format {file_format!r} needs a file name "
                              f"ending in {'.xlsx' if file_format == 'xlsx' else '.csv'}.")
    return config


def output_folders(config: PipelineConfig) -> list[Path]:
    """The folders a refresh may write in: the config file's, and ``output_dir`` when the file names one."""
    folders = [config.base_dir.resolve()]
    if config.output_dir is not None:
        folders.append(config.path(config.output_dir).resolve())
    return folders


def check_outputs(config: PipelineConfig, config_file: str | Path | None = None) -> PipelineConfig:
    """The config if every audience file is inside :func:`output_folders` and none is one of its sources.

    Paths are resolved (``..``, symbolic links) before they are compared; a :class:`ConfigError` names the
    config file and the folders otherwise.
    """
    where = f"config file '{config_file}'" if config_file else "the config"
    folders = output_folders(config)
    sources = {config.path(s.file).resolve(): s.dataset for s in config.sources}
    for a in config.audiences:
        target = config.path(a.out).resolve()
        files = [target, target.with_name(f"{target.stem} (holdout){target.suffix}")]
        for file in files:
            if not any(file.is_relative_to(folder) for folder in folders):
                allowed = " or ".join(f"'{f}'" for f in folders)
                raise ConfigError(f"audiences.out of {a.name!r} in {where} is {a.out!r}, which is outside the "
                                  f"folder {allowed}: a refresh writes only there. Give a path inside it, or set "
                                  f"output_dir = \"...\" at the top of the file.")
            if file in sources:
                raise ConfigError(f"audiences.out of {a.name!r} in {where} is {a.out!r}, the export "
                                  f"sources.file of {sources[file]!r}: a refresh never overwrites its sources. "
                                  "Give the audience another file name.")
    return config


def from_dict(data: dict, base_dir: str | Path = ".") -> PipelineConfig:
    """A config from plain data (a parsed TOML file), checked."""
    if not isinstance(data, dict):
        raise ConfigError("A pipeline config is a TOML file of tables.")
    known = {"version", "store", "output_dir", *SECTIONS}
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(f"Unknown sections {unknown}; a pipeline config has {sorted(known)}.")
    version = data.get("version", VERSION)
    if version != VERSION:
        raise ConfigError(f"This config has version {version!r}; this Segment Studio reads version {VERSION}.")
    store = data.get("store")
    if store is not None and not isinstance(store, str):
        raise ConfigError(f"store must be a file path; found {store!r}.")
    output_dir = data.get("output_dir")
    if output_dir is not None and not isinstance(output_dir, str):
        raise ConfigError(f"output_dir must be a folder path; found {output_dir!r}.")
    sections: dict[str, Any] = {}
    for key, cls in SECTIONS.items():
        if key in MANY:
            items = data.get(key, [])
            if not isinstance(items, list):
                raise ConfigError(f"{key} must be a list of tables ([[{key}]]); found {items!r}.")
            sections[key] = tuple(build(cls, item, f"{key}[{i}]") for i, item in enumerate(items))
        elif key in data:
            sections[key] = build(cls, data[key], key)
    return check(PipelineConfig(**sections, store=store, output_dir=output_dir, base_dir=Path(base_dir)))


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


# ------------------------------------------------------------------ the user's choices

def slug(name: str) -> str:
    """A file-name-safe form of a name (``"Loyal · FR"`` -> ``"loyal-fr"``)."""
    text = re.sub(r"[^\w]+", "-", name.casefold(), flags=re.UNICODE).strip("-")
    return text or "audience"


def with_choices(config: PipelineConfig, files: dict[str, str] | None = None, outputs: dict[str, str] | None = None,
                 segment_mode: str = "assign", auto_merge: bool = True,
                 segment_k: int | None = None) -> PipelineConfig:
    """A config with the user's choices applied, checked.

    ``files``: dataset name -> export path read on each refresh; ``outputs``: saved audience name -> file to
    write (one ending in ``.xlsx`` is written as Excel, any other as CSV for French Excel); ``segment_mode``:
    ``assign`` or ``refit``; ``auto_merge``: whether sure matches are merged unattended; ``segment_k``: segments
    of a re-fit (default: the run's).
    """
    files, outputs = files or {}, outputs or {}
    sources = tuple(replace(s, file=files.get(s.dataset, s.file)) for s in config.sources)
    audiences = []
    for a in config.audiences:
        out = outputs.get(a.name, a.out)
        audiences.append(replace(a, out=out, settings=replace(
            a.settings, format="xlsx" if out.lower().endswith(".xlsx") else "csv-excel")))
    segment_config = config.segments and replace(config.segments, mode=segment_mode,
                                                 k=segment_k if segment_mode == "refit" else None)
    return check(replace(config, sources=sources, audiences=tuple(audiences), segments=segment_config,
                         dedupe=config.dedupe and replace(config.dedupe, auto_merge=auto_merge)))


__all__ = ["AUDIENCE_FORMATS", "SEGMENT_MODES", "AudienceOutput", "DedupeConfig", "PipelineConfig", "RFMConfig",
           "ScoreConfig", "SegmentConfig", "SourceConfig", "build", "check", "check_outputs", "dump", "from_dict",
           "is_pipeline_file", "keys", "load", "loads", "output_folders", "save", "slug", "to_dict", "to_toml",
           "with_choices"]

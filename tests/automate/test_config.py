"""Pipeline configs: TOML written and read back the same, and clear messages for wrong files."""

from __future__ import annotations

import pytest

from segmentation.activate.audiences import ExportSettings
from segmentation.automate import config as pipeline
from segmentation.automate.config import (
    AudienceOutput,
    DedupeConfig,
    PipelineConfig,
    RFMConfig,
    ScoreConfig,
    SegmentConfig,
    SourceConfig,
)
from segmentation.behaviour.propensity import ScoreSettings
from segmentation.behaviour.rfm import RFMSettings
from segmentation.core.errors import ConfigError
from segmentation.dedupe.matching import MatchSettings
from segmentation.ingest.importer import ImportSettings
from segmentation.segment.features import FeatureSettings

FULL = PipelineConfig(
    sources=(SourceConfig("customers", "exports/crm.csv",
                          ImportSettings(roles={"ID client": "id", 'Nom"; DROP': "last_name"})),
             SourceConfig("orders", "exports/orders.xlsx", ImportSettings(kind="transactions", sheet="Feuil1"))),
    dedupe=DedupeConfig("customers", MatchSettings(upper=0.95, lower=0.4), match_columns=("Nom", "E-mail")),
    rfm=RFMConfig("customers", "orders", RFMSettings(window_days=180, link_column="customer_id")),
    scores=(ScoreConfig("customers", ScoreSettings(
        "Churn", name="churn", within_days=None,
        features=FeatureSettings(numeric=("Valeur contrat",), categorical=("Région",),
                                 weights={"Valeur contrat": 2.0}))),),
    segments=SegmentConfig("customers", "Base · k=5", mode="refit", k=6),
    audiences=(AudienceOutput("Loyal · FR", "out/loyal.xlsx", ExportSettings(format="xlsx", holdout_file=True)),),
    store="work.duckdb")


def test_toml_round_trip(tmp_path):
    path = pipeline.save(FULL, tmp_path / "pipeline.toml")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Segment Studio pipeline: what `python -m segmentation refresh --config pipeline.toml`")
    # Sections in the order the steps run, each audience its own table.
    order = [text.index(h) for h in ("[[sources]]", "[dedupe]", "[rfm]", "[[scores]]", "[segments]",
                                     "[[audiences]]")]
    assert order == sorted(order)
    loaded = pipeline.load(path)
    assert loaded == PipelineConfig(**{**FULL.__dict__, "base_dir": tmp_path})
    assert loaded.path("exports/crm.csv") == tmp_path / "exports" / "crm.csv"
    assert loaded.path("/data/crm.csv").as_posix() == "/data/crm.csv"


@pytest.mark.parametrize(("text", "message"), [
    ("version = 1\n[dedupe]\ndataset = 'c'\nthresold = 0.9\n",
     r"Unknown settings \['thresold'\] in \[dedupe\]; expected some of \['dataset', 'upper'"),
    ("[dedupe]\ndataset = 'c'\nupper = 'high'\n", r"dedupe.upper must be a number; found 'high'"),
    ("[dedupe]\ndataset = 'c'\nauto_merge = 'yes'\n", r"dedupe.auto_merge must be true or false; found 'yes'"),
    ("[dedupe]\ndataset = 'c'\nupper = 0.2\nlower = 0.5\n", r"0 ≤ lower ≤ upper ≤ 1; found lower 0.5, upper 0.2"),
    ("[[sources]]\nfile = 'a.csv'\n", r"\[sources\[0\]\] needs \['dataset'\]"),
    ("[[sources]]\ndataset = 'a'\nfile = 'a.csv'\nkind = 'leads'\n",
     r"expected one of \['customers', 'transactions'\]"),
    ("[segments]\ndataset = 'c'\nrun = 'r'\nmode = 'guess'\n", r"segments.mode is 'guess'; expected one of"),
    ("[[audiences]]\nname = 'a'\nout = 'a.xlsx'\n", r"format 'csv-excel' needs a file name ending in .csv"),
    ("[[audiences]]\nname = 'a'\nout = 'x.csv'\n[[audiences]]\nname = 'b'\nout = './x.csv'\n",
     r"Two \[\[audiences\]\] write the same file"),
    ("[schedule]\nevery = 'day'\n", r"Unknown sections \['schedule'\]"),
    ("version = 2\n", r"version 2; this Segment Studio reads version 1"),
    ("[dedupe\n", r"not valid TOML"),
    ("sources = 'crm.csv'\n", r"sources must be a list of tables"),
])
def test_wrong_configs_say_what_is_wrong(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        pipeline.loads(text, tmp_path)


def test_unreadable_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"Cannot read the config file '.*nope.toml'"):
        pipeline.load(tmp_path / "nope.toml")
    (tmp_path / "latin.toml").write_bytes("[dedupe]\ndataset = 'clients été'\n".encode("cp1252"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        pipeline.load(tmp_path / "latin.toml")


def test_slug():
    assert pipeline.slug("Loyal · FR") == "loyal-fr"
    assert pipeline.slug("Fidèles 2026!") == "fidèles-2026"
    assert pipeline.slug("···") == "audience"


OLD_FILE = """\
# Segment Studio pipeline, as the version before settings were defined once wrote it.
version = 1

[[sources]]
dataset = "customers"
file = "exports/crm.csv"
kind = "customers"
default_region = "FR"
date_order = "dmy"

[sources.roles]
"ID client" = "id"

[dedupe]
dataset = "customers"
upper = 0.95
lower = 0.4
auto_merge = false
match_columns = ["Nom"]

[rfm]
customers = "customers"
orders = "orders"
window_days = 180

[[scores]]
dataset = "customers"
target = "Churn"
folds = 3

[scores.features]
numeric = ["Valeur contrat"]
scaling = "robust"

[segments]
dataset = "customers"
run = "base"

[[audiences]]
name = "Loyal"
out = "out/loyal.csv"
format = "csv"
holdout_file = true
"""


def test_a_file_written_before_still_loads_into_the_engine_settings(tmp_path):
    config = pipeline.loads(OLD_FILE, tmp_path)
    assert config == PipelineConfig(
        sources=(SourceConfig("customers", "exports/crm.csv", ImportSettings(roles={"ID client": "id"},
                                                                             date_order="dmy")),),
        dedupe=DedupeConfig("customers", MatchSettings(upper=0.95, lower=0.4), auto_merge=False,
                            match_columns=("Nom",)),
        rfm=RFMConfig("customers", "orders", RFMSettings(window_days=180)),
        scores=(ScoreConfig("customers", ScoreSettings("Churn", folds=3, features=FeatureSettings(
            numeric=("Valeur contrat",), scaling="robust"))),),
        segments=SegmentConfig("customers", "base"),
        audiences=(AudienceOutput("Loyal", "out/loyal.csv", ExportSettings(format="csv", holdout_file=True)),),
        base_dir=tmp_path)
    assert config.scores[0].name == "Churn"          # a model is named after its target unless named


def test_the_file_keys_are_the_engine_fields():
    # The embedded settings' fields take the place of the field that holds them, minus what the config sets.
    assert [k.name for k in pipeline.keys(SourceConfig)] == [
        "dataset", "file", "sheet", "kind", "id_column", "roles", "default_region", "date_order", "decimal",
        "missing", "max_bytes"]
    assert [k.name for k in pipeline.keys(DedupeConfig)] == [
        "dataset", "upper", "lower", "max_block_size", "workers", "u_pairs", "em_iterations", "chunk_pairs", "seed",
        "auto_merge", "match_columns"]
    assert [k.name for k in pipeline.keys(ScoreConfig)] == ["dataset", "target", "name", "features", "folds",
                                                             "within_days"]
    assert [k.name for k in pipeline.keys(ScoreConfig) if k.required] == ["dataset", "target"]
    assert pipeline.dump(FULL.audiences[0]) == {"name": "Loyal · FR", "out": "out/loyal.xlsx", "format": "xlsx",
                                                "holdout_file": True}


@pytest.mark.parametrize(("text", "message"), [
    ("[[scores]]\ndataset = 'c'\ntarget = 't'\n[scores.features]\nnumerics = ['a']\n",
     r"Unknown settings \['numerics'\] in \[scores\[0\].features\]; expected some of \['numeric', 'categorical'"),
    ("[[scores]]\ndataset = 'c'\n", r"\[scores\[0\]\] needs \['target'\]"),
    ("[[scores]]\ndataset = 'c'\ntarget = 't'\nfolds = 2.5\n", r"scores\[0\].folds must be a whole number; found 2.5"),
    ("[[sources]]\ndataset = 'a'\nfile = 'a.csv'\nroles = 'id'\n", r"sources\[0\].roles must be a table; found 'id'"),
    ("[[sources]]\ndataset = 'a'\nfile = 'a.csv'\nname = 'b'\n", r"Unknown settings \['name'\] in \[sources\[0\]\]"),
    ("[dedupe]\ndataset = 'c'\nseed = true\n", r"dedupe.seed must be a whole number; found True"),
])
def test_wrong_engine_settings_say_what_is_wrong(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        pipeline.loads(text, tmp_path)


# --- where a refresh may write -----------------------------------------------------


def _with_out(base, out: str, output_dir: str | None = None) -> PipelineConfig:
    return PipelineConfig(sources=(SourceConfig("customers", "exports/crm.csv"),),
                          audiences=(AudienceOutput("Loyal", out),), output_dir=output_dir, base_dir=base)


def test_a_traversing_audience_path_is_refused(tmp_path):
    project = tmp_path / "project"
    config = _with_out(project, "../unrelated/budget.csv")
    with pytest.raises(ConfigError) as caught:
        pipeline.check_outputs(config, project / "pipeline.toml")
    assert str(caught.value) == (
        f"audiences.out of 'Loyal' in config file '{project / 'pipeline.toml'}' is '../unrelated/budget.csv', "
        f"which is outside the folder '{project.resolve()}': a refresh writes only there. Give a path inside it, "
        'or set output_dir = "..." at the top of the file.')
    inside = _with_out(project, "out/../audiences/loyal.csv")
    assert pipeline.check_outputs(inside) is inside


def test_an_absolute_audience_path_elsewhere_is_refused_unless_output_dir_names_it(tmp_path):
    project, shared = tmp_path / "project", tmp_path / "shared"
    with pytest.raises(ConfigError, match=r"is outside the folder '.*project'"):
        pipeline.check_outputs(_with_out(project, str(shared / "loyal.csv")), project / "pipeline.toml")
    # The file names a folder of its own for outputs: written there, and the key survives a save.
    config = _with_out(project, str(shared / "loyal.csv"), output_dir="../shared")
    assert pipeline.output_folders(config) == [project.resolve(), shared.resolve()]
    assert pipeline.check_outputs(config) is config
    text = pipeline.to_toml(config)
    assert 'output_dir = "../shared"' in text
    assert pipeline.loads(text, project).output_dir == "../shared"
    with pytest.raises(ConfigError, match="output_dir must be a folder path"):
        pipeline.loads("version = 1\noutput_dir = 3\n", project)


def test_an_audience_file_equal_to_a_source_export_is_refused(tmp_path):
    config = _with_out(tmp_path, "exports/../exports/crm.csv")
    with pytest.raises(ConfigError, match=r"is 'exports/../exports/crm.csv', the export sources.file of 'customers': "
                                          r"a refresh never overwrites its sources"):
        pipeline.check_outputs(config)


def test_save_overwrites_a_pipeline_file_only(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"budget 2027: 40 k\xe2\x82\xac\n")
    with pytest.raises(ConfigError, match=r"'.*notes.txt' exists and is not a pipeline file: it was not overwritten"):
        pipeline.save(FULL, notes)
    assert notes.read_bytes() == b"budget 2027: 40 k\xe2\x82\xac\n"
    other = tmp_path / "other.toml"
    other.write_text('title = "not a pipeline"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a pipeline file"):
        pipeline.save(FULL, other)
    with pytest.raises(ConfigError, match="is a folder"):
        pipeline.save(FULL, tmp_path)
    saved = pipeline.save(FULL, tmp_path / "pipeline.toml")
    assert pipeline.save(FULL, saved) == saved            # a pipeline file is overwritten
    assert pipeline.load(saved).audiences == FULL.audiences

"""Pipeline configs: TOML written and read back the same, and clear messages for wrong files."""

from __future__ import annotations

import pytest

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
from segmentation.core.errors import ConfigError
from segmentation.segment.features import FeatureSettings

FULL = PipelineConfig(
    sources=(SourceConfig("customers", "exports/crm.csv", roles={"ID client": "id", 'Nom"; DROP': "last_name"}),
             SourceConfig("orders", "exports/orders.xlsx", kind="transactions", sheet="Feuil1")),
    dedupe=DedupeConfig("customers", upper=0.95, lower=0.4, match_columns=("Nom", "E-mail")),
    rfm=RFMConfig("customers", "orders", window_days=180, link_column="customer_id"),
    scores=(ScoreConfig("customers", "Churn", name="churn", within_days=None,
                        features=FeatureSettings(numeric=("Valeur contrat",), categorical=("Région",),
                                                 weights={"Valeur contrat": 2.0})),),
    segments=SegmentConfig("customers", "Base · k=5", mode="refit", k=6),
    audiences=(AudienceOutput("Loyal · FR", "out/loyal.xlsx", format="xlsx", holdout_file=True),),
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

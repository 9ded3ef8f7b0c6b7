"""A run on a dataset without any category column still has a profile (and can be renamed)."""

from __future__ import annotations

from segmentation import open_workspace
from segmentation.segment.features import FeatureSettings

CSV = ("id;email;value\n" + "".join(f"A{i};a{i}@x.fr;{v}\n" for i, v in enumerate([100] * 4 + [5000]))).encode()


def test_a_profile_of_numbers_only_has_sizes_no_mixes_and_takes_a_name(tmp_path):
    with open_workspace(tmp_path / "s.duckdb") as ws:
        ws.ingest.import_bytes(CSV, "crm.csv")
        handle = ws.dataset()
        handle.segments.run(FeatureSettings(numeric=("value",), log=()), 2, name="r")
        profile = handle.segments.profile("r")
        assert sorted(profile.sizes["size"].tolist()) == [1, 4]
        assert profile.categorical.empty
        names = handle.segments.rename_segment("r", 0, "Small")
        assert names[0] == "Small"

"""dbt's profile and the pipeline agree on where the lake is, for every kind of MIDA_LAKE_DIR the docs promise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context
from fsspec.registry import known_implementations

from mida_pipeline.lake.storage import filesystem, is_remote, parse_lake_dir

PROFILES = Path(__file__).resolve().parents[2] / "dbt" / "profiles.yml"


def rendered(lake_dir: str) -> dict:
    """The profile as dbt renders it with MIDA_LAKE_DIR set to `lake_dir`."""
    set_invocation_context({"MIDA_LAKE_DIR": lake_dir})
    try:
        profile = ProfileRenderer({}).render_data(yaml.safe_load(PROFILES.read_text())["mida"])
    finally:
        set_invocation_context(os.environ)
    return {"target": profile["target"], **profile["outputs"][profile["target"]]}


@pytest.mark.parametrize("lake_dir", [
    "s3://bucket/prefix", "gs://bucket/lake", "gcs://bucket/lake", "az://container/lake", "abfs://container/lake",
    "memory://lake", " s3://bucket/padded/ ", "file:///srv/lake", "data/lake", "/srv/lake", "",
])
def test_the_profile_targets_object_storage_exactly_when_the_pipeline_calls_the_lake_remote(lake_dir):
    profile = rendered(lake_dir)
    remote = is_remote(parse_lake_dir(lake_dir)) if lake_dir else False
    assert profile["target"] == ("object_storage" if remote else "dev")
    if remote:
        # dbt registers the filesystem of the lake's own protocol, the one the pipeline writes through.
        (registered,) = profile["filesystems"]
        assert registered["fs"] in known_implementations and registered["use_listings_cache"] is False
        assert registered["fs"] == parse_lake_dir(lake_dir).split("://")[0]


def test_the_registered_filesystem_is_the_one_the_pipeline_uses():
    fs, _ = filesystem("memory://lake")
    protocols = (fs.protocol,) if isinstance(fs.protocol, str) else fs.protocol
    assert rendered("memory://lake")["filesystems"][0]["fs"] in protocols

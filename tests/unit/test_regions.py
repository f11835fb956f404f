"""The one region pattern and the one region → partition table, held to botocore's
partitions.json."""

from __future__ import annotations

import pytest

# -- the one region pattern and partition table ------------------------------------------


def _botocore_partitions() -> list[dict[str, object]]:
    import json
    import os

    import botocore

    path = os.path.join(os.path.dirname(botocore.__file__), "data", "partitions.json")
    with open(path, encoding="utf-8") as handle:
        found: list[dict[str, object]] = json.load(handle)["partitions"]
    return found


def test_every_botocore_region_is_a_region_in_its_partition() -> None:
    import re

    from credhelper.registry import REGION, partition_of

    checked = 0
    for partition in _botocore_partitions():
        regions = partition["regions"]
        assert isinstance(regions, dict)
        for name in regions:
            if name.endswith("-global"):
                continue  # botocore's pseudo-regions for global endpoints
            assert REGION.fullmatch(name), name
            assert partition_of(name)[0] == partition["id"], name
            assert re.fullmatch(str(partition["regionRegex"]), name)
            checked += 1
    assert checked > 30


@pytest.mark.parametrize(
    "name", ["us-1", "eu-west", "1-west-1", "EU-WEST-1", "eu_west-1", "e-west-1"]
)
def test_region_pattern_refuses(name: str) -> None:
    from credhelper.registry import REGION

    assert REGION.fullmatch(name) is None

"""Tags in the order people read versions."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credhelper.repos.tag_order import is_version, sort_key, sort_tags

ORDERED = [
    "0.9",
    "1",
    "1.0",
    "1.0.0",
    "v1.0.1",
    "1.0.2",
    "1.0.2_arm64",  # suffixes compare naturally, whatever their separator
    "1.0.2-rc1",
    "1.0.2-rc2",
    "1.0.2-rc10",
    "1.0.2-slim",
    "1.0.12",
    "1.2",
    "2",
    "10.0",
    "20240103",
    "dev",
    "latest",
    "main",
    "sha-1a2b3c",
]


def test_the_order() -> None:
    shuffled = ORDERED[:]
    random.Random(6).shuffle(shuffled)

    assert sort_tags(shuffled) == ORDERED


@pytest.mark.parametrize(
    ("tag", "version"),
    [
        ("1", True),
        ("v2.3", True),
        ("1.0.2-rc1", True),
        ("1.0.2+build.5", True),
        ("latest", False),
        ("1a", False),
        ("1.", False),
        (".1", False),
        ("v", False),
        ("sha-123", False),
    ],
)
def test_is_version(tag: str, version: bool) -> None:
    assert is_version(tag) is version


@given(st.lists(st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,12}", fullmatch=True)))
def test_versions_come_first_and_the_order_is_total(tags: list[str]) -> None:
    ordered = sort_tags(tags)

    assert sorted(tags) == sorted(ordered)
    kinds = [is_version(tag) for tag in ordered]
    assert kinds == sorted(kinds, reverse=True)
    assert ordered == sort_tags(reversed(tags))
    non_versions = [tag for tag in ordered if not is_version(tag)]
    assert non_versions == sorted(non_versions)
    assert all(sort_key(a) <= sort_key(b) for a, b in itertools.pairwise(ordered))

"""`get_timeout_seconds`: the overall deadline of a `get` that must ask AWS."""

from __future__ import annotations

import pytest

from credhelper.errors import ConfigError
from credhelper.settings import parse


def test_default_is_twenty_seconds() -> None:
    assert parse({}).get_timeout == 20.0


def test_a_number_of_seconds() -> None:
    assert parse({"get_timeout_seconds": 3}).get_timeout == 3.0
    assert parse({"get_timeout_seconds": 2.5}).get_timeout == 2.5


@pytest.mark.parametrize("value", [0, -1, 3601, True, "20", float("nan"), float("inf")])
def test_anything_else_is_one_line(value: object) -> None:
    with pytest.raises(ConfigError) as raised:
        parse({"get_timeout_seconds": value}, "/c.toml")

    assert str(raised.value) == (
        "/c.toml: get_timeout_seconds must be a number of seconds above 0 and at most 3600"
    )

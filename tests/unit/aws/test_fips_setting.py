"""FIPS endpoints: forced for FIPS hosts, otherwise botocore's own setting decides."""

from __future__ import annotations

import pytest

from credhelper.aws import client as aws
from credhelper.registry import Registry, parse_address, parse_registry


def registry(host: str) -> Registry:
    address = parse_address(host)
    assert address is not None
    parsed = parse_registry(address)
    assert parsed is not None
    return parsed


def test_aws_use_fips_endpoint_is_honoured_for_a_plain_host(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_USE_FIPS_ENDPOINT", "true")

    client = aws.make_client(
        aws.make_session(None), registry("111111111111.dkr.ecr.us-east-1.amazonaws.com")
    )

    assert client.meta.endpoint_url == "https://ecr-fips.us-east-1.amazonaws.com"


def test_a_plain_host_without_the_setting_uses_the_plain_endpoint() -> None:
    client = aws.make_client(
        aws.make_session(None), registry("111111111111.dkr.ecr.us-east-1.amazonaws.com")
    )

    assert client.meta.endpoint_url == "https://api.ecr.us-east-1.amazonaws.com"

"""Vanity start URLs: which hosts are AWS's access portal, and the region a host names.
Pure: a start URL on an AWS host is used as is, without a request."""

from __future__ import annotations

import pytest

from credhelper.sso.start_url import Resolved, aws_owned, region_of, resolve


@pytest.mark.parametrize(
    ("host", "owned"),
    [
        ("d-9067642ac7.awsapps.com", True),
        ("start.us-gov-home.awsapps.com", True),
        ("d-1.awsapps.cn", True),
        ("ssoins-72234e1b7d8e0fd3.portal.us-east-1.app.aws", True),
        ("D-1.AWSAPPS.COM.", True),
        ("awsapps.com", False),  # the bare domain serves no portal
        ("evil-awsapps.com", False),
        ("awsapps.com.evil.example", False),
        ("sso.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_aws_owned(host: str | None, owned: bool) -> None:
    assert aws_owned(host) is owned


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("ssoins-1.portal.eu-central-1.app.aws", "eu-central-1"),
        ("start.us-gov-west-1.us-gov-home.awsapps.com", "us-gov-west-1"),
        ("d-9067642ac7.awsapps.com", "eu-west-1"),  # names none: the configured one
    ],
)
def test_region_of_the_resolved_host(host: str, region: str) -> None:
    assert region_of(host, "eu-west-1") == region


def test_an_aws_start_url_is_used_as_is_without_a_request() -> None:
    # No server anywhere: a request would fail, so none is made.
    url = "https://d-9067642ac7.awsapps.com/start"
    assert resolve(url, "eu-west-1", {}) == Resolved(url, "eu-west-1")

"""Discovery's pure parts (`ecr-sso setup --discover`): reading the SSO token cache, the
account and role filters, and the profile names."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from credhelper import errors
from credhelper.paths import Paths
from credhelper.setup import discover as discovery
from credhelper.setup.discover import Found, discover, is_selected, load_access_token, normalise

if TYPE_CHECKING:
    from conftest import Env


def _paths() -> Paths:
    return Paths.from_environ(os.environ)


def _write_legacy_cache(env: Env, start_url: str, token: str, expires_at: str) -> Path:
    name = hashlib.sha1(start_url.encode(), usedforsecurity=False).hexdigest()
    path = env.sso_cache_dir / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    cached = {"startUrl": start_url, "region": "us-east-2", "accessToken": token}
    path.write_text(json.dumps({**cached, "expiresAt": expires_at}))
    return path


def test_token_of_a_legacy_start_url(env: Env) -> None:
    url = "https://legacy.awsapps.com/start"
    _write_legacy_cache(env, url, "aoa-legacy", "2999-01-01T00:00:00Z")
    assert load_access_token(_paths(), None, url) == ("aoa-legacy", "us-east-2")
    # A session with no login of its own falls back to the start URL's legacy login.
    assert load_access_token(_paths(), "never-signed-in", url) == ("aoa-legacy", "us-east-2")


def test_missing_session_login_names_the_command(env: Env) -> None:
    with pytest.raises(errors.LoginRequired) as raised:
        load_access_token(_paths(), "team", None)
    assert str(raised.value) == (
        "no valid SSO login for session 'team' (missing or expired); run"
        " `ecr-sso login --sso-session team`"
    )


def test_missing_or_expired_legacy_login_names_the_profile_form(env: Env) -> None:
    url = "https://legacy.awsapps.com/start"
    expected = (
        f"no valid SSO login for {url} (missing or expired); run `ecr-sso login"
        f" PROFILE` with a profile whose sso_start_url is {url}"
    )
    with pytest.raises(errors.LoginRequired) as missing:
        load_access_token(_paths(), None, url)
    assert str(missing.value) == expected
    _write_legacy_cache(env, url, "aoa-old", "2020-01-01T00:00:00Z")
    with pytest.raises(errors.LoginRequired) as expired:
        load_access_token(_paths(), None, url)
    assert str(expired.value) == expected


@pytest.mark.parametrize(
    "expires_at", ["not a date", "", "2020-01-01T00:00:00+00:00", None], ids=repr
)
def test_unusable_expiry_is_a_login_required(env: Env, expires_at: str | None) -> None:
    url = "https://legacy.awsapps.com/start"
    path = _write_legacy_cache(env, url, "aoa-x", "2999-01-01T00:00:00Z")
    path.write_text(json.dumps({**json.loads(path.read_text()), "expiresAt": expires_at}))
    with pytest.raises(errors.LoginRequired):
        load_access_token(_paths(), None, url)


def test_iso_expiry_with_offset_is_understood(env: Env) -> None:
    url = "https://legacy.awsapps.com/start"
    _write_legacy_cache(env, url, "aoa-iso", "2999-01-01T00:00:00.123+00:00")
    assert load_access_token(_paths(), None, url) == ("aoa-iso", "us-east-2")


def test_neither_session_nor_start_url_is_a_usage_error(env: Env) -> None:
    with pytest.raises(errors.UsageError):
        load_access_token(_paths(), None, None)


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ((), (), True),
        (("prod*",), (), True),  # account name, case-insensitive
        (("PROD EU",), (), True),
        (("prod",), (), False),  # a glob, not a substring
        (("*admin*",), (), True),  # role name
        (("Prod EU/Admin*",), (), True),  # "account/role"
        (("*/ReadOnly",), (), False),
        (("1234*",), (), True),  # account id
        (("dev*", "*/admin*"), (), True),  # any include
        ((), ("*prod*",), False),
        (("*admin*",), ("prod eu",), False),  # exclude wins
        (("*admin*",), ("*/readonly",), True),
        ((), ("123456789012",), False),
        (("[pq]rod*",), (), True),
    ],
)
def test_include_and_exclude(
    include: tuple[str, ...], exclude: tuple[str, ...], expected: bool
) -> None:
    assert is_selected(include, exclude, "123456789012", "Prod EU", "AdministratorAccess") is (
        expected
    )


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Payments Prod-AdministratorAccess", "payments-prod-administratoraccess"),
        ("Data Platform - Staging", "data-platform-staging"),
        ("  Risk (Fraud)!  ", "risk-fraud"),
        ("Café Ops", "cafe-ops"),
        ("billing_core.v2", "billing_core.v2"),
        ("Edge/CDN", "edge-cdn"),
        ("--x--", "x"),
        ("生产", ""),
    ],
)
def test_normalise(raw: str, safe: str) -> None:
    assert normalise(raw) == safe


def test_template_fields_and_suffixes_for_duplicates() -> None:
    roles = [
        ("333333333333", "Prod EU", "Admin"),
        ("111111111111", "prod-eu", "Admin"),
        ("222222222222", "PROD  EU", "Admin"),
        ("111111111111", "prod-eu", "admin"),
    ]
    names = {(f.account_id, f.role_name): f.profile_name for f in discovery.profile_names(roles)}
    # Suffixes follow (account id, role): the lowest account keeps the plain name.
    assert names == {
        ("111111111111", "Admin"): "prod-eu-admin",
        ("111111111111", "admin"): "prod-eu-admin-2",
        ("222222222222", "Admin"): "prod-eu-admin-3",
        ("333333333333", "Admin"): "prod-eu-admin-4",
    }
    by_id = discovery.profile_names(roles[:1], "{account_id}.{role_name}")
    assert [f.profile_name for f in by_id] == ["333333333333.admin"]


def test_suffix_never_takes_a_name_of_another_role() -> None:
    roles = [("1", "a", "x"), ("2", "a", "x"), ("3", "a-x-2", "")]
    found = discovery.profile_names(roles, "{account_name}-{role_name}")
    assert {(f.account_id, f.profile_name) for f in found} == {
        ("1", "a-x"),
        ("2", "a-x-3"),
        ("3", "a-x-2"),
    }


def test_name_that_normalises_to_nothing_falls_back_to_id_and_role() -> None:
    found = discovery.profile_names([("444444444444", "生产", "Admin")], "{account_name}")
    assert found == [Found("444444444444", "生产", "Admin", "444444444444-admin")]


def test_malformed_region_is_a_config_error(env: Env) -> None:
    with pytest.raises(errors.ConfigError, match=r"^Provided region_name 'eu west 1' doesn't"):
        discover("aoa-x", "eu west 1")

"""Discovery of accounts and roles (`ecr-sso setup --discover`) against the fake SSO portal
over real HTTP, and the token cache as `aws sso login` leaves it. The pure filters and
names are in tests/unit/setup/test_discovery.py."""

from __future__ import annotations

import os
import re
import threading
from typing import TYPE_CHECKING

import pytest
from fakeportal import (
    LIST_ACCOUNT_ROLES,
    LIST_ACCOUNTS,
    Account,
    FakePortal,
    organisation,
    portal,  # noqa: F401 - the fixture
)

from credhelper import errors
from credhelper.paths import Paths
from credhelper.setup import discover as discovery
from credhelper.setup.discover import Found, discover, load_access_token

if TYPE_CHECKING:
    from conftest import SSO, Env

SAFE = re.compile(r"[a-z0-9._][a-z0-9._-]*[a-z0-9._]|[a-z0-9._]")


def _paths() -> Paths:
    return Paths.from_environ(os.environ)


def _org(*accounts: tuple[str, str, tuple[str, ...]]) -> list[Account]:
    return [Account(i, name, f"{i}@example.com", roles) for i, name, roles in accounts]


def _pairs(found: list[Found]) -> set[tuple[str, str]]:
    return {(f.account_id, f.role_name) for f in found}


# -- the SSO token cache -------------------------------------------------------------------


def test_token_of_an_sso_session(sso: SSO) -> None:
    token = sso.login(session="team", sso_region="eu-central-1")
    assert load_access_token(_paths(), "team", None) == (token, "eu-central-1")
    # The start URL, when given too, must be the session's.
    url = "https://example.awsapps.com/start/"
    assert load_access_token(_paths(), "team", url) == (token, "eu-central-1")


def test_expired_session_login_names_the_command(sso: SSO) -> None:
    sso.login(session="team")
    sso.expire("team")
    with pytest.raises(errors.LoginRequired, match=r"run `ecr-sso login --sso-session team`$"):
        load_access_token(_paths(), "team", None)


def test_token_expiring_within_a_minute_counts_as_expired(sso: SSO) -> None:
    sso.login(session="team", expires_in=30)
    with pytest.raises(errors.LoginRequired):
        load_access_token(_paths(), "team", None)


def test_corrupt_cache_is_a_login_required(sso: SSO) -> None:
    sso.login(session="team")
    sso.cache_file("team").write_text("{not json")
    with pytest.raises(errors.LoginRequired, match="--sso-session team"):
        load_access_token(_paths(), "team", None)


def test_session_signed_in_to_another_start_url_is_a_config_error(sso: SSO) -> None:
    sso.login(session="team", start_url="https://other.awsapps.com/start")
    with pytest.raises(errors.ConfigError) as raised:
        load_access_token(_paths(), "team", "https://example.awsapps.com/start")
    assert str(raised.value) == (
        "the cached SSO login of session 'team' is for https://other.awsapps.com/start, not"
        " https://example.awsapps.com/start; choose another session name, or sign that"
        " session in to the start URL wanted"
    )


def test_login_then_discover_end_to_end(sso: SSO, portal: FakePortal) -> None:  # noqa: F811
    token = sso.login(session="team", sso_region="eu-west-1")
    portal.accept(token)
    portal.set_accounts(_org(("111111111111", "Dev", ("Admin",))))
    access_token, region = load_access_token(_paths(), "team", None)
    assert discover(access_token, region) == [Found("111111111111", "Dev", "Admin", "dev-admin")]
    assert portal.fake.calls[0].params["bearer"] == token


# -- the portal calls ----------------------------------------------------------------------


def test_both_listings_are_paginated(portal: FakePortal) -> None:  # noqa: F811
    portal.page_size = 3
    org = organisation(7, 8)
    portal.set_accounts(org)
    found = discover(portal.token(), "eu-west-1")

    assert _pairs(found) == {(a.account_id, role) for a in org for role in a.roles}
    assert len(found) == 56
    accounts = [c.params for c in portal.fake.calls if c.operation == LIST_ACCOUNTS]
    assert len(accounts) == 3  # 3 + 3 + 1
    # We ask for the portal's largest page; the fake gives fewer, as a real one may.
    assert {c["max_result"] for c in accounts} == {"100"}
    assert "next_token" not in accounts[0]
    assert all(c.get("next_token") for c in accounts[1:])
    roles = [c.params for c in portal.fake.calls if c.operation == LIST_ACCOUNT_ROLES]
    assert len(roles) == 7 * 3  # 3 + 3 + 2 per account
    for account in org:
        mine = [c for c in roles if c["account_id"] == account.account_id]
        assert [bool(c.get("next_token")) for c in mine] == [False, True, True]


def test_empty_organisation(portal: FakePortal) -> None:  # noqa: F811
    seen: list[tuple[int, int]] = []
    assert discover(portal.token(), "eu-west-1", progress=lambda *p: seen.append(p)) == []
    assert seen == [(0, 0)]
    assert portal.count(LIST_ACCOUNT_ROLES) == 0


def test_a_thousand_accounts_of_three_roles(portal: FakePortal) -> None:  # noqa: F811
    org = organisation(1000, 3)
    portal.set_accounts(org)
    found = discover(portal.token(), "eu-west-1")

    assert len(found) == 3000
    assert _pairs(found) == {(a.account_id, role) for a in org for role in a.roles}
    names = [f.profile_name for f in found]
    assert len(set(names)) == 3000
    assert names == sorted(names)
    assert all(SAFE.fullmatch(name) for name in names)
    assert portal.count(LIST_ACCOUNTS) == 50  # the fake's 20 per page
    assert portal.count(LIST_ACCOUNT_ROLES) == 1000


@pytest.mark.parametrize("workers", [8, 3])
def test_role_listing_is_concurrent_and_bounded(portal: FakePortal, workers: int) -> None:  # noqa: F811
    portal.set_accounts(organisation(60, 2))
    # The fake holds the first calls until `workers` are in flight: reached only if
    # discovery really overlaps them (else each would wait out GATHER_TIMEOUT, then fail).
    portal.gather = workers
    discover(portal.token(), "eu-west-1", max_workers=workers)
    assert portal.high_water == workers
    assert portal.count(LIST_ACCOUNT_ROLES) == 60


def test_one_worker_lists_one_account_at_a_time(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(organisation(30, 2))
    portal.latency = 0.002  # widens any overlap a bug would create
    discover(portal.token(), "eu-west-1", max_workers=1)
    assert portal.high_water == 1


def test_bad_worker_count_is_a_usage_error(portal: FakePortal) -> None:  # noqa: F811
    with pytest.raises(errors.UsageError):
        discover(portal.token(), "eu-west-1", max_workers=0)
    assert portal.fake.calls == []


def test_progress_counts_accounts_on_the_calling_thread(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(organisation(25, 1))
    seen: list[tuple[int, int, threading.Thread]] = []
    discover(
        portal.token(),
        "eu-west-1",
        progress=lambda done, total: seen.append((done, total, threading.current_thread())),
    )
    assert [(done, total) for done, total, _ in seen] == [(n, 25) for n in range(26)]
    assert {thread for _, _, thread in seen} == {threading.current_thread()}


def test_throttled_role_listings_are_retried_and_complete(portal: FakePortal) -> None:  # noqa: F811
    org = organisation(30, 2)
    portal.set_accounts(org)
    portal.throttle(6, LIST_ACCOUNT_ROLES)
    found = discover(portal.token(), "eu-west-1")
    assert portal.throttled == 6
    assert portal.count(LIST_ACCOUNT_ROLES) == 30 + 6
    assert _pairs(found) == {(a.account_id, role) for a in org for role in a.roles}


def test_throttled_account_page_is_retried(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(organisation(45, 1))
    portal.throttle(1, LIST_ACCOUNTS, after=1)
    found = discover(portal.token(), "eu-west-1")
    assert len(found) == 45
    assert portal.throttled == 1
    assert portal.count(LIST_ACCOUNTS) == 3 + 1


def test_still_throttled_after_botocore_resumes_at_the_same_page(
    portal: FakePortal,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # botocore's own backoff is seconds long: take it out, and shrink ours, so that this
    # exercises our layer quickly. (Our layer cannot tell the difference.)
    monkeypatch.setattr(discovery, "BOTOCORE_ATTEMPTS", 1)
    monkeypatch.setattr(discovery, "OWN_BASE_DELAY", 0.001)
    portal.page_size = 5
    portal.set_accounts(organisation(20, 1))
    portal.throttle(2, LIST_ACCOUNTS, after=2)
    found = discover(portal.token(), "eu-west-1")

    assert len(found) == 20
    tokens = [c.params.get("next_token") for c in portal.fake.calls if c.operation == LIST_ACCOUNTS]
    assert len(tokens) == 4 + 2
    first, second, third, again, once_more, fourth = tokens
    assert first is None
    assert len({second, third, fourth}) == 3
    assert third == again == once_more  # resumed at the throttled page, not from page one


def test_throttled_beyond_every_retry_is_throttled(
    portal: FakePortal,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(discovery, "BOTOCORE_ATTEMPTS", 1)
    monkeypatch.setattr(discovery, "OWN_BASE_DELAY", 0.001)
    portal.set_accounts(organisation(3, 1))
    portal.throttle(1000, LIST_ACCOUNTS)
    with pytest.raises(errors.Throttled) as raised:
        discover(portal.token(), "eu-west-1")
    assert str(raised.value) == (
        "the SSO portal kept throttling requests while listing the SSO accounts; try again"
        " in a minute or with fewer workers"
    )
    assert portal.count(LIST_ACCOUNTS) == 1 + discovery.OWN_ROUNDS


def test_unknown_token_is_login_required_with_the_command(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(organisation(3, 1))
    with pytest.raises(errors.LoginRequired) as raised:
        discover(
            "aoa-not-a-valid-token",
            "eu-west-1",
            login_hint="ecr-sso login --sso-session team",
        )
    assert str(raised.value) == (
        "the SSO portal refused the sign-in (expired or revoked) while listing the SSO"
        " accounts; run `ecr-sso login --sso-session team`"
    )
    assert portal.count(LIST_ACCOUNTS) == 1  # not retried: retrying cannot help


def test_token_refused_while_listing_roles_stops_discovery(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(organisation(200, 1))
    token = portal.token()

    def revoke(done: int, total: int) -> None:
        if done == 0:  # the accounts are listed, no role listing has started
            portal.revoke(token)

    with pytest.raises(errors.LoginRequired, match=r"run `ecr-sso login`$"):
        discover(token, "eu-west-1", progress=revoke)
    # The first refusal cancelled what had not started.
    assert portal.count(LIST_ACCOUNTS) == 10
    assert 1 <= portal.count(LIST_ACCOUNT_ROLES) < 200


def test_account_gone_between_calls_is_an_aws_error(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(_org(("111111111111", "Dev", ("Admin",)), ("222222222222", "Old", ("A",))))
    portal.vanish("222222222222")
    with pytest.raises(errors.AwsError) as raised:
        discover(portal.token(), "eu-west-1")
    assert str(raised.value) == (
        "listing the roles of account 222222222222 (Old) failed: ResourceNotFoundException:"
        " Account not found"
    )


def test_unreachable_portal(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9")
    with pytest.raises(errors.Unreachable) as raised:
        discover("aoa-x", "eu-west-1")
    assert str(raised.value) == (
        "cannot reach the SSO portal at http://127.0.0.1:9 while listing the SSO accounts"
        " (network, proxy or VPN?)"
    )


def test_a_profile_that_does_not_exist_yet_does_not_matter(
    portal: FakePortal,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Setup often runs while AWS_PROFILE names the profile it is about to write.
    monkeypatch.setenv("AWS_PROFILE", "dev")
    monkeypatch.setenv("AWS_DEFAULT_PROFILE", "dev")
    portal.set_accounts(_org(("111111111111", "Dev", ("Admin",))))
    assert [f.profile_name for f in discover(portal.token(), "eu-west-1")] == ["dev-admin"]


# -- filters -------------------------------------------------------------------------------


def test_filters_applied_and_excluded_accounts_not_listed(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(
        _org(
            ("111111111111", "Payments Dev", ("AdministratorAccess", "ReadOnlyAccess")),
            ("222222222222", "Payments Prod", ("AdministratorAccess", "ReadOnlyAccess")),
            ("333333333333", "Data Dev", ("AdministratorAccess", "Developer")),
        )
    )
    found = discover(
        portal.token(),
        "eu-west-1",
        include=("payments*", "*/developer"),
        exclude=("*PROD*", "*/readonly*"),
    )
    assert [f.profile_name for f in found] == [
        "data-dev-developer",
        "payments-dev-administratoraccess",
    ]
    # An account excluded by its name has nothing to offer: its roles are not even listed.
    listed = {
        c.params["account_id"] for c in portal.fake.calls if c.operation == LIST_ACCOUNT_ROLES
    }
    assert listed == {"111111111111", "333333333333"}


# -- names ---------------------------------------------------------------------------------


def test_result_is_sorted_by_profile_name(portal: FakePortal) -> None:  # noqa: F811
    portal.set_accounts(
        _org(
            ("000000000002", "b", ("R",)),
            ("000000000001", "c", ("R",)),
            ("000000000003", "a", ("R", "Q")),
        )
    )
    found = discover(portal.token(), "eu-west-1", template="{account_name}/{role_name}")
    assert [f.profile_name for f in found] == ["a-q", "a-r", "b-r", "c-r"]


@pytest.mark.parametrize(
    "template", ["{account}", "{account_name.upper}", "{0}", "{account_name", "{role_name[0]}"]
)
def test_malformed_template_is_a_usage_error_before_any_call(
    portal: FakePortal,  # noqa: F811
    template: str,
) -> None:
    with pytest.raises(errors.UsageError, match="template"):
        discover(portal.token(), "eu-west-1", template=template)
    assert portal.fake.calls == []

"""`Helper`'s use cases in-process, with an injected clock and a recording fetch: when a
cached token is served, when it is fetched again, what `store` and `erase` do to the
cache, and how a missing login reaches the sign-in. No process, server or AWS call."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from conftest import Env

from credhelper.errors import CredentialsNotFound, LoginRequired
from credhelper.helper.credstore import CredStore
from credhelper.helper.tokens import MARGIN_SECONDS, FileCache, Token
from credhelper.helper.usecases import STORED_TOKEN_LIFETIME, Credentials, Helper
from credhelper.paths import Paths
from credhelper.registry import Registry
from credhelper.settings import parse

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"
ECR_LIFETIME = 12 * 3600


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Fetches:
    """A token fetch that records its calls and hands out numbered secrets."""

    clock: Clock
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    lifetime: float = ECR_LIFETIME
    login_missing: bool = False

    def __call__(self, registry: Registry, profile: str | None) -> Token:
        if self.login_missing:
            raise LoginRequired(f"the SSO login for profile {profile!r} is missing")
        self.calls.append((registry.host, profile))
        return Token("AWS", f"secret-{len(self.calls)}", self.clock() + self.lifetime)


def make_helper(
    clock: Clock, fetch: Fetches, sign_in: Callable[..., Token] | None = None
) -> tuple[Helper, FileCache]:
    paths = Paths.from_environ(os.environ)
    cache = FileCache(paths.cache_dir)
    settings = parse({"registries": {DEV: "dev", PROD: "prod"}}, "config.toml")
    extra = {} if sign_in is None else {"sign_in": sign_in}
    helper = Helper(
        paths=paths,
        settings=settings,
        environ=dict(os.environ),
        cache=cache,
        fetch=fetch,
        credstore=CredStore(paths.data_dir),
        clock=clock,
        **extra,
    )
    return helper, cache


@pytest.fixture
def clock(env: Env) -> Clock:
    return Clock()


def test_a_cached_token_is_served_until_the_margin_then_fetched_again(clock: Clock) -> None:
    fetch = Fetches(clock)
    helper, _ = make_helper(clock, fetch)

    first = helper.get(f"https://{DEV}")
    clock.now += ECR_LIFETIME - MARGIN_SECONDS - 1
    second = helper.get(DEV)
    clock.now += 1
    third = helper.get(DEV)

    assert first == Credentials(f"https://{DEV}", "AWS", "secret-1")
    assert second.secret == "secret-1"
    assert third.secret == "secret-2"
    assert fetch.calls == [(DEV, "dev"), (DEV, "dev")]


def test_each_registry_has_its_own_token_and_profile(clock: Clock) -> None:
    fetch = Fetches(clock)
    helper, cache = make_helper(clock, fetch)

    assert helper.get(DEV).secret == "secret-1"
    assert helper.get(PROD).secret == "secret-2"
    assert helper.get(DEV).secret == "secret-1"
    assert fetch.calls == [(DEV, "dev"), (PROD, "prod")]
    assert len(cache.keys()) == 2


def test_a_token_expiring_within_the_margin_is_served_but_not_cached(clock: Clock) -> None:
    fetch = Fetches(clock, lifetime=MARGIN_SECONDS - 60)
    helper, cache = make_helper(clock, fetch)

    assert helper.get(DEV).secret == "secret-1"
    assert helper.get(DEV).secret == "secret-2"
    assert cache.keys() == []


def test_store_of_an_aws_password_is_served_for_twelve_hours_and_erase_forgets_it(
    clock: Clock,
) -> None:
    fetch = Fetches(clock)
    helper, cache = make_helper(clock, fetch)

    helper.store(DEV, "AWS", "from-docker-login")
    (key,) = cache.keys()
    stored = cache.get(key)
    assert stored is not None
    assert stored.expires_at == clock.now + STORED_TOKEN_LIFETIME
    assert helper.get(DEV).secret == "from-docker-login"
    assert fetch.calls == []

    helper.erase(DEV)
    helper.erase(DEV)  # nothing left to erase is not an error
    assert cache.keys() == []
    assert helper.get(DEV).secret == "secret-1"


def test_store_under_another_username_is_accepted_and_not_cached(clock: Clock) -> None:
    helper, cache = make_helper(clock, Fetches(clock))

    helper.store(DEV, "someone", "password")

    assert cache.keys() == []


def test_a_missing_login_goes_to_sign_in_with_the_profile(clock: Clock) -> None:
    fetch = Fetches(clock, login_missing=True)
    seen: list[str | None] = []

    def sign_in(profile: str | None, error: LoginRequired, retry: Callable[[], Token]) -> Token:
        seen.append(profile)
        fetch.login_missing = False  # the person signed in
        return retry()

    helper, _ = make_helper(clock, fetch, sign_in)

    assert helper.get(DEV).secret == "secret-1"
    assert seen == ["dev"]
    assert helper.get(DEV).secret == "secret-1", "the retry's token was cached"


def test_without_sign_in_a_missing_login_is_the_error_to_show(clock: Clock) -> None:
    helper, cache = make_helper(clock, Fetches(clock, login_missing=True))

    with pytest.raises(LoginRequired, match="profile 'dev' is missing"):
        helper.get(DEV)
    assert cache.keys() == []


@pytest.mark.parametrize("server_url", ["", "https://", "not a host"])
def test_what_is_not_a_registry_address_is_not_found(clock: Clock, server_url: str) -> None:
    helper, _ = make_helper(clock, Fetches(clock))

    with pytest.raises(CredentialsNotFound):
        helper.get(server_url)


def test_list_names_the_mapped_registries_without_fetching(clock: Clock) -> None:
    fetch = Fetches(clock)
    helper, _ = make_helper(clock, fetch)

    assert helper.list() == {DEV: "AWS", PROD: "AWS"}
    assert fetch.calls == []

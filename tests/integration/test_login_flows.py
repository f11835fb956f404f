"""The sign-in flows in-process: the device-code polling against the fake SSO-OIDC with a
recorded clock (the product's waits are recorded, not slept), the PKCE wait and the
loopback listener. Their pure parts (login file, browser, policy) are under tests/unit."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest
from conftest import Env
from fakeaws import FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    DEVICE_CODE,
    REGISTER_CLIENT,
    FakeOIDC,
    oidc_fixture,
    signin_server,
    token_file,
    write_sso_config,
)

from credhelper.aws.client import translate
from credhelper.aws.config import SsoSession
from credhelper.errors import LoginRequired
from credhelper.paths import Paths
from credhelper.registry import Registry
from credhelper.sso import flows as sso
from credhelper.sso import logins
from credhelper.sso.loopback import Listener
from credhelper.sso.oidc import SsoApi

TEAM = SsoSession("team", "https://example.awsapps.com/start", "eu-west-1")


@dataclass
class Clock:
    """A clock whose `sleep` only records and advances it."""

    now: float = field(default_factory=time.time)
    sleeps: list[float] = field(default_factory=list)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@dataclass
class Shown:
    """An `sso.Interaction` that records what a person would have been shown."""

    device: list[tuple[str, str]] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    browser_failure: str | None = None

    def authorize(self, url: str) -> Shown:
        self.urls.append(url)
        return self

    def failed(self) -> str | None:
        return self.browser_failure

    def device_code(self, url: str, code: str) -> None:
        self.device.append((url, code))

    def waiting(self, seconds: float) -> None:
        self.waits.append(seconds)


def paths() -> Paths:
    return Paths.from_environ(os.environ)


def device_sign_in(clock: Clock, shown: Shown | None = None) -> logins.Login:
    return sso.sign_in_with_device_code(
        TEAM,
        SsoApi("eu-west-1"),
        shown or Shown(),
        paths(),
        clock=clock.time,
        sleep=clock.sleep,
    )


# -- the device-code flow -------------------------------------------------------------


def test_device_flow_pending_then_slow_down_then_success(
    env: Env, aws: FakeAWS, oidc: FakeOIDC
) -> None:
    oidc.device_interval = 1
    oidc.device_answers = ["pending", "slow_down"]
    clock, shown = Clock(), Shown()

    login = device_sign_in(clock, shown)

    # RFC 8628: wait the interval before each poll; slow_down adds 5 s from then on.
    assert clock.sleeps == [1, 1, 6]
    assert oidc.grants() == [DEVICE_CODE] * 3
    assert shown.device == [(f"{aws.url}/device?user_code=ABCD-EFGH", "ABCD-EFGH")]
    assert login.access_token == oidc.access_tokens[-1]
    assert login.expires_at == pytest.approx(clock.now + 8 * 3600)
    saved = json.loads(token_file(env).read_text())
    assert saved["accessToken"] == login.access_token


def test_device_code_expires_while_nobody_confirms(env: Env, oidc: FakeOIDC) -> None:
    oidc.device_interval = 1
    oidc.device_expires_in = 3
    oidc.device_answers = ["pending"] * 10
    clock = Clock()

    with pytest.raises(sso.SignInError) as raised:
        device_sign_in(clock)

    assert str(raised.value) == (
        "the code for sso-session 'team' expired before the sign-in was confirmed; sign in again"
    )
    assert clock.sleeps == [1, 1, 1], "polls until the code's expiry, never past it"
    assert oidc.grants() == [DEVICE_CODE] * 3
    assert not token_file(env).exists()


def test_device_code_expired_by_the_server(oidc: FakeOIDC) -> None:
    oidc.device_answers = ["pending", "expired"]

    with pytest.raises(sso.SignInError, match="expired before the sign-in was confirmed"):
        device_sign_in(Clock())

    assert len(oidc.grants()) == 2


def test_default_interval_when_the_server_names_none(oidc: FakeOIDC) -> None:
    class NoInterval(SsoApi):
        def start_device_authorization(self, **params: object) -> dict[str, object]:
            reply = super().start_device_authorization(**params)
            reply.pop("interval")
            return reply

    clock = Clock()
    sso.sign_in_with_device_code(
        TEAM, NoInterval("eu-west-1"), Shown(), paths(), clock=clock.time, sleep=clock.sleep
    )

    assert clock.sleeps == [5.0]


# -- the browser flow -----------------------------------------------------------------


def test_browser_flow_gives_up_at_its_timeout(env: Env, oidc: FakeOIDC) -> None:
    shown = Shown()
    started = time.monotonic()

    with pytest.raises(sso.SignInError) as raised:
        sso.sign_in_with_browser(TEAM, SsoApi("eu-west-1"), shown, paths(), timeout=0.3)

    assert str(raised.value) == "the sign-in to sso-session 'team' was not completed within 0.3 s"
    assert 0.3 <= time.monotonic() - started < 10
    assert shown.waits == [0.3]
    assert len(shown.urls) == 1
    assert not token_file(env).exists()


def test_browser_flow_stops_when_the_browser_fails(oidc: FakeOIDC) -> None:
    shown = Shown(browser_failure="the browser program exited with status 3")

    with pytest.raises(sso.SignInError) as raised:
        sso.sign_in_with_browser(TEAM, SsoApi("eu-west-1"), shown, paths(), timeout=60)

    assert str(raised.value) == (
        "the browser could not show the sign-in page: the browser program exited with status 3"
    )


def test_legacy_sessions_have_no_browser_flow(oidc: FakeOIDC) -> None:
    legacy = SsoSession(None, "https://legacy.awsapps.com/start", "eu-west-1")

    with pytest.raises(sso.SignInError, match="signs in with a device code"):
        sso.sign_in_with_browser(legacy, SsoApi("eu-west-1"), Shown(), paths(), timeout=1)

    assert oidc.aws.calls == []


def test_a_registration_about_to_expire_is_replaced(oidc: FakeOIDC) -> None:
    registrations = logins.Registrations(paths().cache_dir)
    key = logins.Registrations.key(TEAM, (sso.DEVICE_GRANT, "refresh_token"))
    registrations.put(key, logins.Registration("old-client", "old-secret", time.time() + 3600))

    device_sign_in(Clock())

    assert len(oidc.calls(REGISTER_CLIENT)) == 1
    replaced = registrations.get(key, time.time())
    assert replaced is not None
    assert replaced.client_id != "old-client"
    assert "old-secret" not in repr(replaced), "secrets stay out of reprs"


def test_the_authorize_page_follows_the_sso_oidc_endpoint(
    aws: FakeAWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SsoApi("eu-west-1").endpoint_url == aws.url
    monkeypatch.delenv("AWS_ENDPOINT_URL_SSO_OIDC")
    assert SsoApi("eu-west-1").endpoint_url == "https://oidc.eu-west-1.amazonaws.com"


# -- the loopback listener --------------------------------------------------------------


def fetch(url: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as page:
            return page.status, page.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_listener_takes_only_the_callback() -> None:
    with Listener("s1") as listener:
        assert listener.redirect_uri.startswith("http://127.0.0.1:")
        base = listener.redirect_uri.rsplit("/oauth/", 1)[0]
        assert fetch(base + "/favicon.ico")[0] == 400
        assert fetch(listener.redirect_uri)[0] == 400  # opened without an answer
        status, page = fetch(listener.redirect_uri + "?code=c1&state=s1")
        answer = listener.wait(5)

    assert status == 200
    assert "You can close this tab" in page
    assert (answer.kind, answer.code, answer.state, answer.error) == ("redirect", "c1", "s1", None)


def test_listener_shows_a_refusal_for_a_foreign_state() -> None:
    with Listener("mine") as listener:
        status, page = fetch(listener.redirect_uri + "?code=c1&state=<theirs>")
        answer = listener.wait(0.3)

    assert status == 400
    assert "does not belong to the sign-in" in page
    assert "<theirs>" not in page
    assert answer.kind == "timeout", "a foreign answer is not handed to the sign-in"


# -- error translation ----------------------------------------------------------------


def test_modeled_sso_errors_are_login_errors(aws: FakeAWS) -> None:
    """botocore raises SSO's UnauthorizedException as its own ClientError subclass: a
    login that AWS refused must still say to sign in again."""
    from botocore.session import Session

    client = Session().create_client("sso", region_name="eu-west-1")
    error = client.exceptions.UnauthorizedException(
        {"Error": {"Code": "UnauthorizedException", "Message": "m"}}, "GetRoleCredentials"
    )
    registry = Registry("111111111111.dkr.ecr.eu-west-1.amazonaws.com", "ecr", "1" * 12, "x")

    translated = translate(error, registry, "dev")

    assert isinstance(translated, LoginRequired)
    assert str(translated).endswith("run `ecr-sso login dev`")

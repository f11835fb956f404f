"""The sign-in flows and their parts in-process: the device-code polling against the fake
SSO-OIDC with a recorded clock (the product's waits are recorded, not slept), the PKCE
wait, the loopback listener, the login file, browser and policy decisions."""

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

from credhelper.aws.client import SsoApi, translate
from credhelper.errors import ConfigError, LoginRequired
from credhelper.helper import autologin
from credhelper.helper.usecases import profile_token_keys
from credhelper.paths import Paths
from credhelper.registry import Registry
from credhelper.settings import Settings, parse
from credhelper.sso import browser
from credhelper.sso import flows as sso
from credhelper.sso.loopback import Listener

TEAM = sso.SsoSession("team", "https://example.awsapps.com/start", "eu-west-1")


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


def device_sign_in(clock: Clock, shown: Shown | None = None) -> sso.Login:
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
    legacy = sso.SsoSession(None, "https://legacy.awsapps.com/start", "eu-west-1")

    with pytest.raises(sso.SignInError, match="signs in with a device code"):
        sso.sign_in_with_browser(legacy, SsoApi("eu-west-1"), Shown(), paths(), timeout=1)

    assert oidc.aws.calls == []


def test_a_registration_about_to_expire_is_replaced(oidc: FakeOIDC) -> None:
    registrations = sso.Registrations(paths().cache_dir)
    key = sso.Registrations.key(TEAM, (sso.DEVICE_GRANT, "refresh_token"))
    registrations.put(key, sso.Registration("old-client", "old-secret", time.time() + 3600))

    device_sign_in(Clock())

    assert len(oidc.calls(REGISTER_CLIENT)) == 1
    replaced = registrations.get(key, time.time())
    assert replaced is not None
    assert replaced.client_id != "old-client"
    assert "old-secret" not in repr(replaced), "secrets stay out of reprs"


def test_authorize_url_is_the_aws_clis() -> None:
    url = sso.authorize_url(
        "https://oidc.eu-west-1.amazonaws.com/",
        client_id="id",
        redirect_uri="http://127.0.0.1:4711/oauth/callback",
        state="st",
        scopes=["sso:account:access", "codewhisperer:completions"],
        challenge="ch",
    )

    assert url == (
        "https://oidc.eu-west-1.amazonaws.com/authorize?response_type=code&client_id=id"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Foauth%2Fcallback&state=st"
        "&code_challenge_method=S256"
        "&scopes=sso%3Aaccount%3Aaccess%20codewhisperer%3Acompletions&code_challenge=ch"
    )


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
        assert fetch(base + "/favicon.ico")[0] == 404
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


# -- the login file ---------------------------------------------------------------------


def test_login_file_round_trip_and_botocore_reads_it(env: Env) -> None:
    from botocore.utils import JSONFileCache, SSOTokenLoader

    registration = sso.Registration("cid", "csecret", 2_000_000_000.0)
    login = sso.Login("token-1", 1_900_000_000.0, registration, "refresh-1")

    path = sso.write_login(paths(), TEAM, login)

    assert path == str(token_file(env, "team"))
    assert sso.read_login(paths(), TEAM) == login
    loaded = SSOTokenLoader(JSONFileCache(str(env.sso_cache_dir)))(
        TEAM.start_url, session_name="team"
    )
    assert loaded["accessToken"] == "token-1"
    assert loaded["expiresAt"] == "2030-03-17T17:46:40Z"
    assert "token-1" not in repr(login)
    assert "csecret" not in repr(login)
    assert sso.delete_login(paths(), TEAM) is True
    assert sso.delete_login(paths(), TEAM) is False


def test_login_states() -> None:
    now = 1_000_000.0
    registration = sso.Registration("c", "s", now + 10)
    assert sso.Login("t", now + 120).valid(now)
    assert not sso.Login("t", now + 30).valid(now), "less than a minute left is expired"
    assert sso.Login("t", now - 1, registration, "r").refreshable(now)
    assert not sso.Login("t", now - 1, registration, None).refreshable(now)
    assert not sso.Login("t", now - 1, registration, "r").refreshable(now + 11)


# -- reading the AWS config -------------------------------------------------------------


def test_sessions_of_profiles(env: Env) -> None:
    write_sso_config(
        env,
        extra=(
            "\n[profile chained]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = dev\n"
            "\n[profile legacy]\nsso_start_url = https://l.awsapps.com/start\n"
            "sso_region = us-east-1\n"
            "\n[profile keys]\naws_access_key_id = AKIA\n"
            "\n[profile loop]\nsource_profile = loop\n"
            "\n[sso-session broken]\nsso_region = eu-west-1\n"
        ),
    )
    config = sso.AwsConfig.read(paths())
    team = config.session("team")

    assert team.scopes == ("sso:account:access",)
    assert config.session_of("chained") == team
    assert config.session_of("legacy").legacy
    assert config.session_of("legacy").cache_name == "https://l.awsapps.com/start"
    with pytest.raises(sso.NotSso):
        config.session_of("keys")
    with pytest.raises(sso.NotSso):
        config.session_of("loop")
    with pytest.raises(ConfigError, match="needs sso_start_url and sso_region"):
        config.session("broken")
    assert config.profiles_of(team) == ["dev", "prod", "chained"]
    assert [s.cache_name for s in config.all_sessions()] == [
        "team",
        "https://l.awsapps.com/start",
    ]


def test_profile_token_keys_keep_similar_names_apart() -> None:
    keys = [
        "dev.0123abcd@ecr.111111111111.eu-west-1",
        "dev.x.0123abcd@ecr.111111111111.eu-west-1",
        "dev.99999999@ecr-public",
        "~chain-0123456789abcdef@ecr-public",
        "devx.0123abcd@ecr-public",
    ]

    assert profile_token_keys(keys, "dev") == [keys[0], keys[2]]
    assert profile_token_keys(keys, "dev.x") == [keys[1]]


# -- browser and policy decisions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "platform", "reason"),
    [
        ({}, "linux", "there is no display (DISPLAY, WAYLAND_DISPLAY) and BROWSER is not set"),
        ({"DISPLAY": ":0"}, "linux", None),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", None),
        ({"BROWSER": "firefox"}, "linux", None),
        ({}, "darwin", None),
        ({"SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"}, "darwin", "this is an SSH session"),
        ({}, "win32", None),
    ],
)
def test_where_a_browser_can_be_opened(
    environ: dict[str, str], platform: str, reason: str | None
) -> None:
    assert browser.unavailable_reason(environ, platform) == reason


def test_browser_commands(tmp_path: os.PathLike[str]) -> None:
    program = os.path.join(tmp_path, "my-browser")
    with open(program, "w") as handle:
        handle.write("#!/bin/sh\n")
    os.chmod(program, 0o700)
    url = "http://x/authorize?a=1&b=2"

    assert browser.command(url, {"BROWSER": program}) == [program, url]
    assert browser.command(url, {"BROWSER": f"/nonexistent:{program} --new-tab %s"}) == [
        program,
        "--new-tab",
        url,
    ]
    assert browser.command(url, {}, "darwin") == ["open", url]
    with pytest.raises(browser.BrowserUnavailable, match="none of the programs in BROWSER"):
        browser.command(url, {"BROWSER": "/nonexistent"})
    with pytest.raises(browser.BrowserUnavailable, match="xdg-open"):
        browser.command(url, {"PATH": str(tmp_path)}, "linux")


@pytest.mark.parametrize(
    ("environ", "config", "reason"),
    [
        ({"CI": "true", "DISPLAY": ":0"}, {}, "CI is set"),
        ({"CI": "1", "DISPLAY": ":0"}, {}, "CI is set"),
        ({"CI": "false", "DISPLAY": ":0"}, {}, None),
        ({"ECR_SSO_NO_LOGIN": "1", "DISPLAY": ":0"}, {}, "ECR_SSO_NO_LOGIN is set"),
        ({"ECR_SSO_NO_LOGIN": "0", "DISPLAY": ":0"}, {}, None),
        ({"DISPLAY": ":0"}, {"auto_login": False}, "auto_login = false in cfg.toml"),
        ({}, {}, "there is no display (DISPLAY, WAYLAND_DISPLAY) and BROWSER is not set"),
    ],
)
def test_when_the_helper_may_sign_in(
    environ: dict[str, str], config: dict[str, object], reason: str | None
) -> None:
    assert autologin.refusal(environ, parse(config, "cfg.toml")) == reason


def test_login_timeout_settings() -> None:
    assert autologin.login_timeout({}, Settings()) == 120
    assert autologin.login_timeout({}, parse({"login_timeout": 30}, "c")) == 30
    assert autologin.login_timeout({"ECR_SSO_LOGIN_TIMEOUT": "2.5"}, parse({}, "c")) == 2.5
    with pytest.raises(ConfigError, match="ECR_SSO_LOGIN_TIMEOUT"):
        autologin.login_timeout({"ECR_SSO_LOGIN_TIMEOUT": "soon"}, Settings())
    with pytest.raises(ConfigError, match="c: login_timeout must be a number"):
        autologin.login_timeout({}, parse({"login_timeout": "2m"}, "c"))
    with pytest.raises(ConfigError, match="above 0"):
        autologin.login_timeout({}, parse({"login_timeout": 0}, "c"))


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

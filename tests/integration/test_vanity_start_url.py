"""Vanity start URLs end to end: a stand-in for an organisation's own start-URL host
answers with one redirect, and `ecr-sso login` gives SSO-OIDC (the fake) the resolved URL
while the token file keeps the configured one, where the AWS CLI and botocore look."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import Env
from fakeaws import FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    REGISTER_CLIENT,
    START_DEVICE_AUTHORIZATION,
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    ecr_sso,
    oidc_fixture,
    signin_server,
    token_file,
    write_sso_config,
)

from credhelper.aws.config import SsoSession
from credhelper.errors import Unreachable
from credhelper.sso import start_url
from credhelper.sso.oidc import SsoApi

RESOLVED = "https://d-9067642ac7.awsapps.com/start"


@dataclass
class VanityHost:
    """An organisation's start-URL host: every GET answers `status` with `location`."""

    url: str
    status: int = 302
    location: str | None = RESOLVED
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def vanity() -> Iterator[VanityHost]:
    host = VanityHost("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            host.paths.append(self.path)
            self.send_response(host.status)
            if host.location is not None:
                self.send_header("Location", host.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield host
    server.shutdown()
    server.server_close()
    thread.join()


def test_browser_sign_in_sends_the_resolved_url_and_keeps_the_configured_one(
    env: Env, aws: FakeAWS, oidc: FakeOIDC, browser: FakeBrowser, vanity: VanityHost
) -> None:
    configured = f"{vanity.url}/start"
    write_sso_config(env, start_url=configured)

    result = ecr_sso("login", "dev")

    assert result.returncode == 0, result.stderr
    assert vanity.paths == ["/start"], "one request, the redirect not followed"
    (register,) = oidc.calls(REGISTER_CLIENT)
    assert register.params["issuerUrl"] == RESOLVED
    opened, _ = browser.visits()
    assert opened.startswith(f"{aws.url}/authorize?response_type=code&client_id=")
    login = json.loads(token_file(env, "team").read_text())
    assert login["startUrl"] == configured
    assert login["region"] == "eu-west-1"
    assert login["accessToken"] == oidc.access_tokens[-1]


def test_device_code_sign_in_sends_the_resolved_url(
    env: Env, oidc: FakeOIDC, vanity: VanityHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    configured = f"{vanity.url}/start#/"
    write_sso_config(env, start_url=configured)
    oidc.device_interval = 0

    result = ecr_sso("login", "dev", "--device-code", "--no-browser")

    assert result.returncode == 0, result.stderr
    (start,) = oidc.calls(START_DEVICE_AUTHORIZATION)
    assert start.params["startUrl"] == RESOLVED
    assert json.loads(token_file(env, "team").read_text())["startUrl"] == configured


@pytest.mark.parametrize(
    "case",
    [
        ("https://sso.evil.example/start", "https://sso.evil.example"),
        ("http://d-9067642ac7.awsapps.com/start", "http://d-9067642ac7.awsapps.com"),
        ("https://awsapps.com.evil.example/start", "https://awsapps.com.evil.example"),
    ],
)
def test_a_redirect_off_aws_is_refused(
    env: Env, oidc: FakeOIDC, browser: FakeBrowser, vanity: VanityHost, case: tuple[str, str]
) -> None:
    vanity.location, shown = case
    write_sso_config(env, start_url=f"{vanity.url}/start")

    result = ecr_sso("login", "dev")

    assert result.returncode == 1
    assert result.stderr == (
        f"ecr-sso: the start URL {vanity.url}/start redirects to {shown}, which is not an"
        " AWS access portal (https, *.awsapps.com, *.awsapps.cn or *.app.aws); refusing to"
        " sign in there\n"
    )
    assert oidc.calls(REGISTER_CLIENT) == []
    assert browser.visits() == []
    assert not token_file(env, "team").exists()


def test_an_error_answer_is_one_line(
    env: Env, oidc: FakeOIDC, vanity: VanityHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    vanity.status, vanity.location = 404, None
    write_sso_config(env, start_url=f"{vanity.url}/start")

    result = ecr_sso("login", "dev", "--device-code", "--no-browser")

    assert result.returncode == 1
    assert result.stderr == (
        f"ecr-sso: the start URL {vanity.url}/start answered HTTP 404, not a redirect to the"
        " AWS access portal; check sso_start_url\n"
    )
    assert oidc.calls(REGISTER_CLIENT) == []


def test_the_region_comes_from_the_resolved_host(env: Env, vanity: VanityHost) -> None:
    # No endpoint override here (the autouse `env` fixture removed every AWS_ variable):
    # SSO-OIDC, and so the PKCE authorize page, are the resolved region's.
    vanity.location = "https://ssoins-72234e1b7d8e0fd3.portal.eu-central-1.app.aws/"
    session = SsoSession("team", f"{vanity.url}/start", "eu-west-1")

    api = SsoApi.for_session(session, None, os.environ)

    assert api.region == "eu-central-1"
    assert api.start_url == vanity.location
    assert api.endpoint_url == "https://oidc.eu-central-1.amazonaws.com"
    assert "AWS_ENDPOINT_URL_SSO_OIDC" not in os.environ


def test_an_unreachable_host_is_one_line() -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/start"
        with pytest.raises(Unreachable) as raised:
            start_url.resolve(url, "eu-west-1", {})
    message = str(raised.value)
    assert message.startswith(f"cannot reach the start URL {url} within 5 s (")
    assert "\n" not in message


def test_a_host_that_never_answers_is_given_up_on_in_time() -> None:
    with socket.socket() as silent:  # listening, never accepting: the request hangs
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/start"
        started = time.monotonic()
        with pytest.raises(Unreachable, match="within 5 s"):
            start_url.resolve(url, "eu-west-1", {})
        took = time.monotonic() - started
    assert start_url.TIMEOUT <= took < start_url.TIMEOUT + 3

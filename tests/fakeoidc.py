"""SSO sign-in for the fake AWS: SSO-OIDC, its /authorize page, and the portal's Logout.

Added to a `FakeAWS` through its extension points (`add_rest_route`, `add_reset_hook`,
`record`), never by editing it. Operations, with the names recorded in `FakeAWS.calls`:

- `RegisterClient` (`POST /client/register`): a public client; remembers its grant types
  and redirect URIs. Every call registers a new client.
- `Authorize` (`GET /authorize`): the page a browser is sent to for the PKCE flow. Checks
  the client, the redirect URI (loopback, `/oauth/callback`, registered without the
  port), `response_type=code`, `code_challenge_method=S256`; then redirects (302) to the
  redirect URI with `code` and `state` — or `error=access_denied` when `deny` is set, or a
  different `state` when `wrong_state` is set.
- `StartDeviceAuthorization` (`POST /device_authorization`): a device code, a user code,
  `interval` (`device_interval`) and `expiresIn` (`device_expires_in`).
- `CreateToken` (`POST /token`), recorded with its `grantType`: `authorization_code`
  (code, client secret, redirect URI and the PKCE verifier checked), the device-code grant
  (each poll answers the next entry of `device_answers` — "pending", "slow_down",
  "expired", "denied" — and succeeds once they are used up) and `refresh_token`, which
  rotates: each refresh token works once, and the answer carries a new one (as AWS does).
  Issued access tokens are registered with the FakeAWS as valid SSO tokens.
- `Logout` (`POST /logout`, bearer in `x-amz-sso_bearer_token`): that SSO token stops
  working for GetRoleCredentials.

The fixtures at the end give a test module a FakeAWS with all of this: import
`signin_server` (the fixture `fake_aws_server`, replacing conftest's for that module, so
`aws` and `sso` use it), `oidc_fixture` (`oidc`) and `browser_fixture` (`browser`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from conftest import BIN_DIR, DEFAULT_PROFILES, Env, Profiles, environ_with
from fakeaws import Call, FakeAWS, Request, Response

REGISTER_CLIENT = "RegisterClient"
AUTHORIZE = "Authorize"
START_DEVICE_AUTHORIZATION = "StartDeviceAuthorization"
CREATE_TOKEN = "CreateToken"
LOGOUT = "Logout"

AUTH_CODE = "authorization_code"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH = "refresh_token"

FAKE_BROWSER = Path(__file__).with_name("fakebrowser.py")
ECR_SSO = BIN_DIR / "ecr-sso"

ACCESS_TOKEN_TTL = 8 * 3600
REGISTRATION_TTL = 90 * 86400


def _oidc_error(code: str, error: str, description: str, status: int = 400) -> Response:
    # As SSO-OIDC answers: the code in x-amzn-errortype, OAuth's error fields in the body.
    return Response(
        status,
        {"error": error, "error_description": description},
        headers={"x-amzn-errortype": code},
    )


@dataclass
class _Client:
    secret: str
    grant_types: list[str]
    redirect_uris: list[str]
    scopes: list[str]


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    challenge: str


@dataclass
class FakeOIDC:
    """The sign-in operations' state and knobs; all reset with the FakeAWS."""

    aws: FakeAWS
    # knobs
    deny: bool = False
    wrong_state: bool = False
    device_answers: list[str] = field(default_factory=list)
    device_interval: float = 1
    device_expires_in: int = 600
    access_token_ttl: int = ACCESS_TOKEN_TTL
    #: Seconds a refresh_token grant waits before answering (AWS latency, so that
    #: concurrent refreshes surely overlap).
    refresh_delay: float = 0.0
    # state
    clients: dict[str, _Client] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    device_codes: dict[str, tuple[str, float]] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    access_tokens: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> None:
        for method, path, handler in (
            ("POST", "/client/register", self._register_client),
            ("GET", "/authorize", self._authorize),
            ("POST", "/device_authorization", self._start_device_authorization),
            ("POST", "/token", self._create_token),
            ("POST", "/logout", self._logout),
        ):
            self.aws.add_rest_route(method, path, handler)
        self.aws.add_reset_hook(self.reset)

    def reset(self) -> None:
        with self._lock:
            self.deny = self.wrong_state = False
            self.device_answers = []
            self.device_interval = 1
            self.device_expires_in = 600
            self.access_token_ttl = ACCESS_TOKEN_TTL
            self.refresh_delay = 0.0
            self.clients.clear()
            self.codes.clear()
            self.device_codes.clear()
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    # -- what tests arrange --------------------------------------------------------------

    def seed_refreshable(self) -> tuple[str, str, str]:
        """A client registration and a refresh token issued to it, as a past sign-in left
        them: (client id, client secret, refresh token). The refresh token works once."""
        client_id = "client-" + secrets.token_urlsafe(12)
        secret = "secret-" + secrets.token_urlsafe(24)
        refresh = "aor" + secrets.token_urlsafe(48)
        with self._lock:
            self.clients[client_id] = _Client(secret, [AUTH_CODE, REFRESH], [], [])
            self.refresh_tokens[refresh] = client_id
        return client_id, secret, refresh

    # -- what tests inspect --------------------------------------------------------------

    def calls(self, operation: str) -> list[Call]:
        return [call for call in self.aws.calls if call.operation == operation]

    def grants(self) -> list[str]:
        """The grant type of every CreateToken call, in order."""
        return [str(call.params.get("grantType")) for call in self.calls(CREATE_TOKEN)]

    # -- operations ----------------------------------------------------------------------

    def _record(self, operation: str, params: dict[str, Any]) -> None:
        self.aws.record(Call(operation, None, None, params))

    def _register_client(self, request: Request) -> Response:
        params = json.loads(request.body or b"{}")
        self._record(REGISTER_CLIENT, params)
        if params.get("clientType") != "public" or not params.get("clientName"):
            return _oidc_error("InvalidRequestException", "invalid_request", "public clients only")
        client_id = "client-" + secrets.token_urlsafe(12)
        with self._lock:
            self.clients[client_id] = _Client(
                secret="secret-" + secrets.token_urlsafe(24),
                grant_types=list(params.get("grantTypes") or []),
                redirect_uris=list(params.get("redirectUris") or []),
                scopes=list(params.get("scopes") or []),
            )
            secret = self.clients[client_id].secret
        now = int(time.time())
        return Response(
            200,
            {
                "clientId": client_id,
                "clientSecret": secret,
                "clientIdIssuedAt": now,
                "clientSecretExpiresAt": now + REGISTRATION_TTL,
            },
        )

    def _authorize(self, request: Request) -> Response:
        query = dict(request.query)
        self._record(AUTHORIZE, query)
        client = self.clients.get(query.get("client_id", ""))
        redirect = query.get("redirect_uri", "")
        target = urlsplit(redirect)
        problem = None
        if client is None:
            problem = "unknown client_id"
        elif AUTH_CODE not in client.grant_types:
            problem = "client not registered for authorization_code"
        elif (
            target.scheme != "http"
            or target.hostname != "127.0.0.1"
            or target.port is None
            or target.path != "/oauth/callback"
            or f"http://127.0.0.1{target.path}" not in client.redirect_uris
        ):
            problem = f"redirect_uri {redirect!r} is not registered"
        elif query.get("response_type") != "code":
            problem = "response_type must be code"
        elif query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            problem = "S256 code_challenge needed"
        elif not query.get("state"):
            problem = "state needed"
        if problem is not None:
            # A real authorize page shows an error instead of redirecting to an unchecked URI.
            return Response(400, {"error": "invalid_request", "error_description": problem})
        state = query["state"] if not self.wrong_state else "not-" + query["state"]
        if self.deny:
            answer = {"error": "access_denied", "error_description": "denied", "state": state}
        else:
            code = "code-" + secrets.token_urlsafe(16)
            with self._lock:
                self.codes[code] = _Code(query["client_id"], redirect, query["code_challenge"])
            answer = {"code": code, "state": state}
        return Response(302, {}, headers={"Location": f"{redirect}?{urlencode(answer)}"})

    def _start_device_authorization(self, request: Request) -> Response:
        params = json.loads(request.body or b"{}")
        self._record(START_DEVICE_AUTHORIZATION, params)
        client = self.clients.get(params.get("clientId", ""))
        if client is None or client.secret != params.get("clientSecret"):
            return _oidc_error("InvalidClientException", "invalid_client", "unknown client")
        device_code = "device-" + secrets.token_urlsafe(16)
        with self._lock:
            self.device_codes[device_code] = (
                params["clientId"],
                time.time() + self.device_expires_in,
            )
        user_code = "ABCD-EFGH"
        return Response(
            200,
            {
                "deviceCode": device_code,
                "userCode": user_code,
                "verificationUri": f"{self.aws.url}/device",
                "verificationUriComplete": f"{self.aws.url}/device?user_code={user_code}",
                "expiresIn": self.device_expires_in,
                "interval": self.device_interval,
            },
        )

    def _create_token(self, request: Request) -> Response:
        params = json.loads(request.body or b"{}")
        self._record(CREATE_TOKEN, params)
        client_id = params.get("clientId", "")
        client = self.clients.get(client_id)
        if client is None or client.secret != params.get("clientSecret"):
            return _oidc_error("InvalidClientException", "invalid_client", "unknown client", 401)
        grant = params.get("grantType")
        if grant == AUTH_CODE:
            return self._code_grant(client_id, params)
        if grant == DEVICE_CODE:
            return self._device_grant(client_id, params)
        if grant == REFRESH:
            if self.refresh_delay > 0:
                # Simulated latency that widens the race window; not a synchronisation.
                threading.Event().wait(self.refresh_delay)
            with self._lock:
                owner = self.refresh_tokens.pop(params.get("refreshToken", ""), None)
            if owner != client_id:
                return _oidc_error("InvalidGrantException", "invalid_grant", "bad refresh token")
            return self._issue(client_id)
        return _oidc_error("UnsupportedGrantTypeException", "unsupported_grant_type", str(grant))

    def _code_grant(self, client_id: str, params: dict[str, Any]) -> Response:
        with self._lock:
            issued = self.codes.pop(params.get("code", ""), None)
        verifier = str(params.get("codeVerifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if (
            issued is None
            or issued.client_id != client_id
            or issued.redirect_uri != params.get("redirectUri")
            or issued.challenge != challenge
        ):
            return _oidc_error("InvalidGrantException", "invalid_grant", "code not valid")
        return self._issue(client_id)

    def _device_grant(self, client_id: str, params: dict[str, Any]) -> Response:
        with self._lock:
            found = self.device_codes.get(params.get("deviceCode", ""))
            answer = self.device_answers.pop(0) if self.device_answers else "ok"
        if found is None or found[0] != client_id:
            return _oidc_error("InvalidGrantException", "invalid_grant", "unknown device code")
        if answer == "expired" or time.time() > found[1]:
            return _oidc_error("ExpiredTokenException", "expired_token", "device code expired")
        if answer == "pending":
            return _oidc_error(
                "AuthorizationPendingException", "authorization_pending", "not yet approved"
            )
        if answer == "slow_down":
            return _oidc_error("SlowDownException", "slow_down", "polling too fast")
        if answer == "denied":
            return _oidc_error("AccessDeniedException", "access_denied", "denied")
        with self._lock:
            self.device_codes.pop(params["deviceCode"], None)
        return self._issue(client_id)

    def _issue(self, client_id: str) -> Response:
        access = "aoa" + secrets.token_urlsafe(48)
        refresh = "aor" + secrets.token_urlsafe(48)
        with self._lock:
            self.refresh_tokens[refresh] = client_id
            self.access_tokens.append(access)
        self.aws.add_sso_token(access)
        return Response(
            200,
            {
                "accessToken": access,
                "tokenType": "Bearer",
                "expiresIn": self.access_token_ttl,
                "refreshToken": refresh,
            },
        )

    def _logout(self, request: Request) -> Response:
        token = request.headers.get("x-amz-sso_bearer_token")
        self._record(LOGOUT, {"bearer": token})
        if not token:
            return Response(
                401,
                {"message": "Session token not found or invalid"},
                headers={"x-amzn-errortype": "UnauthorizedException"},
            )
        self.aws.revoke_sso_token(token)
        return Response(200, {})


class SignInAWS(FakeAWS):
    """A FakeAWS that also signs in (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.oidc = FakeOIDC(self)
        self.oidc.install()


# -- configuration a test signs in with ---------------------------------------------------


def write_sso_config(
    env: Env,
    session: str = "team",
    *,
    start_url: str = "https://example.awsapps.com/start",
    sso_region: str = "eu-west-1",
    profiles: Profiles = DEFAULT_PROFILES,
    extra: str = "",
) -> None:
    """An AWS config with `[sso-session session]` and a profile per entry of `profiles`,
    and no login yet (unlike `SSO.login`, which also seeds one)."""
    sections = [
        f"[sso-session {session}]\nsso_start_url = {start_url}\nsso_region = {sso_region}\n"
        "sso_registration_scopes = sso:account:access\n"
    ]
    for name, (account, role, region) in profiles.items():
        sections.append(
            f"[profile {name}]\nsso_session = {session}\nsso_account_id = {account}\n"
            f"sso_role_name = {role}\nregion = {region}\n"
        )
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text("\n".join(sections) + extra)


def token_file(env: Env, name: str = "team") -> Path:
    """The token file of an sso-session (or a legacy profile's start URL)."""
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
    return env.sso_cache_dir / f"{digest}.json"


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session", name="fake_aws_server")
def signin_server() -> Iterator[FakeAWS]:
    """Replaces conftest's fixture in the modules that import it: the same fake, able
    to sign in. `aws` and `sso` then use it."""
    with SignInAWS() as fake:
        yield fake


@pytest.fixture(name="oidc")
def oidc_fixture(aws: FakeAWS) -> FakeOIDC:
    """The sign-in side of the fake, reset for this test."""
    assert isinstance(aws, SignInAWS), "import signin_server from fakeoidc in this module"
    return aws.oidc


@dataclass
class FakeBrowser:
    """The browser a test's programs open: `BROWSER` is the fake browser script."""

    log: Path

    def visits(self) -> list[str]:
        """Every URL it fetched, redirects included, across all its runs."""
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text().splitlines() if line]


@pytest.fixture(name="browser")
def browser_fixture(env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeBrowser:
    """`BROWSER` set to the fake browser (which signs in as a person would, see
    tests/fakebrowser.py), recording its visits (`CI` is already gone: conftest's `env`).

    BROWSER names a one-line launcher that runs the script with this venv's Python: a
    BROWSER entry is a program, given the URL as its only argument."""
    launcher = tmp_path / "fake-browser"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_BROWSER}" "$@"\n')
    launcher.chmod(0o700)
    log = tmp_path / "browser.log"
    monkeypatch.setenv("BROWSER", str(launcher))
    monkeypatch.setenv("FAKE_BROWSER_LOG", str(log))
    return FakeBrowser(log)


def ecr_sso(
    *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ECR_SSO), *args],
        capture_output=True,
        text=True,
        env=environ_with(env),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))

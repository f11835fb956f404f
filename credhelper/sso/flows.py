"""Signing in to AWS IAM Identity Center (SSO), and the login it leaves behind.

Two flows, as the AWS CLI (2.22 and later) runs them:

- the authorization-code flow with PKCE (`sign_in_with_browser`): RegisterClient for the
  grants `authorization_code` and `refresh_token`, the browser sent to SSO-OIDC's
  `/authorize` page, its redirect caught by a listener on 127.0.0.1, CreateToken with the
  code and the verifier. Only for `[sso-session]` profiles, as in the AWS CLI.
- the device-authorization flow (`sign_in_with_device_code`): StartDeviceAuthorization, a
  URL and a code shown to the person, CreateToken polled at the server's interval. For
  machines without a browser, and for legacy profiles (`sso_start_url` in the profile).

The login is written where botocore and the AWS CLI read it (`sso_cache`): one JSON file
per sso-session with the access token, the client registration and the refresh token, so
that the AWS CLI, boto3 and our helper use it and botocore refreshes it by itself.

How a flow reaches the person is injected (`Interaction`): a flow never decides by itself
whether it may open a browser or print. Nothing here imports botocore; the AWS calls go
through `aws.SsoApi` (or anything with its four methods).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from credhelper import atomic
from credhelper.errors import ConfigError, EcrSsoError
from credhelper.paths import Paths
from credhelper.sso import logins as sso_cache

log = logging.getLogger(__name__)

CLIENT_NAME = "ecr-sso"
DEFAULT_SCOPES = ("sso:account:access",)
#: The redirect registered with the client; the listener's port is added per sign-in
#: (SSO-OIDC accepts any port on the loopback address for a registered loopback URI).
REDIRECT_URI = "http://127.0.0.1/oauth/callback"
AUTH_CODE_GRANTS = ("authorization_code", "refresh_token")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628: the interval when the server names none, and what `slow_down` adds.
DEFAULT_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0
#: A registration is reused while it has at least this long to live: a login made with it
#: can then be refreshed for a full working day.
REGISTRATION_MARGIN = 24 * 3600
#: A cached login with less than this left is treated as expired.
TOKEN_MARGIN = 60


class SignInError(EcrSsoError):
    """A sign-in did not complete: refused, timed out, or answered with something that
    does not belong to it. The message says which."""


class NotSso(ConfigError):
    """The profile does not sign in through SSO."""


# -- which SSO session a profile uses --------------------------------------------------


@dataclass(frozen=True)
class SsoSession:
    """An SSO sign-in: an `[sso-session NAME]` section, or a legacy profile's start URL
    (then `name` is None)."""

    name: str | None
    start_url: str
    region: str
    scopes: tuple[str, ...] = ()

    @property
    def legacy(self) -> bool:
        """A profile with `sso_start_url` and no sso-session: no refresh, no PKCE."""
        return self.name is None

    @property
    def cache_name(self) -> str:
        """What the token file's name is the SHA-1 of."""
        return self.name if self.name is not None else self.start_url

    @property
    def label(self) -> str:
        return f"sso-session '{self.name}'" if self.name is not None else self.start_url

    @property
    def registration_scopes(self) -> tuple[str, ...]:
        """The scopes to register; the AWS CLI's default for sessions that name none."""
        return self.scopes or (() if self.legacy else DEFAULT_SCOPES)


@dataclass(frozen=True)
class AwsConfig:
    """The AWS config's profiles and sso-session sections (as `profiles.read_aws_config`
    reads them), with the questions sign-in asks of them."""

    profiles: Mapping[str, Mapping[str, str]]
    sessions: Mapping[str, Mapping[str, str]]

    @classmethod
    def read(cls, paths: Paths) -> AwsConfig:
        from credhelper.aws.profiles import read_aws_config

        profiles, sessions = read_aws_config(paths.aws_config_file)
        return cls(profiles, sessions)

    def session(self, name: str) -> SsoSession:
        """The `[sso-session name]` section."""
        keys = self.sessions.get(name)
        if keys is None:
            raise ConfigError(f"there is no [sso-session {name}] in the AWS config")
        start_url, region = keys.get("sso_start_url"), keys.get("sso_region")
        if not start_url or not region:
            raise ConfigError(
                f"[sso-session {name}] in the AWS config needs sso_start_url and sso_region"
            )
        raw = keys.get("sso_registration_scopes", "")
        scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
        return SsoSession(name, start_url.strip(), region.strip(), scopes)

    def session_of(self, profile: str) -> SsoSession:
        """The SSO sign-in `profile` uses, following `source_profile` to an SSO profile."""
        seen: list[str] = []
        name = profile
        while True:
            keys = self.profiles.get(name)
            if keys is None:
                raise ConfigError(f"AWS profile '{name}' is not in the AWS config")
            if keys.get("sso_session"):
                return self.session(keys["sso_session"].strip())
            if keys.get("sso_start_url"):
                if not keys.get("sso_region"):
                    raise ConfigError(f"AWS profile '{name}' has sso_start_url but no sso_region")
                return SsoSession(None, keys["sso_start_url"].strip(), keys["sso_region"].strip())
            source = keys.get("source_profile")
            seen.append(name)
            if not source or source in seen:
                raise NotSso(
                    f"AWS profile '{profile}' does not sign in through SSO (it has no"
                    " sso_session or sso_start_url)"
                )
            name = source

    def session_or_none(self, profile: str) -> SsoSession | None:
        try:
            return self.session_of(profile)
        except ConfigError:
            return None

    def sso_profiles(self) -> list[str]:
        """Every profile that signs in through SSO, in file order."""
        return [p for p in self.profiles if self.session_or_none(p) is not None]

    def profiles_of(self, session: SsoSession) -> list[str]:
        """The profiles that sign in through `session`."""
        return [p for p in self.profiles if self.session_or_none(p) == session]

    def all_sessions(self) -> list[SsoSession]:
        """Every sso-session section, then every legacy start URL, without repeats."""
        found: list[SsoSession] = []
        for name in self.sessions:
            with contextlib.suppress(ConfigError):
                found.append(self.session(name))
        for profile in self.profiles:
            session = self.session_or_none(profile)
            if session is not None and session not in found:
                found.append(session)
        return found


# -- the login file --------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """An SSO-OIDC client registration."""

    client_id: str
    client_secret: str
    expires_at: float

    def __repr__(self) -> str:  # the secret never shows, not even in a test failure
        return f"Registration(client_id={self.client_id!r}, expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class Login:
    """A signed-in SSO session, as kept in the token file."""

    access_token: str
    expires_at: float
    registration: Registration | None = None
    refresh_token: str | None = None

    def valid(self, now: float, margin: float = TOKEN_MARGIN) -> bool:
        """Whether the access token still works at `now` (with `margin` to spare)."""
        return now < self.expires_at - margin

    def refreshable(self, now: float) -> bool:
        """Whether botocore can refresh it without a person (sso-session logins only)."""
        return (
            self.refresh_token is not None
            and self.registration is not None
            and now < self.registration.expires_at
        )

    def __repr__(self) -> str:
        return f"Login(expires_at={self.expires_at!r}, registration={self.registration!r})"


def read_login(paths: Paths, session: SsoSession) -> Login | None:
    """The login cached for `session` (by us, the AWS CLI or botocore), or None."""
    data = sso_cache.read(paths, session.cache_name)
    if data is None:
        return None
    token, expires = data.get("accessToken"), data.get("expiresAt")
    if not isinstance(token, str) or not token or not isinstance(expires, str):
        return None
    try:
        expires_at = sso_cache.parse_time(expires)
    except ValueError:
        return None
    registration = None
    client_id, secret = data.get("clientId"), data.get("clientSecret")
    reg_expires = data.get("registrationExpiresAt")
    if isinstance(client_id, str) and isinstance(secret, str) and isinstance(reg_expires, str):
        with contextlib.suppress(ValueError):
            registration = Registration(client_id, secret, sso_cache.parse_time(reg_expires))
    refresh = data.get("refreshToken")
    return Login(token, expires_at, registration, refresh if isinstance(refresh, str) else None)


def write_login(paths: Paths, session: SsoSession, login: Login) -> str:
    """Write the token file exactly as the AWS CLI does (same keys, UTC timestamps),
    atomically and 0600; return its path."""
    content: dict[str, str] = {
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": login.access_token,
        "expiresAt": sso_cache.format_time(login.expires_at),
    }
    if login.registration is not None:
        content["clientId"] = login.registration.client_id
        content["clientSecret"] = login.registration.client_secret
        content["registrationExpiresAt"] = sso_cache.format_time(login.registration.expires_at)
    if login.refresh_token is not None:
        content["refreshToken"] = login.refresh_token
    path = sso_cache.token_path(paths, session.cache_name)
    # Only the leaf folders we create are ours to make private; ~/.aws is the user's.
    os.makedirs(paths.sso_cache_dir, mode=0o700, exist_ok=True)
    from credhelper.sso.refresh_lock import session_lock

    # A refresh in another process must not write over this login, nor this over its.
    with session_lock(paths, session.cache_name):
        atomic.write_bytes(path, json.dumps(content).encode(), mode=0o600)
    return path


def delete_login(paths: Paths, session: SsoSession) -> bool:
    """Remove the token file; False when there was none."""
    try:
        os.unlink(sso_cache.token_path(paths, session.cache_name))
    except FileNotFoundError:
        return False
    return True


# -- client registrations --------------------------------------------------------------


class Registrations:
    """Our SSO-OIDC client registrations, one per (start URL, region, scopes, grant
    types), kept under our cache dir (folder 0700, files 0600): a registration lives 90
    days and is reused, as the AWS CLI reuses its own."""

    def __init__(self, cache_dir: str) -> None:
        self.folder = os.path.join(cache_dir, "sso-registrations")
        self.cache_dir = cache_dir

    @staticmethod
    def key(session: SsoSession, grants: Iterable[str]) -> str:
        identity = {
            "client": CLIENT_NAME,
            "startUrl": session.start_url,
            "region": session.region,
            "scopes": list(session.registration_scopes),
            "grantTypes": list(grants),
        }
        encoded = json.dumps(identity, sort_keys=True).encode()
        return hashlib.sha1(encoded, usedforsecurity=False).hexdigest()

    def get(self, key: str, now: float) -> Registration | None:
        """A stored registration with at least `REGISTRATION_MARGIN` left, else None."""
        try:
            with open(os.path.join(self.folder, key + ".json"), encoding="utf-8") as handle:
                data = json.load(handle)
            found = Registration(
                str(data["clientId"]),
                str(data["clientSecret"]),
                sso_cache.parse_time(data["expiresAt"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return found if found.expires_at - now > REGISTRATION_MARGIN else None

    def put(self, key: str, registration: Registration) -> None:
        atomic.ensure_private_dir(self.cache_dir, "sso-registrations")
        content = {
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret,
            "expiresAt": sso_cache.format_time(registration.expires_at),
        }
        atomic.write_bytes(
            os.path.join(self.folder, key + ".json"), json.dumps(content).encode(), mode=0o600
        )

    def forget(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.folder, key + ".json"))


# -- what the flows need from outside --------------------------------------------------


class Api(Protocol):
    """SSO-OIDC and the portal, as `aws.SsoApi` offers them. Failures raise
    `aws.OidcError` (with AWS's error `code`) or another `EcrSsoError`."""

    @property
    def endpoint_url(self) -> str: ...
    def register_client(self, **params: Any) -> dict[str, Any]: ...
    def start_device_authorization(self, **params: Any) -> dict[str, Any]: ...
    def create_token(self, **params: Any) -> dict[str, Any]: ...
    def logout(self, access_token: str) -> None: ...


class Launched(Protocol):
    """A browser started for the authorize page."""

    def failed(self) -> str | None:
        """Why the browser gave up (it exited with an error), or None."""


class Interaction(Protocol):
    """How a sign-in reaches the person; chosen by the caller, never by the flow.

    The helper under docker is given one that opens a browser, prints nothing and refuses
    the device code (`autologin.BrowserOnly`); `ecr-sso login` one that prints to the
    terminal. Where no person may be asked at all, no flow runs: the helper is then given
    `helper.no_sign_in`, which raises the error naming the command to run."""

    def authorize(self, url: str) -> Launched | None:
        """Send the person to the authorize page `url`. Returns the browser launched (its
        failure then ends the wait), or None when the URL was only shown."""

    def device_code(self, url: str, code: str) -> None:
        """Show the verification `url` (with the code filled in) and the `code`."""

    def waiting(self, seconds: float) -> None:
        """The flow now waits up to `seconds` for the person."""


# -- the flows -------------------------------------------------------------------------


def sign_in_with_browser(
    session: SsoSession,
    api: Api,
    interaction: Interaction,
    paths: Paths,
    *,
    timeout: float,
    clock: Callable[[], float] = time.time,
) -> Login:
    """The authorization-code flow with PKCE; writes the token file and returns the login.

    Waits at most `timeout` seconds for the browser's redirect; raises `SignInError` when
    the person refuses, the browser fails, the time runs out or the answer's `state` is
    not this sign-in's."""
    from credhelper.sso.loopback import Listener

    if session.legacy:
        raise SignInError(
            f"{session.label} is a legacy SSO profile (no sso-session): it signs in with a"
            " device code"
        )
    registrations = Registrations(paths.cache_dir)
    registration = _registration(
        api, registrations, session, AUTH_CODE_GRANTS, clock, redirect=True
    )
    verifier = secrets.token_urlsafe(64)  # 86 characters of [A-Za-z0-9_-]: RFC 7636's 43-128
    challenge = _s256(verifier)
    state = secrets.token_urlsafe(32)
    with Listener(state) as listener:
        url = authorize_url(
            api.endpoint_url,
            client_id=registration.client_id,
            redirect_uri=listener.redirect_uri,
            state=state,
            scopes=session.registration_scopes,
            challenge=challenge,
        )
        log.info("signing in to %s in the browser", session.label)
        launched = interaction.authorize(url)
        interaction.waiting(timeout)
        answer = listener.wait(timeout, launched.failed if launched is not None else None)
    if answer.kind == "timeout":
        raise SignInError(f"the sign-in to {session.label} was not completed within {timeout:g} s")
    if answer.kind == "browser":
        raise SignInError(f"the browser could not show the sign-in page: {answer.description}")
    if answer.error is not None:
        if answer.error == "access_denied":
            raise SignInError(f"the sign-in to {session.label} was denied in the browser")
        raise SignInError(
            f"the sign-in to {session.label} failed in the browser: {answer.error}"
            + (f" ({answer.description})" if answer.description else "")
        )
    if answer.state != state or not answer.code:
        raise SignInError(
            "the browser's answer does not belong to this sign-in (its state differs);"
            " nothing was saved, sign in again"
        )
    reply = _create_token(
        api,
        registrations,
        session,
        AUTH_CODE_GRANTS,
        grantType="authorization_code",
        clientId=registration.client_id,
        clientSecret=registration.client_secret,
        code=answer.code,
        codeVerifier=verifier,
        redirectUri=listener.redirect_uri,
    )
    return _save(paths, session, registration, reply, clock)


def sign_in_with_device_code(
    session: SsoSession,
    api: Api,
    interaction: Interaction,
    paths: Paths,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Login:
    """The device-authorization flow; writes the token file and returns the login.

    Polls CreateToken at the server's interval (plus `SLOW_DOWN_STEP` after each
    `SlowDownException`) until the person confirms, refuses, or the code expires."""
    from credhelper.aws.client import OidcError

    registrations = Registrations(paths.cache_dir)
    grants = (DEVICE_GRANT, "refresh_token")
    registration = _registration(api, registrations, session, grants, clock, redirect=False)
    started = clock()
    authorization = api.start_device_authorization(
        clientId=registration.client_id,
        clientSecret=registration.client_secret,
        startUrl=session.start_url,
    )
    deadline = started + float(authorization.get("expiresIn") or 600)
    given = authorization.get("interval")
    interval = DEFAULT_INTERVAL if given is None else max(0.0, float(given))
    url = authorization.get("verificationUriComplete") or authorization["verificationUri"]
    interaction.device_code(str(url), str(authorization.get("userCode", "")))
    interaction.waiting(deadline - clock())
    while True:
        if clock() + interval > deadline:
            raise SignInError(
                f"the code for {session.label} expired before the sign-in was confirmed;"
                " sign in again"
            )
        sleep(interval)
        try:
            reply = api.create_token(
                grantType=DEVICE_GRANT,
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                deviceCode=authorization["deviceCode"],
            )
        except OidcError as err:
            if err.code == "AuthorizationPendingException":
                continue
            if err.code == "SlowDownException":
                interval += SLOW_DOWN_STEP
                continue
            if err.code == "ExpiredTokenException":
                raise SignInError(
                    f"the code for {session.label} expired before the sign-in was confirmed;"
                    " sign in again"
                ) from None
            if err.code == "AccessDeniedException":
                raise SignInError(f"the sign-in to {session.label} was denied") from None
            _forget_if_client_gone(err, registrations, session, grants)
            raise
        return _save(paths, session, registration, reply, clock)


def sign_out(paths: Paths, session: SsoSession, api: Api | None) -> tuple[bool, str | None]:
    """End the portal session (when `api` is given and a token is cached), then remove
    the token file. Returns (whether a login was cached, why the portal's Logout failed
    or None). The file goes even when the portal cannot be reached: signing out locally
    must always work."""
    login = read_login(paths, session)
    problem = None
    if login is not None and api is not None and login.valid(time.time(), margin=0):
        try:
            api.logout(login.access_token)
        except EcrSsoError as err:
            problem = str(err)
    removed = delete_login(paths, session)
    return login is not None or removed, problem


def authorize_url(
    endpoint: str,
    *,
    client_id: str,
    redirect_uri: str,
    state: str,
    scopes: Iterable[str],
    challenge: str,
) -> str:
    """SSO-OIDC's authorize page for a PKCE sign-in (the parameters in the AWS CLI's
    order; scopes space-separated)."""
    params = (
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", state),
        ("code_challenge_method", "S256"),
        ("scopes", " ".join(scopes)),
        ("code_challenge", challenge),
    )
    query = "&".join(f"{name}={quote(value, safe='-._~')}" for name, value in params)
    return f"{endpoint.rstrip('/')}/authorize?{query}"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _registration(
    api: Api,
    registrations: Registrations,
    session: SsoSession,
    grants: tuple[str, ...],
    clock: Callable[[], float],
    *,
    redirect: bool,
) -> Registration:
    key = Registrations.key(session, grants)
    found = registrations.get(key, clock())
    if found is not None:
        log.debug("reusing the client registration for %s", session.label)
        return found
    params: dict[str, Any] = {"clientName": CLIENT_NAME, "clientType": "public"}
    if session.registration_scopes:
        params["scopes"] = list(session.registration_scopes)
    if redirect:
        params.update(
            grantTypes=list(grants), redirectUris=[REDIRECT_URI], issuerUrl=session.start_url
        )
    reply = api.register_client(**params)
    registration = Registration(
        str(reply["clientId"]),
        str(reply["clientSecret"]),
        float(reply.get("clientSecretExpiresAt") or clock() + 90 * 86400),
    )
    try:
        registrations.put(key, registration)
    except OSError as err:  # reuse is an optimisation: an unwritable cache costs a call
        log.warning("cannot keep the client registration: %s", err)
    return registration


def _create_token(
    api: Api,
    registrations: Registrations,
    session: SsoSession,
    grants: tuple[str, ...],
    **params: Any,
) -> dict[str, Any]:
    from credhelper.aws.client import OidcError

    try:
        return api.create_token(**params)
    except OidcError as err:
        _forget_if_client_gone(err, registrations, session, grants)
        raise SignInError(f"the sign-in to {session.label} failed: {err}") from None


def _forget_if_client_gone(
    err: Any, registrations: Registrations, session: SsoSession, grants: tuple[str, ...]
) -> None:
    """A registration SSO-OIDC no longer knows is not reused by the next sign-in."""
    if getattr(err, "code", "") in ("InvalidClientException", "UnauthorizedClientException"):
        registrations.forget(Registrations.key(session, grants))


def _save(
    paths: Paths,
    session: SsoSession,
    registration: Registration,
    reply: Mapping[str, Any],
    clock: Callable[[], float],
) -> Login:
    try:
        access_token = str(reply["accessToken"])
        expires_at = clock() + float(reply["expiresIn"])
    except (KeyError, TypeError, ValueError):
        raise SignInError("SSO-OIDC answered CreateToken without a usable token") from None
    refresh = reply.get("refreshToken")
    login = Login(access_token, expires_at, registration, str(refresh) if refresh else None)
    write_login(paths, session, login)
    log.info("signed in to %s until %s", session.label, sso_cache.format_time(expires_at))
    return login

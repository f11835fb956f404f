"""Signing in to AWS IAM Identity Center (SSO): the two flows and signing out.

Two flows, as the AWS CLI (2.22 and later) runs them:

- the authorization-code flow with PKCE (`sign_in_with_browser`): RegisterClient for the
  grants `authorization_code` and `refresh_token`, the browser sent to SSO-OIDC's
  `/authorize` page, its redirect caught by a listener on 127.0.0.1, CreateToken with the
  code and the verifier. Only for `[sso-session]` profiles, as in the AWS CLI.
- the device-authorization flow (`sign_in_with_device_code`): StartDeviceAuthorization, a
  URL and a code shown to the person, CreateToken polled at the server's interval. For
  machines without a browser, and for legacy profiles (`sso_start_url` in the profile).

The login is written where botocore and the AWS CLI read it (`logins`): one JSON file
per sso-session with the access token, the client registration and the refresh token, so
that the AWS CLI, boto3 and our helper use it and botocore refreshes it by itself.

How a flow reaches the person is injected (`Interaction`): a flow never decides by itself
whether it may open a browser or print. Nothing here imports botocore; the AWS calls go
through `oidc.SsoApi` (or anything with its methods). A vanity start URL has been
resolved by then (`api.start_url`): SSO-OIDC is given the resolved URL, the token file
keeps the configured one.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from urllib.parse import quote

from credhelper.aws.config import SsoSession
from credhelper.errors import EcrSsoError, NotWritable
from credhelper.paths import Paths
from credhelper.shown import shown
from credhelper.sso.logins import (
    CLIENT_NAME,
    Login,
    Registration,
    Registrations,
    delete_login,
    format_time,
    read_login,
    save_problem,
    write_login,
)

log = logging.getLogger(__name__)

#: The redirect registered with the client; the listener's port is added per sign-in
#: (SSO-OIDC accepts any port on the loopback address for a registered loopback URI).
REDIRECT_URI = "http://127.0.0.1/oauth/callback"
AUTH_CODE_GRANTS = ("authorization_code", "refresh_token")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 8628: the interval when the server names none, and what `slow_down` adds.
DEFAULT_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0


class SignInError(EcrSsoError):
    """A sign-in did not complete: refused, timed out, or answered with something that
    does not belong to it. The message says which."""


# -- what the flows need from outside --------------------------------------------------


class Api(Protocol):
    """SSO-OIDC and the portal, as `oidc.SsoApi` offers them. Failures raise
    `oidc.OidcError` (with AWS's error `code`) or another `EcrSsoError`. `start_url` is
    the start URL to give SSO-OIDC when it is not the configured one (a vanity URL's
    resolution), else None."""

    @property
    def endpoint_url(self) -> str: ...
    @property
    def start_url(self) -> str | None: ...
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


def check_can_save(session: SsoSession, paths: Paths) -> None:
    """NotWritable, before a sign-in starts, when its login could not be saved at the end
    (our state folder left open, a token folder that cannot be written, another user's
    token file): the person would sign in for nothing."""
    problem = save_problem(paths, session)
    if problem is not None:
        raise NotWritable(
            f"cannot sign in to {shown(session.label)}: the login could not be saved: {problem}"
        )


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
    check_can_save(session, paths)
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
    from credhelper.sso.oidc import OidcError

    check_can_save(session, paths)
    registrations = Registrations(paths.cache_dir)
    grants = (DEVICE_GRANT, "refresh_token")
    registration = _registration(api, registrations, session, grants, clock, redirect=False)
    started = clock()
    authorization = api.start_device_authorization(
        clientId=registration.client_id,
        clientSecret=registration.client_secret,
        startUrl=api.start_url or session.start_url,
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
            grantTypes=list(grants),
            redirectUris=[REDIRECT_URI],
            issuerUrl=api.start_url or session.start_url,
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
    from credhelper.sso.oidc import OidcError

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
    log.info("signed in to %s until %s", session.label, format_time(expires_at))
    return login

"""Signing in from inside `docker pull`: when the helper finds the SSO login missing or
expired, it runs the browser sign-in itself and then fetches the token once more.

Docker gives the helper no terminal and reads its stdout as the protocol, so this path
opens a browser and nothing else: no prompt, no device code, no output (the log records
what happened). It is allowed only where a person can see that browser, and never in CI:

- not when `CI` is set, `ECR_SSO_NO_LOGIN` is set, or `auto_login = false` is configured;
- only when a browser can be opened (`browser.unavailable_reason`);
- only for sso-session profiles (legacy profiles sign in with a device code).

Concurrent helpers during one expiry (buildkit runs several) open one browser: the first
takes a lock per SSO session, the others wait on it, then find the new login. A sign-in
that fails is not repeated by those waiting: they fail at once with the command to run.

This module is imported only after a fetch has failed for want of a login.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import TypeVar

from credhelper.aws import config as aws_config
from credhelper.aws.config import SsoSession
from credhelper.errors import CacheLocked, ConfigError, LoginRequired, login_command
from credhelper.flock import file_lock
from credhelper.paths import Paths
from credhelper.settings import Settings
from credhelper.sso import flows as sso
from credhelper.sso import logins

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 120.0
#: How much longer than a sign-in a waiting helper waits for the lock: a sign-in gives up
#: after its timeout, and then needs a moment to release the lock.
LOCK_SLACK = 15.0


def env_flag(value: str | None) -> bool:
    """Whether an environment variable such as `CI` is set to something meaning yes
    (anything but empty, 0, false, no or off)."""
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def refusal(environ: Mapping[str, str], settings: Settings) -> str | None:
    """Why the helper must not sign in by itself here, or None when it may."""
    from credhelper.sso import browser

    if env_flag(environ.get("CI")):
        return "CI is set"
    if env_flag(environ.get("ECR_SSO_NO_LOGIN")):
        return "ECR_SSO_NO_LOGIN is set"
    if not settings.auto_login:
        return f"auto_login = false in {settings.path}"
    return browser.unavailable_reason(environ)


def login_timeout(environ: Mapping[str, str], settings: Settings) -> float:
    """Seconds a sign-in from inside docker waits for the browser: `ECR_SSO_LOGIN_TIMEOUT`,
    else `login_timeout` in our config, else two minutes."""
    text = environ.get("ECR_SSO_LOGIN_TIMEOUT", "").strip()
    if text:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 < value < 86400:
            raise ConfigError("ECR_SSO_LOGIN_TIMEOUT must be a number of seconds above 0")
        return value
    return DEFAULT_TIMEOUT if settings.login_timeout is None else settings.login_timeout


class BrowserOnly:
    """The helper's `sso.Interaction`: opens the browser, prints nothing, and refuses any
    step that would need a terminal."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def authorize(self, url: str) -> sso.Launched | None:
        from credhelper.sso import browser

        try:
            return browser.open_url(url, self.environ)
        except browser.BrowserUnavailable as err:
            raise sso.SignInError(str(err)) from None

    def device_code(self, url: str, code: str) -> None:
        raise sso.SignInError("a device-code sign-in needs a terminal")

    def waiting(self, seconds: float) -> None:
        log.info("waiting up to %.0f s for the sign-in in the browser", seconds)


def sign_in_and_retry(
    profile: str | None,
    error: LoginRequired,
    retry: Callable[[], T],
    *,
    paths: Paths,
    settings: Settings,
    environ: Mapping[str, str],
    clock: Callable[[], float] = time.time,
) -> T:
    """Sign `profile` in with the browser if that is allowed and still needed, then return
    `retry()`. Raises `error` (which names the command to run) when sign-in is not allowed,
    and a LoginRequired naming the same command when it fails."""
    reason = refusal(environ, settings)
    if reason is not None:
        log.info("not signing in from the helper: %s", reason)
        raise error
    if profile is None:
        # The default chain's profile, named as botocore looks for it.
        profile = environ.get("AWS_DEFAULT_PROFILE") or environ.get("AWS_PROFILE")
    config = aws_config.read(paths.aws_config_file)
    session = config.session_or_none(profile) if profile else None
    if profile is None or session is None or session.legacy:
        log.info("not signing in from the helper: %s is not an sso-session profile", profile)
        raise error
    fix = f"run `{login_command(profile)}`"
    timeout = login_timeout(environ, settings)
    from credhelper import deadline

    # The person in the browser has the sign-in's own timeout, on top of the fetch's.
    deadline.extend(timeout + LOCK_SLACK)
    marker = _FailureMarker(paths, session)
    waiting_since = time.time()
    try:
        held = _sign_in_lock(paths, marker.key, timeout + LOCK_SLACK, session.label)
    except CacheLocked:
        raise LoginRequired(
            f"another ecr-sso is still signing in to {session.label}; {fix}"
        ) from None
    with held:
        if marker.failed_since(waiting_since):
            raise LoginRequired(
                f"signing in to {session.label} in the browser failed just now; {fix}"
            )
        state, _ = logins.state_of(paths, session, clock())
        if state == "valid":
            # Another helper signed in while this one waited (or the login looks fine and
            # AWS refused it, signed out elsewhere: then sign in afresh below).
            try:
                return retry()
            except LoginRequired:
                log.info("the cached login for %s was refused; signing in", session.label)
        _sign_in(
            session,
            profile=profile,
            paths=paths,
            environ=environ,
            timeout=timeout,
            marker=marker,
            fix=fix,
        )
        return retry()


def _sign_in_lock(paths: Paths, key: str, timeout: float, label: str) -> contextlib.ExitStack:
    """The cross-process lock of one SSO session's sign-in, held on return. Waiting for
    it is logged: another helper is signing in, and this one will use that login."""
    held = contextlib.ExitStack()
    name = f"sso-login-{key}"
    try:
        try:
            held.enter_context(file_lock(paths.cache_dir, name, timeout=0))
        except CacheLocked:
            log.info("another ecr-sso is signing in to %s; waiting up to %.0f s", label, timeout)
            held.enter_context(file_lock(paths.cache_dir, name, timeout=timeout))
    except OSError as err:  # an unusable cache folder costs the coordination, not the sign-in
        log.warning("cannot lock the sign-in (%s); signing in without it", err)
    return held


def _sign_in(
    session: SsoSession,
    *,
    profile: str,
    paths: Paths,
    environ: Mapping[str, str],
    timeout: float,
    marker: _FailureMarker,
    fix: str,
) -> None:
    from credhelper.sso.oidc import SsoApi

    log.warning("the SSO login for profile %s has expired; signing in in the browser", profile)
    try:
        api = SsoApi.for_session(session, profile, environ)
        sso.sign_in_with_browser(session, api, BrowserOnly(environ), paths, timeout=timeout)
    except (sso.SignInError, LoginRequired) as err:
        marker.mark()
        raise LoginRequired(f"{err}; {fix}") from None
    except Exception:
        marker.mark()
        raise
    marker.clear()


class _FailureMarker:
    """When a sign-in from a helper last failed, so that the helpers that waited for it do
    not each open a browser and wait again."""

    def __init__(self, paths: Paths, session: SsoSession) -> None:
        import hashlib

        self.key = hashlib.sha1(session.cache_name.encode(), usedforsecurity=False).hexdigest()
        self.cache_dir = paths.cache_dir
        self.path = os.path.join(paths.cache_dir, "locks", f"sso-login-{self.key}.failed")

    def failed_since(self, moment: float) -> bool:
        try:
            with open(self.path, encoding="ascii") as handle:
                return float(handle.read().strip() or 0) >= moment
        except (OSError, ValueError):
            return False

    def mark(self) -> None:
        from credhelper import atomic

        try:
            atomic.ensure_private_dir(self.cache_dir, "locks")
            atomic.write_bytes(self.path, f"{time.time()!r}\n".encode())
        except OSError as err:
            log.warning("cannot record the failed sign-in: %s", err)

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.path)

"""One SSO token refresh per sso-session at a time, across every ecr-sso process.

AWS rotates the refresh token on use: when two processes refresh the same expired login at
once, the second presents a refresh token that no longer works and its user is sent to sign
in again (aws-cli #10628 is the same race). botocore refreshes inside its SSO token
provider, with no lock, whenever a login has less than `REFRESH_WINDOW` left. So before a
fetch hands a profile to botocore, `refresh_if_due` does that refresh itself, under a
lock per sso-session: it re-reads the token file once it holds the lock (another process
may have refreshed meanwhile), refreshes only if the login is still due, and writes the new
login atomically in the AWS CLI's format. botocore then finds a fresh login and leaves it.

The same lock is taken by every write of the token file (`session_lock`, used by
`logins.write_login`), so `ecr-sso login` and a refresh never interleave their writes. It is
re-entrant within a process: the refresh writes the file while holding it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping

from credhelper.aws import config as aws_config
from credhelper.aws.config import SsoSession
from credhelper.errors import LoginRequired, NotWritable
from credhelper.flock import LOCK_TIMEOUT_SECONDS
from credhelper.paths import Paths
from credhelper.shown import shown
from credhelper.sso import logins

log = logging.getLogger(__name__)

#: botocore's SSOTokenProvider refreshes a login with less than this left; refreshing
#: first at the same point leaves it nothing to do.
REFRESH_WINDOW = 15 * 60
# Lock names held by this process, with how deep: the lock is re-entrant per process.
_HELD: dict[str, int] = {}


@contextlib.contextmanager
def session_lock(
    paths: Paths, cache_name: str, *, timeout: float = LOCK_TIMEOUT_SECONDS
) -> Iterator[None]:
    """Hold the lock of the sso-session whose token file is named after `cache_name`
    (`SsoSession.cache_name`). An unusable cache folder costs the coordination, not the
    work: then it is logged and the block runs unlocked. A lock another process holds for
    over `timeout` seconds is `CacheLocked`: going on would race the very refresh or
    sign-in it is making."""
    name = "sso-session-" + hashlib.sha1(cache_name.encode(), usedforsecurity=False).hexdigest()
    if _HELD.get(name):
        _HELD[name] += 1
        try:
            yield
        finally:
            _HELD[name] -= 1
        return
    from credhelper.flock import file_lock

    with contextlib.ExitStack() as held:
        try:
            held.enter_context(file_lock(paths.cache_dir, name, timeout=timeout))
        except OSError as err:
            log.warning("cannot lock the SSO login %s (%s); going on without it", cache_name, err)
        _HELD[name] = 1
        try:
            yield
        finally:
            _HELD.pop(name, None)


def profile_of(profile: str | None, environ: Mapping[str, str]) -> str | None:
    """The AWS profile botocore uses: `profile`, else the default chain's (PyPI botocore
    reads AWS_DEFAULT_PROFILE before AWS_PROFILE)."""
    return profile or environ.get("AWS_DEFAULT_PROFILE") or environ.get("AWS_PROFILE") or None


def refresh_if_due(
    paths: Paths, profile: str | None, *, clock: Callable[[], float] = time.time
) -> None:
    """Refresh `profile`'s SSO login if botocore would refresh it now, once across all
    processes (see the module docstring). Does nothing for profiles without an
    sso-session, logins that are fresh, and logins that cannot be refreshed (botocore
    then reports the login missing or expired, and a sign-in may follow).

    Raises LoginRequired when SSO-OIDC refuses the refresh, and the SSO client's other
    errors (unreachable, a bad reply) as they are."""
    if profile is None:
        return
    session = aws_config.read(paths.aws_config_file).session_or_none(profile)
    if session is None or session.legacy:
        return  # legacy profiles are never refreshed, by botocore either
    if not due(logins.read_login(paths, session), clock()):
        return
    from credhelper import deadline

    deadline.waiting_for(f"the refresh of {session.label} by another ecr-sso")
    with contextlib.ExitStack() as held:
        try:
            write = held.enter_context(logins.saving(paths, session))
        except NotWritable as err:
            # Not refreshed, and botocore must not refresh it either (it would spend the
            # refresh token as surely): the fetch stops here, the login is kept as it is.
            raise NotWritable(
                f"the SSO login of {shown(session.label)} is due for a refresh that could"
                f" not be saved: {err}; it was left as it is, its refresh token unspent"
            ) from None
        login = logins.read_login(paths, session)  # another process may have refreshed it
        if login is None or not due(login, clock()):
            log.info("%s was refreshed by another process", session.label)
            return
        _refresh(profile, session, login, clock, write)


def due(login: logins.Login | None, now: float) -> bool:
    """Whether botocore would refresh `login` at `now`, and could."""
    return login is not None and login.refreshable(now) and now >= login.expires_at - REFRESH_WINDOW


def _refresh(
    profile: str,
    session: SsoSession,
    login: logins.Login,
    clock: Callable[[], float],
    write: Callable[[logins.Login], str],
) -> None:
    from credhelper.errors import login_command
    from credhelper.sso.oidc import OidcError, SsoApi

    registration, refresh_token = login.registration, login.refresh_token
    if registration is None or refresh_token is None:  # refreshable() rules this out
        return
    started = clock()
    try:
        reply = SsoApi(session.region, profile).create_token(
            grantType="refresh_token",
            clientId=registration.client_id,
            clientSecret=registration.client_secret,
            refreshToken=refresh_token,
        )
    except OidcError as err:
        # Any refusal (a used or revoked refresh token, a registration SSO-OIDC forgot)
        # leaves the login unrefreshable, as botocore also concludes: a sign-in is next.
        # An unreachable SSO-OIDC or a bad reply is not a refusal, and says so itself.
        # One line for the person (the LoginRequired below); the detail is for debugging.
        log.info("SSO-OIDC refused to refresh %s: %s", session.label, err)
        log.debug("the refused refresh of %s", session.label, exc_info=True)
        raise LoginRequired(
            f"the SSO login for profile '{profile}' is missing or expired;"
            f" run `{login_command(profile)}`"
        ) from None
    # The reply's shape was checked on arrival (credhelper.aws.replies).
    refresh = reply.get("refreshToken")
    renewed = logins.Login(
        str(reply["accessToken"]),
        started + float(reply["expiresIn"]),
        registration,
        str(refresh) if refresh else refresh_token,
    )
    write(renewed)
    log.info("refreshed the SSO login of %s", session.label)

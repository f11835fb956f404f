"""SSO logins: the token file the AWS CLI and botocore share, our client registrations, and
the one rule for what state a login is in.

The token file is `~/.aws/sso/cache/<sha1 of the sso-session name>.json` (legacy
profiles: sha1 of the start URL), keys `startUrl`, `region`, `accessToken`, `expiresAt`
(`%Y-%m-%dT%H:%M:%SZ`, UTC), and, for logins made with a registration, `clientId`,
`clientSecret`, `registrationExpiresAt` and `refreshToken`.

`state` is the only place that decides whether a login is `valid`, `refreshable`,
`expired` or `missing`; the helper, sign-in from docker, `status`, `doctor` and discovery
all ask it.
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from credhelper import atomic, editlock, private
from credhelper.aws.config import SsoSession
from credhelper.errors import NotWritable, os_reason
from credhelper.paths import Paths
from credhelper.shown import shown

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
CLIENT_NAME = "ecr-sso"
#: A cached login with less than this left is treated as expired.
TOKEN_MARGIN = 60
#: A registration is reused while it has at least this long to live: a login made with it
#: can then be refreshed for a full working day.
REGISTRATION_MARGIN = 24 * 3600

State = Literal["valid", "refreshable", "expired", "missing"]
STATES: tuple[State, ...] = ("valid", "refreshable", "expired", "missing")


# -- timestamps ---------------------------------------------------------------------------


def parse_time(text: str) -> float:
    """Seconds since the epoch of an AWS CLI cache timestamp (UTC)."""
    text = text.strip()
    if text.endswith("Z") and "." not in text:
        return float(calendar.timegm(time.strptime(text, TIME_FORMAT)))
    from datetime import datetime

    # botocore also accepts full ISO 8601 ("+00:00", fractions); so do we.
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def format_time(moment: float) -> str:
    """The AWS CLI's cache timestamp for `moment`."""
    return time.strftime(TIME_FORMAT, time.gmtime(moment))


# -- the token file -----------------------------------------------------------------------


def token_path(paths: Paths, session_or_start_url: str) -> str:
    """The cache file for an sso-session name (or a legacy profile's start URL)."""
    name = hashlib.sha1(session_or_start_url.encode(), usedforsecurity=False).hexdigest()
    return os.path.join(paths.sso_cache_dir, f"{name}.json")


def read_file(paths: Paths, session_or_start_url: str) -> dict[str, Any] | None:
    """The token file's content, or None when there is none or it is unreadable."""
    try:
        with open(token_path(paths, session_or_start_url), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


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
    """A signed-in SSO session, as kept in the token file. `start_url` and `region` are
    what the file says (None when it does not)."""

    access_token: str
    expires_at: float
    registration: Registration | None = None
    refresh_token: str | None = None
    start_url: str | None = None
    region: str | None = None

    def valid(self, now: float, margin: float = TOKEN_MARGIN) -> bool:
        """Whether the access token still works at `now` (with `margin` to spare)."""
        return now < self.expires_at - margin

    def refreshable(self, now: float) -> bool:
        """Whether the file holds what botocore needs to refresh it without a person
        (`SSOTokenProvider._refresh_access_token`): a refresh token and a registration
        that has not expired. botocore refreshes sso-session logins only."""
        return (
            self.refresh_token is not None
            and self.registration is not None
            and now < self.registration.expires_at
        )

    def __repr__(self) -> str:
        return f"Login(expires_at={self.expires_at!r}, registration={self.registration!r})"


def login_from(data: dict[str, Any] | None) -> Login | None:
    """The login a token file's content describes, or None when it holds no usable
    access token and expiry."""
    if data is None:
        return None
    token, expires = data.get("accessToken"), data.get("expiresAt")
    if not isinstance(token, str) or not token or not isinstance(expires, str):
        return None
    try:
        expires_at = parse_time(expires)
    except ValueError:
        return None
    registration = None
    client_id, secret = data.get("clientId"), data.get("clientSecret")
    reg_expires = data.get("registrationExpiresAt")
    if isinstance(client_id, str) and isinstance(secret, str) and isinstance(reg_expires, str):
        with contextlib.suppress(ValueError):
            registration = Registration(client_id, secret, parse_time(reg_expires))
    refresh = data.get("refreshToken")
    start_url, region = data.get("startUrl"), data.get("region")
    return Login(
        token,
        expires_at,
        registration,
        refresh if isinstance(refresh, str) else None,
        start_url if isinstance(start_url, str) else None,
        region if isinstance(region, str) else None,
    )


def read_login(paths: Paths, session: SsoSession) -> Login | None:
    """The login cached for `session` (by us, the AWS CLI or botocore), or None."""
    return login_from(read_file(paths, session.cache_name))


def write_login(paths: Paths, session: SsoSession, login: Login) -> str:
    """Write the token file exactly as the AWS CLI does (same keys, UTC timestamps),
    atomically and 0600, under the locks `saving` takes; return its path. NotWritable when
    it cannot be written (see `save_problem`)."""
    with saving(paths, session) as write:
        return write(login)


@contextlib.contextmanager
def saving(paths: Paths, session: SsoSession) -> Iterator[Callable[[Login], str]]:
    """Hold what a write of `session`'s token file takes (its sso-session lock, then the
    edit lock setup and teardown take, so no two runs wait on each other), once
    `save_problem` finds nothing in the way; yield the writer. For a step that cannot be
    undone before the write: a refresh spends its refresh token, so a refreshed login
    that could not be saved would be a login lost. NotWritable (the problem) otherwise."""
    from credhelper.sso.refresh_lock import session_lock

    problem = save_problem(paths, session)
    if problem is not None:
        raise NotWritable(problem)
    with session_lock(paths, session.cache_name), editlock.hold(paths.state_dir):
        yield lambda login: _write(paths, session, login)


def save_problem(paths: Paths, session: SsoSession) -> str | None:
    """Why a login for `session` could not be written now; None when it can. Our state
    folder must be usable (the edit lock is there), and the token folder ours and able to
    take a new file; a token file already there must be ours: root running with another
    user's HOME would make it root's, and unreadable to its owner."""
    try:
        atomic.ensure_private_dir(paths.state_dir)
        folder = paths.sso_cache_dir
        atomic.make_dirs(folder)
        path = token_path(paths, session.cache_name)
        for existing in (folder, path) if os.geteuid() == 0 else ():
            with contextlib.suppress(FileNotFoundError):
                owner = os.lstat(existing).st_uid
                if owner != 0:
                    return (
                        f"{shown(existing)} belongs to another user (uid {owner}; ecr-sso"
                        " runs as root): run ecr-sso as that user"
                    )
    except OSError as err:
        return os_reason(err)
    try:
        # Checked by doing it: permissions, a read-only or full file system, ACLs.
        fd, probe = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    except OSError as err:
        return f"{shown(folder)}: {err.strerror or err}"
    os.close(fd)
    os.unlink(probe)
    return None


def _write(paths: Paths, session: SsoSession, login: Login) -> str:
    """The token file's content, written; the caller holds the locks."""
    content: dict[str, str] = {
        "startUrl": session.start_url,
        "region": session.region,
        "accessToken": login.access_token,
        "expiresAt": format_time(login.expires_at),
    }
    if login.registration is not None:
        content["clientId"] = login.registration.client_id
        content["clientSecret"] = login.registration.client_secret
        content["registrationExpiresAt"] = format_time(login.registration.expires_at)
    if login.refresh_token is not None:
        content["refreshToken"] = login.refresh_token
    # `startUrl` is the configured start URL (for a vanity URL, not the one it resolves
    # to): it is what the AWS CLI matches.
    path = token_path(paths, session.cache_name)
    atomic.write_bytes(path, json.dumps(content).encode(), mode=0o600)
    return path


def delete_login(paths: Paths, session: SsoSession) -> bool:
    """Remove the token file; False when there was none."""
    try:
        os.unlink(token_path(paths, session.cache_name))
    except FileNotFoundError:
        return False
    return True


# -- the one rule -------------------------------------------------------------------------


def state(login: Login | None, now: float, *, legacy: bool = False) -> State:
    """What a login is at `now`: `valid` (its access token works, with `TOKEN_MARGIN` to
    spare), `refreshable` (expired, but botocore renews it on the next use: an
    sso-session login with a refresh token and a live registration), `expired` (a person
    must sign in again) or `missing` (no usable token file)."""
    if login is None:
        return "missing"
    if login.valid(now):
        return "valid"
    if not legacy and login.refreshable(now):
        return "refreshable"
    return "expired"


def state_of(paths: Paths, session: SsoSession, now: float) -> tuple[State, Login | None]:
    """The state of `session`'s cached login, and the login."""
    login = read_login(paths, session)
    return state(login, now, legacy=session.legacy), login


# -- client registrations -----------------------------------------------------------------


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
        # Only from a private folder: a planted registration would be another's client.
        stored = private.read(self.cache_dir, "sso-registrations", key + ".json")
        if stored is None:
            return None
        try:
            data = json.loads(stored)
            found = Registration(
                str(data["clientId"]), str(data["clientSecret"]), parse_time(data["expiresAt"])
            )
        except (ValueError, KeyError, TypeError):
            return None
        return found if found.expires_at - now > REGISTRATION_MARGIN else None

    def put(self, key: str, registration: Registration) -> None:
        atomic.ensure_private_dir(self.cache_dir, "sso-registrations")
        content = {
            "clientId": registration.client_id,
            "clientSecret": registration.client_secret,
            "expiresAt": format_time(registration.expires_at),
        }
        atomic.write_bytes(
            os.path.join(self.folder, key + ".json"), json.dumps(content).encode(), mode=0o600
        )

    def forget(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(self.folder, key + ".json"))

"""An SSO refresh is made only when its result can be saved. AWS rotates the refresh token
on use (the fake does too, and refuses a used one): a refresh whose new login is then lost
spends the old refresh token and destroys the login. So when the edit lock cannot be
taken, the token file is another user's (root with that user's HOME) or its folder cannot
be written, the helper says so in one line and leaves the login as it was; once that is
fixed, or run as the right user, the very same login refreshes and works."""

from __future__ import annotations

import hashlib
import json
import pwd
import shutil
from pathlib import Path

import pytest
from conftest import HELPER, SSO, Env, RunHelper, environ_at
from fakeaws import FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    REFRESH,
    FakeOIDC,
    oidc_fixture,
    signin_server,
    token_file,
)
from localuser import give, run_as
from protocolcheck import answer, error_line

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
DEV_SECRET = FakeAWS.password("111111111111", "Developer")
TOKEN_NAME = hashlib.sha1(b"team", usedforsecurity=False).hexdigest() + ".json"
HEAD = "the SSO login of sso-session 'team' is due for a refresh that could not be saved: "
TAIL = "; it was left as it is, its refresh token unspent"


def refreshable_login(env: Env, sso: SSO, oidc: FakeOIDC) -> str:
    """An sso-session login whose access token expired an hour ago, with a registration
    and a refresh token the fake accepts once. Returns the refresh token."""
    sso.login()
    client_id, secret, refresh = oidc.seed_refreshable()
    path = token_file(env)
    cached = json.loads(path.read_text())
    cached.update(clientId=client_id, clientSecret=secret, refreshToken=refresh)
    path.write_text(json.dumps(cached))
    sso.expire()
    return refresh


def assert_refreshed_once(oidc: FakeOIDC, token: Path, old_refresh: str) -> None:
    assert oidc.grants().count(REFRESH) == 1
    (live,) = oidc.refresh_tokens  # the rotated one, the only one the fake still accepts
    assert json.loads(token.read_text())["refreshToken"] == live != old_refresh


def test_a_state_folder_left_open_refuses_the_refresh_not_the_login(
    env: Env, sso: SSO, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    """The edit lock (every write of the token file takes it) lives in the state folder,
    here left 0775 by an older version under umask 002."""
    old_refresh = refreshable_login(env, sso, oidc)
    state = env.home / ".local" / "state" / "ecr-sso"
    state.mkdir(parents=True)
    state.chmod(0o775)
    before = token_file(env).read_bytes()

    line = error_line(run_helper("get", DEV))

    assert line == (
        f"{HEAD}{state}: writable by others (mode 0775), so ecr-sso does not use it; if it is"
        f" yours: chmod 700 {state}{TAIL}"
    )
    assert oidc.grants().count(REFRESH) == 0
    assert token_file(env).read_bytes() == before

    state.chmod(0o700)
    assert answer(run_helper("get", DEV))["Secret"] == DEV_SECRET
    assert_refreshed_once(oidc, token_file(env), old_refresh)


@pytest.fixture
def users_home(
    env: Env,
    sso: SSO,
    oidc: FakeOIDC,
    other_user: pwd.struct_passwd,
    shared_tmp: Path,
) -> tuple[Path, str]:
    """The other user's home, holding a refreshable login; (home, its refresh token)."""
    old_refresh = refreshable_login(env, sso, oidc)
    home = shared_tmp / "home"
    shutil.copytree(env.home, home, symlinks=True)
    home.chmod(0o755)
    give(home, other_user)
    return home, old_refresh


@pytest.mark.parametrize("our_folders", ["the user's", "root's own"])
def test_root_with_another_users_home_leaves_their_login_alone(
    oidc: FakeOIDC,
    other_user: pwd.struct_passwd,
    users_home: tuple[Path, str],
    shared_tmp: Path,
    our_folders: str,
) -> None:
    """`sudo -E docker pull`: the helper runs as root with the user's HOME. Rewriting the
    token file would make it root's (unreadable to its owner); it is left alone."""
    home, old_refresh = users_home
    token = home / ".aws" / "sso" / "cache" / TOKEN_NAME
    before = token.read_bytes()
    overrides = {}
    if our_folders == "root's own":
        overrides = {
            "XDG_STATE_HOME": str(shared_tmp / "root-state"),
            "XDG_CACHE_HOME": str(shared_tmp / "root-cache"),
        }
    uid = other_user.pw_uid

    as_root = run_as(
        pwd.getpwuid(0),
        [str(HELPER), "get"],
        env=environ_at(home, **overrides),
        stdin=DEV.encode(),
    )

    if our_folders == "root's own":
        why = (
            f"{token.parent} belongs to another user (uid {uid}; ecr-sso runs as root):"
            " run ecr-sso as that user"
        )
    else:
        why = (
            f"{home}: owned by another user (uid {uid}), so ecr-sso does not use it; run"
            " ecr-sso as its owner, or point it at a folder of your own"
        )
    assert error_line(as_root) == HEAD + why + TAIL
    assert oidc.grants().count(REFRESH) == 0
    assert token.read_bytes() == before
    assert [p.stat().st_uid for p in [home, *home.rglob("*")]] == [uid] * (
        1 + len(list(home.rglob("*")))
    ), "root made nothing in the user's home"

    as_owner = run_as(other_user, [str(HELPER), "get"], env=environ_at(home), stdin=DEV.encode())

    assert answer(as_owner)["Secret"] == DEV_SECRET
    assert_refreshed_once(oidc, token, old_refresh)
    assert token.stat().st_uid == uid


def test_a_token_folder_that_cannot_be_written_refuses_the_refresh(
    oidc: FakeOIDC,
    other_user: pwd.struct_passwd,
    users_home: tuple[Path, str],
) -> None:
    home, old_refresh = users_home
    folder = home / ".aws" / "sso" / "cache"
    folder.chmod(0o500)
    environ = environ_at(home)

    refused = run_as(other_user, [str(HELPER), "get"], env=environ, stdin=DEV.encode())

    assert error_line(refused) == f"{HEAD}{folder}: Permission denied{TAIL}"
    assert oidc.grants().count(REFRESH) == 0

    folder.chmod(0o700)
    fixed = run_as(other_user, [str(HELPER), "get"], env=environ, stdin=DEV.encode())

    assert answer(fixed)["Secret"] == DEV_SECRET
    assert_refreshed_once(oidc, folder / TOKEN_NAME, old_refresh)

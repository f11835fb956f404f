"""The sso-session lock and when a login is due for a refresh, in-process."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from credhelper.errors import CacheLocked
from credhelper.flock import file_lock
from credhelper.paths import Paths
from credhelper.sso import refresh_lock
from credhelper.sso.flows import Login, Registration

NOW = 1_800_000_000.0
REGISTRATION = Registration("client", "secret", NOW + 86400)


def paths() -> Paths:
    return Paths.from_environ(os.environ)


def test_the_lock_is_reentrant_in_a_process_and_exclusive_across_holders() -> None:
    name = "sso-session-" + hashlib.sha1(b"team", usedforsecurity=False).hexdigest()
    # Held twice here; another holder (another process, here another open file) cannot.
    with (
        refresh_lock.session_lock(paths(), "team"),
        refresh_lock.session_lock(paths(), "team"),
        pytest.raises(CacheLocked),
        file_lock(paths().cache_dir, name, timeout=0),
    ):
        pass
    with file_lock(paths().cache_dir, name, timeout=0):
        pass  # released once the outer block ends


def test_a_lock_held_elsewhere_too_long_stops_the_work() -> None:
    """Another process refreshing (or signing in to) the same session: going on would
    spend the refresh token it is spending."""
    name = "sso-session-" + hashlib.sha1(b"team", usedforsecurity=False).hexdigest()
    ran = []
    with (
        file_lock(paths().cache_dir, name, timeout=0),
        pytest.raises(CacheLocked),
        refresh_lock.session_lock(paths(), "team", timeout=0.05),
    ):
        ran.append(True)
    assert ran == []


def test_an_unusable_cache_folder_costs_the_lock_not_the_work(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("ECR_SSO_CACHE_DIR", str(blocker))
    ran = []

    with refresh_lock.session_lock(paths(), "team"):
        ran.append(True)

    assert ran == [True]


@pytest.mark.parametrize(
    ("login", "due"),
    [
        (Login("t", NOW + 3600, REGISTRATION, "r"), False),  # fresh
        (Login("t", NOW + 600, REGISTRATION, "r"), True),  # botocore would refresh it
        (Login("t", NOW - 60, REGISTRATION, "r"), True),  # expired, refreshable
        (Login("t", NOW - 60, REGISTRATION, None), False),  # no refresh token
        (Login("t", NOW - 60, Registration("c", "s", NOW - 1), "r"), False),  # dead client
        (None, False),
    ],
)
def test_when_a_login_is_due(login: Login | None, due: bool) -> None:
    assert refresh_lock.due(login, NOW) is due


def test_the_default_chain_profile_as_botocore_picks_it() -> None:
    environ = {"AWS_PROFILE": "b", "AWS_DEFAULT_PROFILE": "a"}
    assert refresh_lock.profile_of(None, environ) == "a"
    assert refresh_lock.profile_of("dev", environ) == "dev"
    assert refresh_lock.profile_of(None, {}) is None

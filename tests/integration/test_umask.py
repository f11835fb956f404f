"""A loose umask (002, a shared-group habit; 000): every folder ecr-sso makes is 0700 all
the same, and setup, login and the helper work, as the installed commands run them."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import HELPER, Env, environ_with
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    ECR_SSO,
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    oidc_fixture,
    signin_server,
)
from setup_fixtures import DEV_EU, team_file  # noqa: F401 - the fixture


def run(argv: list[str], umask: int, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        env=environ_with(None),
        umask=umask,
        timeout=60,
        check=False,
    )


def loose(root: Path) -> list[str]:
    """Every folder under `root` that is not 0700, and every file others may write."""
    found = []
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            mode = stat.S_IMODE(os.lstat(os.path.join(folder, name)).st_mode)
            if mode != 0o700:
                found.append(f"{os.path.join(folder, name)} {mode:04o}")
        for name in files:
            mode = stat.S_IMODE(os.lstat(os.path.join(folder, name)).st_mode)
            if mode & 0o022:
                found.append(f"{os.path.join(folder, name)} {mode:04o}")
    return found


@pytest.mark.parametrize("umask", [0o002, 0o000])
def test_setup_login_and_the_helper_under_a_loose_umask(
    *,
    env: Env,
    aws: FakeAWS,
    oidc: FakeOIDC,
    browser: FakeBrowser,
    team_file: Path,  # noqa: F811 - the fixture
    umask: int,
) -> None:
    setup = run([str(ECR_SSO), "setup", "--from", str(team_file), "--yes"], umask)
    assert setup.returncode == 0, setup.stdout + setup.stderr

    login = run([str(ECR_SSO), "login", "dev"], umask)
    assert login.returncode == 0, login.stdout + login.stderr
    assert login.stdout.startswith("signed in to sso-session 'connectedhome' until ")

    secret = FakeAWS.password("642976147714", "Administrator")
    for _ in range(2):  # a miss, then a hit from the cache the miss wrote
        got = run([str(HELPER), "get"], umask, stdin=DEV_EU)
        assert got.returncode == 0, got.stdout
        assert json.loads(got.stdout)["Secret"] == secret
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1, "the second get was a cache hit"

    again = run([str(ECR_SSO), "setup", "--from", str(team_file), "--yes"], umask)
    assert again.returncode == 0, again.stdout + again.stderr
    doctor = run([str(ECR_SSO), "doctor", "--offline"], umask)
    assert doctor.returncode == 0, doctor.stdout
    assert loose(env.home) == []


def test_a_folder_left_open_is_refused_in_one_line_with_the_fix(
    env: Env,
    oidc: FakeOIDC,
    browser: FakeBrowser,
    team_file: Path,  # noqa: F811 - the fixture
) -> None:
    """What an older version left under umask 002: setup and login say which folder and
    what to run (not `None (None)`); login says so before the browser opens."""
    state = env.home / ".local" / "state" / "ecr-sso"
    (state / "log").mkdir(parents=True, mode=0o700)
    state.chmod(0o775)
    why = (
        f"{state}: writable by others (mode 0775), so ecr-sso does not use it; if it is"
        f" yours: chmod 700 {state}"
    )

    setup = run([str(ECR_SSO), "setup", "--from", str(team_file), "--yes"], 0o022)

    assert (setup.returncode, setup.stdout) == (4, "")
    assert setup.stderr == (
        f"ecr-sso: cannot create ecr-sso's lock {state}/edit.lock: {why}; nothing was changed\n"
    )

    state.chmod(0o700)
    assert run([str(ECR_SSO), "setup", "--from", str(team_file), "--yes"], 0o022).returncode == 0
    state.chmod(0o775)

    login = run([str(ECR_SSO), "login", "dev"], 0o022)

    assert (login.returncode, login.stdout) == (4, "")
    assert login.stderr == (
        f"ecr-sso: cannot sign in to sso-session 'connectedhome': the login could not be"
        f" saved: {why}\n"
    )
    assert browser.visits() == []
    assert oidc.calls("RegisterClient") == []

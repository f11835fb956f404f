"""A second local user, for the tests where ownership matters.

Root ignores file modes and owns everything it touches, so what another user can or cannot
do ("not yours", "not writable", an attacker on the same machine) is only testable as
another user, or against files it owns. `other_user` creates one unprivileged user (once,
and never removes it: idempotent) and `as_user`/`run_as` run commands as it through
`setpriv`, with no privileges and no supplementary groups. Where that is impossible (not
root, no `setpriv`) the tests are skipped, and fail under CI, which runs as root.

The fixtures `other_user` and `shared_tmp` are registered for every test by conftest.py.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from realclients import skip_or_fail

#: The one unprivileged user every test plays the other user with.
NAME = "ecrsso-other"


@pytest.fixture(scope="session")
def other_user() -> pwd.struct_passwd:
    """The unprivileged user (no home, no login shell), created when missing."""
    if os.geteuid() != 0:
        skip_or_fail("a second local user needs root to create and become (CI runs as root)")
    if shutil.which("setpriv") is None:
        skip_or_fail("setpriv (util-linux) not found on PATH: it acts as the second user")
    try:
        return pwd.getpwnam(NAME)
    except KeyError:
        pass
    made = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
        capture_output=True,
        check=False,
    )
    try:
        # Another xdist worker may have created it first: then this useradd failed.
        return pwd.getpwnam(NAME)
    except KeyError:
        pytest.fail(f"useradd {NAME}: {made.stderr.decode(errors='replace').strip()}")


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder both users can reach (pytest's tmp_path is private to root), 0755."""
    base = Path(tempfile.mkdtemp(prefix="ecrsso-two-users-", dir="/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base)


def give(path: Path, user: pwd.struct_passwd) -> None:
    """`chown -R` `path` to `user`."""
    for item in [path, *path.rglob("*")]:
        os.lchown(item, user.pw_uid, user.pw_gid)


def as_user(user: pwd.struct_passwd) -> list[str]:
    """The command prefix that runs the rest of a command line as `user`, with no
    privileges and no supplementary groups kept (not even those /etc/group gives it)."""
    return [
        "setpriv",
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--",
    ]


def run_as(
    user: pwd.struct_passwd,
    argv: list[str],
    *,
    env: Mapping[str, str],
    stdin: bytes = b"",
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` as `user` (see `as_user`) with exactly `env`; never raises on a non-zero
    exit."""
    return subprocess.run(
        [*as_user(user), *argv],
        input=stdin,
        capture_output=True,
        env=dict(env),
        timeout=timeout,
        check=False,
    )

"""A second local user, for the tests where ownership matters: the tests run as root in CI,
and root ignores file modes, so "not yours" and "not writable" are tested as this user
(through `setpriv`) or against files it owns. Skipped when not root."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

#: The same unprivileged user test_hostile_storage.py plays the attacker with.
NAME = "ecrsso-other"


@pytest.fixture(scope="session")
def other_user() -> pwd.struct_passwd:
    """The unprivileged user, created once when missing (never removed: idempotent)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create and become a second local user (CI runs as root)")
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to act as the second user")
    try:
        return pwd.getpwnam(NAME)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
            check=True,
            capture_output=True,
        )
    return pwd.getpwnam(NAME)


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


def run_as(
    user: pwd.struct_passwd,
    argv: list[str],
    *,
    env: Mapping[str, str],
    stdin: bytes = b"",
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` as `user` (no privileges kept) with exactly `env`; never raises on a
    non-zero exit."""
    return subprocess.run(
        [
            *("setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"),
            "--",
            *argv,
        ],
        input=stdin,
        capture_output=True,
        env=dict(env),
        timeout=timeout,
        check=False,
    )

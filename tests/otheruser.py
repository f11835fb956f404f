"""A second local user, for tests that play an attacker on the same machine.

Root ignores file modes and owns everything it touches, so what another user can or cannot
do is only testable as another user: these fixtures create one (once, idempotently) and run
commands as it through `setpriv`. They skip where that is impossible (not root, or no
`setpriv`); `CI` runs as root, where they always run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess

import pytest

USER = "ecrsso-peer"


@pytest.fixture(scope="session")
def other_user() -> pwd.struct_passwd:
    """An unprivileged local user with no home and no login shell."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create a second local user (CI runs as root)")
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux) to act as the second user")
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            check=True,
            capture_output=True,
        )
    return pwd.getpwnam(USER)


def as_user(user: pwd.struct_passwd) -> list[str]:
    """The command prefix that runs the rest of a command line as `user`, with no
    privileges and no supplementary groups kept."""
    return [
        "setpriv",
        f"--reuid={user.pw_uid}",
        f"--regid={user.pw_gid}",
        "--clear-groups",
        "--",
    ]

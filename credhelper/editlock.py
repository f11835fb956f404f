"""The one lock every change to the user's files takes: `setup`, `teardown`, the token
file a sign-in writes, and the uninstall.

A second run waits for the first, then reads the files as the first left them, so both
runs' changes land. The lock is a file in our state folder, locked with `flock` (released
by the kernel when its holder exits, even when killed).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from credhelper import flock
from credhelper.errors import EcrSsoError, NotWritable, os_reason

NAME = "edit.lock"
#: How long a run waits before it says so.
SAY_AFTER_SECONDS = 1.0
#: A person may be reading a prompt of the other run: wait long, but not forever.
TIMEOUT_SECONDS = 600.0


def lock_path(state_dir: str) -> str:
    """Where the lock file is."""
    return os.path.join(state_dir, NAME)


@contextlib.contextmanager
def hold(
    state_dir: str,
    *,
    waiting: Callable[[], None] | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> Iterator[None]:
    """Hold the lock for the `with` block. `waiting` is called once, when the lock has
    been busy for `SAY_AFTER_SECONDS`; `EcrSsoError` after `timeout` seconds."""
    from credhelper import atomic

    path = lock_path(state_dir)
    try:
        atomic.ensure_private_dir(state_dir)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise NotWritable(
            f"cannot create ecr-sso's lock {path}: {os_reason(err, path)}; nothing was changed"
        ) from None

    def busy() -> EcrSsoError:
        return EcrSsoError(
            f"another ecr-sso has been changing files for over {timeout:.0f} s (it"
            f" holds {path}); let it finish, or end it, then run this again"
        )

    try:
        with flock.held(
            fd, timeout=timeout, busy=busy, waiting=waiting, say_after=SAY_AFTER_SECONDS
        ):
            yield
    finally:
        os.close(fd)

"""Waiting for an exclusive lock on an open file, across processes: `flock`, which the
kernel releases when its holder exits, even when killed. Used by the token cache's locks,
the SSO-session lock and the edit lock; each opens its own lock file (with its own
checks) and hands the descriptor here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator

#: How long a run waits for a named lock before it gives up.
LOCK_TIMEOUT_SECONDS = 30.0


@contextlib.contextmanager
def held(
    fd: int,
    *,
    timeout: float,
    busy: Callable[[], Exception],
    waiting: Callable[[], None] | None = None,
    say_after: float = 1.0,
) -> Iterator[None]:
    """Hold the lock on `fd` for the `with` block. `waiting` is called once, when the
    lock has been busy for `say_after` seconds; `busy()` is raised after `timeout`."""
    start = time.monotonic()
    said = waiting is None
    delay = 0.005
    while not _try_lock(fd):
        waited = time.monotonic() - start
        if not said and waited >= say_after:
            said = True
            if waiting is not None:
                waiting()
        if waited >= timeout:
            raise busy()
        # Waiting for another process, not for a test: back off up to 100 ms.
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    try:
        yield
    finally:
        _unlock(fd)


@contextlib.contextmanager
def file_lock(cache_dir: str, key: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """A cross-process exclusive lock named `key` under `cache_dir/locks`, given up after
    `timeout` seconds (`CacheLocked`).

    Used so that concurrent cold `get`s (buildkit runs several helpers at once) make one
    AWS call: the first fetches, the others wait here and then find the token cached; and
    for one SSO refresh or sign-in per sso-session.
    """
    from credhelper import atomic
    from credhelper.errors import CacheLocked

    path = os.path.join(atomic.ensure_private_dir(cache_dir, "locks"), key + ".lock")
    # Never through a link: a lock file is opened for writing.
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)

    def busy() -> CacheLocked:
        return CacheLocked(
            f"another ecr-sso process has held {path} for over {timeout:.0f} s;"
            " if none is running, delete that file"
        )

    try:
        with held(fd, timeout=timeout, busy=busy):
            yield
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)

"""The token cache's lock seen from other processes: a lock one process holds is refused
to another, and waiting for it times out."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from credhelper.errors import CacheLocked
from credhelper.flock import file_lock

_TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("blocked")
else:
    print("acquired")
"""

_HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


def try_lock_elsewhere(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-I", "-c", _TRY_LOCK, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_another_process_cannot_take_a_held_lock(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "k.lock"
    with file_lock(str(tmp_path), "k"):
        assert try_lock_elsewhere(path) == "blocked"
    assert try_lock_elsewhere(path) == "acquired"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")
def test_lock_held_by_another_process_times_out(tmp_path: Path) -> None:
    path = tmp_path / "locks" / "k.lock"
    path.parent.mkdir(mode=0o700)
    holder = subprocess.Popen(
        [sys.executable, "-I", "-c", _HOLD_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # The holder says so once it has the lock: no guessing how long that takes.
        assert holder.stdout is not None
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(CacheLocked) as caught, file_lock(str(tmp_path), "k", timeout=0.02):
            pytest.fail("the lock was taken while another process held it")
        assert str(path) in str(caught.value)
        assert caught.value.exit_code == 1
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    # Once the holder is gone, the lock is free again.
    with file_lock(str(tmp_path), "k", timeout=0.02):
        pass

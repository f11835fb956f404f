"""A real Secret Service keyring for tests: a private D-Bus session bus and gnome-keyring.

The `secret_service` fixture starts `dbus-daemon` with a minimal config of our own (no
service activation, so nothing but our daemon can answer) and `gnome-keyring-daemon
--foreground --unlock --components=secrets` on it, unlocked with a random password given
on stdin. DBUS_SESSION_BUS_ADDRESS then points at that bus for the rest of the test, so
every subprocess (the helper, docker-py's helper runs) finds it; python-keyring picks its
SecretService backend there, which the fixture checks before handing over.

Everything lands under the test's `tmp_path`, which the autouse `env` fixture has made
HOME and XDG_*: the bus socket and gnome-keyring's control socket in XDG_RUNTIME_DIR, the
keyring files in XDG_DATA_HOME/keyrings. Both processes are stopped at teardown.

Tests using it must be marked `pytest.mark.real_client` (the fixture checks it), because
`pytest -m "not real_client"` has to be a reliable fast run without these programs.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from realclients import require_tool

if TYPE_CHECKING:
    from conftest import Env

__all__ = ["SecretEntry", "SecretService", "secret_service"]

SECRETS_BUS_NAME = "org.freedesktop.secrets"
SECRET_SERVICE_BACKEND = "keyring.backends.SecretService.Keyring"
STARTUP_DEADLINE_S = 20.0
STOP_TIMEOUT_S = 10.0
# A unix socket path must fit in sockaddr_un's 108 bytes, terminator included.
_MAX_SOCKET_PATH = 100

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


@dataclass(frozen=True)
class SecretEntry:
    """One item of the Secret Service: its lookup attributes and its secret."""

    attributes: dict[str, str]
    secret: str = field(repr=False)  # a failing assertion must not print it


@dataclass(frozen=True)
class SecretService:
    """The running keyring: its bus address and where gnome-keyring keeps its files."""

    address: str
    keyring_dir: Path

    def entries(self) -> list[SecretEntry]:
        """Every item in every collection, read over the bus with secretstorage (the library
        python-keyring uses), so a test sees what the service holds, not what a client
        believes it wrote."""
        import secretstorage
        from jeepney.io.blocking import open_dbus_connection

        found = []
        with contextlib.closing(open_dbus_connection(self.address)) as connection:
            for collection in secretstorage.get_all_collections(connection):
                for item in collection.get_all_items():
                    secret = item.get_secret().decode("utf-8")
                    found.append(SecretEntry(dict(item.get_attributes()), secret))
        return found

    def holding(self, needle: str) -> list[SecretEntry]:
        """The entries whose secret contains `needle`."""
        return [entry for entry in self.entries() if needle in entry.secret]


def _require_marker(request: pytest.FixtureRequest) -> None:
    # Applying the marker from a fixture would be too late for `-m` selection.
    if request.node.get_closest_marker("real_client") is None:
        pytest.fail(
            f"{request.node.nodeid} uses secret_service: mark it pytest.mark.real_client",
            pytrace=False,
        )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process we started in its own session; kill it if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=STOP_TIMEOUT_S)


def _log_tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError as exc:
        return f"(no log: {exc})"


def _not_ready(what: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Stop `proc` and fail the test, showing its log."""
    code = proc.poll()
    state = "did not become ready" if code is None else f"exited with {code}"
    _stop(proc)
    pytest.fail(
        f"{what} {state} within {STARTUP_DEADLINE_S:.0f}s; its log:\n{_log_tail(log)}",
        pytrace=False,
    )


def _start_bus(config: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """dbus-daemon in the foreground; ready once it prints its address (it prints it after
    it has bound the socket)."""
    binary = require_tool("dbus-daemon")
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [binary, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_file,
            start_new_session=True,
        )
    assert proc.stdout is not None
    with proc.stdout:
        ready, _, _ = select.select([proc.stdout], [], [], STARTUP_DEADLINE_S)
        line = proc.stdout.readline().decode().strip() if ready else ""
    if not line:
        _not_ready("dbus-daemon", proc, log)
    return proc, line


def _secrets_name_owned(address: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with contextlib.closing(open_dbus_connection(address)) as connection:
        reply = connection.send_and_get_reply(message_bus.NameHasOwner(SECRETS_BUS_NAME))
    return bool(reply.body[0])


def _start_keyring(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """gnome-keyring-daemon in the foreground, its login keyring created and unlocked with
    a random password read from stdin; ready once it owns org.freedesktop.secrets."""
    binary = require_tool("gnome-keyring-daemon")
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [binary, "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    assert proc.stdin is not None
    with proc.stdin:
        proc.stdin.write(secrets.token_urlsafe(16).encode())
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while proc.poll() is None and time.monotonic() < deadline:
        if _secrets_name_owned(env["DBUS_SESSION_BUS_ADDRESS"]):
            return proc
        time.sleep(0.02)  # a polling interval, not synchronisation
    _not_ready("gnome-keyring-daemon", proc, log)
    raise AssertionError  # unreachable: _not_ready fails the test


def _check_backend(env: dict[str, str]) -> None:
    """python-keyring in a fresh process, as the helper will run, must pick SecretService."""
    probe = "import keyring; b = keyring.get_keyring(); print(type(b).__module__, type(b).__name__)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60
    )
    backend = ".".join(result.stdout.split())
    if result.returncode != 0 or backend != SECRET_SERVICE_BACKEND:
        pytest.fail(
            f"python-keyring picked {backend or '(nothing)'}, not {SECRET_SERVICE_BACKEND}:"
            f"\n{result.stderr}",
            pytrace=False,
        )


@pytest.fixture
def secret_service(
    request: pytest.FixtureRequest,
    env: Env,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[SecretService]:
    """A real, unlocked Secret Service on a private session bus, for this test only.

    DBUS_SESSION_BUS_ADDRESS is set in os.environ (so `run_helper` and docker-py pass it
    on); python-keyring in a subprocess is checked to choose its SecretService backend.
    """
    _require_marker(request)
    work = tmp_path / "secret-service"
    work.mkdir()
    runtime_dir = Path(os.environ["XDG_RUNTIME_DIR"])
    socket_dir, short_dir = runtime_dir, None
    if len(str(runtime_dir / "bus")) > _MAX_SOCKET_PATH:
        short_dir = socket_dir = Path(tempfile.mkdtemp(prefix="bus", dir="/tmp"))
    config = work / "session.conf"
    config.write_text(_BUS_CONFIG.format(socket=socket_dir / "bus"))
    started: list[subprocess.Popen[bytes]] = []
    try:
        bus, address = _start_bus(config, work / "dbus-daemon.log")
        started.append(bus)
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        environ = dict(os.environ)
        started.append(_start_keyring(environ, work / "gnome-keyring-daemon.log"))
        _check_backend(environ)
        keyring_dir = Path(environ["XDG_DATA_HOME"]) / "keyrings"
        yield SecretService(address, keyring_dir)
    finally:
        for proc in reversed(started):
            _stop(proc)
        if short_dir is not None:
            shutil.rmtree(short_dir, ignore_errors=True)

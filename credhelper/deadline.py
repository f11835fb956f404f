"""An overall deadline for one run of the helper's cache-miss `get`.

botocore's connect and read timeouts bound each wait for a byte, not the whole answer: a
server that sends one byte every few seconds, retries and an SSO refresh can keep a
`docker pull` waiting for minutes. `arm` starts a watchdog thread; when the deadline
passes before `disarm`, it prints the one error line the protocol expects, naming what it
was waiting for, and ends the process at once.

Ending the process there is safe: the token and sign-in locks are `flock`s the kernel
releases with the process, and every file we write is written atomically (temp file,
rename), so a write cut short leaves the old file and at worst a hidden temp file, never
half a file. `disarm` and the watchdog exclude each other: either the answer is printed
or the timeout line, never both.

Module state because there is exactly one deadline per process; nothing is armed (and
`waiting_for` does nothing) outside the helper's `get`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

DEFAULT_SECONDS = 20.0


class _Watchdog:
    def __init__(self, seconds: float, subject: str) -> None:
        self.started = time.monotonic()
        self.ends = self.started + seconds
        self.subject = subject
        self.what = "its credentials"
        self.lock = threading.Lock()
        self.done = threading.Event()
        thread = threading.Thread(target=self._watch, name="ecr-sso-deadline", daemon=True)
        thread.start()

    def _watch(self) -> None:
        while True:
            remaining = self.ends - time.monotonic()
            if remaining <= 0:
                break
            if self.done.wait(remaining):
                return
        with self.lock:  # held until the process ends: `disarm` then never returns
            if self.done.is_set():
                return
            line = (
                f"no answer for {self.subject} within {self.ends - self.started:g} s"
                f" (get_timeout_seconds): still waiting for {self.what}"
            )
            try:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            except (OSError, ValueError):
                pass  # docker stopped listening; the exit code still says it
            log.warning("get failed: %s", line)
            for handler in logging.getLogger().handlers:
                handler.flush()
            os._exit(1)


#: The armed watchdog, if any (at most one).
_ARMED: list[_Watchdog] = []


def arm(seconds: float, subject: str) -> None:
    """End this process with one error line about `subject` (e.g. "HOST") unless
    `disarm` is called within `seconds`."""
    disarm()
    _ARMED.append(_Watchdog(seconds, subject))


def extend(seconds: float) -> None:
    """Give the armed deadline `seconds` more: a sign-in in the browser waits for a
    person, and has its own timeout."""
    for watchdog in _ARMED:
        watchdog.ends += seconds


def waiting_for(what: str) -> None:
    """Record what the run is waiting for now, for the timeout line."""
    for watchdog in _ARMED:
        watchdog.what = what


def disarm() -> None:
    """The work is done in time: the deadline no longer fires. Blocks for good when it
    has already fired (the process is then ending with the timeout line)."""
    while _ARMED:
        watchdog = _ARMED.pop()
        with watchdog.lock:
            watchdog.done.set()

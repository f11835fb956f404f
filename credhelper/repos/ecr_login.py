"""ECR's login for `migrate`: asked of our credential helper once, kept in memory, asked
again before it could run out.

migrate signs in to ECR for its own HEAD requests and hands skopeo the same login in an
auth file in memory (`credhelper.repos.migrate.memory_authfile`), so no skopeo run starts
the helper: one process per copy less, and with a token the helper cannot cache (one it
is given already close to its end) not one ECR call per copy either.

The helper hands out a token only while it has more than `tokens.MARGIN_SECONDS` (30
minutes) to live. A login is reused for `REUSE_SECONDS` at most, so a copy always starts
with one that has at least 25 minutes left, as it would if skopeo had asked the helper
itself; then the helper is asked again (a cache hit, in milliseconds).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Mapping

from credhelper import errors
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.migrate import HELPER

#: How long one answer of the helper is used (see the module docstring).
REUSE_SECONDS = 5 * 60
HELPER_TIMEOUT = 300


def ask_helper(host: str, environ: Mapping[str, str]) -> Login:
    """ECR's login for `host` from `docker-credential-ecr-sso get`: the answer skopeo
    would get, from the same cache. The secret stays in memory."""
    try:
        done = subprocess.run(
            [HELPER, "get"],
            input=host.encode(),
            capture_output=True,
            env=dict(environ),
            check=False,
            timeout=HELPER_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise errors.EcrSsoError(f"cannot run {HELPER}: {type(err).__name__}") from None
    if done.returncode != 0:
        line = done.stdout.decode(errors="replace").strip().splitlines()
        raise errors.EcrSsoError(f"no ECR sign-in for {host}: {line[-1] if line else 'no answer'}")
    try:
        answer = json.loads(done.stdout)
        return Login(str(answer["Username"]), str(answer["Secret"]), HELPER)
    except (ValueError, KeyError, TypeError):
        raise errors.EcrSsoError(f"{HELPER} answered something other than credentials") from None


class HelperLogin:
    """The login for one ECR host, asked of the helper when first needed and again after
    `reuse` seconds. Thread-safe: the copies ask for it at once, one of them asks the
    helper."""

    def __init__(
        self,
        host: str,
        ask: Callable[[], Login],
        *,
        reuse: float = REUSE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self._ask = ask
        self._reuse = reuse
        self._clock = clock
        self._lock = threading.Lock()
        self._login: Login | None = None
        self._asked_at = 0.0
        self._failed: errors.EcrSsoError | None = None

    def prefetch(self) -> threading.Thread:
        """Ask the helper now, in the background (the thread, started), while the run
        lists and compares; a failure is raised by the next `current`."""
        thread = threading.Thread(target=self._prefetch, name="ecr-login", daemon=True)
        thread.start()
        return thread

    def _prefetch(self) -> None:
        try:
            self.current()
        except errors.EcrSsoError as failed:
            with self._lock:
                self._failed = failed

    def current(self) -> Login:
        """The login to use now; EcrSsoError when the helper cannot give one."""
        with self._lock:
            if self._failed is not None:
                failed, self._failed = self._failed, None
                raise failed
            now = self._clock()
            if self._login is None or now - self._asked_at >= self._reuse:
                self._login = self._ask()
                self._asked_at = now
            return self._login

"""Whether a browser can be opened here, and opening one without letting it touch our
standard streams.

`BROWSER` is honoured as Python's `webbrowser` reads it (a list separated by the path
separator; each entry a program that gets the URL as its argument), and also in the
`xdg-utils` form with `%s` standing for the URL. Otherwise: `open` on macOS, the shell on
Windows, and on Linux and the BSDs, with a display, `xdg-open` (or `gio open`, ...).

The browser is started with stdin, stdout and stderr on the null device: under docker, the
helper's stdout is the protocol channel, and a browser that inherited it (or stderr) would
also keep docker waiting until the browser quit.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping

#: Programs that open a URL in the desktop's browser, in the order tried on Linux/BSD.
_OPENERS = (("xdg-open",), ("gio", "open"), ("sensible-browser",), ("x-www-browser",))


class BrowserUnavailable(Exception):
    """No browser can be started here; `str()` says why."""


def unavailable_reason(environ: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why no browser can be opened for a person at this machine, or None when one can:
    `BROWSER` is set; a macOS or Windows desktop (not over SSH); or, elsewhere, a display
    (`DISPLAY` or `WAYLAND_DISPLAY`)."""
    if environ.get("BROWSER", "").strip():
        return None
    over_ssh = bool(environ.get("SSH_CONNECTION") or environ.get("SSH_TTY"))
    if platform in ("darwin", "win32", "cygwin"):
        return "this is an SSH session" if over_ssh else None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return "there is no display (DISPLAY, WAYLAND_DISPLAY) and BROWSER is not set"


def command(url: str, environ: Mapping[str, str], platform: str = sys.platform) -> list[str] | None:
    """The command line that opens `url`, or None (Windows without BROWSER: use the shell,
    see `open_url`). Raises BrowserUnavailable when nothing suitable is installed."""
    choices = [c.strip() for c in environ.get("BROWSER", "").split(os.pathsep) if c.strip()]
    for choice in choices:
        if "%s" in choice:
            try:
                words = shlex.split(choice)
            except ValueError:
                continue
            line = [w.replace("%s", url) for w in words]
        else:
            line = [choice, url]
        if line and shutil.which(line[0], path=environ.get("PATH")):
            return line
    if choices:
        raise BrowserUnavailable(f"none of the programs in BROWSER ({', '.join(choices)}) exists")
    if platform == "darwin":
        return ["open", url]
    if platform in ("win32", "cygwin"):
        return None
    for opener in _OPENERS:
        if shutil.which(opener[0], path=environ.get("PATH")):
            return [*opener, url]
    raise BrowserUnavailable("no program to open a browser was found (xdg-open, gio)")


class Launch:
    """A browser program started for a URL. Its exit status is collected on a daemon
    thread, so `failed()` never blocks and no zombie is left behind."""

    def __init__(self, process: subprocess.Popen[bytes] | None) -> None:
        self._process = process
        self._status: int | None = None
        if process is not None:
            threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        if self._process is not None:
            self._status = self._process.wait()

    def failed(self) -> str | None:
        """Why the browser gave up (it exited non-zero), or None (still running, or done)."""
        status = self._status
        if status is None or status == 0:
            return None
        return f"the browser program exited with status {status}"


def open_url(url: str, environ: Mapping[str, str], platform: str = sys.platform) -> Launch:
    """Start the browser on `url`, detached from our standard streams and our process
    group (a Ctrl-C meant for us does not close the person's browser)."""
    line = command(url, environ, platform)
    if line is None:
        try:
            # Windows only; the shell hands the URL to the default browser.
            os.startfile(url)  # type: ignore[attr-defined,unused-ignore]  # noqa: S606
        except OSError as err:
            raise BrowserUnavailable(f"cannot open a browser: {err}") from None
        return Launch(None)
    try:
        process = subprocess.Popen(
            line,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(environ),
            close_fds=True,
            start_new_session=True,
        )
    except OSError as err:
        raise BrowserUnavailable(f"cannot start {line[0]}: {err.strerror or err}") from None
    return Launch(process)

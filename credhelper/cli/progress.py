"""A one-line progress display for a person at a terminal; nothing at all otherwise.

Used where someone waits: the sign-in, discovery of many accounts, a migration. Written
to stderr, redrawn at most ten times a second, erased when done.
"""

from __future__ import annotations

import time
from typing import TextIO

from credhelper.shown import shown

_MIN_INTERVAL = 0.1


class Progress:
    """`update(done, total)` as work completes; `close()` at the end (or use `with`)."""

    def __init__(self, stream: TextIO, label: str, *, enabled: bool) -> None:
        self.stream = stream
        self.label = label
        self.enabled = enabled
        self._last = 0.0
        self._width = 0

    def update(self, done: int, total: int | None = None, note: str = "") -> None:
        """Show `label done/total note`; cheap to call often."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL and (total is None or done < total):
            return
        self._last = now
        count = f"{done}/{total}" if total is not None else str(done)
        self._draw(f"{self.label} {count}" + (f" {note}" if note else ""))

    def message(self, text: str) -> None:
        """Show a status text in place of the count (e.g. "waiting for the browser")."""
        if self.enabled:
            self._draw(f"{self.label} {text}")

    def _draw(self, line: str) -> None:
        line = shown(line)  # notes name repositories and tags; the line stays one line
        padding = " " * max(0, self._width - len(line))
        self.stream.write(f"\r{line}{padding}")
        self.stream.flush()
        self._width = len(line)

    def close(self) -> None:
        """Erase the line."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""Docker Hub's pull limit, as its answers state it: pure decisions over header values.

Docker Hub puts `ratelimit-limit: 100;w=21600` and `ratelimit-remaining: 76;w=21600` on
its manifest answers (HEAD too, which do not count), and answers a manifest GET past the
limit with 429 and, sometimes, `Retry-After`. `Ledger` keeps the last reading and what the
copies started since then will spend, so a migration starts only what the allowance left
can pay for, and says so when it cannot.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

#: A Retry-After (or a wait of our own) longer than this is cut to it: Docker Hub's own
#: window is six hours, so a longer wait says more about the answer than about the limit.
MAX_WAIT_SECONDS = 6 * 3600
#: The shortest wait between two looks at the allowance when nothing says how long.
MIN_WAIT_SECONDS = 1
_VALUE = re.compile(r"\s*([0-9]{1,12})\s*(?:;\s*w\s*=\s*([0-9]{1,9})\s*)?(?:;.*)?", re.ASCII)


@dataclass(frozen=True)
class Reading:
    """One answer's statement of the limit: `limit` pulls per `window` seconds, of which
    `remaining` are left."""

    limit: int
    remaining: int
    window: int


def reading(headers: Mapping[str, str]) -> Reading | None:
    """The `ratelimit-*` headers of an answer (names in any case); None when absent or
    malformed (a registry without a limit, an account without one)."""
    lowered = {name.lower(): value for name, value in headers.items()}
    limit = _VALUE.fullmatch(lowered.get("ratelimit-limit", ""))
    remaining = _VALUE.fullmatch(lowered.get("ratelimit-remaining", ""))
    if limit is None or remaining is None:
        return None
    window = int(limit.group(2) or remaining.group(2) or MAX_WAIT_SECONDS)
    return Reading(int(limit.group(1)), int(remaining.group(1)), max(window, 1))


def retry_after(value: str | None, now: datetime) -> int | None:
    """Seconds to wait from a `Retry-After` value (seconds or an HTTP date), bounded to
    [MIN_WAIT_SECONDS, MAX_WAIT_SECONDS]; None when absent or not understood."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():  # "²" is a digit to isdigit, not to int
        seconds = int(text[:12])
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = int((when - now).total_seconds() + 0.999)
    return bound(seconds)


def bound(seconds: float) -> int:
    """`seconds` as a whole number within [MIN_WAIT_SECONDS, MAX_WAIT_SECONDS]."""
    return int(min(max(seconds, MIN_WAIT_SECONDS), MAX_WAIT_SECONDS))


def refill_wait(last: Reading | None) -> int:
    """How long to wait before looking again, at the limit, when no Retry-After says: the
    time one pull takes to come back in a rolling window (six hours over 100 pulls: 216 s)."""
    if last is None or last.limit <= 0:
        return bound(60)
    return bound(last.window / last.limit)


def waiting_time(shortfall: int, last: Reading | None) -> int | None:
    """Seconds of waiting that `shortfall` more pulls than are left imply (pulls come back
    at `limit` per `window`); None when the limit is not known."""
    if shortfall <= 0:
        return 0
    if last is None or last.limit <= 0:
        return None
    return int(shortfall * last.window / last.limit + 0.999)


class Ledger:
    """The allowance as far as is known: the last reading, less what the copies started
    since then may spend. Thread-safe: readings arrive from every request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: Reading | None = None
        self._spent_since = 0

    def note(self, found: Reading | None) -> None:
        """A fresh reading. What copies in flight spend is then partly in it already, so
        the ledger only errs towards stopping early, never towards a 429."""
        if found is None:
            return
        with self._lock:
            self.last = found
            self._spent_since = 0

    def available(self) -> int | None:
        """Pulls left to spend; None when there is no known limit."""
        with self._lock:
            if self.last is None:
                return None
            return self.last.remaining - self._spent_since

    def reserve(self, cost: int) -> bool:
        """Take `cost` pulls for a copy about to start; False (nothing taken) when the
        allowance cannot pay for it. With no known limit, always True."""
        with self._lock:
            if self.last is None:
                return True
            if self.last.remaining - self._spent_since < cost:
                return False
            self._spent_since += cost
            return True


def duration(seconds: float) -> str:
    """`45 s`, `3 min 36 s`, `2 h 5 min`: a wait as a person reads it."""
    whole = int(seconds + 0.999)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {secs} s" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


class Waiter:
    """Waits out the limit, telling `show` the seconds left (and why) about once a second:
    a countdown on a terminal, a line elsewhere. The clock and the sleep are injected,
    so a test runs a countdown without waiting for it; a signal ends a real sleep early."""

    def __init__(
        self,
        show: Callable[[int, str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.show = show
        self.clock = clock
        self.sleep = sleep

    def wait(self, seconds: float, why: str) -> None:
        """Return after `seconds` (bounded to MAX_WAIT_SECONDS)."""
        deadline = self.clock() + min(seconds, MAX_WAIT_SECONDS)
        while True:
            left = deadline - self.clock()
            if left <= 0:
                break
            self.show(int(left + 0.999), why)
            self.sleep(min(1.0, left))
        self.show(0, why)

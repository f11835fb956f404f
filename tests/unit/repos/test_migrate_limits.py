"""Docker Hub's pull limit as `migrate` reads it: the headers, Retry-After and its bound,
the ledger a run spends from, and the countdown (with an injected clock: no real wait)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from credhelper.repos import ratelimit
from credhelper.repos.ratelimit import Ledger, Reading, Waiter

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_reading_docker_hubs_headers() -> None:
    headers = {"RateLimit-Limit": "100;w=21600", "ratelimit-remaining": "76;w=21600"}

    assert ratelimit.reading(headers) == Reading(limit=100, remaining=76, window=21600)
    assert ratelimit.reading({"ratelimit-limit": "200", "ratelimit-remaining": "3"}) == Reading(
        200, 3, ratelimit.MAX_WAIT_SECONDS
    )
    for broken in (
        {},
        {"ratelimit-limit": "100;w=21600"},
        {"ratelimit-limit": "lots", "ratelimit-remaining": "1"},
        {"ratelimit-limit": "-1", "ratelimit-remaining": "1"},
    ):
        assert ratelimit.reading(broken) is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30),
        ("0", ratelimit.MIN_WAIT_SECONDS),
        ("999999999999", ratelimit.MAX_WAIT_SECONDS),  # a huge one is bounded
        ("Thu, 01 Jan 2026 12:02:00 GMT", 120),
        ("Thu, 01 Jan 2026 11:00:00 GMT", ratelimit.MIN_WAIT_SECONDS),  # in the past
        ("Sat, 01 Jan 2095 00:00:00 GMT", ratelimit.MAX_WAIT_SECONDS),
        ("soon", None),
        (None, None),
        ("\xb2", None),  # a digit to str.isdigit, not to int(): no traceback
        ("-5", None),
        ("", None),
    ],
)
def test_retry_after_is_understood_and_bounded(value: str | None, seconds: int | None) -> None:
    assert ratelimit.retry_after(value, NOW) == seconds


def test_waits_implied_by_the_limit() -> None:
    hub = Reading(limit=100, remaining=0, window=21600)

    assert ratelimit.refill_wait(hub) == 216
    assert ratelimit.refill_wait(Reading(limit=5, remaining=0, window=1)) == 1  # floor
    assert ratelimit.refill_wait(None) == 60
    assert ratelimit.waiting_time(2, hub) == 432
    assert ratelimit.waiting_time(0, hub) == 0
    assert ratelimit.waiting_time(5, None) is None
    assert ratelimit.duration(432) == "7 min 12 s"
    assert ratelimit.duration(6172) == "1 h 42 min"
    assert ratelimit.duration(3) == "3 s"


def test_the_ledger_spends_from_the_last_reading_only() -> None:
    ledger = Ledger()
    assert ledger.reserve(1000)  # no known limit: anything goes
    assert ledger.available() is None

    ledger.note(Reading(limit=100, remaining=7, window=21600))
    assert ledger.reserve(3)
    assert ledger.reserve(3)
    assert not ledger.reserve(3)  # 1 left: nothing taken
    assert ledger.available() == 1
    ledger.note(None)  # an answer without headers changes nothing
    assert ledger.available() == 1
    ledger.note(Reading(limit=100, remaining=50, window=21600))
    assert ledger.available() == 50


def test_the_countdown_shows_each_second_without_waiting_for_it() -> None:
    clock = [1000.0]
    shown: list[tuple[int, str]] = []

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    waiter = Waiter(lambda s, why: shown.append((s, why)), clock=lambda: clock[0], sleep=sleep)
    waiter.wait(3, "Docker Hub answered 429")

    assert shown == [
        (3, "Docker Hub answered 429"),
        (2, "Docker Hub answered 429"),
        (1, "Docker Hub answered 429"),
        (0, "Docker Hub answered 429"),
    ]
    assert clock[0] == 1003.0


def test_the_countdown_never_waits_past_the_bound() -> None:
    clock = [0.0]
    waiter = Waiter(
        lambda s, why: None,
        clock=lambda: clock[0],
        sleep=lambda s: clock.__setitem__(0, clock[0] + s),
    )
    waiter.wait(10**9, "limit")

    assert clock[0] == pytest.approx(ratelimit.MAX_WAIT_SECONDS)


def test_a_date_in_the_future_is_relative_to_now() -> None:
    later = (NOW + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert ratelimit.retry_after(later, NOW) == 90

"""Benchmark of `ecr-sso setup --discover`: 1,000 accounts with 3 roles each.

The fake SSO portal from `tests/` runs in this process on 127.0.0.1, with real HTTP and
botocore in between. These machines are noisy, so besides absolute times every figure is
also given as a ratio to a baseline taken in the same run, interleaved with it: one
ListAccounts page call at the same simulated latency. That ratio reads as "how many calls'
worth of time": a sequential discovery costs about one per call, a concurrent one far less.

- discovery with the default 8 workers, no simulated latency (target: seconds);
- with a simulated per-call latency (default 20 ms, a real network's order): sequential
  (1 worker) against 8 workers, to show that the bounded concurrency matters;
- the portal calls one discovery makes (pages of `--page-size` accounts, one roles call
  per account).

Run: `.venv/bin/python bench/discover_bench.py [--runs N] [--latency-ms MS]`. No AWS account
is used.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakeaws import FakeAWS
from fakeportal import LIST_ACCOUNT_ROLES, LIST_ACCOUNTS, FakePortal, organisation

from credhelper.setup import discover as discovery

ACCOUNTS = 1000
ROLES = 3


def isolate(home: Path, fake: FakeAWS) -> None:
    """This process's environment as the tests' `env` and `aws` fixtures make it."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "ECR_SSO_")):
            del os.environ[name]
    os.environ.update(
        HOME=str(home),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL_SSO=fake.url,
    )


def arrange(fake: FakeAWS, page_size: int, latency: float) -> tuple[FakePortal, str]:
    """A fresh organisation on a freshly reset fake; a valid token for it."""
    fake.reset()
    portal = FakePortal.attach(fake)
    portal.set_accounts(organisation(ACCOUNTS, ROLES))
    portal.page_size = page_size
    portal.latency = latency
    return portal, portal.token()


def one_call(fake: FakeAWS, page_size: int, latency: float) -> float:
    """Baseline: one ListAccounts page through a portal client made as discovery makes it."""
    _, token = arrange(fake, page_size, latency)
    client = discovery.portal_client("eu-west-1", 1)
    client.list_accounts(accessToken=token, maxResults=discovery.PAGE_SIZE)  # warm the pool
    started = time.perf_counter()
    client.list_accounts(accessToken=token, maxResults=discovery.PAGE_SIZE)
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed


def one_discovery(
    fake: FakeAWS, page_size: int, latency: float, workers: int, calls: list[int]
) -> float:
    portal, token = arrange(fake, page_size, latency)
    started = time.perf_counter()
    found = discovery.discover(token, "eu-west-1", max_workers=workers)
    elapsed = time.perf_counter() - started
    if len(found) != ACCOUNTS * ROLES or len({f.profile_name for f in found}) != len(found):
        raise SystemExit(f"discovery returned {len(found)} roles, not {ACCOUNTS * ROLES}")
    calls[:] = [portal.count(LIST_ACCOUNTS), portal.count(LIST_ACCOUNT_ROLES)]
    return elapsed


def interleaved(runs: int, *measures: Callable[[], float]) -> list[float]:
    """Medians of measurements taken in turn, so drift hits all alike."""
    samples: list[list[float]] = [[] for _ in measures]
    for _ in range(runs):
        for sample, measure in zip(samples, measures, strict=True):
            sample.append(measure())
    return [statistics.median(sample) for sample in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="simulated per call")
    parser.add_argument(
        "--page-size", type=int, default=100, help="accounts per ListAccounts page (max 100)"
    )
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    calls: list[int] = []
    with FakeAWS() as fake, tempfile.TemporaryDirectory() as tmp:
        isolate(Path(tmp), fake)
        one_discovery(fake, args.page_size, 0.0, 8, calls)  # warm: imports, botocore models
        base0, fast = interleaved(
            args.runs,
            lambda: statistics.median(one_call(fake, args.page_size, 0.0) for _ in range(9)),
            lambda: one_discovery(fake, args.page_size, 0.0, 8, calls),
        )
        base, sequential, concurrent = interleaved(
            args.runs,
            lambda: statistics.median(one_call(fake, args.page_size, latency) for _ in range(9)),
            lambda: one_discovery(fake, args.page_size, latency, 1, calls),
            lambda: one_discovery(fake, args.page_size, latency, 8, calls),
        )

    pages, roles = calls
    print(f"{ACCOUNTS} accounts x {ROLES} roles; {args.page_size} accounts per page;")
    print(f"median of {args.runs} runs")
    print("(one page call: ListAccounts, one page, through discovery's own client)")
    print(f"{'measurement':<50} {'median':>10} {'ratio':>8}")
    print(f"{'one page call, no latency (baseline)':<50} {base0 * 1000:8.1f}ms {1:8.1f}")
    print(f"{'discover, 8 workers, no latency':<50} {fast:9.2f}s {fast / base0:7.0f}x")
    label = f"one page call, {args.latency_ms:g} ms latency (baseline)"
    print(f"{label:<50} {base * 1000:8.1f}ms {1:8.1f}")
    print(f"{'discover, 1 worker (sequential)':<50} {sequential:9.2f}s {sequential / base:7.0f}x")
    print(f"{'discover, 8 workers':<50} {concurrent:9.2f}s {concurrent / base:7.0f}x")
    print(f"{'speed-up of 8 workers over 1':<50} {sequential / concurrent:9.1f}x")
    print(f"{'portal calls per discovery':<50} {pages + roles:>10}")
    print(f"{'  ListAccounts pages':<50} {pages:>10}")
    print(f"{'  ListAccountRoles calls':<50} {roles:>10}")


if __name__ == "__main__":
    main()

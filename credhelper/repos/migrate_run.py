"""The copies: `--jobs` skopeo processes at a time, within Docker Hub's pull limit, each
outcome in the journal as it happens.

Before a copy starts, the ledger must be able to pay for it (its cost in pulls, from the
plan). When it cannot, or a copy meets a 429, no new copy starts; those in flight finish;
then one HEAD (free) reads the allowance again. Still short: wait (`--wait`, with a
countdown) and look again, or stop and say how to resume. That same HEAD checks the tag
has not moved at its source during the wait: one that moved is planned again (journal
`replanned`), never copied blind. A copy always names its digest (`NAME@sha256:…`), so
what arrives is what was planned and compared.

The first copy into an ECR repository makes it when missing (`Repositories`); the other
copies into it wait for that, the rest go on.

Ctrl-C or SIGTERM stops the copies in flight (SIGTERM to each skopeo) and ends the run;
what finished is in the journal, so at most the copies in flight are lost.

A tag planned as TAG (its image is in ECR, or comes there with an earlier tag's copy) is
put in ECR by `Registry.tag`, costs no pull and starts even at the limit; one waiting for
a copy starts when that copy is done. The copy failed: it is copied itself. Its image
not in ECR after all (deleted meanwhile): copied too.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import Protocol

from credhelper import errors
from credhelper.repos import ratelimit
from credhelper.repos.httpclient import HttpError
from credhelper.repos.journal import Entry, Writer
from credhelper.repos.migrate import (
    COPIED,
    FAILED,
    SKIPPED,
    TAGGED,
    Outcome,
    Skopeo,
    SkopeoFailed,
    rate_limited,
)
from credhelper.repos.migrate_plan import (
    COPY,
    PRESENT,
    TAG,
    Planned,
    Sources,
    Waits,
    compare_one,
)
from credhelper.repos.migrate_repositories import Repositories
from credhelper.repos.registry_api import Registry, TooManyRequests

SIGTERM_EXIT = 128 + signal.SIGTERM
SIGINT_EXIT = 128 + signal.SIGINT
#: What a job may come back as besides a tag's results: the pull limit met (the tag goes
#: back to the front of the queue), or the image to tag not in ECR (it is copied instead).
_LIMITED = "limited"
_NOT_THERE = "not there"


class Display(Protocol):
    """What the run tells the person watching (see credhelper.cli.migrate_progress)."""

    def started(self, entry: Entry) -> None: ...

    def finished(self, entry: Entry, outcome: Outcome) -> None: ...

    def allowance(self, available: int | None, last: ratelimit.Reading | None) -> None: ...

    def waiting(self, seconds: int, why: str) -> None: ...

    def note(self, line: str) -> None: ...


@dataclass
class Stop:
    """Why the run ended before every tag was done."""

    exit_code: int
    limit: bool
    wait: int | None = None


@dataclass
class RunResult:
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    stop: Stop | None = None
    left: int = 0


class _Terminated(Exception):
    """SIGTERM arrived (raised in the main thread by the handler)."""


@dataclass(frozen=True)
class _Done:
    planned: Planned
    result: str
    digest: str = ""
    reason: str = ""


def image_of(item: Planned) -> str:
    """Why a TAG needs no copy, as its row says."""
    return f"the image of :{item.image_of}, copied once"


def outcome(
    dest_host: str, entry: Entry, result: str, *, digest: str = "", reason: str = ""
) -> Outcome:
    """The row a tag's result makes in the table and the report."""
    return Outcome(
        source=f"{entry.shown}:{entry.tag}",
        tag=entry.tag,
        destination=f"{dest_host}/{entry.repository}:{entry.tag}",
        result=result,
        digest=digest,
        reason=reason,
        source_digest=entry.digest,
    )


class Runner:
    """Copies planned tags; see the module docstring."""

    def __init__(
        self,
        *,
        skopeo: Skopeo,
        dest_host: str,
        dest: Registry,
        sources: Sources,
        writer: Writer,
        ledger: ratelimit.Ledger,
        jobs: int,
        waiter: ratelimit.Waiter | None,
        display: Display,
        repositories: Repositories | None = None,
    ) -> None:
        self.skopeo = skopeo
        self.dest_host = dest_host
        self.dest = dest
        self.sources = sources
        self.writer = writer
        self.ledger = ledger
        self.jobs = max(1, jobs)
        self.waiter = waiter
        self.display = display
        # None: the repositories are known to exist (made before the run).
        self.repositories = repositories

    def run(self, items: list[Planned]) -> RunResult:
        result = RunResult()
        queue, waiting = _queues(items)
        running: dict[Future[_Done], Planned] = {}
        limited = False
        pool = ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="copy")
        try:
            with _sigterm_raises():
                while queue or running:
                    limited = self._start(queue, running, pool, limited=limited)
                    if running:
                        finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                        for future in finished:
                            del running[future]
                            if self._record(future.result(), result, queue, waiting):
                                limited = True
                        self.display.allowance(self.ledger.available(), self.ledger.last)
                        continue
                    if limited:
                        stop = self._settle(queue, result, waiting)
                        if stop is not None:
                            result.stop = stop
                            break
                        limited = False
        except (KeyboardInterrupt, _Terminated) as signalled:
            self._interrupted(running, result)
            code = SIGTERM_EXIT if isinstance(signalled, _Terminated) else SIGINT_EXIT
            result.stop = Stop(code, limit=False)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        result.left = sum(1 for item in items if item.state in (COPY, TAG)) - sum(
            1 for o in result.outcomes.values() if o.result in (COPIED, SKIPPED, FAILED, TAGGED)
        )
        self.writer.end("stopped" if result.stop else "complete")
        return result

    def _start(
        self,
        queue: deque[Planned],
        running: dict[Future[_Done], Planned],
        pool: ThreadPoolExecutor,
        *,
        limited: bool,
    ) -> bool:
        """Start what may start: tags at the front (free) always, copies while the
        allowance pays for them. Returns whether the limit stopped a copy."""
        while queue and len(running) < self.jobs:
            item = queue[0]
            if item.state == COPY:
                if limited:
                    return True
                if not self.ledger.reserve(self._affordable(item.entry.cost)):
                    return True
            queue.popleft()
            self.display.started(item.entry)
            job = self._tag if item.state == TAG else self._copy
            running[pool.submit(job, item)] = item
        return limited

    def _interrupted(self, running: dict[Future[_Done], Planned], result: RunResult) -> None:
        """Stop the copies in flight; keep the ones that finished before the stop."""
        self.skopeo.stop_all()
        for future in running:
            future.cancel()
        finished, _ = wait(list(running))
        for future in finished:
            if not future.cancelled() and future.exception() is None:
                done = future.result()
                if done.result in (COPIED, TAGGED):
                    self._record(done, result, deque(), {})

    # -- one copy --------------------------------------------------------------------------

    def _copy(self, item: Planned) -> _Done:
        entry = item.entry
        pin = f"@{entry.digest}" if entry.digest else f":{entry.tag}"
        source = f"{entry.registry}/{entry.path}{pin}"
        dest = f"{self.dest_host}/{entry.repository}:{entry.tag}"
        try:
            if self.repositories is not None:
                self.repositories.ensure(entry.repository)
        except errors.EcrSsoError as failed:
            return _Done(item, FAILED, reason=str(failed))
        try:
            written = self.skopeo.copy(
                source, dest, source_host=entry.registry, dest_host=self.dest_host
            )
        except SkopeoFailed as failed:
            return _Done(
                item, _LIMITED if rate_limited(failed.reason) else FAILED, reason=failed.reason
            )
        if entry.digest and written and written != entry.digest:
            return _Done(
                item, FAILED, reason=f"ECR holds {written}, not the planned {entry.digest}"
            )
        return _Done(item, COPIED, digest=written or entry.digest)

    def _tag(self, item: Planned) -> _Done:
        entry = item.entry
        try:
            self.dest.tag(entry.repository, entry.digest, entry.tag)
        except HttpError as failed:
            if failed.status == 404:
                return _Done(item, _NOT_THERE, reason=failed.reason)
            return _Done(item, FAILED, reason=failed.reason)
        return _Done(item, TAGGED, digest=entry.digest, reason=image_of(item))

    def _record(
        self,
        done: _Done,
        result: RunResult,
        queue: deque[Planned],
        waiting: dict[tuple[str, str], list[Planned]],
    ) -> bool:
        """Journal and show a finished job, and start what waited for it; True when it met
        the pull limit (then it goes back to the front of the queue, unjournaled)."""
        item = done.planned
        entry = item.entry
        if done.result == _LIMITED:
            queue.appendleft(item)
            return True
        if done.result == _NOT_THERE:
            queue.append(replace(item, state=COPY, after=None))
            return False
        self.writer.done(entry, done.result, digest=done.digest, reason=done.reason)
        row = outcome(self.dest_host, entry, done.result, digest=done.digest, reason=done.reason)
        result.outcomes[entry.key] = row
        self.display.finished(entry, row)
        followers = waiting.pop(entry.key, [])
        if done.result in (COPIED, TAGGED):
            queue.extendleft(replace(f, after=None) for f in reversed(followers))
        else:  # the copy failed: each of its tags is tried as a copy of its own
            queue.extend(replace(f, state=COPY, after=None) for f in followers)
        return False

    def _affordable(self, cost: int) -> int:
        """A tag that costs more than the whole allowance is started on a full one."""
        last = self.ledger.last
        return min(cost, last.limit) if last is not None and last.limit > 0 else cost

    # -- at the limit ----------------------------------------------------------------------

    def _settle(
        self,
        queue: deque[Planned],
        result: RunResult,
        waiting: dict[tuple[str, str], list[Planned]],
    ) -> Stop | None:
        """Nothing in flight and the allowance short: look again (one HEAD), wait, or
        stop. None when copying may go on."""
        while queue:
            item = queue[0]
            if item.state == TAG:
                return None  # free: it starts whatever the allowance
            try:
                checked = self._recheck(item)
            except TooManyRequests as limited:
                seconds = limited.wait or ratelimit.refill_wait(self.ledger.last)
                if self.waiter is None:
                    return Stop(75, limit=True, wait=seconds)
                self.waiter.wait(seconds, "Docker Hub answered 429")
                continue
            if checked is not item:
                queue.popleft()
                if checked.state == COPY:
                    queue.appendleft(checked)
                else:
                    self._settled_elsewhere(checked, result)
                # Its other tags named the image it no longer is: each is copied itself.
                followers = waiting.pop(item.entry.key, [])
                queue.extend(replace(f, state=COPY, after=None) for f in followers)
                continue
            available = self.ledger.available()
            if available is None or available >= self._affordable(item.entry.cost):
                return None
            seconds = ratelimit.refill_wait(self.ledger.last)
            if self.waiter is None:
                shortfall = self._affordable(item.entry.cost) - available
                return Stop(
                    75, limit=True, wait=ratelimit.waiting_time(shortfall, self.ledger.last)
                )
            self.waiter.wait(seconds, "Docker Hub's pull limit")
        return None

    def _recheck(self, item: Planned) -> Planned:
        """The tag as its source has it now (a free HEAD, which also reads the allowance):
        `item` itself when unchanged, else planned again and journaled."""
        entry = item.entry
        registry = self.sources.registry(entry.registry)
        try:
            head = registry.head(entry.path, entry.tag if not entry.pinned else entry.digest)
        except TooManyRequests:
            raise
        except HttpError:
            return item  # the copy will say what is wrong
        if entry.pinned or not head.exists or not head.digest or head.digest == entry.digest:
            return item
        moved = replace(entry, digest="")
        again = compare_one(
            moved, sources=self.sources, dest=self.dest, waits=Waits(self.ledger, None)
        )
        self.writer.replanned(again.entry)
        return again

    def _settled_elsewhere(self, item: Planned, result: RunResult) -> None:
        """A re-planned tag that needs no copy after all: in ECR already, or broken."""
        entry = item.entry
        if item.state == PRESENT:
            self.writer.done(entry, SKIPPED, digest=item.dest_digest)
            row = outcome(self.dest_host, entry, SKIPPED, digest=item.dest_digest)
        else:
            self.writer.done(entry, FAILED, reason=item.reason)
            row = outcome(self.dest_host, entry, FAILED, reason=item.reason)
        result.outcomes[entry.key] = row
        self.display.finished(entry, row)


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM, like Ctrl-C, interrupts the main thread's wait (only the main thread may
    set a handler; elsewhere the default stays)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise _Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _queues(
    items: list[Planned],
) -> tuple[deque[Planned], dict[tuple[str, str], list[Planned]]]:
    """What to start, in order: tags whose image is in ECR (free and quick), then the
    copies in plan order; and the tags waiting for a copy, by its key."""
    queue = deque(item for item in items if item.state == TAG and item.after is None)
    queue += (item for item in items if item.state == COPY)
    waiting: dict[tuple[str, str], list[Planned]] = {}
    for item in items:
        if item.state == TAG and item.after is not None:
            waiting.setdefault(item.after, []).append(item)
    return queue, waiting

"""The ECR repositories a migration copies into: each looked up, and created when missing,
once, when a copy first needs it.

An organisation has many repositories, and each costs a call or two to ECR's API (and the
first, botocore's import). Done before the copies, they would all wait for every one; done
by the first copy into each repository, the copies start at once, and the others of that
repository wait only for their own. Thread-safe: the copies run in threads.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from credhelper.repos.ecr import Ecr, RepositoryExists


class Repositories:
    """ECR's repositories for one run (`dry_run`: looked up, never created); `say` is
    told each one made (or that would be)."""

    def __init__(self, ecr: Ecr, *, dry_run: bool, say: Callable[[str], None]) -> None:
        self.ecr = ecr
        self.dry_run = dry_run
        self.say = say
        self._lock = threading.Lock()
        self._client_lock = threading.Lock()
        self._ready: dict[str, Future[bool]] = {}
        self._warming: threading.Thread | None = None

    def warm(self) -> None:
        """Make ECR's client (botocore's import and the session, most of a second) in
        the background, once: called when the plan finds a first tag to copy, it is
        ready by the time the first copy needs its repository. A failure here is met
        again, and said, by `ensure`."""
        with self._lock:
            if self._warming is not None:
                return
            self._warming = threading.Thread(target=self._warm, name="ecr-client", daemon=True)
        self._warming.start()

    def _warm(self) -> None:
        with self._client_lock, contextlib.suppress(Exception):
            self.ecr.client  # noqa: B018 - made here so that no copy waits for it

    def ensure(self, name: str, *, tell: bool = True) -> bool:
        """Repository `name` exists (or, dry, would): True when this run made it (and,
        with `tell`, said so). The first caller for a name does the work; the others wait
        for its answer, or its error (an EcrSsoError saying why, raised to each)."""
        with self._lock:
            found = self._ready.get(name)
            mine = found is None
            if found is None:
                found = self._ready[name] = Future()
        if mine:
            try:
                made = self._make(name)
            except BaseException as failed:
                found.set_exception(failed)
                raise
            found.set_result(made)
            if made and tell:
                self._tell(name)
        return found.result()

    def ensure_all(self, names: Sequence[str], *, jobs: int) -> list[str]:
        """Every one of `names`, `jobs` at a time: those made (or that would be), said in
        order, each even when another failed; then the first failure is raised."""
        unique = list(dict.fromkeys(names))
        if not unique:
            return []
        with ThreadPoolExecutor(max_workers=min(max(jobs, 1), len(unique))) as pool:
            futures = [pool.submit(self.ensure, name, tell=False) for name in unique]
        made = []
        failure: BaseException | None = None
        for name, future in zip(unique, futures, strict=True):
            problem = future.exception()
            if problem is not None:
                failure = failure or problem
            elif future.result():
                self._tell(name)
                made.append(name)
        if failure is not None:
            raise failure
        return made

    def _make(self, name: str) -> bool:
        with self._client_lock:
            self.ecr.client  # noqa: B018 - made once, not by each thread at the same moment
        if self.ecr.exists(name):
            return False
        if not self.dry_run:
            try:
                self.ecr.create(name)
            except RepositoryExists:
                return False  # made meanwhile by someone else: there, as wanted
        return True

    def _tell(self, name: str) -> None:
        verb = "would create" if self.dry_run else "created"
        self.say(f"{verb} repository {name} in {self.ecr.target.host}")

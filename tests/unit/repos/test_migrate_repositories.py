"""The ECR repositories a migration needs: each looked up and made once, by whichever copy
needs it first (the others wait for that), several at a time; each one made said, in
order for a dry run's list, and a failure raised to every copy that needs it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from credhelper import errors
from credhelper.repos.ecr import RepositoryExists
from credhelper.repos.migrate_repositories import Repositories


@dataclass
class Target:
    host: str = "ecr.example"


@dataclass
class FakeEcr:
    """What `Repositories` asks of `Ecr`: its client, `exists` and `create`, recorded."""

    existing: set[str]
    failing: dict[str, Exception] = field(default_factory=dict)
    target: Target = field(default_factory=Target)
    looked_up: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    barrier: threading.Barrier | None = None
    hold: threading.Event | None = None

    @property
    def client(self) -> Any:
        return object()

    def exists(self, name: str) -> bool:
        with self.lock:
            self.looked_up.append(name)
        if self.barrier is not None:
            self.barrier.wait(30)
        if self.hold is not None:
            self.hold.wait(30)
        return name in self.existing

    def create(self, name: str) -> None:
        if name in self.failing:
            raise self.failing[name]
        with self.lock:
            self.created.append(name)


def test_the_missing_ones_are_made_several_at_a_time_and_said_in_order() -> None:
    ecr = FakeEcr({"b"}, barrier=threading.Barrier(3))
    said: list[str] = []
    repositories = Repositories(ecr, dry_run=False, say=said.append)

    made = repositories.ensure_all(["a", "b", "c", "a"], jobs=4)

    assert made == ["a", "c"]
    assert sorted(ecr.created) == ["a", "c"]
    assert said == ["created repository a in ecr.example", "created repository c in ecr.example"]
    assert sorted(ecr.looked_up) == ["a", "b", "c"]  # each once; together (the barrier)


def test_a_dry_run_names_them_and_makes_none() -> None:
    ecr = FakeEcr(set())
    said: list[str] = []
    repositories = Repositories(ecr, dry_run=True, say=said.append)

    assert repositories.ensure_all(["a", "b"], jobs=1) == ["a", "b"]
    assert ecr.created == []
    assert said == [
        "would create repository a in ecr.example",
        "would create repository b in ecr.example",
    ]


def test_copies_into_one_repository_at_once_make_it_once() -> None:
    hold = threading.Event()
    ecr = FakeEcr(set(), hold=hold)
    said: list[str] = []
    repositories = Repositories(ecr, dry_run=False, say=said.append)
    answers: list[bool] = []
    copies = [
        threading.Thread(target=lambda: answers.append(repositories.ensure("app")))
        for _ in range(4)
    ]
    for copy in copies:
        copy.start()
    hold.set()
    for copy in copies:
        copy.join(30)

    assert ecr.looked_up == ["app"]
    assert ecr.created == ["app"]
    assert answers == [True] * 4  # made by this run, by one of them, for all
    assert said == ["created repository app in ecr.example"]


def test_one_made_meanwhile_is_fine_one_refused_is_raised_to_each_copy_that_needs_it() -> None:
    refused = errors.EcrSsoError("not allowed to create b")
    ecr = FakeEcr(set(), failing={"a": RepositoryExists("a exists"), "b": refused})
    said: list[str] = []
    repositories = Repositories(ecr, dry_run=False, say=said.append)

    with pytest.raises(errors.EcrSsoError) as raised:
        repositories.ensure_all(["a", "b", "c"], jobs=2)

    assert raised.value is refused
    assert said == ["created repository c in ecr.example"]
    with pytest.raises(errors.EcrSsoError, match="not allowed to create b"):
        repositories.ensure("b")  # the next copy into it is told the same
    assert ecr.looked_up.count("b") == 1


class SlowClientEcr(FakeEcr):
    """An `Ecr` whose client is made once per `client_made` event, each making counted,
    the first one failing when `fail_first` (as a sign-in that is not ready would)."""

    def __init__(self, *, fail_first: bool = False) -> None:
        super().__init__(set())
        self.fail_first = fail_first
        self.makings = 0
        self._made: object | None = None

    @property
    def client(self) -> Any:
        if self._made is None:
            self.makings += 1
            if self.fail_first and self.makings == 1:
                raise errors.EcrSsoError("not signed in")
            self._made = object()
        return self._made


def test_warm_makes_the_client_once_in_the_background_and_ensure_uses_it() -> None:
    ecr = SlowClientEcr()
    repositories = Repositories(ecr, dry_run=False, say=lambda line: None)
    repositories.warm()
    repositories.warm()  # the plan calls it for each tag to copy: one warm-up only
    assert repositories._warming is not None
    repositories._warming.join(30)
    assert ecr.makings == 1
    assert repositories.ensure("a") is True
    assert ecr.makings == 1
    assert ecr.created == ["a"]


def test_a_warm_up_that_failed_is_tried_again_and_said_by_ensure() -> None:
    ecr = SlowClientEcr(fail_first=True)
    repositories = Repositories(ecr, dry_run=False, say=lambda line: None)
    repositories.warm()
    assert repositories._warming is not None
    repositories._warming.join(30)
    assert ecr.makings == 1
    assert repositories.ensure("a") is True  # made again, this time signed in
    assert ecr.makings == 2

"""The ECR repositories a migration needs: checked and created several at a time, each
one made said in plan order, a failure raised after the others are said."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from credhelper import errors
from credhelper.repos import migrate_session
from credhelper.repos.ecr import RepositoryExists
from credhelper.repos.journal import Entry
from credhelper.repos.migrate_plan import COPY, PRESENT, Plan, Planned


@dataclass
class Target:
    host: str = "ecr.example"


@dataclass
class FakeEcr:
    """What create_repositories asks of `Ecr`: `exists` and `create`, recorded."""

    existing: set[str]
    failing: dict[str, Exception] = field(default_factory=dict)
    target: Target = field(default_factory=Target)
    created: list[str] = field(default_factory=list)
    at_once: int = 0
    most_at_once: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    barrier: threading.Barrier | None = None

    @property
    def client(self) -> Any:
        return object()

    def exists(self, name: str) -> bool:
        with self.lock:
            self.at_once += 1
            self.most_at_once = max(self.most_at_once, self.at_once)
        try:
            if self.barrier is not None:
                self.barrier.wait(30)
            return name in self.existing
        finally:
            with self.lock:
                self.at_once -= 1

    def create(self, name: str) -> None:
        if name in self.failing:
            raise self.failing[name]
        with self.lock:
            self.created.append(name)


def plan(*names: str, present: str = "") -> Plan:
    items = [Planned(Entry(f"org/{n}", "docker.io", f"org/{n}", "1", n), COPY) for n in names] + [
        Planned(Entry(f"org/{n}", "docker.io", f"org/{n}", "2", n), COPY) for n in names
    ]
    if present:
        items.append(
            Planned(Entry(f"org/{present}", "docker.io", f"org/{present}", "1", present), PRESENT)
        )
    return Plan(items, [])


def test_only_the_missing_ones_are_made_each_once_several_at_a_time() -> None:
    ecr = FakeEcr({"b"}, barrier=threading.Barrier(3))
    said: list[str] = []

    made = migrate_session.create_repositories(
        plan("a", "b", "c", present="d"),
        ecr,
        dry_run=False,
        say=said.append,
        jobs=4,
    )

    assert made == ["a", "c"]
    assert sorted(ecr.created) == ["a", "c"]
    assert said == ["created repository a in ecr.example", "created repository c in ecr.example"]
    assert ecr.most_at_once == 3  # all three looked at together (the barrier needs three)


def test_a_dry_run_names_them_and_makes_none() -> None:
    ecr = FakeEcr(set())
    said: list[str] = []

    made = migrate_session.create_repositories(
        plan("a", "b"),
        ecr,
        dry_run=True,
        say=said.append,
        jobs=1,
    )

    assert made == ["a", "b"]
    assert ecr.created == []
    assert said == [
        "would create repository a in ecr.example",
        "would create repository b in ecr.example",
    ]


def test_one_made_meanwhile_is_fine_one_refused_is_raised_after_the_rest_are_said() -> None:
    refused = errors.EcrSsoError("not allowed to create b")
    ecr = FakeEcr(set(), failing={"a": RepositoryExists("a exists"), "b": refused})
    said: list[str] = []

    with pytest.raises(errors.EcrSsoError) as raised:
        migrate_session.create_repositories(
            plan("a", "b", "c"),
            ecr,
            dry_run=False,
            say=said.append,
            jobs=2,
        )

    assert raised.value is refused
    assert said == ["created repository c in ecr.example"]

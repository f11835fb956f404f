"""Tags of one image copied once: the plan (`share_copies`, pure) and the run (`Runner`
over small fakes of skopeo, ECR's registry API and the journal): a second tag is put in
ECR after its copy, for free; if the copy fails, or the image is not in ECR after all, it
is copied itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credhelper.repos import ratelimit
from credhelper.repos.httpclient import HttpError
from credhelper.repos.journal import Entry
from credhelper.repos.migrate import SkopeoFailed
from credhelper.repos.migrate_plan import BROKEN, COPY, PRESENT, TAG, Planned, share_copies
from credhelper.repos.migrate_run import Runner

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64


def entry(repo: str, tag: str, digest: str) -> Entry:
    return Entry(f"org/{repo}", "docker.io", f"org/{repo}", tag, repo, digest=digest, cost=3)


def planned(repo: str, tag: str, digest: str, state: str = COPY) -> Planned:
    return Planned(entry(repo, tag, digest), state, dest_digest=digest if state == PRESENT else "")


def test_the_first_copy_of_an_image_stays_a_copy_the_others_wait_for_it() -> None:
    items = [
        planned("app", "1.0", A),
        planned("app", "latest", A),
        planned("app", "2.0", B),
        planned("other", "1.0", A),  # another repository: its own copy
        planned("app", "edge", B),
    ]

    shared = share_copies(items)

    assert [(i.entry.tag, i.state, i.image_of, i.after) for i in shared] == [
        ("1.0", COPY, "", None),
        ("latest", TAG, "1.0", ("org/app", "1.0")),
        ("2.0", COPY, "", None),
        ("1.0", COPY, "", None),
        ("edge", TAG, "2.0", ("org/app", "2.0")),
    ]


def test_an_image_ecr_holds_already_is_tagged_at_once() -> None:
    items = [
        planned("app", "1.0", A, PRESENT),
        planned("app", "latest", A),
        planned("app", "2.0", "", COPY),  # no digest known: nothing to share
        Planned(entry("app", "x", A), BROKEN, reason="not found"),
    ]

    shared = share_copies(items)

    assert [(i.entry.tag, i.state, i.image_of, i.after) for i in shared] == [
        ("1.0", PRESENT, "", None),
        ("latest", TAG, "1.0", None),
        ("2.0", COPY, "", None),
        ("x", BROKEN, "", None),
    ]


@dataclass
class FakeSkopeo:
    failing: set[str] = field(default_factory=set)
    copies: list[str] = field(default_factory=list)

    def copy(self, source: str, dest: str, **hosts: Any) -> str:
        self.copies.append(dest)
        if dest in self.failing:
            raise SkopeoFailed("manifest unknown")
        return source.rpartition("@")[2]

    def stop_all(self) -> None:
        return


@dataclass
class FakeDest:
    """ECR's registry API: tags an image, unless it is gone."""

    gone: set[str] = field(default_factory=set)
    tagged: list[str] = field(default_factory=list)

    def tag(self, path: str, digest: str, tag: str) -> None:
        if f"{path}:{tag}" in self.gone:
            raise HttpError(f"ecr/{path}@{digest}: 404 Not Found", 404)
        self.tagged.append(f"{path}:{tag}")


class Writer:
    def __init__(self) -> None:
        self.records: list[tuple[str, str]] = []

    def done(self, entry: Entry, result: str, *, digest: str = "", reason: str = "") -> None:
        self.records.append((f"{entry.repository}:{entry.tag}", result))

    def replanned(self, entry: Entry) -> None:
        raise AssertionError("nothing moves here")

    def end(self, status: str) -> None:
        self.records.append(("end", status))


class Display:
    def started(self, entry: Entry) -> None:
        return

    def finished(self, entry: Entry, outcome: Any) -> None:
        return

    def allowance(self, available: int | None, last: Any) -> None:
        return

    def waiting(self, seconds: int, why: str) -> None:
        return


def run(items: list[Planned], skopeo: FakeSkopeo, dest: FakeDest, jobs: int = 1) -> Writer:
    writer = Writer()
    runner = Runner(
        skopeo=skopeo,
        dest_host="ecr",
        dest=dest,
        sources=None,
        writer=writer,
        ledger=ratelimit.Ledger(),
        jobs=jobs,
        waiter=None,
        display=Display(),
    )
    result = runner.run(share_copies(items))
    assert result.stop is None
    assert result.left == 0
    return writer


def test_a_second_tag_is_put_in_ecr_after_its_copy_without_a_copy_of_its_own() -> None:
    skopeo = FakeSkopeo()
    dest = FakeDest()

    writer = run(
        [planned("app", "1.0", A), planned("app", "latest", A), planned("app", "2.0", B)],
        skopeo,
        dest,
    )

    assert skopeo.copies == ["ecr/app:1.0", "ecr/app:2.0"]
    assert dest.tagged == ["app:latest"]
    assert writer.records == [
        ("app:1.0", "copied"),
        ("app:latest", "tagged"),  # next after its copy, before the other copies
        ("app:2.0", "copied"),
        ("end", "complete"),
    ]


def test_when_the_copy_fails_its_other_tag_is_copied_itself() -> None:
    skopeo = FakeSkopeo(failing={"ecr/app:1.0"})
    dest = FakeDest()

    writer = run([planned("app", "1.0", A), planned("app", "latest", A)], skopeo, dest)

    assert skopeo.copies == ["ecr/app:1.0", "ecr/app:latest"]
    assert dest.tagged == []
    assert writer.records == [
        ("app:1.0", "failed"),
        ("app:latest", "copied"),
        ("end", "complete"),
    ]


def test_an_image_gone_from_ecr_since_the_plan_is_copied_instead() -> None:
    skopeo = FakeSkopeo()
    dest = FakeDest(gone={"app:latest"})

    writer = run(
        [planned("app", "1.0", A, PRESENT), planned("app", "latest", A)], skopeo, dest, jobs=2
    )

    assert skopeo.copies == ["ecr/app:latest"]
    assert writer.records == [("app:latest", "copied"), ("end", "complete")]

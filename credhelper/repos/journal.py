"""The migration journal: the plan and each tag's outcome, written as it happens, so a
run stopped by the pull limit, Ctrl-C, SIGTERM or `kill -9` loses at most the copies in
flight, and `migrate --resume` carries on from the last run's plan.

One file, `migrate/journal.jsonl` in our private state folder: JSON lines, appended one
whole line per `write` and flushed to disk before the next tag is reported (a line cut
short by a crash can only be the last one, and is ignored). Reading trusts nothing: the
folder and file must be ours and private (`credhelper.private`), the size is bounded, and
every value is checked again before it names an image or a command argument.

One migration at a time: the run holds `migrate/lock` (flock, released by the kernel
however the run ends); a second run at the same moment stops with a clear line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from credhelper import atomic, errors, flock, private
from credhelper.repos import imageref

FOLDER = "migrate"
NAME = "journal.jsonl"
LOCK = "lock"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024

PLAN = "plan"
DONE = "done"
REPLANNED = "replanned"
END = "end"

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_NAME = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]{1,5})?")


class JournalError(errors.ConfigError):
    """The journal cannot be used (damaged, not ours, another run holds it)."""


@dataclass(frozen=True)
class Entry:
    """One planned tag: where it comes from (`registry` host as skopeo names it, `path`
    there, `shown` as the user reads it), where it goes (`repository` in ECR), the digest
    planned and what copying it costs in Docker Hub pulls."""

    shown: str
    registry: str
    path: str
    tag: str
    repository: str
    digest: str = ""
    cost: int = 1
    size: int | None = None
    docker_hub: bool = False
    pinned: bool = False  # the user named the digest (NAME:TAG@DIGEST): it never moves

    @property
    def key(self) -> tuple[str, str]:
        return (self.shown, self.tag)


@dataclass(frozen=True)
class Header:
    """What the run was: its destination and how it chose its tags."""

    destination: str
    profile: str | None
    started: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass
class Loaded:
    """A journal read back: the plan, the latest outcome of each tag, whether it ended."""

    header: Header
    entries: list[Entry]
    outcomes: dict[tuple[str, str], dict[str, Any]]
    ended: str | None


def folder(state_dir: str) -> str:
    """Our private `migrate` folder, created when missing."""
    try:
        return atomic.ensure_private_dir(state_dir, FOLDER)
    except private.NotPrivate as err:
        raise JournalError(str(err)) from None


@contextlib.contextmanager
def locked(state_dir: str) -> Iterator[str]:
    """Hold the migration lock for the block; JournalError at once when another run does."""
    where = folder(state_dir)
    path = os.path.join(where, LOCK)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)

    def busy() -> JournalError:
        return JournalError(
            f"another ecr-sso migrate is running (it holds {path}); wait for it to finish"
        )

    try:
        with flock.held(fd, timeout=0, busy=busy):
            yield where
    finally:
        os.close(fd)


class Writer:
    """Appends to the journal; each record reaches the disk before `write` returns."""

    def __init__(self, path: str, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def start(cls, where: str, header: Header, entries: list[Entry]) -> Writer:
        """A fresh journal holding the plan (the last one is replaced, atomically)."""
        path = os.path.join(where, NAME)
        first = _line(
            {
                "kind": PLAN,
                "version": VERSION,
                **asdict(header),
                "entries": [asdict(e) for e in entries],
            }
        )
        atomic.write_bytes(path, first, mode=0o600)
        return cls.reopen(where)

    @classmethod
    def reopen(cls, where: str) -> Writer:
        """The existing journal, to carry on appending to."""
        path = os.path.join(where, NAME)
        flags = (
            os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        )
        try:
            fd = os.open(path, flags)
        except OSError as err:
            raise JournalError(f"cannot write the journal {path}: {err.strerror}") from None
        return cls(path, fd)

    def done(self, entry: Entry, result: str, *, digest: str = "", reason: str = "") -> None:
        self._append(
            {
                "kind": DONE,
                "shown": entry.shown,
                "tag": entry.tag,
                "result": result,
                "digest": digest,
                "reason": reason,
            }
        )

    def replanned(self, entry: Entry) -> None:
        """The tag moved at its source since it was planned: from now on, `entry`."""
        self._append({"kind": REPLANNED, "entry": asdict(entry)})

    def end(self, status: str) -> None:
        self._append({"kind": END, "status": status, "at": now()})

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)

    def _append(self, record: dict[str, Any]) -> None:
        data = _line(record)
        written = os.write(self._fd, data)
        if written != len(data):  # a full disk: say so rather than leave half a line
            raise JournalError(f"cannot write the journal {self.path}: the disk is full")
        os.fsync(self._fd)


def load(state_dir: str) -> Loaded | None:
    """The last journal, checked; None when there is none. JournalError when it exists but
    cannot be trusted or read."""
    where = os.path.join(state_dir, FOLDER)
    path = os.path.join(where, NAME)
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as err:
        raise JournalError(f"cannot read the journal {path}: {err.strerror}") from None
    data = private.read(state_dir, FOLDER, NAME, limit=MAX_BYTES)
    if data is None:
        raise JournalError(
            f"the journal {path} is not a private file of yours (or is larger than"
            f" {MAX_BYTES // (1024 * 1024)} MiB); not used: delete it to start afresh"
        )
    return parse(data, path)


def parse(data: bytes, path: str) -> Loaded:
    """A journal's bytes, checked line by line (see `load`)."""
    lines = data.split(b"\n")
    if lines and lines[-1] != b"":
        lines = lines[:-1]  # the last line was cut short by a crash: it never happened
    records = []
    for number, raw in enumerate(lines, start=1):
        if not raw:
            continue
        try:
            record = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than it parses
            raise _damaged(path, number) from None
        if not isinstance(record, dict):
            raise _damaged(path, number)
        records.append((number, record))
    if not records or records[0][1].get("kind") != PLAN:
        raise _damaged(path, 1)
    number, first = records[0]
    if first.get("version") != VERSION:
        raise JournalError(f"the journal {path} is from another version of ecr-sso; start afresh")
    try:
        header = Header(
            destination=_text(first["destination"], _HOST),
            profile=_optional_text(first.get("profile")),
            started=str(first.get("started", "")),
            arguments=dict(first.get("arguments") or {}),
        )
        entries = [_entry(item) for item in first["entries"]]
    except (KeyError, TypeError, ValueError, errors.UsageError):
        raise _damaged(path, number) from None
    loaded = Loaded(header, entries, {}, None)
    for number, record in records[1:]:
        try:
            _apply(loaded, record)
        except (KeyError, TypeError, ValueError, errors.UsageError):
            raise _damaged(path, number) from None
    return loaded


def _apply(loaded: Loaded, record: dict[str, Any]) -> None:
    """One record after the plan; ValueError (or kin) when it does not fit the plan."""
    by_key = {entry.key: index for index, entry in enumerate(loaded.entries)}
    kind = record.get("kind")
    if kind == DONE:
        key = (str(record["shown"]), str(record["tag"]))
        digest = str(record.get("digest") or "")
        if (
            key not in by_key
            or record.get("result") not in ("copied", "skipped", "failed", "tagged")
            or (digest and _DIGEST.fullmatch(digest) is None)
        ):
            raise ValueError(key)
        loaded.outcomes[key] = {
            "result": record["result"],
            "digest": digest,
            "reason": str(record.get("reason") or ""),
        }
    elif kind == REPLANNED:
        entry = _entry(record["entry"])
        loaded.entries[by_key[entry.key]] = entry
        loaded.outcomes.pop(entry.key, None)
    elif kind == END:
        loaded.ended = str(record.get("status") or "")
    else:
        raise ValueError(kind)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(item: Any) -> Entry:
    if not isinstance(item, dict):
        raise TypeError
    digest = str(item.get("digest") or "")
    if digest and _DIGEST.fullmatch(digest) is None:
        raise ValueError
    cost = item.get("cost", 1)
    size = item.get("size")
    if not isinstance(cost, int) or not 0 <= cost <= 10_000:
        raise ValueError
    if size is not None and (not isinstance(size, int) or size < 0):
        raise ValueError
    registry = _text(item["registry"], _HOST)
    path = _text(item["path"], _NAME)
    shown = str(item["shown"])
    ref = imageref.parse(shown)  # UsageError is a ValueError's cousin: caught below
    if (
        ref.tag
        or ref.digest
        or not (shown == path or shown.endswith("/" + path) or path.endswith("/" + shown))
    ):
        raise ValueError
    return Entry(
        shown=shown,
        registry=registry,
        path=path,
        tag=_text(item["tag"], _TAG),
        repository=_text(item["repository"], _NAME),
        digest=digest,
        cost=cost,
        size=size,
        docker_hub=item.get("docker_hub") is True,
        pinned=item.get("pinned") is True and bool(digest),
    )


def _text(value: Any, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise ValueError
    return value


def _optional_text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value or any(c.isspace() or c in "\\\"'" for c in value):
        raise ValueError
    return value


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _damaged(path: str, number: int) -> JournalError:
    return JournalError(
        f"the journal {path} is damaged at line {number}; not used: run without --resume"
        " to start afresh (what is already in ECR is not copied again)"
    )

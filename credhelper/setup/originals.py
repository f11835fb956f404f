"""What the files setup edits held before setup first changed them, so that teardown can
give them back exactly: a file setup created is deleted, a file that existed gets its
pre-setup bytes back, as long as nobody has changed it since setup last wrote it (then
teardown removes only our entries, and says so).

Kept in our state folder (`setup/record.json`, and a copy of each original beside it),
never in the user's files. The record also lists the backups setup made (removed once the
file they back up is given back) and the folders that did not exist before the first
setup (removed at teardown when empty). An unreadable record is treated as absent:
teardown then falls back to removing our entries, which is always safe.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace

from credhelper import atomic
from credhelper.paths import Paths
from credhelper.setup.apply import digest
from credhelper.setup.plan import FileChange, Plan

log = logging.getLogger(__name__)

FOLDER = "setup"
RECORD = "record.json"


@dataclass
class FileRecord:
    """One file: whether it existed before the first setup (and the name of the copy of
    its bytes then), the digest of what setup last wrote, whether nobody else has written
    it between setups, and the backups setup made of it."""

    existed: bool
    original: str | None
    written: str
    pristine: bool = True
    backups: list[str] = field(default_factory=list)
    #: Docker's `auths` entries `--clean-auths` removed: taken out of the original and
    #: the backups too, so teardown does not bring their passwords back.
    forgot: list[str] = field(default_factory=list)


@dataclass
class Record:
    """Every file setup changed, by path, and the folders absent before the first setup."""

    files: dict[str, FileRecord] = field(default_factory=dict)
    absent_folders: list[str] = field(default_factory=list)


def folder(paths: Paths) -> str:
    """Where the record and the copies are."""
    return os.path.join(paths.state_dir, FOLDER)


def load(paths: Paths) -> Record:
    """The record (empty when there is none, or it cannot be read)."""
    path = os.path.join(folder(paths), RECORD)
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
        return Record(
            files={name: FileRecord(**entry) for name, entry in raw["files"].items()},
            absent_folders=[str(f) for f in raw["absent_folders"]],
        )
    except FileNotFoundError:
        return Record()
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("ignoring the setup record %s: %s", path, err)
        return Record()


def save(paths: Paths, record: Record) -> None:
    """Write the record atomically (0600, folder 0700)."""
    where = atomic.ensure_private_dir(paths.state_dir, FOLDER)
    data = json.dumps(asdict(record), indent=2, sort_keys=True) + "\n"
    atomic.write_bytes(os.path.join(where, RECORD), data.encode(), mode=0o600)


def absent_folders(paths: Paths, files: Iterable[str]) -> list[str]:
    """The folders setup or a sign-in may create that do not exist now: each file's
    folder and the SSO token cache folder, with their parents up to the home folder."""
    home = os.path.abspath(paths.home)
    found: list[str] = []
    for start in [*(os.path.dirname(os.path.abspath(f)) for f in files), paths.sso_cache_dir]:
        current = os.path.abspath(start)
        while current.startswith(home + os.sep) and not os.path.isdir(current):
            if current not in found:
                found.append(current)
            current = os.path.dirname(current)
    return found


@dataclass(frozen=True)
class Done:
    """One file written by setup: its path, its bytes before and after (None: absent), the
    backup made of it and the folders created for it."""

    path: str
    old: bytes | None
    new: bytes | None
    backup: str | None
    #: Docker's `auths` entries this run removed for their passwords (`--clean-auths`).
    forget: tuple[str, ...] = ()


def note_setup(paths: Paths, done: Sequence[Done], absent: Sequence[str]) -> None:
    """Add what a setup run wrote to the record: the first time a file is written, a copy
    of what it held; every time, the digest of what it holds now and its new backup. The
    passwords a run removed (`Done.forget`) are taken out of every copy and backup."""
    if not done:
        return
    record = load(paths)
    where = atomic.ensure_private_dir(paths.state_dir, FOLDER)
    for item in done:
        entry = record.files.get(item.path)
        if entry is None:
            entry = _first_record(where, len(record.files), item)
            record.files[item.path] = entry
        else:
            if entry.written != digest(item.old):
                # Someone wrote the file between two setups: its original no longer tells
                # the whole story, so teardown will only remove our entries.
                entry.pristine = False
            if item.forget:
                _forget_in_copies(paths, entry, item)
        if item.forget:
            entry.forgot = sorted({*entry.forgot, *item.forget})
        entry.written = digest(item.new)
        if item.backup is not None:
            entry.backups.append(item.backup)
    for path in absent:
        if path not in record.absent_folders:
            record.absent_folders.append(path)
    save(paths, record)


def _first_record(where: str, number: int, item: Done) -> FileRecord:
    """The record of a file setup writes for the first time, with a copy of what it held
    (without the passwords this run removed)."""
    copy = None
    kept = None if item.old is None else _without(item, item.old)
    if kept is not None:
        copy = f"original-{number}-{digest(item.path.encode())[:12]}"
        atomic.write_bytes(os.path.join(where, copy), kept, mode=0o600)
    return FileRecord(existed=item.old is not None, original=copy, written="")


def _without(item: Done, data: bytes) -> bytes | None:
    if not item.forget:
        return data
    from credhelper.setup.docker_config import without_auths

    return without_auths(item.path, data, item.forget)


def _forget_in_copies(paths: Paths, entry: FileRecord, item: Done) -> None:
    """Take `item.forget` out of the copy of the original and of every earlier backup
    (setup made them before the entries were removed); one that cannot be read as
    Docker's config is deleted rather than kept with a password in it."""
    copies = [os.path.join(folder(paths), entry.original)] if entry.original else []
    for path in [*copies, *entry.backups]:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            continue
        kept = _without(item, data)
        if kept == data:
            continue
        if kept is None:
            os.unlink(path)
            if path in copies:
                entry.original, entry.pristine = None, False
            continue
        atomic.write_bytes(path, kept)


@dataclass(frozen=True)
class Outcome:
    """How teardown treated one file setup had written."""

    path: str
    restored: bool
    #: True: deleted because setup created it; False: given its earlier bytes back.
    deleted: bool = False
    #: Docker's `auths` entries not given back: `--clean-auths` removed them.
    forgot: tuple[str, ...] = ()


def restore(plan: Plan, paths: Paths, record: Record) -> tuple[Plan, list[Outcome]]:
    """Teardown's `plan` with each file that nobody changed since setup wrote it given
    back as it was before the first setup (deleted if setup created it); the others keep
    the plan's entry removal. Pure but for reading the copies of the originals."""
    outcomes: list[Outcome] = []
    files: list[FileChange] = []
    for change in plan.files:
        entry = record.files.get(change.path)
        if entry is None:
            files.append(change)
            continue
        if not entry.pristine or digest(change.old) != entry.written:
            outcomes.append(Outcome(change.path, restored=False))
            files.append(change)
            continue
        if not entry.existed:
            outcomes.append(Outcome(change.path, restored=True, deleted=True))
            files.append(replace(change, new=None, remove=True))
            continue
        original = _read_copy(paths, entry.original)
        if original is None:
            outcomes.append(Outcome(change.path, restored=False))
            files.append(change)
            continue
        outcomes.append(Outcome(change.path, restored=True, forgot=tuple(entry.forgot)))
        files.append(replace(change, new=original, remove=False))
    return replace(plan, files=files), outcomes


def _read_copy(paths: Paths, name: str | None) -> bytes | None:
    if name is None:
        return None
    try:
        with open(os.path.join(folder(paths), name), "rb") as handle:
            return handle.read()
    except OSError:
        return None


@dataclass
class Cleanup:
    """What finishing a teardown removed and kept, for its report."""

    removed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)


def finish(
    paths: Paths, record: Record, outcomes: Sequence[Outcome], new_backups: dict[str, str]
) -> Cleanup:
    """After a teardown was written: remove the backups of each file given back (setup's
    and the one teardown just made), keep and list the others; remove the folders that
    were absent before the first setup, when empty; forget the record."""
    cleanup = Cleanup()
    for outcome in outcomes:
        entry = record.files[outcome.path]
        backups = [
            *entry.backups,
            *([new_backups[outcome.path]] if outcome.path in new_backups else []),
        ]
        for backup in backups:
            if not os.path.lexists(backup):
                continue
            if outcome.restored:
                with contextlib.suppress(OSError):
                    os.unlink(backup)
                    cleanup.removed.append(backup)
            else:
                why = f"an earlier version of {outcome.path}, which was changed after setup"
                cleanup.kept.append((backup, why))
    for path in sorted(record.absent_folders, key=len, reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(path)
            cleanup.removed.append(path)
    shutil.rmtree(folder(paths), ignore_errors=True)
    return cleanup

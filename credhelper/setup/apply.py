"""Write a plan: the one place that changes the files setup and teardown edit, all of
them or none.

1. Every file is checked to still hold the bytes the plan was made from (a prompt may
   have waited a long time), and to be writable: its folder writable, the file not
   read-only, not immutable, not another user's. If one is not, nothing is written and
   `NotWritable` (exit 4) says which and why.
2. Each file's previous bytes are saved beside it (`NAME.bak-YYYYmmddTHHMMSSZ`, a `-N`
   suffix when taken: names are unique per run), with its mode; then each new content is
   written to a temporary file in the same folder, with the file's mode and owner.
3. Only then are the temporary files renamed over the files, in the plan's order. If a
   rename fails, the files already renamed get their previous bytes back, so the files
   are all old or all new. The renames are noted in a journal first: a run killed between
   two renames is undone by the next one (`recover`).

A file reached through a symlink is written where the link points, the link kept.
Callers hold `credhelper.editlock` around reading, planning and applying.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone

from credhelper import atomic
from credhelper.errors import EcrSsoError, NotWritable, os_reason
from credhelper.setup.plan import FileChange, Plan

#: Owners are kept where files have them (not on Windows).
_POSIX = hasattr(os, "geteuid")


@dataclass(frozen=True)
class Written:
    """A file written (or removed): its bytes before and after (None: absent), and where
    its previous version was saved (None: it was new, or removed)."""

    label: str
    path: str
    backup: str | None
    old: bytes | None
    new: bytes | None
    #: `FileChange.forget`: entries no copy of the file may keep.
    forget: tuple[str, ...] = ()


@dataclass
class _Target:
    change: FileChange
    path: str  # the real path: through a symlink, the file it points to
    mode: int = 0o600
    owner: tuple[int, int] | None = None
    backup: str | None = None
    temp: str | None = None
    created_dirs: list[str] = field(default_factory=list)


#: The journal's name in our state folder.
JOURNAL = "transaction.json"


def apply(plan: Plan, *, journal: str | None = None, now: datetime | None = None) -> list[Written]:
    """Write every changed file of `plan` (see the module docstring); return what was
    written, in order. With `journal`, the renames are noted there first, so that
    `recover` can undo a run killed between two renames."""
    moment = now or datetime.now(timezone.utc)
    targets = [
        _Target(change, os.path.realpath(change.path)) for change in plan.files if change.changed
    ]
    for target in targets:
        if _current_bytes(target.change.path) != target.change.old:
            raise EcrSsoError(
                f"{target.change.path} was changed by something else while ecr-sso was"
                " working, so nothing was written. Run the command again"
            )
    problems = [
        f"{target.change.path}: {reason}"
        for target in targets
        if (reason := why_not_writable(target.path, remove=target.change.remove))
    ]
    if problems:
        raise NotWritable(f"cannot write {'; '.join(problems)}. Nothing was written")
    try:
        for target in targets:
            _prepare(target, moment)
    except OSError as err:
        _discard(targets)
        raise NotWritable(
            f"cannot write {err.filename or 'a temporary file'}: {os_reason(err, err.filename)}."
            " Nothing was written"
        ) from None
    except BaseException:
        _discard(targets)
        raise
    if journal is not None:
        try:
            _write_journal(journal, targets)
        except OSError as err:
            _discard(targets)
            raise NotWritable(
                f"cannot write {journal}: {os_reason(err, journal)}. Nothing was written"
            ) from None
    try:
        _commit(targets)
    finally:  # not reached when killed: then `recover` finds the journal
        if journal is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(journal)
    return [
        Written(
            label=t.change.label,
            path=t.change.path,
            backup=t.backup,
            old=t.change.old,
            new=None if t.change.remove else t.change.new,
            forget=t.change.forget,
        )
        for t in targets
    ]


def _prepare(target: _Target, moment: datetime) -> None:
    """The backup and the temporary file of one target."""
    change = target.change
    if change.old is not None:
        info = os.stat(target.path)
        target.mode = info.st_mode & 0o7777
        if _POSIX and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
            target.owner = (info.st_uid, info.st_gid)
        kept = change.kept(change.old)
        if kept is None:  # cannot be: the plan was made from these bytes
            raise EcrSsoError(f"{change.path}: cannot back it up without the logins it removes")
        target.backup = write_backup(target.path, kept, target.mode, moment)
    else:
        target.created_dirs = atomic.make_dirs(os.path.dirname(target.path))
    if change.new is not None and not change.remove:
        target.temp = atomic.write_temp(
            target.path, change.new, mode=target.mode, owner=target.owner
        )


def _commit(targets: list[_Target]) -> None:
    """Rename every temporary file over its file (or remove the file); on a failure,
    give the files already done their previous bytes back."""
    done: list[_Target] = []
    for target in targets:
        failure = _commit_one(target)
        if failure is not None:
            restored = _roll_back(done)
            _discard(targets)
            raise type(failure)(f"{failure}; {restored}. Run the command again")
        done.append(target)


def _commit_one(target: _Target) -> EcrSsoError | None:
    """Rename one temporary file over its file (or remove the file); the error that
    stopped it, if any."""
    path = target.change.path
    try:
        if _current_bytes(path) != target.change.old:
            return EcrSsoError(f"{path} was changed by something else while ecr-sso was working")
        if target.change.remove:
            os.unlink(target.path)
        else:
            assert target.temp is not None  # noqa: S101 - `_prepare` wrote it
            os.replace(target.temp, target.path)
            target.temp = None
    except OSError as err:
        return NotWritable(f"cannot write {path}: {os_reason(err, path)}")
    atomic.fsync_dir(os.path.dirname(target.path))
    return None


def _roll_back(done: list[_Target]) -> str:
    """Put back the previous bytes of the files in `done`; say how it went."""
    failed = []
    for target in reversed(done):
        change = target.change
        try:
            if change.old is None:
                os.unlink(target.path)
            else:
                temp = atomic.write_temp(
                    target.path, change.old, mode=target.mode, owner=target.owner
                )
                os.replace(temp, target.path)
        except OSError:
            failed.append(target.change.path)
    if failed:
        return (
            f"could not put back {', '.join(failed)}: its previous version is in the"
            " .bak- file beside it"
        )
    return "nothing was changed" if not done else "the files written before it were put back"


def _discard(targets: list[_Target]) -> None:
    """Remove what `_prepare` made for a run that does not go ahead."""
    for target in targets:
        for path in (target.temp, target.backup):
            if path is not None:
                with contextlib.suppress(OSError):
                    os.unlink(path)
        target.temp = target.backup = None
        for folder in reversed(target.created_dirs):
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        target.created_dirs = []


# -- the journal: undoing a run killed between two renames ----------------------------------


def _write_journal(journal: str, targets: list[_Target]) -> None:
    entries = [
        {
            "path": t.path,
            "backup": t.backup,
            "temp": t.temp,
            "old": digest(t.change.old),
            "new": digest(None if t.change.remove else t.change.new),
            "folders": t.created_dirs,
        }
        for t in targets
    ]
    atomic.ensure_private_dir(os.path.dirname(journal))
    atomic.write_bytes(journal, json.dumps({"files": entries}, indent=2).encode(), mode=0o600)


def recover(journal: str) -> list[str]:
    """Undo a run that was killed between renaming its files (the journal it left says
    which): each file that already holds that run's new content gets its backup back (or
    is removed, if that run created it); that run's temporary files and backups go.
    Returns the paths given back. Call it holding the edit lock, before reading."""
    try:
        with open(journal, encoding="utf-8") as handle:
            entries = json.load(handle)["files"]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError):
        entries = []
    undone = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            if _undo(entry):
                undone.append(str(entry["path"]))
        except (OSError, KeyError, TypeError):
            continue
    with contextlib.suppress(OSError):
        os.unlink(journal)
    return undone


def _undo(entry: dict[str, object]) -> bool:
    path, backup, temp = entry["path"], entry.get("backup"), entry.get("temp")
    assert isinstance(path, str)  # noqa: S101 - written by _write_journal
    current = _current_bytes(path)
    undone = digest(current) == entry["new"] and entry["new"] != entry["old"]
    if undone:
        if isinstance(backup, str):
            with open(backup, "rb") as handle:
                old = handle.read()
            mode = os.stat(backup).st_mode & 0o7777
            atomic.write_bytes(path, old, mode=mode)
        else:
            os.unlink(path)
    # The run is undone: its temporary file goes, and its backup too unless the file has
    # changed since (then the backup may be the only copy of what it held).
    leftovers = [temp, backup] if undone or digest(current) == entry["old"] else [temp]
    for leftover in leftovers:
        if isinstance(leftover, str):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
    folders = entry.get("folders")
    for folder in reversed(folders if isinstance(folders, list) else []):
        with contextlib.suppress(OSError):
            os.rmdir(str(folder))
    return undone


def digest(data: bytes | None) -> str:
    """What the journal compares a file's content by ("absent" for no file)."""
    return "absent" if data is None else hashlib.sha256(data).hexdigest()


# -- checks ------------------------------------------------------------------------------


def why_not_writable(path: str, *, remove: bool = False) -> str | None:
    """Why `path` (a real path) cannot be replaced (or removed) by a rename in its folder,
    keeping its owner; None when it can. Checked before anything is written, so that a
    run writes all its files or none."""
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as err:
        return f"cannot read its status ({err.strerror})"
    if info is not None:
        problem = _file_problem(path, info, remove=remove)
        if problem:
            return problem
    return _folder_problem(os.path.dirname(path))


def _file_problem(path: str, info: os.stat_result, *, remove: bool) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if not remove and not info.st_mode & stat.S_IWUSR:
        return (
            f"it is read-only (mode {info.st_mode & 0o7777:04o}); make it writable"
            " (chmod u+w) if ecr-sso may change it"
        )
    if _immutable(path, info):
        return "it is marked immutable or append-only (chattr +i / +a, chflags uchg)"
    if not remove and not os.access(path, os.W_OK):
        return "permission denied"
    if not remove and _POSIX and os.geteuid() not in (0, info.st_uid):
        return (
            f"it belongs to another user (uid {info.st_uid}); a new version written by"
            " you would change its owner"
        )
    return None


def _folder_problem(folder: str) -> str | None:
    existing = folder
    while not os.path.isdir(existing):
        parent = os.path.dirname(existing)
        if parent == existing:
            break
        existing = parent
    where = "its folder" if existing == folder else "the folder that would hold it,"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{where} {existing} is not writable (permission denied)"
    with contextlib.suppress(OSError):
        if os.statvfs(existing).f_flag & os.ST_RDONLY:
            return f"{where} {existing} is on a read-only file system"
    with contextlib.suppress(OSError):
        if _immutable(existing, os.stat(existing)):
            return f"{where} {existing} is marked immutable"
    return None


def _immutable(path: str, info: os.stat_result) -> bool:
    """Whether the file system refuses changes to `path` whatever its mode (Linux
    `chattr +i`/`+a`, BSD and macOS `chflags uchg`/`schg`/`uappnd`)."""
    flags = getattr(info, "st_flags", None)
    if flags is not None:
        return bool(flags & (stat.UF_IMMUTABLE | stat.SF_IMMUTABLE | stat.UF_APPEND))
    if not sys.platform.startswith("linux"):
        return False
    import fcntl
    import struct

    fs_ioc_getflags = 0x80086601  # _IOR('f', 1, long); the kernel reads and writes an int
    immutable_or_append = 0x00000010 | 0x00000020
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        raw = fcntl.ioctl(fd, fs_ioc_getflags, b"\0" * 8)
    except OSError:  # a file system without these flags
        return False
    finally:
        os.close(fd)
    return bool(struct.unpack("i", raw[:4])[0] & immutable_or_append)


def _current_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise NotWritable(f"cannot read {path}: {err.strerror}. Nothing was written") from None


# -- backups and folders -------------------------------------------------------------------


def write_backup(path: str, data: bytes, mode: int, moment: datetime) -> str:
    """Save `data` as `PATH.bak-YYYYmmddTHHMMSSZ` (UTC), `-2`, `-3`, ... when that name
    is taken: the name is claimed with O_EXCL, so two runs never share one. Returns it."""
    base = f"{path}.bak-{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    candidate, number = base, 1
    while True:
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            number += 1
            candidate = f"{base}-{number}"
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode != 0o600:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(candidate)
        raise
    return candidate

"""Write a plan: the one place that changes the files setup and teardown edit.

Each changed file is written atomically (temp file, fsync, rename), after saving its
previous bytes as a backup beside it (`NAME.bak-YYYYmmddTHHMMSSZ`, same mode).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone

from credhelper import atomic
from credhelper.errors import EcrSsoError
from credhelper.setup.plan import FileChange, Plan


@dataclass(frozen=True)
class Written:
    """A file written, and where its previous version was saved (None: it was new)."""

    label: str
    path: str
    backup: str | None


def apply(plan: Plan, *, now: datetime | None = None) -> list[Written]:
    """Write every changed file of `plan`, in order: first its previous bytes to a backup
    beside it (same mode), then the new bytes atomically (the original mode kept; a new
    file 0600, in folders created 0700).

    A file reached through a symlink is written where the link points, the link kept.
    A plan is made from the bytes read at the start, and a prompt may wait a long time:
    every file is checked to still hold those bytes before anything is written, and each
    again just before it is written. A file changed meanwhile is left as it is, and
    `EcrSsoError` says which, and which files were already written."""
    moment = now or datetime.now(timezone.utc)
    changes = [change for change in plan.files if change.changed]
    for change in changes:
        _check_unchanged(change, [])
    written: list[Written] = []
    for change in changes:
        assert change.new is not None  # noqa: S101 - `changed` guarantees it
        _check_unchanged(change, written)
        # Through a symlink (dotfiles kept in a repository): the file it points to is the
        # user's; replacing the link itself with a plain file would cut it loose.
        path = os.path.realpath(change.path)
        backup = None
        if change.old is not None:
            mode = os.stat(path).st_mode & 0o7777
            backup = backup_path(path, moment)
            atomic.write_bytes(backup, change.old, mode=mode)
        else:
            make_private_dirs(os.path.dirname(path))
        atomic.write_bytes(path, change.new)
        written.append(Written(change.label, change.path, backup))
    return written


def _check_unchanged(change: FileChange, written: list[Written]) -> None:
    if _current_bytes(change.path) == change.old:
        return
    done = (
        f"; already written: {', '.join(w.path for w in written)}"
        if written
        else "; nothing was written"
    )
    raise EcrSsoError(
        f"{change.path} was changed by something else while ecr-sso was working, so it was"
        f" left as it is{done}. Run the command again"
    )


def _current_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def backup_path(path: str, moment: datetime) -> str:
    """`PATH.bak-YYYYmmddTHHMMSSZ` (UTC), with `-2`, `-3`, ... if that name is taken."""
    base = f"{path}.bak-{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    candidate, number = base, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def make_private_dirs(folder: str) -> None:
    """Create `folder` and any missing parents, each 0700; existing ones are not ours
    and keep their mode."""
    missing = []
    current = folder
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)

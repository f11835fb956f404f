"""Write a file so that a reader sees the old content or the new, never a mix.

Temp file in the same folder (so the rename stays on one file system), fsync, rename, then
fsync the folder so the rename itself survives a crash. A new file gets mode 0600 from the
moment it exists; a replaced file keeps the mode it had.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from credhelper import private


def ensure_private_dir(base: str, *parts: str) -> str:
    """Create `base` and `base/parts...` with mode 0700 where missing and return the joined
    path. One that exists must be private (ours, not writable by others; `base` may be a
    link, the parts may not), else `private.NotPrivate`: nothing is chmod-ed, because a
    folder we did not create is not ours to change (a shared 1777 folder would lose its
    sticky bit). Parents of `base` are created with the default mode (os.makedirs applies
    `mode` to the leaf only)."""
    os.makedirs(base, mode=0o700, exist_ok=True)
    path = base
    for depth in range(len(parts) + 1):
        if depth:
            path = os.path.join(path, parts[depth - 1])
            with contextlib.suppress(FileExistsError):
                os.mkdir(path, 0o700)
        # Checked before going deeper: nothing is created inside a folder that is not ours.
        reason = private.folder_problem(base, parts[:depth])
        if reason is not None:
            raise private.NotPrivate(f"{reason}; not used")
    return path


def read_bytes_if_exists(path: str, what: str) -> bytes | None:
    """The bytes of `path`, or None when it does not exist; any other failure is a
    one-line ConfigError naming `what` the file is (for the editors, which read before
    they plan a change)."""
    from credhelper.errors import ConfigError

    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read {what}: {err.strerror}") from None


def write_bytes(path: str, data: bytes, *, mode: int | None = None) -> None:
    """Atomically replace `path` with `data`.

    `mode` forces the file mode; by default an existing file's mode is kept and a new
    file is 0600.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
    temp = write_temp(path, data, mode=mode)
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise
    fsync_dir(folder)


def write_temp(
    path: str, data: bytes, *, mode: int = 0o600, owner: tuple[int, int] | None = None
) -> str:
    """Write `data` to a new temporary file beside `path` (same folder, so that renaming
    it over `path` is atomic), with `mode` and, when given, `owner` (uid, gid); flushed to
    disk. Returns its path; the caller renames or removes it."""
    folder = os.path.dirname(os.path.abspath(path))
    # mkstemp creates the file 0600, so a secret is never readable by others, not even briefly.
    fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if owner is not None:
                os.fchown(handle.fileno(), *owner)
            if mode != 0o600:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
    except BaseException:
        _unlink_quietly(temp)
        raise
    return temp


def _unlink_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def fsync_dir(folder: str) -> None:
    """Make a rename in `folder` durable (where the platform allows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; the rename is durable enough there.
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

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

_POSIX = hasattr(os, "geteuid")


def make_dirs(folder: str) -> list[str]:
    """Create `folder` and every missing folder above it, each 0700 whatever the umask (as
    the XDG base directory spec asks of a folder it creates: a umask of 002 or 000 would
    otherwise leave them open to the group or everyone), and return those created,
    outermost first. A folder that exists keeps its mode: it may not be ours to change.
    The one place ecr-sso makes folders."""
    missing = []
    current = os.path.abspath(folder)
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if missing and _POSIX and os.geteuid() == 0:
        # Root with another user's HOME (`sudo -E`) would leave root's folders, which
        # that user cannot enter, in their home: refused, as the helper refuses their cache.
        owner = os.stat(current).st_uid
        if owner != 0:
            raise private.NotPrivate(current, f"owned by another user (uid {owner})")
    return [path for path in reversed(missing) if _mkdir_private(path)]


def _mkdir_private(path: str) -> bool:
    """mkdir 0700; False when something is already there (another run made it, or a file
    is in the way: then the next step fails, naming it)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return False
    # The umask can only take bits away from 0700 (a umask of 0277 would leave a folder we
    # cannot write); put back exactly 0700. The folder is never more open than that.
    if os.lstat(path).st_mode & 0o777 != 0o700:
        os.chmod(path, 0o700)
    return True


def ensure_private_dir(base: str, *parts: str) -> str:
    """Create `base` and `base/parts...` where missing (each 0700, as `make_dirs`, the
    folders above `base` too) and return the joined path. One that exists must be private
    (ours, not writable by others; `base` may be a link, the parts may not), else
    `private.NotPrivate`: nothing is chmod-ed, because a folder we did not create is not
    ours to change (a shared 1777 folder would lose its sticky bit)."""
    make_dirs(base)
    path = base
    for depth in range(len(parts) + 1):
        if depth:
            path = os.path.join(path, parts[depth - 1])
            _mkdir_private(path)
        # Checked before going deeper: nothing is created inside a folder that is not ours.
        found = private.untrusted_folder(base, parts[:depth])
        if found is not None:
            raise private.NotPrivate(*found)
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

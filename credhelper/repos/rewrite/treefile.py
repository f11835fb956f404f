"""A file inside the tree being rewritten: read, and later replaced, without ever leaving
the tree.

The repository is not trusted: anyone who can push to it, or write to the work tree while
`rewrite --write` runs, chooses its links, FIFOs and devices. So a file is reached from the
tree's root folder (the one the user named, followed if it is a link) one folder at a time,
each opened relative to the one before without following a link; the file itself is opened
without following a link and without blocking, and must be a regular file. It is read with
a bound, whatever its size claims.

Replacing it happens in the folder descriptor reached the same way: the name must still be
the very file that was read (device, inode, size, modification and change times), the new
text goes to a temporary file created in that folder (never through a link), given the old
file's owner and mode, flushed, then renamed over the name. A link swapped in after the
read is replaced, never followed; a folder that became a link is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from dataclasses import dataclass

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_ROOT_FLAGS = os.O_RDONLY | _DIRECTORY | _CLOEXEC
_FOLDER_FLAGS = _ROOT_FLAGS | _NOFOLLOW
_READ_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
_CHUNK = 1 << 16


class Refused(Exception):
    """The file cannot be read or replaced safely; the message says why, in a few words."""


class Gone(Refused):
    """The file is not there (deleted from the work tree since git listed it)."""


@dataclass(frozen=True)
class Place:
    """`parts` below the folder `root`. The root is the user's (followed if a link); every
    part is opened without following a link."""

    root: str
    parts: tuple[str, ...]

    @property
    def path(self) -> str:
        """The file's path as a string (for messages and the kind of file)."""
        return os.path.join(self.root, *self.parts)


@dataclass(frozen=True)
class Identity:
    """What makes a file the one that was read, and what its replacement keeps."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int  # no one can set it: a file made to look like the old one still differs
    mode: int
    uid: int
    gid: int

    @classmethod
    def of(cls, st: os.stat_result) -> Identity:
        """The identity of the file `st` describes."""
        return cls(
            st.st_dev,
            st.st_ino,
            st.st_size,
            st.st_mtime_ns,
            st.st_ctime_ns,
            st.st_mode,
            st.st_uid,
            st.st_gid,
        )

    def same_file(self, other: Identity) -> bool:
        """Whether `other` is this file, unchanged."""
        return (self.dev, self.ino, self.size, self.mtime_ns, self.ctime_ns) == (
            other.dev,
            other.ino,
            other.size,
            other.mtime_ns,
            other.ctime_ns,
        )


def read(place: Place, limit: int, folders: Folders | None = None) -> tuple[bytes, Identity]:
    """The bytes of the regular file at `place` and its identity; Refused saying why when it
    is a link, a FIFO, a device, larger than `limit` bytes, or under a folder that is a
    link; Gone when it does not exist. `folders` keeps the last folder open for the next
    file (a walk reads a folder's files one after the other)."""
    folder = folders.folder(place) if folders is not None else _folder(place)
    try:
        try:
            fd = os.open(place.parts[-1], _READ_FLAGS, dir_fd=folder)
        except OSError as err:
            raise _refusal(err, folder, place.parts[-1], "it") from None
        try:
            return _read_regular(fd, limit)
        finally:
            os.close(fd)
    finally:
        if folders is None:
            os.close(folder)


class Folders:
    """The folder descriptor of the last file read, kept for the next one in it; `close`
    when done. Reached the same way as always, so it is as trustworthy as a fresh one."""

    def __init__(self) -> None:
        self._key: tuple[str, tuple[str, ...]] | None = None
        self._fd = -1

    def folder(self, place: Place) -> int:
        """The descriptor of `place`'s folder (Refused, Gone as `read` says)."""
        key = (place.root, place.parts[:-1])
        if key != self._key:
            self.close()
            self._fd = _folder(place)
            self._key = key
        return self._fd

    def close(self) -> None:
        """Close the descriptor kept."""
        if self._fd >= 0:
            os.close(self._fd)
        self._key, self._fd = None, -1


def _read_regular(fd: int, limit: int) -> tuple[bytes, Identity]:
    before = os.fstat(fd)
    if not stat.S_ISREG(before.st_mode):
        raise Refused(f"not a regular file ({_type_name(before.st_mode)})")
    if before.st_size > limit:
        raise Refused(f"larger than {_size(limit)}")
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise Refused(f"larger than {_size(limit)}")
    identity = Identity.of(os.fstat(fd))
    if not identity.same_file(Identity.of(before)) or identity.size != total:
        raise Refused("changed while it was being read")
    return b"".join(chunks), identity


def replace(place: Place, identity: Identity, data: bytes) -> None:
    """Replace the file at `place`, which must still be the file `identity` describes, with
    `data`: atomically, owner and mode kept. Refused (nothing written) when it changed, was
    swapped for something else, sits under a folder that is now a link, its owner cannot
    be kept, or the system says no (a read-only or immutable file or folder, a full disk)."""
    try:
        _replace(place, identity, data)
    except OSError as err:
        raise Refused(f"cannot be replaced: {err.strerror}; not written") from None


def _replace(place: Place, identity: Identity, data: bytes) -> None:
    folder = _folder(place)
    try:
        name = place.parts[-1]
        _check_unchanged(folder, name, identity)
        temp = _write_temp(folder, name, data, identity)
        try:
            # Checked again at the last moment; the rename replaces the name itself, so
            # even a link swapped in after this check is replaced, never written through.
            _check_unchanged(folder, name, identity)
            os.rename(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=folder)
            raise
        with contextlib.suppress(OSError):
            os.fsync(folder)
    finally:
        os.close(folder)


def _check_unchanged(folder: int, name: str, identity: Identity) -> None:
    try:
        now = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except OSError as err:
        raise _refusal(err, folder, name, "it") from None
    if stat.S_ISLNK(now.st_mode):
        raise Refused("it became a symbolic link after it was read; not written")
    if not identity.same_file(Identity.of(now)):
        raise Refused("it changed after it was read; not written")


def _write_temp(folder: int, name: str, data: bytes, identity: Identity) -> str:
    for _ in range(16):
        temp = f".{name[:200]}.ecr-sso-{secrets.token_hex(4)}"
        try:
            fd = os.open(temp, _TEMP_FLAGS, 0o600, dir_fd=folder)
            break
        except FileExistsError:
            continue
        except OSError as err:
            raise Refused(f"cannot write in its folder: {err.strerror}; not written") from None
    else:
        raise Refused("cannot create a temporary file in its folder")
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            mine = os.fstat(fd)
            if (mine.st_uid, mine.st_gid) != (identity.uid, identity.gid):
                os.fchown(fd, identity.uid, identity.gid)
            # After fchown, which may clear the set-id bits.
            os.fchmod(fd, stat.S_IMODE(identity.mode))
            os.fsync(fd)
        finally:
            os.close(fd)
    except PermissionError:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder)
        raise Refused(
            f"owned by uid {identity.uid} gid {identity.gid}, which this user cannot give "
            "the new file; not written"
        ) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=folder)
        raise
    return temp


def _folder(place: Place) -> int:
    """A descriptor of the file's folder, reached from the root one part at a time."""
    try:
        fd = os.open(place.root, _ROOT_FLAGS)
    except FileNotFoundError:
        raise Gone("not found") from None
    except OSError as err:
        raise Refused(f"cannot open its folder: {err.strerror}") from None
    for part in place.parts[:-1]:
        try:
            sub = os.open(part, _FOLDER_FLAGS, dir_fd=fd)
        except OSError as err:
            refusal = _refusal(err, fd, part, f"a folder on its path ({part})")
            os.close(fd)
            raise refusal from None
        os.close(fd)
        fd = sub
    return fd


def _refusal(err: OSError, folder: int, name: str, what: str) -> Refused:
    """Why opening `name` in `folder` failed, in words."""
    if err.errno == errno.ENOENT:
        return Gone("not found")
    if err.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            st = os.stat(name, dir_fd=folder, follow_symlinks=False)
        except OSError:
            return Refused(f"{what} cannot be opened: {err.strerror}")
        if stat.S_ISLNK(st.st_mode):
            return Refused(f"{what} is a symbolic link")
        return Refused(f"{what} is not a folder ({_type_name(st.st_mode)})")
    return Refused(f"cannot read: {err.strerror}")


def _type_name(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISREG, "a regular file"),
    ):
        if test(mode):
            return name
    return "not a file"


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit} bytes"

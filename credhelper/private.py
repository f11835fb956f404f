"""Trust only private storage: folders and files that are ours and that nobody else can write.

The token cache decides who gets a registry password, so a folder another user can write
(a `chmod -R 777 ~/.cache`, a shared `ECR_SSO_CACHE_DIR`) or own is not a cache: what is
in it may have been planted. Every cached file is opened without following a link and
without blocking (a FIFO or a link to `/dev/zero` must not hang or flood a `get`), checked
on the open descriptor (a regular file, ours, not writable by others) and read with a bound.

Built on `fastos` (the built-in `posix` module), not `os`: the cache-hit path uses this
module, and may run without `site`, which would otherwise have loaded `os`. A folder we did
not create is never chmod-ed: where it is not private it is not used, and `ecr-sso doctor`
says how to fix it.
"""

from credhelper import fastos

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os

#: The cache folder's sub-folders that must be as private as the folder itself.
CACHE_FOLDERS = ("routes", "tokens", "locks")
#: No token or route file comes near this; a bigger one is damaged or hostile.
MAX_FILE = 64 * 1024
_NOFOLLOW = fastos.O_NOFOLLOW
_DIR_FLAGS = fastos.O_RDONLY | fastos.O_DIRECTORY | fastos.O_CLOEXEC
_FILE_FLAGS = fastos.O_RDONLY | _NOFOLLOW | fastos.O_NONBLOCK | fastos.O_CLOEXEC
_UID = fastos.getuid()


class NotPrivate(OSError):
    """A folder ecr-sso would keep tokens, locks or state in is not a folder, or is owned
    or writable by someone else: it is not used. `filename` is the folder; `strerror` says
    why and what to do, so a message built as `FILE: REASON` reads whole."""

    def __init__(self, folder: str, why: str) -> None:
        super().__init__(why)
        self.filename = folder
        self.strerror = f"{why}, so ecr-sso does not use it; {remedy(folder, why)}"

    def __str__(self) -> str:
        from credhelper.shown import shown

        return f"{shown(self.filename)}: {self.strerror}"


def remedy(folder: str, why: str) -> str:
    """What a person does about a folder `untrusted_folder` refused for `why`."""
    import shlex

    from credhelper.shown import shown

    quoted = shown(shlex.quote(folder))
    if why.startswith("writable by others"):
        return f"if it is yours: chmod 700 {quoted}"
    if why.startswith("owned by another user"):
        return "run ecr-sso as its owner, or point it at a folder of your own"
    if why == "not a folder":
        return f"move {quoted} away"
    return f"check {quoted}"


def problem(st: "os.stat_result") -> str | None:
    """Why a file or folder with this status cannot be trusted; None if it can."""
    if st.st_uid != _UID:
        return f"owned by another user (uid {st.st_uid})"
    if st.st_mode & 0o022:
        return f"writable by others (mode {st.st_mode & 0o7777:04o})"
    return None


def untrusted_folder(base: str, parts: tuple[str, ...] = ()) -> tuple[str, str] | None:
    """(folder, why) for the first of `base` (followed if a link: people link ~/.cache
    elsewhere) and its sub-folders `parts` (never followed) that cannot hold tokens; None
    when all are private or do not exist yet."""
    for path, follow in [(base, True)] + [(fastos.join(base, p), False) for p in parts]:
        try:
            st = fastos.stat(path) if follow else fastos.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as err:
            return path, f"unusable ({err.strerror})"
        if not fastos.is_dir(st.st_mode):
            return path, "not a folder"
        reason = problem(st)
        if reason is not None:
            return path, reason
    return None


def folder_problem(base: str, parts: tuple[str, ...] = ()) -> str | None:
    """`untrusted_folder` as one line naming the folder; None when all is well."""
    found = untrusted_folder(base, parts)
    return None if found is None else f"{found[0]} is {found[1]}"


def read(base: str, *names: str, limit: int = MAX_FILE) -> bytes | None:
    """The bytes of `base/names...` if every folder on the way and the file itself are
    private and the file is a regular file of at most `limit` bytes; None otherwise
    (missing, a link, a FIFO, a device, too big, someone else's)."""
    try:
        handle = _open_checked(base, names)
    except OSError:
        return None
    if handle is None:
        return None
    try:
        st = fastos.fstat(handle)
        if not fastos.is_regular(st.st_mode) or problem(st) is not None or st.st_size > limit:
            return None
        chunks = []
        size = 0
        while size <= limit:
            chunk = fastos.read(handle, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return None if size > limit else b"".join(chunks)
    except OSError:
        return None
    finally:
        fastos.close(handle)


def _open_checked(base: str, names: tuple[str, ...]) -> int | None:
    """A descriptor of the file, reached through folders opened and checked one by one
    (so none can be swapped for a link between check and use); None if one is not ours."""
    if any("/" in name or name in ("", ".", "..") for name in names):
        return None
    fd = fastos.open_fd(base, _DIR_FLAGS)
    try:
        if problem(fastos.fstat(fd)) is not None:
            return None
        for name in names[:-1]:
            sub = fastos.open_fd(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            fastos.close(fd)
            fd = sub
            if problem(fastos.fstat(fd)) is not None:
                return None
        return fastos.open_fd(names[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        fastos.close(fd)

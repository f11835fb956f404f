"""The few operating-system calls of the cache-hit path, from the built-in `posix` module.

Started without `site` (`python -IS`, as install.sh and the Homebrew formula start the
helper), importing `os` costs about a tenth of a bare Python start: it loads
`_collections_abc`, `posixpath`, `stat` and more, while `posix` is built into the
interpreter. `join` and `expanduser` follow `posixpath`'s rules exactly (a test compares
them), so the hit path and the full path, which uses `os`, name the same files. POSIX only:
the helper refuses Windows before this is imported.
"""

import posix

O_RDONLY: int = posix.O_RDONLY
O_NOFOLLOW: int = getattr(posix, "O_NOFOLLOW", 0)
O_NONBLOCK: int = getattr(posix, "O_NONBLOCK", 0)
O_CLOEXEC: int = getattr(posix, "O_CLOEXEC", 0)
O_DIRECTORY: int = getattr(posix, "O_DIRECTORY", 0)

close = posix.close
fstat = posix.fstat
getuid = posix.getuid
listdir = posix.listdir
lstat = posix.lstat
open_fd = posix.open
read = posix.read
stat = posix.stat
unlink = posix.unlink

_S_IFMT = 0o170000
_S_IFDIR = 0o040000
_S_IFREG = 0o100000


def is_dir(mode: int) -> bool:
    """`stat.S_ISDIR`."""
    return mode & _S_IFMT == _S_IFDIR


def is_regular(mode: int) -> bool:
    """`stat.S_ISREG`."""
    return mode & _S_IFMT == _S_IFREG


def join(first: str, *parts: str) -> str:
    """`posixpath.join` for text: a part that starts with / starts the path anew."""
    path = first
    for part in parts:
        if part.startswith("/"):
            path = part
        elif not path or path.endswith("/"):
            path += part
        else:
            path += "/" + part
    return path


def environ() -> dict[str, str]:
    """The process environment as text, decoded as `os.environ` decodes it (UTF-8, with
    undecodable bytes kept as surrogates)."""
    return {
        key.decode("utf-8", "surrogateescape"): value.decode("utf-8", "surrogateescape")
        for key, value in posix.environ.items()
    }


def _environ_home() -> str | None:
    value = posix.environ.get(b"HOME")
    return None if value is None else value.decode("utf-8", "surrogateescape")


def expanduser(path: str) -> str:
    """`posixpath.expanduser` for text: `~` is HOME (else the password database's home of
    this user), `~name` that user's home; anything else, or an unknown user, is left."""
    if not path.startswith("~"):
        return path
    end = path.find("/", 1)
    if end < 0:
        end = len(path)
    if end == 1:
        home = _environ_home()
        if home is None:
            import pwd

            try:
                home = pwd.getpwuid(posix.getuid()).pw_dir
            except KeyError:
                return path
    else:
        import pwd

        try:
            home = pwd.getpwnam(path[1:end]).pw_dir
        except KeyError:
            return path
    home = home.rstrip("/")
    return (home + path[end:]) or "/"

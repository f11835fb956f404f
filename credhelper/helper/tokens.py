"""The ECR token cache: one small protocol and its backends (files, keyring, none).

A token is kept per (profile, registry) under an opaque key built by the helper. It is
served until `MARGIN_SECONDS` before AWS says it expires: an ECR token lives 12 hours, so
a cached token is used for 11½ hours, and a push that starts near the end still has half
an hour of validity left.

This module's top level imports only what the cache-hit path may import (`os`, `time`):
`parse_token` and `token_path` are used there. Backends import the rest when used.
"""

from credhelper import fastos

TYPE_CHECKING = False
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Protocol

    class TokenCache(Protocol):
        """What every backend offers. Keys are file-name-safe strings made by the helper."""

        name: str

        def get(self, key: str) -> "Token | None": ...
        def put(self, key: str, token: "Token") -> None: ...
        def delete(self, key: str) -> bool: ...
        def keys(self) -> list[str]: ...
        def lock(self, key: str) -> AbstractContextManager[None]: ...


MARGIN_SECONDS = 30 * 60
_MAGIC = b"ecr-sso-token 1\n"


class Token:
    """A registry password, when it stops working (seconds since the epoch), and the
    registry it was issued for (`Registry.identity`; "" until the helper binds it): a
    token is only ever served to that registry."""

    __slots__ = ("expires_at", "registry", "secret", "username")

    def __init__(self, username: str, secret: str, expires_at: float, registry: str = "") -> None:
        self.username = username
        self.secret = secret
        self.expires_at = expires_at
        self.registry = registry

    def fresh(self, now: float) -> bool:
        """Whether the token may still be handed out at `now` (the margin applied)."""
        return now < self.expires_at - MARGIN_SECONDS

    def __repr__(self) -> str:  # never show the secret, even in a debugger or a test failure
        return (
            f"Token(username={self.username!r}, expires_at={self.expires_at!r},"
            f" registry={self.registry!r})"
        )


def format_token(token: Token) -> bytes:
    """The file form: a header line, `key value` lines, a blank line, then the secret
    as raw UTF-8 to the end (a secret may contain any character)."""
    head = (
        f"expires_at {token.expires_at!r}\nusername {token.username}\nregistry {token.registry}\n\n"
    )
    return _MAGIC + head.encode() + token.secret.encode()


def parse_token(data: bytes) -> Token | None:
    """The inverse of `format_token`; None for anything damaged (then it is refetched)."""
    if not data.startswith(_MAGIC):
        return None
    head, sep, secret = data[len(_MAGIC) :].partition(b"\n\n")
    if not sep or not secret:
        return None
    fields = {}
    for line in head.split(b"\n"):
        name, _, value = line.partition(b" ")
        fields[name] = value
    try:
        return Token(
            username=fields[b"username"].decode(),
            secret=secret.decode(),
            expires_at=float(fields[b"expires_at"]),
            registry=fields.get(b"registry", b"").decode(),
        )
    except (KeyError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def token_path(cache_dir: str, key: str) -> str:
    """Where the file backend keeps the token for `key`."""
    return fastos.join(cache_dir, "tokens", key)


class FileCache:
    """Tokens as files under the cache dir: folder 0700, files 0600, atomic writes; read
    only from private folders and files (see `private`)."""

    name = "file"

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir

    def get(self, key: str) -> Token | None:
        from credhelper import private

        data = private.read(self.cache_dir, "tokens", key)
        return None if data is None else parse_token(data)

    def put(self, key: str, token: Token) -> None:
        from credhelper import atomic

        atomic.ensure_private_dir(self.cache_dir, "tokens")
        atomic.write_bytes(token_path(self.cache_dir, key), format_token(token), mode=0o600)

    def delete(self, key: str) -> bool:
        try:
            fastos.unlink(token_path(self.cache_dir, key))
        except FileNotFoundError:
            return False
        return True

    def keys(self) -> list[str]:
        try:
            names = fastos.listdir(fastos.join(self.cache_dir, "tokens"))
        except OSError:
            return []
        return sorted(n for n in names if not n.startswith("."))

    def lock(self, key: str) -> "AbstractContextManager[None]":
        from credhelper.flock import file_lock

        return file_lock(self.cache_dir, key)


class KeyringCache:
    """Tokens in the OS keyring (`cache = "keyring"`). The keyring cannot list its
    entries, so the keys (never the tokens) are also kept in an index file."""

    name = "keyring"
    SERVICE = "ecr-sso token"
    HINT = 'fix the keyring, or set `cache = "file"` in the ecr-sso config'

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir
        self._index = fastos.join(cache_dir, "keyring-index")

    def get(self, key: str) -> Token | None:
        from credhelper.helper import keyring_access

        stored = keyring_access.get_password(self.SERVICE, key, hint=self.HINT)
        return None if stored is None else parse_token(stored.encode())

    def put(self, key: str, token: Token) -> None:
        from credhelper.helper import keyring_access

        keyring_access.set_password(self.SERVICE, key, format_token(token).decode(), hint=self.HINT)
        self._write_index(set(self.keys()) | {key})

    def delete(self, key: str) -> bool:
        from credhelper.helper import keyring_access

        found = keyring_access.delete_password(self.SERVICE, key, hint=self.HINT)
        self._write_index(set(self.keys()) - {key})
        return found

    def keys(self) -> list[str]:
        try:
            with open(self._index, encoding="utf-8") as handle:
                return sorted({line.strip() for line in handle if line.strip()})
        except OSError:
            return []

    def lock(self, key: str) -> "AbstractContextManager[None]":
        from credhelper.flock import file_lock

        return file_lock(self.cache_dir, key)

    def _write_index(self, keys: set[str]) -> None:
        from credhelper import atomic

        atomic.ensure_private_dir(self.cache_dir)
        atomic.write_bytes(self._index, "".join(f"{k}\n" for k in sorted(keys)).encode())


class NullCache:
    """No caching (`ECR_SSO_CACHE=none`): every `get` asks AWS."""

    name = "none"

    def get(self, key: str) -> Token | None:
        return None

    def put(self, key: str, token: Token) -> None:
        return None

    def delete(self, key: str) -> bool:
        return False

    def keys(self) -> list[str]:
        return []

    def lock(self, key: str) -> "AbstractContextManager[None]":
        from contextlib import nullcontext

        return nullcontext()


def open_cache(backend: str, cache_dir: str) -> "TokenCache":
    """The backend named `file`, `keyring` or `none`."""
    if backend == "keyring":
        return KeyringCache(cache_dir)
    if backend == "none":
        return NullCache()
    return FileCache(cache_dir)

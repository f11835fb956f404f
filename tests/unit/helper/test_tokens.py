"""The token cache: one contract every backend passes, then what is particular to each."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest

from credhelper.errors import CacheLocked
from credhelper.flock import file_lock
from credhelper.helper.tokens import (
    MARGIN_SECONDS,
    FileCache,
    KeyringCache,
    NullCache,
    Token,
    format_token,
    open_cache,
    parse_token,
    token_path,
)

KEY = "dev@ecr.123456789012.eu-west-1"
OTHER_KEY = "~chain-0123456789abcdef@ecr-public"
EXPIRES = 1_700_000_000.123456


def same(a: Token | None, b: Token) -> bool:
    return a is not None and (a.username, a.secret, a.expires_at) == (
        b.username,
        b.secret,
        b.expires_at,
    )


# -- the contract ------------------------------------------------------------------------------


class CacheContract:
    """What every backend must do. A new backend: subclass, provide the `cache` fixture."""

    @pytest.fixture
    def cache(self) -> Any:
        raise NotImplementedError

    def test_put_then_get(self, cache: Any) -> None:
        token = Token("AWS", "eyJwYXlsb2FkIjoi", EXPIRES)
        cache.put(KEY, token)
        assert same(cache.get(KEY), token)

    def test_get_of_a_missing_key_is_none(self, cache: Any) -> None:
        assert cache.get(KEY) is None
        cache.put(KEY, Token("AWS", "x", EXPIRES))
        assert cache.get(OTHER_KEY) is None

    def test_put_replaces(self, cache: Any) -> None:
        cache.put(KEY, Token("AWS", "old", EXPIRES))
        newer = Token("AWS", "new", EXPIRES + 3600)
        cache.put(KEY, newer)
        assert same(cache.get(KEY), newer)
        assert cache.keys() == [KEY]

    def test_delete_returns_true_then_false(self, cache: Any) -> None:
        cache.put(KEY, Token("AWS", "x", EXPIRES))
        assert cache.delete(KEY) is True
        assert cache.get(KEY) is None
        assert cache.delete(KEY) is False

    def test_delete_of_a_never_stored_key(self, cache: Any) -> None:
        assert cache.delete(KEY) is False

    def test_keys_lists_what_is_stored(self, cache: Any) -> None:
        assert cache.keys() == []
        cache.put(OTHER_KEY, Token("AWS", "a", EXPIRES))
        cache.put(KEY, Token("AWS", "b", EXPIRES))
        assert cache.keys() == sorted([KEY, OTHER_KEY])
        cache.delete(OTHER_KEY)
        assert cache.keys() == [KEY]

    @pytest.mark.parametrize(
        "secret",
        [
            "line one\nline two\n\nafter a blank line\n",
            "\n\n",
            "pässwörd ✓ 🔑 日本語",
            "tab\tcr\r\nnul\x00end",
            "ecr-sso-token 1\nexpires_at 0\n\nfake",
            "x" * 4096,
        ],
    )
    def test_any_secret_survives(self, cache: Any, secret: str) -> None:
        token = Token("AWS", secret, EXPIRES)
        cache.put(KEY, token)
        assert same(cache.get(KEY), token)

    def test_username_survives(self, cache: Any) -> None:
        token = Token("someone@example.com", "s", EXPIRES)
        cache.put(KEY, token)
        assert same(cache.get(KEY), token)

    def test_fresh_respects_the_margin_after_a_round_trip(self, cache: Any) -> None:
        cache.put(KEY, Token("AWS", "s", EXPIRES))
        token = cache.get(KEY)
        assert token is not None
        boundary = EXPIRES - MARGIN_SECONDS
        assert token.fresh(boundary - 0.001)
        assert not token.fresh(boundary)
        assert not token.fresh(EXPIRES)

    def test_lock_can_be_taken_and_taken_again(self, cache: Any) -> None:
        with cache.lock(KEY):
            cache.put(KEY, Token("AWS", "s", EXPIRES))
        with cache.lock(KEY):
            assert cache.get(KEY) is not None


class TestFileCache(CacheContract):
    @pytest.fixture
    def cache(self, tmp_path: Path) -> FileCache:
        return FileCache(str(tmp_path / "cache"))


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, for tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


class TestKeyringCache(CacheContract):
    @pytest.fixture
    def cache(self, tmp_path: Path, memory_keyring: MemoryKeyring) -> KeyringCache:
        return KeyringCache(str(tmp_path / "cache"))


def test_keyring_cache_keeps_tokens_in_the_keyring_and_only_keys_on_disk(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    cache = KeyringCache(str(tmp_path / "cache"))
    cache.put(KEY, Token("AWS", "the-secret-value", EXPIRES))
    assert list(memory_keyring.entries) == [(KeyringCache.SERVICE, KEY)]
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert KEY.encode() in on_disk
    assert b"the-secret-value" not in on_disk


def test_null_cache_keeps_nothing() -> None:
    cache = NullCache()
    cache.put(KEY, Token("AWS", "s", EXPIRES))
    assert cache.get(KEY) is None
    assert cache.keys() == []
    assert cache.delete(KEY) is False
    with cache.lock(KEY):
        assert cache.get(KEY) is None
    assert cache.name == "none"


def test_open_cache_by_name(tmp_path: Path) -> None:
    assert isinstance(open_cache("file", str(tmp_path)), FileCache)
    assert isinstance(open_cache("keyring", str(tmp_path)), KeyringCache)
    assert isinstance(open_cache("none", str(tmp_path)), NullCache)


# -- the token and its file form -------------------------------------------------------------


def test_fresh_at_the_margin() -> None:
    token = Token("AWS", "s", 10_000.0)
    assert token.fresh(10_000.0 - MARGIN_SECONDS - 1)
    assert not token.fresh(10_000.0 - MARGIN_SECONDS)
    assert MARGIN_SECONDS == 30 * 60


def test_repr_never_shows_the_secret() -> None:
    token = Token("AWS", "hunter2-SECRET", EXPIRES)
    assert "hunter2-SECRET" not in repr(token)
    assert "hunter2-SECRET" not in str(token)
    assert "AWS" in repr(token)


@pytest.mark.parametrize(
    "token",
    [
        Token("AWS", "simple", EXPIRES),
        Token("AWS", "multi\nline\n\nsecret\n", 0.0),
        Token("user name", "ünïcode 🔑", 1e10),
        Token("", "s", -1.5),
    ],
    ids=["simple", "newlines", "unicode", "empty-username"],
)
def test_format_then_parse(token: Token) -> None:
    assert same(parse_token(format_token(token)), token)


@pytest.mark.parametrize(
    "cut",
    [0, 1, 10, 16, 20, 30],
)
def test_truncated_file_form_is_none(cut: int) -> None:
    data = format_token(Token("AWS", "secret", EXPIRES))
    assert len(data) > 30
    assert parse_token(data[:cut]) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"garbage",
        b"\xff\xfe\x00\x01",
        b"ecr-sso-token 2\nexpires_at 1\nusername AWS\n\nsecret",
        b"ecr-sso-token 1\nexpires_at soon\nusername AWS\n\nsecret",
        b"ecr-sso-token 1\nusername AWS\n\nsecret",
        b"ecr-sso-token 1\nexpires_at 1\n\nsecret",
        b"ecr-sso-token 1\nexpires_at 1\nusername AWS\n\n",
        b"ecr-sso-token 1\nexpires_at 1\nusername AWS\nsecret",
        b"ecr-sso-token 1\nexpires_at 1\nusername \xff\n\nsecret",
        b"ecr-sso-token 1\nexpires_at 1\nusername AWS\n\nbad \xff utf-8",
        b'{"username": "AWS", "secret": "s", "expires_at": 1}',
    ],
)
def test_garbage_file_form_is_none(data: bytes) -> None:
    assert parse_token(data) is None


# -- the file backend in particular -------------------------------------------------------------


def test_file_cache_modes(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    FileCache(str(cache_dir)).put(KEY, Token("AWS", "s", EXPIRES))
    path = Path(token_path(str(cache_dir), KEY))
    assert path.is_file()
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_cache_leaves_the_mode_of_a_folder_it_did_not_create(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    cache_dir.chmod(0o755)
    FileCache(str(cache_dir)).put(KEY, Token("AWS", "s", EXPIRES))
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o755
    assert stat.S_IMODE(Path(token_path(str(cache_dir), KEY)).stat().st_mode) == 0o600


def test_file_cache_under_a_permissive_umask(tmp_path: Path) -> None:
    # The modes do not depend on the user's umask being strict.
    old = os.umask(0)
    try:
        cache_dir = tmp_path / "cache"
        FileCache(str(cache_dir)).put(KEY, Token("AWS", "s", EXPIRES))
    finally:
        os.umask(old)
    path = Path(token_path(str(cache_dir), KEY))
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_file_cache_writes_the_file_form(tmp_path: Path) -> None:
    token = Token("AWS", "s\nt", EXPIRES)
    FileCache(str(tmp_path)).put(KEY, token)
    assert Path(token_path(str(tmp_path), KEY)).read_bytes() == format_token(token)


def test_file_cache_leaves_no_temp_files(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path))
    for n in range(3):
        cache.put(KEY, Token("AWS", f"s{n}", EXPIRES))
    assert os.listdir(tmp_path / "tokens") == [KEY]
    assert cache.keys() == [KEY]


def test_corrupt_file_reads_as_missing_and_is_replaced(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path))
    path = Path(token_path(str(tmp_path), KEY))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"ecr-sso-token 1\nexpires_at 1e1")
    assert cache.get(KEY) is None
    token = Token("AWS", "fresh", EXPIRES)
    cache.put(KEY, token)
    assert same(cache.get(KEY), token)


def test_unreadable_entry_reads_as_missing(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path))
    # A directory where the token file should be: open() fails with an OSError.
    Path(token_path(str(tmp_path), KEY)).mkdir(parents=True)
    assert cache.get(KEY) is None


def test_keys_of_a_missing_cache_dir(tmp_path: Path) -> None:
    assert FileCache(str(tmp_path / "never-created")).keys() == []


# -- the lock ----------------------------------------------------------------------------------


def test_cache_lock_is_per_key(tmp_path: Path) -> None:
    cache = FileCache(str(tmp_path))
    with cache.lock(KEY):
        assert (tmp_path / "locks" / f"{KEY}.lock").is_file()
        # A different key is a different lock: taking it does not wait.
        with cache.lock(OTHER_KEY):
            pass
        # The same key from a second opener in this process is refused (flock is per
        # open file, not per process).
        with pytest.raises(CacheLocked), file_lock(str(tmp_path), KEY, timeout=0.01):
            pass

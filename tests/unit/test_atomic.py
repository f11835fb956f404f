"""Atomic writes: a reader sees the old content or the new, never a mix, and a failed
write leaves the old file and no debris."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from credhelper import atomic, private


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty folder of our own (tmp_path also holds the isolated home)."""
    made = tmp_path / "work"
    made.mkdir()
    return made


def test_new_file_is_0600(folder: Path) -> None:
    path = folder / "new"
    atomic.write_bytes(str(path), b"content")
    assert path.read_bytes() == b"content"
    assert mode_of(path) == 0o600


def test_new_file_is_0600_under_a_permissive_umask(folder: Path) -> None:
    path = folder / "new"
    old = os.umask(0)
    try:
        atomic.write_bytes(str(path), b"content")
    finally:
        os.umask(old)
    assert mode_of(path) == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600, 0o400, 0o755])
def test_existing_file_keeps_its_mode(folder: Path, mode: int) -> None:
    path = folder / "config.json"
    path.write_bytes(b"old")
    path.chmod(mode)
    atomic.write_bytes(str(path), b"new")
    assert path.read_bytes() == b"new"
    assert mode_of(path) == mode


def test_mode_argument_forces_the_mode(folder: Path) -> None:
    path = folder / "token"
    path.write_bytes(b"old")
    path.chmod(0o644)
    atomic.write_bytes(str(path), b"new", mode=0o600)
    assert mode_of(path) == 0o600
    atomic.write_bytes(str(path), b"newer", mode=0o640)
    assert mode_of(path) == 0o640
    assert path.read_bytes() == b"newer"


def test_replaces_the_file_not_its_content_in_place(folder: Path) -> None:
    path = folder / "file"
    path.write_bytes(b"old content that is longer")
    # A reader that opened the old file keeps reading the old file.
    with path.open("rb") as reader:
        atomic.write_bytes(str(path), b"new")
        assert reader.read() == b"old content that is longer"
    assert path.read_bytes() == b"new"


def test_leaves_no_temp_files(folder: Path) -> None:
    path = folder / "file"
    atomic.write_bytes(str(path), b"one")
    atomic.write_bytes(str(path), b"two")
    atomic.write_bytes(str(path), b"")
    assert os.listdir(folder) == ["file"]
    assert path.read_bytes() == b""


def test_relative_path(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    atomic.write_bytes("relative", b"x")
    assert (folder / "relative").read_bytes() == b"x"
    assert os.listdir(folder) == ["relative"]


def test_failed_rename_keeps_the_original_and_no_temp_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "file"
    path.write_bytes(b"original")
    path.chmod(0o640)

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        atomic.write_bytes(str(path), b"replacement")
    monkeypatch.undo()
    assert path.read_bytes() == b"original"
    assert mode_of(path) == 0o640
    assert [name for name in os.listdir(folder) if name.startswith(".tmp-")] == []
    assert os.listdir(folder) == ["file"]


def test_failed_write_keeps_the_original_and_no_temp_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "file"
    path.write_bytes(b"original")

    def fail(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="Input/output error"):
        atomic.write_bytes(str(path), b"replacement")
    monkeypatch.undo()
    assert path.read_bytes() == b"original"
    assert os.listdir(folder) == ["file"]


def test_interrupt_keeps_the_original_and_no_temp_file(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C between the write and the rename is not an Exception; it must clean up too.
    path = folder / "file"
    path.write_bytes(b"original")

    def interrupt(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_bytes(str(path), b"replacement")
    monkeypatch.undo()
    assert path.read_bytes() == b"original"
    assert os.listdir(folder) == ["file"]


def test_missing_folder_is_an_error_not_a_partial_file(folder: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic.write_bytes(str(folder / "absent" / "file"), b"x")
    assert os.listdir(folder) == []


def test_ensure_private_dir_creates_0700_and_returns_the_path(folder: Path) -> None:
    base = folder / "a" / "cache"
    made = atomic.ensure_private_dir(str(base), "tokens", "deeper")
    assert made == str(base / "tokens" / "deeper")
    for made_dir in (base, base / "tokens", base / "tokens" / "deeper"):
        assert made_dir.is_dir()
        assert mode_of(made_dir) == 0o700
    # Calling again is fine.
    assert atomic.ensure_private_dir(str(base), "tokens") == str(base / "tokens")


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set this process's umask for the test; the old one is put back."""
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("value", [0o002, 0o000, 0o077, 0o277])
def test_every_folder_made_is_0700_whatever_the_umask(
    folder: Path, umask: Callable[[int], None], value: int
) -> None:
    (folder / "there").mkdir(mode=0o755)
    umask(value)

    made = atomic.make_dirs(str(folder / "there" / "a" / "b"))
    atomic.ensure_private_dir(str(folder / "x" / "cache"), "tokens")

    assert made == [str(folder / "there" / "a"), str(folder / "there" / "a" / "b")]
    for path in ("there/a", "there/a/b", "x", "x/cache", "x/cache/tokens"):
        assert mode_of(folder / path) == 0o700, path
    assert mode_of(folder / "there") == 0o755  # not made here: left as it was
    assert atomic.make_dirs(str(folder / "there" / "a")) == []


def test_make_dirs_with_a_file_in_the_way_names_it(folder: Path) -> None:
    (folder / "file").write_text("")
    with pytest.raises(NotADirectoryError) as caught:
        atomic.make_dirs(str(folder / "file" / "sub"))
    assert caught.value.filename == str(folder / "file" / "sub")


def test_ensure_private_dir_keeps_a_folder_only_we_can_write(folder: Path) -> None:
    # A folder we did not create is never chmod-ed; 0755 is private enough (the files in
    # it are 0600, the sub-folders we create 0700).
    base = folder / "cache"
    base.mkdir()
    base.chmod(0o755)
    assert atomic.ensure_private_dir(str(base), "tokens") == str(base / "tokens")
    assert mode_of(base) == 0o755
    assert mode_of(base / "tokens") == 0o700


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775])
def test_ensure_private_dir_refuses_a_folder_others_can_write(folder: Path, mode: int) -> None:
    base = folder / "open-to-all"
    base.mkdir()
    base.chmod(mode)
    with pytest.raises(private.NotPrivate) as caught:
        atomic.ensure_private_dir(str(base), "tokens")
    # The folder, why, and the fix; as an OSError, a `FILE: REASON` line reads whole.
    why = f"writable by others (mode {mode:04o})"
    fix = f"if it is yours: chmod 700 {base}"
    assert str(caught.value) == f"{base}: {why}, so ecr-sso does not use it; {fix}"
    assert caught.value.filename == str(base)
    assert caught.value.strerror == f"{why}, so ecr-sso does not use it; {fix}"
    assert mode_of(base) == mode  # left as it was, sticky bit included
    assert os.listdir(base) == []  # and nothing created in it


def test_a_folder_name_is_shown_escaped(folder: Path) -> None:
    base = folder / "open\x1b[2Jto-all"
    base.mkdir()
    base.chmod(0o777)
    with pytest.raises(private.NotPrivate) as caught:
        atomic.ensure_private_dir(str(base))
    assert "\x1b" not in str(caught.value)
    assert str(caught.value).startswith(f"{folder}/open\\x1b[2Jto-all: writable by others")
    assert "chmod 700 " in caught.value.strerror
    assert "\x1b" not in caught.value.strerror


def test_ensure_private_dir_refuses_a_sub_folder_others_can_write(folder: Path) -> None:
    (folder / "cache" / "routes").mkdir(parents=True, mode=0o700)
    (folder / "cache" / "routes").chmod(0o777)
    with pytest.raises(private.NotPrivate):
        atomic.ensure_private_dir(str(folder / "cache"), "routes")
    assert mode_of(folder / "cache" / "routes") == 0o777

"""`private.read` and `untrusted_folder`: what the token cache trusts, checked without a
helper process (the hostile-environment tests drive the same through the executable)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from credhelper import private


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    folder = tmp_path / "cache"
    (folder / "tokens").mkdir(parents=True, mode=0o700)
    folder.chmod(0o700)
    (folder / "tokens" / "key").write_bytes(b"payload")
    (folder / "tokens" / "key").chmod(0o600)
    return folder


def test_a_private_file_is_read(cache: Path) -> None:
    assert private.read(str(cache), "tokens", "key") == b"payload"
    assert private.untrusted_folder(str(cache), private.CACHE_FOLDERS) is None


def test_missing_is_none(cache: Path) -> None:
    assert private.read(str(cache), "tokens", "absent") is None
    assert private.read(str(cache / "absent"), "tokens", "key") is None


def test_a_link_is_not_followed(cache: Path) -> None:
    (cache / "tokens" / "link").symlink_to(cache / "tokens" / "key")
    assert private.read(str(cache), "tokens", "link") is None


def test_a_linked_sub_folder_is_not_followed(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "key").write_bytes(b"x")
    (cache / "routes").symlink_to(elsewhere)
    assert private.read(str(cache), "routes", "key") is None
    assert private.untrusted_folder(str(cache), ("routes",)) == (
        str(cache / "routes"),
        "not a folder",
    )


def test_a_linked_base_folder_is_followed(cache: Path, tmp_path: Path) -> None:
    # People link ~/.cache to another disk; the target is what gets checked.
    (tmp_path / "link").symlink_to(cache)
    assert private.read(str(tmp_path / "link"), "tokens", "key") == b"payload"


def test_a_fifo_is_not_waited_for(cache: Path) -> None:
    os.mkfifo(cache / "tokens" / "fifo", 0o600)
    assert private.read(str(cache), "tokens", "fifo") is None


def test_the_size_bound(cache: Path) -> None:
    (cache / "tokens" / "key").write_bytes(b"x" * 100)
    assert private.read(str(cache), "tokens", "key", limit=100) == b"x" * 100
    assert private.read(str(cache), "tokens", "key", limit=99) is None


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_file_others_can_write_is_not_read(cache: Path, mode: int) -> None:
    (cache / "tokens" / "key").chmod(mode)
    assert private.read(str(cache), "tokens", "key") is None


@pytest.mark.parametrize("folder", ["", "tokens"])
def test_a_folder_others_can_write_is_not_read_from(cache: Path, folder: str) -> None:
    (cache / folder).chmod(0o777)
    assert private.read(str(cache), "tokens", "key") is None
    assert private.untrusted_folder(str(cache), private.CACHE_FOLDERS) == (
        str(cache / folder) if folder else str(cache),
        "writable by others (mode 0777)",
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
@pytest.mark.parametrize("what", ["file", "folder"])
def test_what_another_user_owns_is_not_read(cache: Path, what: str) -> None:
    nobody = 65534
    os.chown(cache / "tokens" / "key" if what == "file" else cache, nobody, nobody)
    assert private.read(str(cache), "tokens", "key") is None
    if what == "folder":
        assert private.untrusted_folder(str(cache)) == (
            str(cache),
            f"owned by another user (uid {nobody})",
        )

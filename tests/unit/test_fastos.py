"""`fastos` names the same files as `os`: its `join` and `expanduser` are posixpath's."""

from __future__ import annotations

import os
import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credhelper import fastos

PART = st.text(alphabet="ab/~.", max_size=6)


@given(st.lists(PART, min_size=1, max_size=4))
def test_join_is_posixpaths(parts: list[str]) -> None:
    assert fastos.join(*parts) == posixpath.join(*parts)


@pytest.mark.parametrize("home", ["/home/me", "/home/me/", "/", "", None])
@pytest.mark.parametrize(
    "path", ["~", "~/", "~/.aws/config", "~//x", "~root", "~root/x", "~no-such-user/x", "a/~", ""]
)
def test_expanduser_is_posixpaths(
    monkeypatch: pytest.MonkeyPatch, home: str | None, path: str
) -> None:
    if home is None:
        monkeypatch.delenv("HOME", raising=False)
    else:
        monkeypatch.setenv("HOME", home)

    assert fastos.expanduser(path) == posixpath.expanduser(path)


def test_environ_is_os_environs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECR_SSO_TEST_VALUE", "é \\udcff")

    assert fastos.environ() == dict(os.environ)


def test_file_kinds() -> None:
    assert fastos.is_dir(os.stat("/").st_mode)
    assert not fastos.is_regular(os.stat("/").st_mode)
    assert fastos.is_regular(os.stat(__file__).st_mode)
    assert not fastos.is_dir(os.stat(__file__).st_mode)

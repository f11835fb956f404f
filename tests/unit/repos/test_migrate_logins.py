"""The logins `migrate` hands skopeo: ECR's, asked of the helper once and again only
after the reuse window (an injected clock: no real wait); the auth file in memory."""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path

import pytest

from credhelper import errors
from credhelper.repos import ecr_login, migrate
from credhelper.repos.dockerhub_login import Login


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_helper_is_asked_once_then_again_after_the_reuse_window() -> None:
    clock = Clock()
    asked: list[float] = []

    def ask() -> Login:
        asked.append(clock.now)
        return Login("AWS", f"token-{len(asked)}")

    login = ecr_login.HelperLogin("ecr.example", ask, reuse=300, clock=clock)

    assert asked == []  # nothing until it is needed
    assert login.current().token == "token-1"
    clock.now += 299
    assert login.current().token == "token-1"
    clock.now += 1
    assert login.current().token == "token-2"
    assert asked == [1000.0, 1300.0]


def test_copies_asking_at_once_start_one_helper() -> None:
    started = threading.Event()
    release = threading.Event()
    asked = []

    def ask() -> Login:
        asked.append(1)
        started.set()
        release.wait(30)
        return Login("AWS", "secret")

    login = ecr_login.HelperLogin("ecr.example", ask, clock=Clock())
    threads = [threading.Thread(target=login.current) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert started.wait(30)
    release.set()
    for thread in threads:
        thread.join(30)

    assert asked == [1]


def test_a_helper_failure_is_one_line_and_tried_again_next_time() -> None:
    answers: list[Login | errors.EcrSsoError] = [
        errors.EcrSsoError("no ECR sign-in for ecr.example: run ecr-sso login"),
        Login("AWS", "secret"),
    ]

    def ask() -> Login:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    login = ecr_login.HelperLogin("ecr.example", ask, clock=Clock())

    with pytest.raises(errors.EcrSsoError, match="no ECR sign-in"):
        login.current()
    assert login.current().token == "secret"


def test_the_auth_file_holds_each_login_and_lives_in_memory(tmp_path: Path) -> None:
    logins = {"ecr.example": Login("AWS", "ecr-secret"), "hub.example": Login("me", "hub")}
    folder = tmp_path / "run-folder"
    folder.mkdir(mode=0o700)

    with migrate.memory_authfile(logins, str(folder)) as (path, fds):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if fds:  # Linux: a memfd, named through /dev/fd; nothing in the folder
            assert path == f"/dev/fd/{fds[0]}"
            assert os.readlink(f"/proc/self/fd/{fds[0]}").startswith("/memfd:")
            assert list(folder.iterdir()) == []
        else:
            assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    auths = data["auths"]
    assert set(auths) == {"ecr.example", "hub.example"}
    assert base64.b64decode(auths["ecr.example"]["auth"]) == b"AWS:ecr-secret"
    if fds:
        with pytest.raises(OSError, match="Bad file descriptor"):
            os.fstat(fds[0])  # closed with the block


def test_no_login_no_auth_file(tmp_path: Path) -> None:
    with migrate.memory_authfile({}, str(tmp_path)) as found:
        assert found == ("", ())


def test_a_prefetch_that_failed_is_raised_by_the_next_look_once() -> None:
    asked = []

    def ask() -> Login:
        asked.append(1)
        raise errors.EcrSsoError("no ECR sign-in for ecr.example: run ecr-sso login")

    login = ecr_login.HelperLogin("ecr.example", ask, clock=Clock())
    thread = login.prefetch()
    thread.join(30)
    assert not thread.is_alive()

    with pytest.raises(errors.EcrSsoError, match="no ECR sign-in"):
        login.current()
    assert asked == [1]  # the prefetch's failure, not a second helper run
    with pytest.raises(errors.EcrSsoError, match="no ECR sign-in"):
        login.current()  # told once; the next look asks again
    assert asked == [1, 1]

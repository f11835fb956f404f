"""The README's quick start, run as written against the stand-ins: the fake SSO sign-in
(tests/fakeoidc.py, with a script playing the browser) and the fake ECR over real HTTP, in
the test's isolated home. Where the README shows output, the output must match it."""

from __future__ import annotations

import subprocess

import pytest
import readme
from conftest import Env, environ_with
from fakeaws import FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    oidc_fixture,
    signin_server,
)

#: Commands of the quick start that cannot run here, and the test that covers each.
NOT_RUN = {
    "install/install.sh": "test_install.py installs into a fresh home",
    "bash tests/run --fast": "this suite; test_fresh_clone.py runs the pure tier of a clone",
    "docker pull 642976147714.dkr.ecr.eu-west-1.amazonaws.com/app:1": (
        "needs the real registry; test_real_pull.py pulls through the helper from a stand-in"
    ),
}


def test_the_commands_not_run_here_are_still_in_the_quick_start() -> None:
    commands = [step.command for step in readme.quickstart_steps()]
    assert [c for c in commands if c in NOT_RUN] == list(NOT_RUN)


def test_the_quick_start_as_written(
    env: Env,
    aws: FakeAWS,
    oidc: FakeOIDC,
    browser: FakeBrowser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran = []
    for step in readme.quickstart_steps():
        if step.command in NOT_RUN:
            continue
        result = subprocess.run(
            ["sh", "-c", step.command],
            cwd=readme.REPO,
            capture_output=True,
            text=True,
            env=environ_with({}),
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        where = f"$ {step.command}\n{result.stdout}{result.stderr}"
        # doctor's network checks meet the stand-ins' endpoints; anything red fails it.
        assert result.returncode == 0, where
        assert step.matches(result.stdout), (
            where + "\n--- the README shows:\n" + "\n".join(step.shown)
        )
        ran.append(step.command.split()[0:2])
    assert ["ecr-sso", "login"] in ran
    assert ["echo", "642976147714.dkr.ecr.eu-west-1.amazonaws.com"] in ran

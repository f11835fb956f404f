"""A reader that goes away early (docker giving up, `| head -c1`, a closed pipe): both
executables stop quietly, with the exit status of a process killed by SIGPIPE (141, as
Unix tools give it) and nothing on stderr, let alone a traceback. Deterministic: stdout is
a pipe whose reading end is already closed, so the first write fails."""

from __future__ import annotations

import os
import subprocess

import pytest
from conftest import HELPER, SSO, Env, RunHelper, environ_with
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from protocolcheck import answer
from setup_fixtures import ECR_SSO

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
SIGPIPE_STATUS = 141


def into_a_closed_pipe(argv: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    reading, writing = os.pipe()
    os.close(reading)
    try:
        return subprocess.run(
            argv,
            input=stdin,
            stdout=writing,
            stderr=subprocess.PIPE,
            env=environ_with(None),
            timeout=60,
            check=False,
        )
    finally:
        os.close(writing)


def assert_quiet(result: subprocess.CompletedProcess[bytes]) -> None:
    assert (result.returncode, result.stderr.decode()) == (SIGPIPE_STATUS, "")


@pytest.mark.parametrize(
    ("action", "stdin"),
    [("list", b""), ("version", b""), ("--help", b""), ("nonsense", b""), ("get", b"")],
)
def test_the_helper_stops_quietly(
    env: Env, sso: SSO, aws: FakeAWS, action: str, stdin: bytes
) -> None:
    sso.login()
    assert_quiet(into_a_closed_pipe([str(HELPER), action], stdin))


def test_a_get_stops_quietly_on_the_full_path_and_on_a_cache_hit(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()

    assert_quiet(into_a_closed_pipe([str(HELPER), "get"], DEV.encode()))  # a miss: AWS asked
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    assert_quiet(into_a_closed_pipe([str(HELPER), "get"], DEV.encode()))  # the cache's hit
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    assert answer(run_helper("get", DEV))["Username"] == "AWS"


def test_the_helper_log_has_no_internal_error(env: Env, sso: SSO) -> None:
    sso.login()
    into_a_closed_pipe([str(HELPER), "list"])
    logs = list((env.home / ".local" / "state").rglob("ecr-sso.log"))
    assert all("internal error" not in p.read_text() for p in logs)
    assert all("unexpected error" not in p.read_text() for p in logs)


@pytest.mark.parametrize(
    "args",
    [["completion", "bash"], ["registries"], ["doctor", "--offline"], ["status"]],
)
def test_ecr_sso_stops_quietly(env: Env, sso: SSO, args: list[str]) -> None:
    sso.login()
    env.write_config(f'[registries]\n"{DEV}" = "dev"\n')
    assert_quiet(into_a_closed_pipe([str(ECR_SSO), *args]))


def test_ecr_sso_help_into_a_closed_pipe_says_nothing(env: Env) -> None:
    for args in (["--help"], ["--version"], ["setup", "--help"]):
        result = into_a_closed_pipe([str(ECR_SSO), *args])
        assert result.stderr == b"", args

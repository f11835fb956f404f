"""The log is for people: one line per failure by default; tracebacks (ours and
botocore's) only with `ECR_SSO_LOG=debug`; an unknown `ECR_SSO_LOG` is refused."""

from __future__ import annotations

from pathlib import Path

from conftest import SSO, Env, RunHelper
from fakeaws import FakeAWS
from protocolcheck import error_line

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
FAILURE = (
    f"get {DEV} failed: the SSO login for profile 'dev' is missing or expired;"
    " run `ecr-sso login dev`"
)


def log_file(env: Env) -> Path:
    return env.home / ".local" / "state" / "ecr-sso" / "log" / "ecr-sso.log"


def test_not_signed_in_is_one_line_in_the_log(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    sso.expire()
    # botocore tries to refresh the token at the fake OIDC, which fails: it logs a traceback

    error_line(run_helper("get", DEV, env={"ECR_SSO_NO_LOGIN": "1"}))

    lines = log_file(env).read_text().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(f" credhelper WARNING {FAILURE}")


def test_debug_log_has_the_tracebacks(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    sso.expire()

    error_line(run_helper("get", DEV, env={"ECR_SSO_LOG": "debug", "ECR_SSO_NO_LOGIN": "1"}))

    text = log_file(env).read_text()
    assert "Traceback (most recent call last)" in text
    assert f" credhelper WARNING {FAILURE}\n" in text


def test_unknown_log_level_is_refused(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()

    line = error_line(run_helper("get", DEV, env={"ECR_SSO_LOG": "verbose"}))

    assert line == (
        "ECR_SSO_LOG (environment variable) must be one of debug, info, warning, error, off,"
        " not 'verbose'"
    )

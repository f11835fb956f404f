"""Our login is the AWS CLI's login: after `ecr-sso login`, the PyPI `awscli`, boto3 and
the credential helper use it with no further sign-in, and botocore refreshes it alone."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

from conftest import BIN_DIR, SSO, Env, RunHelper
from fakeaws import GET_ROLE_CREDENTIALS, FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    AUTH_CODE,
    REFRESH,
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    ecr_sso,
    oidc_fixture,
    signin_server,
    token_file,
    write_sso_config,
)

from credhelper.sso.logins import parse_time

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"


def signed_in(env: Env) -> str:
    write_sso_config(env)
    result = ecr_sso("login", "dev")
    assert result.returncode == 0, result.stderr
    return str(json.loads(token_file(env).read_text())["accessToken"])


def test_awscli_uses_our_login(
    env: Env, aws: FakeAWS, oidc: FakeOIDC, browser: FakeBrowser, sts: str
) -> None:
    token = signed_in(env)

    result = subprocess.run(
        [str(BIN_DIR / "aws"), "sts", "get-caller-identity", "--profile", "dev"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert set(identity) >= {"Account", "Arn", "UserId"}
    # The role credentials came from our token, and nobody signed in again.
    (call,) = [c for c in aws.calls if c.operation == GET_ROLE_CREDENTIALS]
    assert call.params == {"account_id": "111111111111", "role_name": "Developer", "bearer": token}
    assert oidc.grants() == [AUTH_CODE]


def test_boto3_uses_our_login(env: Env, aws: FakeAWS, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    signed_in(env)
    program = (
        "import boto3\n"
        "ecr = boto3.Session(profile_name='dev').client('ecr', region_name='eu-west-1')\n"
        "print(ecr.get_authorization_token()['authorizationData'][0]['authorizationToken'])\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    decoded = base64.b64decode(result.stdout.strip()).decode()
    assert decoded == "AWS:" + FakeAWS.password("111111111111", "Developer")


def test_botocore_refreshes_our_login_by_itself(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    """The access token expired an hour ago; the refresh token and the registration in
    our file are enough for botocore to renew it, without a browser."""
    old = signed_in(env)
    sso.expire("team")
    visits = len(browser.visits())

    result = run_helper("get", DEV)

    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["Secret"] == FakeAWS.password("111111111111", "Developer")
    assert oidc.grants() == [AUTH_CODE, REFRESH]
    assert len(browser.visits()) == visits, "no sign-in"
    renewed = json.loads(token_file(env).read_text())
    assert renewed["accessToken"] != old
    assert renewed["accessToken"] == oidc.access_tokens[-1]
    assert parse_time(renewed["expiresAt"]) > time.time() + 3600
    assert os.stat(token_file(env)).st_mode & 0o777 == 0o600

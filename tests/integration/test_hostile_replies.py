"""A hostile network and odd neighbours: AWS replies that are not what they should be, a
server that drips, concurrent SSO refreshes, and the small edges of store, erase, the
sign-in listener and the log. Run as docker runs the helper: the installed executable,
stdin in, stdout captured, the fake AWS over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import HELPER, SSO, Env, RunHelper
from fakeaws import (
    ECR_GET_AUTHORIZATION_TOKEN,
    ECR_PUBLIC_GET_AUTHORIZATION_TOKEN,
    GET_ROLE_CREDENTIALS,
    FakeAWS,
)
from fakeoidc import (  # noqa: F401 - fixtures
    CREATE_TOKEN,
    REFRESH,
    FakeOIDC,
    oidc_fixture,
    signin_server,
    token_file,
)
from protocolcheck import answer, error_line, silent_success

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"
DEV_SECRET = FakeAWS.password("111111111111", "Developer")


# -- every reply checked --------------------------------------------------------------------

ECR = "ECR GetAuthorizationToken"


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("html", "answered with an HTML page: a proxy or captive portal?"),
        ("truncated", "answered with a cut-off body ({got} of {promised} bytes):"),
        ("cut-json", "answered with a body that is not JSON: cut off, or not AWS?"),
        ("not-utf8", "answered with bytes that are not UTF-8 text"),
        ("empty", "answered with an empty authorizationData"),
        ("not-base64", "answered with an authorizationToken that is not base64 of user:password"),
        ("no-colon", "answered with an authorizationToken that is not base64 of user:password"),
        ("no-expiry", "answered with a token without an expiry (no expiresAt)"),
    ],
)
def test_a_bad_ecr_reply_is_one_line_naming_the_endpoint(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper, kind: str, problem: str
) -> None:
    sso.login()
    aws.misbehave(ECR_GET_AUTHORIZATION_TOKEN, kind)

    line = error_line(run_helper("get", DEV))

    head = f"{ECR} at {aws.url} "
    assert line.startswith(head), line
    if "{got}" in problem:
        assert line.startswith(head + problem.split("(", maxsplit=1)[0] + "("), line
        assert line.endswith("bytes): the connection dropped?"), line
    else:
        assert line == head + problem
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1, "a bad reply is not retried"
    assert not list((Path(os.environ["XDG_CACHE_HOME"]) / "ecr-sso" / "tokens").glob("*"))


@pytest.mark.parametrize(
    ("operation", "label", "kind", "problem"),
    [
        (
            ECR_PUBLIC_GET_AUTHORIZATION_TOKEN,
            "ECR Public GetAuthorizationToken",
            "empty",
            "answered with an empty authorizationData",
        ),
        (
            ECR_PUBLIC_GET_AUTHORIZATION_TOKEN,
            "ECR Public GetAuthorizationToken",
            "html",
            "answered with an HTML page: a proxy or captive portal?",
        ),
        (
            GET_ROLE_CREDENTIALS,
            "SSO portal GetRoleCredentials",
            "empty",
            "answered without roleCredentials",
        ),
        (
            GET_ROLE_CREDENTIALS,
            "SSO portal GetRoleCredentials",
            "not-utf8",
            "answered with bytes that are not UTF-8 text",
        ),
        (
            GET_ROLE_CREDENTIALS,
            "SSO portal GetRoleCredentials",
            "no-expiry",
            "answered with credentials without an expiry (no expiration)",
        ),
    ],
)
def test_bad_public_and_portal_replies(
    *,
    sso: SSO,
    aws: FakeAWS,
    run_helper: RunHelper,
    operation: str,
    label: str,
    kind: str,
    problem: str,
) -> None:
    sso.login()
    aws.misbehave(operation, kind)
    host = "public.ecr.aws" if "Public" in label else DEV
    env_vars = {"ECR_SSO_PROFILE": "dev"} if host == "public.ecr.aws" else {}

    line = error_line(run_helper("get", host, env=env_vars))

    assert line == f"{label} at {aws.url} {problem}"


def test_a_bad_refresh_reply_is_one_line(
    env: Env, sso: SSO, aws: FakeAWS, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    refreshable_login(env, sso, oidc)
    aws.misbehave(CREATE_TOKEN, "html")

    line = error_line(run_helper("get", DEV))

    assert line == (
        f"SSO-OIDC CreateToken at {aws.url} answered with an HTML page: a proxy or captive portal?"
    )


# -- bounded time ---------------------------------------------------------------------------


def test_a_dripping_server_is_cut_at_the_deadline(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config("get_timeout_seconds = 3\n")
    aws.misbehave(ECR_GET_AUTHORIZATION_TOKEN, "drip")  # a byte every 1.5 s: no read timeout
    started = time.monotonic()

    line = error_line(run_helper("get", DEV, timeout=60))

    elapsed = time.monotonic() - started
    assert line == (
        f"no answer for {DEV} within 3 s (get_timeout_seconds): still waiting for"
        f" {ECR} at {aws.url}"
    )
    # 3 s and the start-up of a cold helper; without the deadline it takes minutes.
    assert 3 <= elapsed < 10, elapsed
    assert not (env.cache_dir / "tokens").exists() or not list((env.cache_dir / "tokens").iterdir())


def test_the_deadline_setting_is_checked(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    env.write_config("get_timeout_seconds = 0\n")

    line = error_line(run_helper("get", DEV))

    assert line == (
        f"{env.config_file}: get_timeout_seconds must be a number of seconds above 0 and at"
        " most 3600"
    )


def test_a_fast_answer_is_not_cut(env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    env.write_config("get_timeout_seconds = 10\n")
    aws.ecr_delay = 0.5  # a slow AWS, well inside the deadline

    assert answer(run_helper("get", DEV))["Secret"] == DEV_SECRET


# -- one SSO refresh per session ------------------------------------------------------------


def test_concurrent_gets_under_one_session_refresh_it_once(
    env: Env, sso: SSO, aws: FakeAWS, oidc: FakeOIDC, tmp_path: Path
) -> None:
    """Eight helpers for two registries of one sso-session whose access token expired: the
    fake rotates refresh tokens and refuses a used one, so a second refresh would fail."""
    old_refresh = refreshable_login(env, sso, oidc)
    oidc.refresh_delay = 0.5  # every helper reaches the refresh while the first waits

    results = run_all([DEV, PROD] * 4, tmp_path)

    secrets = [answer(result)["Secret"] for result in results]
    assert secrets == [DEV_SECRET, FakeAWS.password("222222222222", "ReadOnly")] * 4
    assert oidc.grants().count(REFRESH) == 1
    login = json.loads(token_file(env).read_text())
    (live,) = oidc.refresh_tokens  # the rotated one, the only one the fake still accepts
    assert login["refreshToken"] == live != old_refresh
    assert login["accessToken"] == oidc.access_tokens[-1]
    assert os.stat(token_file(env)).st_mode & 0o777 == 0o600


def test_a_refused_refresh_asks_for_a_sign_in(
    env: Env, sso: SSO, aws: FakeAWS, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    refreshable_login(env, sso, oidc)
    oidc.refresh_tokens.clear()  # used elsewhere: the fake no longer accepts it

    line = error_line(run_helper("get", DEV))

    assert line == "the SSO login for profile 'dev' is missing or expired; run `ecr-sso login dev`"
    assert oidc.grants().count(REFRESH) == 1


# -- the smaller edges ----------------------------------------------------------------------

NULL_BACKEND = "keyring.backends.null.Keyring"
OTHER = "registry.example.com:5000"


def store_request(server_url: str, username: str, secret: str) -> str:
    return json.dumps({"ServerURL": server_url, "Username": username, "Secret": secret})


@pytest.mark.parametrize("action", ["store", "erase"])
def test_store_and_erase_with_a_file_where_the_cache_folder_should_be(
    env: Env, sso: SSO, run_helper: RunHelper, tmp_path: Path, action: str
) -> None:
    # A cache folder the helper cannot trust or use is not used at all: `store` of an ECR
    # token is accepted uncached (as `get` works uncached), `erase` has nothing to erase;
    # neither is an internal error, and the log says which folder and why.
    sso.login()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    stdin = store_request(DEV, "AWS", "a-token") if action == "store" else DEV

    silent_success(run_helper(action, stdin, env={"ECR_SSO_CACHE_DIR": str(blocker)}))

    log = next((env.home / ".local" / "state").rglob("ecr-sso.log")).read_text()
    warnings = [line for line in log.splitlines() if "not using the token cache" in line]
    assert len(warnings) == 1, log
    assert str(blocker) in warnings[0]
    assert "a-token" not in log
    assert blocker.read_text() == ""


def test_store_without_a_username_is_refused(run_helper: RunHelper) -> None:
    line = error_line(run_helper("store", store_request(OTHER, "", "a-secret")))

    assert line == "no credentials username"


def test_store_into_a_keyring_that_keeps_nothing_fails(run_helper: RunHelper) -> None:
    environ = {"PYTHON_KEYRING_BACKEND": NULL_BACKEND}

    line = error_line(run_helper("store", store_request(OTHER, "alice", "s3cret"), env=environ))

    assert line.startswith(
        f"the OS keyring ({NULL_BACKEND}) did not keep the password; passwords for registries"
        " other than ECR are kept there"
    ), line
    assert "s3cret" not in line
    assert answer(run_helper("list", env=environ)) == {}, "nothing listed that was not kept"


def test_a_callback_without_the_sign_in_state_is_refused_and_the_wait_goes_on() -> None:
    from credhelper.sso.loopback import Listener

    with Listener("the-real-state") as listener:
        base = listener.redirect_uri
        for query in (
            "code=stolen&state=guessed",
            "code=stolen",
            "error=access_denied&state=guessed",
            "error=access_denied",
        ):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(f"{base}?{query}", timeout=10)
            assert refused.value.code == 400, query
            refused.value.close()
        assert listener.wait(0.3).kind == "timeout", "nothing was handed to the sign-in"

        with urllib.request.urlopen(f"{base}?code=real&state=the-real-state", timeout=10) as ok:
            assert ok.status == 200
        got = listener.wait(10)

    assert (got.kind, got.code, got.state, got.error) == (
        "redirect",
        "real",
        "the-real-state",
        None,
    )


def test_the_log_file_is_private(env: Env, aws: FakeAWS, run_helper: RunHelper) -> None:
    log = env.home / ".local" / "state" / "ecr-sso" / "log" / "ecr-sso.log"

    error_line(run_helper("get", DEV))  # no credentials at all: a warning is logged

    assert log.stat().st_mode & 0o777 == 0o600
    assert "no AWS credentials" in log.read_text()


# -- helpers --------------------------------------------------------------------------------


def refreshable_login(env: Env, sso: SSO, oidc: FakeOIDC) -> str:
    """An sso-session login whose access token expired an hour ago, with a registration and
    a refresh token the fake knows: botocore or we can refresh it. Returns the refresh
    token."""
    sso.login()
    client_id, secret, refresh = oidc.seed_refreshable()
    path = token_file(env)
    cached = json.loads(path.read_text())
    cached.update(clientId=client_id, clientSecret=secret, refreshToken=refresh)
    path.write_text(json.dumps(cached))
    sso.expire()
    return refresh


def run_all(requests: list[str], tmp_path: Path) -> list[subprocess.CompletedProcess[bytes]]:
    """Start one helper `get` per request at once; their results in order."""
    procs = []
    for index, host in enumerate(requests):
        request = tmp_path / f"request-{index}"
        request.write_text(host)
        with request.open("rb") as stdin:
            procs.append(
                subprocess.Popen(
                    [str(HELPER), "get"],
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=dict(os.environ),
                )
            )
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results

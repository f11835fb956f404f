"""Signing in from inside `docker pull`: the helper's `get` finds the SSO login expired
and, where a person can see a browser, signs in itself and answers. Run as docker runs
it (the installed executable, stdin in, stdout captured), with BROWSER as the person."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from conftest import HELPER, SSO, Env, RunHelper
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, GET_ROLE_CREDENTIALS, FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    AUTH_CODE,
    AUTHORIZE,
    REGISTER_CLIENT,
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    oidc_fixture,
    signin_server,
    token_file,
)
from protocolcheck import answer, error_line

from credhelper.sso.logins import parse_time

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"
DEV_SECRET = FakeAWS.password("111111111111", "Developer")
FIX = "run `ecr-sso login dev`"


def expired(sso: SSO) -> None:
    """An expired login that botocore cannot refresh (the fake does not know its
    registration): only a new sign-in helps."""
    sso.login()
    sso.expire()


def test_expired_login_signs_in_and_the_pull_goes_on(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)

    result = answer(run_helper("get", DEV))

    assert result == {"ServerURL": DEV, "Username": "AWS", "Secret": DEV_SECRET}
    assert len(oidc.calls(AUTHORIZE)) == 1
    assert oidc.grants().count(AUTH_CODE) == 1
    login = json.loads(token_file(env).read_text())
    assert login["accessToken"] == oidc.access_tokens[-1]
    assert parse_time(login["expiresAt"]) > time.time() + 3600
    # The other profile of the same session uses the new login: no second sign-in.
    assert answer(run_helper("get", PROD))["Secret"] == FakeAWS.password("222222222222", "ReadOnly")
    assert len(oidc.calls(AUTHORIZE)) == 1


def start_helpers(count: int, tmp_path: Path, **extra: str) -> list[subprocess.Popen[bytes]]:
    """`count` concurrent `get`s for DEV. Each reads its request from a file, so that all
    of them run at once (feeding pipes one `communicate` after another would not)."""
    request = tmp_path / "request"
    request.write_text(DEV)
    procs = []
    for _ in range(count):
        with request.open("rb") as stdin:
            procs.append(
                subprocess.Popen(
                    [str(HELPER), "get"],
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={**os.environ, "ECR_SSO_LOG": "info", **extra},
                )
            )
    return procs


def wait_for_log(env: Env, text: str, count: int) -> None:
    """Until the helpers' log holds `count` lines containing `text` (60 s at most)."""
    log = env.home / ".local" / "state" / "ecr-sso" / "log" / "ecr-sso.log"
    deadline = time.monotonic() + 60
    found = 0
    while time.monotonic() < deadline:
        found = log.read_text().count(text) if log.exists() else 0
        if found >= count:
            return
        threading.Event().wait(0.02)  # polling a condition, with a deadline
    raise AssertionError(f"{found} of {count} log lines with {text!r}")


def test_sixteen_concurrent_gets_open_one_browser(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, tmp_path: Path
) -> None:
    """buildkit runs several helpers at once; one expiry must mean one browser window.
    The person approves only once the other fifteen are waiting for that sign-in."""
    expired(sso)
    gate = tmp_path / "gate"
    procs = start_helpers(16, tmp_path, FAKE_BROWSER_GATE=str(gate))
    wait_for_log(env, "another ecr-sso is signing in to sso-session 'team'", 15)
    gate.touch()
    outputs = [p.communicate(timeout=120) for p in procs]

    assert [p.returncode for p in procs] == [0] * 16, outputs
    assert [json.loads(out)["Secret"] for out, _ in outputs] == [DEV_SECRET] * 16
    assert [err for _, err in outputs] == [b""] * 16
    assert len(oidc.calls(AUTHORIZE)) == 1
    assert len([v for v in browser.visits() if "/authorize?" in v]) == 1
    assert len(oidc.calls(REGISTER_CLIENT)) == 1
    assert oidc.grants().count(AUTH_CODE) == 1
    assert oidc.aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_in_ci_no_browser_and_a_fast_clear_failure(
    sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)
    started = time.monotonic()

    line = error_line(run_helper("get", DEV, env={"CI": "true"}))

    assert line == f"the SSO login for profile 'dev' is missing or expired; {FIX}"
    assert time.monotonic() - started < 10  # a hang guard: nothing waited for
    assert browser.visits() == []
    assert oidc.calls(REGISTER_CLIENT) == []
    assert oidc.calls(AUTHORIZE) == []


def test_ecr_sso_no_login_turns_it_off(
    sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)

    line = error_line(run_helper("get", DEV, env={"ECR_SSO_NO_LOGIN": "1"}))

    assert line.endswith(FIX)
    assert browser.visits() == []
    assert oidc.calls(REGISTER_CLIENT) == []


def test_auto_login_false_turns_it_off(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)
    env.write_config("auto_login = false\n")

    line = error_line(run_helper("get", DEV))

    assert line.endswith(FIX)
    assert browser.visits() == []
    assert oidc.calls(REGISTER_CLIENT) == []


def test_without_a_display_or_browser_nothing_opens(
    sso: SSO, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    expired(sso)

    line = error_line(run_helper("get", DEV, env={"CI": None, "DISPLAY": None, "BROWSER": None}))

    assert line.endswith(FIX)
    assert oidc.calls(REGISTER_CLIENT) == []


def test_sign_in_not_completed_in_time(
    sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)
    started = time.monotonic()

    line = error_line(
        run_helper("get", DEV, env={"FAKE_BROWSER_MODE": "ignore", "ECR_SSO_LOGIN_TIMEOUT": "1"})
    )

    assert line == f"the sign-in to sso-session 'team' was not completed within 1 s; {FIX}"
    assert time.monotonic() - started < 20  # a hang guard; the bound itself is 1 s
    assert len(browser.visits()) == 1


def test_login_timeout_from_the_config(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)
    env.write_config("login_timeout = 1\n")

    line = error_line(run_helper("get", DEV, env={"FAKE_BROWSER_MODE": "ignore"}))

    assert "was not completed within 1 s" in line


def test_a_failed_sign_in_is_not_repeated_by_the_waiting_helpers(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, tmp_path: Path
) -> None:
    """The person refuses; the three helpers that waited for that sign-in fail at once
    with the command to run, instead of each opening a browser again."""
    expired(sso)
    oidc.deny = True
    gate = tmp_path / "gate"
    procs = start_helpers(4, tmp_path, FAKE_BROWSER_GATE=str(gate))
    wait_for_log(env, "another ecr-sso is signing in to sso-session 'team'", 3)
    gate.touch()
    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [1] * 4
    lines = sorted(out.decode().strip() for out, _ in outputs)
    assert lines == [
        f"signing in to sso-session 'team' in the browser failed just now; {FIX}"
    ] * 3 + [f"the sign-in to sso-session 'team' was denied in the browser; {FIX}"]
    assert len(oidc.calls(AUTHORIZE)) == 1
    assert len([v for v in browser.visits() if "/authorize?" in v]) == 1


def test_denied_in_the_browser(
    sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)
    oidc.deny = True

    line = error_line(run_helper("get", DEV))

    assert line == f"the sign-in to sso-session 'team' was denied in the browser; {FIX}"


def test_browser_that_cannot_start(
    sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    expired(sso)
    started = time.monotonic()

    line = error_line(run_helper("get", DEV, env={"FAKE_BROWSER_MODE": "fail"}))

    assert line == (
        "the browser could not show the sign-in page: the browser program exited with"
        f" status 3; {FIX}"
    )
    assert time.monotonic() - started < 20  # noticed at once, not at the 2-minute bound


def test_a_revoked_login_is_replaced(
    sso: SSO, aws: FakeAWS, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    """The file says the login is valid for hours, but AWS refuses it (signed out
    elsewhere): that too needs a sign-in, and gets one."""
    aws.revoke_sso_token(sso.login())

    result = answer(run_helper("get", DEV))

    assert result["Secret"] == DEV_SECRET
    assert len(oidc.calls(AUTHORIZE)) == 1
    bearers = [c.params["bearer"] for c in aws.calls if c.operation == GET_ROLE_CREDENTIALS]
    assert bearers[-1] == oidc.access_tokens[-1]


def test_legacy_profiles_are_not_signed_in_from_docker(
    env: Env, sso: SSO, oidc: FakeOIDC, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    """A legacy profile signs in with a device code, which needs a terminal."""
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text(
        "[profile dev]\nsso_start_url = https://legacy.awsapps.com/start\n"
        "sso_region = eu-west-1\nsso_account_id = 111111111111\nsso_role_name = Developer\n"
        "region = eu-west-1\n"
    )

    line = error_line(run_helper("get", DEV))

    assert line.endswith(FIX)
    assert oidc.calls(REGISTER_CLIENT) == []
    assert browser.visits() == []


def test_a_cache_hit_never_loads_the_sign_in_code(
    sso: SSO, browser: FakeBrowser, run_helper: RunHelper
) -> None:
    """Also on the full path (the fingerprint changed, the token is cached)."""
    sso.login()
    answer(run_helper("get", DEV))
    probe = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(sorted(sys.modules))))\n"
        f"sys.argv = [{str(HELPER)!r}, 'get']\n"
        f"runpy.run_path({str(HELPER)!r}, run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        input=DEV.encode(),
        capture_output=True,
        env={**os.environ, "ECR_SSO_CACHE": "file"},  # a new fingerprint: the full path runs
        check=False,
    )

    assert result.returncode == 0
    assert json.loads(result.stdout)["Secret"] == DEV_SECRET
    imported = set(result.stderr.decode().split())
    assert "credhelper.helper.usecases" in imported, "the full path ran"
    sign_in = {
        "credhelper.helper.autologin",
        "credhelper.sso.flows",
        "credhelper.sso.browser",
        "credhelper.sso.loopback",
    }
    assert not imported & sign_in

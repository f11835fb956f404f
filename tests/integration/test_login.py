"""`ecr-sso login` end to end: the installed command, the fake SSO-OIDC over HTTP, and a
real program as the browser (tests/fakebrowser.py, reached through BROWSER)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

from conftest import Env
from fakeaws import FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    AUTH_CODE,
    AUTHORIZE,
    CREATE_TOKEN,
    DEVICE_CODE,
    ECR_SSO,
    FAKE_BROWSER,
    REGISTER_CLIENT,
    START_DEVICE_AUTHORIZATION,
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    ecr_sso,
    oidc_fixture,
    query_of,
    signin_server,
    token_file,
    write_sso_config,
)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
TOKEN_KEYS = {
    "startUrl",
    "region",
    "accessToken",
    "expiresAt",
    "clientId",
    "clientSecret",
    "registrationExpiresAt",
    "refreshToken",
}
LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+/oauth/callback")


def test_browser_sign_in_writes_the_login_as_the_aws_cli_does(
    env: Env, aws: FakeAWS, oidc: FakeOIDC, browser: FakeBrowser
) -> None:
    write_sso_config(env)

    result = ecr_sso("login", "dev")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("signed in to sso-session 'team' until ")
    assert result.stdout.rstrip().endswith("; profiles: dev, prod")
    # RegisterClient as the AWS CLI (2.22+) makes it for the PKCE flow.
    (register,) = oidc.calls(REGISTER_CLIENT)
    assert register.params == {
        "clientName": "ecr-sso",
        "clientType": "public",
        "grantTypes": ["authorization_code", "refresh_token"],
        "redirectUris": ["http://127.0.0.1/oauth/callback"],
        "issuerUrl": "https://example.awsapps.com/start",
        "scopes": ["sso:account:access"],
    }
    # The browser went to SSO-OIDC's /authorize (where AWS_ENDPOINT_URL_SSO_OIDC points)
    # and was redirected to the loopback listener.
    opened, redirected = browser.visits()
    assert opened.startswith(f"{aws.url}/authorize?response_type=code&client_id=")
    assert list(query_of(opened)) == [
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "code_challenge_method",
        "scopes",
        "code_challenge",
    ]
    authorize = query_of(opened)
    assert LOOPBACK.fullmatch(authorize["redirect_uri"])
    assert authorize["code_challenge_method"] == "S256"
    assert authorize["scopes"] == "sso:account:access"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", authorize["code_challenge"])
    assert redirected.startswith(authorize["redirect_uri"] + "?code=")
    assert query_of(redirected)["state"] == authorize["state"]
    (create,) = oidc.calls(CREATE_TOKEN)
    assert create.params["grantType"] == AUTH_CODE
    assert create.params["redirectUri"] == authorize["redirect_uri"]
    assert create.params["clientId"] == authorize["client_id"]
    # The token file: where botocore looks, the AWS CLI's keys and formats, private.
    path = token_file(env, "team")
    login = json.loads(path.read_text())
    assert set(login) == TOKEN_KEYS
    assert login["accessToken"] == oidc.access_tokens[-1]
    assert login["startUrl"] == "https://example.awsapps.com/start"
    assert login["region"] == "eu-west-1"
    assert login["clientId"] == authorize["client_id"]
    assert TIMESTAMP.fullmatch(login["expiresAt"])
    assert TIMESTAMP.fullmatch(login["registrationExpiresAt"])
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temp file left"


def test_wrong_state_is_rejected(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    """An answer with another state is refused (400) and does not end the sign-in: the
    listener waits on for the real one, here until the timeout."""
    write_sso_config(env)
    oidc.wrong_state = True

    result = ecr_sso("login", "dev", "--timeout", "2")

    assert result.returncode == 1
    assert "the sign-in to sso-session 'team' was not completed within 2 s" in result.stderr
    assert any("/oauth/callback?" in url for url in browser.visits()), "the answer came"
    assert oidc.calls(CREATE_TOKEN) == [], "the code is never exchanged"
    assert not token_file(env, "team").exists()


def test_denied_sign_in(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(env)
    oidc.deny = True

    result = ecr_sso("login", "dev")

    assert result.returncode == 1
    assert "ecr-sso: the sign-in to sso-session 'team' was denied in the browser\n" in (
        result.stderr
    )
    assert len(oidc.calls(AUTHORIZE)) == 1
    assert oidc.calls(CREATE_TOKEN) == []
    assert not token_file(env, "team").exists()


def test_second_login_reuses_the_client_registration(
    env: Env, oidc: FakeOIDC, browser: FakeBrowser
) -> None:
    write_sso_config(env)
    assert ecr_sso("login", "dev").returncode == 0
    first = json.loads(token_file(env).read_text())

    assert ecr_sso("login", "prod").returncode == 0

    second = json.loads(token_file(env).read_text())
    assert len(oidc.calls(REGISTER_CLIENT)) == 1
    assert [c.params["clientId"] for c in oidc.calls(CREATE_TOKEN)] == [first["clientId"]] * 2
    assert second["accessToken"] != first["accessToken"]
    assert second["clientSecret"] == first["clientSecret"]


def test_browser_that_fails_leaves_the_url_to_open_by_hand(
    env: Env, oidc: FakeOIDC, browser: FakeBrowser
) -> None:
    """A person at a terminal can still open the printed URL; with no one doing so, the
    wait ends at --timeout with an error naming it."""
    write_sso_config(env)
    started = time.monotonic()

    result = ecr_sso("login", "dev", "--timeout", "1", env={"FAKE_BROWSER_MODE": "fail"})

    assert result.returncode == 1
    assert "/authorize?" in result.stderr
    assert "was not completed within 1 s" in result.stderr
    assert time.monotonic() - started < 20
    assert oidc.calls(CREATE_TOKEN) == []


def test_no_browser_prints_the_url_for_the_person(env: Env, aws: FakeAWS, oidc: FakeOIDC) -> None:
    """--no-browser opens nothing; the person (here: the fake browser, run by the test)
    opens the printed URL on this machine, and the sign-in completes."""
    write_sso_config(env)
    process = subprocess.Popen(
        [str(ECR_SSO), "login", "dev", "--no-browser"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    url = None
    for line in process.stderr:  # blocks per line; the process prints the URL, then waits
        lines.append(line)
        if line.strip().startswith(f"{aws.url}/authorize?"):
            url = line.strip()
            break
    assert url is not None, "".join(lines)
    visit = subprocess.run(
        [sys.executable, str(FAKE_BROWSER), url],
        capture_output=True,
        timeout=30,
        check=False,
    )
    out, rest = process.communicate(timeout=30)

    assert visit.returncode == 0
    assert process.returncode == 0, "".join(lines) + rest
    assert out.startswith("signed in to sso-session 'team'")
    assert "Open this URL in a browser on this machine" in "".join(lines)
    assert token_file(env).exists()


def test_device_code_sign_in(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(env)
    oidc.device_interval = 0
    oidc.device_answers = ["pending"]

    result = ecr_sso("login", "dev", "--device-code", "--no-browser")

    assert result.returncode == 0, result.stderr
    assert "/device?user_code=ABCD-EFGH" in result.stderr
    assert "ABCD-EFGH" in result.stderr
    (register,) = oidc.calls(REGISTER_CLIENT)
    assert "redirectUris" not in register.params
    assert len(oidc.calls(START_DEVICE_AUTHORIZATION)) == 1
    assert oidc.grants() == [DEVICE_CODE, DEVICE_CODE]
    assert browser.visits() == []
    login = json.loads(token_file(env).read_text())
    assert set(login) == TOKEN_KEYS
    assert login["accessToken"] == oidc.access_tokens[-1]


def test_without_a_display_the_device_code_is_used(env: Env, oidc: FakeOIDC) -> None:
    write_sso_config(env)
    oidc.device_interval = 0

    result = ecr_sso("login", "dev", env={"CI": None})

    assert result.returncode == 0, result.stderr
    assert "No browser can be opened here: there is no display" in result.stderr
    assert "ABCD-EFGH" in result.stderr
    assert oidc.calls(AUTHORIZE) == []
    assert oidc.grants() == [DEVICE_CODE]


def test_device_code_denied(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(env)
    oidc.device_interval = 0
    oidc.device_answers = ["pending", "denied"]

    result = ecr_sso("login", "dev", "--device-code", "--no-browser")

    assert result.returncode == 1
    assert result.stderr.endswith("ecr-sso: the sign-in to sso-session 'team' was denied\n")
    assert not token_file(env).exists()


def test_legacy_profile_signs_in_with_a_device_code(
    env: Env, oidc: FakeOIDC, browser: FakeBrowser
) -> None:
    start_url = "https://legacy.awsapps.com/start"
    env.aws_config.parent.mkdir(parents=True)
    env.aws_config.write_text(
        f"[profile old]\nsso_start_url = {start_url}\nsso_region = us-east-1\n"
        "sso_account_id = 333333333333\nsso_role_name = Dev\nregion = us-east-1\n"
    )
    oidc.device_interval = 0

    result = ecr_sso("login", "old", "--no-browser")

    assert result.returncode == 0, result.stderr
    assert oidc.grants() == [DEVICE_CODE]
    assert "scopes" not in oidc.calls(REGISTER_CLIENT)[0].params
    login = json.loads(token_file(env, start_url).read_text())
    assert login["startUrl"] == start_url
    assert login["region"] == "us-east-1"


def test_login_all_and_by_session(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(
        env,
        extra=(
            "\n[sso-session other]\nsso_start_url = https://other.awsapps.com/start\n"
            "sso_region = us-east-1\n"
        ),
    )

    assert ecr_sso("login", "--sso-session", "other").returncode == 0
    assert token_file(env, "other").exists()
    assert not token_file(env, "team").exists()
    result = ecr_sso("login", "--all")

    assert result.returncode == 0, result.stderr
    assert result.stdout.count("signed in to") == 2
    assert token_file(env, "team").exists()
    assert len(oidc.calls(AUTHORIZE)) == 3


def test_which_session_without_arguments(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(
        env,
        extra=(
            "\n[sso-session other]\nsso_start_url = https://other.awsapps.com/start\n"
            "sso_region = us-east-1\n"
        ),
    )

    several = ecr_sso("login")
    by_env = ecr_sso("login", env={"AWS_PROFILE": "prod"})

    assert several.returncode == 2
    assert "several SSO sessions (team, other)" in several.stderr
    assert by_env.returncode == 0, by_env.stderr
    assert token_file(env, "team").exists()
    assert oidc.calls(AUTHORIZE), "signed in for the profile AWS_PROFILE names"


def test_profile_that_does_not_use_sso(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(env, extra="\n[profile keys]\naws_access_key_id = AKIAEXAMPLE\n")

    missing = ecr_sso("login", "nope")
    not_sso = ecr_sso("login", "keys")

    assert missing.returncode == 2
    assert missing.stderr == (
        f"ecr-sso: no AWS profile 'nope' in {env.aws_config}: its profiles are dev, prod, keys\n"
    )
    assert not_sso.returncode == 1
    assert "does not sign in through SSO" in not_sso.stderr
    assert oidc.aws.calls == []


def test_an_unknown_name_is_answered_with_the_file_and_what_it_holds(
    env: Env, oidc: FakeOIDC, browser: FakeBrowser
) -> None:
    """As `ecr-sso status nosuch` does: the AWS config file and the names it does have, and
    where a name that came from the environment came from."""
    write_sso_config(env)

    session = ecr_sso("login", "--sso-session", "nope")
    from_env = ecr_sso("login", env={"AWS_PROFILE": "nope"})
    logout = ecr_sso("logout", "nope")

    assert (session.returncode, session.stdout) == (2, "")
    assert session.stderr == (
        f"ecr-sso: no sso-session 'nope' in {env.aws_config}: its sso-sessions are team\n"
    )
    assert from_env.returncode == 2
    assert from_env.stderr == (
        f"ecr-sso: no AWS profile 'nope' in {env.aws_config} (the name came from the"
        " environment variable AWS_PROFILE): its profiles are dev, prod\n"
    )
    assert logout.returncode == 2
    assert logout.stderr == (
        f"ecr-sso: no AWS profile 'nope' in {env.aws_config}: its profiles are dev, prod\n"
    )
    assert oidc.aws.calls == []


def test_in_ci_login_refuses_at_once(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(env)
    started = time.monotonic()

    result = ecr_sso("login", "dev", env={"CI": "true"})

    assert result.returncode == 1
    assert "CI is set" in result.stderr
    assert "needs a person at a browser" in result.stderr
    assert time.monotonic() - started < 10  # a hang guard: no wait at all
    assert browser.visits() == []
    assert oidc.aws.calls == []


def test_ctrl_c_stops_the_wait(env: Env, oidc: FakeOIDC, browser: FakeBrowser) -> None:
    write_sso_config(env)
    process = subprocess.Popen(
        [str(ECR_SSO), "login", "dev"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FAKE_BROWSER_MODE": "ignore"},
    )
    assert process.stderr is not None
    waiting = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("Waiting up to"):
                waiting.set()
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert waiting.wait(30)
    process.send_signal(2)  # SIGINT, as Ctrl-C sends
    process.communicate(timeout=10)

    assert process.returncode == 130
    assert not token_file(env).exists()

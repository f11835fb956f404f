"""`ecr-sso status` and `ecr-sso doctor` say the same about every state an SSO login can be
in: both ask the one rule (`logins.state`), and this drives every state through both
commands and requires them to agree."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest
from conftest import BIN_DIR, SSO, Env

from credhelper.sso.logins import format_time

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
LEGACY = "444444444444.dkr.ecr.eu-west-1.amazonaws.com"
LEGACY_URL = "https://legacy.awsapps.com/start"
LEGACY_PROFILE = (
    "[profile old]\n"
    f"sso_start_url = {LEGACY_URL}\n"
    "sso_region = eu-west-1\n"
    "sso_account_id = 444444444444\n"
    "sso_role_name = Old\n"
    "region = eu-west-1\n"
)

Edit = Callable[[dict[str, Any]], "dict[str, Any] | None"]


def ago(seconds: float) -> str:
    return format_time(time.time() - seconds)


def expired_with(**changes: Any) -> Edit:
    """The token file with its access token expired an hour ago, and `changes` (a value
    of None removes the key)."""

    def edit(content: dict[str, Any]) -> dict[str, Any]:
        content["expiresAt"] = ago(3600)
        for key, value in changes.items():
            if value is None:
                content.pop(key, None)
            else:
                content[key] = value
        return content

    return edit


def nearly_expired(**changes: Any) -> Edit:
    def edit(content: dict[str, Any]) -> dict[str, Any]:
        content["expiresAt"] = ago(-30)  # 30 s left: less than the minute's margin
        content.update(changes)
        return {k: v for k, v in content.items() if v is not None}

    return edit


# (what, profile, how the token file is changed (None: removed), the state both must say)
CASES: list[tuple[str, str, Edit | None, str]] = [
    ("signed in", "dev", lambda c: c, "valid"),
    ("expired, refresh token and live registration", "dev", expired_with(), "refreshable"),
    ("expired, no refresh token", "dev", expired_with(refreshToken=None), "expired"),
    (
        "expired, registration expired",
        "dev",
        expired_with(registrationExpiresAt=ago(60)),
        "expired",
    ),
    ("expired, no registration", "dev", expired_with(clientId=None, clientSecret=None), "expired"),
    ("under a minute left, refreshable", "dev", nearly_expired(), "refreshable"),
    ("under a minute left, no refresh", "dev", nearly_expired(refreshToken=None), "expired"),
    ("no token file", "dev", None, "missing"),
    ("token file without an access token", "dev", lambda c: {"startUrl": "x"}, "missing"),
    ("unreadable expiry", "dev", lambda c: {**c, "expiresAt": "soon"}, "missing"),
    ("legacy, signed in", "old", lambda c: c, "valid"),
    # botocore refreshes sso-session logins only: a legacy profile's refresh token is no use.
    ("legacy, expired with a refresh token", "old", expired_with(), "expired"),
    ("legacy, no token file", "old", None, "missing"),
]


def command(*args: str) -> Any:
    result = subprocess.run(
        [str(BIN_DIR / "ecr-sso"), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        check=False,
        timeout=60,
    )
    assert result.stderr == "", result.stderr
    return json.loads(result.stdout)


def token_file(env: Env, profile: str) -> Any:
    key = "team" if profile == "dev" else LEGACY_URL
    name = hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()
    return env.sso_cache_dir / f"{name}.json"


@pytest.mark.parametrize(
    ("profile", "edit", "state"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_status_and_doctor_agree(
    env: Env, sso: SSO, profile: str, edit: Edit | None, state: str
) -> None:
    sso.login(extra_config=LEGACY_PROFILE)
    # The legacy profile's login, as the AWS CLI keeps it: under the start URL's SHA-1.
    team = json.loads(sso.cache_file("team").read_text())
    token_file(env, "old").write_text(json.dumps({**team, "startUrl": LEGACY_URL}))
    env.write_config(f'[registries]\n"{DEV}" = "dev"\n"{LEGACY}" = "old"\n')
    path = token_file(env, profile)
    if edit is None:
        path.unlink()
    else:
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))

    (status,) = command("status", "--json", profile)
    report = command("doctor", "--json", "--offline")

    label = "sso login " + ("team" if profile == "dev" else LEGACY_URL)
    (check,) = [c for c in report["checks"] if c["check"] == label]
    assert status["login"]["state"] == state
    assert check["state"] == state
    assert check["ok"] is (state in ("valid", "refreshable"))
    assert (check["fix"] is None) is check["ok"]
    if not check["ok"]:
        assert check["fix"] == f"ecr-sso login {profile}"

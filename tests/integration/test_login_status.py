"""`ecr-sso logout` and `ecr-sso status`, end to end against the fake AWS (and moto's STS
for `--whoami`)."""

from __future__ import annotations

import json
import socket
import time

from conftest import SSO, Env, RunHelper
from fakeaws import GET_ROLE_CREDENTIALS, FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    LOGOUT,
    FakeOIDC,
    ecr_sso,
    oidc_fixture,
    signin_server,
    token_file,
)

from credhelper.sso.logins import format_time, parse_time

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"
OPS = "333333333333.dkr.ecr.eu-west-1.amazonaws.com"
OTHER = "https://other.awsapps.com/start"


def two_sessions(sso: SSO, run_helper: RunHelper) -> tuple[str, str]:
    """Sessions `team` (dev, prod) and `other` (ops), signed in, each profile's ECR token
    cached. Returns the two SSO access tokens."""
    team = sso.login()
    other = sso.login(
        "other", start_url=OTHER, profiles={"ops": ("333333333333", "Ops", "eu-west-1")}
    )
    for host in (DEV, PROD, OPS):
        assert run_helper("get", host).returncode == 0
    return team, other


def cached_tokens(env: Env) -> list[str]:
    folder = env.cache_dir / "tokens"
    return sorted(p.name.split(".")[0] for p in folder.iterdir()) if folder.exists() else []


# -- logout -----------------------------------------------------------------------------


def test_logout_of_a_profiles_session(
    env: Env, sso: SSO, aws: FakeAWS, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    team, _ = two_sessions(sso, run_helper)
    assert cached_tokens(env) == ["dev", "ops", "prod"]

    result = ecr_sso("logout", "dev")

    assert result.returncode == 0, result.stderr
    assert result.stdout == "signed out of sso-session 'team'; removed 2 cached ECR tokens\n"
    assert [c.params["bearer"] for c in oidc.calls(LOGOUT)] == [team]
    assert not token_file(env, "team").exists()
    assert token_file(env, "other").exists()
    assert cached_tokens(env) == ["ops"]
    # The next pull for dev has neither a token nor a login (and here may not sign in).
    line = run_helper("get", DEV, env={"CI": "true"}).stdout.decode()
    assert (
        line == "the SSO login for profile 'dev' is missing or expired; run `ecr-sso login dev`\n"
    )


def test_logout_without_arguments_signs_out_of_everything(
    env: Env, sso: SSO, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    team, other = two_sessions(sso, run_helper)

    result = ecr_sso("logout")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "signed out of sso-session 'team'; removed 2 cached ECR tokens",
        "signed out of sso-session 'other'; removed 1 cached ECR token",
    ]
    assert sorted(c.params["bearer"] for c in oidc.calls(LOGOUT)) == sorted([team, other])
    assert list(env.sso_cache_dir.iterdir()) == []
    assert cached_tokens(env) == []


def test_logout_when_not_signed_in(env: Env, sso: SSO, oidc: FakeOIDC) -> None:
    sso.login()
    token_file(env, "team").unlink()

    result = ecr_sso("logout", "--sso-session", "team")

    assert result.returncode == 0
    assert result.stdout == "was not signed in to sso-session 'team'; removed 0 cached ECR tokens\n"
    assert oidc.calls(LOGOUT) == []


def test_logout_works_locally_when_aws_is_unreachable(
    env: Env, sso: SSO, oidc: FakeOIDC, run_helper: RunHelper
) -> None:
    two_sessions(sso, run_helper)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()

    result = ecr_sso("logout", "prod", env={"AWS_ENDPOINT_URL_SSO": f"http://127.0.0.1:{port}"})

    assert result.returncode == 0
    assert result.stderr.startswith("ecr-sso: AWS did not confirm the sign-out (cannot reach")
    assert "the login on this machine is removed anyway" in result.stderr
    assert not token_file(env, "team").exists()
    assert cached_tokens(env) == ["ops"]


# -- status -----------------------------------------------------------------------------


def test_status_json(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    assert run_helper("get", DEV).returncode == 0
    login = json.loads(token_file(env, "team").read_text())

    result = ecr_sso("status", "--json")

    assert result.returncode == 0, result.stderr
    dev, prod = json.loads(result.stdout)
    assert dev["profile"] == "dev"
    assert dev["sso_session"] == "team"
    assert dev["login"] == {"state": "valid", "expires_at": login["expiresAt"]}
    (token,) = dev["ecr_tokens"]
    assert token["registry"] == DEV
    assert token["fresh"] is True
    assert parse_time(token["expires_at"]) == parse_time(token["used_until"]) + 1800
    assert abs(parse_time(token["expires_at"]) - (time.time() + 12 * 3600)) < 120
    assert prod["profile"] == "prod"
    assert prod["login"]["state"] == "valid"
    assert prod["ecr_tokens"] == []
    assert "identity" not in dev


def test_status_table(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    assert run_helper("get", DEV).returncode == 0

    result = ecr_sso("status")

    assert result.returncode == 0, result.stderr
    header, dev, prod = result.stdout.splitlines()
    assert header.split() == ["PROFILE", "SSO", "LOGIN", "ECR", "TOKENS", "CACHED", "UNTIL"]
    assert dev.startswith("dev ")
    assert "valid until " in dev
    assert DEV in dev
    assert prod.startswith("prod ")
    assert prod.endswith(" -")


def test_status_of_expired_and_missing_logins(env: Env, sso: SSO) -> None:
    sso.login()
    sso.login("other", start_url=OTHER, profiles={"ops": ("333333333333", "Ops", "eu-west-1")})
    sso.expire("team")  # keeps its refresh token: botocore renews it on the next use
    other = json.loads(token_file(env, "other").read_text())
    other["expiresAt"] = format_time(time.time() - 60)
    del other["refreshToken"]
    token_file(env, "other").write_text(json.dumps(other))

    states = {
        entry["profile"]: entry["login"]["state"]
        for entry in json.loads(ecr_sso("status", "--json").stdout)
    }
    token_file(env, "other").unlink()
    table = ecr_sso("status", "ops").stdout

    assert states == {"dev": "refreshable", "prod": "refreshable", "ops": "expired"}
    assert table.splitlines()[1].split() == ["ops", "signed", "out", "-"]


def test_status_whoami(env: Env, sso: SSO, aws: FakeAWS, sts: str) -> None:
    sso.login()
    token_file(env, "team").unlink()
    sso.login("other", start_url=OTHER, profiles={"ops": ("333333333333", "Ops", "eu-west-1")})

    result = ecr_sso("status", "--whoami", "--json")

    assert result.returncode == 0, result.stderr
    entries = {entry["profile"]: entry for entry in json.loads(result.stdout)}
    assert entries["ops"]["identity"]["arn"].startswith("arn:aws:")
    assert entries["ops"]["identity_error"] is None
    assert entries["dev"]["identity"] is None
    assert entries["dev"]["identity_error"] == (
        "the SSO login for profile 'dev' is missing or expired; run `ecr-sso login dev`"
    )
    assert [c.params["role_name"] for c in aws.calls if c.operation == GET_ROLE_CREDENTIALS] == [
        "Ops"
    ]

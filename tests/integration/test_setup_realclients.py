"""What setup writes, read by the real readers: the AWS CLI (PyPI's awscli, version 1),
botocore, docker-py's config loader, and our own credential helper after an SSO login.

`aws configure list-profiles` exists in AWS CLI v2 only, which is not on PyPI; v1's
`aws configure get KEY --profile NAME` reads each profile instead, and botocore's
`available_profiles` (what v2's list-profiles prints too) lists them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import botocore.session
import docker.auth
import docker.utils.config
import pytest
from conftest import BIN_DIR, Env, RunHelper
from fakeaws import FakeAWS
from fakeportal import Account, FakePortal, portal  # noqa: F401 - the fixture
from setup_fixtures import (
    GOLDEN,
    docker_config,
    ecr_sso,
    on_terminal,
    seed_sso_login,
    signed_in_to_portal,
    write,
)

GOLDEN_TEAM = GOLDEN / "team.toml"
GOLDEN_PROFILES = {
    "dev": ("642976147714", "Administrator", "eu-west-1"),
    "stage": ("998135273239", "Administrator", "eu-west-1"),
    "prod": ("883291977974", "ReadOnly", "eu-central-1"),
}


def aws_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "aws"), *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        check=False,
    )


@pytest.fixture
def set_up_realworld(env: Env) -> None:
    """The real-world golden AWS config, set up with the golden team file."""
    write(env.aws_config, (GOLDEN / "aws_config" / "realworld.ini").read_bytes())
    result = ecr_sso("setup", "--from", str(GOLDEN_TEAM))
    assert result.returncode == 0, result.stderr


@pytest.mark.usefixtures("set_up_realworld")
def test_the_aws_cli_reads_every_profile() -> None:
    for name, (account, role, region) in GOLDEN_PROFILES.items():
        assert aws_cli("configure", "get", "sso_account_id", "--profile", name).stdout == (
            f"{account}\n"
        )
        assert aws_cli("configure", "get", "sso_role_name", "--profile", name).stdout == (
            f"{role}\n"
        )
        assert aws_cli("configure", "get", "sso_session", "--profile", name).stdout == (
            "connectedhome\n"
        )
        assert aws_cli("configure", "get", "region", "--profile", name).stdout == f"{region}\n"
    # The user's own profiles, the one with a space in its name included, are still there.
    assert aws_cli("configure", "get", "role_arn", "--profile", "my team").stdout == (
        "arn:aws:iam::444455556666:role/Team\n"
    )
    ci = aws_cli("configure", "get", "credential_process", "--profile", "ci")
    assert ci.stdout == "/usr/local/bin/creds --profile ci\n"


@pytest.mark.usefixtures("set_up_realworld")
def test_botocore_builds_a_session_for_each_profile() -> None:
    profiles = botocore.session.Session().available_profiles
    assert set(profiles) == {"default", "legacy-admin", "my team", "ci", *GOLDEN_PROFILES}
    for name, (account, role, region) in GOLDEN_PROFILES.items():
        session = botocore.session.Session(profile=name)
        scoped = session.get_scoped_config()
        assert scoped["sso_account_id"] == account
        assert scoped["sso_role_name"] == role
        assert session.get_config_variable("region") == region
        sso_session = session.full_config["sso_sessions"][scoped["sso_session"]]
        assert sso_session["sso_start_url"] == "https://example.awsapps.com/start"
        assert sso_session["sso_registration_scopes"] == "sso:account:access"
    # Nested keys of the untouched services block, as botocore reads them.
    services = botocore.session.Session().full_config["services"]["local-stack"]
    assert services["s3"] == {"endpoint_url": "http://localhost:4566", "addressing_style": "path"}


@pytest.mark.usefixtures("set_up_realworld")
def test_docker_py_sees_the_cred_helpers(env: Env) -> None:
    path = str(docker_config(env))
    loaded = docker.auth.load_config(config_path=path)
    for host in (
        "642976147714.dkr.ecr.eu-west-1.amazonaws.com",
        "642976147714.dkr.ecr.us-east-1.amazonaws.com",
        "998135273239.dkr.ecr.eu-west-1.amazonaws.com",
        "883291977974.dkr.ecr.eu-central-1.amazonaws.com",
        "registry.example.internal",
    ):
        assert loaded.get_credential_store(host) == "ecr-sso"
    assert loaded.get_credential_store("ghcr.io") is None
    assert docker.utils.config.load_general_config(path)["credHelpers"] == loaded.cred_helpers


# -- after an SSO login, the helper serves each registry with its own profile -----------------

# Two profiles of one account whose only difference is the role, and whose registries
# differ: without the map, the helper's account rule would pick the first for both.
E2E_TEAM = """\
[sso]
session = "team"
start_url = "https://example.awsapps.com/start"
region = "eu-west-1"

[profiles.dev]
account = "111111111111"
role = "Developer"
region = "eu-west-1"

[profiles.ops]
account = "111111111111"
role = "Admin"
region = "eu-west-1"
registries = ["us-east-1"]

[profiles.prod]
account = "222222222222"
role = "ReadOnly"
region = "us-east-1"

[[aliases]]
host = "registry.example.internal:5000"
profile = "prod"
"""


def test_after_login_every_registry_gets_its_profiles_token(
    env: Env, aws: FakeAWS, run_helper: RunHelper, tmp_path: Path
) -> None:
    team = tmp_path / "team.toml"
    team.write_text(E2E_TEAM)
    result = ecr_sso("setup", "--from", str(team))
    assert result.returncode == 0, result.stderr
    seed_sso_login(env, aws, "team", "https://example.awsapps.com/start", "eu-west-1")

    expected = {
        "111111111111.dkr.ecr.eu-west-1.amazonaws.com": ("111111111111", "Developer"),
        "111111111111.dkr.ecr.us-east-1.amazonaws.com": ("111111111111", "Admin"),
        "222222222222.dkr.ecr.us-east-1.amazonaws.com": ("222222222222", "ReadOnly"),
        "registry.example.internal:5000": ("222222222222", "ReadOnly"),
    }
    helpers = json.loads(docker_config(env).read_text())["credHelpers"]
    assert helpers == dict.fromkeys(expected, "ecr-sso")
    for host, (account, role) in expected.items():
        answer = run_helper("get", host)
        assert answer.returncode == 0, answer.stdout
        assert json.loads(answer.stdout) == {
            "ServerURL": host,
            "Username": "AWS",
            "Secret": FakeAWS.password(account, role),
        }


# -- --discover -----------------------------------------------------------------------------


def test_discover_sets_up_every_role(env: Env, aws: FakeAWS, portal: FakePortal) -> None:  # noqa: F811
    signed_in_to_portal(env, aws, portal)
    portal.set_accounts(
        [
            Account("111111111111", "Payments Prod", "a@example.com", ("Admin", "ReadOnly")),
            Account("222222222222", "Data Dev", "b@example.com", ("Admin",)),
        ]
    )

    result = ecr_sso(
        "setup", "--discover", "--sso-session", "team", "--exclude", "*ReadOnly", "--region",
        "us-west-2",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    # No terminal: no progress line.
    assert "listing roles" not in result.stderr
    assert "[sso-session team] is already set up this way" in result.stderr
    text = env.aws_config.read_text()
    assert "[profile payments-prod-admin]\nsso_session = team\nsso_account_id = 111111111111\n" in (
        text
    )
    assert "[profile data-dev-admin]\n" in text
    assert "readonly" not in text
    helpers = json.loads(docker_config(env).read_text())["credHelpers"]
    assert helpers == {
        "222222222222.dkr.ecr.us-west-2.amazonaws.com": "ecr-sso",
        "111111111111.dkr.ecr.us-west-2.amazonaws.com": "ecr-sso",
    }


def test_discover_shows_progress_on_a_terminal(
    env: Env,
    aws: FakeAWS,
    portal: FakePortal,  # noqa: F811
) -> None:
    token = seed_sso_login(env, aws, "team", "https://example.awsapps.com/start", "eu-west-1")
    portal.accept(token)
    portal.set_accounts(
        [Account(f"{n:012d}", f"Team {n}", "t@example.com", ("Admin",)) for n in range(1, 4)]
    )

    result = on_terminal(
        "setup", "--discover", "--sso-session", "team", "--sso-start-url",
        "https://example.awsapps.com/start", "--sso-region", "eu-west-1", answer="",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("\rlisting roles: 0/3 accounts")
    # The last count is drawn, then the line is erased.
    last = "listing roles: 3/3 accounts"
    assert f"\r{last}\r{' ' * len(last)}\r" in result.stderr
    assert "[profile team-3-admin]" in env.aws_config.read_text()


def test_discover_without_a_login_says_how_to_sign_in(env: Env) -> None:
    result = ecr_sso(
        "setup", "--discover", "--sso-session", "team", "--sso-start-url",
        "https://example.awsapps.com/start", "--sso-region", "eu-west-1",
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stderr == (
        "ecr-sso: no valid SSO login for session 'team' (missing or expired); run"
        " `ecr-sso login --sso-session team`\n"
    )
    assert not env.aws_config.exists()

"""`ecr-sso pull-through setup` and `status`: Secrets Manager is moto's (server mode); the
pull-through rule, creation template, registry policy and scanning configuration are the
fake AWS's (tests/fakepullthrough.py), since moto has none of them. The Docker Hub login
comes from a credential helper named in Docker's config, as `docker login` leaves it with a
`credsStore`: a small program speaking the helper protocol, holding one secret."""

from __future__ import annotations

import json
import os
import secrets
import stat
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import SSO, Env
from ecrbed import Cli, cli_fixture  # noqa: F401 - fixture
from fakeaws import FakeAWS
from fakepullthrough import PullThroughFake, policy

DEV_ACCOUNT = "111111111111"
PROD_ACCOUNT = "222222222222"
HOST = f"{DEV_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
SECRET = "ecr-pullthroughcache/docker-hub"
CONFIG = """\
default_profile = "dev"

[pull_through]
prefix = "docker-hub"
profile = "dev"
tag_immutability = true
lifecycle_days = 30
scan_on_push = true
"""
WRITES = (
    "CreatePullThroughCacheRule",
    "UpdatePullThroughCacheRule",
    "CreateRepositoryCreationTemplate",
    "UpdateRepositoryCreationTemplate",
    "PutRegistryScanningConfiguration",
)


@pytest.fixture(scope="session")
def pull_through_fake(fake_aws_server: FakeAWS) -> PullThroughFake:
    """Installed once: the fake AWS lives for the session, and resets the extension."""
    return PullThroughFake(fake_aws_server).install()


@pytest.fixture
def token(
    *,
    env: Env,
    sso: SSO,
    moto_server: str,
    pull_through_fake: PullThroughFake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """Signed in as dev and prod, our config's [pull_through], Secrets Manager at moto
    (emptied), and a Docker Hub login in a credential helper; returns its secret."""
    sso.login()
    env.write_config(CONFIG)
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_server)
    secret = "dckr_pat_" + secrets.token_urlsafe(24)
    bin_dir = tmp_path / "helper-bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-hubtest"
    helper.write_text(
        "#!/bin/sh\nread url\n"
        'if [ "$url" = "https://index.docker.io/v1/" ]; then\n'
        f'  printf \'{{"ServerURL":"%s","Username":"hubuser","Secret":"{secret}"}}\' "$url"\n'
        "else echo 'credentials not found in native keychain'; exit 1; fi\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    env.docker_config_dir.mkdir(parents=True, exist_ok=True)
    (env.docker_config_dir / "config.json").write_text(json.dumps({"credsStore": "hubtest"}))
    return secret


def _secrets(moto_server: str) -> Any:
    import botocore.session

    return botocore.session.Session().create_client(
        "secretsmanager",
        region_name="eu-west-1",
        endpoint_url=moto_server,
        aws_access_key_id="arrange",
        aws_secret_access_key="arrange",
    )


def _nowhere(token: str, tmp_path: Path, *texts: str) -> None:
    """The secret is in none of `texts`, and in no file under the test's folder but the
    helper that holds it (logs, caches, config)."""
    for text in texts:
        assert token not in text
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "docker-credential-hubtest":
            assert token.encode() not in path.read_bytes(), path


def test_setup_then_nothing_to_do(
    *,
    token: str,
    cli: Cli,
    aws: FakeAWS,
    pull_through_fake: PullThroughFake,
    moto_server: str,
    tmp_path: Path,
) -> None:
    result = cli("pull-through", "setup")

    assert result.code == 0, result.err
    assert [line.split() for line in result.lines] == [
        ["WHAT", "NAME", "RESULT"],
        ["secret", SECRET, "created"],
        ["rule", "docker-hub", "created"],
        ["template", "docker-hub", "created"],
        ["scan", "on", "push", "docker-hub/*", "updated"],
    ]
    assert "pull-through: Docker Hub login of hubuser from docker-credential-hubtest\n" in (
        result.err
    )
    assert f"official images are now at {HOST}/docker-hub/library/python:3.12\n" in result.err
    client = _secrets(moto_server)
    stored = json.loads(client.get_secret_value(SecretId=SECRET)["SecretString"])
    assert stored == {"username": "hubuser", "accessToken": token}
    arn = client.describe_secret(SecretId=SECRET)["ARN"]
    rule = pull_through_fake.rules[(DEV_ACCOUNT, "docker-hub")]
    assert rule["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert rule["upstreamRegistry"] == "docker-hub"
    assert rule["credentialArn"] == arn
    template = pull_through_fake.templates[(DEV_ACCOUNT, "docker-hub")]
    assert template["appliedFor"] == ["PULL_THROUGH_CACHE"]
    assert template["imageTagMutability"] == "IMMUTABLE"
    lifecycle = json.loads(template["lifecyclePolicy"])
    assert lifecycle["rules"][0]["selection"]["countNumber"] == 30
    assert pull_through_fake.scanning[DEV_ACCOUNT]["rules"] == [
        {
            "scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "docker-hub/*", "filterType": "WILDCARD"}],
        }
    ]
    _nowhere(token, tmp_path, result.out, result.err, repr(aws.calls))

    # Again: everything is there; no login is needed, and nothing is written.
    (tmp_path / "home" / ".docker" / "config.json").write_text("{}")
    aws.calls.clear()
    again = cli("pull-through", "setup", "--json")

    assert again.code == 0, again.err
    report = json.loads(again.out)
    assert [step["result"] for step in report["steps"]] == ["kept"] * 4
    assert not [call for call in aws.calls if call.operation in WRITES]
    versions = client.list_secret_version_ids(SecretId=SECRET)["Versions"]
    assert len(versions) == 1


def test_replace_secret_writes_a_new_version(
    token: str, cli: Cli, moto_server: str, tmp_path: Path
) -> None:
    assert cli("pull-through", "setup").code == 0

    result = cli("pull-through", "setup", "--replace-secret")

    assert result.code == 0, result.err
    assert ["secret", SECRET, "updated"] in [line.split() for line in result.lines]
    client = _secrets(moto_server)
    assert len(client.list_secret_version_ids(SecretId=SECRET)["Versions"]) == 2
    _nowhere(token, tmp_path, result.out, result.err)


def test_status_before_and_after_and_who_may_pull(
    token: str, cli: Cli, pull_through_fake: PullThroughFake, tmp_path: Path
) -> None:
    before = cli("pull-through", "status")

    assert before.code == 1
    assert "rule      none: run `ecr-sso pull-through setup`\n" in before.out
    assert f"secret    {SECRET}: missing\n" in before.out

    assert cli("pull-through", "setup").code == 0
    after = cli("pull-through", "status")

    assert after.code == 0, after.err
    assert after.lines[:5] == [
        f"registry  {HOST}",
        "rule      docker-hub → registry-1.docker.io",
        f"secret    {SECRET}: exists",
        "template  tags immutable, lifecycle policy yes",
        f"pull as   {HOST}/docker-hub/library/python:3.12",
    ]
    assert after.lines[5] == (
        f"account   prod ({PROD_ACCOUNT}): cannot pull through: policies lack"
        " ecr:BatchImportUpstreamImage, ecr:CreateRepository, ecr:BatchGetImage,"
        " ecr:GetDownloadUrlForLayer"
    )

    principal = {"AWS": f"arn:aws:iam::{PROD_ACCOUNT}:root"}
    pull_through_fake.registry_policies[DEV_ACCOUNT] = policy(
        [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                "Resource": f"arn:aws:ecr:eu-west-1:{DEV_ACCOUNT}:repository/docker-hub/*",
            }
        ]
    )
    pull_through_fake.templates[(DEV_ACCOUNT, "docker-hub")]["repositoryPolicy"] = policy(
        [{"Effect": "Allow", "Principal": principal, "Action": "ecr:*"}]
    )
    shared = cli("pull-through", "status", "--json")

    assert shared.code == 0, shared.err
    report = json.loads(shared.out)
    assert report["accounts"] == [
        {"account": PROD_ACCOUNT, "profiles": ["prod"], "canPull": True, "missing": []}
    ]
    assert report["secret"] == {"name": SECRET, "exists": True}
    _nowhere(token, tmp_path, before.out, after.out, shared.out, shared.err)


def test_without_a_login_and_a_terminal_nothing_is_made(
    token: str, cli: Cli, env: Env, aws: FakeAWS, moto_server: str
) -> None:
    (env.docker_config_dir / "config.json").write_text("{}")

    result = cli("pull-through", "setup")

    assert result.code == 2
    assert result.err == (
        "ecr-sso: no Docker Hub login found in Docker's config and no terminal to ask on:"
        " run `docker login` first (with an access token from Docker Hub's settings)\n"
    )
    assert not [call for call in aws.calls if call.operation in WRITES]
    assert _secrets(moto_server).list_secrets()["SecretList"] == []


def test_a_prefix_caching_another_registry_is_a_conflict(
    token: str, cli: Cli, pull_through_fake: PullThroughFake, moto_server: str
) -> None:
    pull_through_fake.rules[(DEV_ACCOUNT, "docker-hub")] = {
        "registryId": DEV_ACCOUNT,
        "ecrRepositoryPrefix": "docker-hub",
        "upstreamRegistryUrl": "quay.io",
    }

    result = cli("pull-through", "setup")

    assert result.code == 3
    assert result.err == (
        f"ecr-sso: the pull-through rule 'docker-hub' in {HOST} already caches quay.io;"
        " choose another --prefix\n"
    )
    assert _secrets(moto_server).list_secrets()["SecretList"] == []

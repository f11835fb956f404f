"""`ecr-sso url`: Docker Hub and other references translated to the chosen ECR registry.

The registry comes from the AWS config alone for SSO and role profiles (no AWS call: the
fake AWS, as every endpoint, records none), from STS GetCallerIdentity (moto) otherwise."""

from __future__ import annotations

import json

import pytest
from conftest import Env
from ecrbed import Cli, cli_fixture  # noqa: F401 - fixture
from fakeaws import FakeAWS

HOST = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32

AWS_CONFIG = """\
[profile dev]
sso_session = team
sso_account_id = 111111111111
sso_role_name = Developer
region = eu-west-1

[profile china]
sso_session = team
sso_account_id = 444444444444
sso_role_name = Developer
region = cn-north-1

[profile deploy]
role_arn = arn:aws:iam::333333333333:role/Deploy
source_profile = keys
region = us-west-2

[profile keys]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
region = eu-central-1

[sso-session team]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
"""


@pytest.fixture
def team(env: Env, aws: FakeAWS, monkeypatch: pytest.MonkeyPatch) -> FakeAWS:
    """The AWS config above, our config naming `dev` and the Docker Hub organisation, and
    every AWS endpoint (STS too) at the fake, which must see no call."""
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text(AWS_CONFIG)
    env.write_config('default_profile = "dev"\ndockerhub_org = "connectedhome"\n')
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", aws.url)
    return aws


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "connectedhome/hc-devcon-cpp-arm64:1.0.12",
            f"{HOST}/hc-devcon-cpp-arm64:1.0.12",
        ),
        ("docker.io/connectedhome/app:1", f"{HOST}/app:1"),
        ("index.docker.io/connectedhome/app", f"{HOST}/app"),
        ("app:1", f"{HOST}/app:1"),
        ("ubuntu:22.04", f"{HOST}/ubuntu:22.04"),
        ("docker.io/library/ubuntu", f"{HOST}/ubuntu"),
        (f"connectedhome/app@{DIGEST}", f"{HOST}/app@{DIGEST}"),
        (f"connectedhome/app:1@{DIGEST}", f"{HOST}/app:1@{DIGEST}"),
        ("bitnami/redis:7", f"{HOST}/bitnami/redis:7"),
        ("ghcr.io/team/app:2", f"{HOST}/team/app:2"),
        ("localhost:5000/app:3", f"{HOST}/app:3"),
        (f"{HOST}/app:1", f"{HOST}/app:1"),
        (
            "222222222222.dkr.ecr.us-east-1.amazonaws.com/app:1",
            f"{HOST}/app:1",
        ),
    ],
)
def test_url_translates(team: FakeAWS, cli: Cli, image: str, expected: str) -> None:
    result = cli("url", image)

    assert (result.code, result.out, result.err) == (0, expected + "\n", "")
    assert team.calls == []


def test_url_several_and_json(team: FakeAWS, cli: Cli) -> None:
    result = cli("url", "connectedhome/a:1", "b", "--json")

    assert result.code == 0
    assert json.loads(result.out) == [
        {"source": "connectedhome/a:1", "ecr": f"{HOST}/a:1"},
        {"source": "b", "ecr": f"{HOST}/b"},
    ]


def test_url_reads_stdin_line_by_line(team: FakeAWS, cli: Cli) -> None:
    stdin = "connectedhome/a:1\n\n  # a comment\n  b:2  \nconnectedhome/c@" + DIGEST + "\n"

    result = cli("url", "-", stdin=stdin)

    assert result.code == 0
    assert result.out == (f"{HOST}/a:1\n\n  # a comment\n{HOST}/b:2\n{HOST}/c@{DIGEST}\n")


def test_url_stdin_with_a_bad_line_prints_nothing(team: FakeAWS, cli: Cli) -> None:
    result = cli("url", "-", stdin="connectedhome/a:1\nFROM ubuntu\n")

    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "ecr-sso: stdin line 2: not an image reference: 'FROM ubuntu' (it contains white space)\n"
    )


def test_url_bad_argument(team: FakeAWS, cli: Cli) -> None:
    result = cli("url", "Connectedhome/App:1")

    assert result.code == 2
    assert result.err == (
        "ecr-sso: not an image reference: 'Connectedhome/App:1' (repository names are lower case)\n"
    )


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("china", "444444444444.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1"),
        ("deploy", "333333333333.dkr.ecr.us-west-2.amazonaws.com/app:1"),
    ],
)
def test_url_of_another_profile_needs_no_aws_call(
    team: FakeAWS, cli: Cli, profile: str, expected: str
) -> None:
    result = cli("url", "--profile", profile, "connectedhome/app:1")

    assert (result.code, result.lines) == (0, [expected])
    assert team.calls == []


def test_url_with_region(team: FakeAWS, cli: Cli) -> None:
    result = cli("url", "--region", "ap-southeast-2", "app:1")

    assert result.lines == ["111111111111.dkr.ecr.ap-southeast-2.amazonaws.com/app:1"]


def test_url_of_a_keys_profile_asks_sts(
    env: Env, cli: Cli, sts: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile that names no account: STS GetCallerIdentity (moto: account 123456789012)."""
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text(AWS_CONFIG)

    result = cli("url", "--profile", "keys", "app:1")

    assert (result.code, result.err) == (0, "")
    assert result.lines == ["123456789012.dkr.ecr.eu-central-1.amazonaws.com/app:1"]


def test_url_of_a_profile_without_region(team: FakeAWS, env: Env, cli: Cli) -> None:
    env.aws_config.write_text("[profile bare]\nsso_account_id = 555555555555\n")

    result = cli("url", "--profile", "bare", "app:1")

    assert result.code == 1
    assert result.err == (
        f"ecr-sso: AWS profile 'bare' has no region: pass --region, or set region in its"
        f" section of {env.aws_config}\n"
    )


def test_with_a_pull_through_cache_public_images_get_its_path(
    team: FakeAWS, env: Env, cli: Cli
) -> None:
    env.write_config(
        'default_profile = "dev"\ndockerhub_org = "connectedhome"\n\n'
        '[pull_through]\nprefix = "docker-hub"\n'
    )

    result = cli("url", "python:3.12", "connectedhome/app:1", "bitnami/redis", "ghcr.io/o/x:1")

    assert result.code == 0, result.err
    assert result.lines == [
        f"{HOST}/docker-hub/library/python:3.12",
        f"{HOST}/app:1",
        f"{HOST}/docker-hub/bitnami/redis",
        f"{HOST}/o/x:1",
    ]


def test_a_bad_pull_through_table_is_one_line(team: FakeAWS, env: Env, cli: Cli) -> None:
    env.write_config('default_profile = "dev"\n\n[pull_through]\nprefix = "Docker Hub"\n')

    result = cli("url", "python:3.12")

    assert result.code == 1
    assert result.err == (
        f"ecr-sso: {env.config_file}: [pull_through]: pull-through prefix 'Docker Hub'"
        " must be 2 to 30 lower-case letters, digits, '.', '_', '-' or '/'\n"
    )

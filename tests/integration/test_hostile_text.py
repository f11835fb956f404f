"""Text from outside reaches the terminal escaped: registry tags and repository names from
the ECR API, AWS error messages, profile names from the AWS config, paths with newlines,
and a team file's start URL. A terminal escape in any of them could rewrite the screen or
the title bar, and a newline could forge a line of output; every such character is shown
as a visible escape (`\\x1b`, `\\n`, ...), and each line stays one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SSO, Env
from ecrbed import (  # noqa: F401 - fixtures
    ACCOUNT,
    HOST,
    Cli,
    EcrBed,
    cli_fixture,
    ecr_fixture,
    ecr_front_fixture,
)
from fakeaws import FakeAWS
from fakeportal import Account, FakePortal, portal  # noqa: F401 - the fixture
from setup_fixtures import TEAM, ecr_sso, signed_in_to_portal, write

#: A title-bar rewrite, a bell, a cursor move, a right-to-left override, a forged line.
HOSTILE_TAG = "1.0\x1b]0;owned\x07"
FORGED_TAG = "2.0\nfake line"
BIDI_TAG = "3.0\u202egpj"
#: Any character a terminal acts on or that hides text, raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def assert_clean(text: str) -> None:
    assert RAW.search(text) is None, repr(text)


# -- the ECR API ------------------------------------------------------------------------------


def test_tags_with_control_characters_are_shown_escaped(ecr: EcrBed, cli: Cli) -> None:
    """moto stores any tag, as a compromised or impersonated registry could answer."""
    ecr.repository("app")
    ecr.image("app", HOSTILE_TAG, FORGED_TAG, BIDI_TAG, layer="one")

    plain = cli("tags", "app")
    long = cli("tags", "app", "-l")

    assert (plain.code, plain.err) == (0, "")
    assert plain.lines == ["1.0\\x1b]0;owned\\x07", "2.0\\nfake line", "3.0\\u202egpj"]
    assert long.code == 0
    assert len(long.lines) == 4
    assert [row.split()[0] for row in long.lines[1:]] == [
        "1.0\\x1b]0;owned\\x07",
        "2.0\\nfake",
        "3.0\\u202egpj",
    ]
    for result in (plain, long):
        assert_clean(result.out)


def test_repository_names_with_control_characters_are_shown_escaped(ecr: EcrBed, cli: Cli) -> None:
    """ECR itself (and moto) refuse such names; a hostile endpoint's reply does not."""
    name = "app\x1b[2J\rnew"
    ecr.front.canned["DescribeRepositories"] = (
        200,
        {
            "repositories": [
                {
                    "repositoryName": name,
                    "repositoryUri": f"{HOST}/{name}",
                    "registryId": ACCOUNT,
                    "createdAt": 1700000000,
                    "imageTagMutability": "MUTABLE\x1b[31m",
                    "imageScanningConfiguration": {"scanOnPush": False},
                }
            ]
        },
    )

    plain = cli("repos")
    long = cli("repos", "-l")

    assert (plain.code, plain.out) == (0, "app\\x1b[2J\\rnew\n")
    assert long.code == 0
    assert long.lines[1].split() == [
        "app\\x1b[2J\\rnew",
        f"{HOST}/app\\x1b[2J\\rnew",
        "2023-11-14T22:13:20Z",
        "mutable\\x1b[31m",
        "no",
    ]
    assert_clean(long.out)


def test_an_aws_error_message_is_one_escaped_line(ecr: EcrBed, cli: Cli, env: Env) -> None:
    ecr.front.canned["DescribeRepositories"] = (
        400,
        {
            "__type": "InvalidParameterException",
            "message": "denied\x1b]0;owned\x07\necr-sso: all good, nothing to see",
        },
    )

    result = cli("repos")

    assert result.code == 2  # ECR's InvalidParameterException: bad input
    assert result.err.count("\n") == 1
    assert "denied\\x1b]0;owned\\x07\\necr-sso: all good, nothing to see" in result.err
    assert_clean(result.err)
    log = env.home / ".local" / "state" / "ecr-sso" / "log" / "ecr-sso.log"
    (line,) = log.read_text().splitlines()
    assert line.endswith("denied\\x1b]0;owned\\x07\\necr-sso: all good, nothing to see")


# -- the AWS config and paths -----------------------------------------------------------------


def test_profile_names_from_the_aws_config_are_shown_escaped(sso: SSO, cli: Cli) -> None:
    sso.login()
    hostile = "dev\x1b[8m"
    config = sso.env.aws_config
    config.write_text(config.read_text() + f"\n[profile {hostile}]\nsso_session = team\n")

    result = cli("status")

    assert result.code == 0, result.err
    assert any(line.startswith("dev\\x1b[8m ") for line in result.lines), result.out
    assert_clean(result.out)


def test_a_path_with_a_newline_stays_on_one_line(
    env: Env, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "odd\nname\x1b[2J"
    folder.mkdir()
    (folder / "config").write_text("[profile dev]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(folder / "config"))

    result = cli("status", "nosuch")

    assert result.code != 0
    assert result.err.count("\n") == 1, result.err
    assert "odd\\nname\\x1b[2J" in result.err
    assert_clean(result.err)


# -- a team file ---------------------------------------------------------------------------------


def test_a_team_file_start_url_with_an_escape_is_refused_in_one_line(
    env: Env, tmp_path: Path
) -> None:
    team = tmp_path / "team.toml"
    team.write_text(
        TEAM.replace(
            'start_url = "https://example.awsapps.com/start"',
            'start_url = "https://example.awsapps.com/start\\u001b]0;owned\\u0007"',
        )
    )

    result = ecr_sso("setup", "--from", str(team), "--yes")

    assert result.returncode == 2
    assert result.stderr == (
        f"ecr-sso: {team}: sso.start_url must be the https:// start URL of IAM Identity Center,"
        " not 'https://example.awsapps.com/start\\x1b]0;owned\\x07'\n"
    )
    assert not env.aws_config.exists(), "nothing was written"


# -- SSO account and role names -----------------------------------------------------------------


def test_discovered_names_with_control_characters_never_reach_the_config_or_terminal(
    env: Env,
    aws: FakeAWS,
    portal: FakePortal,  # noqa: F811 - fixture
) -> None:
    """A role name IAM could not have (a newline would add a key such as
    `credential_process` to the profile) is skipped with a note; an account name only
    names profiles, which keep the safe characters."""
    signed_in_to_portal(env, aws, portal)
    evil_role = "Admin\ncredential_process = sh -c 'echo owned'"
    portal.set_accounts(
        [
            Account("111111111111", "Pay\x1b]0;owned\x07ments", "a@example.com", ("Dev",)),
            Account("222222222222", "Ops", "b@example.com", (evil_role,)),
        ]
    )

    result = ecr_sso("setup", "--discover", "--sso-session", "team", "--region", "eu-west-1")

    assert result.returncode == 0, result.stderr
    assert "credential_process" not in env.aws_config.read_text()
    assert "[profile pay-0-owned-ments-dev]" in env.aws_config.read_text()
    assert (
        f"note: skipped the role {evil_role!r} of account 222222222222: not an IAM role name\n"
    ) in result.stderr
    assert_clean(result.stdout + result.stderr)


def test_setup_dry_run_diffs_show_control_characters_escaped(env: Env, tmp_path: Path) -> None:
    """The diff shows lines of the person's files, which may hold anything; tabs, which
    docker's own config.json is indented with, stay tabs."""
    write(env.aws_config, "[profile mine]\nregion = eu-west-1\n# moved \x1b[2J\x07here\n")
    team = write(tmp_path / "team.toml", TEAM)

    result = ecr_sso("setup", "--from", str(team), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert " # moved \\x1b[2J\\x07here\n" in result.stdout
    assert_clean(result.stdout)

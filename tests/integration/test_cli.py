"""`ecr-sso`, the companion command: for now its version and its help."""

from __future__ import annotations

import subprocess

import pytest
from conftest import BIN_DIR

from credhelper.version import version


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "ecr-sso"), *args], capture_output=True, text=True, check=False
    )


def test_version() -> None:
    result = run("--version")

    assert result.returncode == 0
    assert result.stdout == f"ecr-sso {version()}\n"


def test_no_command_prints_help() -> None:
    result = run()

    assert result.returncode == 0
    assert result.stdout.startswith("usage: ecr-sso")
    assert "docker-credential-ecr-sso" in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = run("frobnicate")

    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_a_bad_flag_shows_the_subcommands_usage() -> None:
    result = run("status", "--jsn")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "usage: ecr-sso status [-h] [--whoami] [--json] [PROFILE ...]\n"
        "ecr-sso status: error: unrecognized arguments: --jsn (did you mean --json?)\n"
    )


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (
            ["tags", "app", "--lnog"],
            "ecr-sso tags: error: unrecognized arguments: --lnog (did you mean --long?)",
        ),
        (
            ["repos", "--profle", "dev"],
            "ecr-sso repos: error: unrecognized arguments: --profle dev (did you mean --profile?)",
        ),
        (
            ["repos", "--profle=dev", "--jsno"],
            "ecr-sso repos: error: unrecognized arguments: --profle=dev --jsno (did you mean"
            " --profile for --profle, --json for --jsno?)",
        ),
        (
            ["--verison"],
            "ecr-sso: error: unrecognized arguments: --verison (did you mean --version?)",
        ),
        (["status", "--zzzzzz"], "ecr-sso status: error: unrecognized arguments: --zzzzzz"),
        (
            ["status", "--jsn\x1b[2J"],
            "ecr-sso status: error: unrecognized arguments: --jsn\\x1b[2J (did you mean --json?)",
        ),
    ],
)
def test_a_mistyped_flag_suggests_the_closest(argv: list[str], said: str) -> None:
    result = run(*argv)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("usage: ecr-sso")
    assert result.stderr.endswith("\n" + said + "\n")


def test_a_mistyped_command_suggests_the_closest() -> None:
    result = run("stauts")

    assert result.returncode == 2
    assert result.stderr == (
        "usage: ecr-sso [-h] [--version] COMMAND ...\n"
        "ecr-sso: error: argument COMMAND: invalid choice: 'stauts' (did you mean status?)\n"
    )


def test_teardown_help_describes_its_own_force() -> None:
    teardown = " ".join(run("teardown", "--help").stdout.split())
    setup = " ".join(run("setup", "--help").stdout.split())

    assert (
        "--force also remove entries setup added that have been changed since (they are"
        " kept otherwise)"
    ) in teardown
    assert "--force replace entries whose values differ from what setup would write" in setup
    assert "teardown:" not in teardown + setup

"""`ecr-sso`, the companion command: for now its version and its help."""

from __future__ import annotations

import subprocess

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

"""Shell completion: the scripts `ecr-sso completion SHELL` prints, driven in real shells.
Bash's function is called with COMP_WORDS/COMP_CWORD set, as bash does on <TAB>; fish
answers `complete -C`; zsh is syntax-checked and its AWS-config reader run. Completing
runs no program (PATH is empty) and so never calls AWS."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Env
from realclients import require_tool

from credhelper import completion
from credhelper.cli import parser
from credhelper.cli.completion_cmd import SHELLS

AWS_CONFIG = """\
[default]
region = eu-west-1

[profile dev]
sso_session = team

[ profile prod ]
sso_session = team

[sso-session team]
sso_start_url = https://example.awsapps.com/start
"""


def needs(shell: str) -> str:
    return require_tool(shell)


@pytest.fixture(params=SHELLS)
def written(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path]:
    """The script for each shell, as `ecr-sso completion SHELL` prints it."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ecr-sso"), "completion", request.param],
        capture_output=True,
        text=True,
        check=True,
    )
    path = tmp_path / f"completion.{request.param}"
    path.write_text(result.stdout)
    return request.param, path


@pytest.fixture
def bash_script(tmp_path: Path) -> Path:
    path = tmp_path / "ecr-sso.bash"
    path.write_text(completion.script("bash", completion.describe(parser())))
    return path


def bash_complete(script: Path, line: str, environ: dict[str, str] | None = None) -> list[str]:
    """What bash offers for the last word of `line` (a trailing space: a new word)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    program = (
        f"source {shlex.quote(str(script))}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_ecr_sso\n"
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    empty = script.parent / "empty-path"
    empty.mkdir(exist_ok=True)
    result = subprocess.run(
        [needs("bash"), "--norc", "--noprofile", "-c", program],
        env={"HOME": os.environ["HOME"], "PATH": str(empty), **(environ or {})},
        capture_output=True,
        text=True,
        check=False,
        cwd=script.parent,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [w for w in result.stdout.split("\n") if w]


@pytest.fixture
def aws_config(env: Env) -> dict[str, str]:
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text(AWS_CONFIG)
    return {"AWS_CONFIG_FILE": str(env.aws_config)}


def test_syntax(written: tuple[str, Path]) -> None:
    shell, path = written
    result = subprocess.run([needs(shell), "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_bash_commands(bash_script: Path) -> None:
    offered = bash_complete(bash_script, "ecr-sso ")
    names = [c.name for c in completion.describe(parser()).commands]
    assert offered == names
    assert {"setup", "login", "doctor", "repos", "completion"} <= set(offered)
    assert bash_complete(bash_script, "ecr-sso lo") == ["login", "logout"]
    assert bash_complete(bash_script, "ecr-sso --v") == ["--version"]


def test_bash_flags_and_choices(bash_script: Path) -> None:
    assert bash_complete(bash_script, "ecr-sso setup --dr") == ["--dry-run"]
    assert bash_complete(bash_script, "ecr-sso doctor --") == ["--help", "--json", "--offline"]
    assert bash_complete(bash_script, "ecr-sso completion ") == ["bash", "zsh", "fish"]


def test_bash_profiles_from_the_aws_config(bash_script: Path, aws_config: dict[str, str]) -> None:
    assert bash_complete(bash_script, "ecr-sso login ", aws_config) == ["default", "dev", "prod"]
    assert bash_complete(bash_script, "ecr-sso status d", aws_config) == ["default", "dev"]
    assert bash_complete(bash_script, "ecr-sso repos --profile p", aws_config) == ["prod"]
    assert bash_complete(bash_script, "ecr-sso login --sso-session ", aws_config) == ["team"]


def test_bash_default_config_and_none(bash_script: Path, env: Env) -> None:
    assert bash_complete(bash_script, "ecr-sso login ") == []
    (env.home / ".aws").mkdir()
    (env.home / ".aws" / "config").write_text("[profile home-one]\n")
    assert bash_complete(bash_script, "ecr-sso login ") == ["home-one"]


def test_bash_file_values(bash_script: Path) -> None:
    (bash_script.parent / "team.toml").write_text("")
    assert bash_complete(bash_script, "ecr-sso setup --from te") == ["team.toml"]


def test_fish_completes(tmp_path: Path, aws_config: dict[str, str]) -> None:
    fish = needs("fish")
    script = tmp_path / "ecr-sso.fish"
    script.write_text(completion.script("fish", completion.describe(parser())))

    def offered(line: str) -> list[str]:
        result = subprocess.run(
            [fish, "--no-config", "-c", f"source {script}; complete -C {shlex.quote(line)}"],
            env={"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **aws_config},
            capture_output=True,
            text=True,
            check=True,
        )
        return [row.split("\t")[0] for row in result.stdout.splitlines()]

    assert {"setup", "login", "completion"} <= set(offered("ecr-sso "))
    assert sorted(offered("ecr-sso login ")) == ["default", "dev", "prod"]
    assert offered("ecr-sso repos --profile p") == ["prod"]
    assert offered("ecr-sso doctor --of") == ["--offline"]


def test_zsh_reads_sections(tmp_path: Path, aws_config: dict[str, str]) -> None:
    zsh = needs("zsh")
    script = tmp_path / "_ecr-sso"
    script.write_text(completion.script("zsh", completion.describe(parser())))
    program = (
        "compdef() { :; }; compadd() { print -l -- ${(P)2} }\n"
        f"source {script}\n_ecr_sso_profiles; _ecr_sso_sessions\n"
    )
    result = subprocess.run(
        [zsh, "-f", "-c", program],
        env={"HOME": os.environ["HOME"], "PATH": "", **aws_config},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["default", "dev", "prod", "team"]


def test_normal_start_loads_no_completion_code() -> None:
    probe = (
        "import sys\nfrom credhelper.cli import parser\nparser()\n"
        "print('credhelper.completion' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout == "False\n"
    assert completion.SHELLS == SHELLS

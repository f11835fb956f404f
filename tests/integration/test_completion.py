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


def bash_complete(
    script: Path,
    line: str,
    environ: dict[str, str] | None = None,
    *,
    raw: list[str] | None = None,
) -> list[str]:
    """What bash offers for the last word of `line` (a trailing space: a new word), or of
    the words `raw`, given as bash puts them in COMP_WORDS (quotes and backslashes kept)."""
    words = raw if raw is not None else shlex.split(line) + ([""] if line.endswith(" ") else [])
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
    # A file name is not a glob: `star*` is offered once, as itself.
    (bash_script.parent / "star*").write_text("")
    (bash_script.parent / "starfish").write_text("")
    assert sorted(bash_complete(bash_script, "ecr-sso setup --from star")) == ["star*", "starfish"]


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


#: Section names a hostile or careless AWS config may hold. botocore reads a header as
#: shell words: `[profile "a b"]` is profile `a b`; a name of three words is no profile.
HOSTILE_CONFIG = """\
[profile "$(touch PWNED-1)"]
[profile $(id>PWNED-2)]
[profile `id>PWNED-3`]
[profile *]
[profile 'a b']
[profile ~root]
[profile $HOME]
[profile x;id>PWNED-4]
[profile $(touch PWNED-5)]
[sso-session "$(touch PWNED-6)"]
[sso-session {a,b}]
"""
#: The names botocore finds there (the last profile header splits into three words).
HOSTILE_PROFILES = ["$(touch PWNED-1)", "$(id>PWNED-2)", "`id>PWNED-3`", "*", "a b", "~root"]
HOSTILE_PROFILES += ["$HOME", "x;id>PWNED-4"]
HOSTILE_SESSIONS = ["$(touch PWNED-6)", "{a,b}"]


@pytest.fixture
def hostile_config(env: Env) -> dict[str, str]:
    env.aws_config.parent.mkdir(parents=True, exist_ok=True)
    env.aws_config.write_text(HOSTILE_CONFIG)
    return {"AWS_CONFIG_FILE": str(env.aws_config)}


def test_the_aws_config_parser_agrees_on_the_hostile_names(hostile_config: dict[str, str]) -> None:
    from credhelper.aws import config as aws_config

    parsed = aws_config.read(hostile_config["AWS_CONFIG_FILE"])

    assert list(parsed.profiles) == HOSTILE_PROFILES
    assert list(parsed.sso_sessions) == HOSTILE_SESSIONS


def unquoted_by_bash(script: Path, words: list[str]) -> list[str]:
    """The words bash reads back from `words` typed on a command line (printf %q's quoting
    undone by the shell's own parser; never run as a command)."""
    program = "".join(f"w=({w}); printf '%s\\n' \"${{w[0]}}\"\n" for w in words)
    result = subprocess.run(
        [needs("bash"), "--norc", "--noprofile", "-c", program],
        env={"HOME": os.environ["HOME"], "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
        cwd=script.parent,
    )
    return result.stdout.splitlines()


def test_bash_completes_hostile_names_literally_and_runs_nothing(
    bash_script: Path, hostile_config: dict[str, str]
) -> None:
    folder = bash_script.parent
    (folder / "a-file-a-glob-would-find").write_text("")

    profiles = bash_complete(bash_script, "ecr-sso login ", hostile_config)
    sessions = bash_complete(bash_script, "ecr-sso login --sso-session ", hostile_config)

    # Quoted as the command line needs them: accepting one gives back the name.
    assert profiles == [
        r"\$\(touch\ PWNED-1\)",
        r"\$\(id\>PWNED-2\)",
        r"\`id\>PWNED-3\`",
        r"\*",
        r"a\ b",
        r"\~root",
        r"\$HOME",
        r"x\;id\>PWNED-4",
    ]
    assert sessions == [r"\$\(touch\ PWNED-6\)", r"\{a\,b\}"]
    assert unquoted_by_bash(bash_script, profiles) == HOSTILE_PROFILES
    assert unquoted_by_bash(bash_script, sessions) == HOSTILE_SESSIONS
    assert sorted(p.name for p in folder.iterdir() if "PWNED" in p.name) == []
    assert not list(Path(os.environ["HOME"]).rglob("PWNED*"))


def test_bash_matches_what_was_typed_quoted_or_not(
    bash_script: Path, hostile_config: dict[str, str]
) -> None:
    def offered(word: str) -> list[str]:
        return bash_complete(bash_script, "", hostile_config, raw=["ecr-sso", "login", word])

    assert offered("a") == [r"a\ b"]
    assert offered("a\\ ") == [r"a\ b"]
    assert offered("*") == [r"\*"]
    assert offered("\\$") == [r"\$\(touch\ PWNED-1\)", r"\$\(id\>PWNED-2\)", r"\$HOME"]
    assert offered("$H") == [r"\$HOME"]
    assert offered("nothing") == []


def test_fish_and_zsh_complete_hostile_names_literally(
    tmp_path: Path, hostile_config: dict[str, str]
) -> None:
    fish = needs("fish")
    script = tmp_path / "ecr-sso.fish"
    script.write_text(completion.script("fish", completion.describe(parser())))
    result = subprocess.run(
        [fish, "--no-config", "-c", f"source {script}; complete -C 'ecr-sso login '"],
        env={"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **hostile_config},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert sorted(row.split("\t")[0] for row in result.stdout.splitlines()) == sorted(
        HOSTILE_PROFILES
    )

    zsh = needs("zsh")
    zsh_script = tmp_path / "_ecr-sso"
    zsh_script.write_text(completion.script("zsh", completion.describe(parser())))
    program = (
        "compdef() { :; }; compadd() { print -rl -- ${(P)2} }\n"
        f"source {zsh_script}\n_ecr_sso_profiles; _ecr_sso_sessions\n"
    )
    result = subprocess.run(
        [zsh, "-f", "-c", program],
        env={"HOME": os.environ["HOME"], "PATH": "", **hostile_config},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == HOSTILE_PROFILES + HOSTILE_SESSIONS
    assert not list(tmp_path.rglob("PWNED*"))

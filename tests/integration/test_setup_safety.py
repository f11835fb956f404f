"""What setup must never do: write anything when one of its files is malformed, or leave
a file half-written when it is killed mid-write."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Env
from setup_fixtures import (
    TEAM_HOSTS,
    docker_config,
    ecr_sso,
    folder_listing,
    snapshot,
    team_file,  # noqa: F401 - the fixture
    three_files,
    write,
)

VALID_AWS = "[default]\nregion = us-east-1\n"
VALID_DOCKER = '{\n\t"credsStore": "desktop"\n}'
VALID_OURS = 'cache = "file"\n'

MALFORMED = {
    "aws": ("[default]\nregion = us-east-1\nthis is not a key\n", ", line 3: the AWS config"),
    "docker": ('{\n\t"credsStore": "desktop",\n}', ", line 3 column 1: Docker's config"),
    "ours": ('cache = "file"\n[registries\n', ", line 2: not valid TOML"),
}


def place_files(env: Env, broken: str | None = None) -> Path | None:
    """Valid content in all three files, except `broken`, which gets malformed content;
    returns the broken file's path."""
    paths = {"aws": env.aws_config, "docker": docker_config(env), "ours": env.config_file}
    valid = {"aws": VALID_AWS, "docker": VALID_DOCKER, "ours": VALID_OURS}
    for kind, path in paths.items():
        content = MALFORMED[kind][0] if kind == broken else valid[kind]
        write(path, content, mode=0o600)
    return paths.get(broken) if broken else None


@pytest.mark.parametrize("broken", sorted(MALFORMED))
def test_a_malformed_file_stops_everything(env: Env, team_file: Path, broken: str) -> None:  # noqa: F811
    path = place_files(env, broken)
    before = snapshot(three_files(env))
    listing = folder_listing(env)

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"ecr-sso: {path}{MALFORMED[broken][1]}")
    assert result.stderr.count("\n") == 1
    # Not the broken file, and not the two that setup would otherwise have changed.
    assert snapshot(three_files(env)) == before
    assert folder_listing(env) == listing


@pytest.mark.parametrize("broken", sorted(MALFORMED))
def test_teardown_also_stops_on_a_malformed_file(env: Env, team_file: Path, broken: str) -> None:  # noqa: F811
    assert ecr_sso("setup", "--from", str(team_file)).returncode == 0
    path = {"aws": env.aws_config, "docker": docker_config(env), "ours": env.config_file}[broken]
    path.write_text(path.read_text() + {"aws": "oops\n", "docker": "}", "ours": "[x\n"}[broken])
    before = snapshot(three_files(env))

    result = ecr_sso("teardown", "--yes")

    assert result.returncode == 2
    assert result.stderr.startswith(f"ecr-sso: {path}")
    assert snapshot(three_files(env)) == before


def test_a_wrong_type_in_our_config_is_malformed(env: Env, team_file: Path) -> None:  # noqa: F811
    env.write_config('[registries]\n"h" = 1\n')
    result = ecr_sso("setup", "--from", str(team_file))
    assert result.returncode == 2
    assert result.stderr == (
        f"ecr-sso: {env.config_file}: registries.'h' must be a profile name (a string)\n"
    )
    assert not env.aws_config.exists()


def test_a_duplicated_profile_is_refused(env: Env, team_file: Path) -> None:  # noqa: F811
    write(env.aws_config, "[profile dev]\nregion = a-b-1\n\n[profile 'dev']\nregion = a-b-2\n")
    before = snapshot(three_files(env))
    result = ecr_sso("setup", "--from", str(team_file))
    assert result.returncode == 1
    assert "profile 'dev' is defined 2 times (lines 1, 4)" in result.stderr
    assert snapshot(three_files(env)) == before


# -- killed mid-write --------------------------------------------------------------------------

# Runs the command in-process with os.replace patched to SIGKILL the process at the moment
# it would rename its finished temp file over `target`: the worst moment to die.
KILLER = """
import os, signal, sys
target = os.path.realpath(sys.argv[1])
real_replace = os.replace
def replace(src, dst, *args, **kwargs):
    if os.path.realpath(dst) == target:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)
os.replace = replace
from credhelper.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_killed_at(target: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(target), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("which", ["ours", "aws", "docker"])
def test_killed_between_temp_file_and_rename(env: Env, team_file: Path, which: str) -> None:  # noqa: F811
    place_files(env)
    target = {"aws": env.aws_config, "docker": docker_config(env), "ours": env.config_file}[which]
    original = target.read_bytes()

    killed = run_killed_at(target, "setup", "--from", str(team_file))

    assert killed.returncode == -signal.SIGKILL
    assert target.read_bytes() == original
    # The backup made just before is complete, and the finished temp file is all that is
    # left over: no half-written file anywhere.
    (backup,) = target.parent.glob(f"{target.name}.bak-*")
    assert backup.read_bytes() == original
    leftovers = list(target.parent.glob(".tmp-*"))
    assert len(leftovers) == 1
    if which == "docker":
        assert set(json.loads(leftovers[0].read_text())["credHelpers"]) == set(TEAM_HOSTS)

    # Running setup again completes the job.
    again = ecr_sso("setup", "--from", str(team_file))
    assert again.returncode == 0, again.stderr
    assert "[profile prod]" not in env.aws_config.read_text()
    assert "[profile stage]" in env.aws_config.read_text()
    assert set(json.loads(docker_config(env).read_text())["credHelpers"]) == set(TEAM_HOSTS)
    assert ecr_sso("setup", "--from", str(team_file)).stdout == "nothing to change\n"


def test_a_file_changed_under_setup_is_left_alone(env: Env, team_file: Path) -> None:  # noqa: F811
    # Something other than ecr-sso (an editor) may change a file while setup works: a plan
    # made from its old content must not replace it, and the files setup had already
    # renamed into place get their old bytes back. Simulated by editing the AWS config
    # while the temporary file of our config is written.
    place_files(env)
    script = """
import os, sys
from credhelper import atomic
real = atomic.write_temp
edited = []
def write_temp(path, data, **kwargs):
    if path.endswith(".toml") and not edited:
        edited.append(path)
        with open(sys.argv[1], "a") as handle:
            handle.write("\\n[profile late]\\nregion = eu-west-1\\n")
    return real(path, data, **kwargs)
atomic.write_temp = write_temp
from credhelper.cli import main
sys.exit(main(sys.argv[2:]))
"""
    before = snapshot([env.config_file, docker_config(env)])

    result = subprocess.run(
        [sys.executable, "-c", script, str(env.aws_config), "setup", "--from", str(team_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr == (
        f"ecr-sso: {env.aws_config} was changed by something else while ecr-sso was working;"
        " the files written before it were put back. Run the command again\n"
    )
    assert env.aws_config.read_text() == VALID_AWS + "\n[profile late]\nregion = eu-west-1\n"
    assert {p: s.content for p, s in snapshot([env.config_file, docker_config(env)]).items()} == {
        p: s.content for p, s in before.items()
    }
    # Neither backups nor temporary files are left behind.
    assert not list(env.config_file.parent.glob("*.bak-*"))
    assert not list(env.config_file.parent.glob(".tmp-*"))
    assert not list(env.aws_config.parent.glob(".tmp-*"))

    again = ecr_sso("setup", "--from", str(team_file))
    assert again.returncode == 0, again.stderr
    text = env.aws_config.read_text()
    assert text.startswith(VALID_AWS + "\n[profile late]\nregion = eu-west-1\n\n[sso-session")


# -- what would not round-trip -----------------------------------------------------------------

DOES_NOT_ROUND_TRIP = {
    "docker-repeated-auths": (
        "docker",
        '{\n\t"auths": {"a.example": {}},\n\t"auths": {"b.example": {}}\n}\n',
        ': key "auths" appears twice. Docker reads both',
    ),
    "docker-cred-helpers-in-two-cases": (
        "docker",
        '{\n\t"credHelpers": {"a.example": "ecr-sso"},\n\t"CredHelpers": {"b.example": "x"}\n}\n',
        ': keys "credHelpers" and "CredHelpers" are one key to docker',
    ),
    "docker-auths-in-capitals": (
        "docker",
        '{\n\t"AUTHS": {"642976147714.dkr.ecr.eu-west-1.amazonaws.com": {"auth": "eDp5"}}\n}\n',
        ': key "AUTHS" is "auths" to docker (Go matches keys case-insensitively)',
    ),
    "docker-lone-surrogate": (
        "docker",
        '{\n\t"detachKeys": "\\ud800"\n}\n',
        ': the value of "detachKeys" holds a lone surrogate escape',
    ),
    "docker-infinity": (
        "docker",
        '{\n\t"x": Infinity\n}\n',
        ", line 2: Docker's config is not valid JSON: Infinity is not a JSON number",
    ),
    "aws-repeated-section": (
        "aws",
        "[default]\nregion = a\n\n[default]\noutput = json\n",
        ", line 4: the AWS config is malformed: section [default] appears a second time",
    ),
    "aws-repeated-key": (
        "aws",
        "[default]\nregion = a\nregion = b\n",
        ", line 3: the AWS config is malformed: key region appears a second time in [default]",
    ),
    "ours-repeated-key": ("ours", 'cache = "file"\ncache = "none"\n', ", line 2: not valid TOML"),
    "ours-lone-surrogate": ("ours", 'x = "\\ud800"\n', ", line 1: not valid TOML"),
    "ours-host-twice": (
        "ours",
        '[registries]\n"1.dkr.ecr.eu-west-1.amazonaws.com" = "a"\n'
        '"1.DKR.ecr.eu-west-1.amazonaws.com" = "b"\n',
        ": [registries] has '1.dkr.ecr.eu-west-1.amazonaws.com' and"
        " '1.DKR.ecr.eu-west-1.amazonaws.com', one host written twice",
    ),
}


@pytest.mark.parametrize("case", sorted(DOES_NOT_ROUND_TRIP))
def test_what_would_not_round_trip_is_refused(env: Env, team_file: Path, case: str) -> None:  # noqa: F811
    kind, content, message = DOES_NOT_ROUND_TRIP[case]
    place_files(env)
    path = {"aws": env.aws_config, "docker": docker_config(env), "ours": env.config_file}[kind]
    write(path, content, mode=0o600)
    before = snapshot(three_files(env))
    listing = folder_listing(env)

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"ecr-sso: {path}{message}")
    assert result.stderr.count("\n") == 1
    assert snapshot(three_files(env)) == before
    assert folder_listing(env) == listing


def test_numbers_docker_reads_are_written_back_as_they_were(env: Env, team_file: Path) -> None:  # noqa: F811
    place_files(env)
    numbers = '{\n\t"a": 1e999,\n\t"b": 1.50,\n\t"c": 123456789012345678901234567890\n}\n'
    write(docker_config(env), numbers)

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 0, result.stderr
    text = docker_config(env).read_text()
    assert text.startswith(numbers.removesuffix("\n}\n") + ',\n\t"credHelpers": {')


def test_a_run_killed_between_renames_is_undone_by_the_next(env: Env, team_file: Path) -> None:  # noqa: F811
    place_files(env)
    before = snapshot(three_files(env))

    # Killed just before the last rename: our config and the AWS config are new already.
    killed = run_killed_at(docker_config(env), "setup", "--from", str(team_file))
    assert killed.returncode == -signal.SIGKILL
    assert "[profile dev]" in env.aws_config.read_text()

    # The next run that takes the lock puts them back first: the three files are all old.
    result = ecr_sso("teardown", "--yes")

    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "note: an earlier ecr-sso run was stopped while it wrote files; its changes were"
        f" undone: {env.config_file}, {env.aws_config}\n"
    )
    assert result.stdout == "nothing to change\n"
    assert {p: s.content for p, s in snapshot(three_files(env)).items()} == {
        p: s.content for p, s in before.items()
    }
    for path in three_files(env):
        assert not list(path.parent.glob("*.bak-*")), path
        assert not list(path.parent.glob(".tmp-*")), path
    assert not (env.home / ".local" / "state" / "ecr-sso" / "transaction.json").exists()

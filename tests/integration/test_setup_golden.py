"""Golden files: real-world configs before and after `ecr-sso setup`, and back after
`ecr-sso teardown`.

Each `NAME.ini` / `NAME.json` / `NAME.toml` in tests/golden/ is put in place, setup runs
with tests/golden/team.toml, and the result must be `NAME.expected.*` byte for byte. Besides
the exact output, each case checks the promise behind it: removing the sections setup added
gives back the input exactly, and so does teardown.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import Env
from setup_fixtures import GOLDEN, docker_config, ecr_sso, write

from credhelper.aws import config_editor as aws_config

TEAM = GOLDEN / "team.toml"


def cases(folder: str, suffix: str) -> list[Path]:
    return sorted(
        p for p in (GOLDEN / folder).glob(f"*{suffix}") if not p.name.endswith(f".expected{suffix}")
    )


def expected_of(path: Path) -> Path:
    return path.with_name(path.name.replace(path.suffix, f".expected{path.suffix}"))


def setup_ok() -> str:
    result = ecr_sso("setup", "--from", str(TEAM))
    assert result.returncode == 0, result.stderr
    return result.stdout


def teardown_ok() -> None:
    result = ecr_sso("teardown", "--yes")
    assert result.returncode == 0, result.stderr


def forget_setup_record(env: Env) -> None:
    """Remove setup's record of the files before it (as a setup made by an older
    version leaves things): teardown then removes our entries one by one."""
    shutil.rmtree(env.home / ".local" / "state" / "ecr-sso" / "setup")


@pytest.mark.parametrize("by_entries", [False, True], ids=["restored", "by-entries"])
@pytest.mark.parametrize("case", cases("aws_config", ".ini"), ids=lambda p: p.stem)
def test_aws_config(env: Env, case: Path, by_entries: bool) -> None:
    original = case.read_bytes()
    write(env.aws_config, original, mode=0o640)

    setup_ok()

    result = env.aws_config.read_bytes()
    assert result == expected_of(case).read_bytes()
    # Everything outside the sections setup added is the input, byte for byte.
    before = {s.name for s in aws_config.parse("before", original).sections}
    after = aws_config.parse("after", result)
    editor = aws_config.Editor(after)
    for section in after.sections:
        if section.name not in before:
            editor.remove_section(section)
    unchanged = original if original.endswith(b"\n") else original + b"\n"
    assert editor.text().encode() == unchanged

    if by_entries:
        forget_setup_record(env)
    teardown_ok()
    # Given back as it was; removing our entries one by one adds only a final newline.
    assert env.aws_config.read_bytes() == (unchanged if by_entries else original)
    assert env.aws_config.stat().st_mode & 0o777 == 0o640


def test_golden_cases_exist() -> None:
    # A glob that matched nothing would make the tests above vacuous.
    names = {p.stem for p in cases("aws_config", ".ini")}
    assert {"realworld", "crlf", "configure-sso", "no-final-newline"} <= names
    assert (GOLDEN / "aws_config" / "crlf.ini").read_bytes().count(b"\r\n") > 20


@pytest.mark.parametrize("case", cases("docker", ".json"), ids=lambda p: p.stem)
def test_docker_config(env: Env, case: Path) -> None:
    original = case.read_bytes()
    path = write(docker_config(env), original, mode=0o600)

    setup_ok()

    assert path.read_bytes() == expected_of(case).read_bytes()
    teardown_ok()
    assert path.read_bytes() == original


def test_our_config(env: Env) -> None:
    case = GOLDEN / "ecr-sso" / "hand-written.toml"
    original = case.read_bytes()
    write(env.config_file, original)

    setup_ok()

    assert env.config_file.read_bytes() == expected_of(case).read_bytes()
    teardown_ok()
    assert env.config_file.read_bytes() == original


@pytest.mark.parametrize("by_entries", [False, True], ids=["restored", "by-entries"])
def test_all_three_at_once_then_teardown(env: Env, by_entries: bool) -> None:
    files = {
        env.aws_config: (GOLDEN / "aws_config" / "crlf.ini").read_bytes(),
        docker_config(env): (GOLDEN / "docker" / "docker-desktop.json").read_bytes(),
        env.config_file: (GOLDEN / "ecr-sso" / "hand-written.toml").read_bytes(),
    }
    for path, content in files.items():
        write(path, content)

    setup_ok()

    assert env.aws_config.read_bytes() == (GOLDEN / "aws_config" / "crlf.expected.ini").read_bytes()
    assert (
        docker_config(env).read_bytes()
        == (GOLDEN / "docker" / "docker-desktop.expected.json").read_bytes()
    )
    assert (
        env.config_file.read_bytes()
        == (GOLDEN / "ecr-sso" / "hand-written.expected.toml").read_bytes()
    )
    if by_entries:
        forget_setup_record(env)
    teardown_ok()
    for path, content in files.items():
        assert path.read_bytes() == content, path

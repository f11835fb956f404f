"""`ecr-sso teardown` gives each file back as it was before setup: deleted when setup
created it, its earlier bytes when nobody changed it since; else only our entries go,
and it says so. `--purge` removes ecr-sso's own cache, log and state."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Env
from setup_fixtures import (
    TEAM,
    docker_config,
    ecr_sso,
    team_file,  # noqa: F401 - the fixture
    write,
)

# Layouts that removing entries one by one would not give back byte for byte.
USERS_AWS = "[default]\r\nregion = eu-west-1"
USERS_DOCKER = '{"auths": {"quay.io": {}}}'


def teardown() -> list[str]:
    result = ecr_sso("teardown", "--yes")
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def setup(team: Path) -> None:
    result = ecr_sso("setup", "--from", str(team))
    assert result.returncode == 0, result.stderr


def everything_under(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in home.rglob("*"))


def test_files_go_back_to_their_bytes_before_setup(env: Env, team_file: Path) -> None:  # noqa: F811
    write(env.aws_config, USERS_AWS, mode=0o600)
    write(docker_config(env), USERS_DOCKER, mode=0o644)
    listing = everything_under(env.home)
    setup(team_file)
    setup(team_file)  # a second run changes nothing, and the record stays right

    lines = teardown()

    assert env.aws_config.read_bytes() == USERS_AWS.encode()
    assert docker_config(env).read_bytes() == USERS_DOCKER.encode()
    assert docker_config(env).stat().st_mode & 0o777 == 0o644
    assert f"restored {env.aws_config} to what it held before setup" in lines
    assert f"removed {env.config_file} (setup created it)" in lines
    assert f"removed {env.config_file.parent}" in lines
    assert not any(line.startswith("kept") for line in lines)
    # Our config, its folders, every backup: gone. Only our lock and log remain (the
    # uninstall's --purge takes those).
    left = [p for p in everything_under(env.home) if not p.startswith(".local")]
    assert left == [p for p in listing if not p.startswith(".local")]


def test_a_file_changed_after_setup_keeps_the_change(env: Env, team_file: Path) -> None:  # noqa: F811
    write(env.aws_config, USERS_AWS)
    write(docker_config(env), USERS_DOCKER)
    setup(team_file)
    (aws_backup,) = env.aws_config.parent.glob("config.bak-*")
    with env.aws_config.open("a") as handle:
        handle.write("\r\n[profile later]\r\nregion = us-east-2\r\n")

    lines = teardown()

    text = env.aws_config.read_bytes().decode()
    assert "[profile later]" in text
    assert "[profile dev]" not in text
    assert text.startswith(USERS_AWS)
    assert docker_config(env).read_bytes() == USERS_DOCKER.encode()
    assert any(
        line.startswith(
            f"removed ecr-sso's entries from {env.aws_config}: it was changed after setup,"
            " so it is not put back to its earlier bytes"
        )
        for line in lines
    )
    kept = [line for line in lines if line.startswith("kept")]
    assert (
        f"kept {aws_backup}: an earlier version of {env.aws_config}, which was changed after setup"
        in kept
    )
    assert len(kept) == 2  # setup's backup, and the one teardown made of the edited file
    assert all(Path(line.split(":")[0].removeprefix("kept ")).exists() for line in kept)
    assert not list(docker_config(env).parent.glob("config.json.bak-*"))


def test_a_change_between_two_setups_is_kept_too(env: Env, tmp_path: Path) -> None:
    write(env.aws_config, USERS_AWS)
    team = tmp_path / "team.toml"
    team.write_text(TEAM.split("[profiles.stage]")[0])
    setup(team)
    with env.aws_config.open("a") as handle:
        handle.write("\n[profile later]\nregion = us-east-2\n")
    team.write_text(TEAM)
    setup(team)  # adds stage, over the user's change

    teardown()

    text = env.aws_config.read_text()
    assert "[profile later]" in text
    assert "[profile stage]" not in text
    # Docker's config was not changed by anyone else: setup created it, teardown deletes it.
    assert not docker_config(env).exists()


def test_purge_removes_ecr_sso_own_folders(env: Env, team_file: Path) -> None:  # noqa: F811
    setup(team_file)
    tokens = env.cache_dir / "tokens"
    tokens.mkdir(parents=True)
    (tokens / "some-key").write_text("ecr-sso-token 1\n")
    (env.cache_dir / "routes").mkdir()
    state = env.home / ".local" / "state" / "ecr-sso"
    assert (state / "setup" / "record.json").exists()

    result = ecr_sso("teardown", "--yes", "--purge")

    assert result.returncode == 0, result.stderr
    assert f"removed {tokens}" in result.stdout.splitlines()
    assert not env.cache_dir.exists()
    assert not state.exists()
    assert not env.config_file.parent.exists()
    assert not env.aws_config.exists()
    assert not docker_config(env).exists()


def test_purge_keeps_what_it_did_not_make(env: Env) -> None:
    env.cache_dir.mkdir(parents=True)
    (env.cache_dir / "notes.txt").write_text("mine\n")

    result = ecr_sso("teardown", "--yes", "--purge")

    assert result.returncode == 0, result.stderr
    assert f"kept {env.cache_dir}: the token cache folder holds files ecr-sso did not make" in (
        result.stdout.splitlines()
    )
    assert (env.cache_dir / "notes.txt").read_text() == "mine\n"


def test_a_damaged_record_falls_back_to_removing_entries(env: Env, team_file: Path) -> None:  # noqa: F811
    write(env.aws_config, "[default]\nregion = eu-west-1\n")
    setup(team_file)
    record = env.home / ".local" / "state" / "ecr-sso" / "setup" / "record.json"
    record.write_text("{not json")

    lines = teardown()

    assert env.aws_config.read_text() == "[default]\nregion = eu-west-1\n"
    assert any(line.startswith(f"wrote {env.aws_config}") for line in lines)
    assert json.loads(docker_config(env).read_text()) == {}
    assert not record.exists()


def test_teardown_dry_run_shows_a_file_setup_created_going(env: Env, team_file: Path) -> None:  # noqa: F811
    setup(team_file)

    result = ecr_sso("teardown", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert f"--- {env.aws_config}\n+++ /dev/null\n" in result.stdout
    assert env.aws_config.exists()

"""`ecr-sso setup --prune`: follow the team file, removing what earlier setups added and
the team no longer lists, and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Env
from setup_fixtures import (
    ALIAS,
    DEV_EU,
    DEV_US,
    STAGE_EU,
    TEAM,
    docker_config,
    ecr_sso,
    snapshot,
    three_files,
    write,
)

from credhelper.setup import settings_file

#: TEAM without the stage profile and the alias.
SMALLER = TEAM.split("[profiles.stage]")[0]
USERS = "[profile mine]\nregion = eu-north-1\n"
USERS_HOST = "333333333333.dkr.ecr.eu-west-1.amazonaws.com"


def set_up(env: Env, tmp_path: Path) -> Path:
    """Setup with TEAM over the user's own entries; returns the team file, now SMALLER."""
    write(env.aws_config, USERS)
    write(docker_config(env), json.dumps({"credHelpers": {USERS_HOST: "ecr-login"}}, indent="\t"))
    team = tmp_path / "team.toml"
    team.write_text(TEAM)
    assert ecr_sso("setup", "--from", str(team)).returncode == 0
    team.write_text(SMALLER)
    return team


def test_without_prune_setup_lists_what_it_would_remove(env: Env, tmp_path: Path) -> None:
    team = set_up(env, tmp_path)
    before = snapshot(three_files(env))

    result = ecr_sso("setup", "--from", str(team))

    assert result.returncode == 0, result.stderr
    assert result.stdout == "nothing to change\n"
    assert result.stderr == (
        "note: the team no longer lists [profile stage], [registries]"
        f' {STAGE_EU}, [aliases."{ALIAS}"], credHelpers["{STAGE_EU}"], credHelpers["{ALIAS}"],'
        " added by an earlier setup; `ecr-sso setup --prune` removes them\n"
    )
    assert snapshot(three_files(env)) == before


def test_prune_dry_run_shows_the_diff(env: Env, tmp_path: Path) -> None:
    team = set_up(env, tmp_path)
    before = snapshot(three_files(env))

    result = ecr_sso("setup", "--from", str(team), "--prune", "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "-[profile stage]\n" in result.stdout
    assert f'-\t\t"{STAGE_EU}": "ecr-sso",\n' in result.stdout
    assert f'-"{STAGE_EU}" = "stage"\n' in result.stdout
    assert result.stdout.endswith("dry run: nothing was written\n")
    assert snapshot(three_files(env)) == before


def test_prune_removes_only_what_setup_added(env: Env, tmp_path: Path) -> None:
    team = set_up(env, tmp_path)
    assert ecr_sso("setup", "--from", str(team), "--prune").returncode == 1  # needs consent

    result = ecr_sso("setup", "--from", str(team), "--prune", "--yes")

    assert result.returncode == 0, result.stderr
    assert f"remove [profile stage] from {env.aws_config}" in result.stdout.splitlines()
    aws = env.aws_config.read_text()
    assert aws.startswith(USERS)
    assert "[profile dev]" in aws
    assert "[profile stage]" not in aws
    assert "[sso-session connectedhome]" in aws
    helpers = json.loads(docker_config(env).read_text())["credHelpers"]
    assert helpers == {USERS_HOST: "ecr-login", DEV_EU: "ecr-sso", DEV_US: "ecr-sso"}
    ours = settings_file.read(str(env.config_file))
    assert ours.settings.registries == {DEV_EU: "dev", DEV_US: "dev"}
    assert ours.settings.aliases == {}
    assert set(ours.managed.profiles) == {"dev"}
    assert ours.managed.cred_helpers == [DEV_EU, DEV_US]
    assert ecr_sso("setup", "--from", str(team), "--prune").stdout == "nothing to change\n"

    # What is left is still setup's to remove.
    assert ecr_sso("teardown", "--yes").returncode == 0
    assert env.aws_config.read_text() == USERS
    assert json.loads(docker_config(env).read_text()) == {"credHelpers": {USERS_HOST: "ecr-login"}}


def test_prune_keeps_a_stale_entry_the_user_changed(env: Env, tmp_path: Path) -> None:
    team = set_up(env, tmp_path)
    env.aws_config.write_text(
        env.aws_config.read_text().replace(
            "sso_role_name = Administrator\nregion = eu-west-1\noutput = json\n\n[profile stage]",
            "sso_role_name = Administrator\nregion = eu-west-1\noutput = json\n\n"
            "[profile stage]\ncli_pager =",
        )
    )

    result = ecr_sso("setup", "--from", str(team), "--prune", "--yes")

    assert result.returncode == 0, result.stderr
    assert "[profile stage]" in env.aws_config.read_text()
    assert "[profile stage] was changed after setup (cli_pager was added): kept" in result.stderr
    # Still recorded: a later prune or teardown --force can remove it.
    assert "stage" in settings_file.read(str(env.config_file)).managed.profiles

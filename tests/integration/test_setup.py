"""`ecr-sso setup`, `teardown` and `registries`, run as a user runs them: the installed
command, in the isolated home, with stdin a pipe (not a terminal) unless said otherwise."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from conftest import Env
from setup_fixtures import (
    ALIAS,
    DEV_EU,
    DEV_US,
    STAGE_EU,
    TEAM,
    TEAM_HOSTS,
    docker_config,
    ecr_sso,
    folder_listing,
    on_terminal,
    snapshot,
    team_file,  # noqa: F401 - the fixture
    three_files,
    write,
)

from credhelper import settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def setup(*args: str) -> None:
    result = ecr_sso("setup", *args)
    assert result.returncode == 0, result.stderr


def backups_of(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.bak-*"))


# -- the first run -------------------------------------------------------------------------


def test_fresh_machine(env: Env, team_file: Path) -> None:  # noqa: F811
    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert f"add [profile dev] to {env.aws_config}" in lines
    assert f'add credHelpers["{ALIAS}"] = "ecr-sso" to {docker_config(env)}' in lines
    assert lines[-4:] == [
        f"wrote {env.config_file} (new)",
        f"wrote {env.aws_config} (new)",
        f"wrote {docker_config(env)} (new)",
        "next: sign in with `ecr-sso login --sso-session connectedhome`",
    ]
    ours = settings.load(str(env.config_file))
    assert ours.registries == {DEV_EU: "dev", DEV_US: "dev", STAGE_EU: "stage"}
    assert ours.aliases[ALIAS].account == "642976147714"
    assert ours.aliases[ALIAS].profile == "dev"
    assert ours.default_profile == "dev"
    helpers = json.loads(docker_config(env).read_text())["credHelpers"]
    assert helpers == dict.fromkeys(TEAM_HOSTS, "ecr-sso")


def test_new_files_are_0600_in_folders_made_0700(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file))

    for path in three_files(env):
        assert mode(path) == 0o600, path
    for folder in (env.aws_config.parent, env.docker_config_dir, env.config_file.parent):
        assert mode(folder) == 0o700, folder
    # ~/.config did not exist either: made by us, so private too.
    assert mode(env.config_file.parent.parent) == 0o700
    # Nothing was there before, so nothing was backed up.
    assert all(not backups_of(path) for path in three_files(env))


def test_second_run_changes_nothing_and_says_so(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file))
    before = snapshot(three_files(env))
    listing = folder_listing(env)

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 0
    assert result.stdout == "nothing to change\n"
    assert snapshot(three_files(env)) == before  # bytes, mtimes and modes
    assert folder_listing(env) == listing  # no backup, no temp file


def test_existing_files_are_backed_up_with_their_mode(env: Env, team_file: Path) -> None:  # noqa: F811
    old_aws = b"[default]\nregion = us-east-1\n"
    old_docker = b'{\n  "credsStore": "desktop"\n}\n'
    old_ours = b'cache = "keyring"\n'
    write(env.aws_config, old_aws, mode=0o640)
    write(docker_config(env), old_docker, mode=0o644)
    write(env.config_file, old_ours, mode=0o600)

    setup("--from", str(team_file))

    for path, old, wanted_mode in (
        (env.aws_config, old_aws, 0o640),
        (docker_config(env), old_docker, 0o644),
        (env.config_file, old_ours, 0o600),
    ):
        (backup,) = backups_of(path)
        assert backup.read_bytes() == old
        assert mode(backup) == wanted_mode
        assert mode(path) == wanted_mode
        assert path.read_bytes() != old
    # Not touched: Docker's credential store for every other registry.
    assert json.loads(docker_config(env).read_text())["credsStore"] == "desktop"


def test_dry_run_shows_diffs_and_writes_nothing(env: Env, team_file: Path) -> None:  # noqa: F811
    write(env.aws_config, "[default]\nregion = us-east-1\n")
    before = snapshot(three_files(env))

    result = ecr_sso("setup", "--from", str(team_file), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert snapshot(three_files(env)) == before
    assert not env.config_file.parent.exists()
    assert not env.docker_config_dir.exists()
    out = result.stdout
    assert f"--- {env.aws_config}\n+++ {env.aws_config}\n" in out
    assert " region = us-east-1\n+\n+[sso-session connectedhome]\n" in out
    assert f"--- /dev/null\n+++ {docker_config(env)}\n" in out
    assert f'+\t\t"{ALIAS}": "ecr-sso"\n' in out
    assert f'+"{DEV_EU}" = "dev"\n' in out
    assert out.endswith("dry run: nothing was written\n")


def test_dry_run_never_shows_a_secret(env: Env, team_file: Path) -> None:  # noqa: F811
    write(
        env.aws_config,
        "[profile keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t/KEY\n",
    )
    write(
        docker_config(env),
        json.dumps({"auths": {DEV_EU: {"auth": "QVdTOnRvcHNlY3JldA=="}}}, indent=2),
    )

    result = ecr_sso("setup", "--from", str(team_file), "--dry-run", "--clean-auths")

    assert result.returncode == 0, result.stderr
    assert "s3cr3t" not in result.stdout
    assert "QVdTOnRvcHNlY3JldA==" not in result.stdout
    assert " aws_secret_access_key = <redacted>\n" in result.stdout
    assert '-      "auth": "<redacted>"\n' in result.stdout


# -- conflicts and consent -------------------------------------------------------------------


CONFLICTING_AWS = """\
[profile dev]
sso_session = connectedhome
sso_account_id = 111111111111
sso_role_name = Administrator
region = eu-west-1
cli_pager =
"""


def write_conflicts(env: Env) -> None:
    write(env.aws_config, CONFLICTING_AWS)
    write(docker_config(env), json.dumps({"credHelpers": {STAGE_EU: "ecr-login"}}))
    env.write_config(f'[registries]\n"{DEV_US}" = "other"\n')


def test_conflicts_are_listed_and_nothing_is_written(env: Env, team_file: Path) -> None:  # noqa: F811
    write_conflicts(env)
    before = snapshot(three_files(env))
    listing = folder_listing(env)

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"conflict: {env.config_file}: [registries] {DEV_US} is 'other', setup wants 'dev'",
        f"conflict: {env.aws_config}, line 1: [profile dev]: sso_account_id is"
        " '111111111111', setup wants '642976147714'",
        f'conflict: {docker_config(env)}: credHelpers["{STAGE_EU}"] is "ecr-login", setup'
        ' wants "ecr-sso"',
        "ecr-sso: 3 existing entries differ from what setup would write (listed above);"
        " nothing was changed. Fix them, or run again with --force to replace them",
    ]
    assert snapshot(three_files(env)) == before
    assert folder_listing(env) == listing


def test_force_needs_consent_without_a_terminal(env: Env, team_file: Path) -> None:  # noqa: F811
    write_conflicts(env)
    before = snapshot(three_files(env))

    result = ecr_sso("setup", "--from", str(team_file), "--force")

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "ecr-sso: these changes need your consent, and stdin is not a terminal to ask on;"
        " nothing was changed. Run again with --yes (--dry-run shows the changes)"
    )
    assert f"  replace values in [profile dev] of {env.aws_config}" in result.stderr
    assert snapshot(three_files(env)) == before


def test_force_yes_replaces_and_keeps_the_users_other_keys(env: Env, team_file: Path) -> None:  # noqa: F811
    write_conflicts(env)

    setup("--from", str(team_file), "--force", "--yes")

    assert env.aws_config.read_text().startswith(
        "[profile dev]\n"
        "sso_session = connectedhome\n"
        "sso_account_id = 642976147714\n"
        "sso_role_name = Administrator\n"
        "region = eu-west-1\n"
        "cli_pager =\n"
        "output = json\n"
        "\n[sso-session connectedhome]\n"
    )
    (backup,) = backups_of(env.aws_config)
    assert backup.read_text() == CONFLICTING_AWS
    assert settings.load(str(env.config_file)).registries[DEV_US] == "dev"
    helpers = json.loads(docker_config(env).read_text())["credHelpers"]
    assert helpers[STAGE_EU] == "ecr-sso"


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 1)])
def test_on_a_terminal_it_asks(env: Env, team_file: Path, answer: str, code: int) -> None:  # noqa: F811
    write_conflicts(env)
    before = snapshot(three_files(env))

    result = on_terminal("setup", "--from", str(team_file), "--force", answer=answer)

    assert result.returncode == code, result.stderr
    assert "Make these changes? [y/N] " in result.stderr
    if code == 0:
        assert "sso_account_id = 642976147714\n" in env.aws_config.read_text()
    else:
        assert result.stderr.endswith("ecr-sso: nothing was changed\n")
        assert snapshot(three_files(env)) == before


def test_same_values_in_another_layout_are_no_conflict(env: Env, team_file: Path) -> None:  # noqa: F811
    # What `aws configure sso` writes, in its own order, with another output format.
    existing = (
        "[profile dev]\n"
        "sso_account_id=642976147714\n"
        "sso_session=connectedhome\n"
        "sso_role_name=Administrator\n"
        "region=eu-west-1\n"
        "output=text\n"
    )
    write(env.aws_config, existing)

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 0, result.stderr
    assert (
        f"note: {env.aws_config}: [profile dev] is already set up this way; left as it is"
        in result.stderr
    )
    assert env.aws_config.read_text().startswith(existing + "\n[sso-session connectedhome]\n")


# -- Docker's auths ---------------------------------------------------------------------------


def auths_config() -> dict[str, object]:
    return {
        "auths": {
            f"https://{DEV_EU}": {"auth": "QVdTOm9sZA=="},
            "ghcr.io": {"auth": "Z2hjcjp0b2tlbg=="},
        },
        "credsStore": "desktop",
    }


def test_stale_auths_are_reported(env: Env, team_file: Path) -> None:  # noqa: F811
    write(docker_config(env), json.dumps(auths_config(), indent=4))

    result = ecr_sso("setup", "--from", str(team_file))

    assert result.returncode == 0, result.stderr
    assert f"auths holds entries for https://{DEV_EU} (from an earlier docker login)" in (
        result.stderr
    )
    assert "--clean-auths removes them" in result.stderr
    assert json.loads(docker_config(env).read_text())["auths"] == auths_config()["auths"]


def test_clean_auths_removes_only_ours_with_consent(env: Env, team_file: Path) -> None:  # noqa: F811
    write(docker_config(env), json.dumps(auths_config(), indent=4))

    refused = ecr_sso("setup", "--from", str(team_file), "--clean-auths")
    assert refused.returncode == 1
    assert f"  remove the auths entries for https://{DEV_EU} from" in refused.stderr

    setup("--from", str(team_file), "--clean-auths", "--yes")

    written = json.loads(docker_config(env).read_text())
    assert written["auths"] == {"ghcr.io": {"auth": "Z2hjcjp0b2tlbg=="}}
    assert list(written) == ["auths", "credsStore", "credHelpers"]
    assert docker_config(env).read_text().startswith('{\n    "auths": {\n')


# -- forms of input ----------------------------------------------------------------------------


def test_legacy_profiles(env: Env, team_file: Path) -> None:  # noqa: F811
    result = ecr_sso("setup", "--from", str(team_file), "--legacy")

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("next: sign in with `ecr-sso login dev`\n")

    text = env.aws_config.read_text()
    assert "[sso-session" not in text
    assert text.startswith(
        "[profile dev]\n"
        "sso_start_url = https://example.awsapps.com/start\n"
        "sso_region = eu-west-1\n"
        "sso_account_id = 642976147714\n"
        "sso_role_name = Administrator\n"
        "region = eu-west-1\n"
        "output = json\n\n[profile stage]\n"
    )


def test_a_symlinked_config_is_written_through_the_link(env: Env, team_file: Path) -> None:  # noqa: F811
    dotfiles = env.home / "dotfiles"
    real = write(dotfiles / "aws-config", "[default]\nregion = us-east-1\n", mode=0o640)
    env.aws_config.parent.mkdir()
    env.aws_config.symlink_to(real)

    setup("--from", str(team_file))

    assert env.aws_config.is_symlink()
    assert "[profile dev]" in real.read_text()
    assert mode(real) == 0o640
    (backup,) = backups_of(real)
    assert backup.read_text() == "[default]\nregion = us-east-1\n"
    assert not backups_of(env.aws_config)


def test_flags_only(env: Env) -> None:
    result = ecr_sso(
        "setup",
        "--sso-start-url",
        "https://d-1234567890.awsapps.com/start",
        "--sso-region",
        "us-east-2",
        "--profile",
        "ci=123456789012:Deployer",
        "--profile",
        "cn=210987654321:Reader:cn-north-1",
    )

    assert result.returncode == 0, result.stderr
    assert "next: sign in with `ecr-sso login --sso-session d-1234567890`" in result.stdout
    assert settings.load(str(env.config_file)).registries == {
        "123456789012.dkr.ecr.us-east-2.amazonaws.com": "ci",
        "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn": "cn",
    }


def test_flags_override_the_team_file(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file), "--profile", "stage=123456789012:ReadOnly:us-west-2")

    registries = settings.load(str(env.config_file)).registries
    assert registries["123456789012.dkr.ecr.us-west-2.amazonaws.com"] == "stage"
    assert STAGE_EU not in registries


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to set up: give --from FILE, --profile NAME=ACCOUNT:ROLE[:REGION],"),
        (("--registry", DEV_EU, "--profile", "a=123456789012:R"), "--registry is for --ci"),
        (("--ci", "--registry", DEV_EU, "--legacy"), "it does not take --legacy"),
        (("--ci",), "--ci needs at least one --registry HOST"),
        (("--profile", "a=123456789012:R", "--include", "x"), "need --discover"),
        (("--profile", "bad"), "--profile 'bad': expected NAME=ACCOUNT:ROLE[:REGION]"),
        (("--from", "/nonexistent/team.toml"), "cannot read the team file"),
        (("--ci", "--registry", "docker.io"), "is not an ECR registry host"),
    ],
)
def test_usage_errors(env: Env, args: tuple[str, ...], message: str) -> None:
    result = ecr_sso("setup", *args)

    assert result.returncode == 2
    assert result.stderr.startswith("ecr-sso: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not env.aws_config.exists()
    assert not docker_config(env).exists()


def test_team_file_typo_changes_nothing(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM.replace("role =", "roel =", 1))

    result = ecr_sso("setup", "--from", str(path))

    assert result.returncode == 2
    assert result.stderr == (
        f"ecr-sso: {path}: unknown key in [profiles.dev]: roel (expected account, role,"
        " region, registries)\n"
    )
    assert not env.aws_config.exists()


# -- --ci --------------------------------------------------------------------------------------


def test_ci_writes_only_cred_helpers(env: Env) -> None:
    write(docker_config(env), '{"credsStore": "pass"}')

    result = ecr_sso("setup", "--ci", "--registry", DEV_EU, "--registry", "public.ecr.aws")

    assert result.returncode == 0, result.stderr
    assert json.loads(docker_config(env).read_text()) == {
        "credsStore": "pass",
        "credHelpers": {DEV_EU: "ecr-sso", "public.ecr.aws": "ecr-sso"},
    }
    assert not env.aws_config.exists()
    assert not env.config_file.exists()
    assert "next:" not in result.stdout

    again = ecr_sso("setup", "--ci", "--registry", DEV_EU, "--registry", "public.ecr.aws")
    assert again.returncode == 0
    assert again.stdout == "nothing to change\n"


def test_ci_accepts_an_alias_only_from_our_config(env: Env) -> None:
    refused = ecr_sso("setup", "--ci", "--registry", "mirror.example:5000")
    assert refused.returncode == 2
    assert refused.stderr.endswith(
        "is not an ECR registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com),"
        f" nor an alias in {env.config_file}\n"
    )

    env.write_config(
        '[aliases."mirror.example:5000"]\naccount = "642976147714"\nregion = "eu-west-1"\n'
    )
    result = ecr_sso("setup", "--ci", "--registry", "Mirror.Example:5000")

    assert result.returncode == 0, result.stderr
    helpers = json.loads(docker_config(env).read_text())["credHelpers"]
    assert helpers == {"mirror.example:5000": "ecr-sso"}


def test_ci_conflict(env: Env) -> None:
    write(docker_config(env), json.dumps({"credHelpers": {DEV_EU: "ecr-login"}}))

    result = ecr_sso("setup", "--ci", "--registry", DEV_EU)

    assert result.returncode == 3
    assert 'is "ecr-login", setup wants "ecr-sso"' in result.stderr


# -- teardown ------------------------------------------------------------------------------


USERS_PROFILES = "[default]\nregion = us-east-1\n\n[profile mine]\nregion = eu-north-1\n"


def test_teardown_removes_exactly_what_setup_added(env: Env, team_file: Path) -> None:  # noqa: F811
    write(env.aws_config, USERS_PROFILES)
    write(docker_config(env), '{\n\t"credsStore": "desktop"\n}')
    env.write_config('cache = "keyring"\n')
    setup("--from", str(team_file))

    refused = ecr_sso("teardown")
    assert refused.returncode == 1
    assert "stdin is not a terminal" in refused.stderr

    result = ecr_sso("teardown", "--yes")

    assert result.returncode == 0, result.stderr
    assert env.aws_config.read_text() == USERS_PROFILES
    assert docker_config(env).read_text() == '{\n\t"credsStore": "desktop"\n}'
    assert env.config_file.read_text() == 'cache = "keyring"\n'
    assert ecr_sso("teardown").stdout == "nothing to change\n"


def test_teardown_dry_run(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file))
    before = snapshot(three_files(env))

    result = ecr_sso("teardown", "--dry-run")

    assert result.returncode == 0
    assert "-[profile dev]\n" in result.stdout
    assert f'-\t\t"{DEV_EU}": "ecr-sso",\n' in result.stdout
    assert snapshot(three_files(env)) == before


def test_teardown_keeps_what_the_user_changed(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file))
    text = env.aws_config.read_text()
    env.aws_config.write_text(
        text.replace("[profile stage]\n", "[profile stage]\ncli_pager = less\n")
    )
    env.write_config(
        env.config_file.read_text().replace(f'"{DEV_US}" = "dev"', f'"{DEV_US}" = "mine"', 1)
    )
    helpers = json.loads(docker_config(env).read_text())
    helpers["credHelpers"][ALIAS] = "other-helper"
    docker_config(env).write_text(json.dumps(helpers))

    result = ecr_sso("teardown", "--yes")

    assert result.returncode == 0, result.stderr
    assert (
        "[profile stage] was changed after setup (cli_pager was added): kept; --force removes it"
        in result.stderr
    )
    assert f"[registries] {DEV_US} was changed after setup ('mine'; setup wrote 'dev')" in (
        result.stderr
    )
    assert f'credHelpers["{ALIAS}"] is now "other-helper"; not ours, kept' in result.stderr
    remaining = env.aws_config.read_text()
    assert "[profile dev]" not in remaining
    assert "[profile stage]\ncli_pager = less\n" in remaining
    # The session stays while a kept profile uses it.
    assert "[sso-session connectedhome]" in remaining
    assert "[profile stage] kept" not in result.stderr
    assert "[sso-session connectedhome] kept: profile stage uses it" in result.stderr
    assert json.loads(docker_config(env).read_text()) == {"credHelpers": {ALIAS: "other-helper"}}

    forced = ecr_sso("teardown", "--yes", "--force")

    assert forced.returncode == 0, forced.stderr
    assert env.aws_config.read_text() == ""
    assert settings.load(str(env.config_file)).registries == {}
    assert "[managed]" not in env.config_file.read_text()


def test_teardown_keeps_a_session_another_profile_uses(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file))
    with env.aws_config.open("a") as handle:
        handle.write("\n[profile mine]\nsso_session = connectedhome\nsso_account_id = 1\n")

    result = ecr_sso("teardown", "--yes")

    assert result.returncode == 0, result.stderr
    assert env.aws_config.read_text().startswith("[sso-session connectedhome]\n")
    assert "[profile mine]" in env.aws_config.read_text()
    assert "[profile dev]" not in env.aws_config.read_text()


def test_teardown_of_nothing(env: Env) -> None:
    result = ecr_sso("teardown")

    assert result.returncode == 0
    assert result.stdout == "nothing to change\n"
    assert not env.aws_config.exists()


# -- registries ------------------------------------------------------------------------------


def test_registries_table_and_json(env: Env, team_file: Path) -> None:  # noqa: F811
    setup("--from", str(team_file))
    text = env.aws_config.read_text()
    env.aws_config.write_text(text[: text.index("[profile stage]")])

    table = ecr_sso("registries")

    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines() == [
        "HOST" + " " * 42 + "PROFILE  ACCOUNT       REGION     KIND      NOTE",
        f"{DEV_EU}  dev      642976147714  eu-west-1  registry",
        f"{DEV_US}  dev      642976147714  us-east-1  registry",
        f"{STAGE_EU}  stage    998135273239  eu-west-1  registry  profile not in the AWS config",
        f"{ALIAS}                     dev      642976147714  eu-west-1  alias",
    ]
    listed = json.loads(ecr_sso("registries", "--json").stdout)
    assert listed[0] == {
        "host": DEV_EU,
        "profile": "dev",
        "account": "642976147714",
        "region": "eu-west-1",
        "kind": "registry",
        "profile_in_aws_config": True,
    }
    assert [row["profile_in_aws_config"] for row in listed] == [True, True, False, True]
    assert [row["kind"] for row in listed] == ["registry"] * 3 + ["alias"]


def test_registries_when_there_are_none(env: Env) -> None:
    result = ecr_sso("registries")
    assert result.returncode == 0
    assert result.stdout == ""
    assert result.stderr == f"no registries in {env.config_file}; `ecr-sso setup` adds them\n"
    assert json.loads(ecr_sso("registries", "--json").stdout) == []


# -- [promote] and [pull_through] from the team file ---------------------------------------

TEAM_TABLES = """
[promote]
order = ["dev", "stage"]

[pull_through]
profile = "dev"
scan_on_push = true
lifecycle_days = 30
"""


def test_team_file_tables_are_copied_recorded_and_torn_down(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM + TEAM_TABLES)
    env.write_config('cache = "keyring"\n')

    result = ecr_sso("setup", "--from", str(path))

    assert result.returncode == 0, result.stderr
    assert f"add [promote] to {env.config_file}" in result.stdout.splitlines()
    assert f"add [pull_through] to {env.config_file}" in result.stdout.splitlines()
    ours = settings.load(str(env.config_file))
    assert ours.promote_order == ("dev", "stage")
    assert ours.pull_through == settings.PullThrough(
        profile="dev", scan_on_push=True, lifecycle_days=30
    )
    managed = ours.raw["managed"]
    assert managed["promote"] == {"order": ["dev", "stage"]}
    assert managed["pull_through"] == {
        "prefix": "docker-hub",
        "upstream": "docker-hub",
        "profile": "dev",
        "scan_on_push": True,
        "lifecycle_days": 30,
    }

    before = snapshot(three_files(env))
    again = ecr_sso("setup", "--from", str(path))
    assert (again.returncode, again.stdout) == (0, "nothing to change\n")
    assert snapshot(three_files(env)) == before

    removed = ecr_sso("teardown", "--yes")
    assert removed.returncode == 0, removed.stderr
    assert f"remove [pull_through] from {env.config_file}" in removed.stdout
    assert env.config_file.read_text() == 'cache = "keyring"\n'


def test_a_typo_in_a_team_file_table_changes_nothing(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(TEAM + TEAM_TABLES.replace("scan_on_push", "scan_on_psuh"))

    result = ecr_sso("setup", "--from", str(path))

    assert result.returncode == 2
    assert result.stderr == (
        f"ecr-sso: {path}: [pull_through] has an unknown key: scan_on_psuh (did you mean"
        " scan_on_push?)\n"
    )
    assert not env.aws_config.exists()
    assert not env.config_file.exists()

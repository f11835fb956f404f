"""Planning is pure: contents in, new contents out; the inputs are never changed, so the
same read planned twice gives the same plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from setup_fixtures import TEAM

from credhelper.aws import config_editor
from credhelper.errors import UsageError
from credhelper.repos import promote, teamkeys
from credhelper.settings import PullThrough, Rewrite
from credhelper.setup import docker_config, settings_file, teamfile
from credhelper.setup.plan import Files, plan_setup
from credhelper.setup.teardown import plan_teardown

OURS = "/h/.config/ecr-sso/config.toml"
AWS = "/h/.aws/config"
DOCKER = "/h/.docker/config.json"


def files(ours: bytes | None, aws: bytes | None, docker: bytes | None) -> Files:
    return Files(
        settings=settings_file.parse(OURS, ours),
        aws=config_editor.parse(AWS, aws),
        docker=docker_config.parse(DOCKER, docker),
    )


@pytest.fixture
def team(tmp_path: Path) -> teamfile.Team:
    path = tmp_path / "team.toml"
    path.write_text(TEAM)
    return teamfile.combine(teamfile.load(str(path)))


def test_plan_setup_leaves_its_input_alone(team: teamfile.Team) -> None:
    read = files(b'cache = "file"\n', b"[default]\nregion = us-east-1\n", b'{"auths": {}}')
    before = (read.settings.render(), read.settings.managed, read.docker.data)

    first = plan_setup(team, read)
    second = plan_setup(team, read)

    assert first == second
    assert (read.settings.render(), read.settings.managed, read.docker.data) == before
    assert not read.settings.dirty


def test_teardown_of_a_setup_gives_back_the_bytes(team: teamfile.Team) -> None:
    original = (b'cache = "file"\n', b"[default]\nregion = us-east-1\n", b'{\n\t"auths": {}\n}\n')
    planned = plan_setup(team, files(*original))
    new = {change.path: change.new for change in planned.files}
    after_setup = files(new[OURS], new[AWS], new[DOCKER])

    removal = plan_teardown(after_setup)
    again = plan_teardown(after_setup)

    assert removal == again
    restored = {change.path: change.new for change in removal.files}
    assert (restored[OURS], restored[AWS], restored[DOCKER]) == original
    assert after_setup.settings.managed.profiles  # still the record read


# -- [promote] and [pull_through], carried from the team file ----------------------------

TABLES = """
[promote]
order = ["dev", "stage"]

[pull_through]
profile = "dev"
scan_on_push = true
lifecycle_days = 30
"""


def team_of(tmp_path: Path, text: str) -> teamfile.Team:
    path = tmp_path / "team.toml"
    path.write_text(text)
    return teamfile.combine(teamfile.load(str(path)))


def setup_bytes(team: teamfile.Team, ours: bytes | None, *, force: bool = False) -> bytes:
    planned = plan_setup(team, files(ours, b"", None), force=force)
    assert not planned.conflicts, planned.conflicts
    new = {change.path: change.new for change in planned.files}[OURS]
    assert new is not None
    return new


def test_setup_copies_the_tables_records_them_and_teardown_removes_them(
    tmp_path: Path,
) -> None:
    team = team_of(tmp_path, TEAM + TABLES)
    original = b'# mine\ncache = "file"\n'

    written = setup_bytes(team, original)

    ours = settings_file.parse(OURS, written)
    assert ours.settings.promote_order == ("dev", "stage")
    assert ours.settings.pull_through == PullThrough(
        profile="dev", scan_on_push=True, lifecycle_days=30
    )
    wanted = {
        "prefix": "docker-hub",
        "upstream": "docker-hub",
        "profile": "dev",
        "scan_on_push": True,
        "lifecycle_days": 30,
    }
    assert ours.managed.promote == {"order": ["dev", "stage"]}
    assert ours.managed.pull_through == wanted
    assert '\n[promote]\norder = ["dev", "stage"]\n' in written.decode()
    # `promote --to next` reads the order setup wrote.
    order = teamkeys.promote_order(ours.settings)
    assert promote.destinations(["next"], "dev", order, OURS) == ["stage"]

    again = plan_setup(team, files(written, b"", None))
    assert [action for action in again.actions if OURS in action] == []
    assert not again.conflicts
    assert {change.path: change.changed for change in again.files}[OURS] is False

    removal = plan_teardown(files(written, b"", None))
    assert f"remove [promote] from {OURS}" in removal.actions
    assert f"remove [pull_through] from {OURS}" in removal.actions
    restored = {change.path: change.new for change in removal.files}[OURS]
    assert restored == original


def test_setup_copies_rewrite_and_teardown_removes_it(tmp_path: Path) -> None:
    team = team_of(
        tmp_path, TEAM + '\n[rewrite]\nexclude = ["examples/"]\ndefault_excludes = false\n'
    )
    original = b'# mine\ncache = "file"\n'

    written = setup_bytes(team, original)

    ours = settings_file.parse(OURS, written)
    assert ours.settings.rewrite == Rewrite(("examples/",), default_excludes=False)
    assert ours.managed.rewrite == {"exclude": ["examples/"], "default_excludes": False}
    again = plan_setup(team, files(written, b"", None))
    assert {change.path: change.changed for change in again.files}[OURS] is False

    removal = plan_teardown(files(written, b"", None))
    assert f"remove [rewrite] from {OURS}" in removal.actions
    assert {change.path: change.new for change in removal.files}[OURS] == original


def test_a_bad_rewrite_table_in_the_team_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"\[rewrite\] exclude must be a list of patterns"):
        team_of(tmp_path, TEAM + '\n[rewrite]\nexclude = "examples/"\n')


def test_a_changed_team_file_updates_the_tables_setup_wrote(tmp_path: Path) -> None:
    written = setup_bytes(team_of(tmp_path, TEAM + TABLES), None)
    changed = team_of(
        tmp_path, TEAM + TABLES.replace('["dev", "stage"]', '["stage", "dev"]').replace("30", "7")
    )

    planned = plan_setup(changed, files(written, b"", None))

    assert not planned.conflicts
    assert f"update [promote] in {OURS} ({{order = ['dev', 'stage']}} →" in " ".join(
        planned.actions
    )
    new = {change.path: change.new for change in planned.files}[OURS]
    ours = settings_file.parse(OURS, new)
    assert ours.settings.promote_order == ("stage", "dev")
    assert ours.settings.pull_through is not None
    assert ours.settings.pull_through.lifecycle_days == 7
    assert ours.managed.promote == {"order": ["stage", "dev"]}
    assert ours.managed.pull_through is not None
    assert ours.managed.pull_through["lifecycle_days"] == 7


def test_a_table_the_user_changed_is_a_conflict_unless_forced(tmp_path: Path) -> None:
    team = team_of(tmp_path, TEAM + TABLES)
    written = setup_bytes(team, None).decode()
    by_hand = written.replace("lifecycle_days = 30\n", "lifecycle_days = 90  # ours\n", 1)
    assert by_hand != written
    changed = team_of(tmp_path, TEAM + TABLES.replace("30", "7"))

    planned = plan_setup(changed, files(by_hand.encode(), b"", None))

    assert planned.conflicts == [
        f"{OURS}: [pull_through] is {{prefix = 'docker-hub', upstream = 'docker-hub',"
        " profile = 'dev', scan_on_push = True, lifecycle_days = 90}, setup wants"
        " {prefix = 'docker-hub', upstream = 'docker-hub', profile = 'dev',"
        " scan_on_push = True, lifecycle_days = 7}"
    ]
    # The user's value is kept by teardown too.
    removal = plan_teardown(files(by_hand.encode(), b"", None))
    assert f"remove [pull_through] from {OURS}" not in removal.actions
    assert f"remove [promote] from {OURS}" in removal.actions
    kept = {change.path: change.new for change in removal.files}[OURS]
    assert kept is not None
    assert "lifecycle_days = 90  # ours" in kept.decode()
    assert settings_file.parse(OURS, kept).managed.pull_through is not None

    forced = setup_bytes(changed, by_hand.encode(), force=True).decode()
    assert "lifecycle_days = 7" in forced
    assert "[pull_through]\nprofile" not in forced


def test_a_table_already_there_is_left_and_not_recorded(tmp_path: Path) -> None:
    team = team_of(tmp_path, TEAM + '\n[promote]\norder = ["dev", "stage"]\n')
    mine = b'[promote]\norder = ["dev", "stage"]  # mine\n'

    written = setup_bytes(team, mine)

    ours = settings_file.parse(OURS, written)
    assert ours.managed.promote is None
    assert b'order = ["dev", "stage"]  # mine\n' in written

"""Planning is pure: contents in, new contents out; the inputs are never changed, so the
same read planned twice gives the same plan."""

from __future__ import annotations

from pathlib import Path

import pytest
from setup_fixtures import TEAM

from credhelper.aws import config_editor
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

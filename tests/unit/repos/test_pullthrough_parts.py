"""The pure parts of the pull-through cache: our config's tables, the policy reading, the
template's settings, and the Docker Hub login from a plain `auths` entry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from credhelper.errors import ConfigError
from credhelper.repos import dockerhub_login, pullthrough, teamkeys
from credhelper.settings import parse


def test_pull_through_table() -> None:
    assert teamkeys.pull_through(parse({})) is None
    cache = teamkeys.pull_through(parse({"pull_through": {"lifecycle_days": 7}}))
    assert cache == teamkeys.PullThrough(prefix="docker-hub", lifecycle_days=7)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"prefx": "x"}, "c: [pull_through] has an unknown key: prefx"),
        ({"prefix": "A b"}, "c: [pull_through]: pull-through prefix 'A b' must be 2 to 30"),
        ({"lifecycle_days": 0}, "c: [pull_through]: lifecycle_days must be a whole number"),
        ({"scan_on_push": "yes"}, "c: [pull_through]: scan_on_push must be a bool"),
    ],
)
def test_bad_pull_through_table(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        teamkeys.pull_through(parse({"pull_through": table}, "c"))
    assert str(raised.value).startswith(message)


def test_promote_order() -> None:
    assert teamkeys.promote_order(parse({})) == []
    assert teamkeys.promote_order(parse({"promote": {"order": ["a", "b"]}})) == ["a", "b"]
    with pytest.raises(ConfigError, match="names a profile twice"):
        teamkeys.promote_order(parse({"promote": {"order": ["a", "a"]}}))
    with pytest.raises(ConfigError, match="must be a list of profile names"):
        teamkeys.promote_order(parse({"promote": {"order": "a"}}))


def test_who_a_policy_allows() -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["222222222222"]}, "Action": "ecr:*"},
            {"Effect": "Deny", "Principal": "*", "Action": "ecr:CreateRepository"},
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                "Action": ["ecr:BatchGetImage"],
            },
        ]
    }
    actions = pullthrough.PULL_ACTIONS

    assert pullthrough.allows(document, "222222222222", actions) == []
    assert pullthrough.allows(document, "333333333333", actions) == ["ecr:GetDownloadUrlForLayer"]
    assert pullthrough.allows(None, "222222222222", actions) == list(actions)


def test_template_fields() -> None:
    fields = pullthrough.template_fields(
        teamkeys.PullThrough(tag_immutability=False, lifecycle_days=14)
    )

    assert fields["imageTagMutability"] == "MUTABLE"
    rule = json.loads(fields["lifecyclePolicy"])["rules"][0]
    assert rule["selection"]["countNumber"] == 14
    assert rule["action"] == {"type": "expire"}
    assert pullthrough.template_fields(teamkeys.PullThrough()) == {}


def test_docker_hub_login_from_auths(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    auth = base64.b64encode(b"hubuser:s3cret-token").decode()
    config.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": auth}}}))

    login = dockerhub_login.find(str(config), {"PATH": ""})

    assert login is not None
    assert (login.username, login.token, login.source) == ("hubuser", "s3cret-token", str(config))
    assert "s3cret-token" not in repr(login)
    config.write_text(json.dumps({"auths": {"ghcr.io": {"auth": auth}}}))
    assert dockerhub_login.find(str(config), {"PATH": ""}) is None
    assert dockerhub_login.find(str(tmp_path / "missing.json"), {"PATH": ""}) is None

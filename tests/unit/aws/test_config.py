"""The one AWS-config reader: botocore's section rules exactly, checked against botocore's
own `raw_config_parse` and `build_profile_map`, and the SSO questions asked of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_profiles import REALISTIC, write_aws_config

from credhelper.aws.config import AwsConfig, NotSso, SsoSession, read
from credhelper.errors import ConfigError, MalformedFile


def read_aws_profiles(path: str) -> dict[str, Any]:
    return dict(read(path).profiles)


def botocore_reading(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(raw_config_parse, build_profile_map) of the file at `path`, by botocore itself."""
    from botocore.configloader import build_profile_map, raw_config_parse

    raw = raw_config_parse(path)
    return raw, build_profile_map(raw)


def test_read_a_realistic_config(tmp_path: Path) -> None:
    profiles = read_aws_profiles(write_aws_config(tmp_path, REALISTIC))
    # Only profiles, in file order; sso-session, services and plugins sections are not.
    assert list(profiles) == ["default", "dev", "my team", "spaced", "prod"]
    assert profiles["default"] == {"region": "us-east-1", "output": "json"}
    assert profiles["dev"] == {
        "sso_session": "team",
        "sso_account_id": "111111111111",
        "sso_role_name": "Developer",
        "region": "eu-west-1",
    }
    assert profiles["my team"]["sso_account_id"] == "222222222222"
    assert profiles["my team"]["services"] == "local-ecr"
    assert profiles["spaced"] == {"region": "ap-south-1"}
    assert profiles["prod"]["role_arn"] == "arn:aws:iam::333333333333:role/Deploy"


HEADERS = [
    "default",
    " default ",
    "DEFAULT2",
    "profile dev",
    "profile  dev  ",
    "profile 'my team'",
    'profile "my team"',
    "profile my team",
    "profile",
    "profiledev",
    "profilex y",
    "profile default",
    "profile 'unclosed",
    "sso-session team",
    "sso-sessionx y",
    "sso-session",
    "sso-session a b",
    "services local",
    "servicesx y",
    "preview",
]


@pytest.mark.parametrize("header", HEADERS)
def test_each_header_as_botocore_reads_it(tmp_path: Path, header: str) -> None:
    path = write_aws_config(tmp_path, f"[{header}]\nregion = eu-west-1\n")
    raw, mapped = botocore_reading(path)

    ours = read(path)

    assert ours.sections == raw
    assert ours.profiles == mapped["profiles"]
    assert ours.sso_sessions == mapped["sso_sessions"]
    assert ours.services == mapped["services"]


@pytest.mark.parametrize(
    ("header", "profile", "session"),
    [
        ("default", "default", None),
        (" default ", None, None),  # configparser keeps the spaces; botocore compares exactly
        ("profile 'my team'", "my team", None),
        ("profile my team", None, None),  # three shell words: nothing
        ("profilex y", "y", None),  # botocore tests startswith("profile")
        ("sso-session team", None, "team"),
        ("sso-sessionx y", None, "y"),
        ("services local", None, None),
    ],
)
def test_header_examples(
    tmp_path: Path, header: str, profile: str | None, session: str | None
) -> None:
    config = read(write_aws_config(tmp_path, f"[{header}]\nregion = eu-west-1\n"))
    assert list(config.profiles) == ([profile] if profile else [])
    assert list(config.sso_sessions) == ([session] if session else [])


def test_a_whole_file_as_botocore_reads_it(tmp_path: Path) -> None:
    text = REALISTIC + (
        "\n[DEFAULT]\neverywhere = yes\n"  # configparser's DEFAULT: its keys are in every section
        "[profile default]\nregion = ap-east-1\n"  # after [default]: wins, as in botocore
        "[sso-sessionx other]\nsso_region = us-east-1\n"
    )
    path = write_aws_config(tmp_path, text)
    raw, mapped = botocore_reading(path)

    ours = read(path)

    assert ours.sections == raw
    assert list(ours.profiles) == list(mapped["profiles"])  # order too: "first of" choices
    assert dict(ours.profiles) == {
        name: {k: v for k, v in keys.items() if isinstance(v, str)}
        for name, keys in mapped["profiles"].items()
    }
    assert ours.profiles["default"]["region"] == "ap-east-1"
    assert ours.profiles["dev"]["everywhere"] == "yes"
    assert ours.sso_sessions == mapped["sso_sessions"]
    assert ours.services == mapped["services"]
    assert ours.services["local-ecr"]["ecr"] == {
        "endpoint_url": "http://127.0.0.1:5000",
        "addressing_style": "path",
    }


def test_same_profile_names_as_a_botocore_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name we choose is handed to botocore, so it must be one botocore knows.
    import botocore.session

    path = write_aws_config(tmp_path, REALISTIC)
    monkeypatch.setenv("AWS_CONFIG_FILE", path)
    botocore_profiles = botocore.session.Session().full_config["profiles"]
    ours = read_aws_profiles(path)
    assert sorted(ours) == sorted(botocore_profiles)
    for name, keys in ours.items():
        assert keys.get("sso_account_id") == botocore_profiles[name].get("sso_account_id")


def test_values_are_raw_not_interpolated(tmp_path: Path) -> None:
    text = "[profile p]\nsso_start_url = https://x.example/start?a=%(b)s&c=100%\n"
    profiles = read_aws_profiles(write_aws_config(tmp_path, text))
    assert profiles["p"]["sso_start_url"] == "https://x.example/start?a=%(b)s&c=100%"


@pytest.mark.parametrize(
    "text",
    [
        "[profile a]\nregion = eu-west-1\n[profile a]\nregion = us-east-1\n",
        "[profile a]\nregion = eu-west-1\nregion = us-east-1\n",
    ],
)
def test_repeated_sections_and_keys_are_refused_as_botocore_does(tmp_path: Path, text: str) -> None:
    from botocore.exceptions import ConfigParseError

    path = write_aws_config(tmp_path, text)
    with pytest.raises(ConfigParseError):
        botocore_reading(path)
    with pytest.raises(MalformedFile) as caught:
        read(path)
    assert "appears a second time" in str(caught.value)


def test_missing_file_is_no_profiles(tmp_path: Path) -> None:
    assert read_aws_profiles(str(tmp_path / "absent" / "config")) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "region = us-east-1\n[profile a]\n",
            ", line 1: the AWS config is malformed: 'region = us-east-1' comes before the first"
            " [section] header",
        ),
        (
            "[profile a]\nthis line has no equals sign\n",
            ", line 2: the AWS config is malformed: 'this line has no equals sign' is neither a"
            " [section] header nor a key = value line",
        ),
        (
            "[profile x\nregion = eu-west-1\n",
            ", line 1: the AWS config is malformed: the section header [profile x has no closing ]",
        ),
        (
            "[default]\nregion = eu-west-1\n[profile x\nregion = eu-west-1\n",
            ", line 3: the AWS config is malformed: the section header [profile x has no closing ]",
        ),
    ],
)
def test_malformed_file_is_a_config_error(tmp_path: Path, text: str, expected: str) -> None:
    path = write_aws_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        read_aws_profiles(path)
    message = str(caught.value)
    assert message == path + expected
    assert "\n" not in message


def test_nested_block_without_equals_is_refused(tmp_path: Path) -> None:
    path = write_aws_config(tmp_path, "[services s]\necr =\n  endpoint_url\n")
    with pytest.raises(MalformedFile, match="nested line is not key = value"):
        read(path)


def test_undecodable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "aws-config"
    path.write_bytes(b"[profile a]\nregion = \xff\xfe\n")
    with pytest.raises(ConfigError) as caught:
        read_aws_profiles(str(path))
    assert str(caught.value) == f"{path}, line 2: the AWS config is not valid UTF-8"


# -- the SSO sign-in a profile uses --------------------------------------------------------


SSO_CONFIG = """\
[profile dev]
sso_session = team
[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
[profile chained]
source_profile = dev
role_arn = arn:aws:iam::111111111111:role/X
[profile keys]
aws_access_key_id = AKIAEXAMPLE
[sso-session team]
sso_start_url = https://team.awsapps.com/start
sso_region = eu-west-1
"""


def test_sso_sessions_of_profiles() -> None:
    config = AwsConfig.parse("cfg", SSO_CONFIG)
    team = SsoSession("team", "https://team.awsapps.com/start", "eu-west-1")
    legacy = SsoSession(None, "https://legacy.awsapps.com/start", "us-east-1")

    assert config.session_of("dev") == team
    assert config.session_of("chained") == team
    assert config.session_of("legacy") == legacy
    assert config.sso_profiles() == ["dev", "legacy", "chained"]
    assert config.profiles_of(team) == ["dev", "chained"]
    assert config.all_sessions() == [team, legacy]
    assert team.registration_scopes == ("sso:account:access",)
    assert legacy.registration_scopes == ()
    with pytest.raises(NotSso):
        config.session_of("keys")
    with pytest.raises(ConfigError, match="'absent' is not in the AWS config"):
        config.session_of("absent")

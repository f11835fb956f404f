"""The AWS config editor: every byte we do not mean to change stays, and botocore reads
what we meant to write."""

from __future__ import annotations

import os
from pathlib import Path

import botocore.configloader
import pytest
from setup_fixtures import GOLDEN

from credhelper.aws import config_editor as aws_config
from credhelper.errors import ConfigError, MalformedFile

PATH = "/home/u/.aws/config"
REALWORLD = (GOLDEN / "aws_config" / "realworld.ini").read_bytes()
DEV = [("sso_session", "team"), ("sso_account_id", "111111111111"), ("region", "eu-west-1")]


def parse(text: str | bytes | None) -> aws_config.ConfigFile:
    data = text.encode() if isinstance(text, str) else text
    return aws_config.parse(PATH, data)


def test_parse_locates_sections_and_options() -> None:
    config = parse(REALWORLD)
    names = [s.name for s in config.sections]
    assert names == [
        "default",
        "profile legacy-admin",
        "profile 'my team'",
        "services local-stack",
        "profile ci",
    ]
    lines = config.lines
    team = config.sections[2]
    assert lines[team.start] == "[profile 'my team']\n"
    # The indented note belongs to the option above it; the blank line after is not ours.
    assert lines[team.end - 1] == "  ; an indented note\n"
    services = config.sections[3]
    first, after = services.options["s3"]
    assert lines[first:after] == (
        "s3 =\n",
        "    endpoint_url = http://localhost:4566\n",
        "    addressing_style = path\n",
    )
    assert config.text().encode() == REALWORLD


def test_profile_names_as_botocore_reads_them() -> None:
    config = parse(REALWORLD)
    assert config.profile_names() == ["default", "legacy-admin", "my team", "ci"]
    assert botocore_profiles(REALWORLD.decode()) == set(config.profile_names())
    team = config.profile("my team")
    assert team is not None
    assert config.strings(team) == {
        "role_arn": "arn:aws:iam::444455556666:role/Team",
        "source_profile": "default",
    }
    # botocore has no inline comments: the note is part of the value.
    default = config.profile("default")
    assert default is not None
    assert config.strings(default)["region"] == "us-east-1   ; the fallback region"
    services = config.values["services local-stack"]
    assert services["s3"] == {"endpoint_url": "http://localhost:4566", "addressing_style": "path"}


def botocore_profiles(text: str) -> set[str]:
    """The profile names botocore itself finds in `text` (it reads files only)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "config")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        raw = botocore.configloader.raw_config_parse(path)
    return set(botocore.configloader.build_profile_map(raw)["profiles"])


@pytest.mark.parametrize(
    ("header", "profile"),
    [
        ("default", "default"),
        ("profile dev", "dev"),
        ("profile 'my team'", "my team"),
        ('profile "my team"', "my team"),
        ("profile  dev", "dev"),
        ("profile a b", None),
        ("profile 'unclosed", None),
        ("sso-session dev", None),
        ("profiledev", None),
    ],
)
def test_profile_of_follows_botocore(header: str, profile: str | None) -> None:
    assert aws_config.profile_of(header) == profile
    built = botocore.configloader.build_profile_map({header: {"k": "v"}})["profiles"]
    assert (list(built) or [None])[0] == profile


def test_same_profile_twice_is_refused() -> None:
    config = parse("[profile dev]\na = 1\n\n[profile 'dev']\nb = 2\n")
    with pytest.raises(ConfigError) as caught:
        config.profile("dev")
    assert str(caught.value) == (
        f"{PATH}: profile 'dev' is defined 2 times (lines 1, 4); botocore uses only the last"
        " one. Merge them by hand, then run this again"
    )


# -- malformed -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[a]\nx = 1\ngarbage line\n",
            ", line 3: the AWS config is malformed: 'garbage line' is neither a [section] header"
            " nor a key = value line",
        ),
        (
            "x = 1\n[a]\n",
            ", line 1: the AWS config is malformed: 'x = 1' comes before the first"
            " [section] header",
        ),
        ("[a]\nx=1\n[a]\ny=2\n", ", line 3: the AWS config is malformed: section [a] appears"),
        ("[a]\nx=1\nx=2\n", ", line 3: the AWS config is malformed: key x appears a second"),
        (
            "[a\nx=1\n",
            ", line 1: the AWS config is malformed: the section header [a has no closing ]",
        ),
        (
            "[default]\nx=1\n[profile x\ny=2\n",
            ", line 3: the AWS config is malformed: the section header [profile x has no closing ]",
        ),
        (
            "[services s]\ns3 =\n  no equals sign\n",
            ": the AWS config is malformed: [services s] s3: a nested line is not key = value",
        ),
    ],
)
def test_malformed_is_named_with_its_line(text: str, expected: str) -> None:
    with pytest.raises(MalformedFile) as caught:
        parse(text)
    message = str(caught.value)
    assert message.startswith(PATH + expected)
    assert "\n" not in message
    assert caught.value.exit_code == 2


def test_not_utf8() -> None:
    with pytest.raises(MalformedFile, match=r"line 2: the AWS config is not valid UTF-8"):
        parse(b"[a]\nx = \xff\n")


# -- editing -----------------------------------------------------------------------------


def test_add_sections_to_an_empty_file() -> None:
    editor = aws_config.Editor(parse(None))
    editor.add_section("sso-session team", [("sso_region", "eu-west-1")])
    editor.add_section("profile dev", DEV)
    text = editor.text()
    assert text == (
        "[sso-session team]\nsso_region = eu-west-1\n\n"
        "[profile dev]\nsso_session = team\nsso_account_id = 111111111111\nregion = eu-west-1\n"
    )
    editor.verify(text)


def test_added_sections_go_after_the_last_content_line_and_use_crlf() -> None:
    original = "[default]\r\nregion = us-east-1\r\n\r\n\r\n"
    editor = aws_config.Editor(parse(original))
    editor.add_section("profile dev", DEV[:1])
    text = editor.text()
    # The two blank lines the file ended with still end it.
    assert text == (
        "[default]\r\nregion = us-east-1\r\n\r\n[profile dev]\r\nsso_session = team\r\n\r\n\r\n"
    )


def test_no_final_newline_gets_one_before_our_lines() -> None:
    editor = aws_config.Editor(parse("[default]\nregion = us-east-1"))
    editor.add_section("profile dev", DEV[:1])
    assert editor.text() == "[default]\nregion = us-east-1\n\n[profile dev]\nsso_session = team\n"


def test_set_options_in_place_and_after_the_last_option() -> None:
    original = (
        "[profile dev]\n"
        "# chosen by hand\n"
        "sso_account_id=222222222222\n"
        "cli_pager =\n"
        "\n"
        "# next: production\n"
        "[profile prod]\n"
        "region = us-east-1\n"
    )
    config = parse(original)
    section = config.profile("dev")
    assert section is not None
    editor = aws_config.Editor(config)
    editor.set_options(section, DEV)
    text = editor.text()
    assert text == (
        "[profile dev]\n"
        "# chosen by hand\n"
        "sso_account_id = 111111111111\n"
        "cli_pager =\n"
        "sso_session = team\n"
        "region = eu-west-1\n"
        "\n"
        "# next: production\n"
        "[profile prod]\n"
        "region = us-east-1\n"
    )
    editor.verify(text)


def test_remove_section_restores_what_add_section_changed() -> None:
    for original in (
        REALWORLD.decode(),
        REALWORLD.decode().replace("\n", "\r\n"),
        "",
        "[default]\nregion = x\n\n\n",
        "# only a comment\n",
    ):
        editor = aws_config.Editor(parse(original))
        editor.add_section("sso-session team", [("sso_region", "eu-west-1")])
        editor.add_section("profile dev", DEV)
        added = parse(editor.text())
        remover = aws_config.Editor(added)
        for name in ("sso-session team", "profile dev"):
            section = next(s for s in added.sections if s.name == name)
            remover.remove_section(section)
        assert remover.text() == original
        remover.verify(remover.text())


def test_remove_keeps_the_comment_that_introduces_the_next_section() -> None:
    original = "[profile dev]\na = 1\n\n# production, careful\n[profile prod]\nb = 2\n"
    config = parse(original)
    editor = aws_config.Editor(config)
    section = config.profile("dev")
    assert section is not None
    editor.remove_section(section)
    assert editor.text() == "# production, careful\n[profile prod]\nb = 2\n"


def test_verify_catches_a_section_botocore_reads_differently() -> None:
    config = parse("[profile dev]\nregion = eu-west-1\n")
    editor = aws_config.Editor(config)
    editor.add_section("profile other", [("region", "us-east-1")])
    # A text in which the untouched profile changed: what verify exists to catch.
    broken = "[profile dev]\nregion = us-east-1\n\n[profile other]\nregion = us-east-1\n"
    with pytest.raises(Exception, match=r"botocore would not read \[profile dev\] as intended"):
        editor.verify(broken)
    editor.verify(editor.text())


def test_redact_hides_secret_keys_only() -> None:
    text = (
        "[profile p]\r\naws_access_key_id = AKIAEXAMPLE\r\n"
        "aws_secret_access_key = abc/def\r\n  aws_session_token=tok\n"
    )
    assert aws_config.redact(text) == (
        "[profile p]\r\naws_access_key_id = AKIAEXAMPLE\r\n"
        "aws_secret_access_key = <redacted>\r\n  aws_session_token=<redacted>\n"
    )


def test_read_absent_file(tmp_path: Path) -> None:
    config = aws_config.read(str(tmp_path / "nope"))
    assert config.original is None
    assert config.sections == ()
    assert config.newline == "\n"

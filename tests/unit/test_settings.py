"""Our own config file: read strictly, because a silently ignored typo would send a
registry to the wrong account."""

from __future__ import annotations

from pathlib import Path

import pytest

from credhelper.errors import ConfigError
from credhelper.settings import Alias, Settings, load, parse

FULL_EXAMPLE = """\
cache = "keyring"
auto_login = false
default_profile = "dev"
login_timeout = 30

[registries]
"642976147714.dkr.ecr.eu-west-1.amazonaws.com" = "dev"
"Registry.Example.COM:5000" = "prod"

[aliases."registry.example.internal"]
account = "642976147714"
region = "eu-west-1"
profile = "dev"

[aliases."Mirror.Example.Internal:8443"]
account = "111111111111"
region = "us-gov-west-1"
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def config_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert caught.value.exit_code == 1
    return message


def test_full_example(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_EXAMPLE)
    settings = load(path)
    assert settings.path == path
    assert settings.cache == "keyring"
    assert settings.auto_login is False
    assert settings.default_profile == "dev"
    assert settings.registries == {
        "642976147714.dkr.ecr.eu-west-1.amazonaws.com": "dev",
        "registry.example.com:5000": "prod",
    }
    assert settings.aliases == {
        "registry.example.internal": Alias(
            host="registry.example.internal",
            account="642976147714",
            region="eu-west-1",
            profile="dev",
        ),
        "mirror.example.internal:8443": Alias(
            host="mirror.example.internal:8443",
            account="111111111111",
            region="us-gov-west-1",
            profile=None,
        ),
    }
    # Keys this module does not interpret are kept for the code that owns them.
    assert settings.raw["login_timeout"] == 30


def test_absent_file_gives_the_defaults(tmp_path: Path) -> None:
    path = str(tmp_path / "nowhere" / "config.toml")
    settings = load(path)
    assert settings == Settings(path=path)
    assert settings.cache == "file"
    assert settings.auto_login is True
    assert settings.default_profile is None
    assert settings.registries == {}
    assert settings.aliases == {}


def test_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    settings = load(path)
    assert (settings.cache, settings.auto_login, settings.registries, settings.aliases) == (
        "file",
        True,
        {},
        {},
    )


@pytest.mark.parametrize("backend", ["file", "keyring", "none"])
def test_each_cache_backend_is_accepted(tmp_path: Path, backend: str) -> None:
    assert load(write(tmp_path, f'cache = "{backend}"\n')).cache == backend


@pytest.mark.parametrize(
    "text",
    [
        "cache = \n",
        "[registries\n",
        'cache = "file"\ncache = "none"\n',
        "cache = 'unterminated\n",
        "= 3\n",
    ],
)
def test_malformed_toml_names_the_file(tmp_path: Path, text: str) -> None:
    message = config_error(tmp_path, text)
    assert "not valid TOML" in message


def test_invalid_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'default_profile = "d\xe9v"\n')
    with pytest.raises(ConfigError) as caught:
        load(str(path))
    assert str(caught.value) == f"{path}: not valid UTF-8"


def test_unreadable_path_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()
    with pytest.raises(ConfigError) as caught:
        load(str(folder))
    assert str(caught.value).startswith(f"{folder}: cannot read")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cache = 5\n", "cache must be a str, not int"),
        ("cache = true\n", "cache must be a str, not bool"),
        ('cache = "redis"\n', "cache must be one of file, keyring, none, not 'redis'"),
        ('cache = "File"\n', "cache must be one of file, keyring, none, not 'File'"),
        ('auto_login = "yes"\n', "auto_login must be a bool, not str"),
        ("auto_login = 1\n", "auto_login must be a bool, not int"),
        ("default_profile = 3\n", "default_profile must be a str, not int"),
        ('registries = "dev"\n', "[registries] must be a table"),
        ("registries = [1]\n", "[registries] must be a table"),
        ('aliases = "x"\n', "[aliases] must be a table"),
    ],
)
def test_top_level_keys_of_the_wrong_type(tmp_path: Path, text: str, expected: str) -> None:
    assert config_error(tmp_path, text).endswith(expected)


@pytest.mark.parametrize("value", ["5", "true", '""', '["dev"]', '{ name = "dev" }'])
def test_registry_value_must_be_a_profile_name(tmp_path: Path, value: str) -> None:
    message = config_error(tmp_path, f'[registries]\n"host.example" = {value}\n')
    assert message.endswith("registries.'host.example' must be a profile name (a string)")


def test_alias_must_be_a_table(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[aliases]\n"mirror.example" = "dev"\n')
    assert message.endswith("aliases.'mirror.example' must be a table with account and region")


@pytest.mark.parametrize(
    "account",
    [
        "642976147714",  # an integer, not a string in quotes
        '"64297614771"',
        '"6429761477145"',
        '"64297614771x"',
        '" 642976147714"',
        '"642976147714\\n"',
        '"\uff16\uff14\uff12\uff19\uff17\uff16\uff11\uff14\uff17\uff17\uff11\uff14"',
        '"\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"',
        '""',
    ],
)
def test_alias_account_must_be_12_ascii_digits(tmp_path: Path, account: str) -> None:
    text = f'[aliases."mirror.example"]\naccount = {account}\nregion = "eu-west-1"\n'
    message = config_error(tmp_path, text)
    assert message.endswith(
        "aliases.'mirror.example'.account must be a 12-digit account ID in quotes"
    )


def test_alias_account_missing(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[aliases."m.example"]\nregion = "eu-west-1"\n')
    assert "aliases.'m.example'.account must be a 12-digit account ID" in message


@pytest.mark.parametrize(
    "region",
    ['"EU-WEST-1"', '"eu-west"', '"euwest1"', '""', "1", '"eu-west-1 "', '"eu_west_1"', None],
)
def test_alias_region_must_be_a_region(tmp_path: Path, region: str | None) -> None:
    line = "" if region is None else f"region = {region}\n"
    text = f'[aliases."mirror.example"]\naccount = "642976147714"\n{line}'
    message = config_error(tmp_path, text)
    assert message.endswith(
        "aliases.'mirror.example'.region must be an AWS region such as eu-west-1"
    )


@pytest.mark.parametrize("profile", ['""', "3", "false"])
def test_alias_profile_must_be_a_name(tmp_path: Path, profile: str) -> None:
    text = (
        '[aliases."mirror.example"]\naccount = "642976147714"\nregion = "eu-west-1"\n'
        f"profile = {profile}\n"
    )
    message = config_error(tmp_path, text)
    assert message.endswith("aliases.'mirror.example'.profile must be a profile name (a string)")


def test_hosts_are_trimmed_and_lower_cased(tmp_path: Path) -> None:
    text = (
        '[registries]\n" PUBLIC.ECR.AWS " = "pub"\n'
        '[aliases." Mirror.EXAMPLE:5000 "]\naccount = "642976147714"\nregion = "eu-west-1"\n'
    )
    settings = load(write(tmp_path, text))
    assert settings.registries == {"public.ecr.aws": "pub"}
    assert list(settings.aliases) == ["mirror.example:5000"]
    assert settings.aliases["mirror.example:5000"].host == "mirror.example:5000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('cahce = "file"\n', ", line 1: unknown key cahce (did you mean cache?)"),
        (
            '# mine\nauto_login = true\n"default-profile" = "dev"\n',
            ", line 3: unknown key default-profile (did you mean default_profile?)",
        ),
        (
            "colour = 1\n",
            ", line 1: unknown key colour (expected cache, auto_login, default_profile,"
            " dockerhub_org, login_timeout, get_timeout_seconds, registries, aliases, managed,"
            " promote, pull_through, rewrite)",
        ),
        (
            '[registries]\n"h.example" = "dev"\n\n[aliases."m.example"]\naccount = "642976147714"'
            '\nregion = "eu-west-1"\nprofil = "dev"\n',
            ', line 7: unknown key profil in [aliases."m.example"] (did you mean profile?)',
        ),
        (
            '[aliases]\n"m.example" = { acount = "642976147714", region = "eu-west-1" }\n',
            ', line 2: unknown key acount in [aliases."m.example"] (did you mean account?)',
        ),
    ],
)
def test_unknown_keys_are_refused_with_file_line_and_the_key_meant(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(ConfigError) as caught:
        load(path)

    assert str(caught.value) == path + expected


@pytest.mark.parametrize("value", [True, "60", 0, -5, 86400, 1e9])
def test_login_timeout_is_checked_with_the_rest(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^c: login_timeout must be"):
        parse({"login_timeout": value}, "c")


def test_login_timeout_read_by_the_strict_parser() -> None:
    assert parse({"login_timeout": 45}, "c").login_timeout == 45.0
    assert parse({}, "c").login_timeout is None

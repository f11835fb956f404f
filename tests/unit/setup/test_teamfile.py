"""The team file and the flags over it: read strictly, because a typo that passed silently
would set a team member up with the wrong account."""

from __future__ import annotations

from pathlib import Path

import pytest
from setup_fixtures import EXAMPLE_TEAM, TEAM

from credhelper.errors import UsageError
from credhelper.registry import parse_address, parse_registry, registry_host
from credhelper.settings import PullThrough
from credhelper.setup import teamfile
from credhelper.setup.teamfile import AliasEntry, Profile, Sso

# 642976147714 in FULLWIDTH digits: str.isdigit() accepts them, an account ID must not.
FULLWIDTH_ACCOUNT = "".join(chr(0xFF10 + int(d)) for d in "642976147714")


def load_text(tmp_path: Path, text: str) -> teamfile.TeamFile:
    path = tmp_path / "team.toml"
    path.write_text(text)
    return teamfile.load(str(path))


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(UsageError) as caught:
        teamfile.combine(load_text(tmp_path, text))
    assert caught.value.exit_code == 2
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_shipped_example_reads_as_three_profiles() -> None:
    team = teamfile.combine(teamfile.load(str(EXAMPLE_TEAM)))

    assert team.sso == Sso("connectedhome", "https://example.awsapps.com/start", "eu-west-1")
    assert [(p.name, p.account, p.role, p.region, p.registries) for p in team.profiles] == [
        ("dev", "642976147714", "Administrator", "eu-west-1", ("eu-west-1",)),
        ("stage", "998135273239", "Administrator", "eu-west-1", ("eu-west-1",)),
        ("prod", "883291977974", "Administrator", "eu-west-1", ("eu-west-1",)),
    ]
    assert team.aliases == ()
    assert team.default_profile == "dev"
    assert team.default_profile_given is True
    assert team.dockerhub_org == "connectedhome"


def test_every_part_of_the_format(tmp_path: Path) -> None:
    team = teamfile.combine(
        load_text(
            tmp_path,
            'default_profile = "stage"\ndockerhub_org = "connectedhome"\n'
            + TEAM
            + '[profiles.tools]\naccount = "000000000001"\nrole = "Deployer"\n',
        )
    )

    dev = team.profiles[0]
    assert dev.registries == ("eu-west-1", "us-east-1")
    # No region: the SSO region.
    assert team.profiles[-1] == Profile(
        "tools", "000000000001", "Deployer", "eu-west-1", ("eu-west-1",)
    )
    assert team.aliases == (AliasEntry("registry.example.internal", "dev"),)
    assert team.default_profile == "stage"
    assert team.default_profile_given is True
    assert team.dockerhub_org == "connectedhome"


def test_scopes(tmp_path: Path) -> None:
    text = TEAM.replace(
        'region = "eu-west-1"\n',
        'region = "eu-west-1"\nscopes = ["sso:account:access", "x:y"]\n',
        1,
    )
    team = teamfile.combine(load_text(tmp_path, text))
    assert team.sso is not None
    assert team.sso.scopes == ("sso:account:access", "x:y")
    assert team.sso.scopes_given is True


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('account = "642976147714"', 'acount = "642976147714"'),
            "unknown key in [profiles.dev]: acount",
        ),
        (("[sso]", '[sso]\nstarturl = "x"'), "unknown key in [sso]: starturl"),
        (
            ('host = "registry', 'hots = "x"\nhost = "registry'),
            "unknown key in [[aliases]] #1: hots",
        ),
        (
            ("[sso]", 'defualt_profile = "dev"\n[sso]'),
            "unknown key in the team file: defualt_profile",
        ),
        (
            ('account = "642976147714"', "account = 642976147714"),
            "profiles.dev.account must be a 12-digit AWS account ID in quotes",
        ),
        (
            ('account = "642976147714"', 'account = "64297614771"'),
            "profiles.dev.account must be a 12-digit",
        ),
        (
            ('account = "642976147714"', f'account = "{FULLWIDTH_ACCOUNT}"'),
            "profiles.dev.account must be a 12-digit",
        ),
        (
            ('region = "eu-west-1"\nregistries', 'region = "Europe"\nregistries'),
            "profiles.dev.region must be an AWS region",
        ),
        (
            ('registries = ["eu-west-1", "us-east-1"]', 'registries = "eu-west-1"'),
            "profiles.dev.registries must be a list of regions",
        ),
        (
            ('registries = ["eu-west-1", "us-east-1"]', "registries = []"),
            "profiles.dev.registries must be a list of regions",
        ),
        (
            (
                'role = "Administrator"\nregion = "eu-west-1"\nregistries',
                'role = "Admin istrator"\nregion = "eu-west-1"\nregistries',
            ),
            "profiles.dev.role must be a role name",
        ),
        (("[profiles.dev]", '[profiles."my dev"]'), "'my dev' is not a usable name"),
        (("[profiles.dev]", "[profiles.default]"), "'default' is the AWS CLI's [default] section"),
        (("[profiles.dev]", "[profiles.-dev]"), "'-dev' is not a usable name"),
        (
            (
                'start_url = "https://example.awsapps.com/start"',
                'start_url = "http://example.awsapps.com/start"',
            ),
            "sso.start_url must be the https:// start URL",
        ),
        (
            ('session = "connectedhome"', 'session = "connected home"'),
            "'connected home' is not a usable name",
        ),
        (
            ('host = "registry.example.internal"', 'host = "https://registry.example.internal/v2"'),
            "host must be a hostname",
        ),
        (
            (
                'host = "registry.example.internal"',
                'host = "642976147714.dkr.ecr.eu-west-1.amazonaws.com"',
            ),
            "is an ECR registry itself",
        ),
        (
            ('profile = "dev"\n', 'profile = "qa"\n'),
            "the alias registry.example.internal names profile 'qa'",
        ),
        (
            ("[sso]", 'default_profile = "qa"\n[sso]'),
            "default_profile 'qa' is not among the profiles",
        ),
        (
            ("[sso]", 'dockerhub_org = "Connected Home"\n[sso]'),
            "dockerhub_org must be a Docker Hub organisation name",
        ),
        (
            (
                'role = "Administrator"\nregion = "eu-west-1"\nregistries',
                'region = "eu-west-1"\nregistries',
            ),
            "[profiles.dev] needs account and role",
        ),
        (("[[aliases]]", "[aliases]"), "aliases must be written as [[aliases]] tables"),
        (
            ('start_url = "https://example.awsapps.com/start"\n', ""),
            "needs both a start URL and a region",
        ),
    ],
)
def test_mistakes_are_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in TEAM or old == "[sso]"
    message = error_of(tmp_path, TEAM.replace(old, new, 1))
    assert expected in message


def test_a_top_level_key_after_a_table_gets_a_hint(tmp_path: Path) -> None:
    message = error_of(tmp_path, TEAM + 'default_profile = "dev"\n')
    assert message.endswith(
        "unknown key in [[aliases]] #1: default_profile (expected host, profile); top-level"
        " keys go before the first [table], or TOML reads them as its"
    )


def test_not_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text('[sso]\nsession = "x"\nregion = \n')
    with pytest.raises(UsageError) as caught:
        teamfile.load(str(path))
    assert str(caught.value).startswith(f"{path}: the team file is not valid TOML: ")
    assert "line 3" in str(caught.value)


def test_missing_team_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read the team file"):
        teamfile.load(str(tmp_path / "absent.toml"))


def test_two_profiles_claiming_one_registry(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        TEAM
        + '[profiles.dev2]\naccount = "642976147714"\nrole = "ReadOnly"\nregion = "us-east-1"\n',
    )
    assert message == (
        "profiles 'dev' and 'dev2' both claim the registry"
        " 642976147714.dkr.ecr.us-east-1.amazonaws.com; give one of them other registries = [...]"
    )


def test_duplicate_alias(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, TEAM + '[[aliases]]\nhost = "Registry.Example.Internal"\nprofile = "stage"\n'
    )
    assert message.endswith("the alias registry.example.internal is listed twice")


# -- flags ---------------------------------------------------------------------------------


def test_profile_flag() -> None:
    assert teamfile.parse_profile_flag("ci=123456789012:Deployer:us-west-2") == Profile(
        "ci", "123456789012", "Deployer", "us-west-2"
    )
    assert teamfile.parse_profile_flag("ci=123456789012:Deployer") == Profile(
        "ci", "123456789012", "Deployer", None
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ci", "expected NAME=ACCOUNT:ROLE[:REGION]"),
        ("ci=123456789012", "expected NAME=ACCOUNT:ROLE[:REGION]"),
        ("ci=1:2:3:4", "expected NAME=ACCOUNT:ROLE[:REGION]"),
        ("ci=12345678901:Deployer", "the account must be a 12-digit AWS account ID"),
        ("ci=123456789012:Deployer:moon", "the region must be an AWS region"),
        ("c i=123456789012:Deployer", "'c i' is not a usable name"),
    ],
)
def test_profile_flag_mistakes(text: str, expected: str) -> None:
    with pytest.raises(UsageError) as caught:
        teamfile.parse_profile_flag(text)
    assert expected in str(caught.value)


def test_flags_override_and_add(tmp_path: Path) -> None:
    base = load_text(tmp_path, TEAM)
    team = teamfile.combine(
        base,
        session="other",
        start_url="https://other.awsapps.com/start",
        sso_region="us-east-2",
        profiles=[
            teamfile.parse_profile_flag("dev=111111111111:ReadOnly"),
            teamfile.parse_profile_flag("ci=222222222222:Deployer:us-west-2"),
        ],
        default_region="ap-southeast-2",
    )

    assert team.sso == Sso("other", "https://other.awsapps.com/start", "us-east-2")
    by_name = {p.name: p for p in team.profiles}
    # Replaced as a whole: the file's registries for dev went with it.
    assert by_name["dev"] == Profile(
        "dev", "111111111111", "ReadOnly", "ap-southeast-2", ("ap-southeast-2",)
    )
    assert by_name["ci"].region == "us-west-2"
    assert list(by_name) == ["dev", "stage", "ci"]


def test_flags_alone_with_a_default_session_name() -> None:
    team = teamfile.combine(
        None,
        start_url="https://d-1234567890.awsapps.com/start/#/",
        sso_region="eu-west-1",
        profiles=[teamfile.parse_profile_flag("dev=642976147714:Administrator")],
    )
    assert team.sso is not None
    assert team.sso.session == "d-1234567890"
    assert team.default_profile == "dev"
    assert team.profiles[0].region == "eu-west-1"


def test_flags_are_checked_too() -> None:
    with pytest.raises(UsageError, match="--sso-region must be an AWS region"):
        teamfile.combine(None, start_url="https://x.awsapps.com/start", sso_region="eu")
    with pytest.raises(UsageError, match="--sso-start-url must be the https:// start URL"):
        teamfile.combine(None, start_url="example.awsapps.com", sso_region="eu-west-1")
    with pytest.raises(UsageError, match="no SSO sign-in given"):
        teamfile.combine(None, profiles=[teamfile.parse_profile_flag("a=123456789012:R")])
    with pytest.raises(UsageError, match="no profiles to set up"):
        teamfile.combine(None, start_url="https://x.awsapps.com/start", sso_region="eu-west-1")


def test_discovered_profiles_never_replace_named_ones(tmp_path: Path) -> None:
    team = teamfile.combine(
        load_text(tmp_path, TEAM),
        discovered=[
            Profile("dev", "333333333333", "Other"),
            Profile("sandbox-admin", "444444444444", "Admin"),
        ],
    )
    by_name = {p.name: p for p in team.profiles}
    assert by_name["dev"].account == "642976147714"
    assert by_name["sandbox-admin"].region == "eu-west-1"


# -- registry hosts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "host", "partition"),
    [
        ("eu-west-1", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "aws"),
        ("us-gov-west-1", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "aws-us-gov"),
        ("cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "aws-cn"),
        ("cn-northwest-1", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", "aws-cn"),
        ("eusc-de-east-1", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "aws-eusc"),
        ("us-iso-east-1", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "aws-iso"),
        ("us-isob-east-1", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "aws-iso-b"),
        ("eu-isoe-west-1", "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "aws-iso-e"),
        ("us-isof-south-1", "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "aws-iso-f"),
    ],
)
def test_registry_host_per_partition(region: str, host: str, partition: str) -> None:
    made = registry_host("123456789012", region)
    assert made == host
    # The helper's own parser reads it back as the same registry.
    address = parse_address(made)
    assert address is not None
    registry = parse_registry(address)
    assert registry is not None
    assert (registry.account, registry.region, registry.partition) == (
        "123456789012",
        region,
        partition,
    )


# -- [promote] and [pull_through]: checked as our config checks them ----------------------

TABLES = """
[promote]
order = ["dev", "stage"]

[pull_through]
prefix = "hub"
profile = "stage"
tag_immutability = false
"""


def test_promote_and_pull_through(tmp_path: Path) -> None:
    team = teamfile.combine(load_text(tmp_path, TEAM + TABLES))

    assert team.promote_order == ("dev", "stage")
    assert team.pull_through == PullThrough(prefix="hub", profile="stage", tag_immutability=False)
    plain = teamfile.combine(load_text(tmp_path, TEAM))
    assert (plain.promote_order, plain.pull_through) == ((), None)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("order =", "ordr ="),
            "[promote] has an unknown key: ordr (did you mean order?)",
        ),
        (
            ("tag_immutability", "tag_imutability"),
            "[pull_through] has an unknown key: tag_imutability (did you mean tag_immutability?)",
        ),
        (
            ('prefix = "hub"', 'prefix = "hub"\ncolour = "red"'),
            "[pull_through] has an unknown key: colour (expected prefix, upstream, profile,"
            " tag_immutability, scan_on_push, lifecycle_days)",
        ),
        (('["dev", "stage"]', '["dev", "dev"]'), "[promote] order names a profile twice"),
        (('["dev", "stage"]', '["dev", "qa"]'), "[promote] order names 'qa', not among"),
        (('profile = "stage"', 'profile = "qa"'), "[pull_through] profile 'qa' is not among"),
        (("false", '"no"'), "[pull_through]: tag_immutability must be a bool"),
        (('"hub"', '"Hub"'), "[pull_through]: pull-through prefix 'Hub' must be 2 to 30"),
    ],
)
def test_table_mistakes_are_named(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in TABLES
    message = error_of(tmp_path, TEAM + TABLES.replace(old, new, 1))
    assert f"team.toml: {expected}" in message


HOSTILE = {"ESC": "\\u001b]0;owned\\u0007", "BEL": "\\u0007", "NUL": "\\u0000", "DEL": "\\u007f"}
#: Every string a team file gives, with where its message names it.
STRING_KEYS = [
    ('start_url = "https://example.awsapps.com/start', "sso.start_url"),
    ('session = "connectedhome', "sso.session"),
    ('role = "Administrator', "profiles.dev.role"),
    ('host = "registry.example.internal', "host"),
    ('profile = "dev', "profile"),
]


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(("prefix", "key"), STRING_KEYS, ids=[k for _, k in STRING_KEYS])
def test_control_characters_in_any_value_are_refused(
    tmp_path: Path, char: str, prefix: str, key: str
) -> None:
    """A team file is shared: a value with a terminal escape (or a NUL that cuts the AWS
    config's line short) is refused in one line naming the file and the key, and the
    message shows the character escaped, never raw."""
    assert prefix in TEAM
    message = error_of(tmp_path, TEAM.replace(prefix, prefix + char, 1))
    assert message.startswith(str(tmp_path / "team.toml") + ": ")
    assert key in message
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in message), message


def test_a_start_url_flag_with_a_control_character_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        teamfile.combine(
            None, start_url="https://x.awsapps.com/start\x1b[2J", sso_region="eu-west-1"
        )
    assert str(caught.value).startswith("--sso-start-url must be the https:// start URL")
    assert "\x1b" not in str(caught.value)

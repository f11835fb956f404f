"""Which AWS profile serves a registry: the rules in order (reading the AWS config is
`aws.config`'s, tested in test_config.py)."""

from __future__ import annotations

from pathlib import Path

from credhelper.aws.config import read
from credhelper.aws.profiles import Choice, choose
from credhelper.registry import Address, Registry, parse_address, parse_registry
from credhelper.settings import Alias, Settings

REALISTIC = """\
[default]
region = us-east-1
output = json

[profile dev]
sso_session = team
sso_account_id = 111111111111
sso_role_name = Developer
region = eu-west-1

[sso-session team]
sso_start_url = https://example.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[services local-ecr]
ecr =
  endpoint_url = http://127.0.0.1:5000
  addressing_style = path

[profile 'my team']
sso_account_id = 222222222222
region = us-west-2
services = local-ecr

[plugins]
cli_legacy_plugin_path = /nowhere

[profile  spaced  ]
region = ap-south-1

# a comment
; another comment
[profile prod]
role_arn = arn:aws:iam::333333333333:role/Deploy
source_profile = dev
"""

PRIVATE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def write_aws_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "aws-config"
    path.write_text(text, encoding="utf-8")
    return str(path)


def target(server_url: str) -> tuple[Registry, Address]:
    address = parse_address(server_url)
    assert address is not None
    registry = parse_registry(address)
    assert registry is not None
    return registry, address


# -- choosing -----------------------------------------------------------------------------------

SSO_PROFILES = {
    "default": {"region": "us-east-1"},
    "other": {"sso_account_id": "999999999999", "region": "eu-west-1"},
    "us": {"sso_account_id": "123456789012", "region": "us-east-1"},
    "eu": {"sso_account_id": "123456789012", "region": "eu-west-1"},
    "eu-admin": {"sso_account_id": " 123456789012 ", "region": "eu-west-1"},
}


def test_env_profile_wins_over_everything() -> None:
    registry, address = target(PRIVATE)
    settings = Settings(
        path="/cfg.toml",
        registries={PRIVATE: "mapped"},
        aliases={PRIVATE: Alias(PRIVATE, "123456789012", "eu-west-1", "aliased")},
    )
    choice = choose(registry, address, settings, SSO_PROFILES, "from-env")
    assert choice == Choice("from-env", "the environment variable ECR_SSO_PROFILE")


def test_empty_env_profile_is_not_set() -> None:
    registry, address = target(PRIVATE)
    choice = choose(registry, address, Settings(), SSO_PROFILES, "")
    assert choice.profile == "eu"


def test_registry_map_by_host() -> None:
    settings = Settings(path="/cfg.toml", registries={PRIVATE: "mapped"})
    for server_url in (PRIVATE, f"https://{PRIVATE}:443/v2/"):
        registry, address = target(server_url)
        choice = choose(registry, address, settings, SSO_PROFILES, None)
        assert choice == Choice("mapped", "the registry map in /cfg.toml")


def test_registry_map_by_netloc_before_host() -> None:
    settings = Settings(
        path="/cfg.toml",
        registries={f"{PRIVATE}:443": "with-port", PRIVATE: "without-port"},
    )
    registry, address = target(f"{PRIVATE}:443")
    assert choose(registry, address, settings, {}, None).profile == "with-port"
    registry, address = target(PRIVATE)
    assert choose(registry, address, settings, {}, None).profile == "without-port"


def test_alias_profile() -> None:
    alias = Alias("mirror.example:5000", "123456789012", "eu-west-1", "aliased")
    settings = Settings(path="/cfg.toml", aliases={alias.host: alias})
    address = Address("mirror.example", 5000)
    registry = Registry(
        host=address.netloc,
        service="ecr",
        account="123456789012",
        region="eu-west-1",
        alias=True,
    )
    choice = choose(registry, address, settings, SSO_PROFILES, None)
    assert choice == Choice("aliased", "the alias mirror.example:5000 in /cfg.toml")


def test_alias_without_profile_falls_through_to_the_aws_config() -> None:
    alias = Alias("mirror.example", "123456789012", "us-east-1", None)
    settings = Settings(path="/cfg.toml", aliases={alias.host: alias})
    address = Address("mirror.example", None)
    registry = Registry(
        host="mirror.example", service="ecr", account="123456789012", region="us-east-1"
    )
    assert choose(registry, address, settings, SSO_PROFILES, None).profile == "us"


def test_sso_account_id_prefers_the_same_region() -> None:
    registry, address = target("123456789012.dkr.ecr.us-east-1.amazonaws.com")
    choice = choose(registry, address, Settings(), SSO_PROFILES, None)
    assert choice == Choice("us", "sso_account_id 123456789012 in the AWS config")


def test_several_in_the_same_region_first_wins_and_the_reason_names_them() -> None:
    registry, address = target(PRIVATE)
    choice = choose(registry, address, Settings(), SSO_PROFILES, None)
    assert choice.profile == "eu"
    assert choice.reason == (
        "sso_account_id 123456789012 in the AWS config (first of eu, eu-admin)"
    )


def test_no_match_in_the_region_takes_the_first_account_match() -> None:
    registry, address = target("123456789012.dkr.ecr.ap-south-1.amazonaws.com")
    choice = choose(registry, address, Settings(), SSO_PROFILES, None)
    assert choice.profile == "us"
    assert "first of us, eu, eu-admin" in choice.reason


def test_no_account_match_is_the_default_chain() -> None:
    registry, address = target("555555555555.dkr.ecr.eu-west-1.amazonaws.com")
    choice = choose(registry, address, Settings(), SSO_PROFILES, None)
    assert choice == Choice(None, "default credential chain")


def test_ecr_public_without_a_map_is_the_default_chain() -> None:
    registry, address = target("public.ecr.aws")
    # Even a profile without an account must not be matched by a public registry.
    profiles = {**SSO_PROFILES, "blank": {"sso_account_id": "", "region": "us-east-1"}}
    choice = choose(registry, address, Settings(), profiles, None)
    assert choice == Choice(None, "default credential chain")


def test_ecr_public_with_a_map() -> None:
    registry, address = target("https://public.ecr.aws/v2/")
    settings = Settings(path="/cfg.toml", registries={"public.ecr.aws": "pub"})
    assert choose(registry, address, settings, SSO_PROFILES, None).profile == "pub"


def test_choose_from_a_real_file(tmp_path: Path) -> None:
    profiles = read(write_aws_config(tmp_path, REALISTIC)).profiles
    registry, address = target("111111111111.dkr.ecr.eu-west-1.amazonaws.com")
    choice = choose(registry, address, Settings(), profiles, None)
    assert choice == Choice("dev", "sso_account_id 111111111111 in the AWS config")

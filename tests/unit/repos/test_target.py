"""Which registry and profile a repository command acts on: `credhelper.repos.target.resolve`, a
pure decision over our settings, the AWS config's profiles and the environment. The STS
question is passed in; here it answers from a table and records who asked."""

from __future__ import annotations

from typing import Any

import pytest

from credhelper.errors import ConfigError, UsageError
from credhelper.registry import partition_of
from credhelper.repos.target import Target, resolve
from credhelper.settings import Alias, Settings

PROFILES = {
    "dev": {"sso_account_id": "111111111111", "sso_role_name": "Developer", "region": "eu-west-1"},
    "dev-us": {"sso_account_id": "111111111111", "sso_role_name": "Admin", "region": "us-east-1"},
    "prod": {"sso_account_id": "222222222222", "sso_role_name": "ReadOnly", "region": "us-east-1"},
    "deploy": {"role_arn": "arn:aws:iam::333333333333:role/Deploy", "source_profile": "keys"},
    "keys": {"aws_access_key_id": "AKIA...", "region": "eu-central-1"},
}
CONFIG = "/home/me/.config/ecr-sso/config.toml"
AWS_CONFIG = "/home/me/.aws/config"


class Sts:
    def __init__(self, accounts: dict[str, str] | None = None) -> None:
        self.accounts = accounts or {}
        self.asked: list[tuple[str, str]] = []

    def __call__(self, profile: str, region: str) -> str:
        self.asked.append((profile, region))
        return self.accounts[profile]


def decide(
    *,
    profile: str | None = None,
    registry: str | None = None,
    region: str | None = None,
    settings: Settings | None = None,
    environ: dict[str, str] | None = None,
    sts: Sts | None = None,
) -> Target:
    kwargs: dict[str, Any] = {
        "profile": profile,
        "registry": registry,
        "region": region,
        "settings": settings or Settings(path=CONFIG, default_profile="dev"),
        "aws_profiles": PROFILES,
        "environ": environ or {},
        "aws_config_file": AWS_CONFIG,
        "caller_account": sts or Sts(),
    }
    return resolve(**kwargs)


def test_default_profile() -> None:
    target = decide()

    assert target.host == "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
    assert (target.profile, target.role, target.account) == ("dev", "Developer", "111111111111")
    assert target.who == "profile 'dev' (role Developer)"


def test_profile_beats_environment_beats_default() -> None:
    from_env = decide(environ={"ECR_SSO_PROFILE": "prod"})
    explicit = decide(profile="dev-us", environ={"ECR_SSO_PROFILE": "prod"})

    assert from_env.host == "222222222222.dkr.ecr.us-east-1.amazonaws.com"
    assert explicit.host == "111111111111.dkr.ecr.us-east-1.amazonaws.com"
    assert explicit.role == "Admin"


def test_nothing_chosen() -> None:
    with pytest.raises(UsageError) as raised:
        decide(settings=Settings(path=CONFIG))

    assert str(raised.value) == (
        "no registry chosen: pass --profile PROFILE or --registry HOST, or set"
        f' default_profile = "PROFILE" in {CONFIG}'
    )


def test_region_order() -> None:
    assert decide(region="ap-south-1").registry.region == "ap-south-1"
    # The profile's own region beats the environment's.
    assert decide(environ={"AWS_REGION": "sa-east-1"}).registry.region == "eu-west-1"
    sts = Sts({"deploy": "999999999999"})
    no_region = decide(profile="deploy", environ={"AWS_DEFAULT_REGION": "sa-east-1"}, sts=sts)
    assert no_region.host == "333333333333.dkr.ecr.sa-east-1.amazonaws.com"
    assert sts.asked == []  # the role ARN names the account


def test_profile_without_account_asks_sts_in_its_region() -> None:
    sts = Sts({"keys": "444444444444"})

    target = decide(profile="keys", sts=sts)

    assert target.host == "444444444444.dkr.ecr.eu-central-1.amazonaws.com"
    assert sts.asked == [("keys", "eu-central-1")]
    assert target.who == "profile 'keys'"


def test_profile_not_in_the_config() -> None:
    with pytest.raises(ConfigError) as raised:
        decide(profile="nobody")
    assert str(raised.value) == (
        f"AWS profile 'nobody' is not in {AWS_CONFIG}; run `ecr-sso setup`, or pass --registry HOST"
    )
    # With a region it may still be a credentials-file profile: STS decides.
    sts = Sts({"nobody": "555555555555"})
    assert decide(profile="nobody", region="eu-west-2", sts=sts).account == "555555555555"


def test_a_bad_region_makes_no_registry() -> None:
    with pytest.raises(ConfigError, match="make no ECR registry"):
        decide(region="Not-A-Region")


@pytest.mark.parametrize(
    ("region", "suffix"),
    [
        ("eu-west-1", "amazonaws.com"),
        ("us-gov-west-1", "amazonaws.com"),
        ("cn-northwest-1", "amazonaws.com.cn"),
        ("us-iso-east-1", "c2s.ic.gov"),
        ("us-isob-east-1", "sc2s.sgov.gov"),
        ("eu-isoe-west-1", "cloud.adc-e.uk"),
        ("us-isof-south-1", "csp.hci.ic.gov"),
        ("eusc-de-east-1", "amazonaws.eu"),
    ],
)
def test_every_partition_makes_a_registry(region: str, suffix: str) -> None:
    assert partition_of(region)[1] == suffix
    target = decide(region=region)
    assert target.host == f"111111111111.dkr.ecr.{region}.{suffix}"
    assert target.registry.region == region


def test_registry_host_takes_the_helpers_profile() -> None:
    prod = decide(registry="222222222222.dkr.ecr.us-east-1.amazonaws.com")
    dev_us = decide(registry="https://111111111111.dkr.ecr.us-east-1.amazonaws.com/v2/")
    unmapped = decide(registry="999999999999.dkr.ecr.eu-west-1.amazonaws.com")
    forced = decide(registry="222222222222.dkr.ecr.us-east-1.amazonaws.com", profile="dev")

    assert (prod.profile, prod.role) == ("prod", "ReadOnly")
    # The helper's rule: among profiles of the account, the one in the registry's region.
    assert dev_us.profile == "dev-us"
    assert dev_us.host == "111111111111.dkr.ecr.us-east-1.amazonaws.com"
    assert (unmapped.profile, unmapped.who) == (None, "the default credential chain")
    assert forced.profile == "dev"
    assert forced.account == "222222222222"


def test_registry_map_and_alias() -> None:
    settings = Settings(
        path=CONFIG,
        registries={"111111111111.dkr.ecr.eu-west-1.amazonaws.com": "dev-us"},
        aliases={
            "mirror.example:5000": Alias("mirror.example:5000", "222222222222", "eu-north-1"),
            "cache.example": Alias("cache.example", "111111111111", "eu-west-1", "dev"),
        },
    )

    mapped = decide(registry="111111111111.dkr.ecr.eu-west-1.amazonaws.com", settings=settings)
    mirror = decide(registry="mirror.example:5000", settings=settings)
    cache = decide(registry="cache.example:443", settings=settings)

    assert mapped.profile == "dev-us"
    assert (mirror.host, mirror.account, mirror.registry.region) == (
        "mirror.example:5000",
        "222222222222",
        "eu-north-1",
    )
    assert mirror.profile == "prod"  # the account's profile in the AWS config
    assert mirror.registry.alias
    # An alias without a port matches the host on any port, as in the helper.
    assert (cache.host, cache.profile) == ("cache.example:443", "dev")


@pytest.mark.parametrize(
    ("registry", "region", "message"),
    [
        (
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
            "us-east-1",
            "--region goes with --profile: a registry host names its region",
        ),
        ("not a host", None, "not a registry host: 'not a host'"),
        (
            "public.ecr.aws",
            None,
            "public.ecr.aws is ECR Public: the repository commands serve private ECR",
        ),
        (
            "ghcr.io",
            None,
            'ghcr.io is not an ECR registry; to use a host in front of one, add [aliases."ghcr.io"]'
            f" with its account and region to {CONFIG}",
        ),
    ],
)
def test_bad_registry(registry: str, region: str | None, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        decide(registry=registry, region=region)

    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("environ", "settings", "source"),
    [
        ({"ECR_SSO_PROFILE": "nobody"}, None, "the environment variable ECR_SSO_PROFILE"),
        ({}, Settings(path=CONFIG, default_profile="nobody"), f"default_profile in {CONFIG}"),
    ],
)
def test_an_unknown_profile_names_where_its_name_came_from(
    environ: dict[str, str], settings: Settings | None, source: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        decide(environ=environ, settings=settings)

    assert str(raised.value) == (
        f"AWS profile 'nobody' is not in {AWS_CONFIG} (the name came from {source});"
        " run `ecr-sso setup`, or pass --registry HOST"
    )

"""Which registry, and which AWS profile, a repository command acts on. Pure decisions over
values already read; the one AWS call it may need (whose account a profile is) is injected.

First match wins:
1. `--registry HOST`: an ECR host or one of our aliases. The profile is `--profile` if
   given, else the one the credential helper would use for that host (same rules).
2. `--profile P`, else `ECR_SSO_PROFILE`, else `default_profile` in our config: the
   registry of P's account in its region. The account is P's `sso_account_id`, else the
   account of its `role_arn`, else whatever STS GetCallerIdentity says for P. The region is
   `--region`, else P's `region`, else `AWS_REGION` / `AWS_DEFAULT_REGION`.
3. Otherwise: an error saying how to choose one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from credhelper.aws import profiles
from credhelper.errors import ConfigError, UsageError
from credhelper.registry import Address, Registry, parse_address, parse_registry, registry_host
from credhelper.settings import Settings

#: (profile, region) → the account of its credentials (STS GetCallerIdentity).
CallerAccount = Callable[[str, str], str]

_ROLE_ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:iam::([0-9]{12}):role/.+", re.ASCII)


@dataclass(frozen=True)
class Target:
    """A private ECR registry and the profile whose credentials act on it (None: the
    default credential chain). `role` names the profile's role, for error messages."""

    registry: Registry
    profile: str | None
    role: str | None = None

    @property
    def host(self) -> str:
        """The registry host as clients name it (an alias when it came from one)."""
        return self.registry.host

    @property
    def account(self) -> str:
        """The registry's account (resolve() builds private ECR targets only)."""
        return self.registry.account or ""

    @property
    def who(self) -> str:
        """`profile 'dev' (role Developer)`, for messages."""
        if self.profile is None:
            return "the default credential chain"
        return f"profile '{self.profile}'" + (f" (role {self.role})" if self.role else "")


def resolve(
    *,
    profile: str | None,
    registry: str | None,
    region: str | None,
    settings: Settings,
    aws_profiles: Mapping[str, Mapping[str, str]],
    environ: Mapping[str, str],
    aws_config_file: str,
    caller_account: CallerAccount,
) -> Target:
    """Apply the rules in the module docstring."""
    if registry is not None:
        if region is not None:
            raise UsageError("--region goes with --profile: a registry host names its region")
        address, found = registry_for_host(registry, settings)
        if profile is None:
            choice = profiles.choose(
                found, address, settings, aws_profiles, environ.get("ECR_SSO_PROFILE") or None
            )
            profile = choice.profile
        return Target(found, profile, _role(aws_profiles.get(profile or "", {})))
    name = profile or environ.get("ECR_SSO_PROFILE") or settings.default_profile
    source = None  # where the name came from, when not from --profile
    if not profile:
        source = (
            "the environment variable ECR_SSO_PROFILE"
            if environ.get("ECR_SSO_PROFILE")
            else f"default_profile in {settings.path}"
        )
    if not name:
        raise UsageError(
            "no registry chosen: pass --profile PROFILE or --registry HOST, or set"
            f' default_profile = "PROFILE" in {settings.path}'
        )
    return _profile_target(
        name,
        source=source,
        region=region,
        aws_profiles=aws_profiles,
        environ=environ,
        aws_config_file=aws_config_file,
        caller_account=caller_account,
    )


def registry_for_host(text: str, settings: Settings) -> tuple[Address, Registry]:
    """The private ECR registry `text` names (one of our aliases or an ECR host), with the
    address it was parsed from."""
    address = parse_address(text)
    if address is None:
        raise UsageError(f"not a registry host: {text!r}")
    found = settings.alias_registry(address) or parse_registry(address)
    if found is None:
        raise UsageError(
            f"{address.netloc} is not an ECR registry; to use a host in front of one, add"
            f' [aliases."{address.netloc}"] with its account and region to {settings.path}'
        )
    if found.service != "ecr":
        raise UsageError(f"{address.host} is ECR Public: the repository commands serve private ECR")
    return address, found


def _profile_target(
    name: str,
    *,
    source: str | None,
    region: str | None,
    aws_profiles: Mapping[str, Mapping[str, str]],
    environ: Mapping[str, str],
    aws_config_file: str,
    caller_account: CallerAccount,
) -> Target:
    section = aws_profiles.get(name)
    region = (
        region
        or (section or {}).get("region", "").strip()
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
    )
    if section is None and not region:
        came = f" (the name came from {source})" if source else ""
        raise ConfigError(
            f"AWS profile '{name}' is not in {aws_config_file}{came}; run `ecr-sso setup`, or"
            " pass --registry HOST"
        )
    if not region:
        raise ConfigError(
            f"AWS profile '{name}' has no region: pass --region, or set region in its"
            f" section of {aws_config_file}"
        )
    section = section or {}
    account = section.get("sso_account_id", "").strip() or _arn_account(section.get("role_arn"))
    if not account:
        account = caller_account(name, region)
    host = registry_host(account, region)
    address = parse_address(host)
    found = parse_registry(address) if address is not None else None
    if found is None:
        raise ConfigError(
            f"AWS profile '{name}': account {account!r} and region {region!r} make no ECR registry"
        )
    return Target(found, name, _role(section))


def _arn_account(role_arn: str | None) -> str:
    match = _ROLE_ARN_ACCOUNT.fullmatch((role_arn or "").strip())
    return match.group(1) if match else ""


def _role(section: Mapping[str, str]) -> str | None:
    role = section.get("sso_role_name") or section.get("role_arn")
    return role.strip() if role else None

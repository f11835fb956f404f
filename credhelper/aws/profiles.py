"""Which AWS profile serves a registry. Pure decisions over the profiles `aws.config` reads.

The rules, first match wins:
1. `ECR_SSO_PROFILE`, when set.
2. Our config: the registry map (`[registries]`), or the alias's own `profile`.
3. A profile in the AWS config whose `sso_account_id` is the registry's account;
   among several, the one whose `region` is the registry's region, else the first.
4. None: botocore's default chain (environment keys, web identity, container and
   instance roles, `AWS_PROFILE`) — what CI runners use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from credhelper.registry import Address, Registry
from credhelper.settings import Settings


@dataclass(frozen=True)
class Choice:
    """The profile to use (None: the default chain) and why (where its name came from),
    for logs, errors and `doctor`."""

    profile: str | None
    reason: str


def choose(
    registry: Registry,
    address: Address,
    settings: Settings,
    aws_profiles: Mapping[str, Mapping[str, str]],
    env_profile: str | None,
) -> Choice:
    """Apply the rules above."""
    if env_profile:
        return Choice(env_profile, "the environment variable ECR_SSO_PROFILE")
    for key in (address.netloc, address.host):
        mapped = settings.registries.get(key)
        if mapped:
            return Choice(mapped, f"the registry map in {settings.path}")
        alias = settings.aliases.get(key)
        if alias is not None and alias.profile:
            return Choice(alias.profile, f"the alias {key} in {settings.path}")
    if registry.account is not None:
        matches = [
            name
            for name, keys in aws_profiles.items()
            if keys.get("sso_account_id", "").strip() == registry.account
        ]
        same_region = [n for n in matches if aws_profiles[n].get("region") == registry.region]
        preferred = same_region or matches
        if preferred:
            reason = f"sso_account_id {registry.account} in the AWS config"
            if len(preferred) > 1:
                reason += f" (first of {', '.join(preferred)})"
            return Choice(preferred[0], reason)
    return Choice(None, "default credential chain")

"""The `--profile` / `--registry` / `--region` options of the commands that act on a
registry, and the target they choose (the rules in `credhelper.repos.target`)."""

from __future__ import annotations

import argparse

from credhelper.cli.context import Context
from credhelper.repos.target import Target
from credhelper.settings import Settings


def options(help_profile: str = "act on this AWS profile's registry") -> argparse.ArgumentParser:
    """A parent parser with the registry options."""
    parent = argparse.ArgumentParser(add_help=False)
    where = parent.add_argument_group("registry")
    where.add_argument("--profile", metavar="PROFILE", help=help_profile)
    where.add_argument("--registry", metavar="HOST", help="act on this ECR host or alias")
    where.add_argument("--region", metavar="REGION", help="with --profile: another region")
    return parent


def settings(context: Context) -> Settings:
    """Our config."""
    from credhelper.settings import load

    return load(context.paths.config_file)


def target(
    context: Context, *, profile: str | None, registry: str | None, region: str | None = None
) -> Target:
    """The registry and profile the options choose."""
    from credhelper.aws import config as aws_config
    from credhelper.repos import ecr as ecr_api
    from credhelper.repos.target import resolve

    return resolve(
        profile=profile,
        registry=registry,
        region=region,
        settings=settings(context),
        aws_profiles=aws_config.read(context.paths.aws_config_file).profiles,
        environ=context.environ,
        aws_config_file=context.paths.aws_config_file,
        caller_account=ecr_api.caller_account,
    )


def profile_registry(context: Context, profile: str) -> Target:
    """The registry `profile`'s images live in: the alias our config names for that
    profile (the host the team reaches that registry by), else the profile's account's ECR
    host in its region."""
    from credhelper.aws import config as aws_config
    from credhelper.repos.target import registry_for_host

    config = settings(context)
    for alias in config.aliases.values():
        if alias.profile == profile:
            _, found = registry_for_host(alias.host, config)
            section = aws_config.read(context.paths.aws_config_file).profiles.get(profile, {})
            role = section.get("sso_role_name") or section.get("role_arn")
            return Target(found, profile, role.strip() if role else None)
    return target(context, profile=profile, registry=None)

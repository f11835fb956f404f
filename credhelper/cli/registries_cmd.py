"""`ecr-sso registries`: the registry map and aliases of our config, as a table or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from credhelper.cli import output
from credhelper.cli.context import Context
from credhelper.cli.output import as_json, table
from credhelper.registry import parse_address, parse_registry
from credhelper.settings import Settings


def register(subparsers: Any) -> None:
    """Add `registries`."""
    registries = subparsers.add_parser(
        "registries",
        help="list the registry map: host, profile, account, region",
        description="The registries and aliases of ecr-sso's config, and their profiles.",
    )
    registries.add_argument("--json", action="store_true", help="as JSON, for scripts")
    registries.set_defaults(handler=run_registries)


@dataclass(frozen=True)
class Row:
    """One line of `ecr-sso registries`."""

    host: str
    profile: str | None
    account: str | None
    region: str | None
    kind: str
    profile_in_aws_config: bool | None

    def as_dict(self) -> dict[str, Any]:
        """The row for `--json`."""
        return {
            "host": self.host,
            "profile": self.profile,
            "account": self.account,
            "region": self.region,
            "kind": self.kind,
            "profile_in_aws_config": self.profile_in_aws_config,
        }


def registry_rows(ours: Settings, aws_profiles: Iterable[str]) -> list[Row]:
    """The registry map and the aliases of our config, in file order; account and region
    of a mapped host read from the host name."""
    known = set(aws_profiles)
    rows = []
    for host, profile in ours.registries.items():
        address = parse_address(host)
        registry = parse_registry(address) if address is not None else None
        rows.append(
            Row(
                host=host,
                profile=profile,
                account=registry.account if registry else None,
                region=registry.region if registry else None,
                kind="registry",
                profile_in_aws_config=profile in known,
            )
        )
    for host, alias in ours.aliases.items():
        rows.append(
            Row(
                host=host,
                profile=alias.profile,
                account=alias.account,
                region=alias.region,
                kind="alias",
                profile_in_aws_config=None if alias.profile is None else alias.profile in known,
            )
        )
    return rows


def run_registries(args: argparse.Namespace, context: Context) -> int:
    """`ecr-sso registries`."""
    from credhelper import settings
    from credhelper.aws import config as aws_config

    ours = settings.load(context.paths.config_file)
    names = aws_config.read(context.paths.aws_config_file).profiles
    rows = registry_rows(ours, names)
    if args.json:
        as_json(context.out, [row.as_dict() for row in rows])
        return 0
    if not rows:
        output.line(
            context.err, f"no registries in {context.paths.config_file}; `ecr-sso setup` adds them"
        )
        return 0
    table(
        context.out,
        ("HOST", "PROFILE", "ACCOUNT", "REGION", "KIND", "NOTE"),
        [
            (
                row.host,
                row.profile or "(by account)",
                row.account,
                row.region,
                row.kind,
                "profile not in the AWS config" if row.profile_in_aws_config is False else "",
            )
            for row in rows
        ],
    )
    return 0

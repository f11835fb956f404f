"""Parse a Docker server URL into the registry it names. Pure: no I/O.

The parsing itself is `serverurl`'s, the one parser the cache-hit path shares: a token must
never go to a host that is not the registry, and both paths must read a URL the same way.
This module wraps its results in values for the full path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from credhelper import serverurl
from credhelper.serverurl import PUBLIC_HOSTS, REGION_PARTITION

__all__ = [
    "PUBLIC_HOSTS",
    "PUBLIC_REGION",
    "Address",
    "Registry",
    "parse_address",
    "parse_registry",
    "partition_of",
    "registry_host",
]

#: The one pattern of an AWS region name: what botocore's partitions (`regionRegex` in
#: its partitions.json) have in common, `prefix-word(-word)*-digits`, in lower-case ASCII.
#: `serverurl` checks host names by the same rule without `re` (a test keeps them equal).
REGION_PATTERN = r"[a-z]{2,}(?:-[a-z0-9]+)+-[0-9]+"
REGION = re.compile(REGION_PATTERN, re.ASCII)


def partition_of(region: str) -> tuple[str, str]:
    """(partition, DNS suffix of its ECR hosts) of `region`."""
    for prefix, partition, suffix in REGION_PARTITION:
        if region.startswith(prefix):
            return partition, suffix
    return "aws", "amazonaws.com"


def registry_host(account: str, region: str) -> str:
    """The private ECR registry host of `account` in `region`."""
    return f"{account}.dkr.ecr.{region}.{partition_of(region)[1]}"


# ECR Public hands out tokens from one region only.
PUBLIC_REGION = serverurl.PUBLIC_REGION


@dataclass(frozen=True)
class Registry:
    """A registry we can get a token for.

    `service` is the boto3 service name (`ecr` or `ecr-public`). `account` and `region`
    are None only for ECR Public. `alias` is set when the host came from our config map
    rather than from the host name itself.
    """

    host: str
    service: str
    account: str | None
    region: str
    partition: str = "aws"
    fips: bool = False
    dual_stack: bool = False
    alias: bool = False

    @property
    def identity(self) -> str:
        """The exact registry a token is issued for and served to: partition, account,
        region, FIPS, dual-stack or public — or the alias it was fetched through."""
        if self.alias:
            return serverurl.alias_identity(self.host)
        return serverurl.registry_identity(
            self.service,
            partition=self.partition,
            account=self.account,
            region=self.region,
            fips=self.fips,
            dual_stack=self.dual_stack,
        )

    @property
    def key(self) -> str:
        """`identity` as a file-name part (a colon is not allowed in Windows file names)."""
        return self.identity.replace(" ", ".").replace(":", "_")


@dataclass(frozen=True)
class Address:
    """The host part of a Docker server URL, lower-cased, with its port if one was given."""

    host: str
    port: int | None

    @property
    def netloc(self) -> str:
        """`host` or `host:port`, as registries are named in Docker's config."""
        if self.port is None:
            return self.host
        return f"{self.host}:{self.port}"


def parse_address(server_url: str) -> Address | None:
    """Return the host (and port) a Docker server URL points to, or None if it names none
    or is anything unusual (see `serverurl`)."""
    parsed = serverurl.split(server_url.strip(" \t\r\n\v\f"))
    return None if parsed is None else Address(*parsed)


def parse_registry(address: Address) -> Registry | None:
    """Return the ECR registry an address names by its host name alone, or None.

    The port is ignored: ECR is only served on 443, and Docker keeps `:443` when a user
    types it.
    """
    host = address.host
    found = serverurl.ecr_host(host)
    if found is None:
        return None
    if found.service == "ecr-public":
        return Registry(host=host, service="ecr-public", account=None, region=PUBLIC_REGION)
    return Registry(
        host=host,
        service="ecr",
        account=found.account,
        region=found.region,
        partition=found.partition,
        fips=found.fips,
        dual_stack=found.dual_stack,
    )

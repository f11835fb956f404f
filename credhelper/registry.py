"""Parse a Docker server URL into the registry it names. Pure: no I/O.

A token must never go to a host that is not the registry, so every pattern is anchored at
both ends, accepts ASCII digits only, and userinfo (`ACCOUNT.dkr.ecr...@evil.example`) is
stripped the way a URL parser does it: what follows the `@` is the host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The one pattern of an AWS region name: what botocore's partitions (`regionRegex` in
#: its partitions.json) have in common, `prefix-word(-word)*-digits`, in lower-case ASCII.
REGION_PATTERN = r"[a-z]{2,}(?:-[a-z0-9]+)+-[0-9]+"
REGION = re.compile(REGION_PATTERN, re.ASCII)

# Region name prefix → (partition, DNS suffix), for the partitions whose regions do not
# use amazonaws.com or are not `aws` (botocore's partitions.json); the rest is `aws`.
# Longer prefixes first: "us-isob-" before "us-iso-".
_REGION_PARTITION = (
    ("cn-", "aws-cn", "amazonaws.com.cn"),
    ("eusc-", "aws-eusc", "amazonaws.eu"),
    ("us-isob-", "aws-iso-b", "sc2s.sgov.gov"),
    ("us-isof-", "aws-iso-f", "csp.hci.ic.gov"),
    ("us-iso-", "aws-iso", "c2s.ic.gov"),
    ("eu-isoe-", "aws-iso-e", "cloud.adc-e.uk"),
    ("us-gov-", "aws-us-gov", "amazonaws.com"),
)


# DNS suffix of a registry host → AWS partition, from the table above, plus the two
# dual-stack suffixes (`on.aws`, `on.amazonwebservices.com.cn`) with the partition they
# serve. GovCloud shares amazonaws.com: `parse_registry` tells it by its region.
_SUFFIX_PARTITION = {
    "amazonaws.com": "aws",
    "on.aws": "aws",
    "on.amazonwebservices.com.cn": "aws-cn",
    **{suffix: part for _, part, suffix in _REGION_PARTITION if part != "aws-us-gov"},
}


def partition_of(region: str) -> tuple[str, str]:
    """(partition, DNS suffix of its ECR hosts) of `region`."""
    for prefix, partition, suffix in _REGION_PARTITION:
        if region.startswith(prefix):
            return partition, suffix
    return "aws", "amazonaws.com"


def registry_host(account: str, region: str) -> str:
    """The private ECR registry host of `account` in `region`."""
    return f"{account}.dkr.ecr.{region}.{partition_of(region)[1]}"


# `dkr.ecr` and `dkr-ecr` (dual-stack) with an optional `-fips`. `on.aws` is only ever
# `dkr-ecr`; the China dual-stack suffix keeps `dkr.ecr` (the Go helper's vectors say so).
_PRIVATE = re.compile(
    r"(?P<account>[0-9]{12})\.dkr(?P<sep>[.-])ecr(?P<fips>-fips)?\."
    r"(?P<region>" + REGION_PATTERN + r")\."
    r"(?P<suffix>" + "|".join(re.escape(s) for s in _SUFFIX_PARTITION) + r")",
    re.ASCII,
)

PUBLIC_HOSTS = frozenset({"public.ecr.aws", "ecr-public.aws.com"})
# ECR Public hands out tokens from one region only.
PUBLIC_REGION = "us-east-1"


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
    def key(self) -> str:
        """A stable, file-name-safe identity of the registry (not of the host)."""
        if self.service == "ecr-public":
            return "ecr-public"
        return f"ecr.{self.account}.{self.region}" + (".fips" if self.fips else "")


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


_HOST_CHARS = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\]", re.ASCII)


_SPACE = " \t\r\n\v\f"


def parse_address(server_url: str) -> Address | None:
    """Return the host (and port) a Docker server URL points to, or None if it names none.

    Accepts what Docker clients send: a bare host, `host:port`, an `https://` or `http://`
    prefix, and a path (`/v2/...`). Anything that is not a plain DNS name or bracketed IPv6
    literal — spaces, control characters, non-ASCII — gives None.
    """
    text = server_url.strip(_SPACE)
    # Before lower-casing: some non-ASCII letters lower-case to ASCII (KELVIN SIGN → "k").
    if not text.isascii():
        return None
    text = text.lower()
    scheme_end = text.find("://")
    if scheme_end != -1:
        text = text[scheme_end + 3 :]
    for stop in "/?#":
        text = text.split(stop, 1)[0]
    # userinfo: like a URL parser, the host is what follows the last "@".
    text = text.rpartition("@")[2]
    host, port = text, None
    if text.startswith("["):
        end = text.find("]")
        if end == -1:
            return None
        host, rest = text[: end + 1], text[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                return None
            port = _parse_port(rest[1:])
            if port is None:
                return None
    elif ":" in text:
        host, _, port_text = text.partition(":")
        port = _parse_port(port_text)
        if port is None:
            return None
    if host.endswith(".") and not host.startswith("["):
        host = host[:-1]  # one trailing dot is the DNS root; "host.." is no host
    if not host or _HOST_CHARS.fullmatch(host) is None:
        return None
    return Address(host, port)


def _parse_port(text: str) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def parse_registry(address: Address) -> Registry | None:
    """Return the ECR registry an address names by its host name alone, or None.

    The port is ignored: ECR is only served on 443, and Docker keeps `:443` when a user
    types it.
    """
    host = address.host
    if host in PUBLIC_HOSTS:
        return Registry(host=host, service="ecr-public", account=None, region=PUBLIC_REGION)
    match = _PRIVATE.fullmatch(host)
    if match is None:
        return None
    suffix = match["suffix"]
    dual_stack = suffix.startswith("on.")
    # Dual-stack AWS hosts use "dkr-ecr"; plain ones and the China dual-stack use "dkr.ecr".
    if (suffix == "on.aws") != (match["sep"] == "-"):
        return None
    region = match["region"]
    partition = _SUFFIX_PARTITION[suffix]
    if partition == "aws" and region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return Registry(
        host=host,
        service="ecr",
        account=match["account"],
        region=region,
        partition=partition,
        fips=match["fips"] is not None,
        dual_stack=dual_stack,
    )

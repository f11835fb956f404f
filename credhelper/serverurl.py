"""The one parser of Docker server URLs and ECR host names, for the full path and the
cache-hit path alike. Pure, and stdlib-free (no `re`): the hit path imports it.

A token must never go to a host that is not the registry, and docker reads server URLs with
Go's `url.Parse`. So every string that Go would reject or read differently — and every
string where Go and a browser-style (WHATWG) parser disagree — is refused: anything but
printable ASCII (spaces, control characters), backslashes (a WHATWG parser ends the host
at `\\`, Go refuses it), `%` that is not `%XX` and any `%` in the host, userinfo with a
character Go's `validUserinfo` refuses (the host is what follows the last `@`, for both), a
scheme other than `http://` or `https://`, and `://` anywhere but at the start.
"""

# Region name prefix → (partition, DNS suffix), for the partitions whose regions do not
# use amazonaws.com or are not `aws` (botocore's partitions.json); the rest is `aws`.
# Longer prefixes first: "us-isob-" before "us-iso-". The one such table: `registry` reads
# it too.
REGION_PARTITION = (
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
# serve. GovCloud shares amazonaws.com: `ecr_host` tells it by its region.
SUFFIX_PARTITION = {
    "amazonaws.com": "aws",
    "on.aws": "aws",
    "on.amazonwebservices.com.cn": "aws-cn",
    **{suffix: part for _, part, suffix in REGION_PARTITION if part != "aws-us-gov"},
}
PUBLIC_HOSTS = frozenset({"public.ecr.aws", "ecr-public.aws.com"})
# ECR Public hands out tokens from one region only.
PUBLIC_REGION = "us-east-1"

_DIGITS = frozenset("0123456789")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_ALNUM = _LOWER | _DIGITS
_DNS = _ALNUM | {".", "-"}
_IPV6 = _DIGITS | frozenset("abcdef:.")
_HEX = frozenset("0123456789abcdefABCDEF")
# Go's validUserinfo: unreserved, sub-delims, ":", "%" and "@" (the text is lower-cased here).
_USERINFO = _ALNUM | frozenset("-._:~!$&'()*+,;=%@")
_PRINTABLE = frozenset(chr(c) for c in range(0x21, 0x7F)) - {"\\"}


def split(server_url: str) -> tuple[str, int | None] | None:
    """(host, port) a server URL points to, host lower-cased without a trailing dot; None
    for anything unusual (see the module's docstring) or not naming a host.

    Accepts what Docker clients send: a bare host, `host:port`, an `https://` or `http://`
    prefix, and a path, query or fragment. The caller trims surrounding white space."""
    if not server_url or not _PRINTABLE.issuperset(server_url):
        return None
    if not _percent_ok(server_url):
        return None
    text = server_url.lower()
    if text.startswith("https://"):
        text = text[8:]
    elif text.startswith("http://"):
        text = text[7:]
    if "://" in text:
        return None
    end = len(text)
    for stop in "/?#":
        found = text.find(stop)
        if found != -1 and found < end:
            end = found
    userinfo, _, authority = text[:end].rpartition("@")
    if not _USERINFO.issuperset(userinfo) or "%" in authority:
        return None
    return _host_port(authority)


def _host_port(authority: str) -> tuple[str, int | None] | None:
    host, port = authority, None
    if authority.startswith("["):
        close = authority.find("]")
        if close == -1:
            return None
        host, rest = authority[: close + 1], authority[close + 1 :]
        if rest:
            if rest[0] != ":":
                return None
            port = _port(rest[1:])
            if port is None:
                return None
        inner = host[1:-1]
        if not inner or not _IPV6.issuperset(inner):
            return None
        return host, port
    if ":" in authority:
        host, _, port_text = authority.partition(":")
        port = _port(port_text)
        if port is None:
            return None
    if host.endswith("."):
        host = host[:-1]  # one trailing dot is the DNS root; "host.." is no host
    if not _dns_name(host):
        return None
    return host, port


def _dns_name(host: str) -> bool:
    return bool(host) and _DNS.issuperset(host) and host[0] in _ALNUM and host[-1] in _ALNUM


def _port(text: str) -> int | None:
    if not text or len(text) > 5 or not _DIGITS.issuperset(text):
        return None
    port = int(text)
    return port if 0 < port < 65536 else None


def _percent_ok(text: str) -> bool:
    """Every `%` starts a `%XX` escape, as Go's url.Parse requires."""
    at = text.find("%")
    while at != -1:
        if not _HEX.issuperset(text[at + 1 : at + 3]) or len(text) < at + 3:
            return False
        at = text.find("%", at + 3)
    return True


class EcrHost:
    """The registry an ECR host name names. `account` is None only for ECR Public."""

    __slots__ = ("account", "dual_stack", "fips", "partition", "region", "service")

    def __init__(
        self,
        service: str,
        *,
        account: str | None,
        region: str,
        partition: str,
        fips: bool,
        dual_stack: bool,
    ) -> None:
        self.service = service
        self.account = account
        self.region = region
        self.partition = partition
        self.fips = fips
        self.dual_stack = dual_stack

    @property
    def identity(self) -> str:
        """The exact registry, as a token records it: another partition, account, region,
        FIPS or dual-stack endpoint is another registry."""
        return registry_identity(
            self.service,
            partition=self.partition,
            account=self.account,
            region=self.region,
            fips=self.fips,
            dual_stack=self.dual_stack,
        )


def registry_identity(
    service: str,
    *,
    partition: str,
    account: str | None,
    region: str,
    fips: bool,
    dual_stack: bool,
) -> str:
    """The one spelling of a registry's identity (tokens and routes record it)."""
    if service == "ecr-public":
        return f"ecr-public {partition}"
    return (
        f"ecr {partition} {account} {region}"
        + (" fips" if fips else "")
        + (" dual-stack" if dual_stack else "")
    )


def alias_identity(name: str) -> str:
    """The identity of a registry reached through an alias of our config named `name`."""
    return f"alias {name}"


def ecr_host(host: str) -> EcrHost | None:
    """The ECR registry a lower-cased host name names by itself, or None.

    `ACCOUNT.dkr.ecr[-fips].REGION.SUFFIX`, or `ACCOUNT.dkr-ecr[-fips].REGION.on.aws` for
    dual-stack (the China dual-stack suffix keeps `dkr.ecr`, as the Go helper's vectors
    say); ECR Public's two host names."""
    if host in PUBLIC_HOSTS:
        return EcrHost(
            "ecr-public",
            account=None,
            region=PUBLIC_REGION,
            partition="aws",
            fips=False,
            dual_stack=False,
        )
    parts = host.split(".")
    if len(parts) < 5:
        return None
    account = parts[0]
    if parts[1] == "dkr" and parts[2] in ("ecr", "ecr-fips"):
        dashed, fips, rest = False, parts[2] == "ecr-fips", parts[3:]
    elif parts[1] in ("dkr-ecr", "dkr-ecr-fips"):
        dashed, fips, rest = True, parts[1] == "dkr-ecr-fips", parts[2:]
    else:
        return None
    if len(rest) < 2 or len(account) != 12 or not _DIGITS.issuperset(account):
        return None
    region, suffix = rest[0], ".".join(rest[1:])
    partition = SUFFIX_PARTITION.get(suffix)
    if partition is None or not _region(region):
        return None
    # Dual-stack AWS hosts use "dkr-ecr"; plain ones and the China dual-stack use "dkr.ecr".
    if (suffix == "on.aws") != dashed:
        return None
    if partition == "aws" and region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return EcrHost(
        "ecr",
        account=account,
        region=region,
        partition=partition,
        fips=fips,
        dual_stack=suffix.startswith("on."),
    )


def _region(text: str) -> bool:
    """`registry.REGION_PATTERN` without `re`: `letters(-alnum)+-digits` with at least two
    letters first, like `eu-west-1` or `us-gov-east-1`."""
    words = text.split("-")
    if len(words) < 3:
        return False
    first, last = words[0], words[-1]
    if len(first) < 2 or not _LOWER.issuperset(first) or not last:
        return False
    if not _DIGITS.issuperset(last):
        return False
    return all(word and _ALNUM.issuperset(word) for word in words[1:-1])

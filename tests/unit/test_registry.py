"""Host parsing: which server URLs name an ECR registry, and which only look like one.

A token must never be handed out for a host that is not the registry, so most of these
tests are about what must *not* match.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from credhelper.registry import (
    PUBLIC_HOSTS,
    PUBLIC_REGION,
    Address,
    Registry,
    parse_address,
    parse_registry,
)

# The Go helper's own test vectors, copied into tests/data/ (see its README.md), found from
# this file so the working directory does not matter.
HOST_CASES_FILE = Path(__file__).resolve().parents[1] / "data" / "ecr-login-host-cases.json"
HOST_CASES: list[dict[str, Any]] = json.loads(HOST_CASES_FILE.read_text(encoding="utf-8"))

SUFFIXES = (
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "on.aws",
    "on.amazonwebservices.com.cn",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
    "cloud.adc-e.uk",
    "csp.hci.ic.gov",
)

ACCOUNT = "123456789012"


def registry_of(server_url: str) -> Registry | None:
    address = parse_address(server_url)
    return None if address is None else parse_registry(address)


# -- the Go helper's vectors --------------------------------------------------------------


def test_the_peer_vectors_are_all_here() -> None:
    # Both kinds present: a truncated or emptied file must not pass by testing nothing.
    assert len(HOST_CASES) >= 29
    assert {case["valid"] for case in HOST_CASES} == {True, False}


@pytest.mark.parametrize("case", HOST_CASES, ids=[case["host"] for case in HOST_CASES])
def test_peer_vector(case: dict[str, Any]) -> None:
    registry = registry_of(case["host"])
    if not case["valid"]:
        assert registry is None
        return
    assert registry is not None
    assert registry.service == case["service"]
    assert registry.fips is case["fips"]
    assert registry.account == case["account"]
    if case["service"] == "ecr-public":
        assert registry.host == case["name"]
        # The Go helper reports no region for ECR Public; we always ask us-east-1.
        assert registry.region == PUBLIC_REGION
        assert registry.key == "ecr-public.aws"
    else:
        assert registry.region == case["region"]
        assert registry.key.startswith(
            f"ecr.{registry.partition}.{case['account']}.{case['region']}"
        )


# -- partitions, dual stack, FIPS --------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "partition", "dual_stack", "fips"),
    [
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", "aws", False, False),
        (f"{ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com", "aws", False, True),
        (f"{ACCOUNT}.dkr-ecr.eu-west-1.on.aws", "aws", True, False),
        (f"{ACCOUNT}.dkr-ecr-fips.us-east-2.on.aws", "aws", True, True),
        (f"{ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com", "aws-us-gov", False, False),
        (f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "aws-us-gov", False, True),
        (f"{ACCOUNT}.dkr-ecr.us-gov-east-1.on.aws", "aws-us-gov", True, False),
        (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn", "aws-cn", False, False),
        (f"{ACCOUNT}.dkr.ecr.cn-northwest-1.on.amazonwebservices.com.cn", "aws-cn", True, False),
        (f"{ACCOUNT}.dkr.ecr.eusc-de-east-1.amazonaws.eu", "aws-eusc", False, False),
        (f"{ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov", "aws-iso", False, False),
        (f"{ACCOUNT}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "aws-iso-b", False, False),
        (f"{ACCOUNT}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "aws-iso-e", False, False),
        (f"{ACCOUNT}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "aws-iso-f", False, False),
    ],
)
def test_partition_dual_stack_and_fips(
    host: str, partition: str, dual_stack: bool, fips: bool
) -> None:
    registry = registry_of(host)
    assert registry is not None
    assert registry.partition == partition
    assert registry.dual_stack is dual_stack
    assert registry.fips is fips
    assert registry.service == "ecr"
    assert registry.account == ACCOUNT
    assert registry.alias is False
    assert registry.host == host


@pytest.mark.parametrize(
    "host",
    [
        # Dual-stack AWS hosts are only ever "dkr-ecr", plain ones only "dkr.ecr".
        f"{ACCOUNT}.dkr-ecr.us-east-1.amazonaws.com",
        f"{ACCOUNT}.dkr-ecr-fips.us-east-1.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.us-east-1.on.aws",
        f"{ACCOUNT}.dkr.ecr-fips.us-east-1.on.aws",
        # The China dual-stack suffix keeps "dkr.ecr".
        f"{ACCOUNT}.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
    ],
)
def test_separator_must_match_the_suffix(host: str) -> None:
    assert registry_of(host) is None


def test_identity_and_key_separate_partition_fips_and_dual_stack() -> None:
    plain = registry_of(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com")
    fips = registry_of(f"{ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com")
    dual = registry_of(f"{ACCOUNT}.dkr-ecr.us-east-1.on.aws")
    china = registry_of(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.cn")
    public = registry_of("public.ecr.aws")
    assert plain is not None
    assert fips is not None
    assert dual is not None
    assert china is not None
    assert public is not None
    assert plain.identity == f"ecr aws {ACCOUNT} us-east-1"
    assert fips.identity == f"ecr aws {ACCOUNT} us-east-1 fips"
    assert dual.identity == f"ecr aws {ACCOUNT} us-east-1 dual-stack"
    assert china.identity == f"ecr aws-cn {ACCOUNT} us-east-1"
    assert public.identity == "ecr-public aws"
    assert plain.key == f"ecr.aws.{ACCOUNT}.us-east-1"
    assert fips.key == f"ecr.aws.{ACCOUNT}.us-east-1.fips"
    # A token is bound to the exact endpoint it was fetched for.
    assert dual.key == f"ecr.aws.{ACCOUNT}.us-east-1.dual-stack"
    assert china.key == f"ecr.aws-cn.{ACCOUNT}.us-east-1"
    alias = Registry("reg.example:5000", "ecr", ACCOUNT, "us-east-1", alias=True)
    assert alias.identity == "alias reg.example:5000"
    assert alias.key == "alias.reg.example_5000"


# -- what a Docker client sends: scheme, path, port, case ------------------------------------


@pytest.mark.parametrize(
    ("server_url", "port"),
    [
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:443", 443),
        (f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None),
        (f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/v2/", None),
        (f"http://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:8443/v2/x?y=1#z", 8443),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/repo/image:tag", None),
        (f"HTTPS://{ACCOUNT}.DKR.ECR.US-EAST-1.AMAZONAWS.COM:443/V2/", 443),
        (f"  {ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\n", None),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\r\n", None),
        # A fully qualified name with its root dot is the same host.
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.", None),
        (f"user:pass@{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com", None),
    ],
)
def test_forms_of_a_private_registry_url(server_url: str, port: int | None) -> None:
    expected_host = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    address = parse_address(server_url)
    assert address == Address(expected_host, port)
    assert address.netloc == (expected_host if port is None else f"{expected_host}:{port}")
    registry = parse_registry(address)
    assert registry is not None
    assert (registry.host, registry.account, registry.region) == (
        expected_host,
        ACCOUNT,
        "us-east-1",
    )


@pytest.mark.parametrize(
    ("server_url", "netloc"),
    [
        ("PUBLIC.ECR.AWS", "public.ecr.aws"),
        ("public.ecr.aws:443", "public.ecr.aws:443"),
        ("https://public.ecr.aws/v2/amazonlinux/", "public.ecr.aws"),
        ("public.ecr.aws.", "public.ecr.aws"),
        ("https://ECR-Public.AWS.com:443/x", "ecr-public.aws.com:443"),
    ],
)
def test_forms_of_ecr_public(server_url: str, netloc: str) -> None:
    address = parse_address(server_url)
    assert address is not None
    assert address.netloc == netloc
    registry = parse_registry(address)
    assert registry is not None
    assert registry.service == "ecr-public"
    assert registry.account is None
    assert registry.region == "us-east-1"
    assert registry.host in PUBLIC_HOSTS


@pytest.mark.parametrize(
    ("server_url", "host", "port"),
    [
        ("localhost:5000", "localhost", 5000),
        ("127.0.0.1:5000", "127.0.0.1", 5000),
        ("registry.example.internal", "registry.example.internal", None),
        ("https://Registry.Example.Internal:1/v2/", "registry.example.internal", 1),
        ("host:65535", "host", 65535),
        ("[::1]:5000", "[::1]", 5000),
        ("[::1]", "[::1]", None),
        ("http://[fe80::1]:443/v2/", "[fe80::1]", 443),
        ("[2001:DB8::1]:5000", "[2001:db8::1]", 5000),
    ],
)
def test_other_hosts_keep_their_port_and_are_not_registries(
    server_url: str, host: str, port: int | None
) -> None:
    address = parse_address(server_url)
    assert address == Address(host, port)
    assert address.netloc == (host if port is None else f"{host}:{port}")
    assert parse_registry(address) is None


# -- what must not be taken for a registry ----------------------------------------------------


def test_userinfo_trick_names_the_host_after_the_at() -> None:
    trick = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com@evil.example"
    for server_url in (trick, f"https://{trick}/v2/", f"{trick}:443"):
        address = parse_address(server_url)
        assert address is not None
        assert address.host == "evil.example"
        assert parse_registry(address) is None


@pytest.mark.parametrize(
    "server_url",
    [
        # The path, query or fragment ends the authority before any "@" in it.
        f"evil.example/@{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        f"evil.example?@{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        f"evil.example#@{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        f"https://evil.example/{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
    ],
)
def test_registry_host_after_a_path_is_not_the_host(server_url: str) -> None:
    address = parse_address(server_url)
    assert address == Address("evil.example", None)
    assert parse_registry(address) is None


@pytest.mark.parametrize(
    "server_url",
    [
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.evil.example",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.comevil",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonawsxcom",
        f"{ACCOUNT}.dkrxecr.us-east-1.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.us-east-1.on.aws.evil.example",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com.cn.evil.example",
        f"x{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        f"evil.{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com",
        f"{ACCOUNT}3.dkr.ecr.us-east-1.amazonaws.com",
        f"{ACCOUNT[:-1]}.dkr.ecr.us-east-1.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr..amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.us-east.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.1.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.us_east_1.amazonaws.com",
        f"{ACCOUNT}.ecr.us-east-1.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:443.evil.example",
        "public.ecr.aws.evil.example",
        "evilpublic.ecr.aws",
        "public-ecr.aws",
        "ecr-public.aws.com.evil.example",
        "https://public.ecr.aws@evil.example",
        "amazonaws.com",
        "dkr.ecr.us-east-1.amazonaws.com",
    ],
)
def test_lookalikes_are_not_registries(server_url: str) -> None:
    assert registry_of(server_url) is None


@pytest.mark.parametrize(
    "server_url",
    [
        # A newline inside the host: a log-injection or header-splitting attempt.
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\n.evil.example",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\nevil.example",
        f"{ACCOUNT}.dkr.ecr.us-east-1\n.amazonaws.com",
        "public.ecr.aws\n:443",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\r.evil",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\x00",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\x00.evil.example",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\t:443",
    ],
)
def test_control_characters_inside_the_host(server_url: str) -> None:
    assert parse_address(server_url) is None


@pytest.mark.parametrize(
    "server_url",
    [
        # Go's url.Parse refuses these, or a WHATWG parser reads another host: refused.
        f"evil.com\\@{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        f"https://evil.com\\@{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/v2/",
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com\\",
        f"\x1c{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com\x1c",
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com /v2/",
        f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/v2/a b",
        f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/v2/%zz",
        f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/v2/%4",
        f"https://{ACCOUNT}%2edkr.ecr.eu-west-1.amazonaws.com/v2/",
        f"evil.example/x://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        f"ftp://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com",
        f'a"b@{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com',
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com:",
        "\u212a.example",  # KELVIN SIGN lower-cases to ASCII "k"
    ],
)
def test_urls_go_would_refuse_or_read_differently(server_url: str) -> None:
    assert parse_address(server_url) is None


def test_a_valid_escape_in_the_path_is_fine() -> None:
    address = parse_address(f"https://{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/v2/a%2Fb")
    assert address == Address(f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", None)


def other_digits(text: str, zero: int) -> str:
    """`text` with its ASCII digits written in the script whose digit zero is `zero`."""
    return "".join(chr(zero + int(c)) if c.isdigit() else c for c in text)


ARABIC_INDIC = 0x0660
PERSIAN = 0x06F0
DEVANAGARI = 0x0966
FULLWIDTH = 0xFF10
MATH_BOLD = 0x1D7CE


@pytest.mark.parametrize(
    "account",
    [
        other_digits(ACCOUNT, ARABIC_INDIC),
        other_digits(ACCOUNT, PERSIAN),
        other_digits(ACCOUNT, FULLWIDTH),
        other_digits(ACCOUNT, DEVANAGARI),
        other_digits(ACCOUNT, MATH_BOLD),
        ACCOUNT[:-1] + other_digits(ACCOUNT[-1], FULLWIDTH),
    ],
    ids=["arabic-indic", "persian", "fullwidth", "devanagari", "math-bold", "last-fullwidth"],
)
def test_non_ascii_digits_in_the_account(account: str) -> None:
    host = f"{account}.dkr.ecr.us-east-1.amazonaws.com"
    assert parse_address(host) is None
    # Even an Address built by hand, bypassing parse_address, is not a registry.
    assert parse_registry(Address(host, None)) is None


@pytest.mark.parametrize(
    "server_url",
    [
        f"{ACCOUNT}.dkr.ecr.us-east-{other_digits('1', ARABIC_INDIC)}.amazonaws.com",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:{other_digits('443', ARABIC_INDIC)}",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com:{other_digits('443', FULLWIDTH)}",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com\u200b",  # zero-width space
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.c\u03bfm",  # Greek omicron
        "publ\u0456c.ecr.aws",  # Cyrillic i
    ],
)
def test_other_non_ascii_is_not_a_host(server_url: str) -> None:
    assert parse_address(server_url) is None


def test_non_ascii_that_lowercases_to_ascii_is_not_a_host() -> None:
    # U+212A KELVIN SIGN lower-cases to the ASCII letter "k". The docstring promises that
    # non-ASCII input gives None; lower-casing before checking turns this into a real ECR
    # host that the client never spelled.
    kelvin = f"{ACCOUNT}.d\u212ar.ecr.us-east-1.amazonaws.com"
    assert parse_address(kelvin) is None


@pytest.mark.parametrize(
    "server_url",
    [
        "",
        " ",
        "\n",
        "://",
        "https://",
        "https:///v2/",
        "@",
        ":443",
        "host:",
        "host:0",
        "host:65536",
        "host:123456",
        "host:-1",
        "host:+443",
        "host: 443",
        "host:44 3",
        "host:abc",
        "a:b:c",
        "[::1",
        "[::1]x",
        "[::1]:",
        "[::1]:0",
        "[g::1]",
        "[]",
        "a b",
        "host_name",
        "-host",
        "host-",
        ".",
        "..",
        ".host",
        "*",
        "garbage!!",
        "%00",
        "\x00",
        "\\\\evil\\share",
    ],
)
def test_empty_and_garbage_give_no_address(server_url: str) -> None:
    assert parse_address(server_url) is None


# -- the property ------------------------------------------------------------------------------

_FRAGMENTS = [
    ACCOUNT,
    "1",
    ".",
    "-",
    "dkr",
    "ecr",
    "fips",
    "us-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "amazonaws",
    "com",
    "cn",
    "on",
    "aws",
    "public",
    "amazonwebservices",
    "https://",
    "/",
    "@",
    ":",
    "443",
    "[",
    "]",
    "::1",
    "evil.example",
    "\n",
    " ",
    "\u212a",
    other_digits("1", ARABIC_INDIC),
    other_digits("1", FULLWIDTH),
    "K",
    "\u0130",  # capital I with dot: lower-cases to two characters
]
_near_registry = st.lists(st.sampled_from(_FRAGMENTS), max_size=14).map("".join)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@settings(
    max_examples=400,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(st.text(), _near_registry))
@example(f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com@evil.example")
@example(f"https://{ACCOUNT}.dkr-ecr-fips.us-gov-east-1.on.aws:443/v2/")
def test_any_text_is_a_true_registry_or_none(text: str) -> None:
    address = parse_address(text)
    if address is None:
        return
    assert address.host.isascii()
    assert address.port is None or 0 < address.port < 65536
    registry = parse_registry(address)
    if registry is None:
        return
    assert registry.host == address.host
    # What we hand a token for was spelled out by the client (ASCII case aside).
    assert registry.host in text.translate(_ASCII_LOWER)
    if registry.service == "ecr-public":
        assert registry.host in PUBLIC_HOSTS
        assert registry.account is None
        return
    assert registry.service == "ecr"
    assert registry.host.endswith(tuple("." + suffix for suffix in SUFFIXES))
    assert registry.account is not None
    assert len(registry.account) == 12
    assert registry.account.isascii()
    assert registry.account.isdigit()
    assert registry.host.startswith(registry.account + ".dkr")
    assert registry.region.isascii()
    assert f".{registry.region}." in registry.host

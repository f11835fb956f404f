"""One parser, one answer: for any input, the cache-hit path either declines (None) or
prints exactly what the full path prints for the same bytes.

Both run in-process over one real file cache seeded by the full path for several kinds of
registry (plain, FIPS, dual-stack, another partition, ECR Public, an alias with and without
a port); the token fetch is a deterministic stand-in, so the full path's answer for a host
is the same whether it was cached or not. Inputs are biased towards ECR-like hosts with odd
characters in odd places: backslashes, `@`, control characters, spaces, `%`, ports.
"""

from __future__ import annotations

import os

import pytest
from conftest import Env
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from credhelper.errors import EcrSsoError
from credhelper.helper import fastpath, protocol
from credhelper.helper.credstore import CredStore
from credhelper.helper.tokens import FileCache, Token
from credhelper.helper.usecases import Helper
from credhelper.paths import Paths
from credhelper.registry import Registry
from credhelper.settings import load

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
SEEDED = (
    DEV,
    "111111111111.dkr.ecr-fips.us-east-1.amazonaws.com",
    "111111111111.dkr-ecr.eu-west-1.on.aws",
    "111111111111.dkr.ecr.eu-west-1.amazonaws.com.cn",
    "111111111111.dkr.ecr.us-gov-west-1.amazonaws.com",
    "public.ecr.aws",
    "ecr-public.aws.com",
    "registry.example.internal",
    "registry.example.internal:5000",
    f"{DEV}:443",
)
OTHERS = (
    "evil.example.com",
    f"{DEV}.evil.example",
    "111111111111.dkr.ecr.eu-west-1.amazonaws.eu",
    "111111111111.dkr.ecr.eu-west-1.c2s.ic.gov",
    "localhost:5000",
    "[::1]:5000",
)
ODD = (
    "\\",
    "@",
    "\x1c",
    "\x1f",
    "\x00",
    "\x7f",
    " ",
    "\t",
    "\n",
    "%",
    "%2e",
    "%zz",
    ":",
    ":443",
    "/",
    "?",
    "#",
    ".",
    "://",
    "[",
    "]",
    "_",
    "\u212a",  # KELVIN SIGN: lower-cases to ASCII "k"
    "\u00e9",
    "\u0085",
    "\u00a0",
)


def fetch(registry: Registry, profile: str | None) -> Token:
    """A token that depends on the registry and the profile only."""
    secret = f"pw-{registry.identity}-{profile}".replace(" ", "_")
    return Token("AWS", secret, 4_000_000_000.0)


@pytest.fixture
def helper(env: Env) -> Helper:
    env.write_config(
        '[aliases."registry.example.internal"]\naccount = "111111111111"\nregion = "eu-west-1"\n'
    )
    paths = Paths.from_environ(os.environ)
    made = Helper(
        paths=paths,
        settings=load(paths.config_file),
        environ=os.environ,
        cache=FileCache(paths.cache_dir),
        fetch=fetch,
        credstore=CredStore(paths.data_dir),
    )
    for host in SEEDED:
        made.get(host)
    return made


def full(helper: Helper, data: bytes) -> str | None:
    """The full path's stdout for `get`, None for any failure line."""
    try:
        creds = helper.get(protocol.read_server_url(data))
    except EcrSsoError:
        return None
    return protocol.format_credentials(creds.server_url, creds.username, creds.secret)


@st.composite
def server_urls(draw: st.DrawFn) -> bytes:
    scheme = draw(st.sampled_from(["", "", "https://", "http://", "HTTPS://", "ftp://", "//"]))
    userinfo = draw(st.sampled_from(["", "", "", "user@", "a:b@", "evil.com\\@", "x y@"]))
    host = draw(st.sampled_from(SEEDED + OTHERS))
    if draw(st.booleans()):
        host = "".join(c.upper() if draw(st.booleans()) else c for c in host)
    port = draw(st.sampled_from(["", "", "", ":443", ":5000", ":0", ":99999", ":"]))
    path = draw(st.sampled_from(["", "", "/", "/v2/", "/v2/a b", "?x", "#y", "/%41", "/%4"]))
    text = scheme + userinfo + host + port + path
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(ODD)) + text[at:]
    pad = draw(st.sampled_from(["", "", " ", "\n", "\t\r\n", "\x0b", "\x1c", "\u00a0"]))
    return (pad + text + pad).encode()


def test_the_fast_path_answers_every_seeded_host(helper: Helper) -> None:
    # Without this, "declines or agrees" would pass by declining everything.
    for host in SEEDED:
        for data in (host, f"https://{host}/v2/", f"  {host}\n"):
            fast = fastpath.answer(data.encode(), os.environ)
            assert fast is not None, data
            assert fast == full(helper, data.encode())


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.one_of(server_urls(), st.binary(max_size=80)))
@example(data=f"evil.com\\@{DEV}".encode())
@example(data=f"\x1c{DEV}\x1c".encode())
@example(data=f"evil.example/x://{DEV}".encode())
@example(data=(DEV + " " * (64 * 1024)).encode())
@example(data=f"{DEV}\u0085".encode())
def test_the_fast_path_declines_or_agrees(helper: Helper, data: bytes) -> None:
    fast = fastpath.answer(data, os.environ)

    if fast is not None:
        assert fast == full(helper, data)

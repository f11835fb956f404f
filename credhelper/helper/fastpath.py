"""Answer a `get` from the token cache using nothing but `os`, `sys` and `time`.

Every `docker pull` runs the helper, so a cache hit must cost little more than starting
Python. Resolving which profile serves a host needs TOML, INI and regex parsing; instead,
the full path leaves a *route* per host: the token key it chose and a fingerprint of
everything that choice depended on (the environment variables below and the identity of
our config file and the AWS config file). When the fingerprint still matches and the token
is fresh, this module answers; in every other case it returns None and the full path runs.
Being conservative here only ever costs speed, never correctness.
"""

from __future__ import annotations

import os
import time

from credhelper.helper.tokens import parse_token, token_path
from credhelper.paths import aws_config_file, fast_cache_dir, fast_config_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

ROUTE_MAGIC = "ecr-sso-route 2"
# Everything besides the two config files that can change which profile serves a host or
# whose credentials the default chain uses. Access key IDs are identifiers, not secrets.
FINGERPRINT_VARS = (
    "ECR_SSO_PROFILE",
    "ECR_SSO_CACHE",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_ROLE_ARN",
)
_NETLOC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-:")
_PLAIN_JSON = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def simple_netloc(server_url: str) -> str | None:
    """`host[:port]` of a server URL in its simplest form; None for anything unusual
    (userinfo, IPv6, odd characters), which the full path then handles."""
    text = server_url.lower()
    scheme = text.find("://")
    if scheme != -1:
        text = text[scheme + 3 :]
    text = text.split("/", 1)[0]
    if not text or text.endswith(".") or not _NETLOC_CHARS.issuperset(text):
        return None
    return text


def route_path(cache_dir: str, netloc: str) -> str:
    """The route file for a host (a colon is not allowed in Windows file names)."""
    return os.path.join(cache_dir, "routes", netloc.replace(":", "_"))


def fingerprint(environ: Mapping[str, str], config_file: str, aws_config: str) -> str | None:
    """A one-line summary of the inputs to profile resolution; None if unrepresentable."""
    parts = [environ.get(name, "") for name in FINGERPRINT_VARS]
    for path in (config_file, aws_config):
        try:
            st = os.stat(path)
            parts.append(f"{path}|{st.st_ino}|{st.st_mtime_ns}|{st.st_size}")
        except OSError:
            parts.append(f"{path}|-")
    line = "\x1f".join(parts)
    return None if "\n" in line or "\r" in line else line


def fast_fingerprint(environ: Mapping[str, str]) -> str | None:
    """The fingerprint as this module sees the files (platformdirs mirrored)."""
    config_file = fast_config_file(environ)
    if config_file is None:
        return None
    return fingerprint(environ, config_file, aws_config_file(environ))


def answer(data: bytes, environ: Mapping[str, str]) -> str | None:
    """The helper's stdout for `get` if the cache can answer it, else None."""
    if environ.get("ECR_SSO_CACHE") == "none":
        return None
    try:
        server_url = data.decode().strip()
    except UnicodeDecodeError:
        return None
    netloc = simple_netloc(server_url)
    cache_dir = fast_cache_dir(environ)
    if netloc is None or cache_dir is None:
        return None
    try:
        with open(route_path(cache_dir, netloc), encoding="utf-8") as handle:
            magic, stored_print, key, backend = handle.read().split("\n")[:4]
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if magic != ROUTE_MAGIC or backend != "file" or not key or "/" in key or key[0] == ".":
        return None
    if stored_print != fast_fingerprint(environ):
        return None
    try:
        with open(token_path(cache_dir, key), "rb") as handle:
            token = parse_token(handle.read())
    except OSError:
        return None
    if token is None or not token.fresh(time.time()):
        return None
    return credentials_json(server_url, token.username, token.secret)


def credentials_json(server_url: str, username: str, secret: str) -> str:
    """Docker's `get` answer, byte for byte what the Go helpers print (compact JSON and a
    newline). Plain ASCII is written directly so that the hit path need not import json."""
    values = (server_url, username, secret)
    if all(_PLAIN_JSON.issuperset(v) for v in values):
        quoted = [f'"{v}"' for v in values]
    else:
        import json

        quoted = [json.dumps(v) for v in values]
    return '{"ServerURL":%s,"Username":%s,"Secret":%s}\n' % tuple(quoted)  # noqa: UP031


def write_route(cache_dir: str, netloc: str, print_: str, key: str, backend: str) -> None:
    """Leave the route the next `get` for `netloc` will follow (full path only)."""
    from credhelper import atomic

    atomic.ensure_private_dir(cache_dir, "routes")
    atomic.write_bytes(
        route_path(cache_dir, netloc),
        f"{ROUTE_MAGIC}\n{print_}\n{key}\n{backend}\n".encode(),
        mode=0o600,
    )


def read_routes(cache_dir: str) -> dict[str, str]:
    """host → token key of every route left so far (for `list`)."""
    folder = os.path.join(cache_dir, "routes")
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    routes = {}
    for name in names:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                lines = handle.read().split("\n")
        except (OSError, UnicodeDecodeError):
            continue
        if len(lines) >= 3 and lines[0] == ROUTE_MAGIC:
            routes[name.replace("_", ":")] = lines[2]
    return routes

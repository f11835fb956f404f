"""Route files: host → the token key the full path chose for it, and a fingerprint of
everything that choice depended on.

Resolving which profile serves a host needs TOML, INI and regex parsing, which a cache hit
cannot afford; the full path leaves a route per host instead, and the hit path follows it
while the fingerprint (the environment variables below and the identity of our config file
and the AWS config file) still matches. Stdlib only at the top: the hit path imports this.
"""

from __future__ import annotations

import os

from credhelper.paths import aws_config_file, fast_config_file

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


class Route:
    """What a route file says: the token `key`, in `backend`, under fingerprint `print_`."""

    __slots__ = ("backend", "key", "print_")

    def __init__(self, print_: str, key: str, backend: str) -> None:
        self.print_ = print_
        self.key = key
        self.backend = backend


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
    """The fingerprint as the hit path sees the files (platformdirs mirrored)."""
    config_file = fast_config_file(environ)
    if config_file is None:
        return None
    return fingerprint(environ, config_file, aws_config_file(environ))


def parse_route(text: str) -> Route | None:
    """The route in a route file's text; None for anything damaged or foreign."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[0] != ROUTE_MAGIC:
        return None
    key = lines[2]
    if not key or "/" in key or key[0] == ".":
        return None
    return Route(lines[1], key, lines[3])


def read_route(cache_dir: str, netloc: str) -> Route | None:
    """The route left for `netloc`, or None."""
    try:
        with open(route_path(cache_dir, netloc), encoding="utf-8") as handle:
            return parse_route(handle.read())
    except (OSError, UnicodeDecodeError):
        return None


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
    """host → token key of every route left so far (for `list` and `status`)."""
    folder = os.path.join(cache_dir, "routes")
    try:
        names = os.listdir(folder)
    except OSError:
        return {}
    routes = {}
    for name in names:
        route = read_route(cache_dir, name.replace("_", ":"))
        if route is not None:
            routes[name.replace("_", ":")] = route.key
    return routes

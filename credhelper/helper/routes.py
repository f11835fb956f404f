"""Route files: host → the registry and token key the full path chose for it, and a
fingerprint of everything that choice depended on.

Resolving which profile serves a host needs TOML, INI and regex parsing, which a cache hit
cannot afford; the full path leaves a route per host instead, and the hit path follows it
while the fingerprint (the environment variables below and the identity of our config file,
the AWS config file and the AWS credentials file) still matches. A route names the host it
was written for and the registry that host resolved to: it is followed only for that host,
and only to a token issued for that registry. Nothing but `fastos` at the top: the hit
path imports this.
"""

from credhelper import fastos, private
from credhelper.paths import aws_config_file, aws_credentials_file, fast_config_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

ROUTE_MAGIC = "ecr-sso-route 3"
# The environment variables that decide whose credentials the default chain finds (beside
# the credentials file). Identifiers and file names, not secrets.
CHAIN_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
# Everything besides the files that can change which profile serves a host or whose
# credentials the default chain uses.
FINGERPRINT_VARS = ("ECR_SSO_PROFILE", "ECR_SSO_CACHE", *CHAIN_VARS)


class Route:
    """What a route file says: for `host`, the token `key` in `backend`, issued for
    `registry` (its identity), under fingerprint `print_`."""

    __slots__ = ("backend", "host", "key", "print_", "registry")

    def __init__(self, host: str, registry: str, print_: str, key: str, backend: str) -> None:
        self.host = host
        self.registry = registry
        self.print_ = print_
        self.key = key
        self.backend = backend

    def format(self) -> bytes:
        """The file form, one field a line."""
        fields = (ROUTE_MAGIC, self.host, self.registry, self.print_, self.key, self.backend)
        return "".join(f"{field}\n" for field in fields).encode()


def route_name(netloc: str) -> str:
    """The route file's name for a host (a colon is not allowed in Windows file names)."""
    return netloc.replace(":", "_")


def file_identity(path: str) -> str:
    """Which file is at `path` and which version of it: a replaced or edited file (even
    one edited within the same second, or swapped for another) gives another line."""
    try:
        st = fastos.stat(path)
    except OSError:
        return f"{path}|-"
    return f"{path}|{st.st_ino}|{st.st_mtime_ns}|{st.st_size}"


def fingerprint(environ: "Mapping[str, str]", config_file: str) -> str | None:
    """A one-line summary of the inputs to profile and identity resolution; None if
    unrepresentable."""
    parts = [environ.get(name, "") for name in FINGERPRINT_VARS]
    for path in (config_file, aws_config_file(environ), aws_credentials_file(environ)):
        parts.append(file_identity(path))
    line = "\x1f".join(parts)
    return None if "\n" in line or "\r" in line else line


def fast_fingerprint(environ: "Mapping[str, str]") -> str | None:
    """The fingerprint as the hit path sees the files (platformdirs mirrored)."""
    config_file = fast_config_file(environ)
    if config_file is None:
        return None
    return fingerprint(environ, config_file)


def parse_route(data: bytes) -> Route | None:
    """The route in a route file's bytes; None for anything damaged or foreign."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    if len(lines) < 6 or lines[0] != ROUTE_MAGIC:
        return None
    host, registry, print_, key, backend = lines[1:6]
    if not host or not registry or not key or "/" in key or key[0] == ".":
        return None
    return Route(host, registry, print_, key, backend)


def read_route(cache_dir: str, netloc: str) -> Route | None:
    """The route left for `netloc` in a private cache folder (see `private`), or None;
    never one written for another host."""
    data = private.read(cache_dir, "routes", route_name(netloc))
    route = None if data is None else parse_route(data)
    return route if route is not None and route.host == netloc else None


def write_route(cache_dir: str, route: Route) -> None:
    """Leave the route the next `get` for `route.host` will follow (full path only)."""
    from credhelper import atomic

    folder = atomic.ensure_private_dir(cache_dir, "routes")
    atomic.write_bytes(fastos.join(folder, route_name(route.host)), route.format(), mode=0o600)


def read_routes(cache_dir: str) -> dict[str, str]:
    """host → token key of every route left so far (for `list` and `status`)."""
    try:
        names = fastos.listdir(fastos.join(cache_dir, "routes"))
    except OSError:
        return {}
    found = {}
    for name in names:
        route = read_route(cache_dir, name.replace("_", ":"))
        if route is not None:
            found[route.host] = route.key
    return found

"""Answer a `get` from the token cache using nothing but `os`, `sys` and `time`.

Every `docker pull` runs the helper, so a cache hit must cost little more than starting
Python. The full path leaves a route per host (see `routes`); this module answers only when
all of these hold, and in every other case returns None so that the full path runs:

- the request is a server URL both paths read the same way (`protocol`, `serverurl`);
- the cache folder, its `routes` and `tokens` folders and both files are private
  (`private`): ours, not writable by others, regular files of bounded size;
- the route was written for exactly this host, and this host names the registry the route
  records (by its own name, or as the alias the route was written for);
- the route's fingerprint still matches, and the token is fresh and was issued for that
  same registry.

Being conservative here only ever costs speed, never correctness.
"""

import time

from credhelper import private, serverurl
from credhelper.helper import protocol, routes
from credhelper.helper.tokens import parse_token
from credhelper.paths import fast_cache_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def answer(data: bytes, environ: "Mapping[str, str]") -> str | None:
    """The helper's stdout for `get` if the cache can answer it, else None."""
    if environ.get("ECR_SSO_CACHE") == "none":
        return None
    problem, server_url = protocol.server_url_problem(data)
    parsed = None if problem is not None else serverurl.split(server_url)
    cache_dir = fast_cache_dir(environ)
    if parsed is None or cache_dir is None:
        return None
    host, port = parsed
    netloc = host if port is None else f"{host}:{port}"
    route = routes.read_route(cache_dir, netloc)
    if route is None or route.backend != "file" or not _names(host, netloc, route.registry):
        return None
    if route.print_ != routes.fast_fingerprint(environ):
        return None
    stored = private.read(cache_dir, "tokens", route.key)
    token = None if stored is None else parse_token(stored)
    if token is None or token.registry != route.registry or not token.fresh(time.time()):
        return None
    return protocol.format_credentials(server_url, token.username, token.secret)


def _names(host: str, netloc: str, registry: str) -> bool:
    """Whether the requested host names `registry`: the alias the route was written for,
    or an ECR host name that parses to exactly that registry."""
    if registry == serverurl.alias_identity(netloc):
        return True
    found = serverurl.ecr_host(host)
    return found is not None and found.identity == registry

"""Answer a `get` from the token cache using nothing but `os`, `sys` and `time`.

Every `docker pull` runs the helper, so a cache hit must cost little more than starting
Python. The full path leaves a route per host (see `routes`); when the route's fingerprint
still matches and the token is fresh, this module answers; in every other case it returns
None and the full path runs. Being conservative here only ever costs speed, never
correctness.
"""

from __future__ import annotations

import time

from credhelper.helper import protocol, routes
from credhelper.helper.tokens import parse_token, token_path
from credhelper.paths import fast_cache_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_NETLOC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-:")


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
    route = routes.read_route(cache_dir, netloc)
    if route is None or route.backend != "file":
        return None
    if route.print_ != routes.fast_fingerprint(environ):
        return None
    try:
        with open(token_path(cache_dir, route.key), "rb") as handle:
            token = parse_token(handle.read())
    except OSError:
        return None
    if token is None or not token.fresh(time.time()):
        return None
    return protocol.format_credentials(server_url, token.username, token.secret)

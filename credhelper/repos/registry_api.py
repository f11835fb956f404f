"""The few registry (distribution v2) calls `migrate` makes itself: a manifest's digest by
HEAD, which Docker Hub does not count as a pull; a repository's tag list; and, in ECR, a
second tag for an image already there (its manifest read back and put under the tag).

Sign-in is the registry's own dance: a 401 with `WWW-Authenticate: Bearer realm=…,
service=…, scope=…` sends us to the realm for a token (with the login, when there is one),
a 401 with `Basic` takes the login directly. The login goes to a token realm only on the
host the registry was configured as, or one of its domain (`auth.docker.io` for
`registry-1.docker.io`), over HTTPS, or plain HTTP when the registry itself is plain HTTP
on that very host (a test or mirror registry on this machine); any other realm is asked
for an anonymous token. Never to a host a redirect names (none is followed). Every answer's
`ratelimit-*` headers are handed to the ledger; a 429 is `TooManyRequests` with its
bounded `Retry-After`.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3

from credhelper.repos import httpclient, ratelimit
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.httpclient import Answer, HttpError
from credhelper.shown import shown

log = logging.getLogger(__name__)

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = frozenset(MANIFEST_TYPES[:2])
#: A token is used until this many seconds before it expires; the default lifetime is the
#: distribution spec's.
TOKEN_MARGIN = 10
DEFAULT_TOKEN_SECONDS = 60
MAX_TAG_PAGES = 10_000

_PATH = re.compile(
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
)
_REFERENCE = re.compile(
    r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}"
)
_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?')


class TooManyRequests(HttpError):
    """The registry answered 429: its limit is reached. `wait` is its bounded
    Retry-After in seconds, None when it gave none."""

    def __init__(self, reason: str, wait: int | None) -> None:
        super().__init__(reason, 429)
        self.wait = wait


@dataclass(frozen=True)
class Head:
    """What a HEAD of a manifest said: `digest` (None when the registry named none) and
    its media type; `exists` False for a 404."""

    exists: bool
    digest: str | None = None
    media_type: str = ""

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


class Registry:
    """One registry at `base_url` (`https://registry-1.docker.io`), signed in as `login`
    (None: anonymously), or as whatever `login_source` says at each request (a login
    that is renewed during a long run). Safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        login: Login | None,
        *,
        http: urllib3.PoolManager,
        ledger: ratelimit.Ledger | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        login_source: Callable[[], Login] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.login = login
        self.login_source = login_source
        self.http = http
        self.ledger = ledger
        self.now = now
        parts = urlsplit(self.base_url)
        self.host = parts.netloc
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, float]] = {}
        self._basic = False  # the registry asked for Basic: send it up front
        # The realm and service of the registry's last Bearer challenge: a token for a new
        # scope is fetched before the first request, not after its 401; and once per
        # scope, however many threads need it at the same moment.
        self._realm: tuple[str, str | None] | None = None
        self._scope_locks: dict[str, threading.Lock] = {}

    # -- the calls -----------------------------------------------------------------------

    def head(self, path: str, reference: str) -> Head:
        """HEAD of manifest `reference` (tag or digest) of repository `path`."""
        _check(path, reference)
        url = f"{self.base_url}/v2/{path}/manifests/{reference}"
        answer = self._send("HEAD", url, path, {"Accept": ", ".join(MANIFEST_TYPES)})
        if answer.status == 404:
            return Head(False)
        if answer.status != 200:
            raise self._failure(answer, f"{self.host}/{path}:{reference}")
        digest = answer.header("Docker-Content-Digest")
        kind = (answer.header("Content-Type") or "").split(";", 1)[0].strip()
        if digest is not None and _REFERENCE.fullmatch(digest.strip()) is None:
            digest = None  # not a digest we could name a copy by
        return Head(True, digest.strip() if digest else None, kind)

    def tag(self, path: str, digest: str, tag: str) -> None:
        """Put manifest `digest` of repository `path`, already in this registry, under
        `tag` as well: its bytes read back (a GET) and put (a PUT) unchanged, so the tag
        names the very same image, with nothing copied. Needs push rights. HttpError
        (status 404) when the registry does not hold `digest` in `path`."""
        _check(path, digest)
        _check(path, tag)
        if ":" in tag:
            raise HttpError(f"not a tag: {shown(tag)!r}")
        what = f"{self.host}/{path}@{digest}"
        accept = {"Accept": ", ".join(MANIFEST_TYPES)}
        got = self._send("GET", f"{self.base_url}/v2/{path}/manifests/{digest}", path, accept)
        if got.status != 200:
            raise self._failure(got, what)
        algorithm, _, expected = digest.partition(":")
        if hashlib.new(algorithm, got.body).hexdigest() != expected:
            raise HttpError(f"{what}: the registry answered a manifest of another digest")
        kind = (got.header("Content-Type") or "").split(";", 1)[0].strip()
        if kind not in MANIFEST_TYPES:
            raise HttpError(f"{what}: a manifest of a type not copied here ({shown(kind)!r})")
        put = self._send(
            "PUT",
            f"{self.base_url}/v2/{path}/manifests/{tag}",
            path,
            {"Content-Type": kind},
            body=got.body,
            push=True,
        )
        if put.status not in (200, 201):
            raise self._failure(put, f"{self.host}/{path}:{tag}")
        written = (put.header("Docker-Content-Digest") or "").strip()
        if written and written != digest:
            raise HttpError(f"{self.host}/{path}:{tag}: the registry holds {shown(written)}")

    def tags(self, path: str) -> list[str]:
        """Every tag of repository `path`, following the registry's `Link` pages (on this
        registry only, each page once)."""
        _check(path, None)
        url = f"{self.base_url}/v2/{path}/tags/list?n=1000"
        found: list[str] = []
        seen: set[str] = set()
        while url:
            if url in seen or len(seen) >= MAX_TAG_PAGES:
                raise HttpError(f"{self.host}/{path}: the tag list's pages go round in a loop")
            seen.add(url)
            answer = self._send("GET", url, path, {"Accept": "application/json"})
            if answer.status != 200:
                raise self._failure(answer, f"{self.host}/{path}")
            data = httpclient.json_body(answer, f"{self.host}/{path}'s tag list")
            tags = data.get("tags") if isinstance(data, dict) else None
            if tags is None and isinstance(data, dict) and "tags" in data:
                tags = []
            if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
                raise HttpError(f"{self.host}/{path}: the tag list is not a list of tags")
            found += [t for t in tags if _REFERENCE.fullmatch(t) and ":" not in t]
            url = self._next_page(answer, url)
        return list(dict.fromkeys(found))

    # -- plumbing ------------------------------------------------------------------------

    def _next_page(self, answer: Answer, current: str) -> str:
        link = answer.header("Link")
        match = _LINK_NEXT.search(link or "")
        if match is None:
            return ""
        target: str = urljoin(current, str(match.group(1)))
        if httpclient.origin(target) != httpclient.origin(self.base_url):
            raise HttpError(
                f"{self.host}: the tag list's next page is on another host; not followed"
            )
        return target

    def _send(
        self,
        method: str,
        url: str,
        path: str,
        headers: dict[str, str],
        *,
        body: bytes | None = None,
        push: bool = False,
    ) -> Answer:
        scope = f"repository:{path}:{'pull,push' if push else 'pull'}"
        self._token_ahead(scope)
        sent = self._authorization(scope)
        answer = self._once(method, url, {**headers, **sent}, body)
        if answer.status == 401:
            challenge = answer.header("WWW-Authenticate") or ""
            if self._answer_challenge(challenge, scope, sent=sent.get("Authorization", "")):
                answer = self._once(method, url, {**headers, **self._authorization(scope)}, body)
        return answer

    def _token_ahead(self, scope: str) -> None:
        """With the realm known and no token for `scope`: one, before the request."""
        with self._lock:
            realm = self._realm
            if realm is None or self._bearer(scope) is not None:
                return
            lock = self._scope_locks.setdefault(scope, threading.Lock())
        with lock:
            with self._lock:
                if self._bearer(scope) is not None:
                    return  # another thread fetched it meanwhile
            self._store(scope, *self._token(realm[0], realm[1], scope))

    def _bearer(self, scope: str) -> str | None:
        """The token for `scope` while fresh (the caller holds `_lock`)."""
        token = self._tokens.get(scope)
        return token[0] if token is not None and token[1] > time.monotonic() else None

    def _store(self, scope: str, token: str, seconds: int) -> None:
        with self._lock:
            self._tokens[scope] = (token, time.monotonic() + max(seconds - TOKEN_MARGIN, 1))

    def _once(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None = None
    ) -> Answer:
        answer = httpclient.call(self.http, method, url, headers=headers, body=body)
        if self.ledger is not None:
            self.ledger.note(ratelimit.reading(answer.headers))
        if answer.status == 429:
            wait = ratelimit.retry_after(answer.header("Retry-After"), self.now())
            message = httpclient.server_message(answer) or "too many requests"
            raise TooManyRequests(f"{self.host}: 429 {message}", wait)
        return answer

    def _authorization(self, scope: str) -> dict[str, str]:
        with self._lock:
            token = self._bearer(scope)
            if token is not None:
                return {"Authorization": f"Bearer {token}"}
            basic = self._basic
        login = self._login()
        if basic and login is not None:
            return {"Authorization": _basic(login)}
        return {}

    def _login(self) -> Login | None:
        return self.login_source() if self.login_source is not None else self.login

    def _answer_challenge(self, challenge: str, scope: str, *, sent: str) -> bool:
        """Get what the challenge asks for (`sent`: the Authorization that met it); False
        when there is nothing more to try."""
        scheme, _, rest = challenge.strip().partition(" ")
        params = {k.lower(): v for k, v in _PARAM.findall(rest)}
        if scheme.lower() == "basic":
            with self._lock:
                self._basic = True
            return self._login() is not None and not sent.startswith("Basic ")
        if scheme.lower() != "bearer" or "realm" not in params:
            return False
        with self._lock:
            self._realm = (params["realm"], params.get("service"))
            lock = self._scope_locks.setdefault(scope, threading.Lock())
        with lock:
            with self._lock:
                fresh = self._bearer(scope)
            if fresh is not None and sent != f"Bearer {fresh}":
                return True  # another thread fetched one since this request went out
            token, seconds = self._token(
                params["realm"], params.get("service"), params.get("scope") or scope
            )
            self._store(scope, token, seconds)
        return True

    def _token(self, realm: str, service: str | None, scope: str) -> tuple[str, int]:
        parts = urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            raise HttpError(f"{self.host}: its sign-in realm {shown(realm)!r} is not a web address")
        query = urlencode({k: v for k, v in (("service", service), ("scope", scope)) if v})
        url = realm + ("&" if parts.query else "?") + query
        headers = {"Accept": "application/json"}
        login = self._login()
        if login is not None and may_send_login(self.base_url, realm):
            headers["Authorization"] = _basic(login)
        elif login is not None:
            log.info("%s's sign-in realm is on another host: asked without the login", self.host)
        answer = httpclient.call(self.http, "GET", url, headers=headers, limit=1024 * 1024)
        if answer.status == 429:
            wait = ratelimit.retry_after(answer.header("Retry-After"), self.now())
            raise TooManyRequests(f"{self.host}: 429 from its sign-in service", wait)
        if answer.status != 200:
            message = httpclient.server_message(answer)
            who = f" as {login.username}" if login and "Authorization" in headers else ""
            raise HttpError(
                f"{self.host}: its sign-in service refused a token{who}:"
                f" {answer.status}{' ' + message if message else ''}",
                answer.status,
            )
        data = httpclient.json_body(answer, f"{self.host}'s sign-in service")
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not httpclient.usable_token(token):
            raise HttpError(f"{self.host}: its sign-in service answered no token")
        seconds = data.get("expires_in")
        if not isinstance(seconds, int) or seconds <= 0:
            seconds = DEFAULT_TOKEN_SECONDS
        return token, seconds

    def _failure(self, answer: Answer, what: str) -> HttpError:
        message = httpclient.server_message(answer)
        if 300 <= answer.status < 400:
            message = "redirected elsewhere; not followed"
        phrase = _PHRASES.get(answer.status, "")
        text = f"{what}: {answer.status}" + (f" {phrase}" if phrase else "")
        return HttpError(text + (f": {message}" if message else ""), answer.status)


_PHRASES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def may_send_login(registry_url: str, realm: str) -> bool:
    """Whether a token realm may receive the login of the registry at `registry_url` (see
    the module docstring): a realm a hostile or mistaken registry names on another host
    must not collect the password."""
    registry, there = urlsplit(registry_url), urlsplit(realm)
    if there.scheme != "https" and not (
        there.scheme == registry.scheme == "http" and there.hostname == registry.hostname
    ):
        return False
    ours, theirs = (registry.hostname or "").lower(), (there.hostname or "").lower()
    if ours == theirs:
        return bool(ours)
    if _is_address(ours) or _is_address(theirs):
        return False
    # One domain: the realm is the registry's parent (gitlab.com for registry.gitlab.com)
    # or its sibling (auth.docker.io for registry-1.docker.io), the parent two labels or more.
    parent = ours.partition(".")[2]
    if "." not in parent:
        return False
    return theirs == parent or theirs.partition(".")[2] == parent


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _basic(login: Login) -> str:
    return "Basic " + base64.b64encode(f"{login.username}:{login.token}".encode()).decode()


def _check(path: str, reference: str | None) -> None:
    """Names come from listings and from the journal: only what Docker's grammar allows
    goes into a URL."""
    if _PATH.fullmatch(path) is None or len(path) > 255:
        raise HttpError(f"not a repository name: {shown(path)!r}")
    if reference is not None and _REFERENCE.fullmatch(reference) is None:
        raise HttpError(f"not a tag or digest: {shown(reference)!r}")

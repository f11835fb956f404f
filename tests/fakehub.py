"""A Docker Hub stand-in: a real `docker-registry` behind a small front that plays Docker
Hub's parts, plus Docker Hub's repository-listing API.

The registry front (`FakeHub.registry_url`) is what clients talk to:
- the token dance: a request without a valid token gets 401 with
  `WWW-Authenticate: Bearer realm="<front>/token",service="registry.docker.io",scope=…`;
  `/token` hands out tokens, signed in (Basic, the one user's password) or anonymous;
  an anonymous token opens public repositories only, like Docker Hub;
- the pull limit: every manifest GET counts (HEADs do not), every manifest answer carries
  `ratelimit-limit: L;w=W` and `ratelimit-remaining: R;w=W`, and a GET past the allowance
  gets 429 with `Retry-After`. The allowance comes back whole `window` seconds after it
  ran out, or when a test sets it;
- blob GETs are answered `307` to the registry behind it (no token needed there), as Docker
  Hub sends its blob downloads to a CDN: the front never carries layer bytes;
- `hold(fragment)`: the next manifest GET whose path holds `fragment` stops until the test
  releases it, so a test can act while a copy is in flight, without sleeping.

The API (`FakeHub.api_url`) answers `POST /v2/auth/token` and the paginated
`/v2/namespaces/{ns}/repositories` and `/…/{name}/tags`, computed from the registry's own
content (read directly, so no pull is counted); private repositories are listed only to a
signed-in caller. `api_mode` makes the listing hostile: `html`, `cut` (a page shorter than
its Content-Length), `loop` (`next` points back), `foreign` (`next` points to another host,
whose requests are recorded in `foreign_requests`).

Clients reach both as a user would: ECR_SSO_DOCKERHUB_REGISTRY_URL and
ECR_SSO_DOCKERHUB_API_URL, and skopeo through the registry host in its registries.conf.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVICE = "registry.docker.io"
WINDOW = 21600
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
_REPO_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<rest>.*)$")
_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "authorization"}


@dataclass
class Hold:
    fragment: str
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FakeHub:
    """See the module docstring. `backend` is the docker-registry's `host:port` (no auth)."""

    def __init__(
        self,
        backend: str,
        *,
        username: str,
        password: str,
        private: set[str] | None = None,
        allowance: int = 1000,
        window: int = WINDOW,
        retry_after: int | None = 3600,
        api_page_size: int = 2,
    ) -> None:
        self.backend = backend
        self.username = username
        self.password = password
        self.private = set(private or ())
        self.limit = allowance
        self.remaining = allowance
        self.window = window
        self.retry_after = retry_after
        self.api_page_size = api_page_size
        self.api_mode = ""
        #: The next this many manifest HEADs get 429 with `retry_after` (anti-abuse).
        self.refuse_heads = 0
        #: Refill by the clock (`window` after the window's first pull); or, for a test
        #: that must not depend on timing, on the second look (HEAD) since the last pull.
        self.refill_by_time = True
        self.refill_on_second_look = False
        self._looks_since_get = 0
        self.pushed: dict[tuple[str, str], datetime] = {}
        self.lock = threading.Lock()
        self.manifest_gets: list[str] = []
        self.manifest_heads: list[str] = []
        self.refused_gets = 0
        self.token_requests: list[bool] = []  # signed in?
        self.api_requests: list[tuple[str, str | None]] = []  # (path, Authorization)
        self.foreign_requests: list[tuple[str, str | None]] = []
        self._tokens: dict[str, bool] = {}  # token → signed in
        self._api_tokens: set[str] = set()
        self._window_started: float | None = None
        self._holds: list[Hold] = []
        self._registry = _Server(self, _RegistryHandler)
        self._api = _Server(self, _ApiHandler)
        self._foreign = _Server(self, _ForeignHandler)
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
            for s in (self._registry, self._api, self._foreign)
        ]

    # -- addresses -------------------------------------------------------------------------

    @property
    def registry_host(self) -> str:
        return f"127.0.0.1:{self._registry.server_address[1]}"

    @property
    def registry_url(self) -> str:
        return f"http://{self.registry_host}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._api.server_address[1]}"

    @property
    def foreign_url(self) -> str:
        return f"http://127.0.0.1:{self._foreign.server_address[1]}"

    def start(self) -> FakeHub:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for hold in self._holds:
            hold.release.set()
        for server in (self._registry, self._api, self._foreign):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()

    # -- what tests arrange and read ---------------------------------------------------------

    def set_allowance(self, remaining: int, limit: int | None = None) -> None:
        with self.lock:
            self.remaining = remaining
            if limit is not None:
                self.limit = limit
            self._window_started = None

    def hold(self, fragment: str) -> Hold:
        found = Hold(fragment)
        with self.lock:
            self._holds.append(found)
        return found

    def gets(self) -> int:
        with self.lock:
            return len(self.manifest_gets)

    def reset_counts(self) -> None:
        with self.lock:
            self.manifest_gets.clear()
            self.manifest_heads.clear()
            self.refused_gets = 0

    # -- the registry front ------------------------------------------------------------------

    def token(self, authorization: str | None) -> tuple[int, dict[str, Any]]:
        signed_in = False
        if authorization:
            scheme, _, value = authorization.partition(" ")
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return 401, {"details": "bad credentials"}
            if scheme.lower() != "basic" or (user, password) != (self.username, self.password):
                return 401, {"details": "incorrect username or password"}
            signed_in = True
        token = secrets.token_urlsafe(16)
        with self.lock:
            self._tokens[token] = signed_in
            self.token_requests.append(signed_in)
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return 200, {"token": token, "access_token": token, "expires_in": 300, "issued_at": now}

    def may_pull(self, authorization: str | None, name: str) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self.lock:
            signed_in = self._tokens.get(authorization[len("Bearer ") :])
        if signed_in is None:
            return False
        return signed_in or name not in self.private

    def count_get(self, path: str) -> tuple[bool, dict[str, str]]:
        """(allowed, rate-limit headers) for a manifest GET."""
        with self.lock:
            self._refill()
            if self.remaining <= 0:
                self.refused_gets += 1
                headers = self._limit_headers()
                if self.retry_after is not None:
                    headers["Retry-After"] = str(self.retry_after)
                return False, headers
            self.remaining -= 1
            self._looks_since_get = 0
            if self._window_started is None:
                self._window_started = time.monotonic()
            self.manifest_gets.append(path)
            return True, self._limit_headers()

    def count_head(self, path: str) -> dict[str, str]:
        with self.lock:
            self._looks_since_get += 1
            if self.refill_on_second_look and self._looks_since_get >= 2:
                self.remaining = self.limit
            self._refill()
            self.manifest_heads.append(path)
            return self._limit_headers()

    def refuse_head(self) -> dict[str, str] | None:
        """Retry-After (and rate-limit) headers when this HEAD is to be refused."""
        with self.lock:
            if self.refuse_heads <= 0:
                return None
            self.refuse_heads -= 1
            headers = self._limit_headers()
            if self.retry_after is not None:
                headers["Retry-After"] = str(self.retry_after)
            return headers

    def wait_hold(self, path: str) -> None:
        with self.lock:
            found = next(
                (h for h in self._holds if h.fragment in path and not h.arrived.is_set()), None
            )
        if found is not None:
            found.arrived.set()
            found.release.wait(120)

    def _refill(self) -> None:
        """A fixed window: the allowance comes back whole `window` seconds after its first
        pull."""
        started = self._window_started
        if not self.refill_by_time or started is None:
            return
        if time.monotonic() - started >= self.window:
            self.remaining = self.limit
            self._window_started = None

    def _limit_headers(self) -> dict[str, str]:
        return {
            "ratelimit-limit": f"{self.limit};w={self.window}",
            "ratelimit-remaining": f"{max(self.remaining, 0)};w={self.window}",
            "docker-ratelimit-source": "127.0.0.1",
        }

    def forward(self, method: str, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        host, port = self.backend.split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        try:
            sent: dict[str, str] = {}
            for key, value in headers.items():  # several Accept headers become one
                if key.lower() not in _HOP:
                    sent[key] = f"{sent[key]}, {value}" if key in sent else value
            connection.request(method, path, headers=sent)
            response = connection.getresponse()
            body = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP}
            if method == "HEAD":
                length = response.getheader("Content-Length")
                if length:
                    kept["Content-Length"] = length
            return response.status, kept, body
        finally:
            connection.close()

    # -- the API -----------------------------------------------------------------------------

    def backend_get(
        self, path: str, accept: str = "application/json"
    ) -> tuple[int, dict[str, str], bytes]:
        return self.forward("GET", path, {"Accept": accept})

    def repositories(self, namespace: str, signed_in: bool) -> list[dict[str, Any]]:
        status, _, body = self.backend_get("/v2/_catalog?n=1000")
        names = json.loads(body).get("repositories") or [] if status == 200 else []
        found = []
        for name in sorted(names):
            ns, _, repo = name.partition("/")
            if ns != namespace or "/" in repo:
                continue
            if name in self.private and not signed_in:
                continue
            found.append(
                {
                    "name": repo,
                    "namespace": ns,
                    "repository_type": "image",
                    "is_private": name in self.private,
                    "last_updated": "2025-01-01T00:00:00.000000Z",
                }
            )
        return found

    def tags(self, name: str) -> list[dict[str, Any]]:
        status, _, body = self.backend_get(f"/v2/{name}/tags/list")
        tags = (json.loads(body).get("tags") or []) if status == 200 else []
        found = []
        for tag in sorted(tags):
            status, headers, raw = self.backend_get(f"/v2/{name}/manifests/{tag}", ACCEPT)
            if status != 200:
                continue
            manifest = json.loads(raw)
            kind = manifest.get("mediaType") or headers.get("Content-Type", "")
            children = manifest.get("manifests") if kind in INDEX_TYPES else None
            images = [
                {
                    "architecture": (m.get("platform") or {}).get("architecture", "amd64"),
                    "os": "linux",
                    "digest": m.get("digest"),
                    "size": m.get("size"),
                }
                for m in (
                    children or [{"digest": headers.get("Docker-Content-Digest"), "size": len(raw)}]
                )
            ]
            pushed = self.pushed.get((name, tag), datetime(2025, 6, 1, tzinfo=timezone.utc))
            found.append(
                {
                    "name": tag,
                    "digest": headers.get("Docker-Content-Digest"),
                    "full_size": sum(int(i.get("size") or 0) for i in images) * 1000,
                    "images": images,
                    "last_updated": pushed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "tag_last_pushed": pushed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            )
        return found

    def api_sign_in(self, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            data = json.loads(body)
        except ValueError:
            return 400, {"detail": "bad request"}
        if (data.get("identifier"), data.get("secret")) != (self.username, self.password):
            return 401, {"detail": "Incorrect authentication credentials"}
        token = "hub-" + secrets.token_urlsafe(16)
        with self.lock:
            self._api_tokens.add(token)
        return 200, {"access_token": token}

    def api_signed_in(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self.lock:
            return authorization[len("Bearer ") :] in self._api_tokens


class _Server(ThreadingHTTPServer):
    block_on_close = False
    daemon_threads = True

    def __init__(self, hub: FakeHub, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.hub = hub


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def reply(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        *,
        head: bool = False,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if not head and self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, status: int, data: Any, extra: dict[str, str] | None = None) -> None:
        self.reply(
            status, {"Content-Type": "application/json", **(extra or {})}, json.dumps(data).encode()
        )


class _RegistryHandler(_Handler):
    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def _serve(self, method: str) -> None:
        hub = self.server.hub
        url = urlsplit(self.path)
        if url.path == "/token":
            query = parse_qs(url.query)
            if query.get("service") != [SERVICE]:
                self.reply_json(400, {"details": "unknown service"})
                return
            status, data = hub.token(self.headers.get("Authorization"))
            self.reply_json(status, data)
            return
        realm = f'Bearer realm="{hub.registry_url}/token",service="{SERVICE}"'
        if url.path in {"/v2/", "/v2"}:
            if hub.may_pull(self.headers.get("Authorization"), ""):
                self.reply_json(200, {})
            else:
                self.reply_json(401, _unauthorized(), {"WWW-Authenticate": realm})
            return
        match = _REPO_PATH.match(url.path)
        if match is None:
            self.reply_json(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
            return
        name = match["name"]
        if not hub.may_pull(self.headers.get("Authorization"), name):
            challenge = f'{realm},scope="repository:{name}:pull"'
            self.reply_json(401, _unauthorized(), {"WWW-Authenticate": challenge})
            return
        if match["kind"] == "blobs" and method == "GET":
            self.reply(307, {"Location": f"http://{hub.backend}{self.path}"}, b"")
            return
        extra: dict[str, str] | None = {}
        if match["kind"] == "manifests":
            extra = self._counted(method, url.path)
            if extra is None:
                return
        status, headers, body = hub.forward(method, self.path, self.headers)
        self.reply(status, {**headers, **extra}, body, head=method == "HEAD")

    def _counted(self, method: str, path: str) -> dict[str, str] | None:
        """The pull limit's headers for a manifest request, or None once it was refused."""
        hub = self.server.hub
        if method == "GET":
            hub.wait_hold(path)
            allowed, extra = hub.count_get(path)
            if not allowed:
                message = "You have reached your pull rate limit."
                body = {"errors": [{"code": "TOOMANYREQUESTS", "message": message}]}
                self.reply_json(429, body, extra)
                return None
            return extra
        refused = hub.refuse_head()
        if refused is not None:
            self.reply_json(429, {"errors": [{"code": "TOOMANYREQUESTS"}]}, refused)
            return None
        return hub.count_head(path)


class _ApiHandler(_Handler):
    def do_POST(self) -> None:
        hub = self.server.hub
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        hub.api_requests.append((self.path, self.headers.get("Authorization")))
        if urlsplit(self.path).path != "/v2/auth/token":
            self.reply_json(404, {"message": "not found"})
            return
        status, data = hub.api_sign_in(body)
        self.reply_json(status, data)

    def do_GET(self) -> None:
        hub = self.server.hub
        hub.api_requests.append((self.path, self.headers.get("Authorization")))
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        page = int((query.get("page") or ["1"])[0])
        size = min(int((query.get("page_size") or ["10"])[0]), hub.api_page_size)
        parts = url.path.strip("/").split("/")
        signed_in = hub.api_signed_in(self.headers.get("Authorization"))
        if len(parts) == 4 and parts[:2] == ["v2", "namespaces"] and parts[3] == "repositories":
            items = hub.repositories(parts[2], signed_in)
            self._page(items, page, size, url.path, hostile=True)
            return
        if (
            len(parts) == 6
            and parts[:2] == ["v2", "namespaces"]
            and parts[3] == "repositories"
            and parts[5] == "tags"
        ):
            name = f"{parts[2]}/{parts[4]}"
            if name in hub.private and not signed_in:
                self.reply_json(404, {"message": "object not found"})
                return
            self._page(hub.tags(name), page, size, url.path, hostile=False)
            return
        self.reply_json(404, {"message": "not found"})

    def _page(
        self, items: list[dict[str, Any]], page: int, size: int, path: str, *, hostile: bool
    ) -> None:
        hub = self.server.hub
        mode = hub.api_mode if hostile else ""
        start = (page - 1) * size
        chunk = items[start : start + size]
        following = None
        if start + size < len(items):
            following = f"{hub.api_url}{path}?page={page + 1}&page_size={size}"
        if mode == "loop" and page == 2:
            following = f"{hub.api_url}{path}?page=1&page_size={size}"
        if mode == "foreign" and following:
            following = f"{hub.foreign_url}{path}?page={page + 1}&page_size={size}"
        data = {"count": len(items), "next": following, "previous": None, "results": chunk}
        if mode == "html":
            self.reply(200, {"Content-Type": "text/html"}, b"<html><body>Sign in</body></html>")
            return
        body = json.dumps(data).encode()
        if mode == "cut" and page == 2:
            self.reply(
                200, {"Content-Type": "application/json"}, body[: len(body) // 2], length=len(body)
            )
            self.close_connection = True
            return
        self.reply(200, {"Content-Type": "application/json"}, body)


class _ForeignHandler(_Handler):
    def do_GET(self) -> None:
        hub = self.server.hub
        hub.foreign_requests.append((self.path, self.headers.get("Authorization")))
        self.reply_json(200, {"count": 0, "next": None, "results": []})


def _unauthorized() -> dict[str, Any]:
    return {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}

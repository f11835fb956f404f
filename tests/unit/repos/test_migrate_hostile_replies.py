"""Replies a hostile or broken Docker Hub may give `migrate`, from a scripted server over
real HTTP: a listing that never ends, names that are not names, and a sign-in realm on a
host the login was never meant for."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from credhelper.repos import httpclient, hubapi, registry_api
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.httpclient import HttpError
from credhelper.repos.hubapi import Endpoints, HubApi

Page = Callable[[str, int], dict[str, Any]]


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def do_GET(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        server.requests.append(self.path)
        page = int((parse_qs(urlsplit(self.path).query).get("page") or ["1"])[0])
        body = json.dumps(server.page(server.url, page)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    page: Page
    url: str
    requests: list[str]


@pytest.fixture
def api() -> Iterator[Callable[[Page], _Server]]:
    servers: list[_Server] = []

    def start(page: Page) -> _Server:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.page = page
        server.url = f"http://127.0.0.1:{server.server_address[1]}"
        server.requests = []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _hub(server: _Server) -> HubApi:
    return HubApi(Endpoints(api=server.url), None, http=httpclient.pool(1))


def test_a_listing_that_never_ends_is_stopped(api: Callable[[Page], _Server]) -> None:
    def endless(url: str, page: int) -> dict[str, Any]:
        # No `count` to bound it, and always one more page.
        following = f"{url}/v2/namespaces/o/repositories?page={page + 1}"
        return {"next": following, "results": [{"name": f"r{page}"}]}

    server = api(endless)

    with pytest.raises(HttpError, match="has more pages than ecr-sso reads"):
        _hub(server).repositories("o")
    assert len(server.requests) == hubapi.MAX_PAGES


def test_a_count_too_large_to_be_true_is_bounded_too(api: Callable[[Page], _Server]) -> None:
    def boastful(url: str, page: int) -> dict[str, Any]:
        following = f"{url}/v2/namespaces/o/repositories?page={page + 1}"
        return {"count": 10**12, "next": following, "results": [{"name": f"r{page}"}]}

    server = api(boastful)

    with pytest.raises(HttpError, match="has more pages than ecr-sso reads"):
        _hub(server).repositories("o")
    assert len(server.requests) == hubapi.MAX_PAGES


def test_json_nested_deeper_than_the_parser_goes_is_one_line() -> None:
    deep = httpclient.Answer(401, {"Content-Type": "application/json"}, b"[" * 100_000)

    with pytest.raises(
        HttpError, match=r"^Hub answered something other than JSON \(cut short\?\)$"
    ):
        httpclient.json_body(deep, "Hub")
    assert httpclient.server_message(deep) == ""


def test_tags_that_are_not_tags_are_left_out(api: Callable[[Page], _Server]) -> None:
    names = ["1.0", "-rm", "a b", "x\x1b[2J", "n\ny", "../etc", "a" * 129, "@sha256", "ok_2"]

    def tags(url: str, page: int) -> dict[str, Any]:
        del url, page
        return {"count": len(names), "next": None, "results": [{"name": n} for n in names]}

    found = _hub(api(tags)).tags("o", "app")

    assert [tag.name for tag in found] == ["1.0", "ok_2"]


@pytest.mark.parametrize(
    ("registry", "realm", "sent"),
    [
        ("https://registry-1.docker.io", "https://auth.docker.io/token", True),
        ("https://registry.example.com:5000", "https://registry.example.com/token", True),
        ("https://registry.example.com", "https://auth.example.com/token", True),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5001/token", True),
        # Another host than the one configured: the login stays here.
        ("https://registry-1.docker.io", "https://evil.example/token", False),
        ("https://registry-1.docker.io", "https://docker.io.evil.example/token", False),
        ("https://registry-1.docker.io", "https://evildocker.io/token", False),
        ("https://mirror.corp.example", "https://example/token", False),
        ("https://registry.example.com", "https://co.uk/token", False),
        ("http://127.0.0.1:5000", "https://127.0.0.2/token", False),
        ("http://127.0.0.1:5000", "http://localhost:5000/token", False),
        # Not in the clear, even to the very host, once the registry spoke HTTPS.
        ("https://registry.example.com", "http://registry.example.com/token", False),
    ],
)
def test_the_login_goes_to_a_realm_of_the_configured_host_only(
    registry: str, realm: str, sent: bool
) -> None:
    assert registry_api.may_send_login(registry, realm) is sent


def test_a_foreign_realm_gets_no_login(api: Callable[[Page], _Server]) -> None:
    realm = api(lambda url, page: {"token": "anonymous"})
    seen: list[str | None] = []

    class Challenging(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def do_HEAD(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(401)
            # The realm names a host that is not the registry's (another loopback address).
            foreign = realm.url.replace("127.0.0.1", "localhost")
            self.send_header("WWW-Authenticate", f'Bearer realm="{foreign}/token",service="x"')
            self.send_header("Content-Length", "0")
            self.end_headers()

    class Recording(_Handler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            super().do_GET()

    realm.RequestHandlerClass = Recording
    registry = ThreadingHTTPServer(("127.0.0.1", 0), Challenging)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    try:
        client = registry_api.Registry(
            f"http://127.0.0.1:{registry.server_address[1]}",
            Login("me", "s3cret-token"),
            http=httpclient.pool(1),
        )
        with pytest.raises(HttpError, match="401 Unauthorized"):
            client.head("o/app", "1.0")
    finally:
        registry.shutdown()
        registry.server_close()

    assert len(realm.requests) == 1  # the realm was asked, for an anonymous token
    assert not any(value and value.startswith("Basic ") for value in seen)


@pytest.mark.parametrize("token", ["\u4e2d\u6587", "ok\x00", "ok\x7f"])
def test_a_token_no_header_can_carry_is_one_line(
    api: Callable[[Page], _Server], token: str
) -> None:
    realm = api(lambda url, page: {"token": token})

    class Challenging(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            del format, args

        def do_HEAD(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Bearer realm="{realm.url}/token",service="x"')
            self.send_header("Content-Length", "0")
            self.end_headers()

    registry = ThreadingHTTPServer(("127.0.0.1", 0), Challenging)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    try:
        client = registry_api.Registry(
            f"http://127.0.0.1:{registry.server_address[1]}", None, http=httpclient.pool(1)
        )
        with pytest.raises(HttpError, match=r"its sign-in service answered no token$"):
            client.head("o/app", "1.0")
    finally:
        registry.shutdown()
        registry.server_close()

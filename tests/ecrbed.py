"""Fixtures for the repository commands: moto's ECR behind a paginating front, an SSO
sign-in to reach it with, an access-denying ECR on the fake AWS, and `ecr-sso` run
in-process.

moto 5 answers ECR's listings (DescribeRepositories, DescribeImages, ListImages) in one
page whatever `maxResults` says, and accepts any number of image ids in BatchDeleteImage.
AWS does neither. `EcrFront` is a small HTTP server in front of moto that restores both:
it removes `maxResults`/`nextToken` from a listing request, asks moto for everything, and
answers one page of at most `page_size` items (AWS's own limit: `maxResults`, default 100)
with a `nextToken` for the rest; and it refuses a BatchDeleteImage of more than 100 ids as
ECR does. Everything else — every other operation, every error — is moto's own answer.
Tests set `page_size` small, so a client that does not follow `nextToken` loses items.

`routes` sends named operations elsewhere (moto lacks pull-through cache rules, for one):
`EcrFront(moto, routes={"CreatePullThroughCacheRule": fake_aws.url})`. moto keeps one
registry per region whatever `registryId` says; with `per_account=True` the front asks moto
for the account `registryId` names (moto's `x-moto-account-id` header), so accounts in one
region keep their repositories apart, as in AWS.

Where moto refuses to hold what a test needs (a repository name with control characters,
an error message of the test's choosing), a test sets `canned[operation]` to the reply the
front gives instead: a hostile server's answer, not moto's.

botocore reaches the front through `AWS_ENDPOINT_URL_ECR`; the SSO sign-in comes from the
fake AWS (`sso` fixture), so a command runs exactly as for a user: an SSO profile's role
credentials, then ECR calls signed with them. moto does not check signatures.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import logging
import re
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import SSO, Env
from fakeaws import Call, FakeAWS, Request, Response, json_error

from credhelper.cli import main

#: `dev` in conftest's DEFAULT_PROFILES: the profile, its account, role and region.
PROFILE = "dev"
ACCOUNT = "111111111111"
ROLE = "Developer"
REGION = "eu-west-1"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

#: The small page the front answers with, unless a test sets another.
PAGE_SIZE = 2
#: AWS's default and maximum page of the three listings, and BatchDeleteImage's limit.
AWS_DEFAULT_PAGE = 100
AWS_MAX_PAGE = 1000
BATCH_DELETE_LIMIT = 100

_ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921"
_JSON_11 = "application/x-amz-json-1.1"
# operation → (the list it pages, the parameter that makes it a lookup, not a listing)
_LISTINGS = {
    "DescribeRepositories": ("repositories", "repositoryNames"),
    "DescribeImages": ("imageDetails", "imageIds"),
    "ListImages": ("imageIds", None),
}
_HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


@dataclass(frozen=True)
class FrontCall:
    """An ECR request as the client sent it (before the front took paging out)."""

    operation: str
    params: dict[str, Any]


class EcrFront:
    """The paginating HTTP front for moto's ECR (see the module docstring)."""

    def __init__(
        self, upstream: str, routes: Mapping[str, str] | None = None, *, per_account: bool = False
    ) -> None:
        self._upstream = _address(upstream)
        self._per_account = per_account
        #: operation → the (host, port) that answers it instead of moto.
        self._routes = {op: _address(url) for op, url in (routes or {}).items()}
        self._lock = threading.Lock()
        self.page_size = PAGE_SIZE
        self.calls: list[FrontCall] = []
        #: operation → (status, JSON body) answered instead of moto's reply (per test).
        self.canned: dict[str, tuple[int, dict[str, Any]]] = {}
        #: Operations answered AccessDeniedException, as for a role without the permission.
        self.denied: set[str] = set()
        self._server = _FrontServer(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> EcrFront:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.canned.clear()
            self.page_size = PAGE_SIZE
            self.denied.clear()

    def count(self, operation: str) -> int:
        with self._lock:
            return sum(1 for call in self.calls if call.operation == operation)

    def answer(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Forward one request to moto, paging listings."""
        target = headers.get("X-Amz-Target") or ""
        operation = target.rpartition(".")[2] if target.startswith(_ECR_TARGET) else ""
        try:
            params = json.loads(body or b"{}") if operation else {}
        except ValueError:
            params = {}
        if operation:
            with self._lock:
                self.calls.append(FrontCall(operation, dict(params)))
                canned = self.canned.get(operation)
            if canned is not None:
                headers = {"Content-Type": _JSON_11, "x-amzn-RequestId": "ecr-front"}
                return canned[0], headers, json.dumps(canned[1]).encode()
        if operation in self.denied:
            return _error(
                "AccessDeniedException",
                f"User is not authorized to perform: ecr:{operation} because no"
                f" identity-based policy allows the ecr:{operation} action",
            )
        if operation == "BatchDeleteImage" and len(params.get("imageIds", [])) > BATCH_DELETE_LIMIT:
            return _error(
                "InvalidParameterException",
                f"imageIds: member must have length less than or equal to {BATCH_DELETE_LIMIT}",
            )
        routed = self._routes.get(operation)
        if routed is not None:
            return self._forward(method, path, headers, body, routed)
        if self._per_account and isinstance(params.get("registryId"), str):
            headers = {**dict(headers.items()), "x-moto-account-id": params["registryId"]}
        listing = _LISTINGS.get(operation)
        if listing is None or (listing[1] is not None and params.get(listing[1])):
            return self._forward(method, path, headers, body)
        key = listing[0]
        wanted = params.pop("maxResults", None)
        token = params.pop("nextToken", None)
        if wanted is not None and not (isinstance(wanted, int) and 1 <= wanted <= AWS_MAX_PAGE):
            return _error("InvalidParameterException", f"maxResults must be 1..{AWS_MAX_PAGE}")
        offset = _offset(operation, token)
        if offset is None:
            return _error("InvalidParameterException", "Invalid parameter at 'nextToken'")
        status, reply_headers, reply = self._forward(
            method, path, headers, json.dumps(params).encode()
        )
        if status != 200:
            return status, reply_headers, reply
        data = json.loads(reply)
        items = data.get(key, [])
        limit = min(wanted or AWS_DEFAULT_PAGE, self.page_size)
        data[key] = items[offset : offset + limit]
        data.pop("nextToken", None)
        if offset + limit < len(items):
            data["nextToken"] = _token(operation, offset + limit)
        return status, reply_headers, json.dumps(data).encode()

    def _forward(
        self,
        method: str,
        path: str,
        headers: Any,
        body: bytes,
        upstream: tuple[str, int] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection(*(upstream or self._upstream), timeout=30)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            sent["Content-Length"] = str(len(body))
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            reply = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            return response.status, kept, reply
        finally:
            connection.close()


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _token(operation: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{operation}:{offset}".encode()).decode()


def _offset(operation: str, token: str | None) -> int | None:
    if token is None:
        return 0
    try:
        name, _, number = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        offset = int(number)
    except ValueError:
        return None
    return offset if name == operation and offset >= 0 else None


def _error(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "message": message}).encode()
    return 400, {"Content-Type": _JSON_11, "x-amzn-RequestId": "ecr-front"}, body


class _FrontServer(ThreadingHTTPServer):
    block_on_close = False

    def __init__(self, front: EcrFront) -> None:
        super().__init__(("127.0.0.1", 0), _FrontHandler)
        self.front = front


class _FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _FrontServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, reply = self.server.front.answer(
            self.command, self.path, self.headers, body
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""


# -- the arranged registry ----------------------------------------------------------------


@dataclass
class EcrBed:
    """moto's ECR as tests arrange and inspect it: `client` talks to moto directly (its
    calls are not in `front.calls`), in the registry of `dev`'s account."""

    front: EcrFront
    client: Any
    env: Env
    host: str = HOST

    def repository(self, name: str, **params: Any) -> None:
        self.client.create_repository(registryId=ACCOUNT, repositoryName=name, **params)

    def image(self, repository: str, *tags: str, layer: str, size: int = 12_345_678) -> str:
        """Put an image with `tags` (none: untagged); `layer` decides its digest (moto
        derives it from the layer digests) and `size` its imageSizeInBytes (moto reports
        the config's size). Returns the digest."""
        layer_digest = "sha256:" + _sha256(layer)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {
                    "mediaType": "application/vnd.docker.container.image.v1+json",
                    "size": size,
                    "digest": "sha256:" + _sha256("config " + layer),
                },
                "layers": [
                    {
                        "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": 1234,
                        "digest": layer_digest,
                    }
                ],
            }
        )
        digest = ""
        for tag in tags or (None,):
            extra = {} if tag is None else {"imageTag": tag}
            reply = self.client.put_image(
                registryId=ACCOUNT, repositoryName=repository, imageManifest=manifest, **extra
            )
            digest = reply["image"]["imageId"]["imageDigest"]
        return digest

    def names(self) -> list[str]:
        reply = self.client.describe_repositories(registryId=ACCOUNT)
        return sorted(repo["repositoryName"] for repo in reply["repositories"])

    def tags(self, repository: str) -> list[str]:
        reply = self.client.describe_images(registryId=ACCOUNT, repositoryName=repository)
        return sorted(tag for image in reply["imageDetails"] for tag in image.get("imageTags", []))

    def config(self, extra: str = "") -> None:
        """Our config: `dev` is the default profile, plus `extra` TOML."""
        self.env.write_config(f'default_profile = "{PROFILE}"\n{extra}')


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


# Fixtures are named explicitly, so a test module imports `ecr_fixture` and asks for `ecr`
# without shadowing the imported name.


@pytest.fixture(scope="session", name="ecr_front")
def ecr_front_fixture(moto_server: str) -> Iterator[EcrFront]:
    """One paginating front for the session; use the `ecr` fixture in tests."""
    front = EcrFront(moto_server).start()
    yield front
    front.stop()


@pytest.fixture(name="ecr")
def ecr_fixture(
    env: Env,
    sso: SSO,
    moto_server: str,
    ecr_front: EcrFront,
    monkeypatch: pytest.MonkeyPatch,
) -> EcrBed:
    """moto's ECR, emptied, behind the front (page size `PAGE_SIZE`), as botocore's ECR
    endpoint; `dev` signed in through the fake AWS and the default profile in our config."""
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    ecr_front.reset()
    sso.login()
    # After the `aws` fixture (a dependency of `sso`) pointed ECR at the fake.
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", ecr_front.url)
    import botocore.session

    client = botocore.session.Session().create_client(
        "ecr",
        region_name=REGION,
        endpoint_url=moto_server,
        aws_access_key_id="arrange",
        aws_secret_access_key="arrange",  # moto checks no signature
    )
    bed = EcrBed(ecr_front, client, env)
    bed.config()
    return bed


# -- an ECR that says no -------------------------------------------------------------------

_DESCRIBE_REPOSITORIES = f"{_ECR_TARGET}.DescribeRepositories"
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/")


class _Denial:
    """DescribeRepositories on the fake AWS, answering AccessDeniedException while
    `enabled` (reset with the fake), like an SSO role without ecr:DescribeRepositories."""

    def __init__(self, fake: FakeAWS) -> None:
        self.fake = fake
        self.enabled = False
        fake.add_json_target(_DESCRIBE_REPOSITORIES, self.handle)
        fake.add_reset_hook(self.reset)

    def reset(self) -> None:
        self.enabled = False

    def handle(self, request: Request) -> Response:
        match = _SCOPE.search(request.headers.get("Authorization") or "")
        akid, region = (match.group(1), match.group(2)) if match else (None, None)
        self.fake.record(Call("DescribeRepositories", akid, region, json.loads(request.body)))
        if not self.enabled:
            return json_error("UnknownOperationException", "DescribeRepositories is off")
        account, role = self.fake.caller(akid or "")
        return json_error(
            "AccessDeniedException",
            f"User: arn:aws:sts::{account}:assumed-role/{role}/x is not authorized to perform:"
            f" ecr:DescribeRepositories on resource: arn:aws:ecr:{region}:{ACCOUNT}:repository/*",
        )


_denials: dict[int, _Denial] = {}


@pytest.fixture(name="ecr_denied")
def ecr_denied_fixture(sso: SSO, aws: FakeAWS) -> FakeAWS:
    """The fake AWS as ECR, refusing DescribeRepositories to every caller; `dev` signed in
    and the default profile. Returns the fake (its `calls` record the refusals)."""
    denial = _denials.get(id(aws))
    if denial is None:
        denial = _denials[id(aws)] = _Denial(aws)
    denial.enabled = True
    sso.login()
    sso.env.write_config(f'default_profile = "{PROFILE}"\n')
    return aws


# -- ecr-sso, in-process ------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lines = self.out.splitlines()


Cli = Callable[..., Result]


@pytest.fixture(name="cli")
def cli_fixture(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cli]:
    """`cli(*argv, stdin="")` runs `ecr-sso ARGV` in this process (stdin not a terminal)
    and returns its exit code, stdout and stderr. The log handlers each run adds to the
    root logger are removed at the end."""
    root = logging.getLogger()
    before = list(root.handlers)

    def run(*argv: str, stdin: str = "") -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse's usage errors
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    yield run
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()

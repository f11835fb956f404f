"""A small, honest fake of the AWS APIs that moto lacks, spoken over real HTTP.

One `ThreadingHTTPServer` on 127.0.0.1 serves every service; botocore reaches it through
`AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL_ECR` and `AWS_ENDPOINT_URL_ECR_PUBLIC` (and
`AWS_ENDPOINT_URL_SSO_OIDC`, which has no operations yet, so that a token refresh attempt
fails fast and loudly instead of reaching for the real AWS). Requests are dispatched by
method and path (the REST protocols) or by the `X-Amz-Target` header (the JSON protocol).

Operations, with the names recorded in `FakeAWS.calls`:

- `GetRoleCredentials` (SSO portal, rest-json): `GET /federation/credentials`, bearer token
  in `x-amz-sso_bearer_token`. Only tokens registered with `add_sso_token` are valid.
  Every success issues fresh role credentials and remembers their access key id.
- `GetAuthorizationToken` (ECR, JSON 1.1).
- `GetAuthorizationToken(public)` (ECR Public, JSON 1.1); only region us-east-1 exists.
- `Unknown`: anything else; answered 400 with an error naming the method, path and target.

Who is calling ECR is read from the SigV4 `Authorization` header's credential scope. An
access key id issued by `GetRoleCredentials` maps to its (account, role); any other access
key id (environment keys, moto's STS) is taken as account `UNKNOWN_CALLER_ACCOUNT` with the
access key id itself as the role. Signatures are not verified, but an issued key must come
with the session token issued with it.

Registry passwords are deterministic (`FakeAWS.password`), so a test knows in advance what a
client must present to a registry.

`misbehave(operation, kind)` makes one operation answer like a hostile network instead (a
captive portal's HTML page, a cut-off body, bytes that are not UTF-8, a reply of the wrong
shape, or a server that drips one byte at a time); see `MISBEHAVIOURS`.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

GET_ROLE_CREDENTIALS = "GetRoleCredentials"
ECR_GET_AUTHORIZATION_TOKEN = "GetAuthorizationToken"
ECR_PUBLIC_GET_AUTHORIZATION_TOKEN = "GetAuthorizationToken(public)"
UNKNOWN = "Unknown"

#: The account of a caller whose access key id the fake did not issue.
UNKNOWN_CALLER_ACCOUNT = "000000000000"
#: The registry "account" of ECR Public, for `password()` and `deny_ecr`.
PUBLIC = "public"

ROLE_CREDENTIALS_TTL = 3600.0
DEFAULT_TOKEN_TTL = 12 * 3600.0

_ECR_TARGET = "AmazonEC2ContainerRegistry_V20150921"
_ECR_PUBLIC_TARGET = "SpencerFrontendService"
_JSON_11 = "application/x-amz-json-1.1"
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")

#: How `misbehave` can spoil an operation's successful answer:
#: - "html": 200 with a captive portal's HTML page;
#: - "truncated": the JSON body cut in half and the connection closed (Content-Length
#:   promises the whole body);
#: - "cut-json": the JSON body cut in half, Content-Length saying so (a proxy that cut it);
#: - "not-utf8": a JSON content type, bytes that are not UTF-8;
#: - "empty": the reply's payload empty (`authorizationData: []`, `{}` elsewhere);
#: - "not-base64": an authorization token that is not base64 of `user:password`;
#: - "no-colon": base64 of a token without the `user:` part;
#: - "no-expiry": the expiry left out (`expiresAt`, `expiration`, `expiresIn`);
#: - "drip": the real answer, one byte every `drip_interval` seconds.
MISBEHAVIOURS = (
    "html",
    "truncated",
    "cut-json",
    "not-utf8",
    "empty",
    "not-base64",
    "no-colon",
    "no-expiry",
    "drip",
)
#: Where each operation is served: its X-Amz-Target (JSON protocol) or path (REST).
_ROUTE_KEYS = {
    GET_ROLE_CREDENTIALS: "/federation/credentials",
    ECR_GET_AUTHORIZATION_TOKEN: f"{_ECR_TARGET}.GetAuthorizationToken",
    ECR_PUBLIC_GET_AUTHORIZATION_TOKEN: f"{_ECR_PUBLIC_TARGET}.GetAuthorizationToken",
    "RegisterClient": "/client/register",
    "StartDeviceAuthorization": "/device_authorization",
    "CreateToken": "/token",
}
_CAPTIVE_PORTAL = (
    b"<!DOCTYPE html>\n<html><head><title>Welcome to Hotel WiFi</title></head>"
    b"<body><form action='/login'>Accept the terms to continue</form></body></html>\n"
)


@dataclass(frozen=True)
class Call:
    """One request as the fake received it. `akid` and `region` come from the SigV4 scope
    (None for the unsigned SSO portal call); `params` are the request's parameters."""

    operation: str
    akid: str | None
    region: str | None
    params: dict[str, Any]


@dataclass(frozen=True)
class Request:
    """An HTTP request, reduced to what the operations look at."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive (an email.message.Message)
    body: bytes


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    #: One of MISBEHAVIOURS the server applies to the bytes it sends ("html", "truncated",
    #: "cut-json", "not-utf8", "drip"), or None.
    misbehaviour: str | None = None


@dataclass(frozen=True)
class _Issued:
    account: str
    role: str
    session_token: str


def rest_error(status: int, code: str, message: str) -> Response:
    # rest-json: botocore takes the code from the x-amzn-errortype header (the body's
    # `__type`, absent here as in the real SSO portal's answers, would only be a fallback).
    return Response(status, {"message": message}, headers={"x-amzn-errortype": code})


def json_error(code: str, message: str) -> Response:
    # JSON 1.1: the code is the body's `__type`; AWS answers client errors with 400.
    return Response(400, {"__type": code, "message": message}, content_type=_JSON_11)


class FakeAWS:
    """The fake's state, its knobs and its HTTP server.

    Knobs, all restored to their defaults by `reset()`:
    `deny_ecr` (registry accounts, or `PUBLIC`, whose token is refused with
    AccessDeniedException), `throttle` (the next N ECR or ECR Public calls answer
    ThrottlingException), `ecr_delay` (seconds every ECR call waits before answering),
    `token_ttl` (seconds an ECR token lives), the misbehaving operations (`misbehave`) and
    `drip_interval` (seconds between the bytes of a "drip" answer). State, also cleared by
    `reset()`: `calls`, the registered SSO tokens, the forbidden roles and the issued role
    credentials.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # Never reset: access key ids stay unique for the whole test session.
        self._akid_counter = itertools.count(1)
        self.calls: list[Call] = []
        #: Tracebacks of the fake's own bugs; the `aws` fixture fails a test that caused any.
        self.errors: list[str] = []
        self._sso_tokens: set[str] = set()
        self._forbidden: set[tuple[str, str]] = set()
        self._issued: dict[str, _Issued] = {}
        self.deny_ecr: set[str] = set()
        self.throttle = 0
        self.ecr_delay = 0.0
        self.token_ttl = DEFAULT_TOKEN_TTL
        self.drip_interval = 1.5
        self._misbehaving: dict[str, str] = {}
        self._reset_hooks: list[Callable[[], None]] = []
        # Later operations (SSO-OIDC's RegisterClient, StartDeviceAuthorization, CreateToken
        # and the /authorize page) are added here, one line each.
        self._rest_routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/federation/credentials"): self._get_role_credentials,
        }
        self._json_targets: dict[str, Callable[[Request], Response]] = {
            f"{_ECR_TARGET}.GetAuthorizationToken": self._ecr_get_authorization_token,
            f"{_ECR_PUBLIC_TARGET}.GetAuthorizationToken": self._public_get_authorization_token,
        }

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeAWS:
        """Bind an ephemeral port and serve from a daemon thread. The socket is listening
        when this returns, so no wait is needed before the first request."""
        if self._server is not None:
            raise RuntimeError("FakeAWS is already started")
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.name = f"fakeaws-{self._server.server_address[1]}"
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> FakeAWS:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAWS is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> None:
        """Forget every call, token, forbidden role and issued key; restore the knobs."""
        with self._lock:
            self.calls.clear()
            self.errors.clear()
            self._sso_tokens.clear()
            self._forbidden.clear()
            self._issued.clear()
            self.deny_ecr = set()
            self.throttle = 0
            self.ecr_delay = 0.0
            self.token_ttl = DEFAULT_TOKEN_TTL
            self.drip_interval = 1.5
            self._misbehaving = {}
        for hook in self._reset_hooks:
            hook()

    # -- state a test arranges ---------------------------------------------------------

    def add_sso_token(self, token: str) -> None:
        """Make `token` a valid SSO access token (as if `aws sso login` had got it)."""
        with self._lock:
            self._sso_tokens.add(token)

    def revoke_sso_token(self, token: str) -> None:
        with self._lock:
            self._sso_tokens.discard(token)

    def misbehave(self, operation: str, kind: str) -> None:
        """Spoil every successful answer of `operation` (GetAuthorizationToken,
        GetRoleCredentials, CreateToken, ...) in the way `kind` (one of MISBEHAVIOURS)
        names. Errors are still answered as usual."""
        if kind not in MISBEHAVIOURS:
            raise ValueError(f"unknown misbehaviour {kind!r}")
        with self._lock:
            self._misbehaving[_ROUTE_KEYS[operation]] = kind

    def forbid_role(self, account: str, role: str) -> None:
        """GetRoleCredentials for this role answers 403 ForbiddenException."""
        with self._lock:
            self._forbidden.add((account, role))

    # -- what a test inspects ----------------------------------------------------------

    def count(self, operation: str) -> int:
        with self._lock:
            return sum(1 for call in self.calls if call.operation == operation)

    def sso_token_valid(self, token: str) -> bool:
        """Whether `token` is a valid SSO access token now (registered, not revoked)."""
        with self._lock:
            return token in self._sso_tokens

    def caller(self, akid: str) -> tuple[str, str]:
        """The (account, role) the fake takes a caller with this access key id to be."""
        with self._lock:
            issued = self._issued.get(akid)
        if issued is None:
            return UNKNOWN_CALLER_ACCOUNT, akid
        return issued.account, issued.role

    @staticmethod
    def password(registry_account: str, role: str) -> str:
        """The registry password the fake hands `role` for `registry_account` (`PUBLIC`
        for ECR Public): deterministic, so tests know it before any call."""
        digest = hashlib.sha256(f"{registry_account}/{role}".encode()).hexdigest()
        return f"pw-{registry_account}-{role}-{digest}"

    # -- dispatch ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request. Runs on the server's handler threads."""
        target = request.headers.get("X-Amz-Target")
        if target is not None:
            operation = self._json_targets.get(target)
        else:
            operation = self._rest_routes.get((request.method, request.path))
        if operation is not None:
            response = operation(request)
            with self._lock:
                kind = self._misbehaving.get(target if target is not None else request.path)
            if kind is None or response.status != 200:
                return response
            return dataclasses.replace(
                response, body=_spoil(response.body, kind), misbehaviour=kind
            )
        akid, region = _scope(request)
        self._record(
            Call(
                UNKNOWN,
                akid,
                region,
                {"method": request.method, "path": request.path, "target": target},
            )
        )
        message = f"FakeAWS has no operation for {request.method} {request.path}" + (
            f" with X-Amz-Target {target}" if target else ""
        )
        # Both error conventions, since an unknown request's protocol is unknown too.
        code = "UnknownOperationException"
        return Response(
            400,
            {"__type": code, "message": message},
            content_type=_JSON_11,
            headers={"x-amzn-errortype": code},
        )

    def record(self, call: Call) -> None:
        """Append a call (thread-safe); for operations added by extensions too."""
        with self._lock:
            self.calls.append(call)

    _record = record

    # -- extension points: other test modules add operations without editing this file --

    def add_rest_route(
        self, method: str, path: str, handler: Callable[[Request], Response]
    ) -> None:
        """Serve `method path` (a REST operation or a plain page) with `handler`."""
        self._rest_routes[(method, path)] = handler

    def add_json_target(self, target: str, handler: Callable[[Request], Response]) -> None:
        """Serve requests whose X-Amz-Target is `target` with `handler`."""
        self._json_targets[target] = handler

    def add_reset_hook(self, hook: Callable[[], None]) -> None:
        """Call `hook` on every `reset()`, so an extension's state is per test too."""
        self._reset_hooks.append(hook)

    def record_error(self, description: str) -> None:
        """Note a bug of the fake itself (called by the server on an exception)."""
        with self._lock:
            self.errors.append(description)

    # -- SSO portal ----------------------------------------------------------------------

    def _get_role_credentials(self, request: Request) -> Response:
        token = request.headers.get("x-amz-sso_bearer_token")
        account = request.query.get("account_id")
        role = request.query.get("role_name")
        self._record(
            Call(
                GET_ROLE_CREDENTIALS,
                None,
                None,
                {"account_id": account, "role_name": role, "bearer": token},
            )
        )
        if not account or not role:
            return rest_error(400, "InvalidRequestException", "account_id and role_name needed")
        with self._lock:
            if token not in self._sso_tokens:
                return rest_error(
                    401, "UnauthorizedException", "Session token not found or invalid"
                )
            if (account, role) in self._forbidden:
                return rest_error(403, "ForbiddenException", "No access")
            akid = f"ASIA{next(self._akid_counter):016X}"
            issued = _Issued(account, role, secrets.token_urlsafe(96))
            self._issued[akid] = issued
        expiration_ms = int((time.time() + ROLE_CREDENTIALS_TTL) * 1000)
        return Response(
            200,
            {
                "roleCredentials": {
                    "accessKeyId": akid,
                    "secretAccessKey": secrets.token_urlsafe(30),
                    "sessionToken": issued.session_token,
                    "expiration": expiration_ms,
                }
            },
        )

    # -- ECR and ECR Public --------------------------------------------------------------

    def _ecr_preamble(self, request: Request, operation: str) -> tuple[Response | None, Call]:
        """What both ECR operations do first: record, wait, authenticate, throttle."""
        akid, region = _scope(request)
        try:
            params = json.loads(request.body or b"{}")
        except ValueError:
            params = {"<unparsable body>": request.body.decode(errors="replace")}
        call = Call(operation, akid, region, params)
        self._record(call)
        if self.ecr_delay > 0:
            # Simulated AWS latency, so tests can widen race windows; not a synchronisation.
            threading.Event().wait(self.ecr_delay)
        if akid is None:
            return json_error(
                "MissingAuthenticationTokenException", "Missing Authentication Token"
            ), call
        with self._lock:
            issued = self._issued.get(akid)
            if issued is not None and (
                request.headers.get("X-Amz-Security-Token") != issued.session_token
            ):
                return json_error(
                    "UnrecognizedClientException",
                    "The security token included in the request is invalid.",
                ), call
            if self.throttle > 0:
                self.throttle -= 1
                return json_error("ThrottlingException", "Rate exceeded"), call
        return None, call

    def _denied(self, registry_account: str, akid: str) -> Response | None:
        with self._lock:
            denied = registry_account in self.deny_ecr
        if not denied:
            return None
        account, role = self.caller(akid)
        return json_error(
            "AccessDeniedException",
            f"User: arn:aws:sts::{account}:assumed-role/{role}/x is not authorized to perform:"
            " ecr:GetAuthorizationToken on resource: *",
        )

    def _authorization_token(self, registry_account: str, role: str) -> str:
        return base64.b64encode(f"AWS:{self.password(registry_account, role)}".encode()).decode()

    def _ecr_get_authorization_token(self, request: Request) -> Response:
        failure, call = self._ecr_preamble(request, ECR_GET_AUTHORIZATION_TOKEN)
        if failure is not None:
            return failure
        assert call.akid is not None
        caller_account, role = self.caller(call.akid)
        registry_ids = call.params.get("registryIds") or [caller_account]
        for registry_id in registry_ids:
            if not isinstance(registry_id, str) or not _ACCOUNT_ID.fullmatch(registry_id):
                return json_error(
                    "InvalidParameterException",
                    f"Invalid parameter at 'registryIds': {registry_id!r}",
                )
        for registry_id in registry_ids:
            denial = self._denied(registry_id, call.akid)
            if denial is not None:
                return denial
        region = call.region or "us-east-1"
        expires_at = time.time() + self.token_ttl
        return Response(
            200,
            {
                "authorizationData": [
                    {
                        "authorizationToken": self._authorization_token(registry_id, role),
                        "expiresAt": expires_at,
                        "proxyEndpoint": f"https://{registry_id}.dkr.ecr.{region}.amazonaws.com",
                    }
                    for registry_id in registry_ids
                ]
            },
            content_type=_JSON_11,
        )

    def _public_get_authorization_token(self, request: Request) -> Response:
        failure, call = self._ecr_preamble(request, ECR_PUBLIC_GET_AUTHORIZATION_TOKEN)
        if failure is not None:
            return failure
        assert call.akid is not None
        if call.region != "us-east-1":
            # ECR Public's API exists only in us-east-1; a client signing for another
            # region is refused like this by the real endpoint.
            return json_error(
                "InvalidSignatureException",
                f"Credential should be scoped to a valid region, not '{call.region}'.",
            )
        denial = self._denied(PUBLIC, call.akid)
        if denial is not None:
            return denial
        _, role = self.caller(call.akid)
        return Response(
            200,
            {
                "authorizationData": {
                    "authorizationToken": self._authorization_token(PUBLIC, role),
                    "expiresAt": time.time() + self.token_ttl,
                }
            },
            content_type=_JSON_11,
        )


def _spoil(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """A successful reply's payload spoiled as `kind` says (the byte-level kinds are the
    server's business and leave it as it is)."""
    data = json.loads(json.dumps(body))  # a deep copy
    entries = data.get("authorizationData")
    # ECR answers a list of entries, ECR Public one entry.
    items = entries if isinstance(entries, list) else [entries] if entries else []
    if kind == "empty":
        if "authorizationData" in data:
            return {"authorizationData": [] if isinstance(entries, list) else {}}
        return {}
    if kind == "not-base64":
        for item in items:
            item["authorizationToken"] = "%%% this is not base64 %%%"
    elif kind == "no-colon":
        for item in items:
            item["authorizationToken"] = base64.b64encode(b"no-user-part").decode()
    elif kind == "no-expiry":
        for item in items:
            item.pop("expiresAt", None)
        data.get("roleCredentials", {}).pop("expiration", None)
        data.pop("expiresIn", None)
    return data


def _scope(request: Request) -> tuple[str | None, str | None]:
    """The access key id and region of a SigV4-signed request, or (None, None)."""
    match = _CREDENTIAL_SCOPE.search(request.headers.get("Authorization") or "")
    if match is None:
        return None, None
    return match.group(1), match.group(2)


class _Buffer:
    """A stand-in for a handler's `wfile` that keeps what is written."""

    closed = False

    def __init__(self) -> None:
        self.data = bytearray()

    def close(self) -> None:
        return None

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)

    def flush(self) -> None:
        return None


class _Server(ThreadingHTTPServer):
    # Handler threads may sit in a kept-alive connection of a client the test still holds;
    # closing the server must not wait for them (they are daemon threads).
    block_on_close = False

    def __init__(self, fake: FakeAWS) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    # Headers and body go out in two writes; without TCP_NODELAY the second waits for the
    # client's delayed ACK, about 40 ms per request.
    disable_nagle_algorithm = True
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query)),
            headers=self.headers,  # type: ignore[arg-type]
            body=body,
        )
        fake = self.server.fake
        try:
            response = fake.handle(request)
        except Exception as error:
            fake.record_error(traceback.format_exc())
            # 400, not 500: botocore retries 5xx with back-off, which would hide the bug
            # behind a slow test instead of failing it at once.
            response = json_error("FakeAWSInternalError", f"{type(error).__name__}: {error}")
        payload = json.dumps(response.body).encode()
        kind = response.misbehaviour
        content_type, length = response.content_type, len(payload)
        if kind == "html":
            payload, content_type, length = _CAPTIVE_PORTAL, "text/html", len(_CAPTIVE_PORTAL)
        elif kind == "truncated":
            payload = payload[: len(payload) // 2]
        elif kind == "cut-json":
            payload = payload[: len(payload) // 2]
            length = len(payload)
        elif kind == "not-utf8":
            payload = b'{"authorizationData": "\xff\xfe\xfa broken \xc3\x28"}'
            length = len(payload)
        if kind == "drip":
            # Collect the whole answer, then send it a byte at a time.
            self.wfile = _Buffer()  # type: ignore[assignment]
        self.send_response(response.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if kind == "truncated":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        if kind == "drip":
            self._drip(bytes(self.wfile.data), fake.drip_interval)  # type: ignore[attr-defined]

    def _drip(self, data: bytes, interval: float) -> None:
        """Send `data` one byte every `interval` seconds, as a server on a dying link
        would; each byte is enough to reset a client's read timeout."""
        self.close_connection = True
        for index in range(len(data)):
            try:
                self.connection.sendall(data[index : index + 1])
            except OSError:  # the client gave up: what this mode is for
                return
            # A slow server's pace, not a synchronisation.
            threading.Event().wait(interval)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a test's output is for the test."""

"""HTTP for `migrate`'s own calls to registries and Docker Hub's API, over urllib3.

urllib3 comes with botocore, so it costs no new dependency; it pools connections across
threads, bounds every wait, retries a dropped connection, and refuses an answer shorter
than its Content-Length. What it leaves to us is said here once: no redirect is followed
(a credential must not travel to a host it was not meant for), every body is read up to a
bound, and a JSON answer that is HTML, empty or cut short is one clear line, not a
traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

import urllib3

from credhelper.shown import shown

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
#: Bounds on what one answer may be: a page of a listing, a token, a manifest's headers.
MAX_JSON = 8 * 1024 * 1024
USER_AGENT = "ecr-sso-migrate"


class HttpError(Exception):
    """A call failed; `reason` is one line saying why, `status` the HTTP status (0: none)."""

    def __init__(self, reason: str, status: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Answer:
    """An HTTP answer, its body read (up to the bound)."""

    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


def pool(size: int = 8) -> urllib3.PoolManager:
    """A connection pool for `size` threads at once, with bounded waits and retries of
    connection failures only (statuses are ours to judge)."""
    retries = urllib3.Retry(
        total=3,
        connect=3,
        read=2,
        redirect=0,
        status=0,
        backoff_factor=0.5,
        raise_on_redirect=False,
        raise_on_status=False,
        allowed_methods=frozenset({"GET", "HEAD", "POST"}),
    )
    return urllib3.PoolManager(
        num_pools=16,
        maxsize=max(size, 1),
        block=False,
        retries=retries,
        timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT),
        headers={"User-Agent": USER_AGENT},
    )


def call(
    http: urllib3.PoolManager,
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    limit: int = MAX_JSON,
) -> Answer:
    """One request, no redirect followed, the body read up to `limit` bytes; HttpError
    for a connection failure, an answer cut short or one over the bound."""
    where = origin(url)
    try:
        response = http.request(
            method,
            url,
            headers=headers or {},
            body=body,
            redirect=False,
            preload_content=False,
            enforce_content_length=True,
        )
    except urllib3.exceptions.HTTPError as err:
        raise HttpError(f"cannot reach {where}: {_cause(err)}") from None
    try:
        data = b"" if method == "HEAD" else response.read(limit + 1)
        if len(data) > limit:
            raise HttpError(f"{where} answered more than {limit} bytes; not read")
    except urllib3.exceptions.HTTPError as err:
        del err  # its text repeats itself; what matters is that the body is incomplete
        raise HttpError(f"{where}: the answer was cut short") from None
    finally:
        response.release_conn()
    return Answer(response.status, dict(response.headers.items()), data)


def json_body(answer: Answer, what: str) -> Any:
    """The JSON of `answer`; HttpError naming `what` when it is HTML, empty or not JSON."""
    kind = (answer.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or answer.body.lstrip()[:1] == b"<":
        raise HttpError(f"{what} answered a web page, not JSON (a proxy or sign-in page?)")
    if not answer.body.strip():
        raise HttpError(f"{what} answered nothing")
    try:
        return json.loads(answer.body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than it parses
        raise HttpError(f"{what} answered something other than JSON (cut short?)") from None


def usable_token(value: object) -> TypeGuard[str]:
    """Whether `value` can go in an Authorization header as a token: printable ASCII with
    no space. Anything else would fail as a traceback in the HTTP library, or reach the
    registry as control characters."""
    return (
        isinstance(value, str)
        and bool(value)
        and value.isascii()
        and value.isprintable()
        and " " not in value
    )


def origin(url: str) -> str:
    """`scheme://host:port` of `url`, the unit a credential is bound to."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def server_message(answer: Answer) -> str:
    """The error a registry or API put in its body (`errors[0].message`, `message` or
    `detail`), made safe for one line; "" when there is none."""
    try:
        data = json.loads(answer.body[:65536])
    except (ValueError, RecursionError):
        return ""
    text: Any = ""
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            text = errors[0].get("message") or errors[0].get("code") or ""
        else:
            text = data.get("message") or data.get("detail") or ""
    return shown(str(text))[:200] if isinstance(text, str) else ""


def _cause(err: BaseException) -> str:
    reason = getattr(err, "reason", None)
    return shown(str(reason or err))[:200]

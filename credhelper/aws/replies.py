"""Checking what AWS answered before anything uses it.

A captive portal, a corporate proxy or a dying link can put anything where an AWS reply
should be: an HTML page with status 200, half a body, bytes that are not text, a reply of
the wrong shape. botocore parses such a body into something that looks like an empty
reply (or raises a bare `UnicodeDecodeError`), and the code reading it then fails far from
the cause. `watch(session)` hooks into botocore's events so that every reply of the
operations in `_LABELS` is checked from its raw bytes before botocore parses it: status,
content type, UTF-8, a JSON object, and the fields the reader needs, with the right types.
Anything else is a `BadReply`: one line naming the operation, its endpoint and what came
back. Bodies are never quoted: a cut reply may hold part of a token.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import math
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from credhelper import deadline, errors

#: (service, operation) → how a message names it.
_LABELS = {
    ("ecr", "GetAuthorizationToken"): "ECR GetAuthorizationToken",
    ("ecr-public", "GetAuthorizationToken"): "ECR Public GetAuthorizationToken",
    ("sso", "GetRoleCredentials"): "SSO portal GetRoleCredentials",
    ("sso-oidc", "CreateToken"): "SSO-OIDC CreateToken",
    ("sso-oidc", "RegisterClient"): "SSO-OIDC RegisterClient",
    ("sso-oidc", "StartDeviceAuthorization"): "SSO-OIDC StartDeviceAuthorization",
}
#: No AWS token or credential lives this long; an expiry beyond it is not a real one and
#: would keep a cached token long after it stopped working.
_LONGEST_LIFETIME = 400 * 86400
#: 2000-01-01: an expiry before it is a unit mistake (milliseconds read as seconds...).
_EARLIEST = 946_684_800


class BadReply(errors.AwsError):
    """An AWS endpoint answered with something that is not a reply of the operation."""


#: The operation and endpoint of this process's latest request: (label, endpoint).
_LATEST = [("AWS", "?")]
#: What botocore and urllib3 raise, unwrapped, for a reply they cannot read.
_UNREADABLE = ("ResponseParserError", "ProtocolError", "IncompleteRead", "InvalidChunkLength")


def watch(session: Any) -> None:
    """Check every reply of the operations we read, for all clients `session` makes
    (including the SSO and SSO-OIDC clients botocore makes itself for a profile)."""
    watcher = _Watcher()
    session.register("before-send", watcher.sending)
    session.register("before-parse", watcher.received)


class _Watcher:
    """The endpoint of the request in flight (botocore sends one request at a time per
    process here), so that the check of its reply can name it."""

    def __init__(self) -> None:
        self.endpoint = "?"

    def sending(self, request: Any, event_name: str = "", **_: Any) -> None:
        url = urlsplit(str(getattr(request, "url", "")))
        self.endpoint = f"{url.scheme}://{url.netloc}" if url.netloc else "?"
        # before-send.<service id>.<operation>
        names = event_name.partition(".")[2]
        service, _sep, operation = names.partition(".")
        what = _LABELS.get((service, operation), f"{service} {operation}".strip() or "AWS")
        _LATEST[0] = (what, self.endpoint)
        deadline.waiting_for(f"{what} at {self.endpoint}")

    def received(self, operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
        service = str(operation_model.service_model.service_id.hyphenize())
        label = _LABELS.get((service, str(operation_model.name)))
        if label is None:
            return
        check_raw(
            label,
            self.endpoint,
            int(response_dict.get("status_code", 0)),
            response_dict.get("headers", {}),
            response_dict.get("body", b""),
        )


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Turn the failures botocore lets escape unwrapped when a reply cannot be read at
    all (a parser error, a connection dropped mid-body, bytes that are not UTF-8 where
    `check_raw` did not look) into a `BadReply` naming the latest request."""
    try:
        yield
    except errors.EcrSsoError:
        raise
    except Exception as err:
        if not isinstance(err, UnicodeDecodeError) and type(err).__name__ not in _UNREADABLE:
            raise
        label, endpoint = _LATEST[0]
        raise BadReply(
            f"{label} at {endpoint} answered with a reply that cannot be read"
            f" ({type(err).__name__})"
        ) from None


def check_raw(label: str, endpoint: str, status: int, headers: Any, body: Any) -> None:
    """Raise `BadReply` unless this is an AWS answer botocore can parse: a JSON error for
    4xx (5xx is botocore's to retry), a JSON object of the right shape for 2xx."""
    where = f"{label} at {endpoint}"
    if status >= 500 or not isinstance(body, bytes):
        return
    content_type = str(headers.get("content-type") or "").lower()
    promised = headers.get("content-length")
    if promised is not None and str(promised).isdigit() and int(promised) > len(body):
        raise BadReply(
            f"{where} answered with a cut-off body ({len(body)} of {promised} bytes):"
            " the connection dropped?"
        )
    code = f"HTTP {status} " if status != 200 else ""
    if "html" in content_type or body.lstrip()[:1] == b"<":
        raise BadReply(f"{where} answered {code}with an HTML page: a proxy or captive portal?")
    if 300 <= status < 400:
        # None of these operations ever redirects; captive portals and proxies do.
        raise BadReply(f"{where} answered {code}(a redirect): a proxy or captive portal?")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadReply(f"{where} answered {code}with bytes that are not UTF-8 text") from None
    if status >= 300 and not text.strip():
        return  # botocore names the status itself
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        kind = f" ({content_type})" if content_type and "json" not in content_type else ""
        raise BadReply(
            f"{where} answered {code}with a body that is not JSON{kind}: cut off, or not AWS?"
        ) from None
    if not isinstance(data, dict):
        raise BadReply(f"{where} answered {code}with JSON that is not an object")
    if status >= 300:
        return  # an error answer: botocore reads its code
    if content_type and "json" not in content_type:
        raise BadReply(f"{where} answered with content type {content_type}, not JSON")
    shape = _SHAPES.get(label)
    problem = shape(data) if shape is not None else None
    if problem is not None:
        raise BadReply(f"{where} answered {problem}")


def decode_token(token: Any) -> tuple[str, str] | None:
    """(user, password) from an ECR authorization token (base64 of `user:password`), or
    None when it is not one."""
    if not isinstance(token, str) or not token:
        return None
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep or not user or not password:
        return None
    return user, password


def sane_expiry(moment: Any, now: float | None = None) -> bool:
    """Whether `moment` (seconds since the epoch) can be a token's real expiry. One in
    the past is allowed: the local clock may be wrong, and such a token is not cached."""
    if isinstance(moment, bool) or not isinstance(moment, (int, float)):
        return False
    current = time.time() if now is None else now
    return math.isfinite(moment) and _EARLIEST < moment < current + _LONGEST_LIFETIME


def _ecr_entry(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "with an authorizationData entry that is not an object"
    if decode_token(entry.get("authorizationToken")) is None:
        return "with an authorizationToken that is not base64 of user:password"
    if "expiresAt" not in entry:
        return "with a token without an expiry (no expiresAt)"
    if not sane_expiry(entry["expiresAt"]):
        return "with a token whose expiresAt is not a sane time"
    return None


def _ecr(data: dict[str, Any]) -> str | None:
    entries = data.get("authorizationData")
    if entries is None:
        return "without authorizationData"
    if not isinstance(entries, list):
        return "with an authorizationData that is not a list"
    if not entries:
        return "with an empty authorizationData"
    return _ecr_entry(entries[0])


def _ecr_public(data: dict[str, Any]) -> str | None:
    entry = data.get("authorizationData")
    if entry is None:
        return "without authorizationData"
    if entry == {}:
        return "with an empty authorizationData"
    return _ecr_entry(entry)


def _strings(data: Any, names: tuple[str, ...], where: str) -> str | None:
    for name in names:
        value = data.get(name)
        if not isinstance(value, str) or not value:
            return (
                f"without {where}{name}"
                if value is None
                else f"with a {where}{name} that is not text"
            )
    return None


def _role_credentials(data: dict[str, Any]) -> str | None:
    found = data.get("roleCredentials")
    if not isinstance(found, dict) or not found:
        return "without roleCredentials"
    missing = _strings(
        found, ("accessKeyId", "secretAccessKey", "sessionToken"), "roleCredentials."
    )
    if missing is not None:
        return missing
    expiration = found.get("expiration")
    if expiration is None:
        return "with credentials without an expiry (no expiration)"
    if isinstance(expiration, bool) or not isinstance(expiration, (int, float)):
        return "with credentials whose expiration is not a time"
    if not sane_expiry(expiration / 1000):  # milliseconds since the epoch
        return "with credentials whose expiration is not a sane time"
    return None


def _lifetime(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return f"without {name}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"with a {name} that is not a number"
    if not 0 < value < _LONGEST_LIFETIME:
        return f"with a {name} that is not a sane number of seconds"
    return None


def _create_token(data: dict[str, Any]) -> str | None:
    problem = _strings(data, ("accessToken",), "")
    if problem is None:
        problem = _lifetime(data, "expiresIn")
    refresh = data.get("refreshToken")
    if problem is None and refresh is not None and not isinstance(refresh, str):
        problem = "with a refreshToken that is not text"
    return problem


def _register_client(data: dict[str, Any]) -> str | None:
    return _strings(data, ("clientId", "clientSecret"), "")


def _device_authorization(data: dict[str, Any]) -> str | None:
    problem = _strings(data, ("deviceCode",), "")
    if problem is None and not isinstance(
        data.get("verificationUriComplete") or data.get("verificationUri"), str
    ):
        problem = "without verificationUri"
    return problem


_SHAPES: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "ECR GetAuthorizationToken": _ecr,
    "ECR Public GetAuthorizationToken": _ecr_public,
    "SSO portal GetRoleCredentials": _role_credentials,
    "SSO-OIDC CreateToken": _create_token,
    "SSO-OIDC RegisterClient": _register_client,
    "SSO-OIDC StartDeviceAuthorization": _device_authorization,
}

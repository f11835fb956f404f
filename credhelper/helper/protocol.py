"""Docker's credential-helper wire format: what comes in on stdin, what goes out on stdout.

The texts here are part of the interface: docker, docker-py and skopeo match on
`credentials not found in native keychain` and show other stdout lines to the user.
"""

from __future__ import annotations

import json

from credhelper.errors import UsageError

PROGRAM = "docker-credential-ecr-sso"
ACTIONS = ("get", "store", "erase", "list", "version")
USAGE = f"Usage: {PROGRAM} <{'|'.join(ACTIONS)}>"
# No server URL, Docker path or store payload is anywhere near this; more is hostile input.
MAX_INPUT = 64 * 1024
NO_SERVER_URL = "no credentials server URL"
#: docker-credential-helpers' answer to a `store` without a username.
NO_USERNAME = "no credentials username"


def read_server_url(data: bytes) -> str:
    """The server URL of a `get` or `erase`, trimmed."""
    if len(data) > MAX_INPUT:
        raise UsageError(f"server URL longer than {MAX_INPUT} bytes")
    try:
        # Only ASCII white space: str.strip() would also eat control characters (\x1c-\x1f).
        text = data.decode("utf-8").strip(" \t\r\n\v\f")
    except UnicodeDecodeError:
        raise UsageError("server URL is not valid UTF-8") from None
    if not text:
        raise UsageError(NO_SERVER_URL)
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
        raise UsageError("server URL contains control characters")
    return text


def read_store(data: bytes) -> tuple[str, str, str]:
    """(server URL, username, secret) of a `store`. Messages never echo the input: it
    holds a secret."""
    if len(data) > MAX_INPUT:
        raise UsageError(f"store input longer than {MAX_INPUT} bytes")
    expected = 'store expects {"ServerURL": ..., "Username": ..., "Secret": ...} on stdin'
    try:
        payload = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UsageError(f"{expected}: not valid JSON") from None
    if not isinstance(payload, dict):
        raise UsageError(f"{expected}: not a JSON object")
    fields = []
    for name in ("ServerURL", "Username", "Secret"):
        value = payload.get(name)
        if not isinstance(value, str):
            raise UsageError(f"{expected}: {name} must be a string")
        fields.append(value)
    server_url = fields[0].strip(" \t\r\n\v\f")
    if not server_url:
        raise UsageError(NO_SERVER_URL)
    if not fields[1]:
        raise UsageError(NO_USERNAME)
    return server_url, fields[1], fields[2]


def format_list(known: dict[str, str]) -> str:
    """`list`'s answer: a JSON object of server URL → username."""
    return json.dumps(known, sort_keys=True, separators=(",", ":")) + "\n"


def format_version(version: str) -> str:
    """`version`'s answer, in the Go helpers' shape."""
    return f"{PROGRAM} (ecr-sso) {version}\n"

"""Docker's credential-helper wire format: what comes in on stdin, what goes out on stdout.

The one owner of the format, for the cache-hit path and the full path alike. The texts here
are part of the interface: docker, docker-py and skopeo match on `NOT_FOUND` and show other
stdout lines to the user.

The hit path imports this module, so its top level imports nothing: `json` and our error
family are imported inside the functions only the full path calls.
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO

PROGRAM = "docker-credential-ecr-sso"
ACTIONS = ("get", "store", "erase", "list", "version")
USAGE = f"Usage: {PROGRAM} <{'|'.join(ACTIONS)}>"
#: The actions that read stdin.
READS_STDIN = ("get", "store", "erase")
# No server URL, Docker path or store payload is anywhere near this; more is hostile input.
MAX_INPUT = 64 * 1024
NO_SERVER_URL = "no credentials server URL"
#: The exact line docker, docker-py and skopeo read as "nothing stored: go anonymous".
NOT_FOUND = "credentials not found in native keychain"
# What Go's strings.TrimSpace removes in ASCII; str.strip() would also eat \x1c-\x1f, which
# Go keeps (and then refuses as control characters).
SPACE = " \t\r\n\v\f"
_PLAIN_JSON = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def read_input(stream: "BinaryIO | None") -> bytes:
    """Up to one byte over `MAX_INPUT` of stdin (enough to refuse more; never megabytes)."""
    if stream is None:
        return b""
    try:
        return stream.read(MAX_INPUT + 1)
    except OSError:
        return b""


def server_url_problem(data: bytes) -> tuple[str | None, str]:
    """(None, the trimmed server URL) of a `get` or `erase`, or (the one-line problem, "").

    Pure and import-free, so the hit path decides exactly as the full path does."""
    if len(data) > MAX_INPUT:
        return f"server URL longer than {MAX_INPUT} bytes", ""
    try:
        text = data.decode("utf-8").strip(SPACE)
    except UnicodeDecodeError:
        return "server URL is not valid UTF-8", ""
    if not text:
        return NO_SERVER_URL, ""
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text):
        return "server URL contains control characters", ""
    return None, text


#: docker-credential-helpers' answer to a `store` without a username.
NO_USERNAME = "no credentials username"


def read_server_url(data: bytes) -> str:
    """The server URL of a `get` or `erase`, trimmed; UsageError with the problem."""
    problem, text = server_url_problem(data)
    if problem is not None:
        from credhelper.errors import UsageError

        raise UsageError(problem)
    return text


def read_store(data: bytes) -> tuple[str, str, str]:
    """(server URL, username, secret) of a `store`. Messages never echo the input: it
    holds a secret."""
    import json

    from credhelper.errors import UsageError

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
    server_url = fields[0].strip(SPACE)
    if not server_url:
        raise UsageError(NO_SERVER_URL)
    if not fields[1]:
        raise UsageError(NO_USERNAME)
    return server_url, fields[1], fields[2]


def format_credentials(server_url: str, username: str, secret: str) -> str:
    """`get`'s answer, byte for byte what the Go helpers print (compact JSON and a
    newline). Plain ASCII is written directly so that the hit path need not import json."""
    values = (server_url, username, secret)
    if all(_PLAIN_JSON.issuperset(v) for v in values):
        quoted = [f'"{v}"' for v in values]
    else:
        import json

        quoted = [json.dumps(v) for v in values]
    return '{"ServerURL":%s,"Username":%s,"Secret":%s}\n' % tuple(quoted)  # noqa: UP031


def format_list(known: dict[str, str]) -> str:
    """`list`'s answer: a JSON object of server URL → username."""
    import json

    return json.dumps(known, sort_keys=True, separators=(",", ":")) + "\n"


def format_version(version: str) -> str:
    """`version`'s answer, in the Go helpers' shape."""
    return f"{PROGRAM} (ecr-sso) {version}\n"


def format_error(message: str) -> str:
    """Any failure's answer: one line on stdout (docker shows stdout, not stderr), with
    every control or hiding character escaped: AWS's messages and file names in it reach
    the person's terminal through docker."""
    from credhelper.shown import shown

    return f"{shown(message)}\n"

"""A careful editor of Docker's `config.json` (in `DOCKER_CONFIG`, default `~/.docker`).

We own only `credHelpers` entries whose value is "ecr-sso", and with `--clean-auths` we
remove `auths` entries for our registries; every other key keeps its value and its place
(JSON objects are read in order and written back in that order). `credsStore` is never
touched: it is the user's choice for every registry not listed in `credHelpers`.

Written back with the indentation the file had (that of its first indented line), or, for
a new or one-line file, as the docker CLI writes it: indented with one tab. A file we do
not change is not written at all, so its bytes stay exactly as they are.

Only what survives a read and a write is rewritten. Docker (Go's `encoding/json`) reads
some things Python's `json` would lose: a key given twice (Go sees both blocks, we would
keep the last), and a lone surrogate escape such as `"\ud800"` (Go reads U+FFFD, we could
not write it back). Such a file is refused (`MalformedFile`, exit 2) naming the key.
Numbers keep their text: `1e999`, `1.50` or a 5,000-digit integer are written back as
they were, not as Python would print the value it read (`inf`, `1.5`, or an error).
`NaN` and `Infinity` are not JSON, and docker refuses them: refused here too.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from credhelper import atomic
from credhelper.errors import MalformedFile
from credhelper.registry import parse_address

LABEL = "Docker config"
HELPER_NAME = "ecr-sso"
#: Keys of an `auths` entry that hold a secret; never shown in a diff.
SECRET_KEYS = ("auth", "password", "identitytoken", "registrytoken")
_INDENT = re.compile(r"\n([ \t]+)\S")


@dataclass(frozen=True)
class DockerConfig:
    """The file as read: its bytes (None: absent), its content in file order, and how it
    was laid out."""

    path: str
    original: bytes | None
    data: dict[str, Any]
    indent: str | None
    trailing_newline: bool

    @property
    def cred_helpers(self) -> dict[str, str]:
        """`credHelpers`: host → helper name."""
        helpers: dict[str, str] = self.data.get("credHelpers", {})
        return helpers

    def auths_for(self, hosts: Iterable[str]) -> list[str]:
        """The keys of `auths` that docker would use for any of `hosts` (it reduces a key
        such as `https://HOST/v1/` to its host, as we do here)."""
        wanted = set(hosts)
        found = []
        for key in self.data.get("auths", {}):
            address = parse_address(key)
            if address is not None and address.netloc in wanted:
                found.append(key)
        return found

    def render(self, data: dict[str, Any]) -> bytes:
        """`data` laid out like this file, numbers as they were written."""
        raw: list[str] = []
        mark = f"ecr-sso-number-{secrets.token_hex(8)}-"

        def number(value: object) -> str:
            if not isinstance(value, RawNumber):
                raise TypeError(f"cannot write a {type(value).__name__}")
            raw.append(value.text)
            return f"{mark}{len(raw) - 1}"

        text = json.dumps(data, indent=self.indent or "\t", ensure_ascii=False, default=number)
        if raw:
            text = re.sub(rf'"{mark}(\d+)"', lambda m: raw[int(m.group(1))], text)
        if self.trailing_newline:
            text += "\n"
        return text.encode("utf-8")


class RawNumber:
    """A JSON number whose text Python would not write back as it was (`1e999`, `1.50`,
    `-0`, a very long integer): kept as text, and written back as that text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"RawNumber({self.text!r})"


class _Object(dict[str, Any]):
    """A JSON object as read, with the keys that appeared more than once."""

    repeated: tuple[str, ...] = ()


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    found = _Object()
    repeated = []
    for key, value in pairs:
        if key in found:
            repeated.append(key)
        found[key] = value
    found.repeated = tuple(repeated)
    return found


def _float(text: str) -> float | RawNumber:
    value = float(text)
    return value if repr(value) == text else RawNumber(text)


def _int(text: str) -> int | RawNumber:
    # Python refuses to convert integers of more than 4,300 digits (a guard against slow
    # conversions): keep those, like any integer Python would print differently, as text.
    if len(text) > 100:
        return RawNumber(text)
    value = int(text)
    return value if str(value) == text else RawNumber(text)


def _constant(text: str) -> Any:
    raise _NotJson(text)


class _NotJson(Exception):
    """`NaN`, `Infinity` or `-Infinity`, which Python reads and JSON (and docker) do not."""


def _check(path: str, value: Any, where: str = "") -> None:
    """Refuse what would not survive being written back: a key given twice, a string
    with a lone surrogate. `where` is the key path so far, for the message."""
    if isinstance(value, _Object):
        if value.repeated:
            raise MalformedFile(
                f"{path}: key {_where(where, value.repeated[0])} appears twice. Docker reads"
                " both, ecr-sso would keep only the last, so it will not rewrite this file;"
                " merge them, then run this again"
            )
        for key, item in value.items():
            if _lone_surrogate(key):
                raise _surrogate(path, f"a key in {where or 'the top level'}")
            _check(path, item, _where(where, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(path, item, f"{where}[{index}]")
    elif isinstance(value, str) and _lone_surrogate(value):
        raise _surrogate(path, f"the value of {where}")


#: The keys of Docker's config ecr-sso reads or edits (`credsStore` it only reads).
OUR_KEYS = ("auths", "credHelpers", "credsStore")
EDITED_KEYS = ("auths", "credHelpers")
# Go's encoding/json gives a JSON key to the struct field whose name it equals under
# Unicode simple case folding: ASCII letters, plus the long s (U+017F) for s and the
# Kelvin sign (U+212A) for k; no other character folds to an ASCII letter.
_GO_FOLD = {"\u017f": "s", "\u212a": "k"}


def _go_folded(key: str) -> str:
    """`key` as Go compares it with an ASCII field name (Python's `casefold` would also
    make "ß" "ss", which Go does not)."""
    return "".join(_GO_FOLD.get(char, char.lower() if char.isascii() else char) for char in key)


def _check_case_variants(path: str, content: dict[str, Any]) -> None:
    """Refuse spellings of our keys that docker reads as ours and Python does not:
    `CredHelpers` is `credHelpers` to docker (Go matches a key to a field whatever its
    case; for a map, both blocks are merged, the later winning)."""
    for ours in OUR_KEYS:
        spellings = [key for key in content if _go_folded(key) == ours.lower()]
        if len(spellings) > 1:
            first, second = (_where("", key) for key in spellings[:2])
            raise MalformedFile(
                f"{path}: keys {first} and {second} are one key to docker (Go matches keys"
                " case-insensitively): it reads both, ecr-sso would see one, so it will not"
                f" rewrite this file; merge them into {_where('', ours)}, then run this again"
            )
        if spellings and spellings[0] != ours and ours in EDITED_KEYS:
            raise MalformedFile(
                f"{path}: key {_where('', spellings[0])} is {_where('', ours)} to docker (Go"
                f" matches keys case-insensitively), but not to ecr-sso, which edits"
                f" {_where('', ours)}; rename it {_where('', ours)}, then run this again"
            )


def _where(where: str, key: str) -> str:
    shown = json.dumps(key, ensure_ascii=True)
    return f"{where}.{shown}" if where else shown


def _lone_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)


def _surrogate(path: str, what: str) -> MalformedFile:
    return MalformedFile(
        f"{path}: {what} holds a lone surrogate escape (such as \\ud800), which docker"
        " reads as U+FFFD and ecr-sso cannot write back; fix that string, then run this again"
    )


def read(path: str) -> DockerConfig:
    """Read and check Docker's config at `path` (absent: empty). `MalformedFile` names the
    file and the line of what docker could not read either."""
    data = atomic.read_bytes_if_exists(path, "Docker's config")
    return parse(path, data)


def parse(path: str, data: bytes | None) -> DockerConfig:
    """Parse `data`, the content of Docker's config at `path` (None: the file is absent)."""
    try:
        text = (data or b"").decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedFile(f"{path}: Docker's config is not valid UTF-8") from None
    if not text.strip():
        # docker itself reads an empty file as an empty config.
        content: Any = {}
    else:
        try:
            content = json.loads(
                text,
                object_pairs_hook=_pairs,
                parse_float=_float,
                parse_int=_int,
                parse_constant=_constant,
            )
        except json.JSONDecodeError as err:
            raise MalformedFile(
                f"{path}, line {err.lineno} column {err.colno}: Docker's config is not"
                f" valid JSON: {err.msg}"
            ) from None
        except RecursionError:
            raise MalformedFile(
                f"{path}: Docker's config is nested too deeply for ecr-sso to edit it safely"
            ) from None
        except _NotJson as err:
            found = re.search(rf"(?<![\w\"]){re.escape(str(err))}", text)
            line = text.count("\n", 0, found.start()) + 1 if found else "?"
            raise MalformedFile(
                f"{path}, line {line}: Docker's config is not valid JSON: {err} is not a"
                " JSON number, and docker refuses it"
            ) from None
        try:
            _check(path, content)
        except RecursionError:
            raise MalformedFile(
                f"{path}: Docker's config is nested too deeply for ecr-sso to edit it safely"
            ) from None
        if isinstance(content, dict):
            _check_case_variants(path, content)
    if not isinstance(content, dict):
        raise MalformedFile(f"{path}: Docker's config must be a JSON object")
    helpers = content.get("credHelpers", {})
    if not isinstance(helpers, dict) or not all(isinstance(v, str) for v in helpers.values()):
        raise MalformedFile(f"{path}: credHelpers must map registry hosts to helper names")
    auths = content.get("auths", {})
    if not isinstance(auths, dict):
        raise MalformedFile(f"{path}: auths must be a JSON object")
    found = _INDENT.search(text)
    return DockerConfig(
        path=path,
        original=data,
        data=content,
        indent=found.group(1) if found else None,
        trailing_newline=text.endswith("\n") or data is None,
    )


def without_auths(path: str, data: bytes, keys: Iterable[str]) -> bytes | None:
    """`data`, a version of Docker's config at `path`, with the `auths` entries `keys`
    removed and the rest as it was laid out; None when it cannot be read as one (then no
    copy of it may be kept)."""
    try:
        config = parse(path, data)
    except MalformedFile:
        return None
    auths = config.data.get("auths", {})
    if not any(key in auths for key in keys):
        return data
    content = dict(config.data)
    content["auths"] = {k: v for k, v in auths.items() if k not in set(keys)}
    return config.render(content)


def redact(text: str) -> str:
    """`text` (a config.json, or a diff of one) with the value of every secret key
    replaced, so that a diff can be shown without leaking a password."""
    keys = "|".join(SECRET_KEYS)
    return re.sub(
        rf'("(?i:{keys})"\s*:\s*)"(?:[^"\\]|\\.)*"',
        r'\1"<redacted>"',
        text,
    )

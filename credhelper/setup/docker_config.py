"""A careful editor of Docker's `config.json` (in `DOCKER_CONFIG`, default `~/.docker`).

We own only `credHelpers` entries whose value is "ecr-sso", and with `--clean-auths` we
remove `auths` entries for our registries; every other key keeps its value and its place
(JSON objects are read in order and written back in that order). `credsStore` is never
touched: it is the user's choice for every registry not listed in `credHelpers`.

Written back with the indentation the file had (that of its first indented line), or, for
a new or one-line file, as the docker CLI writes it: indented with one tab. A file we do
not change is not written at all, so its bytes stay exactly as they are.
"""

from __future__ import annotations

import json
import re
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
        """`data` laid out like this file."""
        text = json.dumps(data, indent=self.indent or "\t", ensure_ascii=False)
        if self.trailing_newline:
            text += "\n"
        return text.encode("utf-8")


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
            content = json.loads(text)
        except json.JSONDecodeError as err:
            raise MalformedFile(
                f"{path}, line {err.lineno} column {err.colno}: Docker's config is not"
                f" valid JSON: {err.msg}"
            ) from None
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


def redact(text: str) -> str:
    """`text` (a config.json, or a diff of one) with the value of every secret key
    replaced, so that a diff can be shown without leaking a password."""
    keys = "|".join(SECRET_KEYS)
    return re.sub(
        rf'("(?i:{keys})"\s*:\s*)"(?:[^"\\]|\\.)*"',
        r'\1"<redacted>"',
        text,
    )

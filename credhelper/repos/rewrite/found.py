"""What a scanner reports: where a reference is written in a file and how it is edited.
Pure values, and the reading of variables inside a reference's text.

Variables come in four spellings: the shell's and Dockerfile's `$X` / `${X}` (with
`${X:-default}` and its kin), GitHub's `${{ matrix.x }}`, Helm's and Jinja's `{{ ... }}`,
and GitLab components' `$[[ inputs.x ]]`. A reference may be:
- literal: `redis:7`;
- a fixed name with a variable tag or digest: `golang:${GO_VERSION}-alpine` (the name is
  edited, the rest kept byte for byte);
- a variable name, whole or before a tag: `$IMAGE`, `${{ matrix.db }}:16` (the scanner looks
  the variable up where the file defines it);
- anything else built from variables: unresolved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: How a reference's spans are edited.
WHOLE = "whole"  # the span holds the whole reference: it becomes the new reference
NAME = "name"  # the span holds the name only (tag elsewhere, or variable): the new name
REGISTRY_REPOSITORY = "registry+repository"  # Helm's pair: host, then the path
NEW_NAME = "new-name"  # kustomize: `newName: NEW` inserted (the span is empty)


@dataclass(frozen=True)
class Span:
    """Characters `start` to `end` of the file's text (Python string offsets)."""

    start: int
    end: int


@dataclass(frozen=True)
class Found:
    """One image reference in a file.

    `text` is the reference as written (for messages), `name` the image name to classify
    when `form` is not WHOLE (`golang` for `golang:${GO_VERSION}`). `spans` are where it is
    edited (see the forms above); `also` are places that must receive the same new name to
    stay in step (a kustomization's `images[].name`, a chart's annotation). `kind` is the
    file kind reported for it. `unresolved` is set when it is built from variables that
    cannot be followed: reported, never edited. `insert` is the text put before the new
    name by a NEW_NAME edit (a line break, indentation and `newName: `). `never_pulled` is
    set when the file says the image is never pulled (`imagePullPolicy: Never`): it is
    already where it runs, put there by the project, so it is reported as built here.
    """

    text: str
    spans: tuple[Span, ...]
    kind: str
    form: str = WHOLE
    name: str = ""
    unresolved: bool = False
    also: tuple[Span, ...] = ()
    insert: str = ""
    never_pulled: bool = False

    @property
    def start(self) -> int:
        """Where the reference starts, for its line number."""
        return min(span.start for span in self.spans)


_SHELL = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<modifier>[:?+=-][^}]*)?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)
_GITHUB = re.compile(r"\$\{\{\s*(?P<expr>[A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_INPUTS = re.compile(r"\$\[\[\s*inputs\.(?P<expr>[A-Za-z_][A-Za-z0-9_-]*)\s*\]\]")


def is_templated(text: str) -> bool:
    """Whether `text` is built from variables: shell/Dockerfile `$X`, `${X}`, GitHub's
    `${{ }}`, Helm's and Jinja's `{{ }}`, GitLab's `$[[ ]]`."""
    return "$" in text or "{{" in text


@dataclass(frozen=True)
class Variable:
    """A variable a reference is built from: its spelling (`shell`, `github`, `inputs`)
    and its name (`IMAGE`, `matrix.db`)."""

    syntax: str
    name: str


def leading_variable(text: str, *, then_variable: bool = False) -> tuple[Variable, str] | None:
    """(the variable, the rest) when `text` is one variable, alone or followed by a literal
    or templated tag or digest (`$IMAGE`, `${IMAGE}:1`, `${{ matrix.db }}:${{ matrix.v }}`):
    the variable holds the image's name. None otherwise. A shell variable with a modifier
    (`${X:-y}`) is not followed. With `then_variable`, the rest may also start with another
    variable (`$NAME$DIGEST`), for a caller that can tell what that one holds."""
    for syntax, pattern, group in (
        ("github", _GITHUB, "expr"),
        ("inputs", _INPUTS, "expr"),
        ("shell", _SHELL, ""),
    ):
        match = pattern.match(text)
        if match is None:
            continue
        if syntax == "shell":
            if match["modifier"]:
                return None
            name = match["braced"] or match["bare"]
        else:
            name = match[group]
        rest = text[match.end() :]
        if rest and rest[0] not in (":@$" if then_variable else ":@"):
            return None
        return Variable(syntax, name), rest
    return None


def fixed_name(text: str) -> str | None:
    """The literal image name of `text` when only its tag or digest is built from variables
    (`golang:${GO_VERSION}-alpine` gives `golang`, `moby/moby-bin:$V` gives
    `moby/moby-bin`); None when the name itself holds a variable or `text` holds none."""
    first = min((i for i in (text.find("$"), text.find("{{")) if i >= 0), default=-1)
    if first < 0:
        return None
    prefix = text[:first]
    slash = prefix.rfind("/")
    at = prefix.find("@", slash + 1)
    colon = prefix.find(":", slash + 1)
    ends = [i for i in (at, colon) if i > 0]
    return prefix[: min(ends)] if ends else None


def expand(text: str, values: dict[str, str]) -> str | None:
    """`text` with its shell and GitHub variables replaced by `values` (by name); None when
    one is missing or has a modifier. For classifying a reference whose registry comes
    from a variable (`${REGISTRY}/app` with `REGISTRY=ghcr.io/team`), never for editing."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        if match.groupdict().get("modifier"):
            missing = True
            return ""
        name = match.groupdict().get("expr") or match["braced"] or match["bare"]
        if name not in values:
            missing = True
            return ""
        return values[name]

    expanded = _SHELL.sub(value, _GITHUB.sub(value, text))
    return None if missing or is_templated(expanded) else expanded

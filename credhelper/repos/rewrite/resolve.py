"""A reference's text, as written at one place, made into `Found` values: literal, a fixed
name with a variable tag, a variable followed to where the file defines it, or unresolved.

Scanners say where a variable is defined (a Dockerfile's `ARG` defaults, a workflow's
matrix, a GitLab job's `variables:`) through a `Lookup`; this module applies the same rules
to all of them (see `found`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from credhelper.errors import UsageError
from credhelper.repos import imageref
from credhelper.repos.rewrite.found import (
    NAME,
    Found,
    Span,
    Variable,
    expand,
    fixed_name,
    is_templated,
    leading_variable,
)


@dataclass(frozen=True)
class Definition:
    """A value a variable may hold, and where it is written (`span` None: not editable in
    place, e.g. a block scalar, or in another file; `at` is then where to report it)."""

    value: str
    span: Span | None
    at: int = 0


#: Where a variable is defined: every value it may hold.
Lookup = Callable[[Variable], list[Definition]]

_VARIABLES = re.compile(
    r"\$\{\{\s*(?P<expr>[A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}"
    r"|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)
#: Variables inside variables: a bound, for files that define X as $Y and Y as $X.
_DEPTH = 8


def _none(_: Variable) -> list[Definition]:
    return []


def references(
    value: str, span: Span, kind: str, lookup: Lookup = _none, *, depth: int = 0
) -> list[Found]:
    """The references `value`, written at `span` of a file of `kind`, stands for."""
    if not is_templated(value):
        return [Found(value, (span,), kind)]
    leading = leading_variable(value, then_variable=True)
    if leading is not None and rest_is_a_suffix(leading[1], lookup) and depth < _DEPTH:
        variable, rest = leading
        definitions = lookup(variable)
        if definitions:
            found: list[Found] = []
            for definition in definitions:
                found += defined(definition, rest, kind, lookup, depth=depth + 1)
            return found
    name = fixed_name(value)
    if name is not None:
        return [Found(value, (Span(span.start, span.start + len(name)),), kind, NAME, name)]
    if _elsewhere(value, lookup):
        return []
    return [Found(value, (span,), kind, unresolved=True)]


def defined(
    definition: Definition, rest: str, kind: str, lookup: Lookup = _none, *, depth: int = 0
) -> list[Found]:
    """The references a variable's definition holds when a reference is that variable
    followed by `rest` (nothing, or a tag or digest)."""
    if definition.span is None:
        if _elsewhere(definition.value + rest, lookup):
            return []
        at = Span(definition.at, definition.at)
        return [Found(definition.value + rest, (at,), kind, unresolved=True)]
    if not rest:
        return references(definition.value, definition.span, kind, lookup, depth=depth)
    if is_templated(definition.value):
        # `$IMAGE:1` with IMAGE=${REGISTRY}/app: the name itself is built; follow no further.
        if _elsewhere(definition.value + rest, lookup):
            return []
        return [Found(definition.value + rest, (definition.span,), kind, unresolved=True)]
    text = definition.value + rest
    return [Found(text, (definition.span,), kind, NAME, definition.value)]


def rest_is_a_suffix(rest: str, lookup: Lookup) -> bool:
    """Whether what follows a variable that holds a name is a tag or digest (or nothing):
    written so, or another variable whose one definition is (`$NAME$DIGEST` with
    `DIGEST=@sha256:...`)."""
    if not rest.startswith("$"):
        return True
    expanded = expand(rest, _single_values(rest, lookup))
    return expanded is not None and expanded[:1] in (":", "@")


def _single_values(value: str, lookup: Lookup) -> dict[str, str]:
    """The variables of `value` that have exactly one literal definition, with it."""
    values: dict[str, str] = {}
    for match in _VARIABLES.finditer(value):
        syntax = "github" if match["expr"] else "shell"
        name = _name(match)
        definitions = lookup(Variable(syntax, name))
        if len(definitions) == 1 and not is_templated(definitions[0].value):
            values[name] = definitions[0].value
    return values


def _elsewhere(value: str, lookup: Lookup) -> bool:
    """Whether `value` names an image on a registry other than Docker Hub: its registry is
    written before the first variable (`gcr.io/$PROJECT_ID/app`), or it is once each variable
    is replaced by its one literal definition (`${REGISTRY}/app` with REGISTRY=ghcr.io/x).
    Then it is none of our business, not unresolved."""
    if _written_registry_elsewhere(value):
        return True
    values = _single_values(value, lookup)
    expanded = expand(value, values)
    if expanded is None:
        name = fixed_name(_VARIABLES.sub(lambda m: values.get(_name(m), m[0]), value))
        if name is None:
            return False
        expanded = name
    try:
        return not imageref.parse(expanded).docker_hub
    except UsageError:
        return False


def _written_registry_elsewhere(value: str) -> bool:
    """Whether the text before `value`'s first variable starts with a registry host that is
    not Docker Hub (a first path component Docker reads as a host: `gcr.io/`, `host:5000/`)."""
    first = min((i for i in (value.find("$"), value.find("{{")) if i >= 0), default=-1)
    host, slash, _ = value[: max(first, 0)].partition("/")
    if not slash or not host:
        return False
    try:
        ref = imageref.parse(f"{host}/image")
    except UsageError:
        return False
    return ref.host is not None and not ref.docker_hub


def _name(match: re.Match[str]) -> str:
    return str(match["expr"] or match["braced"] or match["bare"])

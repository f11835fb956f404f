"""YAML parsed only to learn where each value is written, and walked without ever visiting a
node twice.

libyaml (`yaml.CSafeLoader`) is used when PyYAML was built with it, the pure-Python loader
otherwise; both give the same node trees and the same character offsets (`start_mark.index`,
a test compares them over every fixture), once a byte-order mark is out of the way: the pure
loader counts it, libyaml does not, so it is read as the blank line it stands for.

A file from a repository may be hostile: PyYAML keeps an alias as the very node it names, so
a "billion laughs" file or an alias inside its own anchor is a small graph that a naive walk
visits exponentially often or forever. `walk` visits each (node, key) pair once, without
recursion. Nesting deeper than the parser allows (libyaml stops at 1000 levels, the pure
loader at Python's recursion limit) is `NotParsed`, and so is a file with more values than
any real one (each value costs a few hundred bytes once parsed: a 4 MiB file of `[a,a,a,…]`
would otherwise cost a gigabyte).

The CustomResourceDefinitions of a file are not parsed (`without_definitions`): a schema
holds no reference, and install bundles are mostly schemas.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Iterator
from typing import Any

import yaml

from credhelper.errors import UsageError

_BOM = "\ufeff"
#: Line breaks and commas (each value needs one of them before the next): the largest real
#: files seen (a 2 MB install manifest of many CRDs) have about 40,000.
MAX_SEPARATORS = 300_000

STR = "tag:yaml.org,2002:str"
#: A plain scalar whose tag is worked out only when asked (`is_string`).
LAZY = "tag:ecr-sso,2024:unresolved-plain"
Node = yaml.Node
ScalarNode = yaml.ScalarNode
MappingNode = yaml.MappingNode
SequenceNode = yaml.SequenceNode
# The first characters with which a plain scalar may be something other than a string
# (booleans, numbers, null, timestamps, the merge key `<<`, `=`): YAML 1.1's resolvers.
_TYPED_STARTS = frozenset("-+.0123456789~<=yYnNtTfFoO")


def _quick(base: Any) -> Any:
    """`base` with a lazy tag resolver: a plain scalar that cannot be anything but a string
    is one; any other plain scalar is LAZY, resolved by `is_string` only when a scanner
    looks at it. PyYAML's resolver runs regular expressions on every scalar, which costs
    more than libyaml's whole parse, and the scanners look at a few scalars only."""

    class Quick(base):  # type: ignore[misc]
        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is ScalarNode:
                if not implicit[0] or (value and value[0] not in _TYPED_STARTS):
                    return STR
                return LAZY
            return str(super().resolve(kind, value, implicit))

    return Quick


_LOADER: Any = _quick(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
_PURE: Any = _quick(yaml.SafeLoader)


class NotParsed(UsageError):
    """The file is not YAML we can read; the message says where."""


def documents(text: str, *, pure: bool = False) -> list[Node]:
    """The parsed documents' node trees; NotParsed when `text` is not YAML. `pure` asks
    for the pure-Python loader (for comparing the two)."""
    if text.count("\n") + text.count(",") > MAX_SEPARATORS:
        raise NotParsed(f"more than {MAX_SEPARATORS:,} values: not read")
    if text.startswith(_BOM):
        text = "\n" + text[1:]  # same length: every offset still points into the file's text
    text = without_definitions(text)
    try:
        return list(yaml.compose_all(text, Loader=_PURE if pure else _LOADER))
    except RecursionError:
        raise NotParsed("nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        if "maximum nesting depth" in problem:
            problem = "nested too deeply"
        raise NotParsed(f"{where}{problem}") from None


# A document marker alone on its line (a comment may follow), and a top-level `kind:`
# naming a CustomResourceDefinition.
_MARKER = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE)
_ANY_MARKER = re.compile(r"^(?:---|\.\.\.)", re.MULTILINE)
_DEFINITION = re.compile(
    r"^kind[ \t]*:[ \t]*([\"']?)CustomResourceDefinition\1[ \t]*(?:#[^\r\n]*)?\r?$", re.MULTILINE
)
# YAML's line breaks (YAML 1.1 counts NEL and the Unicode separators too).
_BREAKS = "\r\n\x85\u2028\u2029"
_LINE_BODY = re.compile(f"[^{_BREAKS}]+")


def without_definitions(text: str) -> str:
    """`text` with every CustomResourceDefinition document blanked: its characters but line
    breaks made spaces, so it parses as an empty document and every offset and line of
    the others stays as it was. A definition is a schema (its `image` keys are property
    names, never a reference), and in an install bundle it is most of the bytes: parsing
    it was most of the work. A document is only blanked when markers alone on their lines
    bound it and it says `kind: CustomResourceDefinition` at the top level; a directive
    line (`%YAML`) is kept for the document it introduces."""
    if "CustomResourceDefinition" not in text or any(c in text for c in _BREAKS[2:]):
        return text  # (documents split by rarer line breaks are parsed as they are)
    parts: list[str] = []
    start = 0
    for marker in itertools.chain(_MARKER.finditer(text), [None]):
        end = marker.start() if marker else len(text)
        chunk = text[start:end]
        if _DEFINITION.search(chunk) and not _ANY_MARKER.search(chunk):
            chunk = _LINE_BODY.sub(_blank, chunk)
        parts.append(chunk)
        if marker:
            parts.append(marker.group())
            start = marker.end()
    return "".join(parts)


def _blank(line: re.Match[str]) -> str:
    return line[0] if line[0].startswith("%") else " " * len(line[0])


def walk(root: Node, skip: Collection[str] = ()) -> Iterator[tuple[Node, str | None]]:
    """Every collection node under `root` (a mapping or sequence), each with the key it is
    the value of (None in a sequence or at the top), once per (node, key) however many
    aliases reach it; depth first, in document order. The values of the keys in `skip`
    are not entered."""
    seen: set[tuple[int, str | None]] = set()
    stack: list[tuple[Node, str | None]] = [(root, None)]
    while stack:
        node, key = stack.pop()
        if (id(node), key) in seen:
            continue
        seen.add((id(node), key))
        if isinstance(node, SequenceNode):
            yield node, key
            stack.extend((item, None) for item in reversed(node.value))
        elif isinstance(node, MappingNode):
            yield node, key
            stack.extend(
                (value, name)
                for name, value in ((key_of(k), v) for k, v in reversed(node.value))
                if name not in skip
            )


_RESOLVER = yaml.resolver.Resolver()


_NULL = "tag:yaml.org,2002:null"


def _resolved(node: ScalarNode) -> str:
    if node.tag == LAZY:
        node.tag = _RESOLVER.resolve(ScalarNode, node.value, (True, False))  # type: ignore[no-untyped-call]
    return str(node.tag)


def is_string(node: Node | None) -> bool:
    """Whether `node` is a string scalar (not a number, boolean, null or timestamp)."""
    return isinstance(node, ScalarNode) and _resolved(node) == STR


def text_of(node: Node | None) -> str:
    """A scalar's text as written (`1.4`, `v2`), empty for null (`~`, `null`) or anything
    that is not a scalar."""
    if not isinstance(node, ScalarNode) or _resolved(node) == _NULL:
        return ""
    return str(node.value)


def key_of(node: Node) -> str | None:
    """A mapping key's text when it is a plain scalar."""
    return node.value if isinstance(node, ScalarNode) else None


_MERGE = "tag:yaml.org,2002:merge"


def pairs(node: Node | None) -> dict[str, Node]:
    """A mapping node's values by their scalar keys (empty for any other node), with what
    its merge keys (`<<: *defaults`) bring in, its own keys first as YAML has it."""
    found: dict[str, Node] = {}
    seen: set[int] = set()
    queue = [node]
    while queue:
        current = queue.pop(0)
        if not isinstance(current, MappingNode) or id(current) in seen:
            continue
        seen.add(id(current))
        for key, value in current.value:
            if not isinstance(key, ScalarNode):
                continue
            if key.tag == _MERGE or (key.value == "<<" and not key.style):
                queue += value.value if isinstance(value, SequenceNode) else [value]
            else:
                found.setdefault(key.value, value)
    return found


def is_kubernetes(nodes: list[Node]) -> bool:
    """Whether any document is a Kubernetes object (has `apiVersion` and `kind`)."""
    return any({"apiVersion", "kind"} <= pairs(node).keys() for node in nodes)

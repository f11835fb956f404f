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
loader at Python's recursion limit) is `NotParsed`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from credhelper.errors import UsageError

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOM = "\ufeff"

STR = "tag:yaml.org,2002:str"
Node = yaml.Node
ScalarNode = yaml.ScalarNode
MappingNode = yaml.MappingNode
SequenceNode = yaml.SequenceNode


class NotParsed(UsageError):
    """The file is not YAML we can read; the message says where."""


def documents(text: str, *, pure: bool = False) -> list[Node]:
    """The parsed documents' node trees; NotParsed when `text` is not YAML. `pure` asks
    for the pure-Python loader (for comparing the two)."""
    if text.startswith(_BOM):
        text = "\n" + text[1:]  # same length: every offset still points into the file's text
    try:
        return list(yaml.compose_all(text, Loader=yaml.SafeLoader if pure else _LOADER))
    except RecursionError:
        raise NotParsed("nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        if "maximum nesting depth" in problem:
            problem = "nested too deeply"
        raise NotParsed(f"{where}{problem}") from None


def walk(root: Node) -> Iterator[tuple[Node, str | None]]:
    """Every collection node under `root` (a mapping or sequence), each with the key it is
    the value of (None in a sequence or at the top), once per (node, key) however many
    aliases reach it; depth first, in document order."""
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
            stack.extend((value, key_of(name)) for name, value in reversed(node.value))


def key_of(node: Node) -> str | None:
    """A mapping key's text when it is a plain scalar."""
    return node.value if isinstance(node, ScalarNode) else None


def pairs(node: Node) -> dict[str, Node]:
    """A mapping node's values by their scalar keys (empty for any other node)."""
    if not isinstance(node, MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}


def is_kubernetes(nodes: list[Node]) -> bool:
    """Whether any document is a Kubernetes object (has `apiVersion` and `kind`)."""
    return any({"apiVersion", "kind"} <= pairs(node).keys() for node in nodes)

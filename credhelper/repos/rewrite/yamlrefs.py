"""Image references in YAML files: compose, Kubernetes manifests, Helm values, GitHub
Actions workflows and GitLab CI.

The file is parsed (PyYAML's composer, which keeps each scalar's place in the text) only
to find where references are; the text is never re-serialised, so comments, quoting,
flow style and line endings stay as they are. A scalar is reported only when its text in
the file is exactly its value (plain or quoted without escapes): anything else (block
scalars, escapes, folded lines) is not an edit we can make safely.

Where references are:
- every kind: `image: REF`; `image:` / `repository:` + `tag:` (Helm's pair, with an
  optional `registry:`), the tag left where it is;
- GitHub Actions: `container: REF`, `uses: docker://REF` (services are `image:` keys);
- GitLab CI: `image: {name: REF}`, and `services:` items (`- REF` or `- name: REF`).
"""

from __future__ import annotations

from typing import Any

import yaml

from credhelper.repos.rewrite import yamlload
from credhelper.repos.rewrite.found import Found, Span, is_templated

GITHUB = "github-actions"
GITLAB = "gitlab-ci"
_DOCKER_SCHEME = "docker://"
_STR = yamlload.STR
NotParsed = yamlload.NotParsed
documents = yamlload.documents
is_kubernetes = yamlload.is_kubernetes


def scan(text: str, kind: str, nodes: list[Any] | None = None) -> list[Found]:
    """Every image reference in the YAML `text` of a file of `kind`, in order."""
    scanner = _Scanner(text, kind)
    for root in documents(text) if nodes is None else nodes:
        for node, key in yamlload.walk(root):
            scanner.visit(node, key)
    unique = {found.spans: found for found in scanner.found}
    return sorted(unique.values(), key=lambda found: found.start)


class _Scanner:
    def __init__(self, text: str, kind: str) -> None:
        self.text = text
        self.kind = kind
        self.found: list[Found] = []

    def visit(self, node: Any, key: str | None) -> None:
        if not isinstance(node, yaml.MappingNode):
            return
        pairs = {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        if isinstance(pairs.get("repository"), yaml.ScalarNode) and (
            key == "image" or "tag" in pairs or "digest" in pairs
        ):
            self._pair(pairs)
        if key == "image" and self.kind == GITLAB:
            self._add(pairs.get("name"))
        for key_node, value in node.value:
            self._keyed(yamlload.key_of(key_node), value)

    def _keyed(self, name: str | None, value: Any) -> None:
        """The references a key's own value holds."""
        if name == "image" or (name == "container" and self.kind == GITHUB):
            self._add(value)
        elif name == "uses" and self.kind == GITHUB:
            self._add(value, prefix=_DOCKER_SCHEME)
        elif name == "services" and self.kind == GITLAB and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.MappingNode):
                    self._add({k.value: v for k, v in item.value}.get("name"))
                else:
                    self._add(item)

    def _add(self, node: Any, prefix: str = "") -> None:
        found = self._scalar(node, prefix)
        if found is not None:
            self.found.append(found)

    def _scalar(self, node: Any, prefix: str = "") -> Found | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            return None
        start, end = node.start_mark.index, node.end_mark.index
        if node.style in ("'", '"'):
            start, end = start + 1, end - 1
        elif node.style:
            return None  # block scalars: never an image reference we could edit in place
        if self.text[start:end] != node.value or not node.value.startswith(prefix):
            return None
        start += len(prefix)
        value = self.text[start:end]
        if not value:
            return None
        return Found(value, (Span(start, end),), unresolved=is_templated(value))

    def _pair(self, pairs: dict[str, Any]) -> None:
        repository = self._scalar(pairs["repository"])
        if repository is None:
            return
        registry = self._scalar(pairs.get("registry"))
        name = (f"{registry.text}/" if registry else "") + repository.text
        suffix = ""
        for key, mark in (("tag", ":"), ("digest", "@")):
            node = pairs.get(key)
            if isinstance(node, yaml.ScalarNode) and node.value:
                suffix += mark + str(node.value)
        spans = (registry.spans + repository.spans) if registry else repository.spans
        self.found.append(
            Found(name + suffix, spans, name_only=True, unresolved=is_templated(name + suffix))
        )

"""Kustomize: a kustomization's `images:` entries, kept matching the manifests they
override.

An entry `{name: N, newName: M, newTag: T, digest: D}` makes kustomize replace every image
that matches N (kustomize's rule, `matches`) with M (or N) and T or D. So:
- `newName` M is a reference, edited in place like any other;
- when the project's manifests hold images that N matches and that are rewritten, N is
  renamed the same way (`redis` becomes `HOST/docker-hub/library/redis` in both places), so
  the entry still matches them and its tag or digest still applies;
- when none does (the manifests come from elsewhere: a remote base, a chart), the cluster
  pulls N itself: the edit is a `newName:` added after `name:`, so N keeps matching what
  it matched while the pull goes to ECR.

The scanner is told which manifest images exist and whether each is rewritten, so
kustomization files are read after every manifest (`files`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from credhelper.repos.rewrite import yamlload, yamlscan
from credhelper.repos.rewrite.found import NAME, NEW_NAME, Found, Span, is_templated
from credhelper.repos.rewrite.yamlload import MappingNode, Node, ScalarNode, SequenceNode

KIND = "kustomize"
FILE_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
_SUFFIX = re.compile(r"(?::[A-Za-z0-9_.{}-]*)?(?:@sha256:[A-Za-z0-9_.{}-]*)?")


def matches(image: str, name: str) -> bool:
    """Whether kustomize's `images[].name` `name` matches the image reference `image`:
    the same name, followed by nothing, a tag, or a sha256 digest."""
    return image.startswith(name) and _SUFFIX.fullmatch(image, len(name)) is not None


def scan(text: str, nodes: list[Node], manifests: Mapping[str, bool]) -> list[Found]:
    """The references the `images:` entries hold or must follow (see the module's
    docstring). `manifests` maps each image the project's manifests name (as written) to
    whether it is rewritten."""
    found: list[Found] = []
    for root in nodes:
        images = yamlload.pairs(root).get("images")
        if isinstance(images, SequenceNode):
            for item in images.value:
                found += _entry(text, item, manifests)
    return found


def _entry(text: str, item: Node, manifests: Mapping[str, bool]) -> list[Found]:
    keys = yamlload.pairs(item)
    suffix = ""
    for key, mark in (("newTag", ":"), ("digest", "@")):
        written = yamlload.text_of(keys.get(key))
        if written:
            suffix = mark + written  # a digest wins over a tag, as in kustomize
    found: list[Found] = []
    name_node = keys.get("name")
    where = yamlscan.place(text, name_node)
    if where is not None and not is_templated(where[0]):
        value, span = where
        matched = [rewritten for image, rewritten in manifests.items() if matches(image, value)]
        insertion = None
        if isinstance(item, MappingNode) and isinstance(name_node, ScalarNode):
            insertion = _insertion(text, item, name_node, span)
        if any(matched):
            found.append(Found(value, (span,), KIND, NAME, value))
        elif "newName" not in keys and insertion is not None:
            at, insert = insertion
            found.append(
                Found(value + suffix, (Span(at, at),), KIND, NEW_NAME, value, insert=insert)
            )
    if "newName" in keys:
        where = yamlscan.place(text, keys["newName"])
        if where is not None:
            value, span = where
            found.append(
                Found(value + suffix, (span,), KIND, NAME, value, unresolved=is_templated(value))
            )
    return found


def _insertion(
    text: str, mapping: MappingNode, name_node: ScalarNode, span: Span
) -> tuple[int, str] | None:
    """Where `newName: X` goes, and what comes before X: after the `name` value in a flow
    mapping, else on a line of its own after the `name` line, as indented as `name`; None
    when `name` comes from elsewhere (a merge key)."""
    if mapping.flow_style:
        end = span.end + (1 if name_node.style in ("'", '"') else 0)
        return end, ", newName: "
    key = next((k for k, v in mapping.value if v is name_node), None)
    if key is None:
        return None
    line_end = text.find("\n", span.end)
    line_end = len(text) if line_end < 0 else line_end
    newline = "\r\n" if text[line_end - 1 : line_end] == "\r" else "\n"
    at = line_end - 1 if newline == "\r\n" else line_end
    return at, f"{newline}{' ' * key.start_mark.column}newName: "

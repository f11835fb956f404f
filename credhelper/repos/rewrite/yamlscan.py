"""What every YAML scanner needs: a scalar's exact place in the text, the references it
holds, Helm's `registry`/`repository`/`tag` pair, and the generic walk that finds `image:`
keys anywhere (Kubernetes objects, Helm values).

A scalar is edited only when its text in the file is exactly its value (plain, or quoted
without escapes): a block scalar, an escape or a folded line is not an edit we can make
safely. The file is never re-serialised, so comments, quoting, flow style and line endings
stay as they are."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from credhelper.repos.rewrite import yamlload
from credhelper.repos.rewrite.found import NAME, REGISTRY_REPOSITORY, Found, Span, is_templated
from credhelper.repos.rewrite.resolve import Definition, Lookup, references
from credhelper.repos.rewrite.yamlload import MappingNode, Node, ScalarNode


def place(text: str, node: Node | None, prefix: str = "") -> tuple[str, Span] | None:
    """The value of the string scalar `node` and where it is written, when its text in
    the file is exactly its value and starts with `prefix` (which is left out)."""
    if not isinstance(node, ScalarNode) or not yamlload.is_string(node):
        return None
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("'", '"'):
        start, end = start + 1, end - 1
    elif node.style:
        return None  # block scalars: never a reference we could edit in place
    if text[start:end] != node.value or not node.value.startswith(prefix):
        return None
    start += len(prefix)
    if start >= end:
        return None
    return text[start:end], Span(start, end)


def definition(text: str, node: Node | None) -> Definition | None:
    """A variable's value at `node`, for a `Lookup`: editable when written exactly."""
    if not isinstance(node, ScalarNode):
        return None
    where = place(text, node)
    if where is not None:
        return Definition(where[0], where[1])
    return Definition(str(node.value), None, node.start_mark.index) if node.value else None


def refs(
    text: str, node: Node | None, kind: str, lookup: Lookup | None = None, prefix: str = ""
) -> list[Found]:
    """The references the scalar `node` holds (none when it is not one we can read)."""
    where = place(text, node, prefix)
    if where is None:
        return []
    value, span = where
    return references(value, span, kind, lookup) if lookup else references(value, span, kind)


def helm_pair(text: str, pairs: dict[str, Node], kind: str) -> Found | None:
    """Helm's image as `repository` (with an optional `registry`, a `tag` and `digest`
    kept where they are), when `pairs` is such a mapping's content."""
    repository = place(text, pairs.get("repository"))
    if repository is None:
        return None
    registry = place(text, pairs.get("registry"))
    suffix = ""
    for key, mark in (("tag", ":"), ("digest", "@")):
        value = yamlload.text_of(pairs.get(key))
        if value:
            suffix += mark + value
    name = (f"{registry[0]}/" if registry else "") + repository[0]
    spans = (registry[1], repository[1]) if registry else (repository[1],)
    form = REGISTRY_REPOSITORY if registry else NAME
    return Found(name + suffix, spans, kind, form, name, unresolved=is_templated(name))


def is_helm_pair(pairs: dict[str, Node], key: str | None) -> bool:
    """Whether a mapping is Helm's image pair: a `repository` scalar under an `image`
    key, or beside a `tag` or `digest`."""
    return isinstance(pairs.get("repository"), ScalarNode) and (
        key == "image" or "tag" in pairs or "digest" in pairs
    )


def image_keys(text: str, roots: list[Node], kind: str, skip: Collection[str] = ()) -> list[Found]:
    """Every `image: REF` and Helm pair anywhere under `roots`, but not under the keys in
    `skip`: how Kubernetes objects and Helm values hold images."""
    found: list[Found] = []
    for root in roots:
        for node, key in yamlload.walk(root, skip):
            if not isinstance(node, MappingNode) or not _may_hold_image(node, key):
                continue
            pairs = yamlload.pairs(node)
            here: list[Found] = []
            if is_helm_pair(pairs, key):
                pair = helm_pair(text, pairs, kind)
                if pair is not None:
                    here.append(pair)
            image = pairs.get("image")
            if image is not None:
                here += refs(text, image, kind)
            if here and never_pulled(pairs, _PULL_POLICY_KEYS, "Never"):
                here = [replace(item, never_pulled=True) for item in here]
            found += here
    return found


#: A container's `imagePullPolicy`, and the `pullPolicy` Helm charts put beside an image.
_PULL_POLICY_KEYS = ("imagePullPolicy", "pullPolicy")


def never_pulled(pairs: dict[str, Node], keys: Collection[str], never: str) -> bool:
    """Whether a mapping's pull policy (under one of `keys`) is `never`: the image is
    used from where it runs, never pulled."""
    return any(yamlload.text_of(pairs.get(key)) == never for key in keys)


_WORDS = frozenset({"image", "repository", "<<"})


def _may_hold_image(node: MappingNode, key: str | None) -> bool:
    """A quick look before `pairs`: whether a mapping has a key that could hold an image
    (most mappings of a large values file have none)."""
    return key == "image" or any(
        isinstance(name, ScalarNode) and name.value in _WORDS for name, _ in node.value
    )


def unique(found: list[Found]) -> list[Found]:
    """`found` in order of place, one per set of spans (aliases reach a place twice)."""
    by_spans = {item.spans: item for item in found}
    return sorted(by_spans.values(), key=lambda item: item.start)

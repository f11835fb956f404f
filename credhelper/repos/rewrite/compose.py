"""Compose files (and any YAML file shaped like one: a top-level `services:` mapping whose
entries have `image:` or `build:`, such as a swarm stack file).

References: `services.*.image` (unless `pull_policy: never`: the image is already on
the machine), and `docker-image://IMAGE` values of
`services.*.build.additional_contexts`. What the project learns from them (`Built`): a
service with both `build:` and `image:` builds that image (its name is the build's
output, not a pull), and `additional_contexts` names build contexts its Dockerfile may
use as `FROM NAME` or `COPY --from=NAME`."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field, replace

from credhelper.repos.rewrite import yamlload, yamlscan
from credhelper.repos.rewrite.found import Found, is_templated
from credhelper.repos.rewrite.yamlload import MappingNode, Node, ScalarNode, SequenceNode

KIND = "compose"
IMAGE_SCHEME = "docker-image://"


@dataclass
class Built:
    """What compose files say about the project's own builds."""

    images: list[str] = field(default_factory=list)  # image names the services build
    contexts: dict[str, set[str]] = field(default_factory=dict)  # Dockerfile -> context names
    args: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # Dockerfile -> args


def services(nodes: list[Node]) -> list[dict[str, Node]]:
    """The services of every document that is compose-shaped, each as its keys."""
    found = []
    for root in nodes:
        entries = yamlload.pairs(yamlload.pairs(root).get("services"))
        for service in entries.values():
            if isinstance(service, MappingNode):
                found.append(yamlload.pairs(service))
    return found


def is_compose(nodes: list[Node]) -> bool:
    """Whether a document has a top-level `services:` mapping whose entries have
    `image:` or `build:`."""
    return any("image" in keys or "build" in keys for keys in services(nodes))


def scan(text: str, nodes: list[Node]) -> list[Found]:
    """Every image reference in a compose file's services."""
    found: list[Found] = []
    for keys in services(nodes):
        image = yamlscan.refs(text, keys.get("image"), KIND)
        if yamlscan.never_pulled(keys, ("pull_policy",), "never"):
            image = [replace(item, never_pulled=True) for item in image]
        found += image
        build = yamlload.pairs(keys.get("build"))
        for value in _contexts(build.get("additional_contexts")).values():
            found += yamlscan.refs(text, value, KIND, prefix=IMAGE_SCHEME)
    return yamlscan.unique(found)


def learn(nodes: list[Node], folder: str, built: Built) -> None:
    """Add what the compose file in `folder` (its documents `nodes`) builds to `built`."""
    for keys in services(nodes):
        build = keys.get("build")
        if build is None:
            continue
        image = keys.get("image")
        if isinstance(image, ScalarNode) and image.value and not is_templated(image.value):
            built.images.append(str(image.value))
        if isinstance(build, ScalarNode):
            context, dockerfile = str(build.value), "Dockerfile"
        else:
            options = yamlload.pairs(build)
            context = _string(options.get("context")) or "."
            dockerfile = _string(options.get("dockerfile")) or "Dockerfile"
        if "://" in context:
            continue  # a remote context: its Dockerfile is not here
        path = posixpath.normpath(posixpath.join(folder, context, dockerfile))
        names = set(_contexts(yamlload.pairs(build).get("additional_contexts")))
        if names:
            built.contexts.setdefault(path, set()).update(name.lower() for name in names)
        for name, value in _args(yamlload.pairs(build).get("args")).items():
            built.args.setdefault(path, {}).setdefault(name, []).append(value)


def _contexts(node: Node | None) -> dict[str, Node]:
    """`additional_contexts` as name -> value node, in either of compose's forms (a
    mapping, or a list of `name=value`; a list's values cannot be edited in place)."""
    if isinstance(node, MappingNode):
        return yamlload.pairs(node)
    if isinstance(node, SequenceNode):
        return {
            str(item.value).partition("=")[0]: item
            for item in node.value
            if isinstance(item, ScalarNode) and "=" in str(item.value)
        }
    return {}


def _args(node: Node | None) -> dict[str, str]:
    """`build.args` in either of compose's forms (a mapping, or a list of `NAME=VALUE`)."""
    if isinstance(node, MappingNode):
        return {
            name: str(value.value)
            for name, value in yamlload.pairs(node).items()
            if isinstance(value, ScalarNode) and value.value
        }
    if isinstance(node, SequenceNode):
        return dict(
            str(item.value).partition("=")[::2]
            for item in node.value
            if isinstance(item, ScalarNode) and "=" in str(item.value)
        )
    return {}


def _string(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) and node.value else None

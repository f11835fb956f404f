"""Skaffold configs: `skaffold*.yaml`, or any YAML file whose `apiVersion` is `skaffold/...`
(documentation samples and `skaffold -f` configs have other names).

What the project learns from one: each `build.artifacts[]` entry (in profiles too) builds
its `image`, so that name is built here wherever it appears; an artifact built with a
Dockerfile (docker, the default, or kaniko) whose `requires[]` entries have an `alias`
receives each required image as the build argument the alias names (`FROM $BASE`), so the
Dockerfile's `$BASE` is an image built here too."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from credhelper.repos.rewrite import yamlload
from credhelper.repos.rewrite.yamlload import Node, ScalarNode, SequenceNode

_NAME = re.compile(r"skaffold(?:[.-][\w.-]+)?\.ya?ml", re.IGNORECASE)
_API = re.compile(r"(?:\A|\n)apiVersion[ \t]*:[ \t]*[\"']?skaffold/")
#: The builders that build from a Dockerfile, and pass `requires` aliases as build args.
_DOCKERFILE_BUILDERS = ("docker", "kaniko")
_OTHER_BUILDERS = frozenset({"bazel", "jib", "buildpacks", "custom", "ko"})


@dataclass(frozen=True)
class Artifact:
    """An image a skaffold config builds; for a Dockerfile build, the Dockerfile (relative
    to the config's folder) and the build arguments its `requires` aliases pass."""

    image: str
    dockerfile: str | None = None
    args: dict[str, str] = field(default_factory=dict)


def is_named(name: str) -> bool:
    """Whether a file name is a skaffold config's (`skaffold.yaml`, `skaffold-dev.yml`)."""
    return _NAME.fullmatch(name) is not None


def says_so(text: str) -> bool:
    """Whether a YAML file's text declares a skaffold config (a top-level `apiVersion:
    skaffold/...`); cheap, so that every YAML file can be asked."""
    return "skaffold/" in text and _API.search(text) is not None


def artifacts(nodes: list[Node]) -> list[Artifact]:
    """The artifacts of every skaffold document among `nodes`."""
    found = []
    for root in nodes:
        keys = yamlload.pairs(root)
        builds = [keys.get("build")]
        profiles = keys.get("profiles")
        if isinstance(profiles, SequenceNode):
            builds += [yamlload.pairs(p).get("build") for p in profiles.value]
        for build in builds:
            entries = yamlload.pairs(build).get("artifacts")
            if isinstance(entries, SequenceNode):
                found += [a for a in map(_artifact, entries.value) if a is not None]
    return found


def _artifact(node: Node) -> Artifact | None:
    keys = yamlload.pairs(node)
    image = _text(keys.get("image"))
    if not image:
        return None
    builder = next((b for b in _DOCKERFILE_BUILDERS if b in keys), None)
    if builder is None and _OTHER_BUILDERS & keys.keys():
        return Artifact(image)
    options = yamlload.pairs(keys.get(builder)) if builder else {}
    context = _text(keys.get("context")) or "."
    dockerfile = posixpath.join(context, _text(options.get("dockerfile")) or "Dockerfile")
    args = {}
    requires = keys.get("requires")
    for entry in requires.value if isinstance(requires, SequenceNode) else []:
        required = yamlload.pairs(entry)
        alias, name = _text(required.get("alias")), _text(required.get("image"))
        if alias and name:
            args[alias] = name
    return Artifact(image, dockerfile, args)


def _text(node: Node | None) -> str:
    return str(node.value) if isinstance(node, ScalarNode) and node.value else ""

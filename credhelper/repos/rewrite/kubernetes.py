"""Kubernetes objects (any YAML document with `apiVersion` and `kind`): every `image:` key
(containers, init and ephemeral containers, and custom resources that name an image their
operator pulls), and Helm's `repository`/`tag` pair where a custom resource embeds chart
values.

Not images: a CustomResourceDefinition's `image` keys (schema property names), anything
under `status:` (what a cluster recorded, never pulled), and `volumes:` (an RBD volume's
`image:` names a disk). Not pulls: a container's image with `imagePullPolicy: Never` (a
test loads it onto the node first): reported as built here."""

from __future__ import annotations

from credhelper.repos.rewrite import yamlload, yamlscan
from credhelper.repos.rewrite.found import Found
from credhelper.repos.rewrite.yamlload import Node, ScalarNode

KIND = "kubernetes"
_CRD = "CustomResourceDefinition"


def objects(nodes: list[Node]) -> list[Node]:
    """The documents that are Kubernetes objects, CRDs left out."""
    found = []
    for root in nodes:
        keys = yamlload.pairs(root)
        kind = keys.get("kind")
        if "apiVersion" in keys and isinstance(kind, ScalarNode) and kind.value != _CRD:
            found.append(root)
    return found


_NOT_PULLED = frozenset({"status", "volumes"})


def scan(text: str, nodes: list[Node]) -> list[Found]:
    """Every image reference in the Kubernetes objects among `nodes`."""
    return yamlscan.unique(yamlscan.image_keys(text, objects(nodes), KIND, _NOT_PULLED))

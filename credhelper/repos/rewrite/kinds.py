"""Which files hold image references, and which scanner reads each: by the file's name,
and for other YAML files by whether they are Kubernetes objects."""

from __future__ import annotations

import posixpath
import re

from credhelper.repos.rewrite import dockerfile, yamlrefs
from credhelper.repos.rewrite.found import Found

DOCKERFILE = "dockerfile"
COMPOSE = "compose"
GITHUB = yamlrefs.GITHUB
GITLAB = yamlrefs.GITLAB
HELM = "helm-values"
KUBERNETES = "kubernetes"
#: Any other YAML file: scanned when a document in it is a Kubernetes object.
YAML = "yaml"

_DOCKERFILE = re.compile(r"(?:docker|container)file(?:\..+)?|.+\.(?:docker|container)file", re.S)
# `Dockerfile.prod` is a Dockerfile; `Dockerfile.md` is its documentation, `.orig` a leftover.
_NOT_DOCKERFILE = re.compile(r".+\.(?:md|rst|txt|adoc|html|orig|rej|bak|swp|sh|py|json)", re.S)
_COMPOSE = re.compile(r"(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml")
_HELM = re.compile(r"values(?:[.-][\w.-]+)?\.ya?ml")
_GITLAB = re.compile(r"(?:.+\.)?\.?gitlab-ci\.ya?ml", re.S)
_YAML = re.compile(r".+\.ya?ml", re.S)


def kind_of(path: str) -> str | None:
    """The kind of file at `path` (a relative path, `/`-separated), or None: not one we read."""
    name = posixpath.basename(path).lower()
    if _DOCKERFILE.fullmatch(name) and not _NOT_DOCKERFILE.fullmatch(name):
        return DOCKERFILE
    if not _YAML.fullmatch(name):
        return None
    if "/.github/workflows/" in "/" + path:
        return GITHUB
    if _GITLAB.fullmatch(name):
        return GITLAB
    if _COMPOSE.fullmatch(name):
        return COMPOSE
    if _HELM.fullmatch(name):
        return HELM
    return YAML


def scan(kind: str, text: str) -> list[Found]:
    """The references in `text`, a file of `kind`. A file named as one of our YAML kinds
    that does not parse is a `yamlrefs.NotParsed`; any other YAML file that does not parse
    (a Helm template, say) or is not a Kubernetes object has none."""
    if kind == DOCKERFILE:
        return dockerfile.scan(text)
    if kind != YAML:
        return yamlrefs.scan(text, kind)
    try:
        nodes = yamlrefs.documents(text)
    except yamlrefs.NotParsed:
        return []
    if not yamlrefs.is_kubernetes(nodes):
        return []
    return yamlrefs.scan(text, KUBERNETES, nodes)

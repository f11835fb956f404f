"""Which files hold image references, and which scanner reads each: by the file's name and
place (with the project's facts: charts, pipelines), and for any other YAML file by its
content (compose-shaped, or Kubernetes objects).

A cheap look at the text comes first: a file that does not even contain a word that could
hold a reference (`image`, `repository`, `images`) is not parsed. Any other YAML file is
parsed only when a line starts with `apiVersion:` or `services:` (a Kubernetes object or a
compose file needs one at the top level), or the file is in flow style (`{...}`): an
OpenAPI description that mentions an image is not read. A CustomResourceDefinition file is
not read either: its `image` keys are schema properties."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping

from credhelper.repos.rewrite import (
    bake,
    compose,
    dockerfile,
    github,
    gitlab,
    helm,
    kubernetes,
    kustomize,
    yamlload,
)
from credhelper.repos.rewrite.found import Found
from credhelper.repos.rewrite.project import Facts
from credhelper.repos.rewrite.sources import Sources

DOCKERFILE = dockerfile.KIND
BAKE = bake.KIND
COMPOSE = compose.KIND
GITHUB = github.KIND
GITLAB = gitlab.KIND
HELM_VALUES = helm.VALUES_KIND
HELM_TEMPLATE = helm.TEMPLATE_KIND
CHART = helm.ANNOTATIONS_KIND
KUSTOMIZE = kustomize.KIND
KUBERNETES = kubernetes.KIND
#: Any other YAML file: scanned when it is compose-shaped or holds Kubernetes objects.
YAML = "yaml"
#: The kinds whose files are read because of their name: one that cannot be read or
#: parsed is reported (any other YAML file may be anything, and is skipped quietly).
NAMED = frozenset({DOCKERFILE, BAKE, COMPOSE, GITHUB, GITLAB, HELM_VALUES, CHART, KUSTOMIZE})

_DOCKERFILE = re.compile(r"(?:docker|container)file(?:\..+)?|.+\.(?:docker|container)file", re.S)
# `Dockerfile.prod` is a Dockerfile; `Dockerfile.md` is its documentation, `.orig` a leftover.
_NOT_DOCKERFILE = re.compile(r".+\.(?:md|rst|txt|adoc|html|orig|rej|bak|swp|sh|py|json)", re.S)
_COMPOSE = re.compile(r"(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml")
_HELM = re.compile(r"values(?:[.-][\w.-]+)?\.ya?ml")
_YAML = re.compile(r".+\.ya?ml", re.S)
_TEMPLATE = re.compile(r".+\.(?:ya?ml|tpl)", re.S)

# The cheap look: the words a reference needs, by kind.
_WORDS = {
    HELM_VALUES: re.compile(r"image|repository"),
    HELM_TEMPLATE: re.compile(r"image"),
    CHART: re.compile(r"images"),
    KUSTOMIZE: re.compile(r"images"),
    YAML: re.compile(r"image|services"),
}
# A leading line break instead of `^`: Python's engine then skips to each candidate.
_TOP_KIND = re.compile(r"\nkind[ \t]*:[ \t]*[\"']?([A-Za-z]+)")
_TOP_API = re.compile(r"\napiVersion[ \t]*:")
_TOP_KEYS = re.compile(r"\n(?:---[ \t]+)?[\"']?(?:apiVersion|services)[\"']?[ \t]*:")


def kind_of(path: str, facts: Facts | None = None) -> str | None:
    """The kind of file at `path` (`/`-separated), or None: not one we read."""
    facts = facts or Facts()
    name = posixpath.basename(path)
    lower = name.lower()
    if _DOCKERFILE.fullmatch(lower) and not _NOT_DOCKERFILE.fullmatch(lower):
        return DOCKERFILE
    if bake.FILE_NAME.fullmatch(name):
        return BAKE
    if facts.is_chart_template(path):
        return HELM_TEMPLATE if _TEMPLATE.fullmatch(lower) else None
    if name in kustomize.FILE_NAMES:
        return KUSTOMIZE
    if not _YAML.fullmatch(lower):
        return None
    if "/.github/workflows/" in "/" + path or github.is_action(name):
        return GITHUB
    if path in facts.pipelines or gitlab.is_gitlab(name):
        return GITLAB
    if name == "Chart.yaml":
        return CHART
    if _COMPOSE.fullmatch(lower):
        return COMPOSE
    if _HELM.fullmatch(lower) or facts.is_chart_ci_values(path):
        return HELM_VALUES
    return YAML


def worth_parsing(kind: str, text: str) -> bool:
    """Whether a file of `kind` could hold a reference at all (see the module docstring)."""
    words = _WORDS.get(kind)
    if words is not None and words.search(text) is None:
        return False
    if kind == YAML:
        lines = "\n" + text
        if _TOP_KEYS.search(lines) is None and text.lstrip()[:1] not in ("{", "["):
            return False
        kinds = _TOP_KIND.findall(lines)
        only_crds = kinds and all(k == "CustomResourceDefinition" for k in kinds)
        if only_crds and len(kinds) == len(_TOP_API.findall(lines)) and "{" not in text[:1]:
            return False
    return True


def scan(
    kind: str, path: str, sources: Sources, facts: Facts, manifests: Mapping[str, bool]
) -> tuple[str, list[Found]]:
    """(the kind to report, the references) of the file at `path`. A file of a kind named
    for it that does not parse is `yamlload.NotParsed`; any other YAML file that does not
    parse, or is neither compose-shaped nor Kubernetes, has none. `manifests` maps the
    images of the manifests read so far to whether each is rewritten (for kustomize)."""
    text = sources.text(path).text
    if kind == DOCKERFILE:
        return kind, dockerfile.scan(text, facts.contexts_for(path), facts.args_for(path))
    if kind == BAKE:
        return kind, bake.read(text).found
    if kind == HELM_TEMPLATE:
        return kind, helm.template(text)
    if kind == YAML:
        try:
            nodes = sources.documents(path)
        except yamlload.NotParsed:
            return kind, []
        if compose.is_compose(nodes):
            return COMPOSE, compose.scan(text, nodes)
        return KUBERNETES, kubernetes.scan(text, nodes)
    nodes = sources.documents(path)
    if kind == COMPOSE:
        return kind, compose.scan(text, nodes)
    if kind == GITHUB:
        return kind, github.scan(text, nodes, path, facts.reusable)
    if kind == GITLAB:
        return kind, gitlab.scan(text, nodes, facts.pipelines.get(path) or gitlab.Pipeline())
    if kind == KUSTOMIZE:
        return kind, kustomize.scan(text, nodes, manifests)
    if kind == CHART:
        return kind, helm.chart_images(text, nodes)
    return kind, helm.values(text, nodes)

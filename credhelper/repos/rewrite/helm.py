"""Helm charts: values files, templates, and the image list of `Chart.yaml`.

- values (`values*.yaml`, and every YAML file under a chart's `ci/`, which chart-testing
  installs as values): `image: REF`, and `repository` with an optional `registry`, the
  `tag` and `digest` left where they are (beside `pullPolicy: Never`, built here);
- templates (`templates/**.yaml`, `*.tpl`): they are text for Go's template engine, not
  YAML, so they are never parsed; a line `image: NAME[:TAG]` whose name is literal is
  found and its name edited in place (`image: {{ .Values.x }}` takes its value from the
  values file, which is read);
- `Chart.yaml` `annotations:` `images:` or `artifacthub.io/images:` (the list Artifact Hub
  shows, which charts check against their values): each `image:` of the list, edited
  inside the block by the same rule as the values it names, so the two stay in step.
"""

from __future__ import annotations

import re

from credhelper.repos.rewrite import yamlload, yamlscan
from credhelper.repos.rewrite.found import NAME, Found, Span, fixed_name, is_templated
from credhelper.repos.rewrite.yamlload import Node, ScalarNode

VALUES_KIND = "helm-values"
TEMPLATE_KIND = "helm-template"
ANNOTATIONS_KIND = "chart-annotations"

# Matched from a line's start to its end (`match` with bounds, not `^`/`$` over the file).
_IMAGE_LINE = re.compile(
    r"[ \t]*(?:-[ \t]+)*image[ \t]*:[ \t]*(?P<quote>[\"']?)"
    r"(?P<value>(?:\{\{[^\n]*?\}\}|[^\s\"'#{])+)(?P=quote)"
    r"[ \t]*(?:#[^\n]*)?\r?"
)
#: Bitnami's key, and Artifact Hub's.
_ANNOTATION_KEYS = ("images", "artifacthub.io/images")
_IMAGE_KEY = re.compile(r"image[ \t]*:")


def values(text: str, nodes: list[Node]) -> list[Found]:
    """Every image reference in a Helm values file."""
    return yamlscan.unique(yamlscan.image_keys(text, nodes, VALUES_KIND))


def template(text: str) -> list[Found]:
    """The literal images on `image:` lines of a Helm template (text, never YAML)."""
    return _image_lines(text, 0, len(text), TEMPLATE_KIND, templated_ok=True)


def chart_images(text: str, nodes: list[Node]) -> list[Found]:
    """The images listed in `annotations: images:` of a `Chart.yaml`."""
    found: list[Found] = []
    for root in nodes:
        annotations = yamlload.pairs(yamlload.pairs(root).get("annotations"))
        for key in _ANNOTATION_KEYS:
            found += _annotation(text, annotations.get(key))
    return found


def _annotation(text: str, block: Node | None) -> list[Found]:
    """The images of one annotation holding a YAML list in a block scalar."""
    found: list[Found] = []
    if isinstance(block, ScalarNode) and block.style in ("|", ">"):
        try:
            listed = _listed_images(yamlload.documents(str(block.value)))
        except yamlload.NotParsed:
            return []
        start, end = block.start_mark.index, block.end_mark.index
        found += [
            item
            for item in _image_lines(text, start, end, ANNOTATIONS_KIND, templated_ok=False)
            if item.text in listed
        ]
    return found


def _listed_images(nodes: list[Node]) -> set[str]:
    images = set()
    for root in nodes:
        for node, _ in yamlload.walk(root):
            image = yamlload.pairs(node).get("image")
            if isinstance(image, ScalarNode):
                images.add(str(image.value))
    return images


def _image_lines(text: str, start: int, end: int, kind: str, *, templated_ok: bool) -> list[Found]:
    found = []
    for key in _IMAGE_KEY.finditer(text, start, end):
        line_start = text.rfind("\n", 0, key.start()) + 1
        line_end = text.find("\n", key.end())
        line_end = end if line_end < 0 or line_end > end else line_end
        match = _IMAGE_LINE.fullmatch(text, max(line_start, start), line_end)
        if match is None:
            continue
        value = match["value"]
        span = Span(match.start("value"), match.end("value"))
        if not is_templated(value):
            found.append(Found(value, (span,), kind))
            continue
        name = fixed_name(value)
        if name is not None and templated_ok:
            found.append(
                Found(value, (Span(span.start, span.start + len(name)),), kind, NAME, name)
            )
    return found

"""How rewrite parses YAML: the CustomResourceDefinitions of an install bundle are not
parsed (argo-cd's `manifests/install.yaml`: 1.9 MB, nearly all of it three CRDs, took most
of a `--check`), yet every other document, its offsets and its lines are as before."""

from __future__ import annotations

import pytest
import yaml

from credhelper.repos.rewrite import yamlload

CRD = (
    "apiVersion: apiextensions.k8s.io/v1\n"
    "kind: CustomResourceDefinition\n"
    "metadata:\n  name: widgets.example.com\n"
    "spec:\n  versions:\n    - schema:\n        openAPIV3Schema:\n          properties:\n"
    "            image:\n              type: string\n"
    "              example: {image: nginx:1.25}\n"
)
DEPLOYMENT = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
    "spec:\n  template:\n    spec:\n      containers:\n        - name: web\n"
    "          image: nginx:1.25\n"
)


def _image_lines(nodes: list[yaml.Node]) -> list[int]:
    lines = []
    for root in nodes:
        for node, _ in yamlload.walk(root):
            image = yamlload.pairs(node).get("image")
            if isinstance(image, yaml.ScalarNode) and image.value == "nginx:1.25":
                lines.append(image.start_mark.line + 1)
    return lines


@pytest.mark.parametrize(
    "text",
    [
        f"{CRD}---\n{DEPLOYMENT}",
        f"---\n{DEPLOYMENT}--- # the schema\n{CRD}...\n",
        f"{DEPLOYMENT}---\n" + CRD.replace("Definition\n", "Definition  # v1\n"),
        f"{CRD}---\r\n{DEPLOYMENT}".replace("\n", "\r\n").replace("\r\r", "\r"),
        # A directive for the next document stays.
        f"{CRD}%YAML 1.1\n---\n{DEPLOYMENT}",
    ],
)
def test_a_definition_is_an_empty_document_and_the_rest_is_unchanged(text: str) -> None:
    nodes = yamlload.documents(text)

    # (An empty first document without a marker is no document at all.)
    kinds = [yamlload.text_of(yamlload.pairs(n).get("kind")) for n in nodes]
    assert kinds in (["Deployment"], ["Deployment", ""])
    deployment = next(n for n in nodes if yamlload.pairs(n))
    image = [n for n, _ in yamlload.walk(deployment) if "image" in yamlload.pairs(n)]
    value = yamlload.pairs(image[0])["image"]
    assert text[value.start_mark.index : value.end_mark.index] == "nginx:1.25"
    written = text.splitlines().index("          image: nginx:1.25") + 1
    assert _image_lines(nodes) == [written]
    assert len(_image_lines(list(yaml.compose_all(text)))) == 2  # the schema's example too


@pytest.mark.parametrize(
    "text",
    [
        # A definition and another object in one document marker's reach: both parsed.
        f"{CRD}--- !!map\n{DEPLOYMENT}",
        # A line break YAML 1.1 knows but a regular expression's `^` does not.
        f"{CRD}---\n# note\u2028\n{DEPLOYMENT}",
        # A mapping that only mentions the word.
        "kind: Widget\nspec:\n  note: CustomResourceDefinition\n  image: nginx:1.25\n",
    ],
)
def test_anything_else_is_parsed_as_written(text: str) -> None:
    nodes = yamlload.documents(text)

    assert _image_lines(nodes) == _image_lines(list(yaml.compose_all(text)))
    if "--- !!map" in text:
        assert yamlload.text_of(yamlload.pairs(nodes[0]).get("kind")) == (
            "CustomResourceDefinition"
        )

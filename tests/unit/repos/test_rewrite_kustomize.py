"""Kustomize's `images:` after a rewrite: the overrides still match what they matched, and
what kustomize produces is what it produced before with each Docker Hub image moved to ECR.
Checked by applying kustomize's own matching rule to the golden kustomize case (the
integration test `test_rewrite_kustomize` asks the real `kubectl kustomize` too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rewritedest import HOST, moved

from credhelper.repos import imageref
from credhelper.repos.rewrite import kustomize

CASE = Path(__file__).parents[2] / "golden" / "rewrite" / "kustomize"
BUILDS = ["kustomize/base", "kustomize/overlays/prod"]


@pytest.mark.parametrize(
    ("image", "name", "matched"),
    [
        ("redis", "redis", True),
        ("redis:7", "redis", True),
        ("redis@sha256:" + "a" * 64, "redis", True),
        ("redis:7@sha256:" + "a" * 64, "redis", True),
        ("redis-cart:7", "redis", False),
        ("library/redis:7", "redis", False),  # kustomize compares text, not registries
        ("docker.io/library/redis", "redis", False),
        (f"{HOST}/docker-hub/library/redis:7", f"{HOST}/docker-hub/library/redis", True),
        ("my/app:{{.tag}}", "my/app", True),  # Bazel-style tag templates
        ("my/app:{{ .tag }}", "my/app", False),
    ],
)
def test_kustomize_matching_rule(image: str, name: str, matched: bool) -> None:
    assert kustomize.matches(image, name) is matched


def _images_of(manifest: Any) -> list[str]:
    """The container images of a manifest's pod spec (what kustomize's images transformer
    edits)."""
    found = []
    stack = [manifest]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in ("containers", "initContainers"):
                found += [c["image"] for c in node.get(key, []) if "image" in c]
            stack += [v for k, v in node.items() if k not in ("containers", "initContainers")]
        elif isinstance(node, list):
            stack += node
    return found


def _entry_applied(image: str, entries: list[dict[str, str]]) -> str:
    for entry in entries:
        if kustomize.matches(image, entry["name"]):
            name, suffix = image[: len(entry["name"])], image[len(entry["name"]) :]
            if "newTag" in entry:
                suffix = f":{entry['newTag']}"
            if "digest" in entry:
                suffix = f"@{entry['digest']}"
            return entry.get("newName", name) + suffix
    return image


def _build(root: Path, folder: str) -> list[str]:
    """The images `kustomize build folder` puts in its output, by kustomize's rules:
    resources (files, or folders built in turn), then the components' `images:`, then
    the kustomization's own."""
    kustomization = yaml.safe_load((root / folder / "kustomization.yaml").read_text())
    images: list[str] = []
    for resource in kustomization.get("resources", []):
        path = root / folder / resource
        if path.is_dir():
            images += _build(root, str(path.relative_to(root)))
        else:
            for document in yaml.safe_load_all(path.read_text()):
                images += _images_of(document)
    for component in kustomization.get("components", []):
        entries = yaml.safe_load((root / folder / component / "kustomization.yaml").read_text())
        images = [_entry_applied(i, entries.get("images", [])) for i in images]
    return [_entry_applied(i, kustomization.get("images", [])) for i in images]


@pytest.mark.parametrize("folder", BUILDS)
def test_kustomize_builds_the_same_images_moved_to_ecr(folder: str) -> None:
    before = _build(CASE / "input", folder)
    after = _build(CASE / "expected", folder)

    assert before  # the case builds something
    assert after == [moved(image) for image in before]
    assert all(not imageref.parse(image).docker_hub for image in after)


def test_the_overrides_still_apply() -> None:
    # The base pins redis to 7.2-alpine, the overlay sends the app to its prod image and
    # the component busybox to a mirror: each still does after the rewrite.
    assert sorted(_build(CASE / "expected", "kustomize/overlays/prod")) == sorted(
        [
            f"{HOST}/app-prod:1.5",
            "mirror.gcr.io/library/busybox:1.36",
            f"{HOST}/docker-hub/library/redis:7.2-alpine",
        ]
    )

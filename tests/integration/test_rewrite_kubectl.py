"""The golden kustomize case built by the real `kubectl kustomize` before and after the
rewrite: the same objects, with each Docker Hub image moved to ECR and every override
(`newName`, `newTag`) still applied. Skipped where kubectl is not installed (Debian 12 does
not package it; the pure twin of this test applies kustomize's matching rule)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import rewritedest
import yaml

CASE = Path(__file__).parents[1] / "golden" / "rewrite" / "kustomize"


def _kustomized(root: Path, folder: str) -> list[object]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    built = subprocess.run(
        [kubectl, "kustomize", str(root / folder)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert built.returncode == 0, built.stderr
    return list(yaml.safe_load_all(built.stdout))


def _moved(node: object) -> object:
    """`node` with every container image on Docker Hub moved as the rewrite moves it."""
    if isinstance(node, dict):
        moved = {k: _moved(v) for k, v in node.items()}
        image = node.get("image")
        if isinstance(image, str) and ("containers" not in node) and "name" in node:
            moved["image"] = rewritedest.moved(image)
        return moved
    if isinstance(node, list):
        return [_moved(item) for item in node]
    return node


@pytest.mark.parametrize("folder", ["kustomize/base", "kustomize/overlays/prod"])
def test_kubectl_kustomize_builds_the_same_objects_with_images_in_ecr(folder: str) -> None:
    before = _kustomized(CASE / "input", folder)
    after = _kustomized(CASE / "expected", folder)

    assert after == _moved(before)
    assert after != before

"""The rewrite benchmark's generated chart repository: reproducible, valid YAML where a
chart repository has YAML, and shaped as the benchmark says (both chart styles, CRDs
without image references, Docker Hub references planted where it records them)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import scriptfile
import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return scriptfile.load(scriptfile.REPO / "bench" / "rewrite_bench.py")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_the_same_seed_writes_the_same_bytes(bench: ModuleType, tmp_path: Path) -> None:
    first = bench.write_tree(_mkdir(tmp_path / "a"), 6, 3, 0.05)
    bench.write_tree(_mkdir(tmp_path / "b"), 6, 3, 0.05)
    bench.write_tree(_mkdir(tmp_path / "c"), 6, 4, 0.05)

    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "c")
    assert first.files == len(_files(tmp_path / "a"))
    assert first.bytes == sum(len(b.decode()) for b in _files(tmp_path / "a").values())


def _image_strings(node: Any) -> list[str]:
    """Every string value of an `image` key anywhere in a parsed document."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                found.append(value)
            found += _image_strings(value)
    elif isinstance(node, list):
        for item in node:
            found += _image_strings(item)
    return found


def test_the_tree_is_a_chart_repository(bench: ModuleType, tmp_path: Path) -> None:
    root = _mkdir(tmp_path / "charts")
    shape = bench.write_tree(root, 16, 17, 0.05)
    charts = sorted(p.parent for p in root.glob("charts/*/Chart.yaml"))

    assert len(charts) == 16
    assert shape.crd_files > 0
    assert any((c / "ci").is_dir() for c in charts)  # the lean style
    assert any((c / "CHANGELOG.md").is_file() for c in charts)  # the commented style
    for path in root.rglob("*.yaml"):
        relative = path.relative_to(root).as_posix()
        if "/templates/" in relative and "crds" not in relative:
            continue  # Helm templates are not YAML
        documents = [d for d in yaml.load_all(path.read_text(), Loader=_LOADER) if d is not None]
        assert documents, relative
        if "crd" in relative and not relative.endswith("Chart.yaml"):
            assert {d["kind"] for d in documents} == {"CustomResourceDefinition"}
            assert _image_strings(documents) == [], relative  # `image` here is a schema


def test_planted_references_are_where_the_shape_says(bench: ModuleType, tmp_path: Path) -> None:
    root = _mkdir(tmp_path / "charts")
    shape = bench.write_tree(root, 10, 5, 0.05)

    assert len(shape.planted) > 10
    for relative, line in shape.planted:
        text = (root / relative).read_text().splitlines()[line - 1].strip()
        key, _, value = text.partition(": ")
        assert relative.endswith("/values.yaml")
        assert (key, value) == ("registry", "docker.io") or (
            key == "repository" and "." not in value.split("/")[0]
        ), text

"""`ecr-sso rewrite --check` fails on each class of Docker Hub reference the gate used to let
through (issue 17, item 2), and passes after `--write`; a second `--write` changes
nothing. Each class is a repository of its own, as small as the class allows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import Env
from ecrbed import Cli, cli_fixture  # noqa: F401 - fixture

HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
HUB = f"{HOST}/docker-hub"

CLASSES: dict[str, tuple[dict[str, str], list[str]]] = {
    "fixed name, variable tag": (
        {"Dockerfile": "ARG GO_VERSION=1.23\nFROM golang:${GO_VERSION}-alpine\n"},
        [
            "Dockerfile:2: golang:${GO_VERSION}-alpine →"
            f" {HUB}/library/golang:${{GO_VERSION}}-alpine"
        ],
    ),
    "syntax directive": (
        {"Dockerfile": "# syntax=docker/dockerfile:1.4\nFROM scratch\n"},
        [f"Dockerfile:1: docker/dockerfile:1.4 → {HUB}/docker/dockerfile:1.4"],
    ),
    "RUN --mount=from=": (
        {"Dockerfile": "FROM scratch\nRUN --mount=from=busybox:1.36,target=/b /b/ls\n"},
        [f"Dockerfile:2: busybox:1.36 → {HUB}/library/busybox:1.36"],
    ),
    "bake docker-image:// context": (
        {
            "docker-bake.hcl": (
                'target "a" {\n  contexts = { base = "docker-image://alpine:3.20" }\n}\n'
            )
        },
        [f"docker-bake.hcl:2: alpine:3.20 → {HUB}/library/alpine:3.20"],
    ),
    "GitHub matrix feeding services": (
        {
            ".github/workflows/t.yml": (
                "jobs:\n  t:\n    strategy:\n      matrix:\n        db: ['mysql:8']\n"
                "    services:\n      db:\n        image: ${{ matrix.db }}\n"
            )
        },
        [f".github/workflows/t.yml:5: mysql:8 → {HUB}/library/mysql:8"],
    ),
    "GitLab variables feeding image": (
        {".gitlab-ci.yml": "variables:\n  IMAGE: ruby:3.3\nt:\n  image: $IMAGE\n"},
        [f".gitlab-ci.yml:2: ruby:3.3 → {HUB}/library/ruby:3.3"],
    ),
    "GitLab parallel matrix feeding image": (
        {
            ".gitlab-ci.yml": (
                "t:\n  image: $IMAGE\n  parallel:\n    matrix:\n      - IMAGE: [ruby:3.3]\n"
            )
        },
        [f".gitlab-ci.yml:5: ruby:3.3 → {HUB}/library/ruby:3.3"],
    ),
    "GitLab include: local with a glob": (
        {
            ".gitlab-ci.yml": "include:\n  - local: ci/*.yml\n",
            "ci/jobs.yml": "t:\n  image: node:20\n",
        },
        [f"ci/jobs.yml:2: node:20 → {HUB}/library/node:20"],
    ),
    "compose-shaped YAML": (
        {"docker-stack.yml": "services:\n  web:\n    image: traefik/whoami\n"},
        [f"docker-stack.yml:3: traefik/whoami → {HUB}/traefik/whoami"],
    ),
    "Helm ci/ values": (
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n",
            "chart/ci/default.yaml": "image:\n  repository: bitnami/redis\n  tag: '7'\n",
        },
        [f"chart/ci/default.yaml:2: bitnami/redis:7 → {HUB}/bitnami/redis:7"],
    ),
    "Helm template literal": (
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 1.0.0\n",
            "chart/templates/test.yaml": "spec:\n  containers:\n    - image: busybox\n{{- end }}\n",
        },
        [f"chart/templates/test.yaml:3: busybox → {HUB}/library/busybox"],
    ),
    "Chart.yaml annotations": (
        {
            "chart/Chart.yaml": (
                "apiVersion: v2\nname: c\nversion: 1.0.0\nannotations:\n  images: |\n"
                "    - name: redis\n      image: docker.io/bitnami/redis:7\n"
            )
        },
        [f"chart/Chart.yaml:7: docker.io/bitnami/redis:7 → {HUB}/bitnami/redis:7"],
    ),
    "kustomize images": (
        {"kustomization.yaml": "images:\n- name: nginx\n  newTag: '1.27'\n"},
        [f"kustomization.yaml:2: nginx:1.27 → {HUB}/library/nginx:1.27"],
    ),
    "registry.hub.docker.com": (
        {"Dockerfile": "FROM registry.hub.docker.com/library/alpine:3.20\n"},
        [f"Dockerfile:1: registry.hub.docker.com/library/alpine:3.20 → {HUB}/library/alpine:3.20"],
    ),
}


@pytest.fixture
def repo(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    env.write_config('dockerhub_org = "connectedhome"\n\n[pull_through]\nprefix = "docker-hub"\n')
    folder = tmp_path / "repo"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("name", CLASSES)
def test_check_fails_on_the_class_and_passes_after_write(repo: Path, cli: Cli, name: str) -> None:
    files, listed = CLASSES[name]
    for relative, text in files.items():
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        (repo / relative).write_text(text)

    check = cli("rewrite", "--registry", HOST, "--check")

    assert (check.code, check.out.splitlines()) == (1, listed)

    assert cli("rewrite", "--registry", HOST, "--write").code == 0
    written = {p: (repo / p).read_text() for p in files}

    passed = cli("rewrite", "--registry", HOST, "--check", "--strict")
    again = cli("rewrite", "--registry", HOST, "--write")

    assert (passed.code, passed.out) == (0, ""), passed.err
    assert (again.code, again.out) == (0, "")
    assert {p: (repo / p).read_text() for p in files} == written
    assert os.listdir(repo)  # nothing was removed

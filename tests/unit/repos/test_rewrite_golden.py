"""`ecr-sso rewrite`'s scanners and planner against golden files: every case under
tests/golden/rewrite (see the README there) is read in place as the command reads a
repository, for registry HOST with the team's organisation and a pull-through cache (or the
case's own config.toml), and every file must become byte for byte its twin under
`expected/`; a second pass over `expected/` changes nothing."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from rewritedest import DEST, HOST

from credhelper.repos.rewrite import files, kinds
from credhelper.repos.rewrite.excludes import Excludes
from credhelper.repos.rewrite.plan import Destination
from credhelper.settings import parse as parse_settings
from credhelper.settings import parse_toml

GOLDEN = Path(__file__).parents[2] / "golden" / "rewrite"
Scan = Callable[..., tuple[str, list[tuple[int, str]]]]
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input").is_dir())


def _tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes().decode("utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _excludes(case: str) -> Excludes:
    config = GOLDEN / case / "config.toml"
    if not config.exists():
        return Excludes(())
    settings = parse_settings(parse_toml(config.read_bytes(), str(config), ValueError))
    assert settings.rewrite is not None
    return Excludes(settings.rewrite.exclude, defaults=settings.rewrite.default_excludes)


def _rewritten(folder: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Every file of `folder` as the rewrite leaves it (read in place, nothing written)."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", "/nonexistent")  # no git: the golden tree is walked as is
    run = files.survey(["."], DEST, dict(os.environ), _excludes(case))
    assert [r.problem for r in run.results if r.problem] == []
    tree = _tree(folder)
    tree.update({r.path: r.new for r in run.results if r.changed})
    return tree


def test_every_kind_of_file_has_a_golden_case(monkeypatch: pytest.MonkeyPatch) -> None:
    kinds_seen = set()
    for case in CASES:
        monkeypatch.chdir(GOLDEN / case / "input")
        monkeypatch.setenv("PATH", "/nonexistent")
        run = files.survey(["."], DEST, dict(os.environ), _excludes(case))
        kinds_seen |= {c.kind for r in run.results for c in r.changes}
    assert kinds_seen == {
        "kubernetes",
        "helm-values",
        "helm-template",
        "chart-annotations",
        "kustomize",
        "compose",
        "bake",
        "dockerfile",
        "syntax-directive",
        "github-actions",
        "gitlab-ci",
    }


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _rewritten(GOLDEN / case / "input", case, monkeypatch)

    assert result == _tree(GOLDEN / case / "expected")


@pytest.mark.parametrize("case", CASES)
def test_a_second_pass_changes_nothing(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = GOLDEN / case / "expected"

    assert _rewritten(expected, case, monkeypatch) == _tree(expected)


@pytest.mark.parametrize(
    "relative", ["basics/input/crlf.Dockerfile", "basics/input/docker-compose.override.yml"]
)
def test_crlf_line_ends_are_kept(relative: str) -> None:
    text = (GOLDEN / relative).read_bytes().decode()
    assert "\r\n" in text
    expected = (GOLDEN / relative.replace("/input/", "/expected/")).read_bytes().decode()

    assert expected != text
    assert expected.count("\r\n") == text.count("\r\n")
    assert expected.count("\n") == text.count("\n")


@pytest.fixture
def scan(tmp_path: Path) -> Scan:
    """`scan(name, text, dest)`: `text` as a file named `name` alone in a folder,
    rewritten; with the (line, status) of each reference."""

    def run(name: str, text: str, dest: Destination = DEST) -> tuple[str, list[tuple[int, str]]]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
        results = files.survey([str(path)], dest, {"PATH": "/nonexistent"}, Excludes(())).results
        if not results:
            return text, []
        (result,) = results
        return result.new or text, [(c.line, c.status) for c in result.changes]

    return run


def test_only_the_reference_text_changes(scan: Scan) -> None:
    text = "services:\n  db:\n    image:   'postgres:16'   # pinned: see docs\n"

    assert scan("compose.yaml", text)[0] == (
        f"services:\n  db:\n    image:   '{HOST}/docker-hub/library/postgres:16'"
        "   # pinned: see docs\n"
    )


def test_without_a_pull_through_cache_public_images_are_reported_and_left(scan: Scan) -> None:
    text = "FROM python:3.12\nFROM connectedhome/app:1\nFROM ${BASE}\n"

    new, changes = scan("Dockerfile", text, Destination(HOST, "connectedhome", None))

    assert new == f"FROM python:3.12\nFROM {HOST}/app:1\nFROM ${{BASE}}\n"
    assert changes == [(1, "docker-hub"), (2, "ecr"), (3, "unresolved")]


def test_without_an_organisation_only_the_cache_applies(scan: Scan) -> None:
    new, _ = scan("Dockerfile", "FROM connectedhome/app:1\n", Destination(HOST, None, "hub"))

    assert new == f"FROM {HOST}/hub/connectedhome/app:1\n"


def test_a_variable_name_is_unresolved_and_a_variable_tag_keeps_its_text(scan: Scan) -> None:
    text = (
        "ARG REGISTRY=docker.io\n"
        "FROM ${REGISTRY}/connectedhome/app:1\n"
        "FROM connectedhome/app:$TAG\n"
        "COPY --from=$TOOLS /x /x\n"
    )

    new, changes = scan("Dockerfile", text)

    assert new == text.replace("connectedhome/app:$TAG", f"{HOST}/app:$TAG")
    assert changes == [(2, "unresolved"), (3, "ecr"), (4, "unresolved")]


def test_a_written_registry_with_a_variable_path_is_not_docker_hub(scan: Scan) -> None:
    # `gcr.io/$PROJECT_ID/builder` (skaffold's own images) is on gcr.io whatever the
    # project: neither a Docker Hub pull nor "unresolved" for --strict.
    dockerfile = (
        "FROM gcr.io/$PROJECT_ID/builder:latest\n"
        "FROM localhost:5000/${TEAM}/base\n"
        "FROM docker.io/$ORG/app:1\n"
        "FROM ${REGISTRY}/app\n"
    )
    workflow = (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    container: ghcr.io/${{ github.repository }}/ci:latest\n"
        "    services:\n      db: index.docker.io/${{ vars.ORG }}/db:1\n"
    )

    assert scan("Dockerfile", dockerfile) == (dockerfile, [(3, "unresolved"), (4, "unresolved")])
    assert scan(".github/workflows/ci.yml", workflow) == (workflow, [(7, "unresolved")])


def test_an_image_never_pulled_is_left_as_built_here(scan: Scan) -> None:
    # An integration test loads the image it just built onto its cluster's node (k3s,
    # kind) and tells Kubernetes never to pull it (traefik's integration fixtures): renamed,
    # the container would not start. The same for a chart's pullPolicy and compose's
    # pull_policy.
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n"
        "      containers:\n"
        "        - name: proxy\n          image: example/proxy:latest\n"
        "          imagePullPolicy: Never\n"
        "        - name: sidecar\n          image: busybox:1.36\n"
        "          imagePullPolicy: IfNotPresent\n"
    )
    values = (
        "image:\n  repository: example/proxy\n  tag: dev\n  pullPolicy: Never\n"
        "helper:\n  image: busybox:1.36\n  imagePullPolicy: Always\n"
    )
    stack = (
        "services:\n  app:\n    image: example/app:dev\n    pull_policy: never\n"
        "  db:\n    image: postgres:16\n    pull_policy: always\n"
    )

    new, changes = scan("deploy.yaml", manifest)
    assert new == manifest.replace("busybox", f"{HOST}/docker-hub/library/busybox")
    assert changes == [(8, "built here"), (11, "pull-through")]
    new, changes = scan("values.yaml", values)
    assert new == values.replace("busybox", f"{HOST}/docker-hub/library/busybox")
    assert changes == [(2, "built here"), (6, "pull-through")]
    new, changes = scan("docker-stack.yml", stack)
    assert new == stack.replace("postgres", f"{HOST}/docker-hub/library/postgres")
    assert changes == [(3, "built here"), (6, "pull-through")]


def test_an_arg_default_used_twice_is_one_edit(scan: Scan) -> None:
    text = "ARG BASE=python:3.12\nFROM $BASE AS a\nFROM ${BASE} AS b\n"

    new, changes = scan("Dockerfile", text)

    assert new == f"ARG BASE={HOST}/docker-hub/library/python:3.12\nFROM $BASE AS a\n" + (
        "FROM ${BASE} AS b\n"
    )
    assert len(changes) == 1


def test_stage_names_are_not_images(scan: Scan) -> None:
    text = "FROM golang:1.22 AS Build\nFROM build\nCOPY --from=BUILD /a /a\nCOPY --from=0 /b /b\n"

    _, changes = scan("Dockerfile", text)

    assert changes == [(1, "pull-through")]


def test_yaml_that_does_not_parse_is_reported_for_named_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  app: [\n")
    (tmp_path / "other.yaml").write_text("a: {{ .Values.x }}\n  - : :\n")
    monkeypatch.chdir(tmp_path)

    run = files.survey(["."], DEST, {"PATH": "/nonexistent"}, Excludes(()))

    # Any other YAML file (an unknown template, say) simply has no references.
    assert [(r.path, r.problem.split(":")[0]) for r in run.results] == [
        ("compose.yaml", "not read as compose")
    ]


@pytest.mark.parametrize(
    ("text", "worth"),
    [
        ('swagger: "2.0"\ndefinitions:\n  Image: {example: {image: "alpine:latest"}}\n', False),
        ("# a manifest\napiVersion: v1\nkind: Pod\nspec: {containers: [{image: x}]}\n", True),
        ("x-common: 1\nservices:\n  a:\n    image: x\n", True),
        ('{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "x"}]}}', True),
        ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nimage: x\n", False),
        ("notes: no image here\n", False),
    ],
)
def test_other_yaml_files_are_parsed_only_when_they_can_hold_an_image(
    text: str, worth: bool
) -> None:
    assert kinds.worth_parsing(kinds.YAML, text) is worth


def test_escaped_or_block_scalars_are_not_edited(scan: Scan) -> None:
    text = 'services:\n  a:\n    image: "connected\\x68ome/app:1"\n  b:\n    image: |\n      x\n'

    assert scan("compose.yaml", text) == (text, [])


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("Dockerfile", kinds.DOCKERFILE),
        ("docker/Dockerfile.prod", kinds.DOCKERFILE),
        ("api.Dockerfile", kinds.DOCKERFILE),
        ("Containerfile", kinds.DOCKERFILE),
        ("docker-bake.hcl", kinds.BAKE),
        ("docker-bake.override.json", kinds.BAKE),
        ("compose.yml", kinds.COMPOSE),
        ("docker-compose.ci.yaml", kinds.COMPOSE),
        (".github/workflows/build.yaml", kinds.GITHUB),
        ("sub/.github/workflows/x.yml", kinds.GITHUB),
        ("action.yml", kinds.GITHUB),
        (".gitlab-ci.yml", kinds.GITLAB),
        ("ci/build.gitlab-ci.yml", kinds.GITLAB),
        ("chart/values.yaml", kinds.HELM_VALUES),
        ("chart/values-prod.yaml", kinds.HELM_VALUES),
        ("chart/Chart.yaml", kinds.CHART),
        ("base/kustomization.yaml", kinds.KUSTOMIZE),
        ("base/Kustomization", kinds.KUSTOMIZE),
        ("k8s/app.yaml", kinds.YAML),
        ("README.md", None),
        ("Dockerfile.md", None),
        ("Dockerfile.orig", None),
        ("notes.txt", None),
    ],
)
def test_kind_of(path: str, kind: str | None) -> None:
    assert kinds.kind_of(path) == kind


def test_a_skaffold_config_is_known_by_its_api_version_whatever_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Documentation samples and `skaffold -f` configs have any name (skaffold's docs); an
    # artifact's `requires` passes the image it needs to its Dockerfile as the build
    # argument the alias names (`FROM $BASE`, skaffold's microservices examples).
    files_ = {
        "samples/verify.yaml": (
            "apiVersion: skaffold/v4beta11\nkind: Config\nbuild:\n  artifacts:\n"
            "    - image: web-app\n      context: web\n"
            "      docker:\n        dockerfile: app.Dockerfile\n"
            "      requires:\n        - image: app-base\n          alias: BASE\n"
            "    - image: app-base\n      context: base\n"
            "verify:\n  - name: smoke\n    container:\n      name: smoke\n"
            "      image: web-app\n"
            "  - name: wget\n    container:\n      name: wget\n      image: alpine:3.19\n"
        ),
        "samples/web/app.Dockerfile": (
            "ARG BASE\nFROM golang:1.22 AS build\nFROM $BASE\nCOPY --from=build /app /app\n"
        ),
        "samples/base/Dockerfile": "FROM debian:12-slim\n",
        "samples/k8s/pod.yaml": (
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: web\n"
            "      image: web-app\n    - name: tools\n      image: busybox\n"
        ),
    }
    for name, text in files_.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)

    run = files.survey(["."], DEST, {"PATH": "/nonexistent"}, Excludes(()))

    statuses = {r.path: [(c.reference, c.status) for c in r.changes] for r in run.results}
    assert statuses == {
        "samples/verify.yaml": [
            ("web-app", "built here"),
            ("app-base", "built here"),
            ("app-base", "built here"),
            ("web-app", "built here"),
            ("alpine:3.19", "pull-through"),
        ],
        "samples/web/app.Dockerfile": [("app-base", "built here"), ("golang:1.22", "pull-through")],
        "samples/base/Dockerfile": [("debian:12-slim", "pull-through")],
        "samples/k8s/pod.yaml": [("web-app", "built here"), ("busybox", "pull-through")],
    }

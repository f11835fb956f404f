"""`ecr-sso rewrite`'s scanners and planner against golden files: every file under
tests/golden/rewrite/input, rewritten for registry HOST with the team's organisation and a
pull-through cache, must be byte for byte its twin under expected/ (see the README there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from credhelper.repos.rewrite import kinds
from credhelper.repos.rewrite.plan import Destination, rewrite

GOLDEN = Path(__file__).parents[2] / "golden" / "rewrite"
HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
DEST = Destination(HOST, "connectedhome", "docker-hub")
INPUTS = sorted(
    p.relative_to(GOLDEN / "input").as_posix() for p in (GOLDEN / "input").rglob("*") if p.is_file()
)


def _rewritten(relative: str, text: str, dest: Destination = DEST) -> str:
    kind = kinds.kind_of(relative)
    assert kind is not None, relative
    return rewrite(text, kinds.scan(kind, text), dest)[0]


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def test_every_file_kind_has_a_golden_input() -> None:
    assert {kinds.kind_of(relative) for relative in INPUTS} == {
        kinds.DOCKERFILE,
        kinds.COMPOSE,
        kinds.GITHUB,
        kinds.GITLAB,
        kinds.HELM,
        kinds.YAML,
    }


@pytest.mark.parametrize("relative", INPUTS)
def test_golden(relative: str) -> None:
    text = _read(GOLDEN / "input" / relative)

    result = _rewritten(relative, text)

    assert result == _read(GOLDEN / "expected" / relative)
    # A second pass changes nothing.
    assert _rewritten(relative, result) == result


@pytest.mark.parametrize("relative", ["crlf.Dockerfile", "docker-compose.override.yml"])
def test_crlf_line_ends_are_kept(relative: str) -> None:
    text = _read(GOLDEN / "input" / relative)
    assert "\r\n" in text

    result = _rewritten(relative, text)

    assert result != text
    assert result.count("\r\n") == text.count("\r\n")
    assert result.count("\n") == text.count("\n")


def test_only_the_reference_text_changes() -> None:
    text = "services:\n  db:\n    image:   'postgres:16'   # pinned: see docs\n"

    result = _rewritten("compose.yaml", text)

    assert result == (
        f"services:\n  db:\n    image:   '{HOST}/docker-hub/library/postgres:16'"
        "   # pinned: see docs\n"
    )


def test_without_a_pull_through_cache_public_images_are_reported_and_left() -> None:
    text = "FROM python:3.12\nFROM connectedhome/app:1\nFROM ${BASE}\n"
    dest = Destination(HOST, "connectedhome", None)

    result, changes = rewrite(text, kinds.scan(kinds.DOCKERFILE, text), dest)

    assert result == f"FROM python:3.12\nFROM {HOST}/app:1\nFROM ${{BASE}}\n"
    assert [(c.line, c.reference, c.replacement, c.status) for c in changes] == [
        (1, "python:3.12", "", "docker-hub"),
        (2, "connectedhome/app:1", f"{HOST}/app:1", "ecr"),
        (3, "${BASE}", "", "unresolved"),
    ]


def test_without_an_organisation_only_the_cache_applies() -> None:
    text = "FROM connectedhome/app:1\n"

    result = _rewritten("Dockerfile", text, Destination(HOST, None, "hub"))

    assert result == f"FROM {HOST}/hub/connectedhome/app:1\n"


def test_templated_references_are_never_edited() -> None:
    text = (
        "ARG REGISTRY=docker.io\n"
        "FROM ${REGISTRY}/connectedhome/app:1\n"
        "FROM connectedhome/app:$TAG\n"
        "COPY --from=$TOOLS /x /x\n"
    )

    result, changes = rewrite(text, kinds.scan(kinds.DOCKERFILE, text), DEST)

    assert result == text
    assert [(c.line, c.status) for c in changes] == [(n, "unresolved") for n in (2, 3, 4)]


def test_an_arg_default_used_twice_is_one_edit() -> None:
    text = "ARG BASE=python:3.12\nFROM $BASE AS a\nFROM ${BASE} AS b\n"

    result, changes = rewrite(text, kinds.scan(kinds.DOCKERFILE, text), DEST)

    assert result == f"ARG BASE={HOST}/docker-hub/library/python:3.12\nFROM $BASE AS a\n" + (
        "FROM ${BASE} AS b\n"
    )
    assert len(changes) == 1


def test_stage_names_are_not_images() -> None:
    text = "FROM golang:1.22 AS Build\nFROM build\nCOPY --from=BUILD /a /a\nCOPY --from=0 /b /b\n"

    found = kinds.scan(kinds.DOCKERFILE, text)

    assert [f.text for f in found] == ["golang:1.22"]


def test_yaml_that_does_not_parse_is_reported_for_named_kinds() -> None:
    with pytest.raises(kinds.yamlrefs.NotParsed) as raised:
        kinds.scan(kinds.COMPOSE, "services:\n  app: [\n")
    assert str(raised.value).startswith("line ")
    # Any other YAML file (a Helm template, say) simply has no references.
    assert kinds.scan(kinds.YAML, "a: {{ .Values.x }}\n  - : :\n") == []


def test_escaped_or_block_scalars_are_not_edited() -> None:
    text = 'services:\n  a:\n    image: "connected\\x68ome/app:1"\n  b:\n    image: |\n      x\n'

    assert kinds.scan(kinds.COMPOSE, text) == []


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("Dockerfile", kinds.DOCKERFILE),
        ("docker/Dockerfile.prod", kinds.DOCKERFILE),
        ("api.Dockerfile", kinds.DOCKERFILE),
        ("Containerfile", kinds.DOCKERFILE),
        ("compose.yml", kinds.COMPOSE),
        ("docker-compose.ci.yaml", kinds.COMPOSE),
        (".github/workflows/build.yaml", kinds.GITHUB),
        ("sub/.github/workflows/x.yml", kinds.GITHUB),
        (".gitlab-ci.yml", kinds.GITLAB),
        ("ci/build.gitlab-ci.yml", kinds.GITLAB),
        ("chart/values.yaml", kinds.HELM),
        ("chart/values-prod.yaml", kinds.HELM),
        ("k8s/app.yaml", kinds.YAML),
        ("README.md", None),
        ("Dockerfile.md", None),
        ("Dockerfile.orig", None),
        ("notes.txt", None),
    ],
)
def test_kind_of(path: str, kind: str | None) -> None:
    assert kinds.kind_of(path) == kind

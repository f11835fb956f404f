"""Properties of `ecr-sso rewrite`'s edits, on the golden fixtures and on generated files:

- a YAML document after the rewrite parses to the same document as before, except image
  strings (a reference, or Helm's registry and repository) that now name ECR, and a
  kustomize `newName:` added;
- a Dockerfile keeps every instruction, word for word, except image names;
- a second rewrite changes nothing;
- libyaml and the pure-Python loader put every node at the same place (the scanners use
  those places to edit).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rewritedest import DEST, HOST, moved

from credhelper.repos import imageref
from credhelper.repos.rewrite import compose, dockerfile, kubernetes, yamlload
from credhelper.repos.rewrite.plan import rewrite

GOLDEN = Path(__file__).parents[2] / "golden" / "rewrite"
_YAML = re.compile(r".+\.ya?ml|Kustomization")


def _fixture_pairs(match: re.Pattern[str]) -> list[tuple[Path, Path]]:
    pairs = []
    for before in sorted(GOLDEN.glob("*/input/**/*")):
        if before.is_file() and match.fullmatch(before.name):
            after = Path(str(before).replace("/input/", "/expected/", 1))
            pairs.append((before, after))
    return pairs


class _AnyTag(yaml.SafeLoader):
    """SafeLoader that reads GitLab's `!reference [...]` and other custom tags as plain
    values, so a pipeline parses for comparison."""


_AnyTag.add_multi_constructor(
    "!",
    lambda loader, _suffix, node: (
        loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_scalar(node)
    ),
)


def _unhub(text: str) -> str:
    """An image string with every spelling of where it lives taken out, so that the one
    before and the one after a rewrite compare equal when they name the same image."""
    text = text.replace("docker-image://", "").replace("docker://", "")
    prefixes = (f"{HOST}/docker-hub/", f"{HOST}/", "docker-hub/")
    for prefix in (*prefixes, *(f"{host}/" for host in imageref.DOCKER_HUB_HOSTS)):
        text = text.removeprefix(prefix)
    return text.removeprefix("library/").removeprefix("connectedhome/")


def _same_except_images(before: Any, after: Any, where: str = "") -> None:
    if isinstance(before, dict):
        assert isinstance(after, dict), where
        added = set(after) - set(before)
        assert added <= {"newName"}, where  # kustomize: the pull goes to newName
        for key in added:
            assert str(after[key]).startswith(HOST), where
        assert set(before) <= set(after), where
        for key in before:
            _same_except_images(before[key], after[key], f"{where}.{key}")
    elif isinstance(before, list):
        assert isinstance(after, list), where
        assert len(after) == len(before), where
        for index, (one, other) in enumerate(zip(before, after, strict=True)):
            _same_except_images(one, other, f"{where}[{index}]")
    elif before != after:
        assert isinstance(before, str), where
        assert isinstance(after, str), where
        if before.lstrip().startswith("- name:") or "\n" in before:
            # A block holding YAML (Chart.yaml's image list): the same, inside.
            _same_except_images(yaml.safe_load(before), yaml.safe_load(after), where)
        elif after == HOST:
            assert before in imageref.DOCKER_HUB_HOSTS, where  # Helm's registry
        else:
            # The whole reference names ECR, or (Helm's repository beside a registry that
            # now does) the path within it.
            assert (
                HOST in after
                or after.startswith("docker-hub/")
                or (before.startswith("connectedhome/"))
            ), (where, before, after)
            assert _unhub(after) == _unhub(before), (where, before, after)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(b, a, id=str(b.relative_to(GOLDEN)))
        for b, a in _fixture_pairs(_YAML)
        if "/templates/" not in str(b)  # Helm templates are not YAML
    ],
)
def test_yaml_fixtures_change_only_image_strings(before: Path, after: Path) -> None:
    old = list(yaml.load_all(before.read_text(), Loader=_AnyTag))
    new = list(yaml.load_all(after.read_text(), Loader=_AnyTag))

    assert len(old) == len(new)
    _same_except_images(old, new)


_WHERE = re.compile(
    rf"(?:(?<=^)|(?<=[=,\"]))(?:{re.escape(HOST)}/(?:docker-hub/)?|"
    + "|".join(re.escape(h) + "/" for h in imageref.DOCKER_HUB_HOSTS)
    + r")?(?:library/|connectedhome/)?"
)


def _canon(word: str) -> str:
    """A word of a Dockerfile with where each image in it lives taken out (at the word's
    start, or after `=`, `,` or a quote, where an image can begin)."""
    return _WHERE.sub("", word)


def _words(text: str) -> list[list[str]]:
    """A Dockerfile's instructions as words: comment lines dropped, continued lines
    joined (an independent reading, simpler than the scanner's)."""
    escape = "`" if re.match(r"#\s*escape\s*=\s*`", text) else "\\"
    instructions: list[list[str]] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        body = line.rstrip()
        continued = body.endswith(escape)
        current += body.rstrip(escape).split()
        if not continued:
            instructions.append(current)
            current = []
    return instructions + ([current] if current else [])


def _same_instructions(before: str, after: str) -> None:
    old, new = _words(before), _words(after)
    assert [w[0].upper() for w in old] == [w[0].upper() for w in new]
    for old_words, new_words in zip(old, new, strict=True):
        assert len(old_words) == len(new_words), old_words
        for one, other in zip(old_words, new_words, strict=True):
            if one != other:
                assert HOST in other, (one, other)
                assert _canon(other) == _canon(one), (one, other)
    directive = re.compile(r"#\s*syntax\s*=\s*(\S+)")
    old_syntax, new_syntax = directive.match(before), directive.match(after)
    assert (old_syntax is None) == (new_syntax is None)
    if old_syntax and new_syntax and old_syntax[1] != new_syntax[1]:
        assert _unhub(new_syntax[1]) == _unhub(old_syntax[1])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(b, a, id=str(b.relative_to(GOLDEN)))
        for b, a in _fixture_pairs(re.compile(r"(?i).*(?:docker|container)file.*"))
    ],
)
def test_dockerfile_fixtures_change_only_image_names(before: Path, after: Path) -> None:
    _same_instructions(before.read_bytes().decode(), after.read_bytes().decode())


# Generated files.

_TAGS = st.one_of(
    st.just(""),
    st.from_regex(r":[a-z0-9][a-z0-9._-]{0,8}", fullmatch=True),
    st.just("@sha256:" + "ab" * 32),
    st.just(":${TAG}"),
)
_NAMES = st.sampled_from(
    [
        "redis",
        "library/postgres",
        "docker.io/library/nginx",
        "index.docker.io/bitnami/redis",
        "registry-1.docker.io/grafana/loki",
        "registry.hub.docker.com/prom/statsd-exporter",
        "connectedhome/app",
        "docker.io/connectedhome/worker",
        "quay.io/prometheus/prometheus",
        "ghcr.io/team/tool",
        f"{HOST}/already",
        "localhost:5000/local",
    ]
)
_IMAGES = st.builds(lambda name, tag: name + tag, _NAMES, _TAGS)
_OTHER = st.one_of(
    st.integers(-5, 5000),
    st.booleans(),
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12),
    st.lists(st.text("abc: -#", max_size=5), max_size=3),
)
_KEYS = st.text("abcdefghij_", min_size=1, max_size=8).filter(
    lambda k: k not in ("image", "build", "services", "repository", "tag")
)


def _dumped(document: Any, style: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, **style)


_STYLES = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([False, None, True]),
        "default_style": st.sampled_from([None, "'", '"']),
        "indent": st.integers(2, 6),
        "width": st.sampled_from([40, 80, 10**6]),
        "explicit_start": st.booleans(),
    }
)


def _expected_image(image: str) -> str:
    if "$" in image:
        name = image.split(":${", maxsplit=1)[0]
        new = _expected_image(name)
        return new + image[len(name) :]
    return moved(image)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    services=st.dictionaries(
        _KEYS,
        st.fixed_dictionaries({"image": _IMAGES}, optional={"x": _OTHER, "ports": _OTHER}),
        min_size=1,
        max_size=5,
    ),
    extra=st.dictionaries(_KEYS, _OTHER, max_size=3),
    style=_STYLES,
)
def test_generated_compose_files_change_only_image_strings(
    services: dict[str, Any], extra: dict[str, Any], style: dict[str, Any]
) -> None:
    document = {**extra, "services": services}
    text = _dumped(document, style)

    new, _ = rewrite(text, compose.scan(text, yamlload.documents(text)), DEST)

    after = yaml.safe_load(new)
    assert {k: v for k, v in after.items() if k != "services"} == extra
    assert list(after["services"]) == list(services)
    for name, service in services.items():
        assert after["services"][name] == {**service, "image": _expected_image(service["image"])}
    assert rewrite(new, compose.scan(new, yamlload.documents(new)), DEST)[0] == new


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    containers=st.lists(
        st.fixed_dictionaries({"name": _KEYS, "image": _IMAGES}, optional={"args": _OTHER}),
        min_size=1,
        max_size=4,
    ),
    style=_STYLES,
)
def test_generated_manifests_change_only_image_strings(
    containers: list[dict[str, Any]], style: dict[str, Any]
) -> None:
    document = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": containers},
        "status": {"containerStatuses": [{"image": c["image"]} for c in containers]},
    }
    text = _dumped(document, style)

    new, _ = rewrite(text, kubernetes.scan(text, yamlload.documents(text)), DEST)

    after = yaml.safe_load(new)
    expected = [{**c, "image": _expected_image(c["image"])} for c in containers]
    assert after == {**document, "spec": {"containers": expected}}


_STAGE = st.from_regex(r"[a-z][a-z0-9-]{0,6}", fullmatch=True)


@st.composite
def _dockerfiles(draw: st.DrawFn) -> str:
    lines = []
    if draw(st.booleans()):
        lines.append(
            f"# syntax={draw(st.sampled_from(['docker/dockerfile:1', 'docker/dockerfile:1.4']))}"
        )
    stages: list[str] = []
    for _ in range(draw(st.integers(1, 5))):
        base = draw(st.one_of(_IMAGES, st.sampled_from(stages))) if stages else draw(_IMAGES)
        stage = draw(_STAGE)
        platform = "--platform=$BUILDPLATFORM " if draw(st.booleans()) else ""
        lines.append(f"FROM {platform}{base} AS {stage}")
        stages.append(stage)
        for _ in range(draw(st.integers(0, 3))):
            source = draw(st.one_of(_IMAGES, st.sampled_from(stages)))
            lines.append(
                draw(
                    st.sampled_from(
                        [
                            f"COPY --from={source} /a /b",
                            f"RUN --mount=type=bind,from={source},target=/t \\\n    ls /t",
                            "RUN echo hello  # not an image: FROM redis",
                            "# FROM redis:7 in a comment",
                            "ENV IMAGE=redis:7",
                        ]
                    )
                )
            )
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_dockerfiles())
def test_generated_dockerfiles_change_only_image_names(text: str) -> None:
    new, _ = rewrite(text, dockerfile.scan(text), DEST)

    _same_instructions(text, new)
    assert rewrite(new, dockerfile.scan(new), DEST)[0] == new


# libyaml and the pure loader agree on every place.


def _places(nodes: list[yaml.Node]) -> list[tuple[Any, ...]]:
    found = []
    for root in nodes:
        stack = [root]
        seen: set[int] = set()
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            found.append(
                (
                    type(node).__name__,
                    node.start_mark.index,
                    node.end_mark.index,
                    node.start_mark.line,
                    node.start_mark.column,
                    getattr(node, "style", None) or None,
                    node.value if isinstance(node, yaml.ScalarNode) else None,
                )
            )
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                stack.extend(n for pair in node.value for n in pair)
    return found


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
@pytest.mark.parametrize(
    "path",
    [
        pytest.param(p, id=str(p.relative_to(GOLDEN)))
        for p in sorted(GOLDEN.glob("*/*/**/*"))
        if p.is_file() and _YAML.fullmatch(p.name) and "/templates/" not in str(p)
    ],
)
def test_libyaml_and_the_pure_loader_agree_on_the_fixtures(path: Path) -> None:
    text = path.read_bytes().decode()

    assert _places(yamlload.documents(text)) == _places(yamlload.documents(text, pure=True))


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
@settings(max_examples=150, deadline=None)
@given(
    document=st.recursive(
        _OTHER | _IMAGES,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
        max_leaves=12,
    ),
    style=_STYLES,
    bom=st.booleans(),
    crlf=st.booleans(),
)
def test_libyaml_and_the_pure_loader_agree_on_generated_documents(
    document: Any, style: dict[str, Any], bom: bool, crlf: bool
) -> None:
    text = _dumped(document, style)
    text = ("\ufeff" if bom else "") + (text.replace("\n", "\r\n") if crlf else text)

    assert _places(yamlload.documents(text)) == _places(yamlload.documents(text, pure=True))

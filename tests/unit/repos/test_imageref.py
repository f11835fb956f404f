"""Image references by Docker's grammar, and the one naming rule of `url` and `migrate`."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credhelper.errors import UsageError
from credhelper.repos import imageref
from credhelper.repos.imageref import ImageRef, ecr_repository, parse, to_ecr

DIGEST = "sha256:" + "0123456789abcdef" * 4
ECR = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ubuntu", ImageRef(None, "ubuntu")),
        ("ubuntu:22.04", ImageRef(None, "ubuntu", "22.04")),
        ("connectedhome/app:1.0.12", ImageRef(None, "connectedhome/app", "1.0.12")),
        ("my-org/my_app__x:v1", ImageRef(None, "my-org/my_app__x", "v1")),
        ("a/b/c:Latest_1.2-x", ImageRef(None, "a/b/c", "Latest_1.2-x")),
        ("docker.io/library/ubuntu", ImageRef("docker.io", "library/ubuntu")),
        ("localhost/app", ImageRef("localhost", "app")),
        ("localhost:5000/app:1", ImageRef("localhost:5000", "app", "1")),
        ("127.0.0.1:5000/team/app", ImageRef("127.0.0.1:5000", "team/app")),
        ("[::1]:5000/app", ImageRef("[::1]:5000", "app")),
        ("Registry/app", ImageRef("Registry", "app")),  # upper case: a host, as Docker reads it
        (f"app@{DIGEST}", ImageRef(None, "app", None, DIGEST)),
        (f"ghcr.io/o/app:1@{DIGEST}", ImageRef("ghcr.io", "o/app", "1", DIGEST)),
    ],
)
def test_parse(text: str, expected: ImageRef) -> None:
    ref = parse(text)

    assert ref == expected
    assert str(ref) == text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", " (it is empty)"),
        ("FROM ubuntu", " (it contains white space)"),
        (" app", " (it contains white space)"),
        ("https://ghcr.io/app", " (drop the scheme: registry/name:tag)"),
        ("team/App", " (repository names are lower case)"),
        ("app:", ""),
        ("app:-1", ""),
        ("app:" + "x" * 129, ""),
        ("-app", ""),
        ("app_", ""),
        ("a//b", ""),
        ("app@sha256:abc", ""),
        ("host:port/app", ""),
    ],
)
def test_not_a_reference(text: str, why: str) -> None:
    with pytest.raises(UsageError) as raised:
        parse(text)

    assert str(raised.value) == f"not an image reference: {text!r}{why}"
    assert raised.value.exit_code == 2


def test_digest_length_is_checked_for_known_algorithms() -> None:
    short = "sha256:" + "a" * 32
    upper = "sha256:" + "A" * 64

    for digest in (short, upper):
        with pytest.raises(UsageError, match="a malformed sha256 digest"):
            parse(f"app@{digest}")
    # An algorithm Docker does not know is accepted with 32+ hex digits, as Docker does.
    assert parse("app@blake3:" + "a" * 32).digest == "blake3:" + "a" * 32


def test_name_length_limit() -> None:
    longest = "a" * imageref.NAME_MAX

    assert parse(longest).path == longest
    with pytest.raises(UsageError, match="longer than 255"):
        parse(longest + "a")


@pytest.mark.parametrize(
    ("text", "org", "repository"),
    [
        ("connectedhome/hc-devcon-cpp-arm64:1.0.12", "connectedhome", "hc-devcon-cpp-arm64"),
        ("docker.io/connectedhome/app", "connectedhome", "app"),
        ("registry-1.docker.io/connectedhome/app", "connectedhome", "app"),
        ("connectedhome/tools/app", "connectedhome", "tools/app"),
        ("connectedhome/app", None, "connectedhome/app"),
        ("connectedhomes/app", "connectedhome", "connectedhomes/app"),
        ("ubuntu", "connectedhome", "ubuntu"),
        ("library/ubuntu", None, "ubuntu"),
        ("bitnami/redis", "connectedhome", "bitnami/redis"),
        # Another registry keeps its path, even when it looks like the organisation.
        ("ghcr.io/connectedhome/app", "connectedhome", "connectedhome/app"),
        ("127.0.0.1:5000/library/app", None, "library/app"),
    ],
)
def test_ecr_repository(text: str, org: str | None, repository: str) -> None:
    assert ecr_repository(parse(text), org) == repository


def test_to_ecr_keeps_tag_and_digest_and_leaves_the_target_alone() -> None:
    assert to_ecr(parse(f"connectedhome/app:1@{DIGEST}"), ECR, "connectedhome") == (
        f"{ECR}/app:1@{DIGEST}"
    )
    assert to_ecr(parse(f"{ECR}/connectedhome/app:1"), ECR, "connectedhome") == (
        f"{ECR}/connectedhome/app:1"
    )
    assert to_ecr(parse("Registry.Example/app"), "registry.example", None) == (
        "Registry.Example/app"
    )


def test_docker_hub_and_official_repository() -> None:
    assert parse("ubuntu").repository == "library/ubuntu"
    assert parse("docker.io/ubuntu").repository == "library/ubuntu"
    assert parse("localhost/ubuntu").repository == "ubuntu"
    assert parse("index.docker.io/a/b").docker_hub
    assert not parse("quay.io/a/b").docker_hub


_component = st.from_regex(r"[a-z0-9]{1,5}(?:[._-][a-z0-9]{1,5}){0,2}", fullmatch=True)


@given(
    path=st.lists(_component, min_size=1, max_size=3).map("/".join),
    tag=st.one_of(st.none(), st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)),
)
def test_round_trip(path: str, tag: str | None) -> None:
    text = path + (f":{tag}" if tag else "")

    ref = parse(text)

    assert str(ref) == text
    assert to_ecr(ref, ECR, None).endswith("/" + ecr_repository(ref, None) + ref.suffix)

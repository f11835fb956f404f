"""The real-client test bed works, independent of our product.

If these fail, the product's real-client tests cannot tell us anything: fix the bed first.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
from realclients import (
    Dockerd,
    RegistryFactory,
    make_oci_index_layout,
    make_oci_layout,
    require_tool,
    run_tool,
    write_docker_auths,
)

pytestmark = pytest.mark.real_client


def _skopeo_env(tmp_path: Path) -> dict[str, str]:
    """skopeo with a private HOME and Docker config, so only the flags we pass count."""
    home = tmp_path / "skopeo-home"
    (home / "docker").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "XDG_"))}
    env.update(HOME=str(home), DOCKER_CONFIG=str(home / "docker"))
    return env


def _policy(tmp_path: Path) -> str:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    return str(path)


def test_layout_is_deterministic(tmp_path: Path) -> None:
    files = {"etc/hello.txt": b"hello\n"}
    a = make_oci_layout(tmp_path / "a", "v1", files)
    b = make_oci_layout(tmp_path / "b", "v1", files)
    assert (a / "index.json").read_text() == (b / "index.json").read_text()
    index = json.loads((a / "index.json").read_text())
    (entry,) = index["manifests"]
    assert entry["annotations"] == {"org.opencontainers.image.ref.name": "v1"}
    assert json.loads((a / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}


def test_push_and_inspect_with_and_without_credentials(
    tmp_path: Path, registry_factory: RegistryFactory
) -> None:
    skopeo = require_tool("skopeo")
    registry = registry_factory(username="AWS", password="smoke-pass-1")
    assert "smoke-pass-1" not in repr(registry)
    layout = make_oci_layout(tmp_path / "img", "v1", {"hello.txt": b"hello\n"})
    registry.push(layout, "smoke/hello:v1")

    env = _skopeo_env(tmp_path)
    base = [skopeo, "--policy", _policy(tmp_path), "inspect", "--tls-verify=false"]
    ref = f"docker://{registry.ref('smoke/hello:v1')}"
    with_creds = run_tool(
        [*base, "--creds", "AWS:smoke-pass-1", ref], env=env, hidden=["smoke-pass-1"]
    )
    info = json.loads(with_creds.stdout)
    assert info["Architecture"] == "amd64"
    assert info["Os"] == "linux"
    assert len(info["Layers"]) == 1

    anonymous = run_tool([*base, ref], env=env, check=False)
    assert anonymous.returncode != 0
    assert "authentication required" in anonymous.stderr.lower(), anonymous.stderr

    wrong = run_tool([*base, "--creds", "AWS:not-the-password", ref], env=env, check=False)
    assert wrong.returncode != 0


def test_registry_without_auth(tmp_path: Path, registry_factory: RegistryFactory) -> None:
    registry = registry_factory(auth=False)
    assert registry.username is None
    layout = make_oci_layout(tmp_path / "img", "v1", {"a.txt": b"a\n"})
    registry.push(layout, "open/a:v1")
    proc = run_tool(
        [
            require_tool("skopeo"),
            "--policy",
            _policy(tmp_path),
            "inspect",
            "--tls-verify=false",
            "--raw",
            f"docker://{registry.ref('open/a:v1')}",
        ],
        env=_skopeo_env(tmp_path),
    )
    assert json.loads(proc.stdout)["mediaType"] == "application/vnd.oci.image.manifest.v1+json"


def test_docker_pull_with_plain_auths(
    tmp_path: Path, registry_factory: RegistryFactory, dockerd: Dockerd
) -> None:
    registry = registry_factory(username="AWS", password="smoke-pass-2")
    layout = make_oci_layout(tmp_path / "img", "v1", {"hello.txt": b"hello\n"})
    image = registry.ref("smoke/pull:v1")
    registry.push(layout, "smoke/pull:v1")

    config_dir = tmp_path / "docker-config"
    write_docker_auths(config_dir, {registry.host: ("AWS", "smoke-pass-2")})
    env = {**os.environ, "DOCKER_CONFIG": str(config_dir)}

    dockerd.docker("pull", "-q", image, env=env)
    try:
        inspected = json.loads(dockerd.docker("image", "inspect", image, env=env).stdout)
        assert inspected[0]["Architecture"] == "amd64"
    finally:
        dockerd.docker("image", "rm", "-f", image, env=env)

    # Without the auths entry the same pull is refused: the config file is what counted.
    empty = tmp_path / "empty-config"
    empty.mkdir()
    refused = dockerd.docker(
        "pull", "-q", image, env={**env, "DOCKER_CONFIG": str(empty)}, check=False
    )
    assert refused.returncode != 0
    assert "no basic auth credentials" in refused.stderr, refused.stderr


def test_multi_arch_index_keeps_both_manifests(
    tmp_path: Path, registry_factory: RegistryFactory
) -> None:
    registry = registry_factory(username="AWS", password="smoke-pass-3")
    layout = make_oci_index_layout(tmp_path / "multi", "v1", arches=("amd64", "arm64"))
    registry.push(layout, "smoke/multi:v1")  # an index: pushed with --all
    proc = run_tool(
        [
            require_tool("skopeo"),
            "--policy",
            _policy(tmp_path),
            "inspect",
            "--tls-verify=false",
            "--raw",
            "--creds",
            "AWS:smoke-pass-3",
            f"docker://{registry.ref('smoke/multi:v1')}",
        ],
        env=_skopeo_env(tmp_path),
        hidden=["smoke-pass-3"],
    )
    index = json.loads(proc.stdout)
    assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
    platforms = sorted(m["platform"]["architecture"] for m in index["manifests"])
    assert platforms == ["amd64", "arm64"]


def test_an_image_stored_on_disk_is_served_as_if_pushed(
    tmp_path: Path, registry_factory: RegistryFactory
) -> None:
    """`Registry.store` writes docker-registry's storage itself (benchmarks seed hundreds
    of images that way): what it serves must be what `push` would have made."""
    stored = registry_factory(auth=False)
    pushed = registry_factory(auth=False)
    index = make_oci_index_layout(tmp_path / "multi", "v1", note=b"stored\n")
    plain = make_oci_layout(tmp_path / "plain", "v2", {"a.txt": b"a\n"})

    digest = stored.store(index, "seed/multi:v1")
    stored.store(plain, "seed/plain:v2")
    pushed.push(index, "seed/multi:v1")

    env = _skopeo_env(tmp_path)
    skopeo = [require_tool("skopeo"), "--policy", _policy(tmp_path)]
    raw = run_tool(
        [
            *skopeo,
            "inspect",
            "--tls-verify=false",
            "--raw",
            f"docker://{stored.ref('seed/multi:v1')}",
        ],
        env=env,
    ).stdout
    (entry,) = json.loads((index / "index.json").read_text())["manifests"]
    assert digest == entry["digest"]
    assert raw == (index / "blobs" / "sha256" / digest.split(":")[1]).read_text()
    # Every image of the index, with its layers, copies out whole, at the same digest.
    out = tmp_path / "out"
    run_tool(
        [
            *skopeo,
            "copy",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            f"docker://{stored.ref('seed/multi:v1')}",
            f"oci:{out}:v1",
        ],
        env=env,
    )
    (copied,) = json.loads((out / "index.json").read_text())["manifests"]
    assert copied["digest"] == digest
    assert sorted(p.name for p in (out / "blobs" / "sha256").iterdir()) == sorted(
        p.name for p in (index / "blobs" / "sha256").iterdir()
    )
    # The catalog and the tag list see it, as they see a pushed one.
    with urllib.request.urlopen(f"{stored.url}/v2/_catalog", timeout=10) as reply:
        assert json.load(reply)["repositories"] == ["seed/multi", "seed/plain"]
    with urllib.request.urlopen(f"{stored.url}/v2/seed/multi/tags/list", timeout=10) as reply:
        assert json.load(reply)["tags"] == ["v1"]
    head = urllib.request.Request(
        f"{pushed.url}/v2/seed/multi/manifests/v1",
        method="HEAD",
        headers={"Accept": "application/vnd.oci.image.index.v1+json"},
    )
    with urllib.request.urlopen(head, timeout=10) as reply:
        assert reply.headers["Docker-Content-Digest"] == digest  # pushed: the same digest

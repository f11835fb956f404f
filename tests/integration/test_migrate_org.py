"""`ecr-sso migrate --org`: a whole Docker Hub organisation into ECR within the pull limit.

- "Docker Hub" is `FakeHub` (tests/fakehub.py): a real docker-registry behind the token
  dance, the pull limit (manifest GETs counted, HEADs not, 429 with Retry-After past the
  allowance) and the repository-listing API, reached through ECR_SSO_DOCKERHUB_API_URL and
  ECR_SSO_DOCKERHUB_REGISTRY_URL. Its one user's password is only in Docker's config.json
  (`auths["https://index.docker.io/v1/"]`, as `docker login` leaves it).
- "ECR" is a docker-registry whose one user is `AWS` with moto's token password, behind an
  alias in our config, reached only through our credential helper; the ECR API is moto's.
  Its access log counts what arrives (`PUT /v2/<repo>/manifests/<tag>`).
- Every image is written by hand as an OCI layout (no network): `app` has three multi-arch
  tags (amd64 + arm64: 3 manifest GETs each), `db` two plain ones (1 GET each), and the
  private `secret` one plain one.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BIN_DIR, Env
from ecrbed import (  # noqa: F401 - fixtures
    ACCOUNT,
    PROFILE,
    REGION,
    Cli,
    EcrBed,
    cli_fixture,
    ecr_fixture,
    ecr_front_fixture,
)
from fakehub import FakeHub
from realclients import (
    Registry,
    RegistryFactory,
    make_oci_index_layout,
    make_oci_layout,
    write_docker_auths,
)

pytestmark = pytest.mark.real_client

ORG = "connectedhome"
ECR_PASSWORD = f"{ACCOUNT}-auth-token"
#: repository → tag → multi-arch?
TAGS = {
    "app": {"1.0": True, "1.1": True, "2.0": True},
    "db": {"1": False, "2": False},
    "secret": {"1": False},
}
ALL = [(repo, tag) for repo, tags in TAGS.items() for tag in tags]
COST = {(repo, tag): 3 if multi else 1 for repo, tags in TAGS.items() for tag, multi in tags.items()}
TOTAL_COST = sum(COST.values())  # 9 + 2 + 1 = 12


@dataclass
class Bed:
    hub: FakeHub
    backend: Registry
    dest: Registry
    env: Env
    tmp: Path
    digests: dict[tuple[str, str], str]

    def push(self, repo: str, tag: str, *, multi: bool, content: bytes = b"") -> str:
        folder = self.tmp / f"img-{repo}-{tag}-{secrets.token_hex(4)}"
        if multi:
            note = content or f"{repo}:{tag}\n".encode()
            layout = make_oci_index_layout(folder, tag, note=note)
        else:
            layout = make_oci_layout(folder, tag, {"f": content or f"{repo}:{tag}\n".encode()})
        self.backend.push(layout, f"{ORG}/{repo}:{tag}")
        (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
        self.digests[(repo, tag)] = entry["digest"]
        return str(entry["digest"])

    def puts(self, repo: str, tag: str) -> int:
        """How many times ECR was sent the manifest of `repo:tag` (its access log)."""
        return self.dest.log().count(f'"PUT /v2/{repo}/manifests/{tag} ')

    def ecr_digest(self, repo: str, tag: str) -> str | None:
        import base64
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{self.dest.url}/v2/{repo}/manifests/{tag}",
            method="HEAD",
            headers={"Accept": ", ".join(_ACCEPT)},
        )
        basic = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return str(reply.headers["Docker-Content-Digest"])
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise

    def delete(self, repo: str, tag: str) -> None:
        import base64
        import urllib.request

        digest = self.ecr_digest(repo, tag)
        request = urllib.request.Request(f"{self.dest.url}/v2/{repo}/manifests/{digest}", method="DELETE")
        basic = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def journal(self) -> list[dict[str, object]]:
        path = self.env.home / ".local" / "state" / "ecr-sso" / "migrate" / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def environ(self) -> dict[str, str]:
        return dict(os.environ)


_ACCEPT = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


@pytest.fixture
def bed(
    ecr: EcrBed,
    env: Env,
    registry_factory: RegistryFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Bed]:
    password = secrets.token_urlsafe(12)
    backend = registry_factory(auth=False)
    dest = registry_factory(username="AWS", password=ECR_PASSWORD)
    hub = FakeHub(backend.host, username="hubuser", password=password, private={f"{ORG}/secret"}).start()
    write_docker_auths(env.docker_config_dir, {"https://index.docker.io/v1/": ("hubuser", password)})
    ecr.config(
        f'dockerhub_org = "{ORG}"\n'
        f'[aliases."{dest.host}"]\naccount = "{ACCOUNT}"\nregion = "{REGION}"\nprofile = "{PROFILE}"\n'
    )
    conf = env.home / ".config" / "containers" / "registries.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        "".join(f'[[registry]]\nlocation = "{h}"\ninsecure = true\n' for h in (hub.registry_host, dest.host))
    )
    monkeypatch.setenv("ECR_SSO_DOCKERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("ECR_SSO_DOCKERHUB_REGISTRY_URL", hub.registry_url)
    setup = Bed(hub, backend, dest, env, tmp_path, {})
    for repo, tags in TAGS.items():
        for tag, multi in tags.items():
            setup.push(repo, tag, multi=multi)
    try:
        yield setup
    finally:
        hub.stop()


def _rows(out: str) -> dict[str, list[str]]:
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["RESULT", "SOURCE", "DESTINATION"]
    return {row.split()[1]: row.split() for row in rows if row.strip()}


def test_the_whole_organisation_migrates_then_a_rerun_spends_nothing(bed: Bed, ecr: EcrBed, cli: Cli) -> None:
    result = cli("migrate", "--registry", bed.dest.host)

    assert result.code == 0, result.out + result.err
    rows = _rows(result.out)
    assert set(rows) == {f"{ORG}/{repo}:{tag}" for repo, tag in ALL}
    for repo, tag in ALL:
        row = rows[f"{ORG}/{repo}:{tag}"]
        assert row[0] == "copied"
        assert row[2] == f"{bed.dest.host}/{repo}:{tag}"
        assert row[3] == bed.digests[(repo, tag)]
        assert bed.ecr_digest(repo, tag) == bed.digests[(repo, tag)]
        assert bed.puts(repo, tag) == 1
    assert sorted(ecr.names()) == ["app", "db", "secret"]
    # Exactly what the copies need: an index and its two images, or one manifest.
    assert bed.hub.gets() == TOTAL_COST
    assert bed.hub.refused_gets == 0
    assert "copied connectedhome/app:1.0 to" in result.err  # one line per tag, no terminal

    bed.hub.reset_counts()
    again = cli("migrate", "--registry", bed.dest.host)

    assert again.code == 0, again.err
    assert {row[0] for row in _rows(again.out).values()} == {"skipped"}
    assert bed.hub.gets() == 0
    assert len(bed.hub.manifest_heads) == len(ALL)
    assert all(bed.puts(repo, tag) == 1 for repo, tag in ALL)

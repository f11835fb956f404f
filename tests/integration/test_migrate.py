"""`ecr-sso migrate`: real skopeo between two local docker-registry instances.

- "Docker Hub" is a registry whose one user's password is only in Docker's config.json
  (`auths`), as `docker login` leaves it: the source side's credentials.
- "ECR" is a registry behind an alias in our config for account ACCOUNT, served by the SSO
  profile `dev`. Its one user is `AWS` with the password moto's GetAuthorizationToken gives
  for that account (`ACCOUNT-auth-token`), so skopeo gets in only through our credential
  helper (which fetches it with `dev`'s role credentials from the fake AWS). Docker's
  config has no entry for it at all. The ECR API (create, describe) is moto's too, behind
  the paginating front, the one endpoint both the helper and migrate call.
- skopeo reaches both plain-HTTP registries by the user's own registries.conf
  (`~/.config/containers/registries.conf`, `insecure = true`), as for any skopeo use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.request
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
from fakeaws import GET_ROLE_CREDENTIALS, FakeAWS
from realclients import (
    Registry,
    RegistryFactory,
    make_oci_index_layout,
    make_oci_layout,
    user_registries_conf,
    write_docker_auths,
    write_insecure_registries,
)

ECR_PASSWORD = f"{ACCOUNT}-auth-token"  # moto's ECR token, decoded: AWS:<account>-auth-token
NAME = "connectedhome/app"
ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


# -- without skopeo on PATH ----------------------------------------------------------------------


def test_without_skopeo_says_how_to_install_it(
    env: Env, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(BIN_DIR))  # python and ecr-sso, no skopeo
    env.write_config('default_profile = "dev"\n')

    result = cli("migrate", "connectedhome/app")

    assert result.code == 1
    assert result.out == ""
    assert result.err == (
        "ecr-sso: skopeo is not installed, and migrate copies images with it: install it"
        " with `apt-get install skopeo` (Debian, Ubuntu), `dnf install skopeo` (Fedora),"
        " `brew install skopeo` (macOS), or see"
        " https://github.com/containers/skopeo/blob/main/install.md\n"
    )


# -- two real registries ---------------------------------------------------------------------------


@dataclass
class Bed:
    hub: Registry
    dest: Registry
    digests: dict[str, str]  # tag at the hub → manifest digest
    index_children: list[str]  # the per-arch manifests of tag 2.0
    tmp: Path

    @property
    def source(self) -> str:
        return f"{self.hub.host}/{NAME}"

    def push(self, tag: str, content: bytes) -> str:
        layout = make_oci_layout(self.tmp / f"img-{tag}-{len(content)}", tag, {"f": content})
        self.hub.push(layout, f"{NAME}:{tag}")
        (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
        self.digests[tag] = entry["digest"]
        return str(entry["digest"])

    def manifest_puts(self) -> int:
        """How many manifests the ECR stand-in has been sent (its access log)."""
        return self.dest.log().count(f'"PUT /v2/{NAME}/manifests/')


def manifest(registry: Registry, reference: str, name: str = NAME) -> tuple[str, bytes]:
    """The registry's own answer for a manifest, with its own credentials: the digest it
    reports and the raw bytes."""
    request = urllib.request.Request(
        f"{registry.url}/v2/{name}/manifests/{reference}", headers={"Accept": ACCEPT}
    )
    basic = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
    request.add_header("Authorization", f"Basic {basic}")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.headers["Docker-Content-Digest"], reply.read()


@pytest.fixture
def bed(ecr: EcrBed, env: Env, registry_factory: RegistryFactory, tmp_path: Path) -> Bed:
    hub_password = secrets.token_urlsafe(12)
    hub = registry_factory(username="hubuser", password=hub_password)
    dest = registry_factory(username="AWS", password=ECR_PASSWORD)
    write_docker_auths(env.docker_config_dir, {hub.host: ("hubuser", hub_password)})
    ecr.config(
        f'[aliases."{dest.host}"]\naccount = "{ACCOUNT}"\nregion = "{REGION}"\n'
        f'profile = "{PROFILE}"\n'
    )
    write_insecure_registries(user_registries_conf(env.home), (hub.host, dest.host))
    setup = Bed(hub, dest, {}, [], tmp_path)
    setup.push("1.0.2", b"one oh two\n")
    setup.push("1.0.12", b"one oh twelve\n")
    index = make_oci_index_layout(tmp_path / "multi", "2.0")
    hub.push(index, f"{NAME}:2.0")
    (entry,) = json.loads((index / "index.json").read_text())["manifests"]
    setup.digests["2.0"] = entry["digest"]
    blob = index / "blobs" / "sha256" / entry["digest"].removeprefix("sha256:")
    setup.index_children = [m["digest"] for m in json.loads(blob.read_text())["manifests"]]
    return setup


def _rows(out: str) -> list[list[str]]:
    header, *rows = out.splitlines()
    assert header.split() == ["RESULT", "SOURCE", "DESTINATION", "DIGEST", "OR", "REASON"]
    return [row.split() for row in rows]


@pytest.mark.real_client
def test_migrate_copies_every_tag_then_nothing(
    bed: Bed, ecr: EcrBed, cli: Cli, aws: FakeAWS
) -> None:
    result = cli("migrate", "--registry", bed.dest.host, bed.source)

    assert result.code == 0, result.err
    dest = f"{bed.dest.host}/{NAME}"
    assert _rows(result.out) == [
        ["copied", f"{bed.source}:{tag}", f"{dest}:{tag}", bed.digests[tag]]
        for tag in ("1.0.2", "1.0.12", "2.0")
    ]
    assert f"created repository {NAME} in {bed.dest.host}\n" in result.err
    assert "copying" not in result.err  # progress is for terminals only
    # The repository was made with the ECR API, in the alias's account.
    assert ecr.names() == [NAME]
    assert ecr.front.count("CreateRepository") == 1
    # The ECR side signed in through our helper: role credentials, then an ECR token.
    assert ecr.front.count("GetAuthorizationToken") >= 1
    assert aws.count(GET_ROLE_CREDENTIALS) >= 1
    for tag, digest in bed.digests.items():
        reported, raw = manifest(bed.dest, tag)
        assert reported == digest == "sha256:" + hashlib.sha256(raw).hexdigest()
    # The index arrived whole: the same bytes, and each architecture's image with it.
    assert manifest(bed.dest, "2.0")[1] == manifest(bed.hub, "2.0")[1]
    for child in bed.index_children:
        assert manifest(bed.dest, child)[0] == child
    puts = bed.manifest_puts()
    assert puts >= 5  # three tags, two of them per-arch images of the index

    again = cli("migrate", "--registry", bed.dest.host, bed.source)

    assert again.code == 0, again.err
    assert [row[0] for row in _rows(again.out)] == ["skipped"] * 3
    assert [row[3] for row in _rows(again.out)] == [
        bed.digests[t] for t in ("1.0.2", "1.0.12", "2.0")
    ]
    assert bed.manifest_puts() == puts
    assert ecr.front.count("CreateRepository") == 1
    assert "created repository" not in again.err


@pytest.mark.real_client
def test_migrate_copies_a_tag_whose_digest_changed(bed: Bed, cli: Cli) -> None:
    assert cli("migrate", "--registry", bed.dest.host, bed.source).code == 0
    changed = bed.push("1.0.12", b"rebuilt\n")

    result = cli("migrate", "--registry", bed.dest.host, bed.source, "--json")

    assert result.code == 0, result.err
    outcomes = {entry["source"]: entry for entry in json.loads(result.out)}
    assert outcomes[f"{bed.source}:1.0.12"]["result"] == "copied"
    assert outcomes[f"{bed.source}:1.0.12"]["digest"] == changed
    assert outcomes[f"{bed.source}:1.0.2"]["result"] == "skipped"
    assert outcomes[f"{bed.source}:2.0"]["result"] == "skipped"
    assert manifest(bed.dest, "1.0.12")[0] == changed


@pytest.mark.real_client
def test_migrate_only_matching_tags_and_reports_failures(bed: Bed, ecr: EcrBed, cli: Cli) -> None:
    result = cli(
        "migrate",
        "--registry",
        bed.dest.host,
        "--tags",
        "1.*",
        bed.source,
        f"{bed.hub.host}/connectedhome/missing",
    )

    assert result.code == 1
    rows = _rows(result.out)
    assert [row[:2] for row in rows] == [
        ["copied", f"{bed.source}:1.0.2"],
        ["copied", f"{bed.source}:1.0.12"],
        ["failed", f"{bed.hub.host}/connectedhome/missing"],
    ]
    assert "404" in " ".join(rows[2][3:])
    assert result.err.endswith("ecr-sso: 1 of 3 failed\n")
    with pytest.raises(urllib.error.HTTPError):
        manifest(bed.dest, "2.0")
    # Nothing is created for a source that could not be read.
    assert ecr.names() == [NAME]


@pytest.mark.real_client
def test_migrate_one_tag_and_a_dry_run(bed: Bed, ecr: EcrBed, cli: Cli) -> None:
    dry = cli("migrate", "--registry", bed.dest.host, "--dry-run", bed.source)

    assert dry.code == 0, dry.err
    assert [row[0:2] for row in _rows(dry.out)] == [["would", "copy"]] * 3
    assert f"would create repository {NAME} in {bed.dest.host}\n" in dry.err
    assert ecr.names() == []
    assert bed.manifest_puts() == 0

    one = cli("migrate", "--registry", bed.dest.host, f"{bed.source}:2.0")

    assert one.code == 0, one.err
    assert [row[:2] for row in _rows(one.out)] == [["copied", f"{bed.source}:2.0"]]
    assert manifest(bed.dest, "2.0")[0] == bed.digests["2.0"]


@pytest.mark.real_client
def test_migrate_without_source_credentials_fails_per_source(bed: Bed, env: Env, cli: Cli) -> None:
    (env.docker_config_dir / "config.json").write_text("{}")

    result = cli("migrate", "--registry", bed.dest.host, bed.source)

    assert result.code == 1
    (row,) = _rows(result.out)
    assert row[:2] == ["failed", bed.source]
    assert "authentication required" in " ".join(row).lower()
    assert bed.manifest_puts() == 0

"""`ecr-sso promote`: real skopeo between three docker-registry instances standing in for
the registries of three accounts (dev, stage, prod), each behind an alias in our config
mapped to its SSO profile. Each registry's one user is `AWS` with the password moto's
GetAuthorizationToken gives for its account, so skopeo gets in, on both sides, only
through our credential helper. The ECR API (describe, create) is moto's, behind the
paginating front; the three accounts live in three regions, so moto keeps them apart."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import SSO, Env
from ecrbed import (  # noqa: F401 - fixtures
    Cli,
    EcrBed,
    cli_fixture,
    ecr_fixture,
    ecr_front_fixture,
)
from realclients import (
    Registry,
    RegistryFactory,
    make_oci_index_layout,
    make_oci_layout,
    user_registries_conf,
    write_insecure_registries,
)
from test_migrate import manifest

ACCOUNTS = {
    "dev": ("111111111111", "Developer", "eu-west-1"),
    "stage": ("333333333333", "Deployer", "eu-central-1"),
    "prod": ("222222222222", "Deployer", "us-east-1"),
}
NAME = "app"


@dataclass
class Bed:
    registries: dict[str, Registry]
    digest: str  # the index pushed to dev as app:1.4
    children: list[str]
    ecr: EcrBed
    tmp: Path

    def host(self, profile: str) -> str:
        return self.registries[profile].host

    def puts(self, profile: str) -> int:
        return self.registries[profile].log().count(f'"PUT /v2/{NAME}/manifests/')

    def repository(self, profile: str) -> dict[str, Any]:
        """The ECR API's view of the repository in `profile`'s account."""
        import botocore.session

        account, _, region = ACCOUNTS[profile]
        client = botocore.session.Session().create_client(
            "ecr",
            region_name=region,
            endpoint_url=self.ecr.front.url,
            aws_access_key_id="arrange",
            aws_secret_access_key="arrange",
        )
        reply = client.describe_repositories(registryId=account, repositoryNames=[NAME])
        repo: dict[str, Any] = reply["repositories"][0]
        return repo

    def push_other(self, profile: str, tag: str) -> str:
        layout = make_oci_layout(self.tmp / f"other-{profile}", tag, {"f": b"another image\n"})
        self.registries[profile].push(layout, f"{NAME}:{tag}")
        (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
        return str(entry["digest"])


@pytest.fixture
def bed(ecr: EcrBed, env: Env, sso: SSO, registry_factory: RegistryFactory, tmp_path: Path) -> Bed:
    sso.login(profiles=ACCOUNTS)
    registries = {
        profile: registry_factory(username="AWS", password=f"{account}-auth-token")
        for profile, (account, _, _) in ACCOUNTS.items()
    }
    ecr.config(
        "".join(
            f'[aliases."{registries[p].host}"]\naccount = "{a}"\nregion = "{r}"\nprofile = "{p}"\n'
            for p, (a, _, r) in ACCOUNTS.items()
        )
        + '\n[promote]\norder = ["dev", "stage", "prod"]\n'
    )
    write_insecure_registries(user_registries_conf(env.home), (r.host for r in registries.values()))
    # The source repository: immutable tags, scanned on push.
    ecr.client.create_repository(
        registryId=ACCOUNTS["dev"][0],
        repositoryName=NAME,
        imageTagMutability="IMMUTABLE",
        imageScanningConfiguration={"scanOnPush": True},
    )
    index = make_oci_index_layout(tmp_path / "multi", "1.4")
    registries["dev"].push(index, f"{NAME}:1.4")
    (entry,) = json.loads((index / "index.json").read_text())["manifests"]
    blob = index / "blobs" / "sha256" / entry["digest"].removeprefix("sha256:")
    children = [m["digest"] for m in json.loads(blob.read_text())["manifests"]]
    return Bed(registries, entry["digest"], children, ecr, tmp_path)


@pytest.mark.real_client
def test_promote_copies_the_index_by_digest_then_nothing(bed: Bed, cli: Cli) -> None:
    result = cli("promote", f"{NAME}:1.4", "--from", "dev", "--to", "stage,prod")

    assert result.code == 0, result.err
    assert result.lines == [
        f"{bed.host('stage')}/{NAME}@{bed.digest}",
        f"{bed.host('prod')}/{NAME}@{bed.digest}",
    ]
    source_bytes = manifest(bed.registries["dev"], "1.4", NAME)[1]
    for profile in ("stage", "prod"):
        reported, raw = manifest(bed.registries[profile], "1.4", NAME)
        assert reported == bed.digest == "sha256:" + hashlib.sha256(raw).hexdigest()
        assert raw == source_bytes  # the same index, byte for byte
        for child in bed.children:
            assert manifest(bed.registries[profile], child, NAME)[0] == child
        repo = bed.repository(profile)
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert f"promote: created repository {NAME} in {bed.host(profile)}\n" in result.err
    puts = {profile: bed.puts(profile) for profile in ("stage", "prod")}
    assert all(count >= 3 for count in puts.values())  # the index and its two images

    again = cli("promote", f"{NAME}:1.4", "--from", "dev", "--to", "stage,prod", "--json")

    assert again.code == 0, again.err
    assert [(e["result"], e["digest"]) for e in json.loads(again.out)] == [
        ("unchanged", bed.digest),
        ("unchanged", bed.digest),
    ]
    assert {profile: bed.puts(profile) for profile in ("stage", "prod")} == puts
    assert "nothing copied" in again.err
    assert "created repository" not in again.err


@pytest.mark.real_client
def test_a_tag_pointing_elsewhere_is_refused_unless_forced(bed: Bed, cli: Cli) -> None:
    other = bed.push_other("prod", "1.4")

    refused = cli("promote", f"{NAME}:1.4", "--from", "dev", "--to", "stage,prod")

    assert refused.code == 1
    assert refused.lines == [f"{bed.host('stage')}/{NAME}@{bed.digest}"]
    assert (
        f"ecr-sso: prod: refused: {bed.host('prod')}/{NAME}:1.4 points at {other}, not"
        f" {bed.digest}; --force moves it\n"
    ) in refused.err
    assert refused.err.endswith("ecr-sso: 1 of 2 destinations not promoted; succeeded: stage\n")
    assert manifest(bed.registries["prod"], "1.4", NAME)[0] == other

    forced = cli("promote", f"{NAME}:1.4", "--from", "dev", "--to", "prod", "--force")

    assert forced.code == 0, forced.err
    assert forced.lines == [f"{bed.host('prod')}/{NAME}@{bed.digest}"]
    assert manifest(bed.registries["prod"], "1.4", NAME)[0] == bed.digest


@pytest.mark.real_client
def test_by_digest_to_next_with_a_new_tag_and_a_dry_run(bed: Bed, cli: Cli) -> None:
    pinned = f"{NAME}@{bed.digest}"
    dry = cli("promote", pinned, "--from", "dev", "--to", "next", "--tag", "rc1", "--dry-run")

    assert dry.code == 0, dry.err
    assert dry.lines == [f"{bed.host('stage')}/{NAME}@{bed.digest}"]
    assert f"promote: would create repository {NAME} in {bed.host('stage')}\n" in dry.err
    assert bed.puts("stage") == 0

    result = cli("promote", pinned, "--from", "dev", "--to", "next", "--tag", "rc1")

    assert result.code == 0, result.err
    assert manifest(bed.registries["stage"], "rc1", NAME)[0] == bed.digest
    untagged = cli("promote", pinned, "--from", "stage", "--to", "next")
    assert untagged.code == 2
    assert untagged.err == (
        f"ecr-sso: {pinned}: an image named by digest needs --tag TAG for the destinations\n"
    )


@pytest.mark.real_client
def test_a_missing_source_fails_before_anything(bed: Bed, cli: Cli) -> None:
    result = cli("promote", f"{NAME}:9.9", "--from", "dev", "--to", "prod")

    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(f"ecr-sso: cannot read {bed.host('dev')}/{NAME}:9.9: ")
    assert "manifest unknown" in result.err
    assert bed.puts("prod") == 0

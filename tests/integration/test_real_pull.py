"""Real clients pull through `docker-credential-ecr-sso`, with no credentials of their own.

A local docker-registry stands in for an ECR registry: its one htpasswd user is `AWS` with
the password the fake AWS hands role ROLE for account ACCOUNT. Our config maps the
registry's `127.0.0.1:PORT` as an alias of that account, served by an SSO profile with that
role, and Docker's config names our helper for the host. So a client gets in exactly when
the helper fetched (or cached) the right ECR token; nothing else in its environment knows
the password.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import HELPER, SSO, Env, RunHelper
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, GET_ROLE_CREDENTIALS, FakeAWS
from realclients import (
    Dockerd,
    Registry,
    RegistryFactory,
    make_oci_layout,
    require_tool,
    run_tool,
)

pytestmark = pytest.mark.real_client

ACCOUNT = "111111111111"
ROLE = "Developer"
REGION = "eu-west-1"
PASSWORD = FakeAWS.password(ACCOUNT, ROLE)
# sso.login()'s default profiles: `dev` is (ACCOUNT, ROLE); `prod` is another account's role.
PROFILE = "dev"
WRONG_PROFILE = "prod"
# What docker-registry 2.8 logs (logfmt, quotes escaped) when basic auth fails.
AWS_USER_FAILURE = 'error authenticating user \\"AWS\\": authentication failure'
ANONYMOUS_FAILURE = 'error authenticating user \\"\\": authentication failure'


def _hide(text: str) -> str:
    """`text` fit for an assertion message: the registry password never shows."""
    return text.replace(PASSWORD, "***")


@dataclass
class Bed:
    """One registry standing in for ECR, and everything pointed at it."""

    registry: Registry
    layout: Path  # the image pushed as `app:1`, an OCI layout
    digest: str  # its manifest digest
    docker_config: Path  # $DOCKER_CONFIG/config.json
    skopeo: list[str]  # skopeo with our own policy and an empty registries.conf

    @property
    def host(self) -> str:
        return self.registry.host

    def write_docker_config(self, config: Mapping[str, object]) -> None:
        self.docker_config.parent.mkdir(parents=True, exist_ok=True)
        self.docker_config.write_text(json.dumps(config))

    def docker_config_json(self) -> dict[str, object]:
        data = json.loads(self.docker_config.read_text())
        assert isinstance(data, dict)
        return data


def _alias_config(host: str, profile: str) -> str:
    return (
        f'[aliases."{host}"]\naccount = "{ACCOUNT}"\nregion = "{REGION}"\nprofile = "{profile}"\n'
    )


@pytest.fixture
def bed(env: Env, sso: SSO, registry_factory: RegistryFactory, tmp_path: Path) -> Bed:
    """The registry (with `app:1` pushed), our alias for it, an SSO login, and Docker's
    config naming our helper for its host."""
    registry = registry_factory(username="AWS", password=PASSWORD)
    layout = make_oci_layout(tmp_path / "image", "1", {"hello.txt": b"hello from ecr-sso\n"})
    (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
    registry.push(layout, "app:1")  # through the registry's own auth file, not our helper

    env.write_config(_alias_config(registry.host, PROFILE))
    sso.login()
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    registries_conf = tmp_path / "registries.conf"
    registries_conf.write_text("")
    skopeo = [
        require_tool("skopeo"),
        "--policy",
        str(policy),
        "--registries-conf",
        str(registries_conf),
    ]
    setup = Bed(registry, layout, entry["digest"], env.docker_config_dir / "config.json", skopeo)
    setup.write_docker_config({"credHelpers": {registry.host: "ecr-sso"}})
    return setup


def _no_other_credentials(env: Env) -> None:
    """Where skopeo (containers/image) looks for credentials besides $DOCKER_CONFIG: the
    env fixture points them all into the test's own empty folders."""
    assert "REGISTRY_AUTH_FILE" not in os.environ
    runtime = Path(os.environ["XDG_RUNTIME_DIR"])
    config_home = Path(os.environ["XDG_CONFIG_HOME"])
    for place in (runtime, config_home, env.home):
        assert env.home.parent in place.parents, place
    assert not (runtime / "containers" / "auth.json").exists()
    assert not (config_home / "containers" / "auth.json").exists()
    assert Path(os.environ["DOCKER_CONFIG"]) == env.docker_config_dir


# -- skopeo ------------------------------------------------------------------------------------


def test_skopeo_inspect_and_copy_through_the_helper(
    bed: Bed, aws: FakeAWS, env: Env, tmp_path: Path
) -> None:
    _no_other_credentials(env)
    ref = f"docker://{bed.registry.ref('app:1')}"

    inspected = run_tool([*bed.skopeo, "inspect", "--tls-verify=false", ref], hidden=[PASSWORD])
    info = json.loads(inspected.stdout)
    assert info["Digest"] == bed.digest
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    assert aws.count(GET_ROLE_CREDENTIALS) == 1
    call = next(c for c in aws.calls if c.operation == ECR_GET_AUTHORIZATION_TOKEN)
    assert call.params == {"registryIds": [ACCOUNT]}
    assert call.region == REGION
    assert aws.caller(call.akid or "") == (ACCOUNT, ROLE)

    copied = tmp_path / "copied"
    run_tool(
        [*bed.skopeo, "copy", "--src-tls-verify=false", ref, f"oci:{copied}:1"],
        hidden=[PASSWORD],
    )
    (entry,) = json.loads((copied / "index.json").read_text())["manifests"]
    assert entry["digest"] == bed.digest
    # The second run was served from our cache.
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    assert aws.count(GET_ROLE_CREDENTIALS) == 1


def test_skopeo_pushes_through_the_helper(bed: Bed, aws: FakeAWS, tmp_path: Path) -> None:
    pushed = make_oci_layout(tmp_path / "pushed", "2", {"pushed.txt": b"pushed by skopeo\n"})
    (entry,) = json.loads((pushed / "index.json").read_text())["manifests"]
    dest = f"docker://{bed.registry.ref('app:2')}"

    run_tool(
        [*bed.skopeo, "copy", "--dest-tls-verify=false", f"oci:{pushed}:2", dest],
        hidden=[PASSWORD],
    )

    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    # Read back with the registry's own credentials, not through the helper.
    back = run_tool(
        [
            *bed.skopeo,
            "inspect",
            "--tls-verify=false",
            "--creds",
            f"AWS:{PASSWORD}",
            dest,
        ],
        env=bed.registry.skopeo_env(),
        hidden=[PASSWORD],
    )
    assert json.loads(back.stdout)["Digest"] == entry["digest"]
    assert entry["digest"] != bed.digest


def test_skopeo_without_the_helper_entry_is_refused(bed: Bed, aws: FakeAWS, env: Env) -> None:
    """The control: the same inspect, with `credHelpers` gone, has no credentials at all."""
    _no_other_credentials(env)
    bed.write_docker_config({})
    ref = f"docker://{bed.registry.ref('app:1')}"

    refused = run_tool([*bed.skopeo, "inspect", "--tls-verify=false", ref], check=False)

    assert refused.returncode != 0
    assert "authentication required" in refused.stderr.lower(), _hide(refused.stderr)
    assert aws.calls == []
    # The registry saw no user name at all: skopeo found no credentials anywhere.
    assert ANONYMOUS_FAILURE in bed.registry.log()
    assert AWS_USER_FAILURE not in bed.registry.log()


def test_skopeo_with_the_wrong_profile_is_refused(
    bed: Bed, aws: FakeAWS, env: Env, run_helper: RunHelper
) -> None:
    """The token is what authenticates: another role's token for the same registry is
    refused by it."""
    env.write_config(_alias_config(bed.host, WRONG_PROFILE))
    ref = f"docker://{bed.registry.ref('app:1')}"

    refused = run_tool([*bed.skopeo, "inspect", "--tls-verify=false", ref], check=False)

    assert refused.returncode != 0
    assert "authentication required" in refused.stderr.lower(), _hide(refused.stderr)
    # Unlike the anonymous control, skopeo presented user AWS with a password: the wrong one.
    assert AWS_USER_FAILURE in bed.registry.log()
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    call = next(c for c in aws.calls if c.operation == ECR_GET_AUTHORIZATION_TOKEN)
    assert aws.caller(call.akid or "") == ("222222222222", "ReadOnly")
    assert call.params == {"registryIds": [ACCOUNT]}
    # The helper did answer: with the other role's password, which the registry refused.
    got = run_helper("get", bed.host)
    assert got.returncode == 0
    secret = json.loads(got.stdout)["Secret"]
    assert secret == FakeAWS.password(ACCOUNT, "ReadOnly")
    assert secret != PASSWORD


def test_skopeo_shows_the_helpers_line_when_the_sso_login_expired(
    bed: Bed, aws: FakeAWS, sso: SSO
) -> None:
    """skopeo, unlike `docker pull`, passes a failing helper's stdout on to the user."""
    sso.expire()
    ref = f"docker://{bed.registry.ref('app:1')}"

    failed = run_tool([*bed.skopeo, "inspect", "--tls-verify=false", ref], check=False)

    assert failed.returncode != 0
    assert "the SSO login for profile 'dev' is missing or expired" in failed.stderr, _hide(
        failed.stderr
    )
    assert "Traceback" not in failed.stderr
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 0


# -- docker CLI and dockerd --------------------------------------------------------------------


def _spy(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose PATH finds a `docker-credential-ecr-sso` that records each
    action in a log, then runs ours; and that log."""
    folder = tmp_path / "spy"
    folder.mkdir()
    log = tmp_path / "helper-actions.log"
    script = folder / HELPER.name
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\nexec "{HELPER}" "$@"\n')
    script.chmod(0o755)
    environ = dict(os.environ)
    environ["PATH"] = f"{folder}{os.pathsep}{environ['PATH']}"
    return environ, log


def _actions(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def _unique(name: str) -> str:
    """A repository name no other test uses: the session's daemon keeps every image."""
    return f"{name}-{secrets.token_hex(4)}"


def test_docker_pull_through_the_helper(
    bed: Bed, aws: FakeAWS, dockerd: Dockerd, tmp_path: Path
) -> None:
    name = _unique("docker-pull")
    bed.registry.push(bed.layout, f"{name}:1")
    image = bed.registry.ref(f"{name}:1")
    environ, log = _spy(tmp_path)

    # The control: without the credHelpers entry the daemon has nothing to present.
    bed.write_docker_config({})
    refused = dockerd.docker("pull", "-q", image, env=environ, check=False)
    assert refused.returncode != 0
    assert "no basic auth credentials" in refused.stderr, _hide(refused.stderr)
    assert _actions(log) == []

    bed.write_docker_config({"credHelpers": {bed.host: "ecr-sso"}})
    dockerd.docker("pull", "-q", image, env=environ)
    try:
        inspected = json.loads(dockerd.docker("image", "inspect", image, env=environ).stdout)
        assert inspected[0]["RepoDigests"] == [f"{bed.registry.ref(name)}@{bed.digest}"]
    finally:
        dockerd.docker("image", "rm", "-f", image, env=environ)
    assert set(_actions(log)) == {"get"}
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_docker_login_stores_and_logout_erases_through_the_helper(
    bed: Bed, aws: FakeAWS, dockerd: Dockerd, run_helper: RunHelper, tmp_path: Path
) -> None:
    name = _unique("docker-login")
    bed.registry.push(bed.layout, f"{name}:1")
    image = bed.registry.ref(f"{name}:1")
    environ, log = _spy(tmp_path)

    login = dockerd.docker(
        "login", bed.host, "-u", "AWS", "--password-stdin", input=PASSWORD, env=environ
    )

    assert "Login Succeeded" in login.stdout, _hide(login.stdout + login.stderr)
    # docker asks the daemon to check the password, then hands it to the helper, and to
    # nothing else: config.json keeps an empty entry for the host, never the secret.
    assert set(_actions(log)) == {"store"}
    text = bed.docker_config.read_text()
    assert PASSWORD not in text
    assert base64.b64encode(f"AWS:{PASSWORD}".encode()).decode() not in text
    config = bed.docker_config_json()
    assert config["credHelpers"] == {bed.host: "ecr-sso"}
    assert config.get("auths", {}).get(bed.host, {}) == {}

    # What `store` kept is what our cache serves now: the pull makes no AWS call at all.
    log.unlink()
    dockerd.docker("pull", "-q", image, env=environ)
    try:
        assert set(_actions(log)) == {"get"}
    finally:
        dockerd.docker("image", "rm", "-f", image, env=environ)
    assert aws.calls == []

    log.unlink()
    logout = dockerd.docker("logout", bed.host, env=environ)

    assert f"Removing login credentials for {bed.host}" in logout.stdout, logout.stdout
    assert set(_actions(log)) == {"erase"}
    assert bed.host not in bed.docker_config_json().get("auths", {})
    # Erased: the next get has to ask AWS again (and gets the same password back).
    got = run_helper("get", bed.host)
    assert got.returncode == 0, _hide(got.stdout.decode())
    assert json.loads(got.stdout)["Secret"] == PASSWORD
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


# -- podman --------------------------------------------------------------------------------------


def test_podman_pull_through_the_helper(
    bed: Bed, aws: FakeAWS, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    podman = require_tool("podman")
    if os.geteuid() != 0:
        # Rootless podman maps the user's subordinate IDs (/etc/subuid) with newuidmap.
        require_tool("newuidmap")
    # podman refuses a run root longer than 50 characters; tmp_path may well be.
    runroot = Path(tempfile.mkdtemp(prefix="podman", dir="/tmp"))
    request.addfinalizer(lambda: shutil.rmtree(runroot, ignore_errors=True))
    base = [
        podman,
        "--root",
        str(tmp_path / "podman-storage"),
        "--runroot",
        str(runroot / "run"),
        "--tmpdir",
        str(runroot / "tmp"),
        "--network-config-dir",
        str(runroot / "networks"),
        "--storage-driver=vfs",
        "--cgroup-manager=cgroupfs",
        "--events-backend=file",
    ]
    image = bed.registry.ref("app:1")

    run_tool([*base, "pull", "-q", "--tls-verify=false", image], hidden=[PASSWORD])

    listed = run_tool([*base, "image", "inspect", image])
    assert json.loads(listed.stdout)[0]["Digest"] == bed.digest
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1

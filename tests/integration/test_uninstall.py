"""`install/install.sh --uninstall` leaves no trace: a home with the user's own AWS and
Docker configs, installed with a team file, signed in (a real sign-in through the fake
SSO-OIDC and the fake browser), used for a real pull, then uninstalled, holds exactly the
paths and bytes it held before.

The install runs as on a newcomer's machine: from a fresh checkout in a folder named
`ecr-sso` (as `git clone` names it), with the pip a new venv brings (ensurepip's) and no
pip settings from the test's environment. That pip keeps the wheel it builds from such a
folder in `~/.cache/pip` unless told not to."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from fakeoidc import (  # noqa: F401 - fixtures
    FakeBrowser,
    FakeOIDC,
    browser_fixture,
    oidc_fixture,
    signin_server,
)
from realclients import RegistryFactory, make_oci_layout, require_tool, run_tool
from test_install import SYSTEM_PATH, fresh_checkout, run_install

pytestmark = pytest.mark.real_client

ACCOUNT = "111111111111"
ROLE = "Developer"
PASSWORD = FakeAWS.password(ACCOUNT, ROLE)
USERS_AWS = "# mine\n[default]\nregion = eu-west-1\n\n[profile theirs]\nregion = us-east-2"
USERS_DOCKER = '{\n  "auths": {\n    "quay.io": {}\n  },\n  "detachKeys": "ctrl-x"\n}'


def home_snapshot(home: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every path under `home`: its mode, and its bytes (None for a folder; a symlink's
    target as bytes)."""
    taken: dict[str, tuple[int, bytes | None]] = {}
    for path in sorted(home.rglob("*")):
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            content: bytes | None = os.readlink(path).encode()
        elif stat.S_ISDIR(info.st_mode):
            content = None
        else:
            content = path.read_bytes()
        taken[str(path.relative_to(home))] = (stat.S_IMODE(info.st_mode), content)
    return taken


def test_install_sign_in_pull_uninstall_leaves_home_as_it_was(
    tmp_path: Path,
    aws: FakeAWS,
    oidc: FakeOIDC,
    browser: FakeBrowser,
    registry_factory: RegistryFactory,
) -> None:
    registry = registry_factory(username="AWS", password=PASSWORD)
    layout = make_oci_layout(tmp_path / "image", "1", {"hello.txt": b"hello\n"})
    registry.push(layout, "app:1")
    team = tmp_path / "team.toml"
    team.write_text(
        '[sso]\nsession = "team"\nstart_url = "https://example.awsapps.com/start"\n'
        'region = "eu-west-1"\n\n'
        f'[profiles.dev]\naccount = "{ACCOUNT}"\nrole = "{ROLE}"\n\n'
        f'[[aliases]]\nhost = "{registry.host}"\nprofile = "dev"\n'
    )
    home = tmp_path / "user"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text(USERS_AWS)
    (home / ".docker").mkdir()
    (home / ".docker" / "config.json").write_text(USERS_DOCKER)
    (home / ".docker" / "config.json").chmod(0o644)
    before = home_snapshot(home)
    # The stand-ins (SSO, SSO-OIDC, ECR), the fake browser; no XDG folders, so that every
    # ecr-sso folder is the default one under this home.
    stand_ins = {
        name: value
        for name, value in os.environ.items()
        if name.startswith("AWS_ENDPOINT_URL_")
        or name in ("BROWSER", "FAKE_BROWSER_LOG", "AWS_EC2_METADATA_DISABLED")
    }

    checkout = fresh_checkout(tmp_path)
    installed = run_install(home, "--team", str(team), env=stand_ins, checkout=checkout)
    bin_dir = home / ".local" / "bin"
    user_env = {
        **stand_ins,
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{SYSTEM_PATH}",
        "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
    }
    assert f'add credHelpers["{registry.host}"]' in installed
    signed_in = run_tool([str(bin_dir / "ecr-sso"), "login", "--sso-session", "team"], env=user_env)
    assert signed_in.stdout.startswith("signed in to sso-session 'team'")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    conf = tmp_path / "registries.conf"
    conf.write_text("")
    pulled = run_tool(
        [
            *(require_tool("skopeo"), "--policy", str(policy), "--registries-conf", str(conf)),
            *("inspect", "--tls-verify=false", f"docker://{registry.host}/app:1"),
        ],
        env=user_env,
        hidden=[PASSWORD],
    )
    assert json.loads(pulled.stdout)["Name"].endswith("/app")
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    assert (home / ".cache" / "ecr-sso" / "tokens").is_dir()

    output = run_install(home, "--uninstall", checkout=checkout)

    after = home_snapshot(home)
    assert after == before, "\n".join(
        [
            output,
            *(f"left behind: {p}" for p in sorted(set(after) - set(before))),
            *(f"missing: {p}" for p in sorted(set(before) - set(after))),
            *(f"changed: {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]),
        ]
    )
    lines = output.splitlines()
    assert f"restored {home}/.aws/config to what it held before setup" in lines
    assert f"restored {home}/.docker/config.json to what it held before setup" in lines
    assert f"removed {home}/.config/ecr-sso/config.toml (setup created it)" in lines
    assert lines[-1] == (
        "ecr-sso is uninstalled; what was removed, and what was kept and why, is listed above."
    )
    assert "unchanged" not in output

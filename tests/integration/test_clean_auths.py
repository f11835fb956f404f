"""`setup --clean-auths` removes old `docker login` passwords for our registries from
Docker's config.json. The password must then be gone for good: not in the backup setup
makes, nor in the copy of the original that teardown restores from, nor in a backup of an
earlier setup, and teardown must not bring it back."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from conftest import Env
from setup_fixtures import (
    DEV_EU,
    docker_config,
    ecr_sso,
    team_file,  # noqa: F401 - the fixture
    write,
)

PASSWORD = "eyJwYXlsb2FkIjoiT0xEIEVDUiBQQVNTV09SRCJ9-a-secret-nobody-should-keep"
AUTH = base64.b64encode(f"AWS:{PASSWORD}".encode()).decode()
OTHER = {"auth": base64.b64encode(b"me:ghcr-token").decode()}


def users_config() -> dict[str, object]:
    return {
        "auths": {f"https://{DEV_EU}": {"auth": AUTH}, "ghcr.io": OTHER},
        "credsStore": "desktop",
    }


def holding_the_secret(*roots: Path) -> list[str]:
    """Every file under `roots` whose bytes hold the password, in any form setup saw."""
    found = []
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = Path(folder) / name
                data = path.read_bytes()
                if PASSWORD.encode() in data or AUTH.encode() in data:
                    found.append(str(path))
    return found


def run(*args: str) -> str:
    result = ecr_sso(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("earlier_setup", [False, True], ids=["first", "after-a-setup"])
def test_a_cleaned_password_survives_nowhere(
    env: Env,
    team_file: Path,  # noqa: F811 - the fixture
    earlier_setup: bool,
) -> None:
    write(docker_config(env), json.dumps(users_config(), indent=4), mode=0o600)
    if earlier_setup:  # its backup and the copy of the original hold the password
        run("setup", "--from", str(team_file))
        assert holding_the_secret(env.home) != []

    out = run("setup", "--from", str(team_file), "--clean-auths", "--yes")

    assert holding_the_secret(env.home) == [], out
    assert PASSWORD not in out
    assert AUTH not in out
    config = json.loads(docker_config(env).read_text())
    assert config["auths"] == {"ghcr.io": OTHER}
    backups = sorted(docker_config(env).parent.glob("config.json.bak-*"))
    assert backups, "a backup of the rest of the file is kept"
    for backup in backups:  # the user's other content is all there
        kept = json.loads(backup.read_text())
        assert kept["auths"] == {"ghcr.io": OTHER}
        assert kept["credsStore"] == "desktop"

    lines = run("teardown", "--yes").splitlines()

    assert holding_the_secret(env.home) == []
    assert json.loads(docker_config(env).read_text()) == {
        "auths": {"ghcr.io": OTHER},
        "credsStore": "desktop",
    }
    assert (
        f"restored {docker_config(env)} to what it held before setup, without the auths"
        " entries --clean-auths removed"
    ) in lines

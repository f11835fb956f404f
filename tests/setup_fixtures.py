"""Helpers for the `ecr-sso setup` / `teardown` / `registries` tests: run the installed
command as a user would, and take snapshots of the three files it edits."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import BIN_DIR, Env
from fakeaws import FakeAWS
from fakeportal import FakePortal

ECR_SSO = BIN_DIR / "ecr-sso"
GOLDEN = Path(__file__).parent / "golden"
EXAMPLE_TEAM = Path(__file__).parent.parent / "install" / "example-team.toml"

#: The team file of the README and install/example-team.toml, uncommented in places.
TEAM = """\
[sso]
session = "connectedhome"
start_url = "https://example.awsapps.com/start"
region = "eu-west-1"

[profiles.dev]
account = "642976147714"
role = "Administrator"
region = "eu-west-1"
registries = ["eu-west-1", "us-east-1"]

[profiles.stage]
account = "998135273239"
role = "Administrator"
region = "eu-west-1"

[[aliases]]
host = "registry.example.internal"
profile = "dev"
"""

DEV_EU = "642976147714.dkr.ecr.eu-west-1.amazonaws.com"
DEV_US = "642976147714.dkr.ecr.us-east-1.amazonaws.com"
STAGE_EU = "998135273239.dkr.ecr.eu-west-1.amazonaws.com"
ALIAS = "registry.example.internal"
TEAM_HOSTS = (DEV_EU, DEV_US, STAGE_EU, ALIAS)


def ecr_sso(
    *args: str, stdin: str | int | None = "", env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed `ecr-sso` with the test's isolated environment (plus `env`).
    stdin is a pipe (not a terminal) unless a file descriptor is given. Never raises on a
    non-zero exit."""
    environ = {**os.environ, **(env or {})}
    if isinstance(stdin, int):
        return subprocess.run(
            [str(ECR_SSO), *args],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=environ,
            timeout=60,
            check=False,
        )
    return subprocess.run(
        [str(ECR_SSO), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


@dataclass(frozen=True)
class Snapshot:
    """A file's bytes, mtime and mode (None: absent)."""

    content: bytes | None
    mtime_ns: int | None
    mode: int | None


def snapshot(paths: Iterable[Path]) -> dict[Path, Snapshot]:
    """Bytes, mtime and mode of each path."""
    taken = {}
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            taken[path] = Snapshot(None, None, None)
            continue
        taken[path] = Snapshot(path.read_bytes(), stat.st_mtime_ns, stat.st_mode & 0o7777)
    return taken


def docker_config(env: Env) -> Path:
    """Docker's config.json in the isolated home."""
    return env.docker_config_dir / "config.json"


def three_files(env: Env) -> list[Path]:
    """The files setup edits."""
    return [env.config_file, env.aws_config, docker_config(env)]


def folder_listing(env: Env) -> dict[Path, list[str]]:
    """The names in each folder setup writes to (backups and temp files show here)."""
    listing = {}
    for path in three_files(env):
        folder = path.parent
        listing[folder] = sorted(os.listdir(folder)) if folder.is_dir() else []
    return listing


@pytest.fixture
def team_file(tmp_path: Path) -> Path:
    """The team file `TEAM`, written outside the isolated home."""
    path = tmp_path / "team.toml"
    path.write_text(TEAM)
    return path


def write(path: Path, content: str | bytes, mode: int = 0o644) -> Path:
    """Write `content` to `path` (folders created) with `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    path.chmod(mode)
    return path


def on_terminal(*args: str, answer: str) -> subprocess.CompletedProcess[str]:
    """Run `ecr-sso` with a pseudo-terminal as stdin (so it may ask), `answer` typed in
    ahead (the terminal buffers it until the question reads it); stdout and stderr are
    captured from pipes, line ends as written."""
    import pty

    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        with subprocess.Popen(
            [str(ECR_SSO), *args],
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        ) as process:
            os.close(terminal)
            terminal = -1
            out, err = process.communicate(timeout=60)
        # Decoded by hand: text mode would turn a progress line's "\r" into "\n".
        return subprocess.CompletedProcess(
            process.args, process.returncode, out.decode(), err.decode()
        )
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)


def seed_sso_login(env: Env, aws: FakeAWS, session: str, start_url: str, region: str) -> str:
    """Sign in as `aws sso login --sso-session SESSION` leaves it: a token registered with
    the fake, cached in `~/.aws/sso/cache/<sha1(session)>.json` (0600). The AWS config is
    not touched. Returns the token."""
    token = "aoa" + secrets.token_urlsafe(48)
    aws.add_sso_token(token)
    name = hashlib.sha1(session.encode(), usedforsecurity=False).hexdigest()
    path = env.sso_cache_dir / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    expires = datetime.now(timezone.utc) + timedelta(hours=8)
    content = {
        "startUrl": start_url,
        "region": region,
        "accessToken": token,
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle)
    return token


def signed_in_to_portal(env: Env, aws: FakeAWS, portal: FakePortal) -> None:
    """Where `setup --discover` starts: `[sso-session team]` alone in the AWS config, signed
    in (`seed_sso_login`), and the portal taking that token."""
    write(
        env.aws_config,
        "[sso-session team]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n",
    )
    token = seed_sso_login(env, aws, "team", "https://example.awsapps.com/start", "eu-west-1")
    portal.accept(token)

"""The Docker Hub login `docker login` left on this machine, for the pull-through cache's
secret: the credential helper Docker's config names for Docker Hub (`credHelpers`, else
`credsStore`: a keyring, `pass`, Docker Desktop, or ecr-sso's own store), else a plain
`auths` entry. The secret is passed on stdin/stdout only; it never enters argv, a log line
or an exception's text.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: The server URL `docker login` stores Docker Hub under, then the other names it goes by.
DOCKER_HUB_URL = "https://index.docker.io/v1/"
DOCKER_HUB_NAMES = (DOCKER_HUB_URL, "index.docker.io", "docker.io", "registry-1.docker.io")
_NAMES = DOCKER_HUB_NAMES


@dataclass(frozen=True)
class Login:
    """A Docker Hub username and access token (or password). The token is kept out of
    `repr`, so a stray debug print cannot show it."""

    username: str
    token: str = field(repr=False)
    source: str = ""


def find(config_file: str, environ: Mapping[str, str]) -> Login | None:
    """The Docker Hub login Docker's `config_file` leads to, or None."""
    return find_for(config_file, environ, _NAMES)


def find_for(config_file: str, environ: Mapping[str, str], names: Sequence[str]) -> Login | None:
    """The login Docker's `config_file` holds for a registry known by `names` (the first
    is the server URL `docker login` stores it under), by Docker's own rules: the
    `credHelpers` entry, else `credsStore`, else a plain `auths` entry."""
    try:
        with open(config_file, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    helpers = config.get("credHelpers") or {}
    helper = next((helpers[n] for n in names if isinstance(helpers, dict) and n in helpers), None)
    helper = helper or config.get("credsStore")
    if isinstance(helper, str) and helper:
        found = _from_helper(helper, environ, names[0])
        if found is not None:
            return found
    auths = config.get("auths") or {}
    for name in names:
        entry = auths.get(name) if isinstance(auths, dict) else None
        if isinstance(entry, dict) and isinstance(entry.get("auth"), str):
            found = _from_auth(entry["auth"], config_file)
            if found is not None:
                return found
    return None


def _from_helper(name: str, environ: Mapping[str, str], server: str) -> Login | None:
    program = shutil.which(f"docker-credential-{name}", path=environ.get("PATH", os.defpath))
    if program is None:
        log.info("docker-credential-%s is not on PATH", name)
        return None
    try:
        done = subprocess.run(
            [program, "get"],
            input=server.encode(),
            capture_output=True,
            env=dict(environ),
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.info("docker-credential-%s get failed: %s", name, type(err).__name__)
        return None
    if done.returncode != 0:
        log.info("docker-credential-%s holds no Docker Hub login", name)
        return None
    try:
        answer = json.loads(done.stdout)
        username, secret = str(answer["Username"]), str(answer["Secret"])
    except (ValueError, KeyError, TypeError):
        log.info("docker-credential-%s answered something other than credentials", name)
        return None
    if not username or not secret:
        return None
    return Login(username, secret, f"docker-credential-{name}")


def _from_auth(auth: str, config_file: str) -> Login | None:
    try:
        username, _, secret = base64.b64decode(auth, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not username or not secret:
        return None
    return Login(username, secret, config_file)

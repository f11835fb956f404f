"""Docker image references, and where an image lives once it has moved to ECR. Pure: no I/O.

A reference is parsed by Docker's own grammar (the `distribution/reference` rules): an
optional registry host, a lower-case path, then `:tag` and/or `@digest`. The first path
component is a registry host only if it contains `.` or `:`, is `localhost`, or has an
upper-case letter, exactly as Docker decides it — so `connectedhome/app` is on Docker Hub
and `registry.example:5000/app` is not.

Where an image goes in ECR (`ecr_repository`), one rule for `ecr-sso url` and `migrate`:
- Docker Hub: the path without `library/` (official images) and without the team's
  organisation (`dockerhub_org`): `connectedhome/app` → `app`, `ubuntu` → `ubuntu`,
  `bitnami/redis` → `bitnami/redis`.
- Any other registry: its path as it is (`ghcr.io/team/app` → `team/app`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from credhelper.errors import UsageError

#: Host names that are Docker Hub (Docker itself normalises `index.docker.io`;
#: `registry-1.docker.io` is the registry's own host; `registry.hub.docker.com` the name
#: older tooling and documentation give it).
DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
#: Where a single-component Docker Hub name lives.
OFFICIAL_NAMESPACE = "library"
#: Docker's limit on a repository name with its host.
NAME_MAX = 255

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
# Digests of a known algorithm must have its exact length, lower-case (as go-digest checks).
_DIGEST_HEX = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha512": re.compile(r"[a-f0-9]{128}")}


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference. `host` is None when the reference names no registry
    (Docker Hub); `path` is as written (a bare `ubuntu` stays `ubuntu`)."""

    host: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def docker_hub(self) -> bool:
        """Whether the image is on Docker Hub."""
        return self.host is None or self.host.lower() in DOCKER_HUB_HOSTS

    @property
    def repository(self) -> str:
        """The repository path the registry serves: `library/` added for a one-component
        Docker Hub name, as Docker does."""
        if self.docker_hub and "/" not in self.path:
            return f"{OFFICIAL_NAMESPACE}/{self.path}"
        return self.path

    @property
    def suffix(self) -> str:
        """`:tag`, `@digest`, both, or nothing."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return (f"{self.host}/" if self.host else "") + self.path + self.suffix


def parse(text: str) -> ImageRef:
    """Parse a Docker image reference; UsageError saying why when `text` is not one."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise UsageError(f"not an image reference: {text!r}{_hint(text)}")
    host, path = match["host"], match["path"]
    if host is not None and not _is_host(host):
        # Docker reads `team/app` as a path on Docker Hub, not as host `team`.
        host, path = None, f"{host}/{path}"
    digest = match["digest"]
    if digest is not None:
        algorithm, _, hex_part = digest.partition(":")
        pattern = _DIGEST_HEX.get(algorithm)
        if pattern is not None and pattern.fullmatch(hex_part) is None:
            raise UsageError(f"not an image reference: {text!r} (a malformed {algorithm} digest)")
    name_length = len(path) + (len(host) + 1 if host else 0)
    if name_length > NAME_MAX:
        raise UsageError(f"not an image reference: the name is longer than {NAME_MAX} characters")
    return ImageRef(host=host, path=path, tag=match["tag"], digest=digest)


def _is_host(component: str) -> bool:
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component.lower() != component
    )


def _hint(text: str) -> str:
    if not text:
        return " (it is empty)"
    if text.strip() != text or any(c.isspace() for c in text):
        return " (it contains white space)"
    if "://" in text:
        return " (drop the scheme: registry/name:tag)"
    if any(c.isupper() for c in text.split("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]):
        return " (repository names are lower case)"
    return ""


def ecr_repository(ref: ImageRef, dockerhub_org: str | None) -> str:
    """The ECR repository an image moves to (see the module docstring)."""
    if not ref.docker_hub:
        return ref.path
    path = ref.repository
    for prefix in (OFFICIAL_NAMESPACE, dockerhub_org):
        if prefix and path.startswith(f"{prefix}/"):
            return path[len(prefix) + 1 :]
    return path


def to_ecr(ref: ImageRef, registry_host: str, dockerhub_org: str | None) -> str:
    """`ref` as a reference in the registry `registry_host`, tag and digest kept. A
    reference already in that registry is returned unchanged."""
    if ref.host is not None and ref.host.lower() == registry_host.lower():
        return str(ref)
    return f"{registry_host}/{ecr_repository(ref, dockerhub_org)}{ref.suffix}"


def to_pull_through(ref: ImageRef, registry_host: str, prefix: str) -> str:
    """A Docker Hub `ref` through the pull-through cache rule `prefix` of `registry_host`:
    `python:3.12` → `HOST/PREFIX/library/python:3.12` (ECR's cache keeps Docker Hub's own
    path, `library/` included)."""
    return f"{registry_host}/{prefix.strip('/')}/{ref.repository}{ref.suffix}"

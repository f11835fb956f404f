"""The `[promote]` and `[pull_through]` tables of our config: the promotion order of the
team's profiles, and the Docker Hub pull-through cache. Strict, like the rest of the file.

    [promote]
    order = ["dev", "stage", "prod"]     # `ecr-sso promote --to next`

    [pull_through]
    prefix = "docker-hub"                # ECR repository prefix of the cache rule
    upstream = "docker-hub"              # the upstream registry (ECR's name for it)
    profile = "dev"                      # the profile whose registry holds the cache
    tag_immutability = false             # repository creation template (optional)
    scan_on_push = true
    lifecycle_days = 30                  # expire cached images after this many days
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from credhelper.errors import ConfigError
from credhelper.settings import Settings

DEFAULT_PREFIX = "docker-hub"
DEFAULT_UPSTREAM = "docker-hub"
_PREFIX = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*", re.ASCII)
_PULL_KEYS = frozenset(
    {"prefix", "upstream", "profile", "tag_immutability", "scan_on_push", "lifecycle_days"}
)


@dataclass(frozen=True)
class PullThrough:
    """The pull-through cache as our config describes it."""

    prefix: str = DEFAULT_PREFIX
    upstream: str = DEFAULT_UPSTREAM
    profile: str | None = None
    tag_immutability: bool | None = None
    scan_on_push: bool | None = None
    lifecycle_days: int | None = None

    @property
    def has_template(self) -> bool:
        """Whether a repository creation template is asked for."""
        return any(
            value is not None
            for value in (self.tag_immutability, self.scan_on_push, self.lifecycle_days)
        )


def pull_through(settings: Settings) -> PullThrough | None:
    """The `[pull_through]` table, or None when there is none (no cache configured)."""
    table = settings.raw.get("pull_through")
    if table is None:
        return None
    where = f"{settings.path}: [pull_through]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - _PULL_KEYS)
    if unknown:
        raise ConfigError(f"{where} has an unknown key: {unknown[0]}")
    prefix = _typed(table, "prefix", str, where) or DEFAULT_PREFIX
    check_prefix(prefix)
    days = _typed(table, "lifecycle_days", int, where)
    if days is not None and (isinstance(days, bool) or days < 1):
        raise ConfigError(f"{where}: lifecycle_days must be a whole number of days, 1 or more")
    return PullThrough(
        prefix=prefix,
        upstream=_typed(table, "upstream", str, where) or DEFAULT_UPSTREAM,
        profile=_typed(table, "profile", str, where),
        tag_immutability=_typed(table, "tag_immutability", bool, where),
        scan_on_push=_typed(table, "scan_on_push", bool, where),
        lifecycle_days=days,
    )


def check_prefix(prefix: str) -> str:
    """`prefix` when it can start an ECR repository name; ConfigError otherwise."""
    if not 2 <= len(prefix) <= 30 or _PREFIX.fullmatch(prefix) is None:
        raise ConfigError(
            f"pull-through prefix {prefix!r} must be 2 to 30 lower-case letters, digits,"
            " '.', '_', '-' or '/'"
        )
    return prefix


def promote_order(settings: Settings) -> list[str]:
    """`[promote] order`: profile names, first to last; empty when not set."""
    table = settings.raw.get("promote", {})
    where = f"{settings.path}: [promote]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    order = table.get("order", [])
    if not isinstance(order, list) or not all(isinstance(n, str) and n for n in order):
        raise ConfigError(f'{where} order must be a list of profile names: ["dev", "prod"]')
    if len(set(order)) != len(order):
        raise ConfigError(f"{where} order names a profile twice")
    return list(order)


def _typed(table: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = table.get(key)
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{where}: {key} must be a {kind.__name__}")
    return value

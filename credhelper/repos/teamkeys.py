"""The `[promote]` and `[pull_through]` tables of our config: the promotion order of the
team's profiles, and the Docker Hub pull-through cache. `credhelper.settings` reads them
strictly, with the rest of the file (the team file shares its checks: `ecr-sso setup`
copies both tables from it); this module is what the repository commands ask.

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

from credhelper.errors import ConfigError
from credhelper.settings import DEFAULT_PREFIX, DEFAULT_UPSTREAM, PullThrough, Settings
from credhelper.settings import prefix_problem as _prefix_problem

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_UPSTREAM",
    "PullThrough",
    "check_prefix",
    "promote_order",
    "pull_through",
]


def pull_through(settings: Settings) -> PullThrough | None:
    """The `[pull_through]` table, or None when there is none (no cache configured)."""
    return settings.pull_through


def check_prefix(prefix: str) -> str:
    """`prefix` when it can start an ECR repository name; ConfigError otherwise."""
    problem = _prefix_problem(prefix)
    if problem is not None:
        raise ConfigError(problem)
    return prefix


def promote_order(settings: Settings) -> list[str]:
    """`[promote] order`: profile names, first to last; empty when not set."""
    return list(settings.promote_order)

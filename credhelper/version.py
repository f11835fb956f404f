"""The version, read once from the installed package's metadata (never written twice)."""

from __future__ import annotations

NAME = "ecr-sso"


def version() -> str:
    """The installed distribution's version, or `0+unknown` when run from a bare checkout."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version(NAME)
    except PackageNotFoundError:
        return "0+unknown"


def user_agent() -> str:
    """What we add to botocore's User-Agent, so AWS-side logs show who called."""
    return f"{NAME}/{version()}"

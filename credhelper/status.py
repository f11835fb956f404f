"""What `ecr-sso status` reports, per AWS profile: until when its SSO login is valid,
until when its ECR tokens are cached, and (asked for) who AWS says it is.

Read from the files alone; only `whoami` calls AWS (STS GetCallerIdentity).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from credhelper.aws import config as aws_config
from credhelper.aws.config import SsoSession
from credhelper.errors import EcrSsoError
from credhelper.helper import routes
from credhelper.helper.tokens import MARGIN_SECONDS
from credhelper.helper.usecases import profile_token_keys
from credhelper.paths import Paths
from credhelper.sso import logins
from credhelper.sso.logins import Login, format_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from credhelper.helper.tokens import TokenCache


@dataclass(frozen=True)
class CachedToken:
    """An ECR token in our cache: for which registry (host, when a route names one) and
    until when AWS says it is valid."""

    registry: str
    expires_at: float

    @property
    def used_until(self) -> float:
        """Until when the helper hands it out (the cache's margin before expiry)."""
        return self.expires_at - MARGIN_SECONDS


@dataclass
class ProfileStatus:
    profile: str
    session: SsoSession | None
    login: Login | None
    tokens: list[CachedToken] = field(default_factory=list)
    identity: dict[str, str] | None = None
    identity_error: str | None = None

    def login_state(self, now: float) -> str:
        """`logins.state` of the profile's login (`valid`, `refreshable`, `expired`,
        `missing`), or `not sso`."""
        if self.session is None:
            return "not sso"
        return logins.state(self.login, now, legacy=self.session.legacy)

    def as_dict(self, now: float) -> dict[str, Any]:
        """The JSON form: UTC timestamps as the AWS CLI writes them."""
        out: dict[str, Any] = {
            "profile": self.profile,
            "sso_session": self.session.name if self.session else None,
            "sso_start_url": self.session.start_url if self.session else None,
            "login": {
                "state": self.login_state(now),
                "expires_at": format_time(self.login.expires_at) if self.login else None,
            },
            "ecr_tokens": [
                {
                    "registry": token.registry,
                    "expires_at": format_time(token.expires_at),
                    "used_until": format_time(token.used_until),
                    "fresh": now < token.used_until,
                }
                for token in self.tokens
            ],
        }
        if self.identity is not None or self.identity_error is not None:
            out["identity"] = self.identity if self.identity is not None else None
            out["identity_error"] = self.identity_error
        return out


def gather(
    paths: Paths,
    cache: TokenCache,
    *,
    only: list[str] | None = None,
    whoami: Callable[[str], dict[str, str]] | None = None,
) -> list[ProfileStatus]:
    """A status per SSO profile of the AWS config (or per profile in `only`); with
    `whoami`, each profile's caller identity (its failure is reported, not raised). A name
    in `only` that is no profile of the AWS config is a UsageError naming the ones it has."""
    config = aws_config.read(paths.aws_config_file)
    if only is not None:
        config.require_profiles(only)
    names = only if only is not None else config.sso_profiles()
    keys = cache.keys()
    hosts: dict[str, list[str]] = {}
    for host, key in routes.read_routes(paths.cache_dir).items():
        hosts.setdefault(key, []).append(host)
    statuses = []
    for name in names:
        session = config.session_or_none(name)
        login = logins.read_login(paths, session) if session is not None else None
        tokens = []
        for key in profile_token_keys(keys, name):
            token = cache.get(key)
            if token is None:
                continue
            registry = ", ".join(sorted(hosts.get(key, []))) or key.partition("@")[2]
            tokens.append(CachedToken(registry, token.expires_at))
        status = ProfileStatus(name, session, login, sorted(tokens, key=lambda t: t.registry))
        if whoami is not None:
            try:
                status.identity = whoami(name)
            except EcrSsoError as err:
                status.identity_error = str(err)
        statuses.append(status)
    return statuses

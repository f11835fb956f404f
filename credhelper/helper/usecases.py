"""The credential helper's use cases — get, store, erase, list — over injected parts.

Nothing here reads stdin, prints, or imports botocore: the token fetch, the caches, the
clock and the settings are handed in, so the same code runs under docker and in tests.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from credhelper.aws import config as aws_config
from credhelper.aws import profiles
from credhelper.errors import ConfigError, CredentialsNotFound, LoginRequired, UnknownProfile
from credhelper.helper import routes
from credhelper.helper.credstore import CredStore
from credhelper.helper.tokens import Token
from credhelper.paths import Paths, aws_credentials_file
from credhelper.registry import Address, Registry, parse_address, parse_registry
from credhelper.settings import Settings

TYPE_CHECKING = False
if TYPE_CHECKING:
    from credhelper.helper.tokens import TokenCache

log = logging.getLogger(__name__)

ECR_USERNAME = "AWS"
# A password given to `docker login` for ECR carries no expiry we can read; ECR tokens
# live 12 hours and a user logs in with a fresh one.
STORED_TOKEN_LIFETIME = 12 * 3600

# The keys of an AWS profile that decide whose credentials it yields.
_IDENTITY_KEYS = (
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
    "role_arn",
    "source_profile",
    "credential_source",
    "credential_process",
    "web_identity_token_file",
    "aws_access_key_id",
)

# A profile with one of these signs in through SSO: its identity is in the AWS config alone.
_SSO_KEYS = ("sso_session", "sso_start_url")

Fetch = Callable[[Registry, "str | None"], Token]
#: Called when a fetch found the SSO login of a profile (None: the default chain's)
#: missing or expired, outside every token lock: signs in if it may and must, then
#: returns the retry's token; otherwise raises the LoginRequired it was given (which
#: names the command to run) or one of its own.
SignIn = Callable[["str | None", LoginRequired, Callable[[], Token]], Token]


def no_sign_in(profile: str | None, error: LoginRequired, retry: Callable[[], Token]) -> Token:
    """The non-interactive `SignIn`: sign-in is needed, and the error says what to run."""
    raise error


@dataclass(frozen=True)
class Credentials:
    """What `get` answers."""

    server_url: str
    username: str
    secret: str

    def __repr__(self) -> str:
        return f"Credentials(server_url={self.server_url!r}, username={self.username!r})"


@dataclass(frozen=True)
class ServedRegistry:
    """A registry we serve, the profile chosen for it and its token's cache key: what a
    server URL resolves to (a repository command's registry is a `repos.target.Target`)."""

    address: Address
    registry: Registry
    choice: profiles.Choice
    key: str


class Helper:
    """The four protocol actions. `fetch` is called only on a cache miss, once per
    (profile, registry) even when many processes miss at the same moment."""

    def __init__(
        self,
        *,
        paths: Paths,
        settings: Settings,
        environ: Mapping[str, str],
        cache: TokenCache,
        fetch: Fetch,
        credstore: CredStore,
        sign_in: SignIn = no_sign_in,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.paths = paths
        self.settings = settings
        self.environ = environ
        self.cache = cache
        self.fetch = fetch
        self.credstore = credstore
        self.sign_in = sign_in
        self.clock = clock
        self._aws_profiles: Mapping[str, Mapping[str, str]] | None = None

    # -- resolution -------------------------------------------------------------------

    def target(self, address: Address) -> ServedRegistry | None:
        """The registry behind `address` and its profile, or None if we serve none."""
        registry = self._registry(address)
        if registry is None:
            return None
        choice = profiles.choose(
            registry,
            address,
            self.settings,
            self.aws_profiles(),
            self.environ.get("ECR_SSO_PROFILE") or None,
        )
        return ServedRegistry(address, registry, choice, self._key(choice.profile, registry))

    def _registry(self, address: Address) -> Registry | None:
        return self.settings.alias_registry(address) or parse_registry(address)

    def aws_profiles(self) -> Mapping[str, Mapping[str, str]]:
        """The AWS config's profiles, read once per run."""
        if self._aws_profiles is None:
            self._aws_profiles = aws_config.read(self.paths.aws_config_file).profiles
        return self._aws_profiles

    def _key(self, profile: str | None, registry: Registry) -> str:
        """The cache key: one token per (identity, registry). The registry part names the
        partition, FIPS, dual-stack or public endpoint or alias (`Registry.key`)."""
        if profile is not None:
            # The profile's identity is part of the key: redefine `dev` to another role and
            # the old role's token is no longer served under its name.
            section = self.aws_profiles().get(profile, {})
            identity = "\n".join(f"{k}={section.get(k, '')}" for k in _IDENTITY_KEYS)
            if not any(section.get(k) for k in _SSO_KEYS):
                # Static keys may sit in the credentials file: a new key is a new identity.
                identity += "\n" + self._credentials_file_identity()
            digest = hashlib.sha256(identity.encode()).hexdigest()[:8]
            return f"{_safe(profile)}.{digest}@{registry.key}"
        # The default chain's identity is whatever the environment and the credentials file
        # name; keep tokens of different credentials apart without writing the identifiers
        # into file names.
        who = [self.environ.get(n, "") for n in routes.CHAIN_VARS]
        who.append(self._credentials_file_identity())
        digest = hashlib.sha256("\n".join(who).encode()).hexdigest()[:16]
        return f"~chain-{digest}@{registry.key}"

    def _credentials_file_identity(self) -> str:
        return routes.file_identity(aws_credentials_file(self.environ))

    # -- the actions ------------------------------------------------------------------

    def get(self, server_url: str) -> Credentials:
        """Credentials for `server_url`: a cached or fresh ECR token, or a stored entry."""
        address = parse_address(server_url)
        if address is None:
            raise CredentialsNotFound()
        target = self.target(address)
        if target is None:
            stored = self.credstore.get(address.netloc)
            if stored is None:
                raise CredentialsNotFound()
            return Credentials(server_url, stored[0], stored[1])
        token = self._token(target)
        self._leave_route(target)
        return Credentials(server_url, token.username, token.secret)

    def _token(self, target: ServedRegistry) -> Token:
        try:
            return self._cached_or_fetched(target)
        except LoginRequired as error:
            # The token lock is released by now: a sign-in can take minutes, and the other
            # helpers waiting for this registry must wait on the sign-in, not time out here.
            retry = functools.partial(self._cached_or_fetched, target)
            return self.sign_in(target.choice.profile, error, retry)

    def _cached_or_fetched(self, target: ServedRegistry) -> Token:
        cached = self._cached(target)
        if cached is not None:
            return cached
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(self.cache.lock(target.key))
            except OSError as err:  # an unusable cache costs speed, never the answer
                log.warning("cannot lock the token cache (%s); fetching without it", err)
            # Another process may have fetched while we waited for the lock.
            cached = self._cached(target)
            if cached is not None:
                return cached
            log.info(
                "no fresh token for %s; profile %s (%s)",
                target.registry.key,
                target.choice.profile or "<default chain>",
                target.choice.reason,
            )
            try:
                token = self.fetch(target.registry, target.choice.profile)
            except UnknownProfile as err:
                if target.choice.profile is None:  # AWS_PROFILE, read by botocore itself
                    raise
                # Name what has to be fixed: the variable, map or alias the name came from.
                raise UnknownProfile(err.profile, target.choice.reason) from None
            token.registry = target.registry.identity
            if not token.fresh(self.clock()):
                log.warning(
                    "ECR gave a token for %s that expires within the margin; not cached",
                    target.registry.key,
                )
                return token
            try:
                self.cache.put(target.key, token)
            except OSError as err:
                log.warning("cannot write the token cache: %s", err)
            return token

    def _cached(self, target: ServedRegistry) -> Token | None:
        """The cached token for `target` if it is fresh and was issued for its registry."""
        cached = self.cache.get(target.key)
        if cached is None or cached.registry != target.registry.identity:
            return None
        return cached if cached.fresh(self.clock()) else None

    def _leave_route(self, target: ServedRegistry) -> None:
        """Record host → registry and token key (also what `list` reads). Only file-backed
        routes are followed by the fast path; the keyring's exist for `list`. Without a
        cache (`none`, or a cache folder that is not private) there is nothing to route to."""
        print_ = routes.fingerprint(self.environ, self.paths.config_file)
        if print_ is None or self.cache.name == "none":
            return
        route = routes.Route(
            target.address.netloc, target.registry.identity, print_, target.key, self.cache.name
        )
        try:
            routes.write_route(self.paths.cache_dir, route)
        except OSError as err:  # a read-only cache costs speed, not the answer
            log.warning("cannot write route for %s: %s", target.address.netloc, err)

    def store(self, server_url: str, username: str, secret: str) -> None:
        """Keep credentials from `docker login`. ECR: accepted always; an `AWS` token is
        cached for its profile. Other registries: kept in the OS keyring."""
        address = parse_address(server_url)
        if address is None:
            raise CredentialsNotFound()
        target = self.target(address)
        if target is None:
            self.credstore.put(address.netloc, server_url, username, secret)
            return
        if username != ECR_USERNAME:
            log.info("docker login to %s as %r: accepted, not cached", address.netloc, username)
            return
        token = Token(
            ECR_USERNAME,
            secret,
            self.clock() + STORED_TOKEN_LIFETIME,
            registry=target.registry.identity,
        )
        try:
            with self.cache.lock(target.key):
                self.cache.put(target.key, token)
        except OSError as err:  # `docker login` must say the token was not kept
            raise self._unusable_cache(err) from None
        self._leave_route(target)

    def erase(self, server_url: str) -> None:
        """Forget what we hold for `server_url`; nothing held is not an error."""
        address = parse_address(server_url)
        if address is None:
            return
        target = self.target(address)
        if target is None:
            self.credstore.delete(address.netloc)
            return
        try:
            with self.cache.lock(target.key):
                self.cache.delete(target.key)
        except OSError as err:
            raise self._unusable_cache(err) from None

    def _unusable_cache(self, err: OSError) -> ConfigError:
        """One line for a token cache folder that cannot be used (a file where the folder
        should be, no permission, a full disk)."""
        folder = self.paths.cache_dir
        culprit = str(err.filename) if err.filename else None
        if culprit is not None and os.path.lexists(culprit) and not os.path.isdir(culprit):
            # mkdir says "File exists" here, which reads as if all were well.
            what = "it" if culprit == folder else culprit
            reason = f"{what} is a file, not a folder"
        else:
            reason = (err.strerror or type(err).__name__) + (f" ({culprit})" if culprit else "")
        return ConfigError(
            f"cannot use the token cache in {folder}: {reason}; fix it, or set"
            " ECR_SSO_CACHE_DIR to another folder"
        )

    def list(self) -> dict[str, str]:
        """server URL → username of everything we know; never calls AWS."""
        known: dict[str, str] = {}
        for host in self.settings.registries:
            known[host] = ECR_USERNAME
        for host in self.settings.aliases:
            known[host] = ECR_USERNAME
        cached = set(self.cache.keys())
        found = routes.read_routes(self.paths.cache_dir) if cached else {}
        for netloc, key in found.items():
            if key in cached:
                known.setdefault(netloc, ECR_USERNAME)
        for address, entry in self.credstore.index().items():
            known[entry.get("server_url") or address] = entry.get("username", "")
        return known


def profile_token_keys(keys: Iterable[str], profile: str) -> list[str]:
    """The cache keys among `keys` that hold `profile`'s tokens (whatever its identity
    was when they were cached)."""
    safe = _safe(profile)
    found = []
    for key in keys:
        head, at, _ = key.partition("@")
        name, dot, digest = head.rpartition(".")
        if at and dot and name == safe and len(digest) == 8:
            found.append(key)
    return found


def remove_profile_tokens(cache: TokenCache, profile: str) -> int:
    """Forget every ECR token cached for `profile`; how many there were."""
    removed = 0
    for key in profile_token_keys(cache.keys(), profile):
        with cache.lock(key):
            removed += cache.delete(key)
    return removed


def _safe(name: str) -> str:
    """A profile name as a file-name part: unreserved characters kept, the rest %XX."""
    keep = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
    out = "".join(c if c in keep else "".join(f"%{b:02X}" for b in c.encode()) for c in name)
    return out if not out.startswith(".") else "%2E" + out[1:]

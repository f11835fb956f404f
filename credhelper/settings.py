"""Our own config file: the registry map, aliases, the cache backend and sign-in policy.

The file is TOML, at `$ECR_SSO_CONFIG` or `config.toml` in the user config dir:

    cache = "file"            # "file" (default), "keyring" or "none"
    auto_login = true
    get_timeout_seconds = 20  # a token fetch's overall deadline, retries and refresh included
    default_profile = "dev"   # for the repository commands
    dockerhub_org = "connectedhome"

    [registries]              # host -> AWS profile
    "642976147714.dkr.ecr.eu-west-1.amazonaws.com" = "dev"

    [aliases."registry.example.internal"]   # any other host in front of a registry
    account = "642976147714"
    region = "eu-west-1"
    profile = "dev"           # optional: else the usual profile rules apply

    [promote]                 # `ecr-sso promote --to next`: the profiles, first to last
    order = ["dev", "stage", "prod"]

    [pull_through]            # the Docker Hub pull-through cache (credhelper.repos)
    prefix = "docker-hub"     # ECR repository prefix of the cache rule
    upstream = "docker-hub"   # the upstream registry (ECR's name for it)
    profile = "dev"           # the profile whose registry holds the cache
    tag_immutability = false  # repository creation template (optional)
    scan_on_push = true
    lifecycle_days = 30       # expire cached images after this many days

    [rewrite]                 # `ecr-sso rewrite`: files whose references are left as they are
    exclude = ["examples/"]   # .gitignore patterns, added to the defaults below
    default_excludes = true   # vendor/, third_party/, node_modules/, testdata/

    [managed]                 # written by `ecr-sso setup` for `ecr-sso teardown`: what it
                              # added (see credhelper.setup.settings_file); not read here

Reading is strict: an unknown key (`cahce`), or a key of the wrong type, is an error naming
the file, the line and the key (and the key meant, when one is close), because a silently
ignored typo would send a registry to the wrong account.
"""

from __future__ import annotations

import difflib
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from credhelper.errors import ConfigError, EcrSsoError
from credhelper.registry import REGION, Address, Registry

CACHE_BACKENDS = ("file", "keyring", "none")
#: Every top-level key of the file; `login_timeout` is read by the sign-in code,
#: `get_timeout_seconds` by credhelper.deadline, `managed` by the setup code; `promote`,
#: `pull_through` and `rewrite` are checked here (the team file shares the checks: `ecr-sso
#: setup` copies them from it) and used by credhelper.repos.
KEYS = (
    "cache",
    "auto_login",
    "default_profile",
    "dockerhub_org",
    "login_timeout",
    "get_timeout_seconds",
    "registries",
    "aliases",
    "managed",
    "promote",
    "pull_through",
    "rewrite",
)
ALIAS_KEYS = ("account", "region", "profile")
PROMOTE_KEYS = ("order",)
PULL_THROUGH_KEYS = (
    "prefix",
    "upstream",
    "profile",
    "tag_immutability",
    "scan_on_push",
    "lifecycle_days",
)
REWRITE_KEYS = ("exclude", "default_excludes")
DEFAULT_PREFIX = "docker-hub"
DEFAULT_UPSTREAM = "docker-hub"

DEFAULT_GET_TIMEOUT = 20.0
#: A `get` that needs longer than this is not waiting for AWS any more.
MAX_GET_TIMEOUT = 3600.0
_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
_PREFIX = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*", re.ASCII)


@dataclass(frozen=True)
class PullThrough:
    """The `[pull_through]` table: the Docker Hub pull-through cache."""

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

    def as_table(self) -> dict[str, str | bool | int]:
        """The table that says this, prefix and upstream always written out: one form
        for equal values however they were spelt (setup compares and records it)."""
        table: dict[str, str | bool | int] = {"prefix": self.prefix, "upstream": self.upstream}
        for key in PULL_THROUGH_KEYS[2:]:
            value = getattr(self, key)
            if value is not None:
                table[key] = value
        return table


@dataclass(frozen=True)
class Rewrite:
    """The `[rewrite]` table: which files `ecr-sso rewrite` leaves as they are."""

    exclude: tuple[str, ...] = ()
    default_excludes: bool = True

    def as_table(self) -> dict[str, list[str] | bool]:
        """The table that says this (setup compares and records it)."""
        table: dict[str, list[str] | bool] = {"exclude": list(self.exclude)}
        if not self.default_excludes:
            table["default_excludes"] = False
        return table


@dataclass(frozen=True)
class Alias:
    """A host that stands in front of an ECR registry (pull-through proxy, mirror, test)."""

    host: str
    account: str
    region: str
    profile: str | None = None


@dataclass(frozen=True)
class Settings:
    """What our config file says; the defaults when it does not exist."""

    path: str = ""
    registries: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, Alias] = field(default_factory=dict)
    cache: str = "file"
    auto_login: bool = True
    # Seconds a sign-in from inside docker waits for the browser (None: the default).
    login_timeout: float | None = None
    #: Seconds a `get` that must ask AWS may take in all (see credhelper.deadline).
    get_timeout: float = DEFAULT_GET_TIMEOUT
    default_profile: str | None = None
    # Docker Hub organisation whose images moved to ECR (`ecr-sso url`, `migrate`).
    dockerhub_org: str | None = None
    #: `[promote] order`: profile names, first to last; empty when not set.
    promote_order: tuple[str, ...] = ()
    #: `[pull_through]`; None when there is no such table (no cache configured).
    pull_through: PullThrough | None = None
    #: `[rewrite]`; None when there is no such table (the defaults apply).
    rewrite: Rewrite | None = None
    # The whole document, for commands that own keys this module does not interpret.
    raw: dict[str, Any] = field(default_factory=dict)

    def alias_registry(self, address: Address) -> Registry | None:
        """The registry an alias in this config puts behind `address` (matched as
        `host:port`, then as `host`), or None."""
        for name in (address.netloc, address.host):
            alias = self.aliases.get(name)
            if alias is not None:
                return Registry(
                    host=address.netloc,
                    service="ecr",
                    account=alias.account,
                    region=alias.region,
                    alias=True,
                )
        return None


def load(path: str) -> Settings:
    """Read and validate the config file at `path`; defaults when the file is absent."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return Settings(path=path)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from None
    # Parsed only when the file exists: most machines running the helper in CI have none.
    document = parse_toml(data, path, ConfigError)
    return parse(document, path, data.decode("utf-8"))


def parse_toml(
    data: bytes, path: str, error: type[EcrSsoError], subject: str = ""
) -> dict[str, Any]:
    """The TOML document in `data` (the content of `path`), or `error` with one line
    naming the file; `subject` starts the complaint (e.g. "the team file is ")."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise error(f"{path}: {subject}not valid UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise error(f"{path}: {subject}not valid TOML: {err}") from None


def parse(document: dict[str, Any], path: str = "<config>", text: str = "") -> Settings:
    """Validate a parsed TOML document into `Settings`; `text`, the document's source,
    lets an error name the line of a bad key."""
    _known_keys(document, KEYS, path, text, None)
    cache = _optional(document, "cache", str, path)
    cache = "file" if cache is None else cache
    if cache not in CACHE_BACKENDS:
        raise ConfigError(
            f"{path}: cache must be one of {', '.join(CACHE_BACKENDS)}, not {cache!r}"
        )
    auto_login = _optional(document, "auto_login", bool, path)
    login_timeout = document.get("login_timeout")
    if login_timeout is not None:
        if isinstance(login_timeout, bool) or not isinstance(login_timeout, (int, float)):
            raise ConfigError(f"{path}: login_timeout must be a number of seconds")
        if not 0 < login_timeout < 86400:
            raise ConfigError(f"{path}: login_timeout must be above 0 seconds (and below a day)")
    get_timeout = document.get("get_timeout_seconds", DEFAULT_GET_TIMEOUT)
    if (
        isinstance(get_timeout, bool)
        or not isinstance(get_timeout, (int, float))
        or not 0 < get_timeout <= MAX_GET_TIMEOUT
    ):
        raise ConfigError(
            f"{path}: get_timeout_seconds must be a number of seconds above 0 and at most"
            f" {MAX_GET_TIMEOUT:g}"
        )
    registries: dict[str, str] = {}
    for host, profile in _table(document, "registries", path).items():
        if not isinstance(profile, str) or not profile:
            raise ConfigError(f"{path}: registries.{host!r} must be a profile name (a string)")
        registries[host.strip().lower()] = profile
    aliases: dict[str, Alias] = {}
    for host, entry in _table(document, "aliases", path).items():
        where = f"aliases.{host!r}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {where} must be a table with account and region")
        _known_keys(entry, ALIAS_KEYS, path, text, host)
        account = entry.get("account")
        region = entry.get("region")
        profile = entry.get("profile")
        if not isinstance(account, str) or _ACCOUNT.fullmatch(account) is None:
            raise ConfigError(f"{path}: {where}.account must be a 12-digit account ID in quotes")
        if not isinstance(region, str) or REGION.fullmatch(region) is None:
            raise ConfigError(f"{path}: {where}.region must be an AWS region such as eu-west-1")
        if profile is not None and (not isinstance(profile, str) or not profile):
            raise ConfigError(f"{path}: {where}.profile must be a profile name (a string)")
        key = host.strip().lower()
        aliases[key] = Alias(host=key, account=account, region=region, profile=profile)
    return Settings(
        path=path,
        registries=registries,
        aliases=aliases,
        cache=cache,
        auto_login=True if auto_login is None else auto_login,
        login_timeout=None if login_timeout is None else float(login_timeout),
        get_timeout=float(get_timeout),
        default_profile=_optional(document, "default_profile", str, path),
        dockerhub_org=_optional(document, "dockerhub_org", str, path),
        promote_order=parse_promote(document["promote"], f"{path}: [promote]")
        if "promote" in document
        else (),
        pull_through=parse_pull_through(document["pull_through"], f"{path}: [pull_through]")
        if "pull_through" in document
        else None,
        rewrite=parse_rewrite(document["rewrite"], f"{path}: [rewrite]")
        if "rewrite" in document
        else None,
        raw=document,
    )


def parse_promote(
    table: object, where: str, error: type[EcrSsoError] = ConfigError
) -> tuple[str, ...]:
    """A `[promote]` table's order (`where` names it in `error`'s message). Shared with
    the team file, whose table `ecr-sso setup` copies here."""
    checked = _strict_table(table, PROMOTE_KEYS, where, error)
    order = checked.get("order", [])
    if not isinstance(order, list) or not all(isinstance(n, str) and n for n in order):
        raise error(f'{where} order must be a list of profile names: ["dev", "prod"]')
    if len(set(order)) != len(order):
        raise error(f"{where} order names a profile twice")
    return tuple(order)


def parse_pull_through(
    table: object, where: str, error: type[EcrSsoError] = ConfigError
) -> PullThrough:
    """A `[pull_through]` table (`where` names it in `error`'s message). Shared with the
    team file, whose table `ecr-sso setup` copies here."""
    checked = _strict_table(table, PULL_THROUGH_KEYS, where, error)

    def typed(key: str, kind: type) -> Any:
        value = checked.get(key)
        if value is not None and not isinstance(value, kind):
            raise error(f"{where}: {key} must be a {kind.__name__}")
        return value

    prefix = typed("prefix", str) or DEFAULT_PREFIX
    problem = prefix_problem(prefix)
    if problem is not None:
        raise error(f"{where}: {problem}")
    days = typed("lifecycle_days", int)
    if days is not None and (isinstance(days, bool) or days < 1):
        raise error(f"{where}: lifecycle_days must be a whole number of days, 1 or more")
    profile = typed("profile", str)
    if profile == "":
        raise error(f"{where}: profile must be a profile name")
    return PullThrough(
        prefix=prefix,
        upstream=typed("upstream", str) or DEFAULT_UPSTREAM,
        profile=profile,
        tag_immutability=typed("tag_immutability", bool),
        scan_on_push=typed("scan_on_push", bool),
        lifecycle_days=days,
    )


def parse_rewrite(table: object, where: str, error: type[EcrSsoError] = ConfigError) -> Rewrite:
    """A `[rewrite]` table (`where` names it in `error`'s message). Shared with the team
    file, whose table `ecr-sso setup` copies here."""
    from credhelper.shown import has_unsafe

    checked = _strict_table(table, REWRITE_KEYS, where, error)
    exclude = checked.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(p, str) and p.strip() for p in exclude):
        raise error(f'{where} exclude must be a list of patterns: ["examples/", "*.tpl"]')
    if any(has_unsafe(p) for p in exclude):
        raise error(f"{where} exclude holds a control character")
    default_excludes = checked.get("default_excludes", True)
    if not isinstance(default_excludes, bool):
        raise error(f"{where} default_excludes must be true or false")
    return Rewrite(tuple(exclude), default_excludes)


def prefix_problem(prefix: str) -> str | None:
    """What is wrong with `prefix` as the start of an ECR repository name, or None."""
    if 2 <= len(prefix) <= 30 and _PREFIX.fullmatch(prefix) is not None:
        return None
    return (
        f"pull-through prefix {prefix!r} must be 2 to 30 lower-case letters, digits,"
        " '.', '_', '-' or '/'"
    )


def _strict_table(
    table: object, allowed: tuple[str, ...], where: str, error: type[EcrSsoError]
) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise error(f"{where} must be a table")
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {close[0]}?" if close else f"expected {', '.join(allowed)}"
            raise error(f"{where} has an unknown key: {key} ({hint})")
    return table


def _optional(document: dict[str, Any], key: str, kind: type, path: str) -> Any:
    value = document.get(key)
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{path}: {key} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _table(document: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def _known_keys(
    table: dict[str, Any], allowed: tuple[str, ...], path: str, text: str, alias: str | None
) -> None:
    """ConfigError naming the first key of `table` not in `allowed`: its file and line, and
    the allowed key it is closest to, if any (else them all)."""
    for key in table:
        if key in allowed:
            continue
        where = "" if alias is None else f" in [aliases.{_quoted(alias)}]"
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean {close[0]}?" if close else f"expected {', '.join(allowed)}"
        line = _line_of(text, key, alias)
        at = f", line {line}" if line else ""
        raise ConfigError(f"{path}{at}: unknown key {_quoted(key)}{where} ({hint})")


def _quoted(key: str) -> str:
    """`key` as TOML writes it: bare when it can be, else in double quotes."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else '"' + key.replace('"', '\\"') + '"'


def _line_of(text: str, key: str, alias: str | None) -> int | None:
    """The line of `text` that sets `key`: at the top level (before the first table), or
    after the line that names the alias `alias`. None if not found (an unusual spelling):
    the message then names the file and key only."""
    setting = re.compile(r"""(?:^|[{,])\s*["']?""" + re.escape(key) + r"""["']?\s*=""")
    started = alias is None
    for number, line in enumerate(text.splitlines(), 1):
        if not started:
            started = alias in line if alias is not None else True
            if not started:
                continue
        elif alias is None and line.lstrip().startswith("["):
            return None
        if setting.search(line):
            return number
    return None

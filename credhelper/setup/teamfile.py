"""The team file `ecr-sso setup --from FILE` reads, and the flags that add to it.

A team shares one TOML file that says which AWS accounts and roles its members use:

    default_profile = "dev"            # optional; default: the first profile
    dockerhub_org = "connectedhome"    # optional
    # (top-level keys come before the first [table]: after it, TOML reads them as its keys)

    [sso]
    session = "connectedhome"          # name of the [sso-session] section
    start_url = "https://example.awsapps.com/start"
    region = "eu-west-1"
    scopes = ["sso:account:access"]    # optional; this is the default

    [profiles.dev]
    account = "642976147714"           # 12 digits, in quotes
    role = "Administrator"
    region = "eu-west-1"               # optional; default: the [sso] region
    registries = ["eu-west-1"]         # optional; regions with a registry; default [region]

    [[aliases]]                        # other hostnames in front of a registry
    host = "registry.example.internal"
    profile = "dev"

    [promote]                          # optional; `ecr-sso promote --to next`
    order = ["dev", "stage", "prod"]

    [pull_through]                     # optional; the Docker Hub pull-through cache
    prefix = "docker-hub"              # (keys and checks: credhelper.settings)
    profile = "dev"

    [rewrite]                          # optional; files `ecr-sso rewrite` leaves as they are
    exclude = ["examples/"]

Setup copies `[promote]`, `[pull_through]` and `[rewrite]` into our config as they are,
checked by the same code that reads them there.

Reading is strict: an unknown key is an error naming it (a typo such as `acount` must not
pass silently), and so is an account ID written as a number (TOML would drop its leading
zeros). Pure apart from `load`, which reads the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from credhelper.aws.config import DEFAULT_SCOPES
from credhelper.errors import UsageError
from credhelper.registry import REGION, parse_address, parse_registry, registry_host
from credhelper.settings import (
    PullThrough,
    Rewrite,
    parse_promote,
    parse_pull_through,
    parse_rewrite,
    parse_toml,
)
from credhelper.shown import has_unsafe

_ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
# Profile and sso-session names go into INI section headers that botocore splits like a
# shell would; these characters need no quoting there, nor in a shell command line.
_NAME = re.compile(r"[A-Za-z0-9._][A-Za-z0-9._-]{0,127}", re.ASCII)
# IAM role and permission set names.
_ROLE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}", re.ASCII)
_SCOPE = re.compile(r"[A-Za-z0-9:._/-]{1,128}", re.ASCII)
_DOCKERHUB_ORG = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,253}[a-z0-9])?", re.ASCII)

_TOP_KEYS = (
    "sso",
    "profiles",
    "aliases",
    "default_profile",
    "dockerhub_org",
    "promote",
    "pull_through",
    "rewrite",
)
_SSO_KEYS = ("session", "start_url", "region", "scopes")
_PROFILE_KEYS = ("account", "role", "region", "registries")
_ALIAS_KEYS = ("host", "profile")


@dataclass(frozen=True)
class Sso:
    """The IAM Identity Center sign-in every profile uses. `scopes_given` tells whether
    the scopes were asked for, or are the default (then an existing session is not
    compared on them)."""

    session: str
    start_url: str
    region: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    scopes_given: bool = False


@dataclass(frozen=True)
class Profile:
    """An AWS profile to write: an account and role, the profile's region, and the
    regions where its account has a registry. `region` is None until `combine` fills in
    the default."""

    name: str
    account: str
    role: str
    region: str | None = None
    registries: tuple[str, ...] = ()


@dataclass(frozen=True)
class AliasEntry:
    """Another hostname (`host`, or `host:port`) that serves the registry of `profile`."""

    host: str
    profile: str


@dataclass(frozen=True)
class TeamFile:
    """A team file as written: every part optional, so that flags can complete it."""

    path: str = "<flags>"
    session: str | None = None
    start_url: str | None = None
    sso_region: str | None = None
    scopes: tuple[str, ...] | None = None
    profiles: tuple[Profile, ...] = ()
    aliases: tuple[AliasEntry, ...] = ()
    default_profile: str | None = None
    dockerhub_org: str | None = None
    promote_order: tuple[str, ...] = ()
    pull_through: PullThrough | None = None
    rewrite: Rewrite | None = None


@dataclass(frozen=True)
class Team:
    """Everything setup needs, complete and checked: every profile has a region and at
    least one registry region, no two profiles claim the same registry, aliases and
    `default_profile` name profiles that exist."""

    sso: Sso | None
    profiles: tuple[Profile, ...]
    aliases: tuple[AliasEntry, ...]
    default_profile: str | None
    # True when the team file or a flag named the default; then a different existing
    # default is a conflict, rather than the user's choice to keep.
    default_profile_given: bool
    dockerhub_org: str | None
    #: `[promote] order`, `[pull_through]` and `[rewrite]`, carried into our config.
    promote_order: tuple[str, ...] = ()
    pull_through: PullThrough | None = None
    rewrite: Rewrite | None = None


# -- the file ----------------------------------------------------------------------------


def load(path: str) -> TeamFile:
    """Read and check the team file at `path`; `UsageError` (exit 2) names the file and
    what is wrong with it."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise UsageError(f"{path}: cannot read the team file: {err.strerror}") from None
    document = parse_toml(data, path, UsageError, "the team file is ")
    return parse(document, path)


def parse(document: Mapping[str, Any], path: str = "<team file>") -> TeamFile:
    """Check a parsed team file document; see the module docstring for its format."""
    _no_unknown_keys(document, _TOP_KEYS, path, "the team file")
    sso = _table(document.get("sso", {}), path, "[sso]")
    _no_unknown_keys(sso, _SSO_KEYS, path, "[sso]")
    session = _opt_str(sso, "session", path, "sso.session")
    if session is not None:
        check_name(session, f"{path}: sso.session")
    start_url = _opt_str(sso, "start_url", path, "sso.start_url")
    if start_url is not None:
        check_start_url(start_url, f"{path}: sso.start_url")
    sso_region = _opt_str(sso, "region", path, "sso.region")
    if sso_region is not None:
        check_region(sso_region, f"{path}: sso.region")
    scopes = None
    if "scopes" in sso:
        scopes = _scopes(sso["scopes"], f"{path}: sso.scopes")

    profiles = []
    for name, entry in _table(document.get("profiles", {}), path, "[profiles]").items():
        where = f"profiles.{name}"
        check_name(name, f"{path}: [{where}]")
        fields = _table(entry, path, f"[{where}]")
        _no_unknown_keys(fields, _PROFILE_KEYS, path, f"[{where}]")
        account = fields.get("account")
        if account is None or "role" not in fields:
            raise UsageError(f"{path}: [{where}] needs account and role")
        check_account(account, f"{path}: {where}.account")
        role = _opt_str(fields, "role", path, f"{where}.role") or ""
        check_role(role, f"{path}: {where}.role")
        region = _opt_str(fields, "region", path, f"{where}.region")
        if region is not None:
            check_region(region, f"{path}: {where}.region")
        registries: tuple[str, ...] = ()
        if "registries" in fields:
            registries = _regions(fields["registries"], f"{path}: {where}.registries")
        profiles.append(Profile(name, account, role, region, registries))

    aliases = []
    raw_aliases = document.get("aliases", [])
    if not isinstance(raw_aliases, list):
        raise UsageError(f"{path}: aliases must be written as [[aliases]] tables")
    for number, entry in enumerate(raw_aliases, start=1):
        where = f"[[aliases]] #{number}"
        fields = _table(entry, path, where)
        _no_unknown_keys(fields, _ALIAS_KEYS, path, where)
        host = _opt_str(fields, "host", path, f"{where} host")
        profile = _opt_str(fields, "profile", path, f"{where} profile")
        if host is None or profile is None:
            raise UsageError(f"{path}: {where} needs host and profile")
        aliases.append(AliasEntry(check_alias_host(host, f"{path}: {where} host"), profile))

    default_profile = _opt_str(document, "default_profile", path, "default_profile")
    dockerhub_org = _dockerhub_org(document, path)
    promote_order, pull_through = _config_tables(document, path)
    rewrite = (
        parse_rewrite(document["rewrite"], f"{path}: [rewrite]", UsageError)
        if "rewrite" in document
        else None
    )
    return TeamFile(
        path=path,
        session=session,
        start_url=start_url,
        sso_region=sso_region,
        scopes=scopes,
        profiles=tuple(profiles),
        aliases=tuple(aliases),
        default_profile=default_profile,
        dockerhub_org=dockerhub_org,
        promote_order=promote_order,
        pull_through=pull_through,
        rewrite=rewrite,
    )


def _dockerhub_org(document: Mapping[str, Any], path: str) -> str | None:
    dockerhub_org = _opt_str(document, "dockerhub_org", path, "dockerhub_org")
    if dockerhub_org is not None and _DOCKERHUB_ORG.fullmatch(dockerhub_org) is None:
        raise UsageError(
            f"{path}: dockerhub_org must be a Docker Hub organisation name"
            f" (lower-case letters, digits, '.', '_', '-'), not {dockerhub_org!r}"
        )
    return dockerhub_org


def _config_tables(
    document: Mapping[str, Any], path: str
) -> tuple[tuple[str, ...], PullThrough | None]:
    """`[promote] order` and `[pull_through]`, checked as our config checks them."""
    promote_order: tuple[str, ...] = ()
    if "promote" in document:
        promote_order = parse_promote(document["promote"], f"{path}: [promote]", UsageError)
    pull_through = None
    if "pull_through" in document:
        pull_through = parse_pull_through(
            document["pull_through"], f"{path}: [pull_through]", UsageError
        )
    return promote_order, pull_through


def parse_profile_flag(text: str) -> Profile:
    """`--profile NAME=ACCOUNT:ROLE[:REGION]` as a profile (region None when not given)."""
    name, equals, rest = text.partition("=")
    parts = rest.split(":")
    if not equals or len(parts) not in (2, 3):
        raise UsageError(f"--profile {text!r}: expected NAME=ACCOUNT:ROLE[:REGION]")
    where = f"--profile {text!r}"
    check_name(name, where)
    check_account(parts[0], f"{where}: the account")
    check_role(parts[1], f"{where}: the role")
    region = parts[2] if len(parts) == 3 else None
    if region is not None:
        check_region(region, f"{where}: the region")
    return Profile(name, parts[0], parts[1], region)


# -- flags over the file ---------------------------------------------------------------


def combine(
    team_file: TeamFile | None,
    *,
    session: str | None = None,
    start_url: str | None = None,
    sso_region: str | None = None,
    profiles: Sequence[Profile] = (),
    discovered: Sequence[Profile] = (),
    default_region: str | None = None,
    require_sso: bool = True,
) -> Team:
    """The team file with the flags laid over it: `session`, `start_url` and
    `sso_region` replace the file's `[sso]` values; a `--profile` replaces the file's
    profile of the same name, or adds one; `discovered` profiles are added under names
    not taken yet. A profile without a region gets `default_region`, else the SSO
    region; without registries, its own region. `UsageError` when something needed is
    missing or two parts disagree."""
    base = team_file or TeamFile()
    where = base.path
    sso = _sso(base, session, start_url, sso_region, require_sso=require_sso)

    merged: dict[str, Profile] = {p.name: p for p in base.profiles}
    for profile in profiles:
        merged[profile.name] = profile
    for profile in discovered:
        merged.setdefault(profile.name, profile)
    fallback_region = default_region or (sso.region if sso else None)
    complete = []
    for profile in merged.values():
        region = profile.region or fallback_region
        if region is None:
            raise UsageError(f"profile {profile.name!r} has no region and there is no default")
        complete.append(replace(profile, region=region, registries=profile.registries or (region,)))
    if not complete:
        raise UsageError("no profiles to set up: list them in the team file, or use --profile")
    _check_unique_registries(complete)

    names = {p.name for p in complete}
    for alias in base.aliases:
        if alias.profile not in names:
            raise UsageError(
                f"{where}: the alias {alias.host} names profile {alias.profile!r},"
                " which is not among the profiles"
            )
    hosts = [a.host for a in base.aliases]
    duplicate = next((h for h in hosts if hosts.count(h) > 1), None)
    if duplicate is not None:
        raise UsageError(f"{where}: the alias {duplicate} is listed twice")
    if base.default_profile is not None and base.default_profile not in names:
        raise UsageError(
            f"{where}: default_profile {base.default_profile!r} is not among the profiles"
        )
    for name in base.promote_order:
        if name not in names:
            raise UsageError(f"{where}: [promote] order names {name!r}, not among the profiles")
    if base.pull_through is not None and base.pull_through.profile not in (None, *names):
        raise UsageError(
            f"{where}: [pull_through] profile {base.pull_through.profile!r} is not among"
            " the profiles"
        )
    default = base.default_profile or (complete[0].name if complete else None)
    return Team(
        sso=sso,
        profiles=tuple(complete),
        aliases=base.aliases,
        default_profile=default,
        default_profile_given=base.default_profile is not None,
        dockerhub_org=base.dockerhub_org,
        promote_order=base.promote_order,
        pull_through=base.pull_through,
        rewrite=base.rewrite,
    )


def _sso(
    base: TeamFile,
    session: str | None,
    start_url: str | None,
    region: str | None,
    *,
    require_sso: bool,
) -> Sso | None:
    """The SSO sign-in: the flags over the file's [sso] table."""
    if session is not None:
        check_name(session, "--sso-session")
    if region is not None:
        check_region(region, "--sso-region")
    if start_url is not None:
        check_start_url(start_url, "--sso-start-url")
    final_url = start_url or base.start_url
    final_region = region or base.sso_region
    final_session = session or base.session
    if final_url is None and final_region is None and final_session is None:
        if require_sso:
            raise UsageError(
                "no SSO sign-in given: add [sso] start_url and region to the team file, or"
                " pass --sso-start-url and --sso-region"
            )
        return None
    if final_url is None or final_region is None:
        raise UsageError(
            "the SSO sign-in needs both a start URL and a region ([sso] start_url and"
            " region in the team file, or --sso-start-url and --sso-region)"
        )
    return Sso(
        session=final_session or default_session_name(final_url),
        start_url=final_url,
        region=final_region,
        scopes=base.scopes or DEFAULT_SCOPES,
        scopes_given=base.scopes is not None,
    )


def default_session_name(start_url: str) -> str:
    """The sso-session name used when none is given: the first label of the start URL's
    host (`https://connectedhome.awsapps.com/start` gives `connectedhome`)."""
    host = urlsplit(start_url).hostname or "sso"
    label = re.sub(r"[^A-Za-z0-9._-]+", "-", host.split(".")[0]).strip("-")
    return label or "sso"


def _check_unique_registries(profiles: Iterable[Profile]) -> None:
    # Two profiles for one registry would make the map ambiguous: it holds one profile per host.
    owner: dict[str, str] = {}
    for profile in profiles:
        for region in profile.registries:
            host = registry_host(profile.account, region)
            other = owner.setdefault(host, profile.name)
            if other != profile.name:
                raise UsageError(
                    f"profiles {other!r} and {profile.name!r} both claim the registry {host};"
                    " give one of them other registries = [...]"
                )


# -- single values -----------------------------------------------------------------------


def check_name(name: str, where: str) -> None:
    """A profile or sso-session name that needs no quoting in the AWS config or a shell."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise UsageError(
            f"{where}: {name!r} is not a usable name (letters, digits, '.', '_', '-';"
            " not starting with '-')"
        )
    if name == "default":
        raise UsageError(
            f"{where}: 'default' is the AWS CLI's [default] section; choose another name"
        )


def check_account(value: object, where: str) -> None:
    """A 12-digit AWS account ID, as a string."""
    if not isinstance(value, str) or _ACCOUNT.fullmatch(value) is None:
        raise UsageError(f"{where} must be a 12-digit AWS account ID in quotes, not {value!r}")


def check_role(value: object, where: str) -> None:
    """An IAM role or permission set name."""
    if not isinstance(value, str) or _ROLE.fullmatch(value) is None:
        raise UsageError(f"{where} must be a role name such as Administrator, not {value!r}")


def check_region(value: object, where: str) -> None:
    """An AWS region name such as `eu-west-1`."""
    if not isinstance(value, str) or REGION.fullmatch(value) is None:
        raise UsageError(f"{where} must be an AWS region such as eu-west-1, not {value!r}")


def check_start_url(value: object, where: str) -> None:
    """An https URL, as IAM Identity Center shows it: no white space, and no control or
    hiding character (an escape sequence in a shared team file would reach terminals and
    the AWS config; a NUL would cut the config's line short)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or any(c.isspace() for c in str(value))
        or has_unsafe(str(value))
    ):
        raise UsageError(
            f"{where} must be the https:// start URL of IAM Identity Center, not {value!r}"
        )


def check_alias_host(value: str, where: str) -> str:
    """An alias hostname (`host` or `host:port`, no scheme, no path), lower-cased. An ECR
    host is not an alias: its account and region are in its name."""
    address = parse_address(value)
    if address is None or address.netloc != value.strip().lower():
        raise UsageError(f"{where} must be a hostname, optionally with :port, not {value!r}")
    if parse_registry(address) is not None:
        raise UsageError(
            f"{where}: {value!r} is an ECR registry itself; list its region under the"
            " profile's registries instead"
        )
    return address.netloc


def _scopes(value: object, where: str) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(s, str) and _SCOPE.fullmatch(s) for s in value)
    ):
        raise UsageError(f"{where} must be a list of scopes such as ['sso:account:access']")
    return tuple(value)


def _regions(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise UsageError(f"{where} must be a list of regions such as ['eu-west-1']")
    for region in value:
        check_region(region, where)
    return tuple(dict.fromkeys(value))


def _no_unknown_keys(
    table: Mapping[str, Any], allowed: Sequence[str], path: str, where: str
) -> None:
    unknown = [key for key in table if key not in allowed]
    if unknown:
        hint = ""
        if any(key in _TOP_KEYS for key in unknown):
            hint = "; top-level keys go before the first [table], or TOML reads them as its"
        raise UsageError(
            f"{path}: unknown key{'s' if len(unknown) > 1 else ''} in {where}:"
            f" {', '.join(unknown)} (expected {', '.join(allowed)}){hint}"
        )


def _table(value: object, path: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UsageError(f"{path}: {where} must be a table")
    return value


def _opt_str(table: Mapping[str, Any], key: str, path: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise UsageError(f"{path}: {where} must be a non-empty string, not {value!r}")
    return value

"""`ecr-sso setup` and `setup --ci`: plan the changes to three files, from their contents
to their new contents.

The three files: the AWS config (profiles and the sso-session), our own config (the
registry map, aliases, and the `[managed]` record of what setup added, see
`credhelper.setup.settings_file`), and Docker's `config.json` (`credHelpers`).

Planning is pure: `read_files` reads and parses all three first (a malformed file stops
everything before anything is written); the planners take those contents and return each
file's new bytes, never changing what they were given, so a plan can be made twice from
one read. A plan lists what it would change, the *conflicts* (an existing value that
differs from the one wanted; nothing is written unless forced), and the changes to content
the user wrote (replaced values, removed `auths` entries, anything teardown removes),
which need consent. `credhelper.setup.apply` writes a plan; `credhelper.setup.teardown`
plans the removal.

Setup lists our config first, so that the record of what it adds is written before the
additions are, then the AWS config, then Docker's config last: docker starts calling the
helper only once everything it needs is in place. Teardown lists them in the opposite order.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from credhelper.aws import config_editor as aws_config
from credhelper.aws.config import session_of
from credhelper.aws.config_editor import ConfigFile
from credhelper.errors import Conflict, UsageError
from credhelper.paths import Paths
from credhelper.registry import parse_address, parse_registry, registry_host
from credhelper.setup import docker_config, settings_file
from credhelper.setup.docker_config import HELPER_NAME, DockerConfig
from credhelper.setup.settings_file import Managed, SettingsFile
from credhelper.setup.teamfile import Profile, Sso, Team

#: Keys of a profile that only express a preference: an existing profile that differs
#: in them alone is the same profile, left as it is.
PREFERENCE_KEYS = ("output",)


# -- the files -------------------------------------------------------------------------


@dataclass(frozen=True)
class Files:
    """The three files, read and parsed. `aws` is None for `setup --ci`, which does not
    touch the AWS config."""

    settings: SettingsFile
    aws: ConfigFile | None
    docker: DockerConfig


def read_files(paths: Paths, *, aws: bool = True) -> Files:
    """Read and parse our config, the AWS config (unless `aws` is False) and Docker's
    config. Raises `MalformedFile` for the first one that cannot be parsed."""
    return Files(
        settings=settings_file.read(paths.config_file),
        aws=aws_config.read(paths.aws_config_file) if aws else None,
        docker=docker_config.read(paths.docker_config_file),
    )


@dataclass(frozen=True)
class FileChange:
    """One file's bytes before (None: absent) and after (None: left as it is, unless
    `remove`: then the file is deleted)."""

    label: str
    path: str
    old: bytes | None
    new: bytes | None
    remove: bool = False
    #: Docker's `auths` entries this change removes for the password they hold
    #: (`--clean-auths`): no backup or copy of the file may keep them.
    forget: tuple[str, ...] = ()

    def kept(self, data: bytes | None) -> bytes | None:
        """`data` (`old`, or an earlier version) as a backup or a copy may hold it: without
        the entries of `forget`; None when they cannot be taken out (keep no copy)."""
        if data is None or not self.forget:
            return data
        return docker_config.without_auths(self.path, data, self.forget)

    @property
    def changed(self) -> bool:
        """Whether applying writes (or deletes) this file."""
        if self.remove:
            return self.old is not None
        return self.new is not None and self.new != self.old


@dataclass
class Plan:
    """What a command would do. `files` are in the order they are written."""

    files: list[FileChange] = field(default_factory=list)
    #: What is added or removed, one line each, for the summary.
    actions: list[str] = field(default_factory=list)
    #: Things worth knowing that change nothing (stale auths, entries kept).
    notes: list[str] = field(default_factory=list)
    #: Existing values that differ from the wanted ones (left alone unless forced).
    conflicts: list[str] = field(default_factory=list)
    #: Changes to content the user wrote, which need consent.
    consent: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether applying would write any file."""
        return any(change.changed for change in self.files)


def check_conflicts(plan: Plan) -> None:
    """Raise `Conflict` (exit 3) if the plan found conflicts; the caller shows them."""
    if plan.conflicts:
        count = len(plan.conflicts)
        raise Conflict(
            f"{count} existing {'entry differs' if count == 1 else 'entries differ'} from"
            " what setup would write (listed above); nothing was changed. Fix them, or run"
            " again with --force to replace them"
        )


# -- setup -------------------------------------------------------------------------------


def profile_items(profile: Profile, sso: Sso | None, *, legacy: bool) -> list[tuple[str, str]]:
    """The keys of `[profile NAME]`, in the order written: the sso-session form botocore
    refreshes tokens for, or with `legacy` the older per-profile start URL form."""
    if sso is None:
        raise UsageError(f"profile {profile.name!r} needs an SSO start URL and region")
    if legacy:
        head = [("sso_start_url", sso.start_url), ("sso_region", sso.region)]
    else:
        head = [("sso_session", sso.session)]
    return [
        *head,
        ("sso_account_id", profile.account),
        ("sso_role_name", profile.role),
        ("region", profile.region or sso.region),
        ("output", "json"),
    ]


def session_items(sso: Sso) -> list[tuple[str, str]]:
    """The keys of `[sso-session NAME]`, as `aws configure sso` writes them."""
    return [
        ("sso_start_url", sso.start_url),
        ("sso_region", sso.region),
        ("sso_registration_scopes", ",".join(sso.scopes)),
    ]


def registry_hosts(team: Team) -> list[tuple[str, Profile]]:
    """Every (registry host, profile) of the team, in profile order."""
    return [
        (registry_host(profile.account, region), profile)
        for profile in team.profiles
        for region in profile.registries
    ]


def plan_setup(
    team: Team,
    files: Files,
    *,
    legacy: bool = False,
    force: bool = False,
    clean_auths: bool = False,
) -> Plan:
    """The changes that set this machine up for `team`. Reads and writes no file, and
    changes nothing in `files`: edits are made to a fresh copy of our config's document.
    Conflicts are listed in the plan (and become changes when `force`)."""
    if files.aws is None:
        raise UsageError("setup needs the AWS config")
    ours = files.settings.copy()
    run = _Changes(Plan(), copy.deepcopy(ours.managed), force)
    run.plan_ours(team, ours)
    aws_new = run.plan_aws(team, files.aws, legacy=legacy)
    hosts = [host for host, _ in registry_hosts(team)] + [a.host for a in team.aliases]
    docker_change = _plan_docker(
        run, files.docker, hosts, record=run.record, clean_auths=clean_auths
    )
    ours.set_managed(run.record)
    run.plan.files = [
        FileChange(settings_file.LABEL, ours.path, ours.original, ours.render()),
        FileChange(aws_config.LABEL, files.aws.path, files.aws.original, aws_new),
        docker_change,
    ]
    return run.plan


@dataclass
class _Changes:
    """One planning run: the plan being filled, the `[managed]` record being updated,
    and whether conflicts are to be overridden."""

    plan: Plan
    record: Managed
    force: bool

    def plan_ours(self, team: Team, ours: SettingsFile) -> None:
        """The registry map, the aliases and the defaults."""
        for host, profile in registry_hosts(team):
            current = ours.settings.registries.get(host)
            if self.decide(ours.path, f"[registries] {host}", current, profile.name):
                ours.set_registry(host, profile.name)
                self.record.registries[host] = profile.name
        by_name = {p.name: p for p in team.profiles}
        for alias in team.aliases:
            target = by_name[alias.profile]
            wanted = {"account": target.account, "region": target.region or ""}
            wanted["profile"] = target.name
            current_alias = alias_values(ours, alias.host)
            if self.decide(ours.path, f'[aliases."{alias.host}"]', current_alias, wanted):
                ours.set_alias(alias.host, wanted)
                self.record.aliases[alias.host] = wanted
        tops = {"default_profile": team.default_profile, "dockerhub_org": team.dockerhub_org}
        for key, value in tops.items():
            current = getattr(ours.settings, key)
            if value is None:
                continue
            if key == "default_profile" and current is not None and not team.default_profile_given:
                # The default is only "the first profile", not the team's word: the user's wins.
                if current != value:
                    self.plan.notes.append(f"{ours.path}: keeping your default_profile {current!r}")
                continue
            if self.decide(ours.path, key, current, value):
                ours.set_top(key, value)
                setattr(self.record, key, value)
        self.plan_tables(team, ours)

    def plan_tables(self, team: Team, ours: SettingsFile) -> None:
        """`[promote]`, `[pull_through]` and `[rewrite]` from the team file. Unlike a user's
        value, one that still holds what an earlier setup wrote follows a changed team file."""
        wanted_tables = settings_file.team_tables(
            team.promote_order, team.pull_through, team.rewrite
        )
        current_tables = settings_file.team_tables(
            ours.settings.promote_order, ours.settings.pull_through, ours.settings.rewrite
        )
        for key, wanted_table in wanted_tables.items():
            if wanted_table is None:
                continue
            recorded = getattr(self.record, key)
            current_table = current_tables[key]
            if current_table is not None and current_table == recorded != wanted_table:
                # Still as an earlier setup wrote it: the team file changed, not the user.
                self.plan.actions.append(
                    f"update [{key}] in {ours.path} ({show(current_table)} → {show(wanted_table)})"
                )
            elif not self.decide(ours.path, f"[{key}]", current_table, wanted_table):
                continue
            ours.set_table(key, wanted_table)
            setattr(self.record, key, wanted_table)

    def plan_aws(self, team: Team, aws: ConfigFile, *, legacy: bool) -> bytes | None:
        """The sso-session, then the profiles, in team order; the new file's bytes
        (checked with botocore), None when unchanged."""
        editor = aws_config.Editor(aws)
        if team.sso is not None and not legacy:
            items = session_items(team.sso)
            identity = [
                k for k, _ in items if k != "sso_registration_scopes" or team.sso.scopes_given
            ]
            self.section(editor, "sso-session", team.sso.session, items, identity)
        for profile in team.profiles:
            items = profile_items(profile, team.sso, legacy=legacy)
            identity = [k for k, _ in items if k not in PREFERENCE_KEYS]
            self.section(editor, "profile", profile.name, items, identity)
        if not editor.changed:
            return None
        text = editor.text()
        editor.verify(text)
        return text.encode("utf-8")

    def decide(self, path: str, what: str, current: object, wanted: object) -> bool:
        """Whether to write `wanted` over `current` (None: absent) in our config: yes
        when absent; no when equal; a conflict when different, unless forced (then it
        needs consent)."""
        if current == wanted:
            return False
        if current is None:
            self.plan.actions.append(f"add {what} to {path}")
            return True
        if not self.force:
            self.plan.conflicts.append(
                f"{path}: {what} is {show(current)}, setup wants {show(wanted)}"
            )
            return False
        self.plan.consent.append(f"replace {what} in {path} ({show(current)} → {show(wanted)})")
        return True

    def section(
        self,
        editor: aws_config.Editor,
        kind: str,
        name: str,
        items: list[tuple[str, str]],
        identity: Sequence[str],
    ) -> None:
        """One section of the AWS config: add it, leave it (same values in `identity`),
        or, forced, set our values in it."""
        config = editor.config
        recorded = self.record.profiles if kind == "profile" else self.record.sso_sessions
        header = f"{kind} {name}"
        section = config.profile(name) if kind == "profile" else config.session(name)
        if section is None:
            editor.add_section(header, items)
            recorded[name] = dict(items)
            self.plan.actions.append(f"add [{header}] to {config.path}")
            return
        current = config.strings(section)
        wanted = [(k, v) for k, v in items if k in identity]
        differences = aws_config.differences(current, wanted)
        if not differences:
            if name not in recorded:
                self.plan.notes.append(
                    f"{config.path}: [{section.name}] is already set up this way; left as it is"
                )
            return
        where = f"{config.path}, line {section.line_number}: [{section.name}]"
        if not self.force:
            self.plan.conflicts.append(f"{where}: {'; '.join(differences)}")
            return
        editor.set_options(section, items)
        recorded[name] = dict(items)
        self.plan.consent.append(f"replace values in [{section.name}] of {config.path}")


def alias_values(ours: SettingsFile, host: str) -> dict[str, str] | None:
    existing = ours.settings.aliases.get(host)
    if existing is None:
        return None
    return {
        "account": existing.account,
        "region": existing.region,
        "profile": existing.profile or "",
    }


def show(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v!r}" for k, v in value.items()) + "}"
    return repr(value)


def _plan_docker(
    run: _Changes,
    docker: DockerConfig,
    hosts: Iterable[str],
    *,
    record: Managed | None,
    clean_auths: bool,
) -> FileChange:
    """credHelpers entries for `hosts` (recorded in `record` unless None); stale auths
    entries for them reported, or removed with `clean_auths`."""
    plan = run.plan
    helpers = dict(docker.cred_helpers)
    wanted = list(dict.fromkeys(hosts))
    for host in wanted:
        current = helpers.get(host)
        if current == HELPER_NAME:
            continue
        if current is not None and not run.force:
            plan.conflicts.append(
                f'{docker.path}: credHelpers["{host}"] is "{current}", setup wants "{HELPER_NAME}"'
            )
            continue
        helpers[host] = HELPER_NAME
        if record is not None and host not in record.cred_helpers:
            record.cred_helpers.append(host)
        if current is None:
            plan.actions.append(f'add credHelpers["{host}"] = "{HELPER_NAME}" to {docker.path}')
        else:
            plan.consent.append(f'replace credHelpers["{host}"] ("{current}") in {docker.path}')
    data = dict(docker.data)
    if helpers != docker.cred_helpers:
        data["credHelpers"] = helpers
    stale = docker.auths_for(wanted)
    if stale and clean_auths:
        data["auths"] = {k: v for k, v in docker.data["auths"].items() if k not in stale}
        plan.consent.append(f"remove the auths entries for {', '.join(stale)} from {docker.path}")
    elif stale:
        plan.notes.append(
            f"{docker.path}: auths holds entries for {', '.join(stale)} (from an earlier"
            " docker login). docker, skopeo and podman ask credHelpers first, so they are"
            " unused, but they keep an old password in plain text, and tools that read only"
            " auths would send it; --clean-auths removes them"
        )
    new = docker.render(data) if data != docker.data else None
    forget = tuple(stale) if stale and clean_auths else ()
    return FileChange(docker_config.LABEL, docker.path, docker.original, new, forget=forget)


# -- setup --ci ---------------------------------------------------------------------------


def ci_hosts(hosts: Sequence[str], ours: SettingsFile) -> list[str]:
    """The Docker config keys for `--registry` values: an ECR registry host (private or
    public, any partition), or an alias that our config defines. `UsageError` otherwise."""
    if not hosts:
        raise UsageError("--ci needs at least one --registry HOST")
    found = []
    for value in hosts:
        address = parse_address(value)
        if address is None:
            raise UsageError(f"--registry {value!r} is not a registry host")
        if parse_registry(address) is None and address.netloc not in ours.settings.aliases:
            raise UsageError(
                f"--registry {value!r} is not an ECR registry host"
                f" (ACCOUNT.dkr.ecr.REGION.amazonaws.com), nor an alias in {ours.path}"
            )
        found.append(address.netloc)
    return found


def plan_ci(hosts: Sequence[str], files: Files, *, force: bool = False) -> Plan:
    """Only `credHelpers` entries for `hosts` (see `ci_hosts`): what a CI runner needs,
    whose credentials come from the environment, not from SSO."""
    run = _Changes(Plan(), Managed(), force)
    run.plan.files = [_plan_docker(run, files.docker, hosts, record=None, clean_auths=False)]
    return run.plan


# -- teardown ----------------------------------------------------------------------------


# -- discovery ---------------------------------------------------------------------------


class FoundRole(Protocol):
    """What discovery finds: a role in an account, and the profile name chosen for it."""

    @property
    def account_id(self) -> str: ...
    @property
    def role_name(self) -> str: ...
    @property
    def profile_name(self) -> str: ...


def discovered_profiles(found: Iterable[FoundRole], region: str | None) -> list[Profile]:
    """A profile per discovered role, in `region` (None: the SSO region, filled in later)."""
    return [Profile(f.profile_name, f.account_id, f.role_name, region) for f in found]


def sso_session_of(aws: ConfigFile, session: str | None) -> tuple[str, str, str] | None:
    """(session, start URL, region) of an sso-session already in the AWS config: the one
    named, else the only one there is. None when there is no such single session."""
    names = [name for section in aws.sections if (name := session_of(section.name))]
    if session is None:
        if len(names) != 1:
            return None
        session = names[0]
    section = aws.session(session)
    if section is None:
        return None
    values = aws.strings(section)
    url, region = values.get("sso_start_url"), values.get("sso_region")
    if not url or not region:
        return None
    return session, url, region

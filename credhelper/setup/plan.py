"""`ecr-sso setup`, `setup --ci` and `teardown`: plan the changes to three files, then
apply them safely.

The three files: the AWS config (profiles and the sso-session), our own config (the
registry map, aliases, and the `[managed]` record of what setup added, see
`credhelper.setup.settings_file`), and Docker's `config.json` (`credHelpers`).

Planning reads and parses all three first — a malformed file stops everything before
anything is written — and computes each file's new bytes without writing. A plan lists
what it would change, the *conflicts* (an existing value that differs from the one wanted;
nothing is written unless forced), and the changes to content the user wrote (replaced
values, removed `auths` entries, anything teardown removes), which need consent.

Applying a plan writes each changed file atomically (temp file, fsync, rename), after
saving its previous bytes as a backup beside it (`NAME.bak-YYYYmmddTHHMMSSZ`, same mode).
Setup writes our config first, so that the record of what it adds exists before the
additions do (a crash in between leaves a record of things not yet there, which teardown
skips, rather than things nobody will remove), then the AWS config, then Docker's config
last: docker starts calling the helper only once everything it needs is in place.
Teardown writes in the opposite order.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from credhelper import atomic
from credhelper.aws import config_editor as aws_config
from credhelper.aws.config import profile_of, session_of
from credhelper.aws.config_editor import ConfigFile
from credhelper.errors import Conflict, EcrSsoError, UsageError
from credhelper.paths import Paths
from credhelper.registry import parse_address, parse_registry, registry_host
from credhelper.settings import Settings
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
    """One file's bytes before (None: absent) and after (None: left as it is)."""

    label: str
    path: str
    old: bytes | None
    new: bytes | None

    @property
    def changed(self) -> bool:
        """Whether applying writes this file."""
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
    """The changes that set this machine up for `team`. Reads and writes no file; the
    edits are made to the documents in `files` (so plan once per `read_files`).
    Conflicts are listed in the plan (and become changes when `force`)."""
    if files.aws is None:
        raise UsageError("setup needs the AWS config")
    run = _Changes(Plan(), copy.deepcopy(files.settings.managed), force)
    run.plan_ours(team, files.settings)
    aws_new = run.plan_aws(team, files.aws, legacy=legacy)
    hosts = [host for host, _ in registry_hosts(team)] + [a.host for a in team.aliases]
    docker_change = _plan_docker(
        run, files.docker, hosts, record=run.record, clean_auths=clean_auths
    )
    files.settings.set_managed(run.record)
    ours = files.settings
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
            current_alias = _alias_values(ours, alias.host)
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
                f"{path}: {what} is {_show(current)}, setup wants {_show(wanted)}"
            )
            return False
        self.plan.consent.append(f"replace {what} in {path} ({_show(current)} → {_show(wanted)})")
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


def _alias_values(ours: SettingsFile, host: str) -> dict[str, str] | None:
    existing = ours.settings.aliases.get(host)
    if existing is None:
        return None
    return {
        "account": existing.account,
        "region": existing.region,
        "profile": existing.profile or "",
    }


def _show(value: object) -> str:
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
    return FileChange(docker_config.LABEL, docker.path, docker.original, new)


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


def plan_teardown(files: Files, *, force: bool = False) -> Plan:
    """Remove exactly what setup recorded in `[managed]`, where it still holds the values
    setup wrote; report (and keep, unless `force`) what the user has changed since.
    Whatever is kept stays in the record, so that a later teardown can remove it."""
    if files.aws is None:
        raise UsageError("teardown needs the AWS config")
    run = _Removals(Plan(), files.settings.managed, Managed(), force)
    docker_new = run.plan_docker(files.docker)
    aws_new = run.plan_aws(files.aws)
    run.plan_ours(files.settings)
    # Teardown removes only what setup added, but the user may have come to rely on it.
    run.plan.consent = list(run.plan.actions)
    ours = files.settings
    run.plan.files = [
        FileChange(docker_config.LABEL, files.docker.path, files.docker.original, docker_new),
        FileChange(aws_config.LABEL, files.aws.path, files.aws.original, aws_new),
        FileChange(settings_file.LABEL, ours.path, ours.original, ours.render()),
    ]
    return run.plan


@dataclass
class _Removals:
    """One teardown planning run: what `record` lists is removed where it is still ours;
    what is kept goes into `kept`."""

    plan: Plan
    record: Managed
    kept: Managed
    force: bool

    def plan_docker(self, docker: DockerConfig) -> bytes | None:
        """Our credHelpers entries, where they still say "ecr-sso"."""
        helpers = dict(docker.cred_helpers)
        for host in self.record.cred_helpers:
            current = helpers.get(host)
            if current == HELPER_NAME:
                del helpers[host]
                self.plan.actions.append(f'remove credHelpers["{host}"] from {docker.path}')
            elif current is not None:
                # Pointing elsewhere now: the user's entry, never ours to remove.
                self.plan.notes.append(
                    f'{docker.path}: credHelpers["{host}"] is now "{current}"; not ours, kept'
                )
        if helpers == docker.cred_helpers:
            return None
        data = dict(docker.data)
        data["credHelpers"] = helpers
        if not helpers:
            # Emptied by us: most likely setup created it, and docker needs no empty one.
            del data["credHelpers"]
        return docker.render(data)

    def plan_aws(self, aws: ConfigFile) -> bytes | None:
        """Our profiles, then our sso-sessions that no remaining profile uses."""
        editor = aws_config.Editor(aws)
        remaining = {
            name: aws.strings(section)
            for section in aws.sections
            if (name := profile_of(section.name)) is not None
        }
        for name, wanted in self.record.profiles.items():
            section = aws.profile(name)
            if section is None:
                continue
            if self.section(editor, section, wanted):
                remaining.pop(name, None)
            else:
                self.kept.profiles[name] = wanted
        for name, wanted in self.record.sso_sessions.items():
            section = aws.session(name)
            if section is None:
                continue
            users = sorted(p for p, keys in remaining.items() if keys.get("sso_session") == name)
            if users:
                self.plan.notes.append(
                    f"{aws.path}: [{section.name}] kept: profile {', '.join(users)} uses it"
                )
                self.kept.sso_sessions[name] = wanted
            elif not self.section(editor, section, wanted):
                self.kept.sso_sessions[name] = wanted
        if not editor.changed:
            return None
        text = editor.text()
        editor.verify(text)
        return text.encode("utf-8")

    def plan_ours(self, ours: SettingsFile) -> None:
        """Our registry map entries, aliases and defaults; then the record of what is
        left."""
        for host, profile in self.record.registries.items():
            current = ours.settings.registries.get(host)
            if self.removable(ours.path, f"[registries] {host}", current, profile):
                ours.remove_registry(host)
            elif current is not None:
                self.kept.registries[host] = profile
        for host, values in self.record.aliases.items():
            current_alias = _alias_values(ours, host)
            if self.removable(ours.path, f'[aliases."{host}"]', current_alias, values):
                ours.remove_alias(host)
            elif current_alias is not None:
                self.kept.aliases[host] = values
        for key in ("default_profile", "dockerhub_org"):
            value = getattr(self.record, key)
            current = getattr(ours.settings, key)
            if value is None:
                continue
            if self.removable(ours.path, key, current, value):
                ours.remove_top(key)
            elif current is not None:
                setattr(self.kept, key, value)
        ours.set_managed(self.kept)

    def removable(self, path: str, what: str, current: object, recorded: object) -> bool:
        """Whether to remove an entry of our config: yes while it holds what setup wrote;
        when the user has changed it, only if forced (else it is reported and kept)."""
        if current is None:
            return False
        if current != recorded and not self.force:
            self.plan.notes.append(
                f"{path}: {what} was changed after setup ({_show(current)}; setup wrote"
                f" {_show(recorded)}): kept; --force removes it"
            )
            return False
        self.plan.actions.append(f"remove {what} from {path}")
        return True

    def section(
        self, editor: aws_config.Editor, section: aws_config.Section, recorded: dict[str, str]
    ) -> bool:
        """Remove an AWS config section while it holds exactly what setup wrote, compared
        with every value botocore reads, nested blocks included (a key the user added
        makes it theirs too); when changed, only if forced."""
        config = editor.config
        current = dict(config.values.get(section.name, {}))
        if current != recorded and not self.force:
            changes = aws_config.differences(current, recorded.items())
            changes += [f"{k} was added" for k in current if k not in recorded]
            self.plan.notes.append(
                f"{config.path}, line {section.line_number}: [{section.name}] was changed"
                f" after setup ({'; '.join(changes)}): kept; --force removes it"
            )
            return False
        editor.remove_section(section)
        self.plan.actions.append(f"remove [{section.name}] from {config.path}")
        return True


# -- applying ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """A file written, and where its previous version was saved (None: it was new)."""

    label: str
    path: str
    backup: str | None


def apply(plan: Plan, *, now: datetime | None = None) -> list[Written]:
    """Write every changed file of `plan`, in order: first its previous bytes to a backup
    beside it (same mode), then the new bytes atomically (the original mode kept; a new
    file 0600, in folders created 0700).

    A file reached through a symlink is written where the link points, the link kept.
    A plan is made from the bytes read at the start, and a prompt may wait a long time:
    every file is checked to still hold those bytes before anything is written, and each
    again just before it is written. A file changed meanwhile is left as it is, and
    `EcrSsoError` says which, and which files were already written."""
    moment = now or datetime.now(timezone.utc)
    changes = [change for change in plan.files if change.changed]
    for change in changes:
        _check_unchanged(change, [])
    written: list[Written] = []
    for change in changes:
        assert change.new is not None  # noqa: S101 - `changed` guarantees it
        _check_unchanged(change, written)
        # Through a symlink (dotfiles kept in a repository): the file it points to is the
        # user's; replacing the link itself with a plain file would cut it loose.
        path = os.path.realpath(change.path)
        backup = None
        if change.old is not None:
            mode = os.stat(path).st_mode & 0o7777
            backup = backup_path(path, moment)
            atomic.write_bytes(backup, change.old, mode=mode)
        else:
            make_private_dirs(os.path.dirname(path))
        atomic.write_bytes(path, change.new)
        written.append(Written(change.label, change.path, backup))
    return written


def _check_unchanged(change: FileChange, written: list[Written]) -> None:
    if _current_bytes(change.path) == change.old:
        return
    done = (
        f"; already written: {', '.join(w.path for w in written)}"
        if written
        else "; nothing was written"
    )
    raise EcrSsoError(
        f"{change.path} was changed by something else while ecr-sso was working, so it was"
        f" left as it is{done}. Run the command again"
    )


def _current_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def backup_path(path: str, moment: datetime) -> str:
    """`PATH.bak-YYYYmmddTHHMMSSZ` (UTC), with `-2`, `-3`, ... if that name is taken."""
    base = f"{path}.bak-{moment.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}"
    candidate, number = base, 1
    while os.path.lexists(candidate):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def make_private_dirs(folder: str) -> None:
    """Create `folder` and any missing parents, each 0700; existing ones are not ours
    and keep their mode."""
    missing = []
    current = folder
    while not os.path.isdir(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    for path in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)


# -- showing -----------------------------------------------------------------------------


def diff(change: FileChange) -> str:
    """A unified diff of one change (empty when unchanged), with secrets redacted: the
    values of `auths` entries in Docker's config, and AWS keys in the AWS config."""
    if not change.changed:
        return ""
    old = (change.old or b"").decode("utf-8")
    new = (change.new or b"").decode("utf-8")
    if change.label == docker_config.LABEL:
        old, new = docker_config.redact(old), docker_config.redact(new)
    elif change.label == aws_config.LABEL:
        old, new = aws_config.redact(old), aws_config.redact(new)
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        fromfile="/dev/null" if change.old is None else change.path,
        tofile=change.path,
        lineterm="",
    )
    return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class Row:
    """One line of `ecr-sso registries`."""

    host: str
    profile: str | None
    account: str | None
    region: str | None
    kind: str
    profile_in_aws_config: bool | None

    def as_dict(self) -> dict[str, Any]:
        """The row for `--json`."""
        return {
            "host": self.host,
            "profile": self.profile,
            "account": self.account,
            "region": self.region,
            "kind": self.kind,
            "profile_in_aws_config": self.profile_in_aws_config,
        }


def registry_rows(ours: Settings, aws_profiles: Iterable[str]) -> list[Row]:
    """The registry map and the aliases of our config, in file order; account and region
    of a mapped host read from the host name."""
    known = set(aws_profiles)
    rows = []
    for host, profile in ours.registries.items():
        address = parse_address(host)
        registry = parse_registry(address) if address is not None else None
        rows.append(
            Row(
                host=host,
                profile=profile,
                account=registry.account if registry else None,
                region=registry.region if registry else None,
                kind="registry",
                profile_in_aws_config=profile in known,
            )
        )
    for host, alias in ours.aliases.items():
        rows.append(
            Row(
                host=host,
                profile=alias.profile,
                account=alias.account,
                region=alias.region,
                kind="alias",
                profile_in_aws_config=None if alias.profile is None else alias.profile in known,
            )
        )
    return rows


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

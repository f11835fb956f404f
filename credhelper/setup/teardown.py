"""`ecr-sso teardown` (and `setup --prune`): plan the removal of what setup recorded in
`[managed]`, from the three files' contents to their new contents. Reads and writes no
file; `credhelper.setup.apply` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from credhelper.aws import config_editor as aws_config
from credhelper.aws.config import profile_of
from credhelper.aws.config_editor import ConfigFile
from credhelper.errors import UsageError
from credhelper.setup import docker_config, settings_file
from credhelper.setup.docker_config import HELPER_NAME, DockerConfig
from credhelper.setup.plan import FileChange, Files, Plan, alias_values, registry_hosts, show
from credhelper.setup.settings_file import Managed, SettingsFile
from credhelper.setup.teamfile import Team


def plan_teardown(files: Files, *, force: bool = False) -> Plan:
    """Remove exactly what setup recorded in `[managed]`, where it still holds the values
    setup wrote; report (and keep, unless `force`) what the user has changed since.
    Whatever is kept stays in the record, so that a later teardown can remove it."""
    if files.aws is None:
        raise UsageError("teardown needs the AWS config")
    ours = files.settings.copy()
    run = _Removals(Plan(), ours.managed, Managed(), force)
    docker_new = run.plan_docker(files.docker)
    aws_new = run.plan_aws(files.aws)
    run.plan_ours(ours)
    # Teardown removes only what setup added, but the user may have come to rely on it.
    run.plan.consent = list(run.plan.actions)
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
            current_alias = alias_values(ours, host)
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
        self.plan_tables(ours)
        ours.set_managed(self.kept)

    def plan_tables(self, ours: SettingsFile) -> None:
        """`[promote]`, `[pull_through]` and `[rewrite]`, while they hold what setup copied."""
        tables = settings_file.team_tables(
            ours.settings.promote_order, ours.settings.pull_through, ours.settings.rewrite
        )
        for key, current_table in tables.items():
            recorded = getattr(self.record, key)
            if recorded is None:
                continue
            if self.removable(ours.path, f"[{key}]", current_table, recorded):
                ours.remove_top(key)
            elif current_table is not None:
                setattr(self.kept, key, recorded)

    def removable(self, path: str, what: str, current: object, recorded: object) -> bool:
        """Whether to remove an entry of our config: yes while it holds what setup wrote;
        when the user has changed it, only if forced (else it is reported and kept)."""
        if current is None:
            return False
        if current != recorded and not self.force:
            self.plan.notes.append(
                f"{path}: {what} was changed after setup ({show(current)}; setup wrote"
                f" {show(recorded)}): kept; --force removes it"
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


# -- setup --prune ------------------------------------------------------------------------


def stale_entries(record: Managed, team: Team) -> tuple[Managed, Managed]:
    """(stale, current): what an earlier setup added (per `record`) that `team` no longer
    lists, and the rest of the record."""
    names = {profile.name for profile in team.profiles}
    session = team.sso.session if team.sso is not None else None
    hosts = {host for host, _ in registry_hosts(team)}
    aliases = {alias.host for alias in team.aliases}
    stale = Managed()
    # Like the defaults, the team file's tables are never stale: setup --prune keeps them.
    current = Managed(
        default_profile=record.default_profile,
        dockerhub_org=record.dockerhub_org,
        promote=record.promote,
        pull_through=record.pull_through,
        rewrite=record.rewrite,
    )
    for name, values in record.profiles.items():
        (current if name in names else stale).profiles[name] = values
    for name, values in record.sso_sessions.items():
        (current if name == session else stale).sso_sessions[name] = values
    for host, profile in record.registries.items():
        (current if host in hosts else stale).registries[host] = profile
    for host, alias in record.aliases.items():
        (current if host in aliases else stale).aliases[host] = alias
    for host in record.cred_helpers:
        (current if host in hosts | aliases else stale).cred_helpers.append(host)
    return stale, current


def describe(record: Managed) -> list[str]:
    """Each entry of `record`, as a person would name it."""
    return [
        *(f"[profile {name}]" for name in record.profiles),
        *(f"[sso-session {name}]" for name in record.sso_sessions),
        *(f"[registries] {host}" for host in record.registries),
        *(f'[aliases."{host}"]' for host in record.aliases),
        *(f'credHelpers["{host}"]' for host in record.cred_helpers),
    ]


def prune(team: Team, plan: Plan, *, remove: bool) -> Plan:
    """`plan` (setup's, for `team`) with what earlier setups added and `team` no longer
    lists: removed with `remove` (where it still holds what setup wrote, as teardown
    does), else listed in a note. Pure, like the planners: `plan` is not changed."""
    by_label = {c.label: (c, c.new if c.new is not None else c.old) for c in plan.files}
    ours_change, ours_bytes = by_label[settings_file.LABEL]
    aws_change, aws_bytes = by_label[aws_config.LABEL]
    docker_change, docker_bytes = by_label[docker_config.LABEL]
    ours = settings_file.parse(ours_change.path, ours_bytes)
    stale, current = stale_entries(ours.managed, team)
    if stale.is_empty():
        return plan
    names = describe(stale)
    if not remove:
        return replace(
            plan,
            notes=[
                *plan.notes,
                f"the team no longer lists {', '.join(names)}, added by an earlier setup;"
                " `ecr-sso setup --prune` removes them",
            ],
        )
    run = _Removals(Plan(), stale, current, force=False)
    docker_new = run.plan_docker(docker_config.parse(docker_change.path, docker_bytes))
    aws_new = run.plan_aws(aws_config.parse(aws_change.path, aws_bytes))
    run.plan_ours(ours)
    pruned = {
        settings_file.LABEL: ours.render(),
        aws_config.LABEL: aws_new,
        docker_config.LABEL: docker_new,
    }
    return replace(
        plan,
        files=[
            change if pruned[change.label] is None else replace(change, new=pruned[change.label])
            for change in plan.files
        ],
        notes=[*plan.notes, *run.plan.notes],
        consent=[*plan.consent, *run.plan.actions],
    )

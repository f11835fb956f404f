"""`ecr-sso teardown` (and `setup --prune`): plan the removal of what setup recorded in
`[managed]`, from the three files' contents to their new contents. Reads and writes no
file; `credhelper.setup.apply` writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from credhelper.aws import config_editor as aws_config
from credhelper.aws.config_editor import AwsConfig
from credhelper.errors import UsageError
from credhelper.setup import docker_config, settings_file
from credhelper.setup.docker_config import HELPER_NAME, DockerConfig
from credhelper.setup.plan import FileChange, Files, Plan, alias_values, show
from credhelper.setup.settings_file import Managed, SettingsFile


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

    def plan_aws(self, aws: AwsConfig) -> bytes | None:
        """Our profiles, then our sso-sessions that no remaining profile uses."""
        editor = aws_config.Editor(aws)
        remaining = {
            name: aws.strings(section)
            for section in aws.sections
            if (name := aws_config.profile_of(section.name)) is not None
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
        ours.set_managed(self.kept)

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

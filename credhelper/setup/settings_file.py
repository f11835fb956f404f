"""Writes our own config file (`config.toml`, see `credhelper.settings`), keeping the
user's comments, order and formatting (tomlkit edits the document in place).

Besides the registry map and aliases, `ecr-sso setup` keeps here a record of what it added
to each of the three files, so that `ecr-sso teardown` removes exactly that:

    [managed]
    # Written by `ecr-sso setup`; `ecr-sso teardown` removes what is listed here. ...
    cred_helpers = ["642976147714.dkr.ecr.eu-west-1.amazonaws.com"]  # credHelpers entries
    default_profile = "dev"                # top-level keys setup set, with their values
    dockerhub_org = "connectedhome"

    [managed.promote]                      # tables setup copied from the team file,
    order = ["dev", "stage", "prod"]       # as written

    [managed.pull_through]
    prefix = "docker-hub"
    upstream = "docker-hub"
    profile = "dev"

    [managed.registries]                   # [registries] entries setup added
    "642976147714.dkr.ecr.eu-west-1.amazonaws.com" = "dev"

    [managed.aliases."registry.example.internal"]   # [aliases] tables setup added
    account = "642976147714"
    region = "eu-west-1"
    profile = "dev"

    [managed.sso_sessions.connectedhome]   # ~/.aws/config sections setup created,
    sso_start_url = "https://example.awsapps.com/start"   # key by key as written
    sso_region = "eu-west-1"
    sso_registration_scopes = "sso:account:access"

    [managed.profiles.dev]
    sso_session = "connectedhome"
    sso_account_id = "642976147714"
    sso_role_name = "Administrator"
    region = "eu-west-1"
    output = "json"

The values are recorded, not only the names: teardown removes an entry only while it
still holds what setup wrote, and reports one the user has changed since. The helper does
not read `[managed]`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import Table

from credhelper import atomic, settings
from credhelper.errors import ConfigError, MalformedFile

LABEL = "ecr-sso config"
HEADER = (
    "ecr-sso configuration: the registry map the credential helper reads.",
    "Written by `ecr-sso setup`; see `ecr-sso registries`. Comments and order are kept.",
)
MANAGED_COMMENT = (
    "Written by `ecr-sso setup`: what it added here, to the AWS config and to Docker's",
    "config.json, so that `ecr-sso teardown` removes exactly that. Not read by the helper.",
)


@dataclass
class Managed:
    """The record of what setup added (see the module docstring)."""

    cred_helpers: list[str] = field(default_factory=list)
    default_profile: str | None = None
    dockerhub_org: str | None = None
    #: `[promote]`, `[pull_through]` and `[rewrite]` as written (see `team_tables`); None:
    #: not added.
    promote: dict[str, Any] | None = None
    pull_through: dict[str, Any] | None = None
    rewrite: dict[str, Any] | None = None
    registries: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    sso_sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """Whether nothing is recorded."""
        return not (
            self.cred_helpers
            or self.default_profile
            or self.dockerhub_org
            or self.promote is not None
            or self.pull_through is not None
            or self.rewrite is not None
            or self.registries
            or self.aliases
            or self.sso_sessions
            or self.profiles
        )


@dataclass
class SettingsFile:
    """Our config file as read, and the tomlkit document edits are made to."""

    path: str
    original: bytes | None
    document: tomlkit.TOMLDocument
    settings: settings.Settings
    managed: Managed
    #: Set by every edit; an unedited file renders as the bytes read.
    dirty: bool = False

    def copy(self) -> SettingsFile:
        """A fresh, independent parse of the bytes read, for a planner to edit."""
        return parse(self.path, self.original)

    # -- the registry map --------------------------------------------------------------

    def set_registry(self, host: str, profile: str) -> None:
        """`[registries]` host → profile (an existing key for the host is reused)."""
        self.dirty = True
        table = self._table("registries")
        table[_key_for(table, host)] = profile

    def remove_registry(self, host: str) -> None:
        """Drop the `[registries]` entry of `host`, and the table if it is left empty."""
        self._remove_from("registries", host)

    def set_alias(self, host: str, values: Mapping[str, str]) -> None:
        """`[aliases."host"]` with `values` (account, region, profile)."""
        self.dirty = True
        aliases = self._table("aliases", super_table=True)
        entry = tomlkit.table()
        for key, value in values.items():
            entry[key] = value
        aliases[_key_for(aliases, host)] = entry

    def remove_alias(self, host: str) -> None:
        """Drop `[aliases."host"]`, and `[aliases]` if it is left empty."""
        self._remove_from("aliases", host)

    def set_top(self, key: str, value: str) -> None:
        """A top-level key such as `default_profile`: replaced in place when present;
        else placed after the last top-level key (or before the comment that introduces
        the first table). tomlkit alone would put it after every top-level comment,
        between a table and the comment above it, which then seems to describe our key."""
        self.dirty = True
        if key in self.document:
            self.document[key] = value
            return
        text = tomlkit.dumps(self.document)
        lines = text.splitlines(keepends=True)
        first_table = next(
            (i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines)
        )
        top = lines[:first_table]
        keys = [i for i, line in enumerate(top) if line.strip() and not _comment(line)]
        if keys:
            at = keys[-1] + 1
        elif first_table == len(lines):
            at = len(lines)
        else:
            at = first_table
            while at > 0 and _comment(lines[at - 1]):
                at -= 1
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines.insert(at, f"{key} = {tomlkit.string(value).as_string()}\n")
        try:
            placed = tomlkit.parse("".join(lines))
        except tomlkit.exceptions.ParseError:
            placed = None
        wanted = {**self.document.unwrap(), key: value}
        if placed is not None and placed.unwrap() == wanted:
            self.document = placed
        else:  # a layout this simple placement misreads (say, a multi-line array)
            self.document[key] = value

    def set_table(self, key: str, values: Mapping[str, object]) -> None:
        """A table such as `[pull_through]` holding exactly `values`: edited in place
        when present (the comments in it are kept), else added."""
        self.dirty = True
        existing = self.document.get(key)
        if not isinstance(existing, Table):
            self.document[key] = _plain_table(values)
            return
        for name in [name for name in existing if name not in values]:
            del existing[name]
        for name, value in values.items():
            if existing.get(name) != value:
                existing[name] = value

    def remove_top(self, key: str) -> None:
        """Drop a top-level key or table, if present."""
        if key in self.document:
            self.dirty = True
            del self.document[key]

    def set_managed(self, record: Managed) -> None:
        """Replace `[managed]` with `record`; drop it when the record is empty. Left as it
        is when it already says the same, so an unchanged file renders unchanged."""
        if record == self.managed:
            return
        self.dirty = True
        if "managed" in self.document:
            del self.document["managed"]
        self.managed = record
        if record.is_empty():
            return
        table = tomlkit.table()
        for line in MANAGED_COMMENT:
            table.add(tomlkit.comment(line))
        if record.cred_helpers:
            hosts = tomlkit.array()
            hosts.extend(record.cred_helpers)
            table["cred_helpers"] = hosts.multiline(True)
        for key in ("default_profile", "dockerhub_org", "promote", "pull_through", "rewrite"):
            value = getattr(record, key)
            if value is not None and value != "":
                table[key] = _plain_table(value) if isinstance(value, dict) else value
        if record.registries:
            table["registries"] = _plain_table(record.registries)
        for name in ("aliases", "sso_sessions", "profiles"):
            entries: dict[str, dict[str, str]] = getattr(record, name)
            if entries:
                parent = tomlkit.table(is_super_table=True)
                for key, values in entries.items():
                    parent[key] = _plain_table(values)
                table[name] = parent
        self.document["managed"] = table

    # -- rendering -----------------------------------------------------------------------

    def render(self) -> bytes | None:
        """The document as bytes; exactly the bytes read (None: absent) when nothing was
        edited. tomlkit
        keeps a removed table's separating blank line with the table before it, so the
        trailing newlines are trimmed to as many as the file ended with (one for a new
        file): removing what setup appended then restores the file."""
        if not self.dirty:
            return self.original
        text = tomlkit.dumps(self.document).rstrip("\n")
        if not text.strip():
            return b""
        before = (self.original or b"").decode("utf-8")
        ending = len(before) - len(before.rstrip("\n"))
        return (text + "\n" * max(ending, 1)).encode("utf-8")

    # -- helpers -------------------------------------------------------------------------

    def _table(self, key: str, *, super_table: bool = False) -> Table:
        existing = self.document.get(key)
        if isinstance(existing, Table):
            return existing
        table = tomlkit.table(is_super_table=super_table)
        self.document[key] = table
        return table

    def _remove_from(self, key: str, host: str) -> None:
        table = self.document.get(key)
        if not isinstance(table, Table):
            return
        name = _key_for(table, host)
        if name in table:
            self.dirty = True
            del table[name]
        if not table:
            self.dirty = True
            del self.document[key]


def _key_for(table: Table, host: str) -> str:
    # The map is read case-insensitively: reuse the user's spelling of a key we edit.
    for key in table:
        if key.strip().lower() == host:
            return str(key)
    return host


def _plain_table(values: Mapping[str, object]) -> Table:
    table = tomlkit.table()
    for key, value in values.items():
        table[key] = value
    return table


def team_tables(
    promote_order: tuple[str, ...],
    pull_through: settings.PullThrough | None,
    rewrite: settings.Rewrite | None = None,
) -> dict[str, dict[str, Any] | None]:
    """`[promote]`, `[pull_through]` and `[rewrite]`, by name, in the one form setup
    writes, compares and records (defaults written out, so that equal values compare equal
    however they were spelt); None for a table that is not there."""
    return {
        "promote": {"order": list(promote_order)} if promote_order else None,
        "pull_through": None if pull_through is None else dict(pull_through.as_table()),
        "rewrite": None if rewrite is None else dict(rewrite.as_table()),
    }


def read(path: str) -> SettingsFile:
    """Read our config at `path` (absent: a new document with a short header comment).
    `MalformedFile` names the file and line of bad TOML, or the key of a bad value."""
    data = atomic.read_bytes_if_exists(path, "the ecr-sso config")
    return parse(path, data)


def parse(path: str, data: bytes | None) -> SettingsFile:
    """Parse `data`, the content of our config at `path` (None: absent)."""
    text = ""
    if data is None:
        document = tomlkit.document()
        for line in HEADER:
            document.add(tomlkit.comment(line))
        document.add(tomlkit.nl())
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedFile(f"{path}: not valid UTF-8") from None
        try:
            document = tomlkit.parse(text)
        except tomlkit.exceptions.ParseError as err:
            raise MalformedFile(
                f"{path}, line {err.line}: not valid TOML: {str(err).split(' at line ')[0]}"
            ) from None
    plain = document.unwrap()
    _refuse_repeated_hosts(plain, path)
    try:
        values = settings.parse(plain, path, text)
    except ConfigError as err:
        raise MalformedFile(str(err)) from None
    return SettingsFile(
        path=path,
        original=data,
        document=document,
        settings=values,
        managed=_managed(plain.get("managed", {}), path),
    )


def _refuse_repeated_hosts(plain: Mapping[str, Any], path: str) -> None:
    """The registry map and the aliases are read case-insensitively: two keys for one
    host would leave one of them unused, and an edit would keep only one. Refused."""
    for table in ("registries", "aliases"):
        entries = plain.get(table)
        if not isinstance(entries, dict):
            continue
        seen: dict[str, str] = {}
        for key in entries:
            host = str(key).strip().lower()
            if host in seen:
                raise MalformedFile(
                    f"{path}: [{table}] has {seen[host]!r} and {key!r}, one host written"
                    " twice (hosts are read without regard to case); keep one, then run"
                    " this again"
                )
            seen[host] = str(key)


def _managed(raw: Any, path: str) -> Managed:
    """The `[managed]` record; `MalformedFile` if it is not what setup writes."""

    def bad(what: str) -> MalformedFile:
        return MalformedFile(f"{path}: [managed] {what}; it is written by `ecr-sso setup`")

    if not isinstance(raw, dict):
        raise bad("must be a table")
    record = Managed()
    hosts = raw.get("cred_helpers", [])
    if not isinstance(hosts, list) or not all(isinstance(h, str) for h in hosts):
        raise bad("cred_helpers must be a list of hosts")
    record.cred_helpers = list(hosts)
    for key in ("default_profile", "dockerhub_org"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(f"{key} must be a string")
        setattr(record, key, value)
    for key in ("promote", "pull_through", "rewrite"):
        if key in raw:
            try:
                read = settings.parse({key: raw[key]}, path)
                table = team_tables(read.promote_order, read.pull_through, read.rewrite)[key]
            except ConfigError:
                raise bad(f"{key} is not a [{key}] table") from None
            setattr(record, key, table)
    registries = raw.get("registries", {})
    if not _str_map(registries):
        raise bad("registries must map hosts to profile names")
    record.registries = dict(registries)
    for name in ("aliases", "sso_sessions", "profiles"):
        entries = raw.get(name, {})
        if not isinstance(entries, dict) or not all(_str_map(v) for v in entries.values()):
            raise bad(f"{name} must be tables of strings")
        setattr(record, name, {k: dict(v) for k, v in entries.items()})
    unknown = set(raw) - {
        "cred_helpers",
        "default_profile",
        "dockerhub_org",
        "promote",
        "pull_through",
        "rewrite",
        "registries",
        "aliases",
        "sso_sessions",
        "profiles",
    }
    if unknown:
        raise bad(f"has unknown keys {', '.join(sorted(unknown))}")
    return record


def _str_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _comment(line: str) -> bool:
    return line.lstrip().startswith("#")

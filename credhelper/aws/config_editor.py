"""A careful editor of the AWS config file (`~/.aws/config`, or `AWS_CONFIG_FILE`).

Every byte we do not mean to change stays as it was: comments, blank lines, order, odd
spacing, inline `;` notes, `[services x]` blocks with nested keys, CRLF line ends. To make
that a property of the design rather than of a library's round trip, configupdater only
*parses* the file (it raises configparser's errors, with line numbers, for everything
botocore's configparser refuses) and tells us which lines each section and option occupy;
edits are then splices of whole lines into the original text. Lines we add use the file's
own line end.

Values are read by `credhelper.aws.config`, the one reader, with botocore's rules (the
parser every AWS SDK for Python and the AWS CLI use), so "the same value" means the same
to AWS tools: `region = eu-west-1 ; note` is *not* `eu-west-1` to botocore, which has no
inline comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from credhelper import atomic
from credhelper.aws.config import AwsConfig, decode, parse_error, profile_of, session_of
from credhelper.errors import ConfigError, EcrSsoError, MalformedFile

LABEL = "AWS config"


@dataclass(frozen=True)
class Section:
    """One `[section]` of the file: its header as configparser names it, the line of the
    header, the line after its last option (continuation lines included; comments and
    blank lines after the last option are not the section's), and its options as
    lower-cased key → (first line, line after)."""

    name: str
    start: int
    end: int
    options: Mapping[str, tuple[int, int]]

    @property
    def line_number(self) -> int:
        """The header's line number, counted from 1 as editors do."""
        return self.start + 1


@dataclass(frozen=True)
class ConfigFile:
    """The AWS config file as the editor sees it: its bytes (None: absent), its lines with
    their line ends, where each section sits, and `config`, the one reader's `AwsConfig`
    of the same text (botocore's reading of every section)."""

    path: str
    original: bytes | None
    lines: tuple[str, ...]
    newline: str
    sections: tuple[Section, ...]
    config: AwsConfig

    @property
    def values(self) -> Mapping[str, Mapping[str, Any]]:
        """Every section by its header, as botocore reads it."""
        return self.config.sections

    def profile_sections(self, name: str) -> list[Section]:
        """The sections that define profile `name` to botocore (usually one)."""
        return [s for s in self.sections if profile_of(s.name) == name]

    def session_sections(self, name: str) -> list[Section]:
        """The sections that define sso-session `name` to botocore (usually one)."""
        return [s for s in self.sections if session_of(s.name) == name]

    def profile(self, name: str) -> Section | None:
        """The one section defining profile `name`, None if none; `ConfigError` if several
        do (botocore would take the last one: a user's mistake we do not guess around)."""
        return _only(self.profile_sections(name), f"profile {name!r}", self.path)

    def session(self, name: str) -> Section | None:
        """The one section defining sso-session `name` (see `profile`)."""
        return _only(self.session_sections(name), f"sso-session {name!r}", self.path)

    def strings(self, section: Section) -> dict[str, str]:
        """A section's plain values as botocore reads them; nested blocks left out."""
        return {k: v for k, v in self.values.get(section.name, {}).items() if isinstance(v, str)}

    def profile_names(self) -> list[str]:
        """Every profile name botocore finds, in file order."""
        names = []
        for section in self.sections:
            name = profile_of(section.name)
            if name is not None and name not in names:
                names.append(name)
        return names

    def text(self) -> str:
        """The file's text as read."""
        return "".join(self.lines)


def _only(found: list[Section], what: str, path: str) -> Section | None:
    if len(found) > 1:
        lines = ", ".join(str(s.line_number) for s in found)
        raise ConfigError(
            f"{path}: {what} is defined {len(found)} times (lines {lines}); botocore uses"
            " only the last one. Merge them by hand, then run this again"
        )
    return found[0] if found else None


# -- reading -----------------------------------------------------------------------------


def read(path: str) -> ConfigFile:
    """Read and parse the AWS config at `path` (absent: empty). `MalformedFile` names the
    file and line of anything botocore could not read; nothing is changed by reading."""
    data = atomic.read_bytes_if_exists(path, "the AWS config")
    return parse(path, data)


def parse(path: str, data: bytes | None) -> ConfigFile:
    """Parse `data`, the content of the AWS config at `path` (None: the file is absent)."""
    from configupdater import ConfigUpdater
    from configupdater import Section as UpdaterSection

    text = decode(path, data or b"")
    updater = ConfigUpdater()
    try:
        updater.read_string(text, source=path)
    except Exception as err:  # noqa: BLE001 - configparser's errors, and configupdater's own
        raise MalformedFile(parse_error(path, err)) from None

    lines: list[str] = []
    sections: list[Section] = []
    for block in updater.iter_blocks():
        if not isinstance(block, UpdaterSection):
            lines.extend(block.lines)
            continue
        start = len(lines)
        lines.extend(block.lines)
        end = len(lines)
        options: dict[str, tuple[int, int]] = {}
        for child in block.iter_blocks():
            first = len(lines)
            lines.extend(child.lines)
            key = getattr(child, "key", None)
            if isinstance(key, str) and child.lines:
                options[key.lower()] = (first, len(lines))
                end = len(lines)
        sections.append(Section(block.name, start, end, options))
    if "".join(lines) != text:
        # Our splices are only safe when the parse accounts for every line exactly.
        raise MalformedFile(f"{path}: cannot edit this AWS config safely (unusual layout)")
    return ConfigFile(
        path=path,
        original=data,
        lines=tuple(lines),
        newline=_newline(text),
        sections=tuple(sections),
        config=AwsConfig.parse(path, text),
    )


def _newline(text: str) -> str:
    # The file's own line end: that of its first line. A new file gets "\n".
    end = text.find("\n")
    return "\r\n" if end > 0 and text[end - 1] == "\r" else "\n"


# -- editing -----------------------------------------------------------------------------


@dataclass
class Editor:
    """Edits of one `ConfigFile`, kept as line splices and rendered by `text`. Sections
    are given by the `Section` values of the config read; edits must not overlap."""

    config: ConfigFile
    _removed: set[int] = field(default_factory=set)
    _before: dict[int, list[str]] = field(default_factory=dict)
    _appended: list[list[str]] = field(default_factory=list)
    #: What each touched section must hold afterwards (None: gone), for `verify`.
    expected: dict[str, dict[str, str] | None] = field(default_factory=dict)

    def add_section(self, header: str, items: Sequence[tuple[str, str]]) -> None:
        """Append `[header]` with `items` after the last non-blank line, one blank line
        before it (none at the start of the file). Trailing blank lines stay last, so
        that `remove_section` restores the file exactly."""
        self._appended.append([f"[{header}]", *(f"{key} = {value}" for key, value in items)])
        self.expected[header] = dict(items)

    def set_options(self, section: Section, items: Sequence[tuple[str, str]]) -> None:
        """Give `section` these values: an existing key's lines are replaced by one
        `key = value` line in place; a missing key is added after the last option."""
        missing = []
        for key, value in items:
            where = section.options.get(key.lower())
            if where is None:
                missing.append(f"{key} = {value}")
                continue
            first, after = where
            self._removed.update(range(first, after))
            self._before.setdefault(first, []).append(f"{key} = {value}")
        if missing:
            self._before.setdefault(section.end, []).extend(missing)
        kept = self.config.strings(section)
        kept.update(items)
        self.expected[section.name] = kept

    def remove_section(self, section: Section) -> None:
        """Remove the section's lines (its header to its last option) and the blank line
        that separates it from what precedes it (at the start of the file: from what
        follows). Comments after its last option stay: they may introduce what follows."""
        lines = self.config.lines
        self._removed.update(range(section.start, section.end))
        if section.start > 0 and not lines[section.start - 1].strip():
            self._removed.add(section.start - 1)
        elif section.start == 0 and section.end < len(lines) and not lines[section.end].strip():
            self._removed.add(section.end)
        self.expected[section.name] = None

    @property
    def changed(self) -> bool:
        """Whether any edit was made."""
        return bool(self._removed or self._before or self._appended)

    def text(self) -> str:
        """The edited file."""
        lines = self.config.lines
        newline = self.config.newline
        insert_at = len(lines)
        while insert_at > 0 and not lines[insert_at - 1].strip():
            insert_at -= 1
        before = {index: list(new) for index, new in self._before.items()}
        if self._appended:
            block: list[str] = []
            for number, section in enumerate(self._appended):
                if number > 0 or any(i not in self._removed for i in range(insert_at)):
                    block.append("")
                block.extend(section)
            before.setdefault(insert_at, []).extend(block)
        out: list[str] = []
        for index in range(len(lines) + 1):
            added = before.get(index)
            if added:
                if out and not out[-1].endswith("\n"):
                    out[-1] += newline
                out.extend(line + newline for line in added)
            if index < len(lines) and index not in self._removed:
                out.append(lines[index])
        return "".join(out)

    def verify(self, text: str) -> None:
        """Check, by botocore's reading of `text`, that every section we touched holds
        what it should (or is gone) and every other section is exactly as it was. Raises
        `EcrSsoError` (and nothing is written) if not."""
        path = self.config.path
        read_back = AwsConfig.parse(path, text)
        after = read_back.sections
        before = self.config.values
        for name in sorted(set(before) | set(after)):
            if name in self.expected:
                wanted = self.expected[name]
                got = after.get(name)
                if wanted is None and got is None:
                    continue
                if wanted is None or got is None or any(got.get(k) != v for k, v in wanted.items()):
                    raise _verify_failed(path, name)
            elif before.get(name) != after.get(name):
                raise _verify_failed(path, name)
        # The profile map is what AWS tools resolve names with: each profile we wrote
        # must resolve to our section, not be shadowed by another.
        for name, wanted in self.expected.items():
            profile, session = profile_of(name), session_of(name)
            table = read_back.profiles if profile is not None else read_back.sso_sessions
            key = profile if profile is not None else session
            if wanted is None or key is None:
                continue
            got = table.get(key, {})
            if any(got.get(k) != v for k, v in wanted.items()):
                raise _verify_failed(path, name)


def _verify_failed(path: str, section: str) -> EcrSsoError:
    return EcrSsoError(
        f"{path}: after editing, botocore would not read [{section}] as intended; nothing"
        " was written (please report this with the file's layout)"
    )


def differences(current: Mapping[str, str], wanted: Iterable[tuple[str, str]]) -> list[str]:
    """`key: is X, wants Y` for each wanted key whose current value differs or is absent."""
    found = []
    for key, value in wanted:
        have = current.get(key)
        if have != value:
            shown = "absent" if have is None else repr(have)
            found.append(f"{key} is {shown}, setup wants {value!r}")
    return found


def redact(text: str) -> str:
    """`text` with the values of secret keys (`aws_secret_access_key`, `aws_session_token`,
    `aws_security_token`) replaced, so that a diff can be shown."""
    return re.sub(
        r"(?im)^([ \t]*(?:aws_secret_access_key|aws_session_token|aws_security_token)"
        r"[ \t]*[=:][ \t]*)\S.*?(\r?)$",
        r"\1<redacted>\2",
        text,
    )

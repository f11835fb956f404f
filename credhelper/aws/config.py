"""The one reader of the AWS config file (`~/.aws/config`, or `AWS_CONFIG_FILE`), with
botocore's rules exactly, and the questions everyone asks of it: which profiles and
sso-sessions it defines, and which SSO sign-in a profile uses.

The rules are those of `botocore.configloader.raw_config_parse` and `build_profile_map`
(what the AWS CLI and every SDK for Python read), re-done with the standard library so
that reading the config never imports botocore:

- configparser's `RawConfigParser()` with its defaults: a section or key given twice is
  an error; keys are lower-cased; no inline comments (`region = x ; note` is the value
  `x ; note`); the keys of a `[DEFAULT]` section appear in every other section.
- A value that starts on the line after its key is a nested block (`s3 =` then indented
  `key = value` lines) and becomes a dict.
- A header starting with `profile`, `sso-session` or `services` names one if it splits,
  shell-like, into exactly two words: `[profile 'my team']` is profile `my team`,
  `[profilex y]` is profile `y`, `[sso-sessionx y]` is sso-session `y`, `[profile]` and
  `[profile a b]` are nothing. `[default]` is profile `default`; `[ default ]` is not.
  When two headers name the same profile, the later one wins.

`tests/unit/aws/test_config.py` holds botocore's own functions to these rules.
"""

from __future__ import annotations

import configparser
import contextlib
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from credhelper.errors import ConfigError, MalformedFile, UsageError

#: The scopes an sso-session registers when it names none (the AWS CLI's default).
DEFAULT_SCOPES = ("sso:account:access",)


# -- section headers ---------------------------------------------------------------------


def _second_word(header: str) -> str | None:
    try:
        words = shlex.split(header)
    except ValueError:
        return None
    return words[1] if len(words) == 2 else None


def profile_of(header: str) -> str | None:
    """The profile a section header names to botocore, or None."""
    if header.startswith("profile"):
        return _second_word(header)
    if header.startswith(("sso-session", "services")):
        return None
    return "default" if header == "default" else None


def session_of(header: str) -> str | None:
    """The sso-session a section header names to botocore, or None."""
    if header.startswith("sso-session"):
        return _second_word(header)
    return None


def services_of(header: str) -> str | None:
    """The `[services NAME]` block a section header names to botocore, or None."""
    if header.startswith("services"):
        return _second_word(header)
    return None


# -- the file as botocore reads it -------------------------------------------------------


def raw_sections(path: str, text: str) -> dict[str, dict[str, Any]]:
    """Every section of `text` by its header, as `botocore.configloader.raw_config_parse`
    returns it (nested blocks as dicts). `MalformedFile` when botocore would refuse it;
    `path` is for the message only."""
    _unclosed_header(path, text)
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=path)
    except configparser.Error as err:
        raise MalformedFile(parse_error(path, err)) from None
    sections: dict[str, dict[str, Any]] = {}
    for header in parser.sections():
        values: dict[str, Any] = {}
        for option in parser.options(header):
            value = parser.get(header, option)
            if value.startswith("\n"):
                try:
                    value = _nested(value)
                except ValueError:
                    raise MalformedFile(
                        f"{path}: the AWS config is malformed: [{header}] {option}: a nested"
                        " line is not key = value"
                    ) from None
            values[option] = value
        sections[header] = values
    return sections


def _unclosed_header(path: str, text: str) -> None:
    """`MalformedFile` for the first `[header` without its `]`. configparser notes such a
    line and reads on, so a later duplicate key would be reported instead of the real slip."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("[") and "]" not in line:
            raise MalformedFile(
                f"{path}, line {lineno}: the AWS config is malformed: the section header"
                f" {line.strip()} has no closing ]"
            )


def _nested(value: str) -> dict[str, str]:
    nested: dict[str, str] = {}
    for raw in value.splitlines():
        line = raw.strip()
        if line:
            key, rest = line.split("=", 1)  # ValueError without "=": botocore's refusal too
            nested[key.strip()] = rest.strip()
    return nested


def parse_error(path: str, err: Exception) -> str:
    """One line for a parse error of configparser (or configupdater, which raises the
    same kinds): the file, the line, and what is wrong with it in a person's words."""
    lineno, line = _bad_line(err)
    what = type(err).__name__
    if line is not None and line.startswith("[") and "]" not in line:
        reason = f"the section header {line} has no closing ]"
    elif what == "MissingSectionHeaderError":
        reason = f"'{line}'" if line else "a line"
        reason += " comes before the first [section] header"
    elif what == "ParsingError":
        reason = f"'{line}'" if line else "a line"
        reason += " is neither a [section] header nor a key = value line"
    elif what == "DuplicateSectionError":
        reason = f"section [{getattr(err, 'section', '?')}] appears a second time"
    elif what == "DuplicateOptionError":
        reason = (
            f"key {getattr(err, 'option', '?')} appears a second time in"
            f" [{getattr(err, 'section', '?')}]"
        )
    else:
        reason = str(err).splitlines()[0] if str(err) else what
    where = f"{path}, line {lineno}" if lineno else path
    return f"{where}: the AWS config is malformed: {reason}"


def _bad_line(err: Exception) -> tuple[int | None, str | None]:
    """(line number, the line's text) of a configparser error, when it says."""
    errors = getattr(err, "errors", None)
    if errors:  # ParsingError: (line number, repr of the line) per bad line
        import ast

        lineno, shown = errors[0]
        try:
            text = ast.literal_eval(shown) if isinstance(shown, str) else str(shown)
        except (ValueError, SyntaxError):
            text = str(shown)
        return lineno, str(text).strip()
    line = getattr(err, "line", None)
    return getattr(err, "lineno", None), line.strip() if isinstance(line, str) else None


def _strings(values: Mapping[str, Any]) -> dict[str, str]:
    return {key: value for key, value in values.items() if isinstance(value, str)}


# -- SSO sign-ins the config names -------------------------------------------------------


@dataclass(frozen=True)
class SsoSession:
    """An SSO sign-in: an `[sso-session NAME]` section, or a legacy profile's start URL
    (then `name` is None)."""

    name: str | None
    start_url: str
    region: str
    scopes: tuple[str, ...] = ()

    @property
    def legacy(self) -> bool:
        """A profile with `sso_start_url` and no sso-session: no refresh, no PKCE."""
        return self.name is None

    @property
    def cache_name(self) -> str:
        """What the token file's name is the SHA-1 of."""
        return self.name if self.name is not None else self.start_url

    @property
    def label(self) -> str:
        return f"sso-session '{self.name}'" if self.name is not None else self.start_url

    @property
    def registration_scopes(self) -> tuple[str, ...]:
        """The scopes to register; the AWS CLI's default for sessions that name none."""
        return self.scopes or (() if self.legacy else DEFAULT_SCOPES)


class NotSso(ConfigError):
    """The profile does not sign in through SSO."""


# -- the config --------------------------------------------------------------------------


@dataclass(frozen=True)
class AwsConfig:
    """The AWS config as botocore reads it. `sections` is `raw_config_parse`'s answer;
    `profiles`, `sso_sessions` and `services` are `build_profile_map`'s, in file order,
    with nested blocks left out of `profiles` and `sso_sessions` (their keys are plain
    strings)."""

    path: str
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sso_sessions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    services: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, path: str, text: str) -> AwsConfig:
        """Read `text`, the content of the AWS config at `path`."""
        sections = raw_sections(path, text)
        profiles: dict[str, dict[str, str]] = {}
        sessions: dict[str, dict[str, str]] = {}
        services: dict[str, dict[str, Any]] = {}
        # As botocore's dict updates: a later definition wins, in the first one's place.
        for header, values in sections.items():
            if (name := profile_of(header)) is not None:
                profiles[name] = _strings(values)
            elif (name := session_of(header)) is not None:
                sessions[name] = _strings(values)
            elif (name := services_of(header)) is not None:
                services[name] = dict(values)
        return cls(path, sections, profiles, sessions, services)

    # -- SSO --------------------------------------------------------------------------

    def session(self, name: str) -> SsoSession:
        """The `[sso-session name]` section as a sign-in."""
        keys = self.sso_sessions.get(name)
        if keys is None:
            raise ConfigError(f"there is no [sso-session {name}] in the AWS config")
        start_url, region = keys.get("sso_start_url"), keys.get("sso_region")
        if not start_url or not region:
            raise ConfigError(
                f"[sso-session {name}] in the AWS config needs sso_start_url and sso_region"
            )
        raw = keys.get("sso_registration_scopes", "")
        scopes = tuple(s.strip() for s in raw.split(",") if s.strip())
        return SsoSession(name, start_url.strip(), region.strip(), scopes)

    def session_of(self, profile: str) -> SsoSession:
        """The SSO sign-in `profile` uses, following `source_profile` to an SSO profile."""
        seen: list[str] = []
        name = profile
        while True:
            keys = self.profiles.get(name)
            if keys is None:
                raise ConfigError(f"AWS profile '{name}' is not in the AWS config")
            if keys.get("sso_session"):
                return self.session(keys["sso_session"].strip())
            if keys.get("sso_start_url"):
                if not keys.get("sso_region"):
                    raise ConfigError(f"AWS profile '{name}' has sso_start_url but no sso_region")
                return SsoSession(None, keys["sso_start_url"].strip(), keys["sso_region"].strip())
            source = keys.get("source_profile")
            seen.append(name)
            if not source or source in seen:
                raise NotSso(
                    f"AWS profile '{profile}' does not sign in through SSO (it has no"
                    " sso_session or sso_start_url)"
                )
            name = source

    def session_or_none(self, profile: str) -> SsoSession | None:
        """`session_of`, or None where that is an error."""
        try:
            return self.session_of(profile)
        except ConfigError:
            return None

    def sso_profiles(self) -> list[str]:
        """Every profile that signs in through SSO, in file order."""
        return [p for p in self.profiles if self.session_or_none(p) is not None]

    def profiles_of(self, session: SsoSession) -> list[str]:
        """The profiles that sign in through `session`."""
        return [p for p in self.profiles if self.session_or_none(p) == session]

    def require_profiles(self, names: Iterable[str], source: str | None = None) -> None:
        """`UsageError` naming this file and the profiles it has, when one of `names` is not
        among them (`source`: where the names came from, e.g. "the environment variable
        AWS_PROFILE"). What `status` and `login` say for a mistyped name."""
        unknown = [name for name in names if name not in self.profiles]
        if unknown:
            self._unknown("AWS profile", unknown, list(self.profiles), "profiles", source)

    def require_session(self, name: str) -> None:
        """`UsageError` naming this file and its sso-sessions, when `name` is not one."""
        if name not in self.sso_sessions:
            self._unknown("sso-session", [name], list(self.sso_sessions), "sso-sessions", None)

    def _unknown(
        self, what: str, unknown: list[str], known: list[str], plural: str, source: str | None
    ) -> None:
        which = ", ".join(repr(name) for name in unknown)
        came = f" (the name came from {source})" if source else ""
        has = f"its {plural} are {', '.join(known)}" if known else f"it has no {plural}"
        if not known:
            has += "; run `ecr-sso setup`"
        raise UsageError(f"no {what} {which} in {self.path}{came}: {has}")

    def all_sessions(self) -> list[SsoSession]:
        """Every sso-session section, then every legacy start URL, without repeats."""
        found: list[SsoSession] = []
        for name in self.sso_sessions:
            with contextlib.suppress(ConfigError):
                found.append(self.session(name))
        for profile in self.profiles:
            session = self.session_or_none(profile)
            if session is not None and session not in found:
                found.append(session)
        return found


def decode(path: str, data: bytes) -> str:
    """The file's bytes as text; `MalformedFile` with the line of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise MalformedFile(f"{path}, line {line}: the AWS config is not valid UTF-8") from None


def read(path: str) -> AwsConfig:
    """The AWS config at `path`; a missing file is an empty config, an unreadable or
    malformed one a `ConfigError` naming the file (and line)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return AwsConfig(path)
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the AWS config: {err.strerror or err}") from None
    return AwsConfig.parse(path, decode(path, data))

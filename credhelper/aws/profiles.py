"""Which AWS profile serves a registry. Pure decisions over values read by `read_aws_profiles`.

The rules, first match wins:
1. `ECR_SSO_PROFILE`, when set.
2. Our config: the registry map (`[registries]`), or the alias's own `profile`.
3. A profile in the AWS config whose `sso_account_id` is the registry's account;
   among several, the one whose `region` is the registry's region, else the first.
4. None: botocore's default chain (environment keys, web identity, container and
   instance roles, `AWS_PROFILE`) — what CI runners use.
"""

from __future__ import annotations

import configparser
import shlex
from dataclasses import dataclass

from credhelper.errors import ConfigError
from credhelper.registry import Address, Registry
from credhelper.settings import Settings


@dataclass(frozen=True)
class Choice:
    """The profile to use (None: the default chain) and why (where its name came from),
    for logs, errors and `doctor`."""

    profile: str | None
    reason: str


def read_aws_profiles(path: str) -> dict[str, dict[str, str]]:
    """Profiles of the AWS config file in file order: name → its keys. `[default]` is
    named `default`. A missing file is no profiles; a malformed one is an error."""
    return read_aws_config(path)[0]


def read_sso_sessions(path: str) -> dict[str, dict[str, str]]:
    """The `[sso-session NAME]` sections of the AWS config: name → its keys."""
    return read_aws_config(path)[1]


def read_aws_config(path: str) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(profiles, sso sessions) of the AWS config file, both in file order."""
    parser = configparser.RawConfigParser(strict=False, default_section="\x00none")
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return {}, {}
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the AWS config: {err}") from None
    except configparser.Error as err:
        raise ConfigError(malformed(path, err)) from None
    profiles: dict[str, dict[str, str]] = {}
    sessions: dict[str, dict[str, str]] = {}
    for section in parser.sections():
        name = _profile_name(section)
        if name is not None:
            profiles[name] = dict(parser.items(section))
        session = _section_name(section, "sso-session")
        if session is not None:
            sessions[session] = dict(parser.items(section))
    return profiles, sessions


def malformed(path: str, err: Exception) -> str:
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


def _section_name(section: str, kind: str) -> str | None:
    """NAME of a `[kind NAME]` header, read with shell quoting as botocore does."""
    try:
        words = shlex.split(section)
    except ValueError:
        return None
    if len(words) == 2 and words[0] == kind:
        return words[1]
    return None


def _profile_name(section: str) -> str | None:
    """The profile a section header names, read as botocore reads it: `default`, or
    exactly two shell words `profile NAME` (so `[profile 'my team']` is `my team`)."""
    if section.strip() == "default":
        return "default"
    # botocore's own test is startswith("profile"), then exactly two shell words; so
    # `[profilex y]` is profile `y` to it, and must be to us.
    if not section.startswith("profile"):
        return None
    try:
        words = shlex.split(section)
    except ValueError:
        return None
    return words[1] if len(words) == 2 else None


def choose(
    registry: Registry,
    address: Address,
    settings: Settings,
    aws_profiles: dict[str, dict[str, str]],
    env_profile: str | None,
) -> Choice:
    """Apply the rules above."""
    if env_profile:
        return Choice(env_profile, "the environment variable ECR_SSO_PROFILE")
    for key in (address.netloc, address.host):
        mapped = settings.registries.get(key)
        if mapped:
            return Choice(mapped, f"the registry map in {settings.path}")
        alias = settings.aliases.get(key)
        if alias is not None and alias.profile:
            return Choice(alias.profile, f"the alias {key} in {settings.path}")
    if registry.account is not None:
        matches = [
            name
            for name, keys in aws_profiles.items()
            if keys.get("sso_account_id", "").strip() == registry.account
        ]
        same_region = [n for n in matches if aws_profiles[n].get("region") == registry.region]
        preferred = same_region or matches
        if preferred:
            reason = f"sso_account_id {registry.account} in the AWS config"
            if len(preferred) > 1:
                reason += f" (first of {', '.join(preferred)})"
            return Choice(preferred[0], reason)
    return Choice(None, "default credential chain")

"""One family of exceptions, each kind with its exit code and a message a person can act on.

Everything below the two executables raises these; only the executables turn them into
output and an exit code. Messages never contain tokens, passwords or secret keys.
"""

from __future__ import annotations


class EcrSsoError(Exception):
    """Base of every expected failure. `str(err)` is the one line shown to the user."""

    exit_code = 1


class UsageError(EcrSsoError):
    """The input (arguments, stdin, a file) is malformed."""

    exit_code = 2


class CredentialsNotFound(EcrSsoError):
    """We hold nothing for this server; docker then tries anonymously."""

    # The exact text docker, docker-py and skopeo recognise as "not found".
    MESSAGE = "credentials not found in native keychain"

    def __init__(self) -> None:
        super().__init__(self.MESSAGE)


class ConfigError(EcrSsoError):
    """One of our configuration files, or the AWS config, cannot be used."""


class UnknownProfile(ConfigError):
    """An AWS profile we were told to use is not in the AWS config. `source` says where
    its name came from (the environment variable ECR_SSO_PROFILE, the registry map in our
    config...), because that is what the person has to fix."""

    ENVIRONMENT = "the environment variable "

    def __init__(self, profile: str, source: str | None = None) -> None:
        self.profile = profile
        self.source = source
        message = f"AWS profile '{profile}' is not in the AWS config"
        if source is None:
            message += "; run `ecr-sso setup`"
        elif source.startswith(self.ENVIRONMENT):
            variable = source[len(self.ENVIRONMENT) :]
            message += (
                f"; the name came from {source}: unset {variable}, or set it to a profile"
                " of the AWS config"
            )
        else:
            message += f"; the name came from {source}: fix it there, or run `ecr-sso setup`"
        super().__init__(message)


class LoginRequired(EcrSsoError):
    """The SSO sign-in for a profile is missing or expired."""


def login_command(profile: str | None = None, *, session: str | None = None) -> str:
    """The one rendering of "run this to sign in": for an sso-session, for a profile, or
    (neither known) for the profile the environment names."""
    import shlex

    if session:
        return f"ecr-sso login --sso-session {shlex.quote(session)}"
    if profile:
        return f"ecr-sso login {shlex.quote(profile)}"
    return "ecr-sso login"


class NoCredentials(EcrSsoError):
    """No AWS credentials could be found for a registry at all."""


class AccessDenied(EcrSsoError):
    """AWS refused the request for the credentials used."""


class Throttled(EcrSsoError):
    """AWS asked us to slow down and retries did not help."""


class Unreachable(EcrSsoError):
    """An AWS endpoint did not answer in time."""


class AwsError(EcrSsoError):
    """Any other error AWS returned, translated to one line."""


class CacheLocked(EcrSsoError):
    """Another process held the token lock for longer than we are willing to wait."""


class KeyringUnavailable(EcrSsoError):
    """The OS keyring cannot be used on this machine."""


class MalformedFile(ConfigError):
    """A file `ecr-sso setup` was asked to read or edit cannot be parsed; nothing was
    written. Exit 2, like any other malformed input."""

    exit_code = 2


class Conflict(EcrSsoError):
    """`ecr-sso setup` would replace something the user wrote with a different value
    (a profile, a registry mapping, a `credHelpers` entry); nothing was written. `--force`
    replaces it. Its own exit code, so scripts can tell it from a failure."""

    exit_code = 3


class ConsentRequired(EcrSsoError):
    """A change to content the user wrote needs consent: the person declined at the
    prompt, or there is no terminal to ask on and `--yes` was not given."""


class NotWritable(EcrSsoError):
    """A file `ecr-sso setup` or `teardown` must change cannot be written (its folder is
    not writable, the file is read-only or immutable, or it belongs to another user);
    nothing was written. Its own exit code, so scripts can tell it from bad input."""

    exit_code = 4


def os_reason(err: OSError, about: str | None = None) -> str:
    """A failed system call in words, for a one-line message: `FILE: reason`, the file left
    out when it is `about` (the one the message already names) or unknown. The reason is
    the system's text (`Permission denied`) or, for a folder ecr-sso will not use, why and
    the fix; never `None`."""
    reason = err.strerror or str(err) or type(err).__name__
    if err.filename is None or str(err.filename) == about:
        return reason
    from credhelper.shown import shown

    return f"{shown(str(err.filename))}: {reason}"

"""The full credential helper: builds the parts, runs an action, and is the one place
that turns our errors into the protocol's stdout line and exit code."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from credhelper.errors import ConfigError, CredentialsNotFound, EcrSsoError, LoginRequired
from credhelper.helper import protocol
from credhelper.helper.credstore import CredStore
from credhelper.helper.tokens import Token, open_cache
from credhelper.helper.usecases import Helper
from credhelper.paths import Paths
from credhelper.registry import Registry
from credhelper.settings import CACHE_BACKENDS, load

log = logging.getLogger("credhelper")


def fetch(registry: Registry, profile: str | None) -> Token:
    """The AWS token fetch, imported only when a token is missing."""
    from credhelper.aws import client as aws

    return aws.fetch_token(registry, profile)


def build(environ: os._Environ[str] | dict[str, str]) -> Helper:
    """The helper wired to this machine's files, keyring and AWS."""
    paths = Paths.from_environ(environ)
    from credhelper import log as logfile

    logfile.setup(paths.log_dir, environ)
    settings = load(paths.config_file)
    backend = environ.get("ECR_SSO_CACHE") or settings.cache
    if backend not in CACHE_BACKENDS:
        raise ConfigError(f"ECR_SSO_CACHE must be one of {', '.join(CACHE_BACKENDS)}")

    def sign_in(profile: str | None, error: LoginRequired, retry: Callable[[], Token]) -> Token:
        # Imported only when a login is missing: a cache hit never loads the sign-in code.
        from credhelper.helper import autologin

        return autologin.sign_in_and_retry(
            profile, error, retry, paths=paths, settings=settings, environ=environ
        )

    def refresh_then_fetch(registry: Registry, profile: str | None) -> Token:
        from credhelper.aws import replies
        from credhelper.sso import refresh_lock

        with replies.translated():
            # One SSO refresh per sso-session across processes, before botocore would race.
            refresh_lock.refresh_if_due(paths, refresh_lock.profile_of(profile, environ))
            return fetch(registry, profile)

    return Helper(
        paths=paths,
        settings=settings,
        environ=environ,
        cache=open_cache(backend, paths.cache_dir),
        fetch=refresh_then_fetch,
        credstore=CredStore(paths.data_dir),
        sign_in=sign_in,
    )


def run(action: str, data: bytes) -> int:
    """Run `action` with its stdin `data`; print the answer or one error line; exit code."""
    out = sys.stdout
    try:
        if action in ("version", "--version", "-v"):
            from credhelper.version import version

            out.write(protocol.format_version(version()))
            return 0
        if action in ("--help", "-h", "help"):
            out.write(protocol.USAGE + "\n")
            return 0
        if action not in protocol.ACTIONS:
            out.write(protocol.USAGE + "\n")
            return 1
        helper = build(os.environ)
        if action == "get":
            server_url = protocol.read_server_url(data)
            from credhelper import deadline

            deadline.arm(helper.settings.get_timeout, _subject(server_url))
            try:
                creds = helper.get(server_url)
            finally:  # the answer or the error line, never also the timeout line
                deadline.disarm()
            from credhelper.helper.fastpath import credentials_json

            out.write(credentials_json(creds.server_url, creds.username, creds.secret))
        elif action == "store":
            helper.store(*protocol.read_store(data))
        elif action == "erase":
            helper.erase(protocol.read_server_url(data))
        else:
            out.write(protocol.format_list(helper.list()))
    except CredentialsNotFound as err:
        log.info("%s: %s", action, err)
        out.write(f"{err}\n")
        return 1
    except EcrSsoError as err:
        # `docker pull` does not show this line (it says "no basic auth credentials"), so
        # the log and `ecr-sso doctor` must.
        log.warning("%s failed: %s", action, err)
        out.write(f"{err}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the one place an unexpected failure is turned into a line
        log.exception("%s: unexpected error", action)
        out.write(
            f"ecr-sso internal error ({type(err).__name__}); set ECR_SSO_LOG=debug and see"
            " the log (`ecr-sso doctor` shows where)\n"
        )
        return 1
    return 0


def _subject(server_url: str) -> str:
    """The registry a `get` is for, as the timeout line names it."""
    from credhelper.registry import parse_address

    address = parse_address(server_url)
    return address.netloc if address is not None else "the registry"

"""`docker-credential-ecr-sso`: the executable docker, buildx, skopeo and podman run.

It reads the request, lets the stdlib-only fast path answer a cache hit, and otherwise runs
the full helper: builds the parts, runs the action, and is the one place that turns our
errors into the protocol's stdout line and exit code. Nothing but `sys` and the fast path's
own small modules (on `fastos`, not `os`) is imported before the fast path has had its
chance: every other import is inside the functions the full path calls.
"""

import sys

from credhelper.helper import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import NoReturn

    from credhelper.helper.tokens import Token
    from credhelper.helper.usecases import Helper
    from credhelper.registry import Registry


#: The exit status of a process killed by SIGPIPE, as a shell reports it: what Unix tools
#: give when their reader goes away.
READER_GONE = 141


def main() -> None:
    """Run one protocol action and exit with its status."""
    if sys.platform == "win32":
        from credhelper.windows import REFUSAL

        sys.stdout.write(f"{REFUSAL}\n")
        sys.exit(1)
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    data = b""
    if action in protocol.READS_STDIN and sys.stdin is not None:
        data = protocol.read_input(sys.stdin.buffer)
    try:
        if action == "get":
            from credhelper import fastos
            from credhelper.helper import fastpath

            out = fastpath.answer(data, fastos.environ())
            if out is not None:
                sys.stdout.write(out)
                sys.stdout.flush()
                sys.exit(0)
        code = run(action, data)
    except (BrokenPipeError, ReaderGone):
        _quiet_exit()
    sys.exit(code)


class ReaderGone(BaseException):
    """stdout's reader closed it (docker gave up, `| head -c1`): nothing more can be said.
    Not an `Exception`, so that no handler turns it into a line to write to that pipe."""


class _Stdout:
    """Writes to stdout at once; a reader that has gone away is `ReaderGone`."""

    def write(self, text: str) -> None:
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise ReaderGone from None


def _quiet_exit() -> "NoReturn":
    """Exit as a process killed by SIGPIPE, with nothing on stderr: what is still buffered
    for stdout goes to /dev/null, or the interpreter would report its failed flush."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(READER_GONE)


def fetch(registry: "Registry", profile: str | None) -> "Token":
    """The AWS token fetch, imported only when a token is missing."""
    from credhelper.aws import client as aws

    return aws.fetch_token(registry, profile)


def build(environ: "Mapping[str, str]") -> "Helper":
    """The helper wired to this machine's files, keyring and AWS."""
    import logging

    from credhelper import log as logfile
    from credhelper import private
    from credhelper.errors import ConfigError, LoginRequired
    from credhelper.helper.credstore import CredStore
    from credhelper.helper.tokens import open_cache
    from credhelper.helper.usecases import Helper
    from credhelper.paths import Paths
    from credhelper.settings import CACHE_BACKENDS, load

    paths = Paths.from_environ(environ)
    logfile.setup(paths.log_dir, environ)
    settings = load(paths.config_file)
    backend = environ.get("ECR_SSO_CACHE") or settings.cache
    if backend not in CACHE_BACKENDS:
        raise ConfigError(f"ECR_SSO_CACHE must be one of {', '.join(CACHE_BACKENDS)}")

    untrusted = private.folder_problem(paths.cache_dir, private.CACHE_FOLDERS)
    if untrusted is not None:
        # Whatever is in it may have been planted: work uncached rather than trust it.
        logging.getLogger("credhelper").warning(
            "not using the token cache: %s (see `ecr-sso doctor`)", untrusted
        )
        backend = "none"

    def sign_in(profile: str | None, error: LoginRequired, retry: "Callable[[], Token]") -> "Token":
        # Imported only when a login is missing: a cache hit never loads the sign-in code.
        from credhelper.helper import autologin

        return autologin.sign_in_and_retry(
            profile, error, retry, paths=paths, settings=settings, environ=environ
        )

    def refresh_then_fetch(registry: "Registry", profile: str | None) -> "Token":
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
    import logging

    from credhelper.errors import CredentialsNotFound, EcrSsoError

    log = logging.getLogger("credhelper")
    out = _Stdout()
    subject = action  # what the log line says failed: the action, and its host when known
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
        import os

        helper = build(os.environ)
        if action == "get":
            server_url = protocol.read_server_url(data)
            subject = f"get {server_url}"
            from credhelper import deadline

            deadline.arm(helper.settings.get_timeout, _timeout_subject(server_url))
            try:
                creds = helper.get(server_url)
            finally:  # the answer or the error line, never also the timeout line
                deadline.disarm()
            out.write(protocol.format_credentials(creds.server_url, creds.username, creds.secret))
        elif action == "store":
            helper.store(*protocol.read_store(data))
        elif action == "erase":
            helper.erase(protocol.read_server_url(data))
        else:
            out.write(protocol.format_list(helper.list()))
    except CredentialsNotFound as err:
        log.info("%s: %s", action, err)
        out.write(protocol.format_error(protocol.NOT_FOUND))
        return 1
    except EcrSsoError as err:
        # `docker pull` does not show this line (it says "no basic auth credentials"), so
        # the log and `ecr-sso doctor` must.
        log.warning("%s failed: %s", subject, err)
        out.write(protocol.format_error(str(err)))
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the one place an unexpected failure is turned into a line
        log.exception("%s: unexpected error", action)
        out.write(
            protocol.format_error(
                f"ecr-sso internal error ({type(err).__name__}); set ECR_SSO_LOG=debug and"
                " see the log (`ecr-sso doctor` shows where)"
            )
        )
        return 1
    return 0


def _timeout_subject(server_url: str) -> str:
    """The registry a `get` is for, as the timeout line names it."""
    from credhelper.registry import parse_address

    address = parse_address(server_url)
    return address.netloc if address is not None else "the registry"

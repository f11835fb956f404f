"""`ecr-sso login`, `logout` and `status`: signing in to AWS SSO without the AWS CLI.

Argument parsing and printing; the flows are in `credhelper.sso.flows`, the status in
`credhelper.status`. Results go to stdout, the sign-in's instructions to stderr.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any, TextIO

from credhelper.cli import output
from credhelper.cli.context import Context
from credhelper.errors import ConfigError, LoginRequired, UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from credhelper.aws.config import AwsConfig, SsoSession
    from credhelper.helper.tokens import TokenCache
    from credhelper.status import ProfileStatus

#: How long `ecr-sso login` waits for the browser by default (the AWS CLI's ten minutes).
BROWSER_WAIT = 600.0


def register(commands: Any) -> None:
    """Add `login`, `logout` and `status`."""
    login = commands.add_parser(
        "login",
        help="sign in to AWS SSO (IAM Identity Center) for a profile",
        description=(
            "Sign in to AWS SSO in the browser, as `aws sso login` does, and keep the login"
            " where the AWS CLI, boto3 and the credential helper find it. Without a"
            " browser (an SSH session, no display), sign in with a code on any device."
        ),
    )
    _targets(login, "sign in for")
    login.add_argument(
        "--device-code",
        action="store_true",
        help="sign in with a code shown here, on any device, instead of the browser redirect",
    )
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in URL instead of opening a browser",
    )
    login.add_argument(
        "--timeout",
        type=float,
        default=BROWSER_WAIT,
        metavar="SECONDS",
        help=f"how long to wait for the browser (default {BROWSER_WAIT:.0f})",
    )
    login.set_defaults(handler=run_login)

    logout = commands.add_parser(
        "logout",
        help="sign out of AWS SSO and forget the cached ECR tokens",
        description=(
            "End the SSO session at AWS, remove its login from ~/.aws/sso/cache and remove"
            " the ECR tokens cached for its profiles. Without arguments: every SSO session"
            " in the AWS config."
        ),
    )
    _targets(logout, "sign out of")
    logout.set_defaults(handler=run_logout)

    status = commands.add_parser(
        "status",
        help="show the SSO logins and cached ECR tokens per profile",
        description=(
            "For each SSO profile (or the ones named): until when its SSO login is valid,"
            " and until when its ECR tokens are cached. Reads files only, unless --whoami."
        ),
    )
    status.add_argument("profiles", nargs="*", metavar="PROFILE", help="only these profiles")
    status.add_argument(
        "--whoami",
        action="store_true",
        help="also ask AWS who each profile is (sts get-caller-identity)",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run_status)


def _targets(parser: argparse.ArgumentParser, verb: str) -> None:
    parser.add_argument("profile", nargs="?", metavar="PROFILE", help=f"the AWS profile to {verb}")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--sso-session", metavar="NAME", help=f"the sso-session to {verb}")
    group.add_argument("--all", action="store_true", help="every SSO session in the AWS config")


# -- login -------------------------------------------------------------------------------


class Terminal:
    """`sso.Interaction` for a person at a terminal: instructions on stderr, the browser
    opened where one can be (and not with --no-browser)."""

    def __init__(self, err: TextIO, environ: Mapping[str, str], *, open_browser: bool) -> None:
        self.err = err
        self.environ = environ
        self.open_browser = open_browser

    def authorize(self, url: str) -> None:
        opened = self.open_browser and self._open(url)
        if opened:
            self._say(
                "A browser window is opening to sign you in. If it does not, open this URL"
                f" in a browser on this machine:\n\n    {url}\n"
            )
        else:
            self._say(f"Open this URL in a browser on this machine to sign in:\n\n    {url}\n")
        # None: the URL is shown, so a browser that fails does not end the wait.

    def device_code(self, url: str, code: str) -> None:
        self._say(
            "Open this URL in a browser on any device, check that it shows the code"
            f" {code}, and approve:\n\n    {url}\n"
        )
        if self.open_browser:
            self._open(url)

    def waiting(self, seconds: float) -> None:
        self._say(f"Waiting up to {seconds:.0f} s for the sign-in (Ctrl-C to stop)...")

    def _open(self, url: str) -> bool:
        from credhelper.sso import browser

        try:
            browser.open_url(url, self.environ)
        except browser.BrowserUnavailable as err:
            self._say(f"(cannot open a browser: {err})")
            return False
        return True

    def _say(self, text: str) -> None:
        # The URLs and the code come from SSO-OIDC, the reasons from the environment: each
        # line is `shown`, so none of them can forge or hide a line.
        for line in text.split("\n"):
            output.line(self.err, line)
        self.err.flush()


def run_login(args: argparse.Namespace, context: Context) -> int:
    from credhelper.aws import config as aws_config
    from credhelper.helper import autologin
    from credhelper.settings import load
    from credhelper.sso import browser
    from credhelper.sso import flows as sso
    from credhelper.sso.oidc import SsoApi

    settings = load(context.paths.config_file)
    config = aws_config.read(context.paths.aws_config_file)
    sessions = _chosen_sessions(args, config, context.environ, settings.default_profile)
    if autologin.env_flag(context.environ.get("CI")) and not context.interactive:
        raise LoginRequired(
            "CI is set and there is no terminal: `ecr-sso login` needs a person at a browser."
            " In CI, give the job AWS credentials instead (a role through OIDC, or keys)"
        )
    no_browser_here = browser.unavailable_reason(context.environ)
    for session in sessions:
        sso.check_can_save(session, context.paths)  # before the person is asked anything
        profiles = config.profiles_of(session)
        api = SsoApi.for_session(session, profiles[0] if profiles else None, context.environ)
        terminal = Terminal(
            context.err, context.environ, open_browser=not args.no_browser and not no_browser_here
        )
        output.line(context.err, f"Signing in to {session.label} ({session.start_url})")
        if args.device_code or session.legacy or (no_browser_here and not args.no_browser):
            if no_browser_here and not (args.device_code or session.legacy):
                context.err.write(f"No browser can be opened here: {no_browser_here}.\n")
            login = sso.sign_in_with_device_code(session, api, terminal, context.paths)
        else:
            login = sso.sign_in_with_browser(
                session, api, terminal, context.paths, timeout=args.timeout
            )
        output.line(
            context.out,
            f"signed in to {session.label} until {_local(login.expires_at)}"
            + (f"; profiles: {', '.join(profiles)}" if profiles else ""),
        )
    return 0


def _chosen_sessions(
    args: argparse.Namespace,
    config: AwsConfig,
    environ: Mapping[str, str],
    default_profile: str | None,
) -> list[SsoSession]:
    """The SSO sessions the arguments name; without any, the profile the environment
    names (as botocore reads it), our `default_profile`, or the only session there is."""
    if args.all:
        found = config.all_sessions()
        if not found:
            raise ConfigError("the AWS config has no SSO sessions; run `ecr-sso setup`")
        return found
    if args.sso_session:
        if args.profile:
            raise UsageError("name a PROFILE or --sso-session, not both")
        config.require_session(args.sso_session)
        return [config.session(args.sso_session)]
    if args.profile:
        config.require_profiles([args.profile])
        return [config.session_of(args.profile)]
    for candidate, source in (
        (environ.get("AWS_DEFAULT_PROFILE"), "the environment variable AWS_DEFAULT_PROFILE"),
        (environ.get("AWS_PROFILE"), "the environment variable AWS_PROFILE"),
        (default_profile, "default_profile in our config"),
    ):
        if candidate:
            config.require_profiles([candidate], source)
            return [config.session_of(candidate)]
    found = config.all_sessions()
    if len(found) == 1:
        return found
    if not found:
        raise ConfigError("the AWS config has no SSO sessions; run `ecr-sso setup`")
    names = ", ".join(s.name or s.start_url for s in found)
    raise UsageError(f"several SSO sessions ({names}): name a PROFILE, --sso-session or --all")


# -- logout ------------------------------------------------------------------------------


def run_logout(args: argparse.Namespace, context: Context) -> int:
    from credhelper.aws import config as aws_config
    from credhelper.helper.usecases import remove_profile_tokens
    from credhelper.sso import flows as sso
    from credhelper.sso.oidc import SsoApi

    config = aws_config.read(context.paths.aws_config_file)
    if args.profile or args.sso_session or args.all:
        sessions = _chosen_sessions(args, config, {}, None)
    else:
        sessions = config.all_sessions()
    cache = _open_cache(context)
    for session in sessions:
        sso.check_can_save(session, context.paths)  # before the person is asked anything
        profiles = config.profiles_of(session)
        api = SsoApi(session.region, profiles[0] if profiles else None)
        was_signed_in, problem = sso.sign_out(context.paths, session, api)
        if problem is not None:
            output.line(
                context.err,
                f"ecr-sso: AWS did not confirm the sign-out ({problem}); the login on this"
                " machine is removed anyway",
            )
        removed = sum(remove_profile_tokens(cache, profile) for profile in profiles)
        what = "signed out of" if was_signed_in else "was not signed in to"
        output.line(
            context.out,
            f"{what} {session.label}; removed {removed} cached ECR"
            f" token{'' if removed == 1 else 's'}",
        )
    return 0


def _open_cache(context: Context) -> TokenCache:
    from credhelper.helper.tokens import open_cache
    from credhelper.settings import CACHE_BACKENDS, load

    backend = context.environ.get("ECR_SSO_CACHE") or load(context.paths.config_file).cache
    if backend not in CACHE_BACKENDS:
        raise ConfigError(f"ECR_SSO_CACHE must be one of {', '.join(CACHE_BACKENDS)}")
    return open_cache(backend, context.paths.cache_dir)


# -- status ------------------------------------------------------------------------------


def run_status(args: argparse.Namespace, context: Context) -> int:
    from credhelper import status
    from credhelper.cli.output import as_json, table

    whoami = None
    if args.whoami:
        from credhelper.aws.sts import caller_identity

        def whoami(profile: str) -> dict[str, str]:
            return caller_identity(profile).as_dict()

    found = status.gather(
        context.paths, _open_cache(context), only=args.profiles or None, whoami=whoami
    )
    now = time.time()
    if args.json:
        as_json(context.out, [entry.as_dict(now) for entry in found])
        return 0
    if not found:
        context.out.write("no SSO profiles in the AWS config; run `ecr-sso setup`\n")
        return 0
    headers = ["PROFILE", "SSO LOGIN", "ECR TOKENS CACHED UNTIL"]
    if args.whoami:
        headers.append("IDENTITY")
    rows = []
    for entry in found:
        row = [entry.profile, _login_text(entry, now), _tokens_text(entry, now)]
        if args.whoami:
            row.append(entry.identity["arn"] if entry.identity else f"({entry.identity_error})")
        rows.append(row)
    table(context.out, headers, rows)
    return 0


def _login_text(entry: ProfileStatus, now: float) -> str:
    state = entry.login_state(now)
    if state == "missing":
        return "signed out"
    if entry.login is None or state == "refreshable":
        return "expired; renewed on next use" if state == "refreshable" else state
    if state == "valid":
        return f"valid until {_local(entry.login.expires_at)}"
    return f"expired {_local(entry.login.expires_at)}"


def _tokens_text(entry: ProfileStatus, now: float) -> str:
    if not entry.tokens:
        return "-"
    return "; ".join(
        f"{t.registry} {_local(t.used_until) if now < t.used_until else 'expired'}"
        for t in entry.tokens
    )


def _local(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(moment))

"""`ecr-sso doctor`: what is wrong with this machine's setup, and the command that fixes it.

Each check is a function of the machine's state returning one or more `Check`s; the
checks that touch the network do so with short, bounded timeouts and run concurrently.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from credhelper.aws import config as aws_config
from credhelper.aws.config import AwsConfig
from credhelper.errors import ConfigError, login_command
from credhelper.paths import Paths
from credhelper.registry import parse_address, parse_registry
from credhelper.settings import Settings, load
from credhelper.shown import shown
from credhelper.sso import logins

HELPER = "docker-credential-ecr-sso"
HELPER_NAME = "ecr-sso"  # what credHelpers entries name; docker prepends docker-credential-
ENDPOINT_TIMEOUT = 3.0
MAX_CLOCK_SKEW = 300.0  # SigV4 refuses requests more than 5 minutes off


@dataclass(frozen=True)
class Check:
    """One finding: green (`ok`) or red, what was seen, and how to fix a red one."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None
    #: For an SSO login: `logins.state` (`valid`, `refreshable`, `expired`, `missing`).
    state: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"check": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix}
        if self.state is not None:
            out["state"] = self.state
        return out


@dataclass
class Machine:
    """What the checks read, gathered once."""

    paths: Paths
    environ: Mapping[str, str]
    settings: Settings | None
    settings_error: str | None
    aws: AwsConfig
    aws_error: str | None
    docker_config: dict[str, Any] | None
    docker_error: str | None
    hosts: dict[str, str | None] = field(default_factory=dict)  # host → profile

    @classmethod
    def read(cls, paths: Paths, environ: Mapping[str, str]) -> Machine:
        settings, settings_error = None, None
        try:
            settings = load(paths.config_file)
        except ConfigError as err:
            settings_error = str(err)
        aws = AwsConfig(paths.aws_config_file)
        aws_error = None
        try:
            aws = aws_config.read(paths.aws_config_file)
        except ConfigError as err:
            aws_error = str(err)
        docker_config, docker_error = _read_docker_config(paths.docker_config_file)
        if docker_config:
            # What docker reads differently from Python (`CredHelpers` beside
            # `credHelpers`, a key given twice): setup refuses it, and so does this check.
            from credhelper.setup import docker_config as editor

            try:
                editor.read(paths.docker_config_file)
            except ConfigError as err:
                docker_config, docker_error = None, str(err)
        machine = cls(
            paths,
            environ,
            settings,
            settings_error,
            aws,
            aws_error,
            docker_config,
            docker_error,
        )
        if settings is not None:
            machine.hosts = dict(settings.registries)
            for host, alias in settings.aliases.items():
                machine.hosts[host] = alias.profile
        return machine


def _read_docker_config(path: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as err:
        return None, f"{path}: not readable JSON ({err})"
    if not isinstance(data, dict):
        return None, f"{path}: not a JSON object"
    return data, None


# -- the checks -------------------------------------------------------------------------


def check_helper_on_path(machine: Machine) -> Iterable[Check]:
    """Docker runs `docker-credential-<name>` found on PATH: it must be there, and ours."""
    found = shutil.which(HELPER, path=machine.environ.get("PATH"))
    if found is None:
        yield Check(
            "helper on PATH",
            False,
            f"{HELPER} is not on PATH, so docker cannot run it",
            "install with install/install.sh, or add the folder that holds it to PATH",
        )
        return
    try:
        answer = subprocess.run(
            [found, "version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as err:
        answer = str(err)
    if not answer.startswith(f"{HELPER} (ecr-sso)"):
        yield Check(
            "helper on PATH",
            False,
            f"{found} is not ecr-sso's helper: {answer.strip()[:80]}",
            "put ecr-sso's bin folder first on PATH, or remove the other program",
        )
        return
    yield Check("helper on PATH", True, f"{found} ({answer.strip()})")


def check_docker_config(machine: Machine) -> Iterable[Check]:
    """Every registry we serve has `credHelpers` → ecr-sso, and no `auths` entry (which
    skopeo and podman read before credHelpers) shadows it."""
    path = machine.paths.docker_config_file
    if machine.docker_config is None:
        yield Check("docker config", False, machine.docker_error or path, f"fix or move {path}")
        return
    helpers = machine.docker_config.get("credHelpers") or {}
    auths = machine.docker_config.get("auths") or {}
    if not machine.hosts:
        yield Check("docker config", True, "no registries are mapped in the ecr-sso config yet")
        return
    missing = sorted(h for h in machine.hosts if helpers.get(h) != HELPER_NAME)
    if missing:
        yield Check(
            "docker credHelpers",
            False,
            f"{path} does not send {', '.join(missing)} to ecr-sso",
            "ecr-sso setup --from TEAM_FILE (or ecr-sso setup --ci --registry HOST)",
        )
    else:
        yield Check("docker credHelpers", True, f"{len(machine.hosts)} registries use ecr-sso")
    stale = sorted(h for h in machine.hosts if isinstance(auths.get(h), dict) and auths[h])
    if stale:
        # Within one config.json, credHelpers win over auths (docker, skopeo, podman alike);
        # these old logins are unused, and hold a password that has long expired.
        yield Check(
            "docker auths",
            True,
            f"old logins for {', '.join(stale)} in {path} are not used (credHelpers win);"
            " `ecr-sso setup --from TEAM_FILE --clean-auths` removes them",
        )
    yield from _containers_auth_files(machine)


def _containers_auth_files(machine: Machine) -> Iterable[Check]:
    """skopeo and podman read containers' auth.json files before Docker's config.json: a
    login there for one of our hosts shadows the helper until its password expires."""
    env = machine.environ
    candidates = [env.get("REGISTRY_AUTH_FILE", "")]
    if env.get("XDG_RUNTIME_DIR"):
        candidates.append(os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    config_home = env.get("XDG_CONFIG_HOME") or os.path.join(machine.paths.home, ".config")
    candidates.append(os.path.join(config_home, "containers", "auth.json"))
    for path in filter(None, candidates):
        data, _ = _read_docker_config(path)
        auths = (data or {}).get("auths") or {}
        shadowed = sorted(h for h in machine.hosts if isinstance(auths.get(h), dict) and auths[h])
        if shadowed:
            yield Check(
                "containers auth",
                False,
                f"logins for {', '.join(shadowed)} in {path} are used by skopeo and podman"
                " before ecr-sso, and expire",
                f"podman logout {shadowed[0]} (or skopeo logout; once per host)",
            )


SETUP_FIX = "ecr-sso setup --from TEAM_FILE (a CI runner: ecr-sso setup --ci --registry HOST)"


def check_set_up(machine: Machine) -> Check | None:
    """A red finding when this machine was never set up: no registry in our config's map
    or aliases, and no Docker `credHelpers` entry (or `credsStore`) naming ecr-sso. None
    otherwise, and when a file cannot be read (its own check says so)."""
    if machine.settings is None or machine.docker_config is None or machine.hosts:
        return None
    helpers = machine.docker_config.get("credHelpers") or {}
    if HELPER_NAME in helpers.values() or machine.docker_config.get("credsStore") == HELPER_NAME:
        return None
    return Check(
        "setup",
        False,
        f"not set up: no registry is mapped in {machine.paths.config_file}, and no"
        f" credHelpers entry in {machine.paths.docker_config_file} names ecr-sso",
        SETUP_FIX,
    )


def check_aws_config(machine: Machine) -> Iterable[Check]:
    """The profiles the map names exist, and their SSO sessions too."""
    if machine.aws_error:
        yield Check("aws config", False, machine.aws_error, "fix the file, or run ecr-sso setup")
        return
    wanted = sorted({p for p in machine.hosts.values() if p})
    missing = [p for p in wanted if p not in machine.aws.profiles]
    if missing:
        yield Check(
            "aws profiles",
            False,
            f"profiles {', '.join(missing)} are mapped but not in {machine.paths.aws_config_file}",
            "ecr-sso setup --from TEAM_FILE",
        )
    elif wanted:
        yield Check("aws profiles", True, f"{', '.join(wanted)} in {machine.paths.aws_config_file}")
    missing_sessions: dict[str, list[str]] = {}
    for profile in wanted:
        session = machine.aws.profiles.get(profile, {}).get("sso_session")
        if session and session not in machine.aws.sso_sessions:
            missing_sessions.setdefault(session, []).append(profile)
    for session, names in sorted(missing_sessions.items()):
        yield Check(
            "sso session",
            False,
            f"profiles {', '.join(names)} name [sso-session {session}], which is not in the"
            " AWS config",
            "ecr-sso setup --from TEAM_FILE",
        )


def check_sso_logins(machine: Machine, now: float) -> Iterable[Check]:
    """Each SSO session in use has a login that works: valid, or refreshable (botocore
    renews it on the next use), by the one rule `logins.state`."""
    sessions: dict[str, tuple[aws_config.SsoSession, str]] = {}
    for profile in sorted({p for p in machine.hosts.values() if p}):
        session = machine.aws.session_or_none(profile)
        if session is not None:
            sessions.setdefault(session.cache_name, (session, profile))
    for name, (session, profile) in sorted(sessions.items()):
        state, login = logins.state_of(machine.paths, session, now)
        label = f"sso login {name}"
        fix = login_command(profile)
        if login is None:
            yield Check(label, False, "not signed in", fix, state)
            continue
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(login.expires_at))
        if state == "valid":
            yield Check(label, True, f"valid until {when}", state=state)
        elif state == "refreshable":
            yield Check(label, True, f"expired at {when}; renewed on next use", state=state)
        else:
            yield Check(label, False, f"expired at {when}", fix, state)


def check_permissions(machine: Machine) -> Iterable[Check]:
    """Secrets and what decides where they go are private to the user."""
    loose: list[str] = []
    for folder in (machine.paths.cache_dir, machine.paths.sso_cache_dir):
        if os.path.isdir(folder):
            if os.stat(folder).st_mode & 0o077 and folder == machine.paths.cache_dir:
                loose.append(f"{folder} (folder)")
            for root, _dirs, files in os.walk(folder):
                loose.extend(
                    os.path.join(root, f)
                    for f in files
                    if os.stat(os.path.join(root, f)).st_mode & 0o077
                )
    for path in (machine.paths.config_file, machine.paths.aws_config_file):
        if os.path.isfile(path) and os.stat(path).st_mode & 0o022:
            loose.append(f"{path} (writable by others)")
    if loose:
        yield Check(
            "file permissions",
            False,
            f"readable or writable by others: {', '.join(loose[:5])}"
            + (f" and {len(loose) - 5} more" if len(loose) > 5 else ""),
            "chmod go-rwx on those files (folders: chmod 700)",
        )
    else:
        yield Check("file permissions", True, "cache, SSO tokens and configs are private")


def check_token_cache(machine: Machine) -> Iterable[Check]:
    """The token cache folder is one the helper trusts: ours, not writable by others.
    Otherwise every `get` works uncached (a planted route or token is never followed)."""
    from credhelper import private

    found = private.untrusted_folder(machine.paths.cache_dir, private.CACHE_FOLDERS)
    if found is None:
        yield Check("token cache", True, f"{machine.paths.cache_dir} is private")
        return
    folder, why = found
    yield Check(
        "token cache",
        False,
        f"{folder} is {why}: not used, every `get` asks AWS",
        f"if the folder is yours: chmod 700 {folder}, and delete what you did not put there;"
        " otherwise point ECR_SSO_CACHE_DIR at a folder of your own",
    )


def check_our_folders(machine: Machine) -> Iterable[Check]:
    """ecr-sso's own folders (state, log, data; the token cache has its check above) are
    ours and writable by us alone: setup, login and the helper refuse one that is not
    (one left 0775 by an older version under umask 002, say), and never chmod it."""
    from credhelper import private
    from credhelper.setup.originals import FOLDER

    paths = machine.paths
    seen = set()
    bad = False
    for folder, parts in ((paths.state_dir, (FOLDER,)), (paths.log_dir, ()), (paths.data_dir, ())):
        if folder in seen:
            continue  # on macOS the state folder is the data folder
        seen.add(folder)
        found = private.untrusted_folder(folder, parts)
        if found is not None:
            bad = True
            where, why = found
            yield Check(
                "ecr-sso folders",
                False,
                f"{shown(where)} is {why}: setup, login and the helper do not use it",
                private.remedy(where, why),
            )
    if not bad:
        yield Check("ecr-sso folders", True, "state, log and data folders are private")


def check_parent_folders(machine: Machine) -> Iterable[Check]:
    """No one else can replace the AWS config, Docker's config.json or our config through
    a folder above it (see `_open_parents`); each open folder named once, with its fix."""
    import shlex

    paths = machine.paths
    seen: set[str] = set()
    for path in (paths.aws_config_file, paths.docker_config_file, paths.config_file):
        for folder, why, owner in _open_parents(path, paths.home):
            if folder in seen:
                continue
            seen.add(folder)
            if owner:
                detail = f"{shown(folder)} belongs to another user ({why})"
                fix = f"move {shown(path)} to a folder of your own"
            else:
                detail = f"{shown(folder)} is {why}"
                fix = f"chmod go-w {shown(shlex.quote(folder))}"
            yield Check("parent folders", False, f"{detail}: they could replace {shown(path)}", fix)
    if not seen:
        yield Check("parent folders", True, "only you can change the folders above the configs")


def _open_parents(path: str, home: str) -> Iterator[tuple[str, str, bool]]:
    """(folder, why, whether the folder is another user's) for each folder above `path`
    through which another user could replace it: writable by group or others (a sticky
    folder such as /tmp is fine: only an entry's owner may rename it), or owned by a user
    other than us and root. Both the folders as written and those a link leads to. The
    walk ends at HOME for a file under it (what is above a home is the system's), else at
    the first folder only root can write."""
    uid = os.geteuid()
    home = os.path.realpath(home)
    starts = [os.path.dirname(os.path.abspath(path)), os.path.dirname(os.path.realpath(path))]
    done = set()
    for start in starts:
        folder = start
        while folder not in done:
            done.add(folder)
            try:
                st = os.stat(folder)
            except OSError:
                st = None  # missing (the file will be created in the first that exists)
            if st is not None:
                mode = st.st_mode
                if st.st_uid not in (uid, 0):
                    yield folder, f"uid {st.st_uid}", True
                elif mode & 0o022 and not mode & stat.S_ISVTX:
                    who = "others" if mode & 0o002 else "its group"
                    yield folder, f"writable by {who} (mode {mode & 0o7777:04o})", False
                elif st.st_uid == 0 and not mode & 0o022:
                    break  # only root can change it, or anything above
            if os.path.realpath(folder) == home:
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent


def endpoint_checks(machine: Machine, now: Callable[[], float]) -> list[Check]:
    """Each ECR, SSO and SSO-OIDC endpoint in use answers within the timeout, and the
    clock agrees with theirs. Probed through botocore's own HTTP stack with the TLS
    settings the helper would use (the CA bundle of `AWS_CA_BUNDLE` or the profile's
    `ca_bundle`, the proxy variables), so a TLS-inspecting proxy fails here only if it
    fails for the helper too."""
    endpoints = _endpoints(machine)
    urls = sorted(endpoints)
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(urls))) as pool:
        answers = list(pool.map(lambda url: _probe(url, endpoints[url], now), urls))
    checks: list[Check] = []
    skews: list[float] = []
    for url, (error, fix, skew) in zip(urls, answers, strict=True):
        if error is not None:
            checks.append(Check(f"endpoint {url}", False, error, fix))
        else:
            bundle = endpoints[url]
            shown = f" (CA bundle {bundle})" if isinstance(bundle, str) else ""
            checks.append(Check(f"endpoint {url}", True, f"answers{shown}"))
            if skew is not None:
                skews.append(skew)
    if skews:
        worst = max(skews, key=abs)
        if abs(worst) > MAX_CLOCK_SKEW:
            checks.append(
                Check(
                    "clock",
                    False,
                    f"this machine's clock is {worst:+.0f} s off AWS's",
                    "sync the clock (e.g. timedatectl set-ntp true)",
                )
            )
        else:
            checks.append(Check("clock", True, f"within {abs(worst):.0f} s of AWS"))
    return checks


def _endpoints(machine: Machine) -> dict[str, str | bool]:
    """Endpoint URL → how the helper verifies its certificate there (a CA bundle file, or
    True for the default one), each from the session of the profile that would call it."""
    from credhelper.aws import client as aws

    sessions: dict[str | None, Any] = {}

    def session_of(profile: str | None) -> Any:
        known = profile if profile in machine.aws.profiles else None
        if known not in sessions:
            sessions[known] = aws.make_session(known)
        return sessions[known]

    urls: dict[str, str | bool] = {}
    for host, profile in machine.hosts.items():
        address = parse_address(host)
        if address is None:
            continue
        registry = None
        if machine.settings is not None:
            registry = machine.settings.alias_registry(address)
        registry = registry or parse_registry(address)
        if registry is not None:
            session = session_of(profile)
            url = aws.endpoint_of(aws.make_client(session, registry))
            urls.setdefault(url, _verify(session, machine.environ))
    for name, keys in machine.aws.sso_sessions.items():
        region = keys.get("sso_region")
        if not region:
            continue
        users = [p for p in machine.hosts.values() if p and _sso_session_of(machine, p) == name]
        session = session_of(users[0] if users else None)
        for service in ("sso", "sso-oidc"):
            client = aws.make_client(session, service=service, region=region, unsigned=True)
            urls.setdefault(aws.endpoint_of(client), _verify(session, machine.environ))
    return urls


def _sso_session_of(machine: Machine, profile: str) -> str | None:
    return machine.aws.profiles.get(profile, {}).get("sso_session")


def _verify(session: Any, environ: Mapping[str, str]) -> str | bool:
    """What botocore verifies certificates with for clients of `session`: the profile's
    `ca_bundle` or `AWS_CA_BUNDLE` (botocore's config variable), else `REQUESTS_CA_BUNDLE`,
    else its default bundle."""
    bundle = session.get_config_variable("ca_bundle") or environ.get("REQUESTS_CA_BUNDLE")
    return str(bundle) if bundle else True


def _probe(
    url: str, verify: str | bool, now: Callable[[], float]
) -> tuple[str | None, str | None, float | None]:
    """(error, its fix, clock skew in seconds) of one HTTP GET through botocore's HTTP
    session; any HTTP answer means reachable."""
    from botocore.awsrequest import AWSRequest
    from botocore.exceptions import BotoCoreError, SSLError
    from botocore.httpsession import URLLib3Session
    from botocore.utils import get_environ_proxies

    http = URLLib3Session(verify=verify, proxies=get_environ_proxies(url), timeout=ENDPOINT_TIMEOUT)
    try:
        response = http.send(AWSRequest(method="GET", url=url).prepare())
    except SSLError as err:
        reason = getattr(err, "kwargs", {}).get("error", err)
        return (
            f"its TLS certificate is not trusted ({reason})",
            "behind a TLS-inspecting proxy, set AWS_CA_BUNDLE (or ca_bundle in the profile)"
            " to the proxy's CA certificate",
            None,
        )
    except (BotoCoreError, OSError) as err:
        reason = getattr(err, "kwargs", {}).get("error", err)
        return (
            f"no answer within {ENDPOINT_TIMEOUT:.0f} s ({reason})",
            "check the network, proxy (HTTPS_PROXY) or VPN",
            None,
        )
    finally:
        http.close()
    date = response.headers.get("Date")
    if not date:
        return None, None, None
    try:
        return None, None, now() - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None, None, None


def run_checks(paths: Paths, environ: Mapping[str, str], *, network: bool = True) -> list[Check]:
    """Every check, in the order a person would fix them."""
    machine = Machine.read(paths, environ)
    checks: list[Check] = list(check_helper_on_path(machine))
    folders = [*check_our_folders(machine), *check_parent_folders(machine)]
    not_set_up = check_set_up(machine)
    if not_set_up is not None:
        # Every other check would be about nothing; the one finding says what to run,
        # after any folder that would make setup refuse or its files unsafe.
        return [*checks, *(c for c in folders if not c.ok), not_set_up]
    if machine.settings_error:
        checks.append(Check("ecr-sso config", False, machine.settings_error, "fix the file"))
    checks += check_docker_config(machine)
    checks += check_aws_config(machine)
    checks += check_sso_logins(machine, time.time())
    checks += check_permissions(machine)
    checks += check_token_cache(machine)
    checks += folders
    if network:
        checks += endpoint_checks(machine, time.time)
    return checks

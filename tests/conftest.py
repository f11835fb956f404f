"""Fixtures shared by every test: an isolated environment, AWS stand-ins, the executable.

Every test runs with HOME, the XDG directories and every AWS, Docker and ecr-sso location
under its own `tmp_path` (the autouse `env` fixture), so no test can read or write a real
home directory or reach a real AWS account through ambient credentials.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

import pytest
from fakeaws import FakeAWS
from keyrings import secret_service  # noqa: F401

# The second local user's fixtures, for every test module.
from localuser import other_user, shared_tmp  # noqa: F401

# The real-client fixtures, for every test module: one dockerd per session.
from realclients import dockerd, registry_factory  # noqa: F401

TESTS_DIR = Path(__file__).resolve().parent

#: Fixtures that start something worth having once (a fixture name → its xdist group):
#: session-scoped ones start one per worker, so the tests using them share one
#: pytest-xdist worker (with `--dist loadgroup`, as `tests/run` runs the suite).
SHARED_FIXTURES = {
    "dockerd": "dockerd",  # one dockerd for the session (tests/realclients.py)
    "installed": "install",  # one install.sh run for test_install.py
}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier from its folder (`unit`: pure and in-process;
    `integration`: starts processes or servers), so `-m unit` is the fast tier; and put
    the tests that share a daemon or an install in one xdist group.

    On xdist workers, the groups and then the real-client tests go first: they are the
    long ones, and started last they would leave one worker busy while the others idle."""
    for item in items:
        path = Path(item.path).resolve()
        if path.is_relative_to(TESTS_DIR / "unit"):
            item.add_marker(pytest.mark.unit)
        elif path.is_relative_to(TESTS_DIR / "integration"):
            item.add_marker(pytest.mark.integration)
        fixtures = getattr(item, "fixturenames", ())
        for fixture, group in SHARED_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(pytest.mark.xdist_group(group))
    if hasattr(config, "workerinput"):
        items.sort(key=_long_ones_first)  # stable: each module keeps its own order


def _long_ones_first(item: pytest.Item) -> int:
    if item.get_closest_marker("xdist_group") is not None:
        return 0
    if item.get_closest_marker("real_client") is not None:
        return 1
    return 2 if item.get_closest_marker("unit") is None else 3


BIN_DIR = Path(sys.executable).parent
HELPER = BIN_DIR / "docker-credential-ecr-sso"

#: Variables removed besides every `AWS_*` and `ECR_SSO_*`: a browser or display would let
#: a sign-in flow open a real window; the D-Bus address would reach the user's real keyring;
#: the keyring backend choice, Docker daemon and registry auth file would leak the user's.
_REMOVED = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "BROWSER",
    "PYTHON_KEYRING_BACKEND",
    "DBUS_SESSION_BUS_ADDRESS",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "REGISTRY_AUTH_FILE",
    # CI set makes sign-in refuse to start: a test wanting that sets CI itself, so that a
    # run behaves alike on a developer's machine and in CI (realclients.IN_CI keeps the
    # runner's value for skip-or-fail).
    "CI",
)
_REMOVED_PREFIXES = ("AWS_", "ECR_SSO_")


@dataclass(frozen=True)
class Env:
    """The isolated locations of one test, all under its `tmp_path`."""

    home: Path
    aws_config: Path
    docker_config_dir: Path
    cache_dir: Path
    config_file: Path
    sso_cache_dir: Path

    @classmethod
    def under(cls, home: Path) -> Env:
        """The locations under `home`, laid out as `home_locations` lays them out."""
        return cls(
            home=home,
            aws_config=home / ".aws" / "config",
            docker_config_dir=home / ".docker",
            cache_dir=home / ".cache" / "ecr-sso",
            config_file=home / ".config" / "ecr-sso" / "config.toml",
            sso_cache_dir=home / ".aws" / "sso" / "cache",
        )

    def write_config(self, text: str) -> Path:
        """Write ecr-sso's own TOML config file, creating its folder."""
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(text)
        return self.config_file


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Env:
    """Isolate the test: HOME, XDG_*, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and
    DOCKER_CONFIG point under `tmp_path/"home"` (only HOME itself is created), and
    XDG_RUNTIME_DIR to `tmp_path/"run"` (created, 0700); every other `AWS_*` and
    `ECR_SSO_*` variable and the ones in `_REMOVED` are gone; IMDS is off; the venv's bin
    directory leads PATH; botocore's SSO token cache follows HOME."""
    for name in list(os.environ):
        if name.startswith(_REMOVED_PREFIXES) or name in _REMOVED:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    isolated = Env.under(home)
    # The runtime dir holds D-Bus sockets and containers' auth.json: never the user's.
    runtime_dir = tmp_path / "run"
    runtime_dir.mkdir(mode=0o700)
    variables = {
        **home_locations(home),
        "XDG_RUNTIME_DIR": str(runtime_dir),
        # botocore would otherwise probe the instance metadata service for credentials.
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PATH", f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    _point_botocore_at(isolated.sso_cache_dir, monkeypatch)
    return isolated


def home_locations(home: Path) -> dict[str, str]:
    """HOME and the locations the `env` fixture puts under it (the XDG folders, the AWS
    config and credentials files, Docker's config folder), all under `home`."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "DOCKER_CONFIG": str(home / ".docker"),
    }


def environ_at(home: Path, **overrides: str) -> dict[str, str]:
    """This test's environment (the stand-ins' endpoints included) moved to `home`, plus
    `overrides`; without XDG_RUNTIME_DIR, which stays in this test's tmp_path, private to
    root when the tests run as root."""
    environ = {**os.environ, **home_locations(home), **overrides}
    environ.pop("XDG_RUNTIME_DIR", None)
    return environ


def _point_botocore_at(sso_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore expands `~/.aws/sso/cache` once, when its modules are imported, so in this
    long-lived process an SSO profile would read the token cache of whichever HOME was set
    at import time (the real one, or an earlier test's). Re-point it for this test.

    Not yet imported means nothing to fix: the import will then expand this test's HOME,
    and every later test re-points it here. Subprocesses are unaffected either way."""
    for module_name, class_name in (
        ("botocore.credentials", "SSOProvider"),
        ("botocore.tokens", "SSOTokenProvider"),
    ):
        module = sys.modules.get(module_name)
        if module is not None:
            owner = getattr(module, class_name)
            monkeypatch.setattr(owner, "_SSO_TOKEN_CACHE_DIR", str(sso_cache_dir))


# -- the fake AWS --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def fake_aws_server() -> Iterator[FakeAWS]:
    """One FakeAWS server for the whole session; use the `aws` fixture in tests."""
    with FakeAWS() as fake:
        yield fake


@pytest.fixture
def aws(env: Env, fake_aws_server: FakeAWS, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAWS]:
    """The fake, freshly reset, reachable by botocore as SSO, SSO-OIDC, ECR and ECR Public.

    SSO-OIDC has no operations yet; pointing it here turns botocore's token-refresh attempt
    into a fast, recorded `Unknown` call instead of a connection to the real AWS. The test
    fails if the fake itself raised while serving it."""
    fake_aws_server.reset()
    for service in ("SSO", "SSO_OIDC", "ECR", "ECR_PUBLIC"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{service}", fake_aws_server.url)
    yield fake_aws_server
    assert not fake_aws_server.errors, "FakeAWS raised:\n" + "\n".join(fake_aws_server.errors)


Profiles = Mapping[str, tuple[str, str, str]]

DEFAULT_PROFILES: Profiles = {
    "dev": ("111111111111", "Developer", "eu-west-1"),
    "prod": ("222222222222", "ReadOnly", "us-east-1"),
}


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class SSO:
    """Signs in like `aws sso login` does, against the fake; see `login`."""

    env: Env
    aws: FakeAWS
    _sections: dict[str, str] = field(default_factory=dict)
    _extra: list[str] = field(default_factory=list)

    def cache_file(self, session: str) -> Path:
        """Where the AWS CLI and botocore keep the SSO token of an sso-session."""
        name = hashlib.sha1(session.encode(), usedforsecurity=False).hexdigest()
        return self.env.sso_cache_dir / f"{name}.json"

    def login(
        self,
        session: str = "team",
        *,
        start_url: str = "https://example.awsapps.com/start",
        sso_region: str = "eu-west-1",
        profiles: Profiles | None = None,
        expires_in: float = 8 * 3600,
        extra_config: str = "",
    ) -> str:
        """Write `[sso-session session]` and a `[profile NAME]` per entry of `profiles`
        (name → (account, role, region); default `DEFAULT_PROFILES`) to the AWS config,
        keeping sections of earlier logins, then append `extra_config` verbatim; seed the
        SSO token cache as `aws sso login` does, with a token valid for `expires_in`
        seconds and registered with the fake. Returns that token."""
        profiles = DEFAULT_PROFILES if profiles is None else profiles
        self._sections[f"sso-session {session}"] = (
            f"sso_start_url = {start_url}\n"
            f"sso_region = {sso_region}\n"
            "sso_registration_scopes = sso:account:access\n"
        )
        for name, (account, role, region) in profiles.items():
            self._sections[f"profile {name}"] = (
                f"sso_session = {session}\n"
                f"sso_account_id = {account}\n"
                f"sso_role_name = {role}\n"
                f"region = {region}\n"
                "output = json\n"
            )
        if extra_config:
            self._extra.append(extra_config)
        self.env.aws_config.parent.mkdir(parents=True, exist_ok=True)
        self.env.aws_config.write_text(
            "\n".join(f"[{header}]\n{body}" for header, body in self._sections.items())
            + "".join(f"\n{extra}\n" for extra in self._extra)
        )

        token = "aoa" + secrets.token_urlsafe(48)
        self.aws.add_sso_token(token)
        now = datetime.now(timezone.utc)
        self._write_cache(
            session,
            {
                "startUrl": start_url,
                "region": sso_region,
                "accessToken": token,
                "expiresAt": _utc(now + timedelta(seconds=expires_in)),
                "clientId": secrets.token_urlsafe(16),
                "clientSecret": secrets.token_urlsafe(64),
                "registrationExpiresAt": _utc(now + timedelta(days=90)),
                "refreshToken": "aor" + secrets.token_urlsafe(48),
            },
        )
        return token

    def expire(self, session: str = "team", *, refreshable: bool = True) -> None:
        """Make the cached token of `session` look expired an hour ago (the fake still
        accepts it: botocore must not send it). With `refreshable=False` the refresh
        token goes too: a person must sign in again."""
        path = self.cache_file(session)
        cached = json.loads(path.read_text())
        cached["expiresAt"] = _utc(datetime.now(timezone.utc) - timedelta(hours=1))
        if not refreshable:
            del cached["refreshToken"]
        self._write_cache(session, cached)

    def _write_cache(self, session: str, content: dict[str, str]) -> None:
        path = self.cache_file(session)
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0600 from creation, as the AWS CLI leaves it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(content, file)


@pytest.fixture
def sso(env: Env, aws: FakeAWS) -> SSO:
    """Signs in to AWS SSO the way `aws sso login` leaves things (see `SSO.login`)."""
    return SSO(env, aws)


# -- moto, for STS -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1 for the whole session; its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    # Port 0 binds an ephemeral port; the bound address is known once start() returns.
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sts(env: Env, moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's STS, emptied of earlier tests' state, reachable through AWS_ENDPOINT_URL_STS.
    Returns its URL."""
    reset = urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(reset, timeout=10):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_server)
    return moto_server


# -- the executable ------------------------------------------------------------------------


def environ_with(overrides: Mapping[str, str | None] | None) -> dict[str, str]:
    """The test's isolated environment plus `overrides`; a value of None removes it."""
    environ = dict(os.environ)
    for name, value in (overrides or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


class RunHelper(Protocol):
    def __call__(
        self,
        action: str,
        stdin: bytes | str = b"",
        env: Mapping[str, str | None] | None = None,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[bytes]: ...


@pytest.fixture
def run_helper(env: Env) -> RunHelper:
    """Runs the installed `docker-credential-ecr-sso ACTION` as Docker would: `stdin` fed
    in, stdout and stderr captured, the isolated environment plus `env` overrides (a value
    of None removes the variable). Never raises on a non-zero exit."""

    def run(
        action: str,
        stdin: bytes | str = b"",
        env: Mapping[str, str | None] | None = None,
        timeout: float = 30,
    ) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(HELPER), action],
            input=stdin.encode() if isinstance(stdin, str) else stdin,
            capture_output=True,
            env=environ_with(env),
            timeout=timeout,
            check=False,
        )

    return run

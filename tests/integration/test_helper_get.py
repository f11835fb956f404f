"""`docker-credential-ecr-sso get` end to end: the real executable, the fake AWS over HTTP.

Each test runs the installed script as docker would, so the profile rules, the cache, the
fast path and the error lines are all exercised through the same code users run.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import HELPER, SSO, Env, RunHelper
from fakeaws import (
    ECR_GET_AUTHORIZATION_TOKEN,
    ECR_PUBLIC_GET_AUTHORIZATION_TOKEN,
    GET_ROLE_CREDENTIALS,
    PUBLIC,
    FakeAWS,
)
from protocolcheck import answer, error_line

from credhelper.errors import CredentialsNotFound

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"
NOT_FOUND = (CredentialsNotFound.MESSAGE + "\n").encode()


def test_sso_profile_found_by_account(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()

    result = answer(run_helper("get", f"https://{DEV}/v2/\n"))

    assert result == {
        "ServerURL": f"https://{DEV}/v2/",
        "Username": "AWS",
        "Secret": FakeAWS.password("111111111111", "Developer"),
    }
    assert aws.count(GET_ROLE_CREDENTIALS) == 1
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    assert aws.calls[-1].region == "eu-west-1"


def test_second_get_is_a_cache_hit(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    first = answer(run_helper("get", DEV))

    second = answer(run_helper("get", DEV))

    assert second == first
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_cache_hit_imports_no_aws_or_keyring_code(sso: SSO, run_helper: RunHelper) -> None:
    """Runs the installed script itself under an interpreter that reports, at exit, every
    module the run imported."""
    sso.login()
    answer(run_helper("get", DEV))
    probe = (
        "import atexit, runpy, sys\n"
        "before = set(sys.modules)\n"
        "atexit.register(lambda: sys.stderr.write("
        "' '.join(sorted(set(sys.modules) - before))))\n"
        f"sys.argv = [{str(HELPER)!r}, 'get']\n"
        f"runpy.run_path({str(HELPER)!r}, run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], input=DEV.encode(), capture_output=True, check=False
    )

    assert result.returncode == 0
    assert json.loads(result.stdout)["Username"] == "AWS"
    imported = set(result.stderr.decode().split())
    assert "credhelper.helper.fastpath" in imported
    heavy = {"boto3", "botocore", "keyring", "platformdirs", "json", "credhelper.helper.usecases"}
    assert not imported & heavy, imported & heavy


def test_registry_map_beats_account_match(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login(
        profiles={
            "dev": ("111111111111", "Developer", "eu-west-1"),
            "dev-admin": ("111111111111", "Admin", "eu-west-1"),
        }
    )
    env.write_config(f'[registries]\n"{DEV}" = "dev-admin"\n')

    result = answer(run_helper("get", DEV))

    assert result["Secret"] == FakeAWS.password("111111111111", "Admin")


def test_several_account_matches_prefer_the_registry_region(
    sso: SSO, run_helper: RunHelper
) -> None:
    sso.login(
        profiles={
            "dev-us": ("111111111111", "UsRole", "us-east-1"),
            "dev-eu": ("111111111111", "EuRole", "eu-west-1"),
        }
    )

    result = answer(run_helper("get", DEV))

    assert result["Secret"] == FakeAWS.password("111111111111", "EuRole")


def test_ecr_sso_profile_wins_and_cross_account_passes_registry_ids(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()

    result = answer(run_helper("get", PROD, env={"ECR_SSO_PROFILE": "dev"}))

    # dev's role (account 111…) asks for a token to registry 222…: a cross-account pull.
    assert result["Secret"] == FakeAWS.password("222222222222", "Developer")
    ecr_call = next(c for c in aws.calls if c.operation == ECR_GET_AUTHORIZATION_TOKEN)
    assert ecr_call.params.get("registryIds") == ["222222222222"]


def test_profiles_get_separate_cache_entries(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    as_dev = answer(run_helper("get", PROD, env={"ECR_SSO_PROFILE": "dev"}))
    as_prod = answer(run_helper("get", PROD))
    again_as_dev = answer(run_helper("get", PROD, env={"ECR_SSO_PROFILE": "dev"}))

    assert as_dev["Secret"] != as_prod["Secret"]
    assert again_as_dev == as_dev
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


def test_config_change_takes_effect_on_the_next_get(
    env: Env, sso: SSO, run_helper: RunHelper
) -> None:
    sso.login()
    assert answer(run_helper("get", PROD))["Secret"] == FakeAWS.password("222222222222", "ReadOnly")
    env.write_config(f'[registries]\n"{PROD}" = "dev"\n')

    result = answer(run_helper("get", PROD))

    assert result["Secret"] == FakeAWS.password("222222222222", "Developer")


def test_alias_host_with_port(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    env.write_config(
        '[aliases."127.0.0.1:5000"]\naccount = "222222222222"\nregion = "us-east-1"\n'
        'profile = "dev"\n'
    )

    result = answer(run_helper("get", "http://127.0.0.1:5000"))

    assert result["ServerURL"] == "http://127.0.0.1:5000"
    assert result["Secret"] == FakeAWS.password("222222222222", "Developer")


def test_ecr_public(env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    env.write_config('[registries]\n"public.ecr.aws" = "dev"\n')

    result = answer(run_helper("get", "https://public.ecr.aws/amazonlinux"))

    assert result["Secret"] == FakeAWS.password(PUBLIC, "Developer")
    assert aws.count(ECR_PUBLIC_GET_AUTHORIZATION_TOKEN) == 1
    assert [c.region for c in aws.calls if c.operation == ECR_PUBLIC_GET_AUTHORIZATION_TOKEN] == [
        "us-east-1"
    ]


def test_default_chain_with_environment_keys(aws: FakeAWS, run_helper: RunHelper) -> None:
    keys = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY123456", "AWS_SECRET_ACCESS_KEY": "s" * 40}

    result = answer(run_helper("get", PROD, env=keys))

    assert result["Secret"] == FakeAWS.password("222222222222", "AKIAEXAMPLEKEY123456")


@pytest.mark.parametrize(
    "server_url",
    [
        "registry-1.docker.io",
        "https://index.docker.io/v1/",
        f"https://{DEV}@evil.example/v2/",
        f"{DEV}.evil.example",
        "",
    ],
)
def test_hosts_we_do_not_serve(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper, server_url: str
) -> None:
    sso.login()

    result = run_helper("get", server_url)

    if server_url:
        assert result.stdout == NOT_FOUND
    else:
        assert error_line(result) == "no credentials server URL"
    assert result.returncode == 1
    assert aws.calls == []


def test_expired_sso_login_names_the_fix(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    sso.expire()

    line = error_line(run_helper("get", DEV))

    assert "profile 'dev'" in line
    assert line.endswith("run `ecr-sso login dev`")
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 0


def test_no_credentials_at_all(aws: FakeAWS, run_helper: RunHelper) -> None:
    line = error_line(run_helper("get", DEV))

    assert line.startswith(f"no AWS credentials for {DEV}")


def test_access_denied_names_role_and_registry(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    aws.deny_ecr = {"111111111111"}

    line = error_line(run_helper("get", DEV))

    assert line.startswith("access denied:")
    assert "Developer" in line
    assert DEV in line


def test_forbidden_role(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    aws.forbid_role("111111111111", "Developer")

    line = error_line(run_helper("get", DEV))

    assert line.startswith("access denied:")
    assert "Developer" in line


def test_throttling(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    aws.throttle = 10

    line = error_line(run_helper("get", DEV))

    assert "throttling" in line
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2  # bounded retries, then give up


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP port that accepts connections and never answers: a black-holed AWS."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_unreachable_aws_fails_within_bounded_time(
    sso: SSO, run_helper: RunHelper, silent_endpoint: str
) -> None:
    sso.login()
    started = time.monotonic()

    line = error_line(run_helper("get", DEV, env={"AWS_ENDPOINT_URL_ECR": silent_endpoint}))

    # A hang guard, not a speed measurement: two attempts with a 4 s read timeout each.
    assert time.monotonic() - started < 20
    assert line.startswith("cannot reach AWS")


def test_refused_connection(sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()

    line = error_line(
        run_helper("get", DEV, env={"AWS_ENDPOINT_URL_ECR": f"http://127.0.0.1:{port}"})
    )

    assert line.startswith("cannot reach AWS")


def test_malformed_config_is_one_line(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    env.write_config("[registries\n")

    line = error_line(run_helper("get", DEV))

    assert str(env.config_file) in line
    assert "not valid TOML" in line


def test_token_expiring_soon_is_refetched(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    aws.token_ttl = 20 * 60  # inside the 30-minute margin: usable, but never cached
    answer(run_helper("get", DEV))
    answer(run_helper("get", DEV))

    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


def test_corrupt_cache_file_is_replaced(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    answer(run_helper("get", DEV))
    (token_file,) = (env.cache_dir / "tokens").iterdir()
    token_file.write_bytes(b"\x00garbage")

    result = answer(run_helper("get", DEV))

    assert result["Secret"] == FakeAWS.password("111111111111", "Developer")
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2
    assert token_file.read_bytes().startswith(b"ecr-sso-token 1\n")


def test_cache_none_always_asks_aws(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    for _ in range(2):
        answer(run_helper("get", DEV, env={"ECR_SSO_CACHE": "none"}))

    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


def test_cache_files_are_private(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login()
    answer(run_helper("get", DEV))

    assert env.cache_dir.stat().st_mode & 0o777 == 0o700
    for path in env.cache_dir.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert path.stat().st_mode & 0o777 == expected, path


def test_concurrent_cold_gets_make_one_token_call(
    env: Env, sso: SSO, aws: FakeAWS, tmp_path: Path
) -> None:
    sso.login()
    aws.ecr_delay = 0.5  # AWS latency: every process reaches the lock while the first waits
    request = tmp_path / "request"
    request.write_text(DEV)
    # Each reads its request from the file, so all 32 run at once (feeding pipes with one
    # communicate() after another would run them one at a time).
    procs = []
    for _ in range(32):
        with request.open("rb") as stdin:
            procs.append(
                subprocess.Popen(
                    [str(HELPER), "get"],
                    stdin=stdin,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=dict(os.environ),
                )
            )
    outputs = [p.communicate(timeout=60) for p in procs]

    assert [p.returncode for p in procs] == [0] * 32, outputs[0]
    assert {out for out, _ in outputs} == {outputs[0][0]}
    assert json.loads(outputs[0][0])["Secret"] == FakeAWS.password("111111111111", "Developer")
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    (token_file,) = (env.cache_dir / "tokens").iterdir()
    assert token_file.read_bytes().startswith(b"ecr-sso-token 1\n")


def test_debug_log_never_holds_secrets(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso_token = sso.login()
    debug = {"ECR_SSO_LOG": "debug"}
    answer(run_helper("get", DEV, env=debug))
    aws.deny_ecr = {"222222222222"}
    error_line(run_helper("get", PROD, env=debug))

    logs = list((env.home / ".local" / "state").rglob("*.log"))
    text = "".join(p.read_text() for p in logs)
    assert "fetched a token for ecr.aws.111111111111.eu-west-1" in text
    for secret in (sso_token, FakeAWS.password("111111111111", "Developer")):
        assert secret not in text
    issued = [c for c in aws.calls if c.operation == GET_ROLE_CREDENTIALS]
    assert issued

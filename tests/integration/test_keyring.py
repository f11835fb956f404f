"""The OS keyring end to end: the real executable against a real Secret Service.

`store` for a registry that is not ECR keeps the password in the keyring (the helper can be
Docker's `credsStore`), and `cache = "keyring"` keeps ECR tokens there instead of in files.
Every secret here carries a random part, and the whole temporary tree is searched for it,
so "in the keyring and nowhere else" is checked, not assumed.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from conftest import SSO, Env, RunHelper
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from keyrings import SecretService
from protocolcheck import answer, error_line, silent_success

from credhelper.errors import CredentialsNotFound

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
DEV_PASSWORD = FakeAWS.password("111111111111", "Developer")
OTHER = "registry.example.com:5000"
NOT_FOUND = (CredentialsNotFound.MESSAGE + "\n").encode()
FAIL_BACKEND = "keyring.backends.fail.Keyring"


def files_holding(root: Path, needle: str) -> list[Path]:
    """Every regular file under `root` whose bytes contain `needle` (ASCII, so any text
    encoding or JSON escaping of the surrounding secret still contains it)."""
    raw = needle.encode()
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink() and raw in path.read_bytes()
    ]


def store_request(server_url: str, username: str, secret: str) -> str:
    return json.dumps({"ServerURL": server_url, "Username": username, "Secret": secret})


def tricky_secret() -> tuple[str, str]:
    """A secret with JSON-hostile and non-ASCII characters, and its random ASCII core."""
    core = secrets.token_hex(16)
    return f'"quoted" back\\slash wörd 🔑 {core}', core


# -- store / get / list / erase for registries that are not ECR ------------------------------


@pytest.mark.real_client
def test_store_for_another_registry_lives_in_the_keyring_only(
    tmp_path: Path, secret_service: SecretService, run_helper: RunHelper
) -> None:
    secret, core = tricky_secret()

    silent_success(run_helper("store", store_request(OTHER, "alice", secret)))

    assert answer(run_helper("get", OTHER)) == {
        "ServerURL": OTHER,
        "Username": "alice",
        "Secret": secret,
    }
    assert len(secret_service.holding(secret)) == 1, "exactly one keyring item holds it"
    # gnome-keyring wrote its (encrypted) files inside the test's home, not a real one.
    assert any(secret_service.keyring_dir.glob("*.keyring"))
    assert secret_service.keyring_dir.is_relative_to(tmp_path)
    assert files_holding(tmp_path, core) == []


@pytest.mark.real_client
def test_list_and_erase_another_registry(
    secret_service: SecretService, run_helper: RunHelper
) -> None:
    secret, _ = tricky_secret()
    silent_success(run_helper("store", store_request(OTHER, "alice", secret)))
    assert answer(run_helper("list")) == {OTHER: "alice"}

    silent_success(run_helper("erase", OTHER))

    assert run_helper("get", OTHER).stdout == NOT_FOUND
    assert run_helper("get", OTHER).returncode == 1
    assert secret_service.holding(secret) == []
    assert answer(run_helper("list")) == {}
    silent_success(run_helper("erase", OTHER))  # nothing left to erase is not an error


@pytest.mark.real_client
def test_store_again_replaces_user_and_secret(
    secret_service: SecretService, run_helper: RunHelper
) -> None:
    old, _ = tricky_secret()
    new, _ = tricky_secret()
    silent_success(run_helper("store", store_request(OTHER, "alice", old)))

    silent_success(run_helper("store", store_request(OTHER, "bob", new)))

    assert answer(run_helper("get", OTHER))["Username"] == "bob"
    assert answer(run_helper("get", OTHER))["Secret"] == new
    assert secret_service.holding(old) == []
    assert answer(run_helper("list")) == {OTHER: "bob"}


# -- cache = "keyring" -------------------------------------------------------------------------


@pytest.mark.real_client
def test_keyring_cache_holds_the_token_instead_of_a_file(
    env: Env, tmp_path: Path, secret_service: SecretService, sso: SSO, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config('cache = "keyring"\n')

    result = answer(run_helper("get", DEV))

    assert result["Secret"] == DEV_PASSWORD
    assert len(secret_service.holding(DEV_PASSWORD)) == 1
    assert files_holding(tmp_path, DEV_PASSWORD) == []


@pytest.mark.real_client
def test_keyring_cache_serves_the_second_get(
    env: Env, secret_service: SecretService, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config('cache = "keyring"\n')
    first = answer(run_helper("get", DEV))

    second = answer(run_helper("get", DEV))

    assert second == first
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


@pytest.mark.real_client
def test_erase_removes_a_token_from_the_keyring_cache(
    env: Env, secret_service: SecretService, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config('cache = "keyring"\n')
    answer(run_helper("get", DEV))

    silent_success(run_helper("erase", DEV))

    assert secret_service.holding(DEV_PASSWORD) == []
    assert answer(run_helper("get", DEV))["Secret"] == DEV_PASSWORD
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


@pytest.mark.real_client
def test_list_shows_hosts_with_tokens_in_the_keyring_cache(
    env: Env, secret_service: SecretService, sso: SSO, run_helper: RunHelper
) -> None:
    """README: `list` shows "the hosts with cached tokens", whichever the cache backend."""
    sso.login()
    env.write_config('cache = "keyring"\n')
    answer(run_helper("get", DEV))  # found by account match: no [registries] entry

    assert answer(run_helper("list")) == {DEV: "AWS"}


# -- no usable keyring ---------------------------------------------------------------------------

NO_KEYRING = [
    pytest.param({"PYTHON_KEYRING_BACKEND": FAIL_BACKEND}, id="fail-backend"),
    pytest.param({}, id="no-dbus"),  # the env fixture already removed the bus address
]


@pytest.mark.parametrize("environ", NO_KEYRING)
def test_store_without_a_keyring_is_one_line(
    run_helper: RunHelper, environ: dict[str, str]
) -> None:
    secret, core = tricky_secret()

    line = error_line(run_helper("store", store_request(OTHER, "alice", secret), env=environ))

    assert "keyring" in line
    assert core not in line
    # Nothing half-stored: the registry is neither listed nor found.
    assert answer(run_helper("list", env=environ)) == {}
    assert run_helper("get", OTHER, env=environ).stdout == NOT_FOUND


def test_store_without_a_keyring_does_not_point_at_the_cache_setting(
    run_helper: RunHelper,
) -> None:
    """`cache = "file"` moves ECR tokens out of the keyring; it cannot make `docker login`
    to another registry work, so suggesting it sends the user the wrong way."""
    secret, _ = tricky_secret()
    environ = {"PYTHON_KEYRING_BACKEND": FAIL_BACKEND}

    line = error_line(run_helper("store", store_request(OTHER, "alice", secret), env=environ))

    assert 'cache = "file"' not in line


@pytest.mark.parametrize("environ", NO_KEYRING)
def test_ecr_get_with_the_file_cache_needs_no_keyring(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper, environ: dict[str, str]
) -> None:
    sso.login()

    cold = answer(run_helper("get", DEV, env=environ))
    hit = answer(run_helper("get", DEV, env=environ))

    assert cold["Secret"] == hit["Secret"] == DEV_PASSWORD
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_keyring_cache_without_a_keyring_names_the_fix(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config('cache = "keyring"\n')

    line = error_line(run_helper("get", DEV, env={"PYTHON_KEYRING_BACKEND": FAIL_BACKEND}))

    assert "keyring" in line
    assert 'cache = "file"' in line

"""docker-py's credential store client against the real executable.

docker-py (`docker.credentials.Store`) is how Python tools — docker compose v1, many CI
scripts — reach a credential helper: it finds `docker-credential-ecr-sso` on PATH (the env
fixture puts the venv's bin first), reads only stdout, turns `credentials not found in
native keychain` into `CredentialsNotFound` and any other failure into `StoreError` with
our line in its message. These tests hold us to that contract.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from conftest import HELPER, SSO, Env
from docker.credentials import Store
from docker.credentials.errors import CredentialsNotFound, StoreError
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from keyrings import SecretService

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"
DEV_PASSWORD = FakeAWS.password("111111111111", "Developer")


@pytest.fixture
def store(env: Env, capfd: pytest.CaptureFixture[str]) -> Iterator[Store]:
    """docker-py's client for our helper, with this test's isolated environment. At the
    end, nothing the helper ran may have written to stderr (docker-py does not capture it,
    so a traceback would land in the user's terminal)."""
    client = Store("ecr-sso", environment=dict(os.environ))
    assert client.exe == str(HELPER)
    yield client
    assert capfd.readouterr().err == ""


def test_get_for_an_sso_mapped_registry(sso: SSO, store: Store) -> None:
    sso.login()

    assert store.get(DEV) == {"ServerURL": DEV, "Username": "AWS", "Secret": DEV_PASSWORD}


def test_get_for_a_host_we_do_not_serve_is_not_found(sso: SSO, aws: FakeAWS, store: Store) -> None:
    sso.login()

    with pytest.raises(CredentialsNotFound):
        store.get("registry-1.docker.io")
    assert aws.calls == []


def test_stored_aws_token_is_served_without_asking_aws(
    sso: SSO, aws: FakeAWS, store: Store
) -> None:
    sso.login()
    given = "eyJ" + secrets.token_urlsafe(48)

    store.store(DEV, "AWS", given)

    assert store.get(DEV) == {"ServerURL": DEV, "Username": "AWS", "Secret": given}
    assert aws.calls == []


def test_store_with_another_username_is_accepted_not_cached(
    sso: SSO, aws: FakeAWS, store: Store
) -> None:
    """`docker login` to an ECR host must never fail; what it gave is not a token we can
    use, so `get` still asks AWS."""
    sso.login()

    store.store(DEV, "alice", "hunter2-" + secrets.token_hex(8))

    assert store.get(DEV)["Secret"] == DEV_PASSWORD
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_erase_forgets_the_token_and_twice_is_fine(sso: SSO, aws: FakeAWS, store: Store) -> None:
    sso.login()
    store.store(DEV, "AWS", "eyJ" + secrets.token_urlsafe(48))

    store.erase(DEV)
    store.erase(DEV)

    assert store.get(DEV)["Secret"] == DEV_PASSWORD
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_list_shows_mapped_and_cached_registries(env: Env, sso: SSO, store: Store) -> None:
    sso.login()
    env.write_config(f'[registries]\n"{PROD}" = "prod"\n')
    store.get(DEV)  # served by account match, so known only through its cached token

    known = store.list()

    assert known[PROD] == "AWS"
    assert known[DEV] == "AWS"


def test_expired_login_raises_store_error_with_the_fix(sso: SSO, store: Store) -> None:
    sso.login()
    sso.expire()

    with pytest.raises(StoreError) as raised:
        store.get(DEV)

    assert type(raised.value) is StoreError, "not CredentialsNotFound: docker must not go on"
    message = str(raised.value)
    assert "profile 'dev'" in message
    assert "run `ecr-sso login dev`" in message


@pytest.mark.real_client
def test_another_registry_through_the_keyring(secret_service: SecretService, store: Store) -> None:
    server, secret = "registry.example.com:5000", 'pä"ss ' + secrets.token_hex(16)

    store.store(server, "alice", secret)

    assert store.get(server) == {"ServerURL": server, "Username": "alice", "Secret": secret}
    assert store.list() == {server: "alice"}
    assert len(secret_service.holding(secret)) == 1
    store.erase(server)
    with pytest.raises(CredentialsNotFound):
        store.get(server)
    store.erase(server)

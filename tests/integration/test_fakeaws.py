"""The fake AWS speaks the wire format real clients expect: driven here by real botocore
clients (never by our product), through the same `AWS_ENDPOINT_URL_*` variables."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, TokenRetrievalError, UnauthorizedSSOTokenError
from fakeaws import (
    ECR_GET_AUTHORIZATION_TOKEN,
    ECR_PUBLIC_GET_AUTHORIZATION_TOKEN,
    GET_ROLE_CREDENTIALS,
    UNKNOWN,
    UNKNOWN_CALLER_ACCOUNT,
    FakeAWS,
)

if TYPE_CHECKING:
    from conftest import SSO, Env

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})

#: What a developer's shell might hold; the `env` fixture must hide all of it. Set for the
#: whole module (before `env` runs), so every test here also proves the isolation: any of
#: these leaking into botocore would break it (an unknown profile, bogus keys).
_POLLUTION = {
    "AWS_PROFILE": "polluted-profile",
    "AWS_DEFAULT_PROFILE": "polluted-profile",
    "AWS_ACCESS_KEY_ID": "AKIAPOLLUTEDPOLLUTED",
    "AWS_SECRET_ACCESS_KEY": "polluted",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "ECR_SSO_CONFIG": "/polluted/config.toml",
    "DISPLAY": ":99",
    "BROWSER": "polluted-browser",
    "HOME": "/polluted-home",
    "XDG_CACHE_HOME": "/polluted-home/.cache",
}


@pytest.fixture(scope="module", autouse=True)
def _polluted_environ() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in _POLLUTION.items():
            patch.setenv(name, value)
        yield


def _token_password(authorization_token: str) -> str:
    user, _, password = base64.b64decode(authorization_token).decode().partition(":")
    assert user == "AWS"
    return password


def _session(profile: str | None = None) -> Any:
    # A new session per use: botocore reads the environment and config when it is made.
    return botocore.session.Session(profile=profile)


def test_env_hides_the_callers_environment(env: Env, tmp_path: Path) -> None:
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_ENDPOINT_URL"):
        assert name not in os.environ
    assert not [name for name in os.environ if name.startswith("ECR_SSO_")]
    assert "DISPLAY" not in os.environ
    assert "BROWSER" not in os.environ
    assert os.environ["HOME"] == str(tmp_path / "home") == str(env.home)
    assert Path("~").expanduser() == env.home
    assert os.environ["XDG_CACHE_HOME"] == str(env.home / ".cache")
    assert env.cache_dir == env.home / ".cache" / "ecr-sso"
    assert env.config_file == env.home / ".config" / "ecr-sso" / "config.toml"
    assert os.environ["AWS_CONFIG_FILE"] == str(env.aws_config)
    assert os.environ["DOCKER_CONFIG"] == str(env.docker_config_dir)
    assert os.environ["AWS_EC2_METADATA_DISABLED"] == "true"
    assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env.write_config("[registries]\n").read_text() == "[registries]\n"


def test_sso_login_writes_what_aws_sso_login_leaves(sso: SSO, env: Env) -> None:
    token = sso.login(session="team")
    cache_file = env.sso_cache_dir / "d25187dc137f35c88bc80ec8c3ffbdb17b5eb873.json"
    assert sso.cache_file("team") == cache_file  # sha1("team"), as the AWS CLI names it
    cached = json.loads(cache_file.read_text())
    assert cached["accessToken"] == token
    assert cached["startUrl"] == "https://example.awsapps.com/start"
    assert cached["region"] == "eu-west-1"
    expires_at = datetime.strptime(cached["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
    hours_left = (expires_at.replace(tzinfo=timezone.utc) - datetime.now(timezone.utc)) / 3600
    assert 7.9 < hours_left.total_seconds() <= 8
    assert {"clientId", "clientSecret", "registrationExpiresAt", "refreshToken"} <= cached.keys()
    assert stat.S_IMODE(cache_file.stat().st_mode) == 0o600
    config = env.aws_config.read_text()
    assert "[sso-session team]\n" in config
    assert "[profile dev]\nsso_session = team\nsso_account_id = 111111111111\n" in config


def test_sso_profile_gets_role_credentials_then_an_ecr_password(sso: SSO, aws: FakeAWS) -> None:
    token = sso.login()
    session = _session("dev")
    credentials = session.get_credentials().get_frozen_credentials()
    assert credentials.access_key.startswith("ASIA")
    assert len(credentials.access_key) == 20
    assert aws.calls[-1].params == {
        "account_id": "111111111111",
        "role_name": "Developer",
        "bearer": token,
    }

    ecr = session.create_client("ecr", config=NO_RETRIES)
    before = time.time()
    answer = ecr.get_authorization_token(registryIds=["333333333333"])
    (data,) = answer["authorizationData"]
    assert _token_password(data["authorizationToken"]) == FakeAWS.password(
        "333333333333", "Developer"
    )
    assert data["proxyEndpoint"] == "https://333333333333.dkr.ecr.eu-west-1.amazonaws.com"
    assert before + 12 * 3600 - 1 < data["expiresAt"].timestamp() < time.time() + 12 * 3600 + 1

    call = aws.calls[-1]
    assert call.operation == ECR_GET_AUTHORIZATION_TOKEN
    assert call.akid == credentials.access_key
    assert call.region == "eu-west-1"
    assert call.params == {"registryIds": ["333333333333"]}
    assert aws.caller(credentials.access_key) == ("111111111111", "Developer")
    assert aws.count(GET_ROLE_CREDENTIALS) == 1
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_ecr_defaults_to_the_callers_account_and_honours_token_ttl(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    aws.token_ttl = 60
    ecr = _session("prod").create_client("ecr", config=NO_RETRIES)
    (data,) = ecr.get_authorization_token()["authorizationData"]
    assert _token_password(data["authorizationToken"]) == FakeAWS.password(
        "222222222222", "ReadOnly"
    )
    assert data["proxyEndpoint"] == "https://222222222222.dkr.ecr.us-east-1.amazonaws.com"
    assert data["expiresAt"].timestamp() < time.time() + 61


def test_environment_keys_are_an_unknown_caller(
    aws: FakeAWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTKEY01")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    ecr = _session().create_client("ecr", config=NO_RETRIES)
    (data,) = ecr.get_authorization_token()["authorizationData"]
    assert _token_password(data["authorizationToken"]) == FakeAWS.password(
        UNKNOWN_CALLER_ACCOUNT, "AKIAENVIRONMENTKEY01"
    )
    assert aws.calls[-1].region == "ap-south-1"


def test_ecr_public_password(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    public = _session("prod").create_client("ecr-public", region_name="us-east-1")
    data = public.get_authorization_token()["authorizationData"]
    assert _token_password(data["authorizationToken"]) == FakeAWS.password("public", "ReadOnly")
    assert data["expiresAt"].timestamp() > time.time() + 11 * 3600
    assert aws.count(ECR_PUBLIC_GET_AUTHORIZATION_TOKEN) == 1
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 0


def test_ecr_public_exists_only_in_us_east_1(sso: SSO) -> None:
    sso.login()
    public = _session("dev").create_client("ecr-public", config=NO_RETRIES)
    with pytest.raises(ClientError) as raised:
        public.get_authorization_token()
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_unknown_sso_token_is_unauthorized(sso: SSO, aws: FakeAWS) -> None:
    token = sso.login()
    aws.revoke_sso_token(token)
    with pytest.raises(UnauthorizedSSOTokenError):
        _session("dev").get_credentials().get_frozen_credentials()

    client = _session().create_client("sso", region_name="eu-west-1", config=NO_RETRIES)
    with pytest.raises(client.exceptions.UnauthorizedException) as raised:
        client.get_role_credentials(
            roleName="Developer", accountId="111111111111", accessToken=token
        )
    assert raised.value.response["Error"]["Message"] == "Session token not found or invalid"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401
    assert aws.count(GET_ROLE_CREDENTIALS) == 2


def test_forbidden_role(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    aws.forbid_role("111111111111", "Developer")
    with pytest.raises(ClientError) as raised:
        _session("dev").get_credentials().get_frozen_credentials()
    assert raised.value.response["Error"]["Code"] == "ForbiddenException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # Another role of the same sign-in is still allowed.
    assert _session("prod").get_credentials().get_frozen_credentials().access_key


def test_expired_cached_token_is_not_sent(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    sso.expire()
    with pytest.raises(TokenRetrievalError):
        _session("dev").get_credentials().get_frozen_credentials()
    assert aws.count(GET_ROLE_CREDENTIALS) == 0
    # botocore tried to refresh through SSO-OIDC, which the fake does not serve yet.
    assert [(call.operation, call.params["path"]) for call in aws.calls] == [(UNKNOWN, "/token")]


def test_deny_ecr(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    aws.deny_ecr.add("333333333333")
    ecr = _session("dev").create_client("ecr", config=NO_RETRIES)
    with pytest.raises(ClientError) as raised:
        ecr.get_authorization_token(registryIds=["333333333333"])
    error = raised.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert "arn:aws:sts::111111111111:assumed-role/Developer/" in error["Message"]
    assert ecr.get_authorization_token(registryIds=["444444444444"])["authorizationData"]


def test_throttle_answers_the_next_n_calls(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    aws.throttle = 1
    ecr = _session("dev").create_client("ecr", config=NO_RETRIES)
    with pytest.raises(ClientError) as raised:
        ecr.get_authorization_token()
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert ecr.get_authorization_token()["authorizationData"]
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


def test_issued_keys_need_their_session_token(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    credentials = _session("dev").get_credentials().get_frozen_credentials()
    ecr = _session().create_client(
        "ecr",
        region_name="eu-west-1",
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
        aws_session_token="not-the-issued-one",
        config=NO_RETRIES,
    )
    with pytest.raises(ClientError) as raised:
        ecr.get_authorization_token()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_ecr_delay(sso: SSO, aws: FakeAWS) -> None:
    sso.login()
    ecr = _session("dev").create_client("ecr", config=NO_RETRIES)
    aws.ecr_delay = 0.2
    started = time.monotonic()
    ecr.get_authorization_token()
    assert time.monotonic() - started >= 0.2


def test_unknown_operations_are_loud(aws: FakeAWS) -> None:
    request = urllib.request.Request(
        aws.url + "/",
        data=b"{}",
        headers={"X-Amz-Target": "AmazonEC2ContainerRegistry_V20150921.DescribeImages"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 400
    assert "DescribeImages" in json.loads(raised.value.read())["message"]

    oidc = _session().create_client("sso-oidc", region_name="eu-west-1", config=NO_RETRIES)
    with pytest.raises(ClientError) as oidc_raised:
        oidc.register_client(clientName="ecr-sso", clientType="public")
    assert oidc_raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert aws.count(UNKNOWN) == 2


def test_reset_forgets_calls_tokens_and_knobs(sso: SSO, aws: FakeAWS) -> None:
    token = sso.login()
    _session("dev").get_credentials().get_frozen_credentials()
    aws.deny_ecr.add("111111111111")
    aws.throttle, aws.ecr_delay, aws.token_ttl = 3, 1.0, 5.0
    aws.reset()
    assert aws.calls == []
    assert (aws.deny_ecr, aws.throttle, aws.ecr_delay, aws.token_ttl) == (set(), 0, 0.0, 43200)
    client = _session().create_client("sso", region_name="eu-west-1", config=NO_RETRIES)
    with pytest.raises(client.exceptions.UnauthorizedException):
        client.get_role_credentials(roleName="Developer", accountId="1" * 12, accessToken=token)


def test_sts_fixture_reaches_moto(sts: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOTOMOTOMOTO0001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    client = _session().create_client("sts", region_name="us-east-1", config=NO_RETRIES)
    assert client.meta.endpoint_url == sts
    assert client.get_caller_identity()["Account"] == "123456789012"

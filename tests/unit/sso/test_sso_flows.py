"""Sign-in's pure parts: the authorize URL, the login file in the AWS CLI's format, login
states, and which SSO session a profile signs in with."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from conftest import Env
from fakeoidc import token_file, write_sso_config

from credhelper.aws import config as aws_config
from credhelper.aws.config import NotSso, SsoSession
from credhelper.errors import ConfigError
from credhelper.paths import Paths
from credhelper.sso import flows as sso
from credhelper.sso import logins

TEAM = SsoSession("team", "https://example.awsapps.com/start", "eu-west-1")


def test_authorize_url_is_the_aws_clis() -> None:
    url = sso.authorize_url(
        "https://oidc.eu-west-1.amazonaws.com/",
        client_id="id",
        redirect_uri="http://127.0.0.1:4711/oauth/callback",
        state="st",
        scopes=["sso:account:access", "codewhisperer:completions"],
        challenge="ch",
    )

    assert url == (
        "https://oidc.eu-west-1.amazonaws.com/authorize?response_type=code&client_id=id"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A4711%2Foauth%2Fcallback&state=st"
        "&code_challenge_method=S256"
        "&scopes=sso%3Aaccount%3Aaccess%20codewhisperer%3Acompletions&code_challenge=ch"
    )


def test_login_file_round_trip_and_botocore_reads_it(env: Env) -> None:
    from botocore.utils import JSONFileCache, SSOTokenLoader

    registration = logins.Registration("cid", "csecret", 2_000_000_000.0)
    login = logins.Login("token-1", 1_900_000_000.0, registration, "refresh-1")

    path = logins.write_login(paths(), TEAM, login)

    assert path == str(token_file(env, "team"))
    # What the file says of its session comes back too.
    assert logins.read_login(paths(), TEAM) == replace(
        login, start_url=TEAM.start_url, region=TEAM.region
    )
    loaded = SSOTokenLoader(JSONFileCache(str(env.sso_cache_dir)))(
        TEAM.start_url, session_name="team"
    )
    assert loaded["accessToken"] == "token-1"
    assert loaded["expiresAt"] == "2030-03-17T17:46:40Z"
    assert "token-1" not in repr(login)
    assert "csecret" not in repr(login)
    assert logins.delete_login(paths(), TEAM) is True
    assert logins.delete_login(paths(), TEAM) is False


def test_login_states() -> None:
    now = 1_000_000.0
    registration = logins.Registration("c", "s", now + 10)
    assert logins.Login("t", now + 120).valid(now)
    assert not logins.Login("t", now + 30).valid(now), "less than a minute left is expired"
    assert logins.Login("t", now - 1, registration, "r").refreshable(now)
    assert not logins.Login("t", now - 1, registration, None).refreshable(now)
    assert not logins.Login("t", now - 1, registration, "r").refreshable(now + 11)


def paths() -> Paths:
    return Paths.from_environ(os.environ)


def test_sessions_of_profiles(env: Env) -> None:
    write_sso_config(
        env,
        extra=(
            "\n[profile chained]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = dev\n"
            "\n[profile legacy]\nsso_start_url = https://l.awsapps.com/start\n"
            "sso_region = us-east-1\n"
            "\n[profile keys]\naws_access_key_id = AKIA\n"
            "\n[profile loop]\nsource_profile = loop\n"
            "\n[sso-session broken]\nsso_region = eu-west-1\n"
        ),
    )
    config = aws_config.read(paths().aws_config_file)
    team = config.session("team")

    assert team.scopes == ("sso:account:access",)
    assert config.session_of("chained") == team
    assert config.session_of("legacy").legacy
    assert config.session_of("legacy").cache_name == "https://l.awsapps.com/start"
    with pytest.raises(NotSso):
        config.session_of("keys")
    with pytest.raises(NotSso):
        config.session_of("loop")
    with pytest.raises(ConfigError, match="needs sso_start_url and sso_region"):
        config.session("broken")
    assert config.profiles_of(team) == ["dev", "prod", "chained"]
    assert [s.cache_name for s in config.all_sessions()] == [
        "team",
        "https://l.awsapps.com/start",
    ]

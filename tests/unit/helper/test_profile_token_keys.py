"""Which cached token keys belong to a profile."""

from __future__ import annotations

from credhelper.helper.usecases import profile_token_keys
from credhelper.sso import flows as sso

TEAM = sso.SsoSession("team", "https://example.awsapps.com/start", "eu-west-1")


def test_profile_token_keys_keep_similar_names_apart() -> None:
    keys = [
        "dev.0123abcd@ecr.111111111111.eu-west-1",
        "dev.x.0123abcd@ecr.111111111111.eu-west-1",
        "dev.99999999@ecr-public",
        "~chain-0123456789abcdef@ecr-public",
        "devx.0123abcd@ecr-public",
    ]

    assert profile_token_keys(keys, "dev") == [keys[0], keys[2]]
    assert profile_token_keys(keys, "dev.x") == [keys[1]]

"""The protocol actions besides a plain `get`, and hostile input, through the real executable."""

from __future__ import annotations

import json
import os
import random

import pytest
from conftest import SSO, Env, RunHelper
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from protocolcheck import error_line

from credhelper.errors import CredentialsNotFound

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
NOT_FOUND = (CredentialsNotFound.MESSAGE + "\n").encode()


def store_payload(server_url: str, username: str, secret: str) -> str:
    return json.dumps({"ServerURL": server_url, "Username": username, "Secret": secret})


def test_version(run_helper: RunHelper) -> None:
    from credhelper.version import version

    result = run_helper("version")

    assert result.returncode == 0
    assert result.stdout.decode() == f"docker-credential-ecr-sso (ecr-sso) {version()}\n"


@pytest.mark.parametrize("action", ["", "fetch", "GET"])
def test_unknown_action_prints_usage(run_helper: RunHelper, action: str) -> None:
    result = run_helper(action)

    assert result.returncode == 1
    assert result.stdout == b"Usage: docker-credential-ecr-sso <get|store|erase|list|version>\n"
    assert result.stderr == b""


def test_store_of_an_aws_token_is_served_without_aws(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()

    stored = run_helper("store", store_payload(DEV, "AWS", "from-docker-login"))
    got = run_helper("get", DEV)

    assert stored.returncode == 0
    assert stored.stdout == b""
    assert json.loads(got.stdout)["Secret"] == "from-docker-login"
    assert aws.calls == []


def test_store_for_ecr_never_fails(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    """`docker login` to ECR must succeed whatever the username; only `AWS` is cached."""
    sso.login()

    stored = run_helper("store", store_payload(DEV, "someone", "not-an-ecr-token"))
    got = run_helper("get", DEV)

    assert stored.returncode == 0
    assert json.loads(got.stdout)["Secret"] == FakeAWS.password("111111111111", "Developer")


def test_erase_then_get_asks_aws_again(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()
    run_helper("get", DEV)

    first = run_helper("erase", DEV)
    second = run_helper("erase", DEV)
    run_helper("get", DEV)

    assert (first.returncode, second.returncode) == (0, 0)
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


def test_erase_of_an_unknown_host_succeeds(run_helper: RunHelper) -> None:
    result = run_helper("erase", "registry.example.com")

    assert result.returncode == 0
    assert result.stdout == b""


def test_list_shows_map_aliases_and_cached_hosts_without_aws(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config(
        '[registries]\n"222222222222.dkr.ecr.us-east-1.amazonaws.com" = "prod"\n'
        '[aliases."mirror.example.internal"]\naccount = "111111111111"\nregion = "eu-west-1"\n'
    )
    run_helper("get", DEV)
    calls_before = len(aws.calls)

    result = run_helper("list")

    assert result.returncode == 0
    assert json.loads(result.stdout) == {
        DEV: "AWS",
        "222222222222.dkr.ecr.us-east-1.amazonaws.com": "AWS",
        "mirror.example.internal": "AWS",
    }
    assert len(aws.calls) == calls_before


def test_list_is_empty_on_a_new_machine(run_helper: RunHelper) -> None:
    result = run_helper("list")

    assert (result.returncode, result.stdout) == (0, b"{}\n")


def test_changing_ecr_sso_profile_bypasses_the_route(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    """The fast path must not serve dev's token once ECR_SSO_PROFILE names prod."""
    sso.login()
    as_dev = json.loads(run_helper("get", DEV).stdout)

    as_prod = json.loads(run_helper("get", DEV, env={"ECR_SSO_PROFILE": "prod"}).stdout)

    assert as_dev["Secret"] == FakeAWS.password("111111111111", "Developer")
    assert as_prod["Secret"] == FakeAWS.password("111111111111", "ReadOnly")


def test_aws_config_edit_bypasses_the_route(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    sso.login(profiles={"dev": ("111111111111", "Developer", "eu-west-1")})
    run_helper("get", DEV)

    sso.login(profiles={"dev": ("111111111111", "Admin", "eu-west-1")})
    result = json.loads(run_helper("get", DEV).stdout)

    assert result["Secret"] == FakeAWS.password("111111111111", "Admin")


def test_server_url_with_unusual_characters_is_quoted(
    sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    sso.login()
    url = f'https://{DEV}/v2/a"b'

    first = run_helper("get", url)
    second = run_helper("get", url)

    assert json.loads(first.stdout)["ServerURL"] == url
    assert second.stdout == first.stdout


# -- hostile input ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_on_get(run_helper: RunHelper, aws: FakeAWS, seed: int) -> None:
    data = random.Random(seed).randbytes(random.Random(seed).randrange(1, 4096))

    line = error_line(run_helper("get", data))

    assert line  # not found, not UTF-8, control characters: any of the one-liners
    assert aws.calls == []


def test_megabytes_on_stdin(run_helper: RunHelper, aws: FakeAWS) -> None:
    data = (DEV + "/" + "a" * (8 * 1024 * 1024)).encode()

    line = error_line(run_helper("get", data))

    assert line == "server URL longer than 65536 bytes"
    assert aws.calls == []


def test_megabytes_on_store(run_helper: RunHelper) -> None:
    data = store_payload(DEV, "AWS", "x" * (4 * 1024 * 1024))

    line = error_line(run_helper("store", data))

    assert line == "store input longer than 65536 bytes"


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[]",
        '{"ServerURL": 1, "Username": "AWS", "Secret": "s3cr3t-value"}',
        '{"ServerURL": "h", "Username": null, "Secret": "s3cr3t-value"}',
        '{"ServerURL": "h", "Username": "AWS", "Secret": ["s3cr3t-value"]}',
        '{"ServerURL": "h", "Username": "AWS"}',
        '{"ServerURL": "  ", "Username": "AWS", "Secret": "s3cr3t-value"}',
        b"\xff\xfe{}",
    ],
)
def test_store_with_bad_json(run_helper: RunHelper, env: Env, payload: str | bytes) -> None:
    line = error_line(run_helper("store", payload))

    assert "s3cr3t-value" not in line
    assert line.startswith("store expects") or line == "no credentials server URL"
    written = [p for p in env.home.rglob("*") if p.is_file()]
    assert all(p.name == "ecr-sso.log" for p in written), written  # nothing stored
    assert not any(b"s3cr3t-value" in p.read_bytes() for p in written)


def test_whitespace_only_get(run_helper: RunHelper) -> None:
    line = error_line(run_helper("get", " \n\t "))

    assert line == "no credentials server URL"


def test_userinfo_trick_gets_no_token(sso: SSO, aws: FakeAWS, run_helper: RunHelper) -> None:
    sso.login()

    result = run_helper("get", f"{DEV}@evil.example")

    assert result.stdout == NOT_FOUND
    assert aws.calls == []


def test_closed_stdin(sso: SSO, run_helper: RunHelper) -> None:
    result = run_helper("get", b"", env={"ECR_SSO_LOG": "debug"})

    assert error_line(result) == "no credentials server URL"


def test_unwritable_cache_still_answers(
    env: Env, sso: SSO, aws: FakeAWS, run_helper: RunHelper
) -> None:
    if os.geteuid() == 0:
        # root ignores file modes; point the cache at a path under a regular file instead.
        blocker = env.home / "not-a-dir"
        blocker.write_text("")
        cache_env = {"ECR_SSO_CACHE_DIR": str(blocker / "cache")}
    else:  # pragma: no cover - CI runs as root
        env.cache_dir.mkdir(parents=True)
        env.cache_dir.chmod(0o500)
        cache_env = {}
    sso.login()

    result = run_helper("get", DEV, env=cache_env)

    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["Secret"] == FakeAWS.password("111111111111", "Developer")
    assert result.stderr == b""

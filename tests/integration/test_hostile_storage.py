"""A hostile environment: other local users, planted and damaged cache files, odd input.

One regression test per finding of issue 11 that this module's code answers (items 1-5).
Where ownership matters, the attacker is a second local user (tests/localuser.py: created
when the tests run as root; skipped otherwise) who writes through `setpriv`. Every `get` runs
with a timeout and an address-space limit, so a hang or a huge read fails the test instead
of stalling or swapping the machine.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest
from conftest import HELPER, SSO, Env, environ_with
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from localuser import run_as
from protocolcheck import answer, error_line

from credhelper.errors import CredentialsNotFound

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
DEV_PASSWORD = FakeAWS.password("111111111111", "Developer")
NOT_FOUND = CredentialsNotFound.MESSAGE
NOT_FOUND_LINE = (NOT_FOUND + "\n").encode()
# A hang or an unbounded read must fail fast, not stall the suite or exhaust memory.
GUARD_SECONDS = 15
MEMORY_LIMIT = 2 * 1024**3


def get(
    server_url: str | bytes, env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`docker-credential-ecr-sso get`, bounded in time and memory."""
    data = server_url if isinstance(server_url, bytes) else server_url.encode()
    # prlimit rather than preexec_fn: the stand-in's threads make forking with Python code
    # between fork and exec unsafe.
    limit = ["prlimit", f"--as={MEMORY_LIMIT}", "--"] if shutil.which("prlimit") else []
    return subprocess.run(
        [*limit, str(HELPER), "get"],
        input=data,
        capture_output=True,
        env=environ_with(env),
        timeout=GUARD_SECONDS,
        check=False,
    )


def only_file(folder: Path) -> Path:
    (found,) = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return found


def write_as(user: pwd.struct_passwd, path: Path, data: bytes) -> None:
    """Write `data` to `path` as `user`, failing the test if that fails."""
    argv = ["sh", "-c", 'cat > "$0"', str(path)]
    done = run_as(user, argv, env=os.environ, stdin=data, timeout=GUARD_SECONDS)
    assert done.returncode == 0, done.stderr


# -- finding 1: a token for a host that is not the registry ---------------------------------


def test_route_planted_in_a_folder_others_can_write_gives_no_token(
    sso: SSO, aws: FakeAWS, other_user: pwd.struct_passwd, shared_tmp: Path
) -> None:
    sso.login()
    cache = shared_tmp / "cache"
    env = {"ECR_SSO_CACHE_DIR": str(cache)}
    assert answer(get(DEV, env))["Secret"] == DEV_PASSWORD
    # The victim's `chmod -R 777 ~/.cache`; the other user then plants a route for their
    # host, copied from the real one (what it holds is computable from `stat` and `ls`).
    for path in [cache, *cache.rglob("*")]:
        path.chmod(0o777)
    real_route = (cache / "routes" / DEV).read_bytes()
    planted = cache / "routes" / "evil.example.com"
    write_as(other_user, planted, real_route.replace(DEV.encode(), b"evil.example.com"))
    assert planted.stat().st_uid == other_user.pw_uid

    result = get("evil.example.com", env)

    assert result.stdout == NOT_FOUND_LINE
    assert DEV_PASSWORD.encode() not in result.stdout


def test_cache_folder_owned_by_another_user_is_not_used(
    sso: SSO, aws: FakeAWS, other_user: pwd.struct_passwd, shared_tmp: Path
) -> None:
    sso.login()
    # What a valid cache for DEV looks like, made by the victim's own helper...
    own = shared_tmp / "own"
    answer(get(DEV, {"ECR_SSO_CACHE_DIR": str(own)}))
    route = (own / "routes" / DEV).read_bytes()
    token_file = only_file(own / "tokens")
    head, _, _ = token_file.read_bytes().partition(b"\n\n")
    # ...rebuilt by the other user, in a folder of theirs, with a password of their choosing.
    theirs = shared_tmp / "theirs"
    for folder in (theirs, theirs / "routes", theirs / "tokens"):
        folder.mkdir(mode=0o755)
        os.chown(folder, other_user.pw_uid, other_user.pw_gid)
    write_as(other_user, theirs / "routes" / DEV, route)
    write_as(
        other_user, theirs / "tokens" / token_file.name, head + b"\n\nattacker-chosen-password"
    )
    calls = aws.count(ECR_GET_AUTHORIZATION_TOKEN)

    result = answer(get(DEV, {"ECR_SSO_CACHE_DIR": str(theirs)}))

    assert result["Secret"] == DEV_PASSWORD  # a fresh token from AWS, not theirs
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == calls + 1
    assert (theirs / "tokens" / token_file.name).read_bytes().endswith(b"attacker-chosen-password")


def _cached_dev(env: Env, sso: SSO) -> tuple[Path, Path]:
    """Log in, get DEV once; (its route file, its token file)."""
    sso.login()
    assert answer(get(DEV))["Secret"] == DEV_PASSWORD
    return env.cache_dir / "routes" / DEV, only_file(env.cache_dir / "tokens")


@pytest.mark.parametrize("which", ["route", "token"])
def test_fifo_as_a_cache_file_neither_hangs_nor_loses_the_answer(
    env: Env, sso: SSO, aws: FakeAWS, which: str
) -> None:
    route, token = _cached_dev(env, sso)
    target = route if which == "route" else token
    target.unlink()
    os.mkfifo(target, 0o600)

    result = answer(get(DEV))  # no writer ever comes: a blocking open would hang here

    assert result["Secret"] == DEV_PASSWORD


@pytest.mark.parametrize("which", ["route", "token"])
def test_link_to_dev_zero_as_a_cache_file_is_not_read(
    env: Env, sso: SSO, aws: FakeAWS, which: str
) -> None:
    route, token = _cached_dev(env, sso)
    target = route if which == "route" else token
    target.unlink()
    target.symlink_to("/dev/zero")

    result = answer(get(DEV))  # reading /dev/zero would never end (and fill the memory)

    assert result["Secret"] == DEV_PASSWORD
    assert not target.is_symlink()  # replaced by a real file


@pytest.mark.parametrize("which", ["route", "token"])
def test_a_huge_cache_file_is_not_read(env: Env, sso: SSO, aws: FakeAWS, which: str) -> None:
    route, token = _cached_dev(env, sso)
    target = route if which == "route" else token
    with target.open("r+b") as handle:
        handle.truncate(4 * 1024**3)  # sparse: costs no disk, 4 GiB to whoever reads it

    result = answer(get(DEV))

    assert result["Secret"] == DEV_PASSWORD


def test_a_route_is_followed_only_for_the_host_it_was_written_for(
    env: Env, sso: SSO, aws: FakeAWS
) -> None:
    route, _ = _cached_dev(env, sso)
    # Even in a private folder: a copy under another host's name is not that host's route.
    shutil.copyfile(route, route.parent / "evil.example.com")
    calls = len(aws.calls)

    assert get("evil.example.com").stdout == NOT_FOUND_LINE
    assert len(aws.calls) == calls


def test_a_route_rewritten_for_another_host_gives_it_no_token(
    env: Env, sso: SSO, aws: FakeAWS
) -> None:
    route, _ = _cached_dev(env, sso)
    planted = route.parent / "evil.example.com"
    planted.write_bytes(route.read_bytes().replace(DEV.encode(), b"evil.example.com"))
    planted.chmod(0o600)

    assert get("evil.example.com").stdout == NOT_FOUND_LINE


# -- finding 2: a shared folder changed ------------------------------------------------------


def test_a_shared_1777_cache_dir_is_neither_changed_nor_used(
    env: Env, sso: SSO, aws: FakeAWS, tmp_path: Path
) -> None:
    sso.login()
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    cache_env = {"ECR_SSO_CACHE_DIR": str(shared), "ECR_SSO_LOG": "warning"}

    first = answer(get(DEV, cache_env))
    second = answer(get(DEV, cache_env))

    assert first["Secret"] == second["Secret"] == DEV_PASSWORD
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2  # uncached: each get asks AWS
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777  # sticky bit and all
    assert list(shared.iterdir()) == []
    log = next((env.home / ".local" / "state").rglob("ecr-sso.log")).read_text()
    warnings = [line for line in log.splitlines() if "not using the token cache" in line]
    assert len(warnings) == 2  # one line per run
    assert f"{shared} is writable by others (mode 1777)" in warnings[0]

    # doctor checks a machine that is set up: docker sends DEV to the helper.
    env.docker_config_dir.mkdir(parents=True, exist_ok=True)
    (env.docker_config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {DEV: "ecr-sso"}})
    )
    doctor = subprocess.run(
        [str(HELPER.parent / "ecr-sso"), "doctor", "--offline", "--json"],
        capture_output=True,
        text=True,
        env=environ_with(cache_env),
        timeout=60,
        check=False,
    )
    (check,) = [c for c in json.loads(doctor.stdout)["checks"] if c["check"] == "token cache"]
    assert not check["ok"]
    assert str(shared) in check["detail"]
    assert f"chmod 700 {shared}" in check["fix"]
    assert "ECR_SSO_CACHE_DIR" in check["fix"]


# -- finding 3: the wrong identity's token ---------------------------------------------------


def _static_keys(path: Path, key_id: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {'s' * 40}\n"
    )


def test_a_new_key_in_the_credentials_file_means_a_new_token(env: Env, aws: FakeAWS) -> None:
    credentials = env.home / ".aws" / "credentials"
    _static_keys(credentials, "AKIAFIRSTKEY00000001")
    first = answer(get(DEV))
    assert answer(get(DEV)) == first  # cached while the identity stays

    _static_keys(credentials, "AKIASECONDKEY0000002")
    second = answer(get(DEV))

    assert first["Secret"] == FakeAWS.password("111111111111", "AKIAFIRSTKEY00000001")
    assert second["Secret"] == FakeAWS.password("111111111111", "AKIASECONDKEY0000002")
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


def test_another_credentials_file_means_a_new_token(env: Env, aws: FakeAWS, tmp_path: Path) -> None:
    _static_keys(env.home / ".aws" / "credentials", "AKIAFIRSTKEY00000001")
    elsewhere = tmp_path / "other-credentials"
    _static_keys(elsewhere, "AKIAOTHERKEY00000003")
    first = answer(get(DEV))

    second = answer(get(DEV, {"AWS_SHARED_CREDENTIALS_FILE": str(elsewhere)}))

    assert first["Secret"] == FakeAWS.password("111111111111", "AKIAFIRSTKEY00000001")
    assert second["Secret"] == FakeAWS.password("111111111111", "AKIAOTHERKEY00000003")
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


# -- finding 4: one token for two partitions -------------------------------------------------


@pytest.mark.parametrize(
    "suffix", ["amazonaws.com.cn", "amazonaws.eu", "c2s.ic.gov", "cloud.adc-e.uk"]
)
def test_a_token_is_not_served_to_another_partition(sso: SSO, aws: FakeAWS, suffix: str) -> None:
    sso.login()
    answer(get(DEV))
    other = DEV.replace("amazonaws.com", suffix)
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1

    answer(get(other))  # the stand-in answers every partition at one endpoint
    answer(get(other))

    # A fetch of its own (then cached): DEV's token was not taken for this registry.
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 2


# -- finding 5: server URLs read differently -------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (f"evil.com\\@{DEV}", NOT_FOUND),
        (f"https://evil.com\\@{DEV}/v2/", NOT_FOUND),
        (f"evil.example/x://{DEV}", NOT_FOUND),
        (f"\x1c{DEV}\x1c", "server URL contains control characters"),
        (f"{DEV}\x1f", "server URL contains control characters"),
        (DEV + "\n" * (2 * 1024 * 1024), "server URL longer than 65536 bytes"),
        (DEV + " " * (64 * 1024), "server URL longer than 65536 bytes"),
    ],
    ids=["backslash", "backslash-url", "late-scheme", "x1c", "x1f", "newlines", "spaces"],
)
def test_server_urls_docker_would_read_differently_get_no_token(
    sso: SSO, aws: FakeAWS, data: str, line: str
) -> None:
    sso.login()
    answer(get(DEV))  # DEV's token and route are cached: the fast path is in play
    calls = len(aws.calls)

    result = get(data)

    assert error_line(result) == line
    assert len(aws.calls) == calls

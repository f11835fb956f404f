"""`ecr-sso` at its edges: a machine never set up, an unknown profile, colour only for a
terminal, and errors that name where a value came from."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping

from conftest import BIN_DIR, SSO, Env, RunHelper, environ_with
from protocolcheck import error_line

ECR_SSO = str(BIN_DIR / "ecr-sso")
DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
ESC = "\033["


def ecr_sso(
    *args: str, env: Mapping[str, str | None] | None = None, stdin: int = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ECR_SSO, *args],
        capture_output=True,
        text=True,
        env=environ_with(env),
        stdin=stdin,
        timeout=60,
        check=False,
    )


def healthy(env: Env, sso: SSO) -> None:
    sso.login()
    env.write_config(f'[registries]\n"{DEV}" = "dev"\n')
    env.docker_config_dir.mkdir(parents=True, exist_ok=True)
    (env.docker_config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {DEV: "ecr-sso"}})
    )


# -- doctor on a machine never set up -----------------------------------------------------


def test_doctor_on_a_machine_never_set_up(env: Env) -> None:
    result = ecr_sso("doctor", "--offline")
    report = json.loads(ecr_sso("doctor", "--offline", "--json").stdout)

    assert result.returncode == 1
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[ok ] helper on PATH: ")
    assert lines[1:] == [
        f"[BAD] setup: not set up: no registry is mapped in {env.config_file}, and no"
        f" credHelpers entry in {env.docker_config_dir / 'config.json'} names ecr-sso",
        "      fix: ecr-sso setup --from TEAM_FILE (a CI runner: ecr-sso setup --ci"
        " --registry HOST)",
        "some checks failed",
    ]
    assert report["healthy"] is False
    assert [c["check"] for c in report["checks"] if not c["ok"]] == ["setup"]


def test_doctor_counts_a_ci_setup_as_set_up(env: Env) -> None:
    env.docker_config_dir.mkdir(parents=True)
    (env.docker_config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {DEV: "ecr-sso"}})
    )

    report = json.loads(ecr_sso("doctor", "--offline", "--json").stdout)

    assert "setup" not in [c["check"] for c in report["checks"]]


# -- status of an unknown profile ---------------------------------------------------------


def test_status_of_an_unknown_profile_names_the_known_ones(env: Env, sso: SSO) -> None:
    sso.login()

    result = ecr_sso("status", "nosuch")

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"ecr-sso: no AWS profile 'nosuch' in {env.aws_config}: its profiles are dev, prod\n"
    )


def test_status_with_no_aws_config(env: Env) -> None:
    result = ecr_sso("status", "dev")

    assert result.returncode == 2
    assert result.stderr == (
        f"ecr-sso: no AWS profile 'dev' in {env.aws_config}: it has no profiles;"
        " run `ecr-sso setup`\n"
    )


# -- doctor's colour ----------------------------------------------------------------------


def on_a_terminal(*args: str, env: Mapping[str, str | None] | None = None) -> str:
    """What `ecr-sso ARGS` writes to a terminal (a pseudo-terminal as its stdout)."""
    leader, follower = os.openpty()
    try:
        process = subprocess.run(
            [ECR_SSO, *args],
            stdout=follower,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=environ_with(env),
            timeout=60,
            check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.stderr == b""
        return b"".join(chunks).decode()
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)


def test_doctor_colours_a_terminal(env: Env, sso: SSO) -> None:
    healthy(env, sso)

    out = on_a_terminal("doctor", "--offline")

    assert "[\033[32mok \033[0m] helper on PATH" in out


def test_doctor_without_colour_when_no_color_is_set(env: Env, sso: SSO) -> None:
    healthy(env, sso)

    out = on_a_terminal("doctor", "--offline", env={"NO_COLOR": "1"})

    assert "[ok ] helper on PATH" in out
    assert ESC not in out


def test_doctor_to_a_pipe_has_no_escape_codes_even_from_a_terminal(env: Env, sso: SSO) -> None:
    healthy(env, sso)
    sso.expire(refreshable=False)
    leader, follower = os.openpty()  # stdin a terminal, as in `ecr-sso doctor > file`
    try:
        result = ecr_sso("doctor", "--offline", stdin=follower)
    finally:
        os.close(leader)
        os.close(follower)

    assert result.returncode == 1
    assert "[BAD] sso login team: " in result.stdout
    assert "[ok ] helper on PATH: " in result.stdout
    assert ESC not in result.stdout


# -- errors name where a value came from --------------------------------------------------


def test_unknown_profile_from_the_environment_names_the_variable(
    env: Env, sso: SSO, run_helper: RunHelper
) -> None:
    sso.login()

    line = error_line(run_helper("get", DEV, env={"ECR_SSO_PROFILE": "nope"}))

    assert line == (
        "AWS profile 'nope' is not in the AWS config; the name came from the environment"
        " variable ECR_SSO_PROFILE: unset ECR_SSO_PROFILE, or set it to a profile of the"
        " AWS config"
    )


def test_unknown_profile_from_the_registry_map_names_the_map(
    env: Env, sso: SSO, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config(f'[registries]\n"{DEV}" = "staging"\n')

    line = error_line(run_helper("get", DEV))

    assert line == (
        "AWS profile 'staging' is not in the AWS config; the name came from the registry map"
        f" in {env.config_file}: fix it there, or run `ecr-sso setup`"
    )


# -- our settings, strictly ---------------------------------------------------------------


def test_an_unknown_log_level_is_refused_by_ecr_sso(env: Env) -> None:
    result = ecr_sso("status", env={"ECR_SSO_LOG": "verbose"})

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "ecr-sso: ECR_SSO_LOG (environment variable) must be one of debug, info, warning,"
        " error, off, not 'verbose'\n"
    )


def test_a_mistyped_config_key_fails_the_helper_with_file_line_and_key(
    env: Env, sso: SSO, run_helper: RunHelper
) -> None:
    sso.login()
    env.write_config(f'cahce = "file"\n\n[registries]\n"{DEV}" = "dev"\n')

    line = error_line(run_helper("get", DEV))

    assert line == f"{env.config_file}, line 1: unknown key cahce (did you mean cache?)"

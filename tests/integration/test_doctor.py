"""`ecr-sso doctor`: every check driven to green and to red, through the real command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import BIN_DIR, SSO, Env
from fakeaws import FakeAWS

DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"


def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    environ = dict(os.environ)
    environ.update(env or {})
    result = subprocess.run(
        [str(BIN_DIR / "ecr-sso"), "doctor", "--json", *args],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
        timeout=60,
    )
    assert result.stderr == "", result.stderr
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["healthy"] else 1)
    return result.returncode, report


def by_name(report: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    found = [c for c in report["checks"] if c["check"].startswith(prefix)]
    assert found, f"no check named {prefix!r} in {[c['check'] for c in report['checks']]}"
    return found


def healthy_machine(env: Env, sso: SSO) -> None:
    """What setup plus a login leave behind."""
    sso.login()
    env.write_config(f'[registries]\n"{DEV}" = "dev"\n"{PROD}" = "prod"\n')
    env.docker_config_dir.mkdir(parents=True, exist_ok=True)
    (env.docker_config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {DEV: "ecr-sso", PROD: "ecr-sso"}})
    )


def test_a_healthy_machine_is_all_green(env: Env, sso: SSO, aws: FakeAWS) -> None:
    healthy_machine(env, sso)

    code, report = doctor()

    assert code == 0, [c for c in report["checks"] if not c["ok"]]
    names = {c["check"] for c in report["checks"]}
    assert {"helper on PATH", "docker credHelpers", "aws profiles", "sso login team"} <= names
    assert {"file permissions", "clock"} <= names
    assert any(n.startswith("endpoint ") for n in names)


def test_helper_missing_from_path(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)

    code, report = doctor("--offline", env={"PATH": "/usr/bin:/bin"})

    (check,) = by_name(report, "helper on PATH")
    assert code == 1
    assert not check["ok"]
    assert "install/install.sh" in check["fix"]


def test_another_program_under_the_helpers_name(env: Env, sso: SSO, tmp_path: Path) -> None:
    healthy_machine(env, sso)
    impostor = tmp_path / "bin" / "docker-credential-ecr-sso"
    impostor.parent.mkdir()
    impostor.write_text("#!/bin/sh\necho something else\n")
    impostor.chmod(0o755)

    _, report = doctor("--offline", env={"PATH": f"{impostor.parent}:{os.environ['PATH']}"})

    (check,) = by_name(report, "helper on PATH")
    assert not check["ok"]
    assert "is not ecr-sso's helper" in check["detail"]


def test_missing_cred_helper_and_stale_auths(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    (env.docker_config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {DEV: "ecr-sso"}, "auths": {DEV: {"auth": "QVdTOnNlY3JldA=="}}})
    )

    _, report = doctor("--offline")

    (helpers,) = by_name(report, "docker credHelpers")
    (auths,) = by_name(report, "docker auths")
    assert not helpers["ok"]
    assert PROD in helpers["detail"]
    assert auths["ok"]  # credHelpers win within config.json: only stale
    assert "--clean-auths" in auths["detail"]


def test_containers_auth_file_shadows_the_helper(env: Env, sso: SSO, tmp_path: Path) -> None:
    healthy_machine(env, sso)
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {DEV: {"auth": "QVdTOnNlY3JldA=="}}}))

    _, report = doctor("--offline", env={"REGISTRY_AUTH_FILE": str(auth_file)})

    (check,) = by_name(report, "containers auth")
    assert not check["ok"]
    assert str(auth_file) in check["detail"]
    assert check["fix"].startswith(f"podman logout {DEV}")


def test_malformed_docker_config(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    (env.docker_config_dir / "config.json").write_text("{not json")

    _, report = doctor("--offline")

    (check,) = by_name(report, "docker config")
    assert not check["ok"]
    assert "not readable JSON" in check["detail"]


def test_cred_helpers_docker_reads_in_another_case(env: Env, sso: SSO) -> None:
    """Go matches JSON keys case-insensitively: docker sends DEV to `desktop`, whatever
    `credHelpers` says."""
    healthy_machine(env, sso)
    path = env.docker_config_dir / "config.json"
    config = json.loads(path.read_text())
    config["CredHelpers"] = {DEV: "desktop"}
    path.write_text(json.dumps(config))

    _, report = doctor("--offline")

    (check,) = by_name(report, "docker config")
    assert not check["ok"]
    assert check["detail"].startswith(
        f'{path}: keys "credHelpers" and "CredHelpers" are one key to docker'
    )


def test_mapped_profile_missing_from_aws_config(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    env.write_config(f'[registries]\n"{DEV}" = "staging"\n')

    _, report = doctor("--offline")

    (check,) = by_name(report, "aws profiles")
    assert not check["ok"]
    assert "staging" in check["detail"]


def test_expired_refreshable_and_missing_sso_login(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    sso.expire()  # keeps its refresh token: botocore renews it on the next use
    _, refreshable = doctor("--offline")
    sso.expire(refreshable=False)
    _, expired = doctor("--offline")
    sso.cache_file("team").unlink()
    _, missing = doctor("--offline")

    (check,) = by_name(refreshable, "sso login team")
    assert check["ok"]
    assert check["state"] == "refreshable"
    assert check["detail"].endswith("; renewed on next use")
    (check,) = by_name(expired, "sso login team")
    assert not check["ok"]
    assert check["state"] == "expired"
    assert check["detail"].startswith("expired at ")
    assert check["fix"] == "ecr-sso login dev"
    (check,) = by_name(missing, "sso login team")
    assert check["detail"] == "not signed in"
    assert check["state"] == "missing"


def test_loose_permissions(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    sso.cache_file("team").chmod(0o644)

    _, report = doctor("--offline")

    (check,) = by_name(report, "file permissions")
    assert not check["ok"]
    assert str(sso.cache_file("team")) in check["detail"]


@pytest.fixture
def skewed_endpoint() -> Iterator[str]:
    """An endpoint whose clock is an hour ahead."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response_only(404)
            self.send_header("Date", formatdate(time.time() + 3600, usegmt=True))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_clock_skew(env: Env, sso: SSO, aws: FakeAWS, skewed_endpoint: str) -> None:
    healthy_machine(env, sso)

    _, report = doctor(env={"AWS_ENDPOINT_URL_ECR": skewed_endpoint})

    (check,) = by_name(report, "clock")
    assert not check["ok"]
    assert "off AWS's" in check["detail"]


def test_unreachable_endpoint(env: Env, sso: SSO, aws: FakeAWS) -> None:
    healthy_machine(env, sso)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()

    _, report = doctor(env={"AWS_ENDPOINT_URL_ECR": url})

    (check,) = by_name(report, f"endpoint {url}")
    assert not check["ok"]
    assert "no answer" in check["detail"]


def test_human_output(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    sso.expire(refreshable=False)

    result = subprocess.run(
        [str(BIN_DIR / "ecr-sso"), "doctor", "--offline"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert "[BAD] sso login team: expired at " in result.stdout
    assert "      fix: ecr-sso login dev\n" in result.stdout
    assert result.stdout.endswith("some checks failed\n")


def test_profile_names_a_missing_sso_session(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    text = env.aws_config.read_text()
    start = text.index("[sso-session team]")
    end = text.index("[profile", start)
    env.aws_config.write_text(text[:start] + text[end:])

    _, report = doctor("--offline")

    (check,) = by_name(report, "sso session")
    assert not check["ok"]
    assert "[sso-session team]" in check["detail"]


# -- folders: ours, and the ones above the files we read ------------------------------------


def test_our_folders_left_open_by_a_loose_umask_are_named_with_the_fix(env: Env, sso: SSO) -> None:
    """An older version under umask 002 left the state folder 0775; setup and login then
    refuse it, and doctor says which folder and what to run."""
    healthy_machine(env, sso)
    state = env.home / ".local" / "state" / "ecr-sso"
    (state / "log").mkdir(parents=True)
    state.chmod(0o775)

    code, report = doctor("--offline")

    assert code == 1
    (check,) = by_name(report, "ecr-sso folders")
    assert check == {
        "check": "ecr-sso folders",
        "ok": False,
        "detail": f"{state} is writable by others (mode 0775): setup, login and the"
        " helper do not use it",
        "fix": f"if it is yours: chmod 700 {state}",
    }


def test_our_folders_are_named_even_before_setup(env: Env) -> None:
    state = env.home / ".local" / "state" / "ecr-sso"
    state.mkdir(parents=True)
    state.chmod(0o777)

    _, report = doctor("--offline")

    assert [c["check"] for c in report["checks"] if not c["ok"]] == ["ecr-sso folders", "setup"]


def test_private_folders_are_green(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)

    code, report = doctor("--offline")

    assert code == 0, [c for c in report["checks"] if not c["ok"]]
    assert [c["ok"] for c in by_name(report, "ecr-sso folders")] == [True]
    assert [c["ok"] for c in by_name(report, "parent folders")] == [True]


def test_open_folders_above_the_files_we_read(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    aws_dir = env.aws_config.parent
    aws_dir.chmod(0o777)
    env.home.chmod(0o775)

    _, report = doctor("--offline")

    checks = by_name(report, "parent folders")
    assert [(c["detail"], c["fix"]) for c in checks] == [
        (
            f"{aws_dir} is writable by others (mode 0777): they could replace {env.aws_config}",
            f"chmod go-w {aws_dir}",
        ),
        (
            f"{env.home} is writable by its group (mode 0775): they could replace {env.aws_config}",
            f"chmod go-w {env.home}",
        ),
    ]
    assert not any(c["ok"] for c in checks)


def test_a_sticky_shared_folder_is_fine_an_open_one_is_not(
    env: Env, sso: SSO, tmp_path: Path
) -> None:
    """Outside HOME the walk goes up to a folder only root can write. A /tmp-like folder
    (1777) lets no one rename what is not theirs; a plain 0777 one does."""
    healthy_machine(env, sso)
    sticky = tmp_path / "sticky"
    (sticky / "mine").mkdir(parents=True)
    sticky.chmod(0o1777)
    (sticky / "mine").chmod(0o700)
    docker_config = sticky / "mine" / "config.json"
    docker_config.write_text((env.docker_config_dir / "config.json").read_text())
    opened = tmp_path / "open"
    opened.mkdir()
    opened.chmod(0o777)
    aws_config = opened / "config"
    aws_config.write_text(env.aws_config.read_text())

    _, report = doctor(
        "--offline", env={"DOCKER_CONFIG": str(sticky / "mine"), "AWS_CONFIG_FILE": str(aws_config)}
    )

    checks = by_name(report, "parent folders")
    assert [c["detail"] for c in checks] == [
        f"{opened} is writable by others (mode 0777): they could replace {aws_config}"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_above_a_file(env: Env, sso: SSO) -> None:
    healthy_machine(env, sso)
    os.chown(env.docker_config_dir, 65534, 65534)
    docker_config = env.docker_config_dir / "config.json"

    _, report = doctor("--offline")

    (check,) = by_name(report, "parent folders")
    assert check["detail"] == (
        f"{env.docker_config_dir} belongs to another user (uid 65534): they could replace"
        f" {docker_config}"
    )
    assert check["fix"] == f"move {docker_config} to a folder of your own"

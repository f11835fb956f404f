"""Setup and teardown as transactions: one run at a time (a second waits, then plans from
the first one's result), and all files written or none."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import localuser
import pytest
from conftest import Env, environ_at
from setup_fixtures import ECR_SSO, docker_config, ecr_sso, snapshot, three_files, write

from credhelper import editlock, settings
from credhelper.paths import Paths
from credhelper.setup import settings_file

SSO = """\
[sso]
session = "team"
start_url = "https://example.awsapps.com/start"
region = "eu-west-1"
"""
DEV = SSO + '\n[profiles.dev]\naccount = "111111111111"\nrole = "Dev"\n'
STAGE = SSO + '\n[profiles.stage]\naccount = "222222222222"\nrole = "Stage"\n'
DEV_HOST = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
STAGE_HOST = "222222222222.dkr.ecr.eu-west-1.amazonaws.com"
TRIALS = 16


def fresh_home(root: Path) -> dict[str, str]:
    """The isolated environment of `ecr_sso`, moved to a new home under `root`."""
    home = root / "home"
    home.mkdir(parents=True)
    return environ_at(home)


def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(ECR_SSO), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_setups_at_once_both_land(tmp_path: Path) -> None:
    dev, stage = tmp_path / "dev.toml", tmp_path / "stage.toml"
    dev.write_text(DEV)
    stage.write_text(STAGE)
    failures = []
    for trial in range(TRIALS):
        environ = fresh_home(tmp_path / f"trial-{trial}")
        home = Path(environ["HOME"])
        aws_config = home / ".aws" / "config"
        config_file = str(home / ".config" / "ecr-sso" / "config.toml")
        docker = home / ".docker" / "config.json"
        runs = [start("setup", "--from", str(team), env=environ) for team in (dev, stage)]
        results = [(run.wait(timeout=60), *run.communicate()) for run in runs]
        assert all(code == 0 for code, _, _ in results), results

        aws_text = aws_config.read_text()
        ours = settings_file.read(config_file)
        helpers = json.loads(docker.read_text())["credHelpers"]
        landed = (
            "[profile dev]" in aws_text
            and "[profile stage]" in aws_text
            and aws_text.count("[sso-session team]") == 1
            and ours.settings.registries == {DEV_HOST: "dev", STAGE_HOST: "stage"}
            and helpers == {DEV_HOST: "ecr-sso", STAGE_HOST: "ecr-sso"}
            and set(ours.managed.profiles) == {"dev", "stage"}
            and set(ours.managed.cred_helpers) == {DEV_HOST, STAGE_HOST}
            and set(ours.managed.registries) == {DEV_HOST, STAGE_HOST}
        )
        if not landed:
            failures.append(trial)
            continue

        removed = subprocess.run(
            [str(ECR_SSO), "teardown", "--yes"],
            env=environ,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert removed.returncode == 0, removed.stderr
        assert not aws_config.exists() or "profile" not in aws_config.read_text()
        assert not docker.exists() or "credHelpers" not in json.loads(docker.read_text())
        assert not settings.load(config_file).registries
    assert failures == [], f"lost updates in trials {failures} of {TRIALS}"


def test_a_second_run_says_it_waits(env: Env, tmp_path: Path) -> None:
    team = tmp_path / "dev.toml"
    team.write_text(DEV)
    paths = Paths.from_environ(os.environ)
    with editlock.hold(paths.state_dir):
        run = start("setup", "--from", str(team), env=dict(os.environ))
        assert run.stderr is not None
        # Read in a thread: a run that never says it waits must fail the test, not hang it.
        said: list[str] = []
        reader = threading.Thread(target=lambda: said.append(run.stderr.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout=30)
        assert said == ["waiting for another ecr-sso to finish changing files...\n"]
        assert not env.aws_config.exists()  # nothing read or written while we hold the lock
    assert run.wait(timeout=60) == 0
    assert "[profile dev]" in env.aws_config.read_text()


# -- all or nothing ---------------------------------------------------------------------------


def test_a_read_only_aws_config_is_not_replaced(env: Env, tmp_path: Path) -> None:
    team = tmp_path / "dev.toml"
    team.write_text(DEV)
    write(env.aws_config, "[default]\nregion = us-east-1\n", mode=0o444)
    before = snapshot(three_files(env))

    result = ecr_sso("setup", "--from", str(team))

    assert result.returncode == 4
    assert result.stderr == (
        f"ecr-sso: cannot write {env.aws_config}: it is read-only (mode 0444); make it"
        " writable (chmod u+w) if ecr-sso may change it. Nothing was written\n"
    )
    assert snapshot(three_files(env)) == before
    assert not env.config_file.parent.exists()
    assert not env.docker_config_dir.exists()


def test_a_failed_rename_puts_back_the_files_already_renamed(env: Env, tmp_path: Path) -> None:
    team = tmp_path / "dev.toml"
    team.write_text(DEV)
    write(env.aws_config, "[default]\nregion = us-east-1\n", mode=0o640)
    write(docker_config(env), '{\n\t"credsStore": "pass"\n}\n', mode=0o600)
    write(env.config_file, 'cache = "file"\n', mode=0o600)
    before = snapshot(three_files(env))
    # The last rename (Docker's config) fails as a full disk or a lost mount would.
    script = """
import errno, os, sys
real = os.replace
def replace(src, dst, *args, **kwargs):
    if dst == os.path.realpath(sys.argv[1]):
        raise OSError(errno.EIO, os.strerror(errno.EIO), dst)
    return real(src, dst, *args, **kwargs)
os.replace = replace
from credhelper.cli import main
sys.exit(main(sys.argv[2:]))
"""
    result = subprocess.run(
        [
            *(str(ECR_SSO.parent / "python"), "-c", script),
            str(docker_config(env)),
            *("setup", "--from", str(team)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 4
    assert result.stderr == (
        f"ecr-sso: cannot write {docker_config(env)}: Input/output error; the files written"
        " before it were put back. Run the command again\n"
    )
    after = snapshot(three_files(env))
    assert {p: (s.content, s.mode) for p, s in after.items()} == {
        p: (s.content, s.mode) for p, s in before.items()
    }
    for path in three_files(env):
        assert not list(path.parent.glob(".tmp-*"))
        assert not list(path.parent.glob("*.bak-*"))


@pytest.mark.skipif(os.geteuid() != 0, reason="root is needed to chown a file to another user")
def test_owner_and_mode_are_kept(env: Env, tmp_path: Path) -> None:
    team = tmp_path / "dev.toml"
    team.write_text(DEV)
    write(env.aws_config, "[default]\nregion = us-east-1\n", mode=0o640)
    os.chown(env.aws_config, 12345, 23456)

    assert ecr_sso("setup", "--from", str(team)).returncode == 0

    info = env.aws_config.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o7777) == (12345, 23456, 0o640)
    assert "[profile dev]" in env.aws_config.read_text()


# -- as a user root does not stand in for -------------------------------------------------------


@pytest.fixture
def user_home(other_user: pwd.struct_passwd) -> Iterator[tuple[pwd.struct_passwd, Path]]:
    """The unprivileged user and a fresh home it owns, outside root's private temporary
    folders. Root ignores file modes, so read-only targets can only be tested as another
    user."""
    home = Path(tempfile.mkdtemp(prefix="ecr-sso-user-", dir="/tmp"))
    os.chown(home, other_user.pw_uid, other_user.pw_gid)
    try:
        yield other_user, home
    finally:
        shutil.rmtree(home)


def as_user(user: pwd.struct_passwd, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ecr-sso ARGS` as `user`, with its environment moved to `home`."""
    return subprocess.run(
        [*localuser.as_user(user), str(ECR_SSO), *args],
        env=environ_at(home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def user_writes(user: pwd.struct_passwd, path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    for each in (path, path.parent):
        os.chown(each, user.pw_uid, user.pw_gid)


def tree(home: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(home)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(home.rglob("*"))
    }


def test_as_a_user_a_read_only_aws_folder_stops_everything(
    user_home: tuple[pwd.struct_passwd, Path], tmp_path: Path
) -> None:
    user, home = user_home
    team = home / "dev.toml"
    user_writes(user, team, DEV, 0o644)
    user_writes(user, home / ".aws" / "config", "[default]\nregion = us-east-1\n", 0o644)
    (home / ".aws").chmod(0o555)
    before = tree(home)

    result = as_user(user, home, "setup", "--from", str(team))

    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        f"ecr-sso: cannot write {home}/.aws/config: its folder {home}/.aws is not writable"
        " (permission denied). Nothing was written\n"
    )
    # Nothing of the three files (our config and Docker's would have been created), and
    # no backup or temporary file; only our lock and log folders are new.
    after = {k: v for k, v in tree(home).items() if not k.startswith(".local")}
    assert after == before


def test_as_a_user_a_read_only_file_is_named(user_home: tuple[pwd.struct_passwd, Path]) -> None:
    user, home = user_home
    team = home / "dev.toml"
    user_writes(user, team, DEV, 0o644)
    user_writes(user, home / ".docker" / "config.json", "{}\n", 0o444)
    user_writes(user, home / ".aws" / "config", "[default]\nregion = us-east-1\n", 0o444)

    result = as_user(user, home, "setup", "--from", str(team))

    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        f"ecr-sso: cannot write {home}/.aws/config: it is read-only (mode 0444); make it"
        " writable (chmod u+w) if ecr-sso may change it;"
        f" {home}/.docker/config.json: it is read-only (mode 0444); make it writable"
        " (chmod u+w) if ecr-sso may change it. Nothing was written\n"
    )
    assert not (home / ".config").exists()

    (home / ".aws" / "config").chmod(0o644)
    (home / ".docker" / "config.json").chmod(0o600)
    done = as_user(user, home, "setup", "--from", str(team))
    assert done.returncode == 0, done.stderr
    config = home / ".aws" / "config"
    assert (config.stat().st_uid, config.stat().st_mode & 0o777) == (user.pw_uid, 0o644)
    assert "[profile dev]" in config.read_text()


def test_an_immutable_file_is_named(tmp_path: Path) -> None:
    """`chattr +i` stops even root; checked before anything is written."""
    if os.geteuid() != 0 or shutil.which("chattr") is None:
        pytest.skip("needs root and chattr to mark a file immutable")
    folder = Path(tempfile.mkdtemp(prefix="ecr-sso-immutable-", dir="/tmp"))
    try:
        environ = environ_at(folder)
        config = folder / ".aws" / "config"
        write(config, "[default]\nregion = us-east-1\n", mode=0o644)
        if subprocess.run(["chattr", "+i", str(config)], check=False).returncode != 0:
            pytest.skip("this file system has no immutable flag")
        team = tmp_path / "dev.toml"
        team.write_text(DEV)
        try:
            result = subprocess.run(
                [str(ECR_SSO), "setup", "--from", str(team)],
                env=environ,
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
        finally:
            subprocess.run(["chattr", "-i", str(config)], check=True)
        assert result.returncode == 4
        assert result.stderr == (
            f"ecr-sso: cannot write {config}: it is marked immutable or append-only"
            " (chattr +i / +a, chflags uchg). Nothing was written\n"
        )
        assert not (folder / ".docker").exists()
    finally:
        shutil.rmtree(folder)


def test_as_a_user_an_unwritable_state_folder_stops_before_reading(
    user_home: tuple[pwd.struct_passwd, Path],
) -> None:
    user, home = user_home
    team = home / "dev.toml"
    user_writes(user, team, DEV, 0o644)
    state = home / ".local" / "state"
    state.mkdir(parents=True)
    os.chown(home / ".local", user.pw_uid, user.pw_gid)
    state.chmod(0o555)
    os.chown(state, user.pw_uid, user.pw_gid)

    result = as_user(user, home, "setup", "--from", str(team))

    assert result.returncode == 4, result.stderr
    assert result.stderr == (
        f"ecr-sso: cannot create ecr-sso's lock {state}/ecr-sso/edit.lock: {state}/ecr-sso:"
        " Permission denied; nothing was changed\n"
    )
    assert not (home / ".aws").exists()

"""`install/install.sh` in a fresh home, with a PATH that lacks our tools: then the
installed helper serves a real pull, a second run changes nothing, `--ci` sets a runner
up for web-identity credentials, and `--uninstall` leaves the user's files alone."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Env, RunHelper
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS
from test_real_pull import Bed, bed  # noqa: F401 - the registry behind an alias, SSO login

from credhelper.paths import Paths

pytestmark = pytest.mark.real_client

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "install" / "install.sh"
# A PATH with the system's tools and none of ours (the venv's bin is not on it).
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


@dataclass(frozen=True)
class Installed:
    home: Path
    bin_dir: Path
    output: str

    @property
    def venv(self) -> Path:
        return self.home / ".local" / "share" / "ecr-sso" / "venv"


def fresh_checkout(parent: Path) -> Path:
    """The files a clone holds that an install builds from, in `parent/ecr-sso`: the
    folder name `git clone` gives. (pip caches the wheel it builds from a folder whose
    name looks like NAME-VERSION in the user's home; this one's does.)"""
    checkout = parent / "ecr-sso"
    checkout.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, checkout / name)
    for name in ("credhelper", "scripts", "install"):
        shutil.copytree(REPO / name, checkout / name, ignore=shutil.ignore_patterns("__pycache__"))
    return checkout


def run_install(
    home: Path,
    *args: str,
    env: dict[str, str] | None = None,
    checkout: Path = REPO,
    umask: int = 0o022,
) -> str:
    environ = {
        "HOME": str(home),
        "PATH": SYSTEM_PATH,
        # The interpreter the tests run on, not a venv's: install.sh makes its own venv.
        "PYTHON": getattr(sys, "_base_executable", sys.executable),
        "LANG": "C.UTF-8",
        # How this machine reaches the package index: pipx uses uv when the uv package is
        # installed next to it (the test extras have it), and uv reads certificates only here.
        **{k: v for k, v in os.environ.items() if k in ("SSL_CERT_FILE", "SSL_CERT_DIR")},
    }
    environ.update(env or {})
    result = subprocess.run(
        ["sh", str(checkout / "install" / "install.sh"), *args],
        env=environ,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=600,
        umask=umask,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """One installation for the module (a fresh venv costs about ten seconds), made under
    the loosest umask, 000: everything below must work, and be private, all the same."""
    home = tmp_path_factory.mktemp("install") / "home"
    home.mkdir()
    output = run_install(home, umask=0o000)
    return Installed(home, home / ".local" / "bin", output)


def installed_env(installed: Installed) -> dict[str, str]:
    """The test's isolated environment, with the installed bin dir instead of the venv's."""
    environ = dict(os.environ)
    environ["PATH"] = f"{installed.bin_dir}{os.pathsep}{SYSTEM_PATH}"
    return environ


def test_links_both_commands_and_says_how_to_fix_path(installed: Installed) -> None:
    for name in ("docker-credential-ecr-sso", "ecr-sso"):
        link = installed.bin_dir / name
        assert link.is_symlink()
        assert Path(os.readlink(link)).parent == installed.venv / "bin"
    assert f"warning: {installed.bin_dir} is not on your PATH" in installed.output
    assert f'export PATH="{installed.bin_dir}:$PATH"' in installed.output
    version = subprocess.run(
        [str(installed.bin_dir / "docker-credential-ecr-sso"), "version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert version.stdout.startswith("docker-credential-ecr-sso (ecr-sso) ")
    # The helper starts without `site`: one interpreter argument, as a shebang allows.
    first = (installed.venv / "bin" / "docker-credential-ecr-sso").read_text().splitlines()[0]
    assert first == f"#!{installed.venv}/bin/python -IS"


def test_under_a_loose_umask_nothing_installed_is_writable_by_others(
    installed: Installed,
) -> None:
    """Whoever can write the environment or a command in it runs code as its user."""
    writable = []
    for folder, dirs, files in os.walk(installed.home):
        for name in dirs + files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            if not stat.S_ISLNK(mode) and mode & 0o022:
                writable.append(f"{path} {stat.S_IMODE(mode):04o}")
    assert writable == []


def test_data_dir_matches_platformdirs(
    installed: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """install.sh computes the venv's home in sh; it must be platformdirs' user data dir,
    where doctor and uninstall look."""
    monkeypatch.setenv("HOME", str(installed.home))
    monkeypatch.delenv("XDG_DATA_HOME")

    assert Path(Paths.from_environ(os.environ).data_dir) / "venv" == installed.venv


def test_installed_helper_serves_a_real_pull(
    installed: Installed,
    bed: Bed,  # noqa: F811 - the fixture imported above
    aws: FakeAWS,
) -> None:
    result = subprocess.run(
        [*bed.skopeo, "inspect", "--tls-verify=false", f"docker://{bed.host}/app:1"],
        env=installed_env(installed),
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Digest"] == bed.digest
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1


def test_second_run_changes_nothing_else(installed: Installed) -> None:
    aws_config = installed.home / ".aws" / "config"
    aws_config.parent.mkdir(exist_ok=True)
    aws_config.write_text("[profile mine]\nregion = eu-north-1\n")
    links = {p.name: os.readlink(p) for p in installed.bin_dir.iterdir()}
    python = (installed.venv / "bin" / "python").resolve()

    run_install(installed.home)

    assert {p.name: os.readlink(p) for p in installed.bin_dir.iterdir()} == links
    assert (installed.venv / "bin" / "python").resolve() == python
    assert aws_config.read_text() == "[profile mine]\nregion = eu-north-1\n"


def test_ci_runner_with_web_identity(
    installed: Installed, env: Env, aws: FakeAWS, sts: str, run_helper: RunHelper
) -> None:
    """`--ci --registry HOST` writes only credHelpers; the helper then takes the runner's
    credentials from the default chain: here a web identity token, exchanged at the STS
    stand-in (moto) for role credentials."""
    host = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
    token_file = env.home / "web-identity-token"
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUifQ.sig")

    run_install(
        installed.home,
        "--ci",
        "--registry",
        host,
        env={
            "DOCKER_CONFIG": str(env.docker_config_dir),
            "XDG_CONFIG_HOME": str(env.home / ".config"),
        },
    )
    docker_config = json.loads((env.docker_config_dir / "config.json").read_text())
    assert docker_config == {"credHelpers": {host: "ecr-sso"}}
    assert not env.aws_config.exists()

    identity = {
        "AWS_ROLE_ARN": "arn:aws:iam::111111111111:role/ci-pull",
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    result = run_helper("get", host, env=identity)

    assert result.returncode == 0, result.stdout
    (call,) = [c for c in aws.calls if c.operation == ECR_GET_AUTHORIZATION_TOKEN]
    assert call.akid is not None
    assert json.loads(result.stdout)["Secret"] == FakeAWS.password("111111111111", call.akid)


def test_uninstall_leaves_the_users_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    (home / ".local" / "bin").mkdir(parents=True)
    (home / ".local" / "bin" / "someone-elses-tool").write_text("#!/bin/sh\n")
    run_install(home)

    output = run_install(home, "--uninstall")

    assert "ecr-sso is uninstalled" in output
    assert sorted(p.name for p in (home / ".local" / "bin").iterdir()) == ["someone-elses-tool"]
    assert not (home / ".local" / "share" / "ecr-sso" / "venv").exists()
    assert (home / ".aws" / "config").read_text() == "[default]\nregion = eu-west-1\n"


def test_with_pipx_on_path(tmp_path: Path) -> None:
    """pipx, when present, is used instead of a plain venv; uninstall removes it again,
    and neither pip's nor uv's cache (pipx installs with uv when it has it) is left in the
    home: only pipx's own folders, which are pipx's."""
    home = tmp_path / "pipx-user"
    home.mkdir()
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "pipx").symlink_to(Path(sys.executable).parent / "pipx")
    pipx_home = tmp_path / "pipx"
    env = {"PATH": f"{tools}:{SYSTEM_PATH}", "PIPX_HOME": str(pipx_home)}

    checkout = fresh_checkout(tmp_path)
    run_install(home, env=env, checkout=checkout)

    venv = pipx_home / "venvs" / "ecr-sso"
    for name in ("docker-credential-ecr-sso", "ecr-sso"):
        link = home / ".local" / "bin" / name
        assert Path(os.readlink(link)).parent == venv / "bin"
    assert not (home / ".local" / "share" / "ecr-sso" / "venv").exists()

    run_install(home, "--uninstall", env=env, checkout=checkout)

    assert not venv.exists()
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert not [p for p in left if p.startswith((".cache/pip", ".cache/uv"))], left
    assert not [p for p in left if "ecr-sso" in p], left
    # The bin folder did not exist before the install: gone with the links.
    assert not (home / ".local" / "bin").exists()
    assert not (home / ".local" / "share" / "ecr-sso").exists()


def test_without_python_310_says_so(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("dirname", "uname", "cat", "mkdir", "rm", "ln", "readlink", "grep"):
        (tools / name).symlink_to(
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else f"/bin/{name}"
        )
    home = tmp_path / "nopython"
    home.mkdir()

    result = subprocess.run(
        ["/bin/sh", str(INSTALL)],
        env={"HOME": str(home), "PATH": str(tools)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.startswith("install.sh: ecr-sso needs Python 3.10 or newer;")
    assert not (home / ".local").exists()

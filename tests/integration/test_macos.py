"""macOS, simulated where it cannot run: every location with `sys.platform == "darwin"`
(platformdirs' Library folders, the fast path's mirror of them, with and without the XDG
variables), a cache hit found there by the helper itself, install.sh's data folder under
Darwin, `open` as the browser, and the one line we print when the Keychain refuses.

The simulation sets `sys.platform` before anything is imported in a fresh interpreter;
it covers the stdlib-only code paths (the AWS path imports urllib.request, which on
"darwin" wants macOS's `_scproxy`, so the cold `get` runs as Linux, writing to the macOS
folders through the XDG variables)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HELPER, SSO, Env, RunHelper, environ_with

from credhelper.sso import browser

REPO = Path(__file__).resolve().parents[2]
DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
XDG = ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")

AS_DARWIN = "import sys\nsys.platform = 'darwin'\n"


def darwin_paths(environ: dict[str, str]) -> dict[str, str]:
    """Every location, resolved in an interpreter that believes it runs on macOS."""
    program = AS_DARWIN + (
        "import json, os\n"
        "from credhelper.paths import Paths, fast_cache_dir, fast_config_file\n"
        "p = Paths.from_environ(os.environ)\n"
        "print(json.dumps({name: getattr(p, name) for name in Paths.__slots__}"
        " | {'docker_config_file': p.docker_config_file,"
        " 'fast_cache_dir': fast_cache_dir(os.environ),"
        " 'fast_config_file': fast_config_file(os.environ)}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], env=environ, capture_output=True, text=True, check=True
    )
    paths: dict[str, str] = json.loads(result.stdout)
    return paths


def without_xdg(env: Env) -> dict[str, str]:
    environ = environ_with(dict.fromkeys(XDG))
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "DOCKER_CONFIG"):
        environ.pop(name)
    return environ


def test_library_folders_without_xdg(env: Env) -> None:
    paths = darwin_paths(without_xdg(env))
    home = str(env.home)
    support = f"{home}/Library/Application Support/ecr-sso"
    assert paths == {
        "home": home,
        "config_file": f"{support}/config.toml",
        "cache_dir": f"{home}/Library/Caches/ecr-sso",
        "data_dir": support,
        "log_dir": f"{home}/Library/Logs/ecr-sso",
        "state_dir": support,
        "aws_config_file": f"{home}/.aws/config",
        "sso_cache_dir": f"{home}/.aws/sso/cache",
        "docker_config_dir": f"{home}/.docker",
        "docker_config_file": f"{home}/.docker/config.json",
        "fast_cache_dir": f"{home}/Library/Caches/ecr-sso",
        "fast_config_file": f"{support}/config.toml",
    }


@pytest.mark.parametrize("value", ["absolute", "relative", ""])
def test_xdg_variables_on_macos(env: Env, value: str) -> None:
    """Set XDG variables win over the Library folders (as platformdirs does on macOS, and
    install.sh); relative or empty ones are ignored; the fast path agrees either way."""
    environ = without_xdg(env)
    bases = {name: str(env.home / "xdg" / name) if value == "absolute" else value for name in XDG}
    bases = {n: ("xdg/" + n if value == "relative" else v) for n, v in bases.items()}
    environ.update(bases)

    paths = darwin_paths(environ)

    assert paths["fast_cache_dir"] == paths["cache_dir"]
    assert paths["fast_config_file"] == paths["config_file"]
    if value == "absolute":
        assert paths["cache_dir"] == f"{bases['XDG_CACHE_HOME']}/ecr-sso"
        assert paths["config_file"] == f"{bases['XDG_CONFIG_HOME']}/ecr-sso/config.toml"
        assert paths["data_dir"] == f"{bases['XDG_DATA_HOME']}/ecr-sso"
    else:
        assert paths["cache_dir"] == f"{env.home}/Library/Caches/ecr-sso"


def test_cache_hit_in_the_library_folders(env: Env, sso: SSO, run_helper: RunHelper) -> None:
    """A token cached where macOS keeps caches is a fast-path hit for a helper that
    believes it runs on macOS, loading no AWS code."""
    sso.login()
    library = env.home / "Library"
    cold = run_helper(
        "get",
        DEV,
        env={
            "XDG_CACHE_HOME": str(library / "Caches"),
            "XDG_CONFIG_HOME": str(library / "Application Support"),
        },
    )
    assert cold.returncode == 0, cold.stdout
    assert (library / "Caches" / "ecr-sso" / "routes").is_dir()
    probe = AS_DARWIN + (
        "import atexit, runpy\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(sys.modules)))\n"
        f"sys.argv = [{str(HELPER)!r}, 'get']\n"
        f"runpy.run_path({str(HELPER)!r}, run_name='__main__')\n"
    )

    hit = subprocess.run(
        [sys.executable, "-c", probe],
        input=DEV.encode(),
        env=environ_with(dict.fromkeys(XDG)),
        capture_output=True,
        check=False,
    )

    assert hit.returncode == 0, hit.stdout
    assert hit.stdout == cold.stdout
    imported = set(hit.stderr.decode().split())
    assert "credhelper.helper.fastpath" in imported
    assert not imported & {"boto3", "botocore", "platformdirs", "json"}


def test_install_sh_data_folder_under_darwin(tmp_path: Path) -> None:
    """install.sh finds its environment where platformdirs puts macOS data (here, by
    removing a venv left there: the uninstall names the folder)."""
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "uname").write_text("#!/bin/sh\necho Darwin\n")
    (tools / "uname").chmod(0o755)
    home = tmp_path / "mac"
    venv = home / "Library" / "Application Support" / "ecr-sso" / "venv"
    venv.mkdir(parents=True)

    result = subprocess.run(
        ["sh", str(REPO / "install" / "install.sh"), "--uninstall"],
        env={"HOME": str(home), "PATH": f"{tools}:{SYSTEM_PATH}"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert f"removed {venv}\n" in result.stdout
    assert not venv.exists()


def test_open_is_the_browser(tmp_path: Path) -> None:
    url = "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH"
    record = tmp_path / "opened"
    fake_open = tmp_path / "bin" / "open"
    fake_open.parent.mkdir()
    fake_open.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\n')
    fake_open.chmod(0o755)
    environ = {"PATH": f"{fake_open.parent}:{SYSTEM_PATH}", "HOME": str(tmp_path)}

    assert browser.unavailable_reason(environ, "darwin") is None
    assert browser.unavailable_reason({**environ, "SSH_CONNECTION": "x"}, "darwin") == (
        "this is an SSH session"
    )
    assert browser.command(url, environ, "darwin") == ["open", url]
    launch = browser.open_url(url, environ, "darwin")
    assert launch._process is not None
    assert launch._process.wait(timeout=10) == 0
    assert record.read_text() == f"{url}\n"


KEYCHAIN = '''\
"""Answers as keyring's macOS backend does when the Keychain refuses (a locked keychain,
or no user to ask: errSecInteractionNotAllowed)."""
import keyring.backend
import keyring.errors

REFUSAL = "(-25308, 'User interaction is not allowed.')"


class RefusingKeychain(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked(f"Can't get password from keychain: {REFUSAL}")

    def set_password(self, service, username, password):
        raise keyring.errors.KeyringLocked(f"Can't store password on keychain: {REFUSAL}")

    def delete_password(self, service, username):
        raise keyring.errors.KeyringLocked(f"Can't delete password in keychain: {REFUSAL}")
'''


def test_keychain_refusal_is_one_line(tmp_path: Path, run_helper: RunHelper) -> None:
    (tmp_path / "refusing_keychain.py").write_text(KEYCHAIN)
    secret = "s3cr3t-" + os.urandom(8).hex()
    stored = json.dumps({"ServerURL": "registry.example.com", "Username": "me", "Secret": secret})

    result = run_helper(
        "store",
        stored,
        env={
            "PYTHONPATH": str(tmp_path),
            "PYTHON_KEYRING_BACKEND": "refusing_keychain.RefusingKeychain",
        },
    )

    assert result.returncode == 1
    assert result.stdout.decode() == (
        "the OS keyring is not usable (KeyringLocked: Can't store password on keychain:"
        " (-25308, 'User interaction is not allowed.')); passwords for registries other"
        " than ECR are kept there: fix the keyring, or use another credsStore in Docker's"
        " config.json\n"
    )
    assert secret.encode() not in result.stdout + result.stderr

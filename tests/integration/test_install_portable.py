"""`install/install.sh` on other userlands: run by `dash` and by `busybox sh` (POSIX shells
like macOS's `/bin/sh` in its sh mode), with shims ahead on PATH that refuse the GNU-only
options of readlink, sed, stat and mktemp, as BSD's do. Also: the shell completion files
it installs, `--version V` from a package index, and its refusal under MSYS/Cygwin."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from realclients import require_tool

from credhelper import completion
from credhelper.cli import parser
from credhelper.windows import REFUSAL

pytestmark = [pytest.mark.real_client, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "install" / "install.sh"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)

# Each shim runs the real tool unless an option BSD's tool lacks (or spells differently)
# is given; then it fails loudly, and the test with it.
SHIM = """#!/bin/sh
for arg in "$@"; do
    case "$arg" in
        {refused}) echo "{name}: GNU-only option $arg refused (BSD userland)" >&2; exit 64 ;;
    esac
done
exec {real} "$@"
"""
REFUSED = {
    "readlink": "-f|-e|-m|--*",
    "sed": "-i|-r|--*",
    "stat": "-c|--*",
    "mktemp": "-p|--*",
}


def shell(name: str) -> list[str]:
    argv = ["busybox", "sh"] if name == "busybox" else [name]
    require_tool(argv[0])
    return argv


def bsd_shims(folder: Path) -> Path:
    folder.mkdir()
    for name, refused in REFUSED.items():
        real = shutil.which(name, path=SYSTEM_PATH)
        assert real is not None
        shim = folder / name
        shim.write_text(SHIM.format(name=name, refused=refused, real=real))
        shim.chmod(0o755)
    return folder


def run_install(
    sh: list[str], home: Path, *args: str, path: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        "HOME": str(home),
        "PATH": path,
        "PYTHON": BASE_PYTHON,
        "LANG": "C.UTF-8",
        **{k: v for k, v in os.environ.items() if k.startswith("PIP_") or "CERT" in k},
        **(env or {}),
    }
    return subprocess.run(
        [*sh, str(INSTALL), *args],
        env=environ,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=600,
    )


def test_the_shims_refuse_gnu_options(tmp_path: Path) -> None:
    shims = bsd_shims(tmp_path / "shims")
    refused = subprocess.run(
        [str(shims / "readlink"), "-f", "/"], capture_output=True, text=True, check=False
    )
    allowed = subprocess.run([str(shims / "stat"), "/"], capture_output=True, check=False)
    assert refused.returncode == 64
    assert "refused" in refused.stderr
    assert allowed.returncode == 0


@pytest.mark.parametrize("sh_name", ["dash", "busybox"])
def test_installs_under_posix_shells_with_bsd_tools(sh_name: str, tmp_path: Path) -> None:
    sh = shell(sh_name)
    home = tmp_path / "user"
    home.mkdir()
    shims = bsd_shims(tmp_path / "shims")
    path = f"{shims}:{SYSTEM_PATH}"

    result = run_install(sh, home, "--no-pipx", path=path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "refused" not in result.stderr
    helper = home / ".local" / "bin" / "docker-credential-ecr-sso"
    version = subprocess.run([str(helper), "version"], capture_output=True, text=True)
    assert version.stdout.startswith("docker-credential-ecr-sso (ecr-sso) ")
    bash_file = home / ".local" / "share" / "bash-completion" / "completions" / "ecr-sso"
    assert bash_file.read_text() == completion.script("bash", completion.describe(parser()))
    assert f"installed bash completion in {bash_file}" in result.stdout
    for name in ("zsh", "fish"):
        if shutil.which(name, path=path):
            assert f"installed {name} completion" in result.stdout
    assert not list(bash_file.parent.glob("*.tmp.*"))

    users_own = home / ".local" / "share" / "zsh" / "site-functions" / "_ecr-sso"
    users_own.parent.mkdir(parents=True, exist_ok=True)
    users_own.write_text("#compdef ecr-sso\n# my own\n")

    uninstalled = run_install(sh, home, "--uninstall", path=path)

    assert uninstalled.returncode == 0, uninstalled.stderr
    assert not bash_file.exists()
    assert users_own.read_text() == "#compdef ecr-sso\n# my own\n"
    assert not helper.exists()


@pytest.mark.parametrize("system", ["MINGW64_NT-10.0-19045", "MSYS_NT-10.0", "CYGWIN_NT-10.0"])
def test_refuses_under_msys_and_cygwin(system: str, tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "uname").write_text(f"#!/bin/sh\necho {system}\n")
    (tools / "uname").chmod(0o755)
    home = tmp_path / "user"
    home.mkdir()

    result = run_install(shell("dash"), home, path=f"{tools}:{SYSTEM_PATH}")

    assert result.returncode == 1
    assert result.stderr == f"install.sh: {REFUSAL}\n"
    assert list(home.iterdir()) == []


def test_version_installs_that_release_from_the_index(tmp_path: Path) -> None:
    """A release only the index has (a local version label no real index holds) is what
    `--version` installs, not the checkout."""
    release = "0.0.1+indexonly"
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", "build", ".*cache*"))
    pyproject = source / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('\nversion = "', f'\nversion = "{release}"#', 1)
    )
    index = tmp_path / "index"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--installer",
            "uv",
            "--wheel",
            "--outdir",
            str(index),
            str(source),
        ],
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
        capture_output=True,
        check=True,
    )
    home = tmp_path / "user"
    home.mkdir()
    find_links = " ".join(filter(None, [str(index), os.environ.get("PIP_FIND_LINKS")]))

    result = run_install(
        shell("dash"),
        home,
        "--no-pipx",
        "--version",
        release,
        path=SYSTEM_PATH,
        env={"PIP_FIND_LINKS": find_links},
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ecr-sso {release}" in result.stdout
    assert f"from ecr-sso=={release}" in result.stdout

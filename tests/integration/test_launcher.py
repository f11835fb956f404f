"""The helper script started without `site` (`python -I -S`, as the Homebrew formula runs
it) finds its package next to itself, through links too, and falls back to `site` where
the package is not there; on Windows both executables say in one line that it is not
supported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HELPER, SSO, RunHelper

import credhelper
from credhelper.windows import REFUSAL

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "docker-credential-ecr-sso"
DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"


def install_layout(prefix: Path) -> Path:
    """A venv's layout holding only our package (linked), its python (a link to this one,
    as a venv's is) and the script; the script."""
    site_packages = prefix / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site_packages = site_packages / "site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "credhelper").symlink_to(Path(credhelper.__file__).parent)
    (prefix / "bin").mkdir()
    (prefix / "bin" / "python").symlink_to(sys.executable)
    script = prefix / "bin" / "docker-credential-ecr-sso"
    script.write_bytes(SCRIPT.read_bytes())
    return script


def run_without_site(
    script: Path, action: str, stdin: str, python: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -I -S script action` with the python of the script's layout (else this
    one), reporting at exit whether `site` ran and sys.path."""
    if python is None:
        beside = script.resolve().parent / "python"
        python = beside if beside.exists() else Path(sys.executable)
    probe = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: sys.stderr.write(repr(("
        "'site' in sys.modules, sys.flags.no_site, sys.path))))\n"
        f"sys.argv = [{str(script)!r}, {action!r}]\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    return subprocess.run(
        [str(python), "-I", "-S", "-c", probe],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def warm(sso: SSO, run_helper: RunHelper) -> str:
    """A signed-in user whose token for DEV is cached; the cached answer."""
    sso.login()
    first = run_helper("get", DEV)
    assert first.returncode == 0, first.stdout
    return first.stdout.decode()


def test_without_site_the_package_is_found_in_the_interpreters_environment(
    warm: str, tmp_path: Path
) -> None:
    script = install_layout(tmp_path / "venv")

    result = run_without_site(script, "get", DEV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == warm
    site_loaded, no_site, path = eval(result.stderr)  # noqa: S307 - our own repr
    assert (site_loaded, no_site) == (False, 1)
    assert str(script.parents[1] / "lib") in path[0]


def test_through_a_link_the_interpreters_environment_counts(warm: str, tmp_path: Path) -> None:
    script = install_layout(tmp_path / "venv")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker-credential-ecr-sso").symlink_to(script)

    result = run_without_site(bin_dir / "docker-credential-ecr-sso", "get", DEV)

    assert result.returncode == 0, result.stderr
    assert result.stdout == warm


def test_without_the_package_beside_it_site_is_used(warm: str, tmp_path: Path) -> None:
    """A script whose interpreter's site-packages lacks the package (an editable install,
    as the test venv's): `site` then finds it, here through the editable install's .pth."""
    lone = tmp_path / "docker-credential-ecr-sso"
    lone.write_bytes(SCRIPT.read_bytes())

    result = run_without_site(lone, "get", DEV, python=Path(sys.executable))

    assert result.returncode == 0, result.stderr
    assert result.stdout == warm
    site_loaded, _, _ = eval(result.stderr)  # noqa: S307 - our own repr
    assert site_loaded


def test_without_site_the_version_comes_from_the_metadata_beside_it(tmp_path: Path) -> None:
    script = install_layout(tmp_path / "venv")
    site_packages = next((tmp_path / "venv" / "lib").glob("python*/site-packages"))
    dist_info = site_packages / "ecr_sso-9.8.7.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: ecr-sso\nVersion: 9.8.7\n")

    result = run_without_site(script, "version", "")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("docker-credential-ecr-sso (ecr-sso) 9.8.7")


def test_installed_script_is_ours() -> None:
    """The test venv's helper is this script, its first line rewritten by the installer."""
    installed = HELPER.read_text().split("\n")
    assert installed[0].startswith("#!")
    assert "python" in installed[0]
    assert installed[1:] == SCRIPT.read_text().split("\n")[1:]


HELPER_ENTRY = ("from credhelper.helper.main import main; main()", "stdout")
CLI_ENTRY = ("from credhelper.cli import main; sys.exit(main(['--version']))", "stderr")


# CPython on Windows says so in sys.platform; `ecr-sso` also checks os.name, the helper
# does not import `os` before its fast path (see credhelper/fastos.py).
@pytest.mark.parametrize(
    ("entry", "stream", "patch"),
    [
        (*HELPER_ENTRY, "sys.platform = 'win32'"),
        (*CLI_ENTRY, "sys.platform = 'win32'"),
        (*CLI_ENTRY, "os.name = 'nt'"),
    ],
)
def test_windows_says_so_in_one_line(entry: str, stream: str, patch: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import os, sys; {patch}; {entry}", "get"],
        input="",
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert getattr(result, stream) == REFUSAL + "\n"
    assert ".exe launcher" in REFUSAL
    assert "Credential Manager" in REFUSAL

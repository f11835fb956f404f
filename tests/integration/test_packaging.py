"""The release artefacts: `python -m build` makes a wheel and an sdist that `twine check`
accepts, the sdist builds the same wheel, and that wheel installed in fresh homes (`pipx
install` with its uv and its pip backend, `uv tool install`, a plain venv) puts a working
helper on PATH:
a cold `get` against the stand-ins, then a cache hit that loads no AWS code, and both
commands print the package's version.

Installs reach the package index the machine is configured with; pip's and uv's download
caches live in the checkout's ignored `build/` folder, so a second run reuses them."""

from __future__ import annotations

import email
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import SSO, environ_with
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, FakeAWS

pytestmark = [pytest.mark.real_client, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
CACHES = REPO / "build" / "test-caches"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
HELPER = "docker-credential-ecr-sso"


def run(argv: list[str], environ: dict[str, str], input: str = "") -> str:
    result = subprocess.run(
        argv,
        env=environ,
        capture_output=True,
        text=True,
        input=input,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, f"{argv}: {result.stdout}{result.stderr}"
    return str(result.stdout)


def version() -> str:
    from importlib.metadata import version as dist_version

    return dist_version("ecr-sso")


@dataclass(frozen=True)
class Dists:
    wheel: Path
    sdist: Path
    direct_wheel: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """`python -m build` (the sdist, then the wheel built from it), and a wheel built
    straight from the checkout for comparison."""
    out = tmp_path_factory.mktemp("dist")
    environ = {**os.environ, "PIP_CACHE_DIR": str(CACHES / "pip")}
    build = [sys.executable, "-m", "build", "--installer", "uv"]
    environ["PATH"] = f"{VENV_BIN}{os.pathsep}{environ.get('PATH', '')}"
    environ["UV_CACHE_DIR"] = str(CACHES / "uv")
    run([*build, "--outdir", str(out / "release"), str(REPO)], environ)
    run([*build, "--wheel", "--outdir", str(out / "direct"), str(REPO)], environ)
    (wheel,) = (out / "release").glob("*.whl")
    (sdist,) = (out / "release").glob("*.tar.gz")
    (direct,) = (out / "direct").glob("*.whl")
    return Dists(wheel, sdist, direct)


def wheel_files(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_twine_check_passes(dists: Dists) -> None:
    output = run(
        [str(VENV_BIN / "twine"), "check", "--strict", str(dists.wheel), str(dists.sdist)],
        dict(os.environ),
    )
    assert output.count("PASSED") == 2


def test_sdist_builds_the_same_wheel(dists: Dists) -> None:
    assert wheel_files(dists.wheel) == wheel_files(dists.direct_wheel)


def test_wheel_is_complete(dists: Dists) -> None:
    files = wheel_files(dists.wheel)
    name = f"ecr_sso-{version()}"
    script = files[f"{name}.data/scripts/{HELPER}"].decode()
    assert script.startswith("#!python\n")
    assert "credhelper/py.typed" in files
    assert files[f"{name}.dist-info/licenses/LICENSE"].startswith(b"\n" + b" " * 33)
    metadata = email.message_from_bytes(files[f"{name}.dist-info/METADATA"])
    assert metadata["Version"] == version()
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "docker-credential-ecr-sso" in str(metadata.get_payload())
    assert "ecr-sso = credhelper.cli:main" in files[f"{name}.dist-info/entry_points.txt"].decode()
    # The whole package, nothing from tests or tools.
    ours = {n for n in files if not n.startswith(name)}
    tree = {
        str(p.relative_to(REPO))
        for p in (REPO / "credhelper").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert ours == tree


def test_sdist_holds_what_a_packager_needs(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
        pkg_info = archive.extractfile(f"ecr_sso-{version()}/PKG-INFO")
        assert pkg_info is not None
        metadata = email.message_from_binary_file(io.BytesIO(pkg_info.read()))
    assert metadata["Version"] == version()
    for needed in ("LICENSE", "README.md", "pyproject.toml", f"scripts/{HELPER}"):
        assert needed in names
    assert "tests/conftest.py" in names
    assert not any(n.startswith((".venv", "build/")) for n in names)


# -- installs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Install:
    bin_dir: Path  # what the user puts on PATH

    def environ(self) -> dict[str, str]:
        return environ_with({"PATH": f"{self.bin_dir}{os.pathsep}{SYSTEM_PATH}"})


def network_settings() -> dict[str, str]:
    """How this machine reaches the package index (proxies, certificate bundles, pip's and
    uv's settings): the machine's, not the user's, so a fresh home keeps them."""
    passed = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    return {
        name: value
        for name, value in os.environ.items()
        if name in passed or name.startswith(("PIP_", "UV_")) or name.lower().endswith("_proxy")
    }


def fresh_home(root: Path) -> dict[str, str]:
    """A user with nothing installed, our tools reachable, shared download caches."""
    home = root / "home"
    home.mkdir()
    tools = root / "tools"
    tools.mkdir()
    for name in ("pipx", "uv"):
        (tools / name).symlink_to(VENV_BIN / name)
    return {
        **network_settings(),
        "HOME": str(home),
        "PATH": f"{tools}{os.pathsep}{SYSTEM_PATH}",
        "LANG": "C.UTF-8",
        "PIP_CACHE_DIR": str(CACHES / "pip"),
        "UV_CACHE_DIR": str(CACHES / "uv"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def pipx_install(root: Path, wheel: Path) -> Install:
    """pipx as it comes: its uv backend when the uv package is beside it (here it is)."""
    environ = fresh_home(root)
    run(["pipx", "install", "--python", BASE_PYTHON, str(wheel)], environ)
    return Install(Path(environ["HOME"]) / ".local" / "bin")


def pipx_pip_install(root: Path, wheel: Path) -> Install:
    """pipx with its pip backend, as where uv is not installed."""
    environ = fresh_home(root)
    environ["PIPX_DEFAULT_BACKEND"] = "pip"
    run(["pipx", "install", "--python", BASE_PYTHON, str(wheel)], environ)
    return Install(Path(environ["HOME"]) / ".local" / "bin")


def uv_tool_install(root: Path, wheel: Path) -> Install:
    environ = fresh_home(root)
    run(["uv", "tool", "install", "--python", BASE_PYTHON, str(wheel)], environ)
    return Install(Path(environ["HOME"]) / ".local" / "bin")


def venv_install(root: Path, wheel: Path) -> Install:
    environ = fresh_home(root)
    venv = Path(environ["HOME"]) / "venv"
    run([BASE_PYTHON, "-m", "venv", str(venv)], environ)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], environ)
    return Install(venv / "bin")


INSTALLERS: dict[str, Callable[[Path, Path], Install]] = {
    "pipx": pipx_install,
    "pipx-pip": pipx_pip_install,
    "uv-tool": uv_tool_install,
    "venv": venv_install,
}


@pytest.fixture(scope="module", params=sorted(INSTALLERS))
def installed(
    request: pytest.FixtureRequest, dists: Dists, tmp_path_factory: pytest.TempPathFactory
) -> Install:
    return INSTALLERS[request.param](tmp_path_factory.mktemp(request.param), dists.wheel)


def test_installed_commands_print_the_version(installed: Install) -> None:
    environ = installed.environ()
    assert shutil.which(HELPER, path=environ["PATH"]) == str(installed.bin_dir / HELPER)

    assert run(["ecr-sso", "--version"], environ) == f"ecr-sso {version()}\n"
    assert run([HELPER, "version"], environ).startswith(f"{HELPER} (ecr-sso) {version()}")


def test_installed_helper_gets_then_hits_the_cache(
    installed: Install, sso: SSO, aws: FakeAWS
) -> None:
    sso.login()
    environ = installed.environ()

    cold = run([HELPER, "get"], environ, input=DEV)
    hit = run([HELPER, "get"], environ, input=DEV)

    assert hit == cold
    assert '"Username":"AWS"' in cold
    assert aws.count(ECR_GET_AUTHORIZATION_TOKEN) == 1
    # The hit again, under the installed interpreter, listing what it imported.
    script = Path(os.path.realpath(installed.bin_dir / HELPER))
    interpreter = script.read_text().split("\n", 1)[0][2:].split()[0]
    probe = (
        "import atexit, runpy, sys\n"
        "atexit.register(lambda: sys.stderr.write(' '.join(sys.modules)))\n"
        f"sys.argv = [{str(script)!r}, 'get']\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    result = subprocess.run(
        [interpreter, "-c", probe], input=DEV, capture_output=True, text=True, env=environ
    )
    assert result.stdout == cold
    imported = set(result.stderr.split())
    assert "credhelper.helper.fastpath" in imported
    assert not imported & {"boto3", "botocore", "keyring", "platformdirs", "json"}

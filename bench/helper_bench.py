"""Benchmark of the credential helper, measured side by side in one run.

These machines are noisy, so every figure is a ratio against a baseline taken in the same
run, interleaved with it:

- cache-hit `get` against `python -I -c pass` (target <= 1.0x), for the helper as each
  install route leaves it: the editable checkout (.venv), a wheel installed by pip, pipx
  or uv (`#!<venv>/python`: `site` runs), and the same wheel with the shebang the
  Homebrew formula writes (`-IS`: no `site`, the package found beside the script);
- cold `get` (valid SSO login, no cached token) against `aws ecr get-login-password`
  (PyPI awscli) on the same local stand-in (target <= 0.5x);
- AWS calls made by 100 `get`s on two registries under SSO profiles (target ≤ 4).

Run: `.venv/bin/python bench/helper_bench.py [--runs N]`. No AWS account is used: the fake
SSO/ECR stand-in from `tests/` answers on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import HELPER, SSO, Env, home_locations
from fakeaws import ECR_GET_AUTHORIZATION_TOKEN, GET_ROLE_CREDENTIALS, FakeAWS
from timing import round_robin

import credhelper

BIN = Path(sys.executable).parent
DEV = "111111111111.dkr.ecr.eu-west-1.amazonaws.com"
PROD = "222222222222.dkr.ecr.us-east-1.amazonaws.com"


def isolated_environ(home: Path, fake: FakeAWS) -> tuple[Env, dict[str, str]]:
    """An environment like the tests' `env` and `aws` fixtures, under `home`."""
    env = Env.under(home)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_SSO_"))}
    environ.update(
        home_locations(home),
        AWS_EC2_METADATA_DISABLED="true",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    for service in ("SSO", "SSO_OIDC", "ECR", "ECR_PUBLIC"):
        environ[f"AWS_ENDPOINT_URL_{service}"] = fake.url
    return env, environ


def timed(argv: Sequence[str], environ: dict[str, str], stdin: bytes = b"") -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, input=stdin, capture_output=True, env=environ, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {result.stdout.decode()}{result.stderr.decode()}")
    return elapsed


def interleaved(
    runs: int, first: Callable[[], float], second: Callable[[], float]
) -> tuple[float, float]:
    """Medians of two measurements taken alternately, so drift hits both alike."""
    a, b = round_robin(runs, [first, second])
    return a, b


def install_wheel(root: Path) -> tuple[Path, Path, Path]:
    """Build the wheel and install it in a fresh venv (with uv, for speed); its python,
    its helper as installed, and a copy with the Homebrew formula's `-IS` shebang."""
    repo = Path(__file__).resolve().parents[1]
    environ = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    build = [sys.executable, "-m", "build", "--installer", "uv", "--wheel"]
    subprocess.run(
        [*build, "--outdir", str(root / "dist"), str(repo)],
        env=environ,
        capture_output=True,
        check=True,
    )
    (wheel,) = (root / "dist").glob("*.whl")
    venv = root / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run(
        [
            str(BIN / "uv"),
            "pip",
            "install",
            "-q",
            "--compile-bytecode",  # as pip does; uv leaves it to the first run
            "--python",
            str(venv / "bin" / "python"),
            str(wheel),
        ],
        env=environ,
        check=True,
    )
    installed = venv / "bin" / "docker-credential-ecr-sso"
    first, rest = installed.read_text().split("\n", 1)
    no_site = venv / "bin" / "docker-credential-ecr-sso-is"
    no_site.write_text(f"{first} -IS\n{rest}")
    no_site.chmod(0o755)
    return venv / "bin" / "python", installed, no_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="runs per hot measurement")
    args = parser.parse_args()
    # An installed wheel has its bytecode compiled; an editable checkout may not (these
    # machines set PYTHONDONTWRITEBYTECODE), and compiling on every run is not what users pay.
    compileall.compile_dir(Path(credhelper.__file__).parent, quiet=1)

    with FakeAWS() as fake, tempfile.TemporaryDirectory() as tmp:
        env, environ = isolated_environ(Path(tmp) / "home", fake)
        env.home.mkdir()
        SSO(env, fake).login()
        wheel_python, installed, no_site = install_wheel(Path(tmp))

        # 1. cache hit against a bare interpreter start (the installed venv's python)
        timed([str(HELPER), "get"], environ, DEV.encode())  # warm: fills the cache
        base, bare_no_site, hit_dev, hit_installed, hit = round_robin(
            args.runs,
            [
                lambda: timed([str(wheel_python), "-I", "-c", "pass"], environ),
                lambda: timed([str(wheel_python), "-I", "-S", "-c", "pass"], environ),
                lambda: timed([str(HELPER), "get"], environ, DEV.encode()),
                lambda: timed([str(installed), "get"], environ, DEV.encode()),
                lambda: timed([str(no_site), "get"], environ, DEV.encode()),
            ],
        )

        # 2. cold get against the AWS CLI, same login, same stand-in
        aws_cli = shutil.which("aws", path=environ["PATH"])
        if aws_cli is None:
            raise SystemExit("the `aws` CLI (PyPI awscli) is not installed in this venv")

        def cold_get() -> float:
            shutil.rmtree(env.cache_dir, ignore_errors=True)
            return timed([str(HELPER), "get"], environ, DEV.encode())

        cli_argv = [aws_cli, "ecr", "get-login-password", "--profile", "dev"]
        cold_runs = max(5, args.runs // 4)
        cold, cli = interleaved(cold_runs, cold_get, lambda: timed(cli_argv, environ))

        # 3. AWS calls for 100 gets on two registries
        shutil.rmtree(env.cache_dir, ignore_errors=True)
        fake.calls.clear()
        for i in range(100):
            timed([str(HELPER), "get"], environ, (DEV if i % 2 else PROD).encode())
        calls = fake.count(GET_ROLE_CREDENTIALS) + fake.count(ECR_GET_AUTHORIZATION_TOKEN)

    print(f"{'measurement':<52} {'median':>9} {'ratio':>7}  target")
    print(f"{'python -I -c pass (baseline)':<52} {base * 1000:8.1f}ms {1:7.2f}")
    for label, value, target in (
        ("python -I -S -c pass (the floor without site)", bare_no_site, ""),
        ("cache-hit get, editable checkout (.venv)", hit_dev, ""),
        ("cache-hit get, wheel as pip/pipx/uv install it", hit_installed, ""),
        ("cache-hit get, wheel started -IS (Homebrew formula)", hit, "<= 1.0x"),
    ):
        print(f"{label:<52} {value * 1000:8.1f}ms {value / base:6.2f}x  {target}")
    print(f"{'aws ecr get-login-password (baseline)':<52} {cli * 1000:8.1f}ms {1:7.2f}")
    print(
        f"{'cold get (SSO login valid, no cached token)':<52} {cold * 1000:8.1f}ms "
        f"{cold / cli:6.2f}x  <= 0.5x"
    )
    print(f"{'AWS calls for 100 gets on two registries':<52} {calls:>9} {'':>7}  <= 4")


if __name__ == "__main__":
    main()

"""The suite runs on several pytest-xdist workers (`bash tests/run`); tests that share a
session daemon must still share one worker, or each worker starts its own dockerd.

conftest.py marks them with `xdist_group` from the fixtures they use; this runs a small
suite through that hook on two workers and checks the group held together. It fails when
a pytest or pytest-xdist release silently stops grouping (pytest-xdist issue 1386).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]

_MODULE = """
import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def dockerd():
    return "a stand-in: no daemon is started here"


def _record(name):
    out = Path(os.environ["GROUPS_OUT"])
    out.joinpath(name).write_text(os.environ["PYTEST_XDIST_WORKER"])


@pytest.mark.parametrize("n", range(4))
def test_shares_the_daemon(dockerd, n):
    _record(f"{__name__}-shared-{n}")


@pytest.mark.parametrize("n", range(4))
def test_alone(n):
    _record(f"{__name__}-alone-{n}")
"""


def test_tests_sharing_dockerd_run_on_one_worker(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    for name in ("test_first.py", "test_second.py"):
        (suite / name).write_text(_MODULE)
    out = tmp_path / "out"
    out.mkdir()
    environ = dict(os.environ)
    environ.pop("PYTEST_ADDOPTS", None)
    environ["GROUPS_OUT"] = str(out)
    # Our conftest as a plugin: its hook is what marks the groups.
    environ["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), environ.get("PYTHONPATH", "")])

    run = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider"),
            *("-n", "2", "--dist", "loadgroup", "-v", "--rootdir", str(suite), str(suite)),
        ],
        cwd=suite,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    workers = {path.name: path.read_text() for path in out.iterdir()}
    assert len(workers) == 16
    shared = {worker for name, worker in workers.items() if "-shared-" in name}
    assert len(shared) == 1, workers
    assert "test_first.py::test_shares_the_daemon[0]@dockerd" in run.stdout
    assert "test_alone[0]@" not in run.stdout

"""A fresh clone, alone in an empty folder, runs its own fast tier.

Guards the repository being self-contained: a test that reads a file outside the checkout
(a sibling folder, the developer's home) passes here and fails on a newcomer's machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def _git_toplevel() -> Path | None:
    if shutil.which("git") is None:
        return None
    found = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        return None
    top = Path(found.stdout.strip()).resolve()
    return top if top == REPO_ROOT else None


def test_a_fresh_clone_alone_in_an_empty_folder_passes_its_fast_tier(tmp_path: Path) -> None:
    if _git_toplevel() is None:
        pytest.skip("not running from a git checkout of the repository: nothing to clone")
    empty = tmp_path / "empty"
    empty.mkdir()
    clone = empty / "clone"
    # The committed HEAD only: uncommitted files are not part of what a newcomer gets.
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO_ROOT), str(clone)],
        check=True,
        capture_output=True,
    )
    assert sorted(p.name for p in empty.iterdir()) == ["clone"]

    environ = dict(os.environ)
    # The clone's package, not this checkout's editable install, is the one under test.
    environ["PYTHONPATH"] = str(clone)
    environ.pop("PYTEST_ADDOPTS", None)
    environ.pop("PYTEST_XDIST_WORKER", None)
    imported = subprocess.run(
        [sys.executable, "-c", "import credhelper; print(credhelper.__file__)"],
        cwd=clone,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(imported.stdout.strip()).resolve().is_relative_to(clone.resolve())

    # pytest's own temporary folders go beside `empty`, never into it.
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/unit",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "basetemp"),
        ],
        cwd=clone,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed is not None, summary
    assert int(passed.group(1)) > 0
    assert "error" not in summary
    assert sorted(p.name for p in empty.iterdir()) == ["clone"]

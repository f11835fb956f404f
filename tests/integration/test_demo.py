"""`install/demo.sh` tells the whole story against the stand-ins and must succeed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from realclients import require_tool

pytestmark = pytest.mark.real_client

DEMO = Path(__file__).resolve().parents[2] / "install" / "demo.sh"


def test_demo_runs_start_to_finish(tmp_path: Path) -> None:
    require_tool("skopeo")
    require_tool("docker-registry")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    environ = dict(os.environ, TMPDIR=str(scratch))

    result = subprocess.run(
        ["sh", str(DEMO)],
        capture_output=True,
        text=True,
        env=environ,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in (
        "$ ecr-sso setup --from",
        "$ ecr-sso login dev",
        "$ skopeo copy",
        "$ ecr-sso status",
    ):
        assert step in out
    assert "signed in to sso-session 'connectedhome'" in out
    assert "dev      valid until " in out
    assert out.rstrip().endswith("with the dev profile's token.")
    # Everything happened in the demo's own temporary home, which it removed.
    assert list(scratch.iterdir()) == []

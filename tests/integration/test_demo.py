"""`install/demo.sh` tells the whole story against the stand-ins and must succeed."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from fakeaws import FakeAWS
from realclients import require_tool

pytestmark = pytest.mark.real_client

DEMO = Path(__file__).resolve().parents[2] / "install" / "demo.sh"
# The account and role demo.sh gives the stand-ins.
ACCOUNT = "642976147714"
ROLE = "Administrator"


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
    steps = [
        "$ skopeo copy",
        "(failed, as expected: docker, skopeo and podman have no credentials for this registry)",
        "$ ecr-sso setup --from",
        "$ ecr-sso login dev",
        "| docker-credential-ecr-sso get   # password redacted\n",
        "$ skopeo copy",
        "$ ecr-sso status",
    ]
    at = 0
    for step in steps:  # each step, in this order
        found = out.find(step, at)
        assert found >= 0, f"{step!r} missing, or out of order, in:\n{out}"
        at = found + len(step)
    host = re.search(r"docker-registry at (127\.0\.0\.1:[0-9]+)\.", out)
    assert host is not None
    # Before setup the registry refuses the anonymous pull.
    before_setup = out[: out.index("$ ecr-sso setup")]
    assert "unauthorized: authentication required" in before_setup
    # The helper answered for the registry; the password is not shown.
    assert (
        f"$ echo {host[1]} | docker-credential-ecr-sso get   # password redacted\n"
        f'{{"ServerURL":"{host[1]}","Username":"AWS","Secret":"<redacted>"}}\n'
    ) in out
    assert FakeAWS.password(ACCOUNT, ROLE) not in out + result.stderr
    # After setup and login the same pull succeeds (skopeo --quiet prints nothing).
    after = out[out.index("$ skopeo copy", out.index("docker-credential-ecr-sso get")) :]
    assert "level=fatal" not in after.split("\n$ ")[0]
    assert "signed in to sso-session 'connectedhome'" in out
    assert "dev      valid until " in out
    assert out.rstrip().endswith("with the dev profile's token.")
    # Everything happened in the demo's own temporary home, which it removed.
    assert list(scratch.iterdir()) == []

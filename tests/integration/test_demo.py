"""`install/demo.sh` tells the whole story against the stand-ins and must succeed; with
`--keep` it leaves them running to try every command, until `--stop`."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
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


def descendants(pid: int) -> set[int]:
    """`pid` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def command_line(pid: int) -> bytes | None:
    """The command line of a running process (not a zombie), or None."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        line = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return None
    return None if state == "Z" else line


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="walks the process tree in /proc")
def test_keep_leaves_the_stand_ins_to_try_every_command_then_stop_ends_them(
    tmp_path: Path,
) -> None:
    """`demo.sh --keep` ends with the stand-ins up and the lines that point a shell at
    them; repos, tags, create, promote and pull-through then work there without AWS; and
    `demo.sh --stop DIR` leaves no process and no file behind."""
    require_tool("skopeo")
    require_tool("docker-registry")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # A narrow terminal: `ps` cuts command lines to COLUMNS, which must not hide ours.
    environ = dict(os.environ, TMPDIR=str(scratch), COLUMNS="40")

    kept = subprocess.run(
        ["sh", str(DEMO), "--keep"],
        capture_output=True,
        text=True,
        env=environ,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )

    assert kept.returncode == 0, kept.stdout + kept.stderr
    found = re.search(r"\(or: \. (\S+)/shell\.sh\)", kept.stdout)
    assert found is not None, kept.stdout
    work = Path(found[1])
    assert work.parent == scratch
    assert f"install/demo.sh --stop {work}\n" in kept.stdout
    shell = (work / "shell.sh").read_text()
    assert shell in kept.stdout, "the lines to paste are printed"
    pid = int((work / "standins.pid").read_text())
    running = {p: command_line(p) for p in descendants(pid)}
    assert len(running) > 2, "the stand-ins and the registries they started"

    def try_(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", f". {work}/shell.sh && {command}"],
            capture_output=True,
            text=True,
            env=environ,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    try:
        repos = try_("ecr-sso repos")
        assert (repos.returncode, repos.stdout) == (0, "demo/hello\n"), repos.stderr
        tags = try_("ecr-sso tags demo/hello")
        assert (tags.returncode, tags.stdout) == (0, "1\n"), tags.stderr
        created = try_("ecr-sso create team/tool")
        assert created.returncode == 0, created.stderr
        assert created.stdout.endswith("/team/tool\n")
        assert try_("ecr-sso repos").stdout == "demo/hello\nteam/tool\n"
        promoted = try_("ecr-sso promote demo/hello:1 --from dev --to stage")
        assert promoted.returncode == 0, promoted.stderr
        (line,) = promoted.stdout.splitlines()
        assert re.fullmatch(r"127\.0\.0\.1:\d+/demo/hello@sha256:[0-9a-f]{64}", line)
        assert "promote: stage: copied to " in promoted.stderr
        # A Docker Hub login where `docker login` leaves one, for the pull-through secret.
        docker_config = work / "home" / ".docker" / "config.json"
        config = json.loads(docker_config.read_text())
        config["auths"] = {
            "https://index.docker.io/v1/": {
                "auth": base64.b64encode(b"hubuser:dckr_pat_demo").decode()
            }
        }
        docker_config.write_text(json.dumps(config))
        set_up = try_("ecr-sso pull-through setup --profile dev")
        assert set_up.returncode == 0, set_up.stderr
        assert "pull-through: official images are now at " in set_up.stderr
        status = try_("ecr-sso pull-through status --profile dev")
        assert status.returncode == 0, status.stderr
        assert "docker-hub" in status.stdout
    finally:
        stopped = subprocess.run(
            ["sh", str(DEMO), "--stop", str(work)],
            capture_output=True,
            text=True,
            env=environ,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    # The same process (its number could be another's by now) still running?
    survivors = [p for p, line in running.items() if line and command_line(p) == line]
    for survivor in survivors:  # a failed stop must not leave them running on this machine
        os.kill(survivor, signal.SIGTERM)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert stopped.stdout == f"stopped the stand-ins (process {pid})\nremoved {work}\n"
    assert survivors == []
    assert list(scratch.iterdir()) == []

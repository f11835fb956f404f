"""`ecr-sso rewrite` on a repository someone else controls: links, FIFOs and devices where
files should be, YAML bombs, `.gitignore` patterns built to be slow, and names and values
with control characters. Each must cost bounded time and memory, give one line on stderr
for the file concerned, and leave the run going for the other files; nothing is written
outside the tree.

The command runs as a subprocess so that a hang is caught by the generous hang guard
(`timeout`) instead of blocking the suite."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BIN_DIR, Env

HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
ECR_SSO = str(BIN_DIR / "ecr-sso")
GOOD = "FROM connectedhome/app:1\n"
REWRITTEN = f"FROM {HOST}/app:1\n"
HANG_GUARD = 300  # seconds; each run here takes well under one on an idle machine


@pytest.fixture
def repo(env: Env, tmp_path: Path) -> Path:
    """A folder with one ordinary Dockerfile, and our config with the team's organisation."""
    env.write_config('dockerhub_org = "connectedhome"\n\n[pull_through]\nprefix = "docker-hub"\n')
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "good.Dockerfile").write_text(GOOD)
    return folder


def run(folder: Path, *args: str, git: bool = True) -> subprocess.CompletedProcess[str]:
    environ = dict(os.environ)
    if not git:
        environ["PATH"] = str(BIN_DIR)  # no git on PATH: our own walk and .gitignore reader
    return subprocess.run(
        [ECR_SSO, "rewrite", "--registry", HOST, *args],
        cwd=folder,
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
        check=False,
    )


def run_on_a_terminal(folder: Path) -> str:
    """What `rewrite` (the diff) prints when its output is a terminal."""
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        [ECR_SSO, "rewrite", "--registry", HOST],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.DEVNULL,
    ) as process:
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command exited and closed its side
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=HANG_GUARD)
    os.close(controller)
    return b"".join(chunks).decode()


def git(folder: Path, *argv: str) -> None:
    subprocess.run(
        ["git", "-C", str(folder), "-c", "init.defaultBranch=main", *argv],
        check=True,
        capture_output=True,
    )


def committed(folder: Path) -> None:
    git(folder, "init", "-q")
    git(folder, "add", "-A")
    git(folder, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "x")


# 19.2: never write outside the tree.


def test_a_tracked_file_whose_folder_is_now_a_link_is_not_followed(
    repo: Path, tmp_path: Path
) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "Dockerfile").write_text(GOOD)
    committed(repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text(GOOD)
    (repo / "sub" / "Dockerfile").unlink()
    (repo / "sub").rmdir()
    (repo / "sub").symlink_to(outside)

    result = run(repo, "--write")

    assert result.returncode == 0, result.stderr
    assert (outside / "Dockerfile").read_text() == GOOD
    assert sorted(os.listdir(outside)) == ["Dockerfile"]
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN
    assert result.stderr == (
        "ecr-sso: sub/Dockerfile: skipped, a folder on its path (sub) is a symbolic link\n"
    )


def test_a_file_that_cannot_be_replaced_is_named_and_the_others_are_written(repo: Path) -> None:
    (repo / "stuck.Dockerfile").write_text(GOOD)
    chattr = shutil.which("chattr", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if (
        chattr is None
        or subprocess.run(
            [chattr, "+i", str(repo / "stuck.Dockerfile")], capture_output=True, check=False
        ).returncode
    ):
        pytest.skip("no immutable files here (chattr needs CAP_LINUX_IMMUTABLE and ext4)")
    try:
        result = run(repo, "--write")
    finally:
        subprocess.run([chattr, "-i", str(repo / "stuck.Dockerfile")], check=False)

    assert result.returncode == 4
    assert result.stdout == "rewrote good.Dockerfile (1 reference)\n"
    assert result.stderr == (
        "ecr-sso: stuck.Dockerfile: cannot be replaced: Operation not permitted; not written\n"
        "ecr-sso: 1 file not written (see above); the others were. Once the cause is gone,"
        " `ecr-sso rewrite --write` again does the rest\n"
    )
    assert (repo / "stuck.Dockerfile").read_text() == GOOD
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN
    assert sorted(os.listdir(repo)) == ["good.Dockerfile", "stuck.Dockerfile"]


# 19.7: FIFOs, devices, bombs and slow patterns.


@pytest.mark.parametrize("with_git", [False, True], ids=["walked", "git"])
def test_a_fifo_named_dockerfile_is_one_line(repo: Path, with_git: bool) -> None:
    if with_git:  # git lists no untracked FIFO: a tracked file becomes one
        (repo / "Dockerfile").write_text(GOOD)
        committed(repo)
        (repo / "Dockerfile").unlink()
    os.mkfifo(repo / "Dockerfile")

    result = run(repo, "--write", git=with_git)

    assert result.returncode == 0, result.stderr
    assert result.stderr == "ecr-sso: Dockerfile: skipped, not a regular file (a FIFO)\n"
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN


def test_a_huge_dockerfile_is_one_line(repo: Path) -> None:
    (repo / "Dockerfile").write_text("RUN" + " a" * 600_000 + "\n")

    result = run(repo, "--write")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "ecr-sso: Dockerfile: skipped, larger than 1 MiB\n"
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN


def test_a_link_to_dev_zero_named_dockerfile_is_one_line(repo: Path) -> None:
    (repo / "Dockerfile").symlink_to("/dev/zero")

    walked = run(repo, "--write")
    named = run(repo, "--check", "Dockerfile")

    assert walked.returncode == 0, walked.stderr
    assert walked.stderr == "ecr-sso: Dockerfile: skipped, it is a symbolic link\n"
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN
    # Named on the command line, the link is followed, to a device, which is not read.
    assert (named.returncode, named.stdout) == (0, "")
    assert named.stderr == (
        "ecr-sso: Dockerfile: skipped, not a regular file (a character device)\n"
    )


def test_a_fifo_gitignore_is_one_line_without_git(repo: Path) -> None:
    os.mkfifo(repo / ".gitignore")
    (repo / "sub").mkdir()
    (repo / "sub" / ".gitignore").symlink_to("/dev/zero")

    result = run(repo, "--write", git=False)

    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "ecr-sso: .gitignore: skipped, not read, not a regular file (a FIFO)\n"
        "ecr-sso: sub/.gitignore: skipped, not read, it is a symbolic link\n"
    )
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN


def test_a_fifo_gitignore_in_a_work_tree_does_not_hang_git(repo: Path) -> None:
    (repo / "sub").mkdir()
    (repo / "sub" / "Dockerfile").write_text(GOOD)
    committed(repo)
    os.mkfifo(repo / "sub" / ".gitignore")
    (repo / "new.Dockerfile").write_text(GOOD)  # untracked: still found

    result = run(repo, "--check")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{name}:1: connectedhome/app:1 → {HOST}/app:1"
        for name in ("good.Dockerfile", "new.Dockerfile", "sub/Dockerfile")
    ]
    assert "ecr-sso: sub/.gitignore: skipped, not read, not a regular file (a FIFO)\n" in (
        result.stderr
    )


def test_a_backwards_range_in_gitignore_matches_nothing(repo: Path) -> None:
    (repo / "ignored.Dockerfile").write_text(GOOD)
    (repo / "z.Dockerfile").write_text(GOOD)
    (repo / "y.Dockerfile").write_text(GOOD)
    # A range written backwards matches only its first end in git (`z.Dockerfile` is
    # ignored); Python's re refuses to compile it.
    (repo / ".gitignore").write_text("[z-a]*\nignored.*\n")

    result = run(repo, "--check", git=False)

    assert result.returncode == 1, result.stderr
    listed = {line.split(":", 1)[0] for line in result.stdout.splitlines()}
    assert listed == {"good.Dockerfile", "y.Dockerfile"}


def test_gitignore_patterns_built_to_be_slow_are_matched_in_bounded_time(repo: Path) -> None:
    deep = repo.joinpath(*["a"] * 30)
    deep.mkdir(parents=True)
    (deep / "x.Dockerfile").write_text(GOOD)
    long_name = repo / ("a" * 200)
    long_name.mkdir()
    (long_name / "y.Dockerfile").write_text(GOOD)
    (repo / "ignored.Dockerfile").write_text(GOOD)
    (repo / ".gitignore").write_text(
        "**/" * 20
        + "nothing-matches\n"  # backtracks over every way to split 30 folders
        + "*a" * 40
        + "b\n"  # and over every way to split 200 letters
        + "ignored.*\n"
    )

    result = run(repo, "--check", git=False)

    assert result.returncode == 1, result.stderr
    listed = {line.split(":", 1)[0] for line in result.stdout.splitlines()}
    assert listed == {
        "/".join(["a"] * 30) + "/x.Dockerfile",
        "a" * 200 + "/y.Dockerfile",
        "good.Dockerfile",
    }


BILLION_LAUGHS = "".join(
    f"x-{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]\n" for level in range(1, 10)
)


def test_yaml_bombs_are_bounded(repo: Path) -> None:
    (repo / "laughs").mkdir()
    (repo / "laughs" / "compose.yaml").write_text(
        "x-0: &l0 [lol, lol]\n"
        + BILLION_LAUGHS
        + "services:\n  app:\n    image: connectedhome/app:1\n    x: *l9\n"
    )
    (repo / "loop").mkdir()
    (repo / "loop" / "compose.yaml").write_text(
        "x-loop: &loop {a: *loop, image: connectedhome/app:1}\nservices:\n  app: *loop\n"
    )
    (repo / "deep").mkdir()
    (repo / "deep" / "compose.yaml").write_text(
        "services:\n  app:\n    image: connectedhome/app:1\n    x: "
        + "[" * 100_000
        + "]" * 100_000
        + "\n"
    )
    (repo / "deep-block").mkdir()
    (repo / "deep-block" / "values.yaml").write_text(
        "image: connectedhome/app:1\nx:\n"
        + "".join(" " * depth + "- \n" for depth in range(1, 1100))
    )

    (repo / "wide").mkdir()
    (repo / "wide" / "compose.yaml").write_text(
        "services:\n  app:\n    image: connectedhome/app:1\n    x: [" + "a," * 1_000_000 + "a]\n"
    )

    result = run(repo, "--write")

    assert result.returncode == 0, result.stderr
    # (The line is libyaml's; the pure-Python loader stops at Python's recursion limit.)
    lines = sorted(re.sub(r"line \d+: ", "", line) for line in result.stderr.splitlines())
    assert lines == [
        "ecr-sso: deep-block/values.yaml: skipped, not read as helm-values: nested too deeply",
        "ecr-sso: deep/compose.yaml: skipped, not read as compose: nested too deeply",
        "ecr-sso: wide/compose.yaml: skipped, not read as compose: more than 300,000 values:"
        " not read",
    ]
    # The bombs that parse are scanned like any other file.
    assert f"image: {HOST}/app:1\n" in (repo / "laughs" / "compose.yaml").read_text()
    assert (
        (repo / "loop" / "compose.yaml")
        .read_text()
        .startswith(f"x-loop: &loop {{a: *loop, image: {HOST}/app:1}}\n")
    )
    assert (repo / "good.Dockerfile").read_text() == REWRITTEN


# 19.8: what comes from the repository is escaped before it reaches the terminal.


def test_control_characters_in_names_and_values_are_escaped(repo: Path) -> None:
    name = "evil\n\x1b[2J\x1b]0;owned\x07.Dockerfile"
    (repo / name).write_text("FROM connectedhome/app:1\nFROM ${X}\x1b[31m\n")
    (repo / "ok.Dockerfile").write_text("FROM $\x1b[1mBASE\u202e\n")
    (repo / "tag.Dockerfile").write_text("FROM redis:${V}\x1b[8m\n")  # a name, then the tag

    check = run(repo, "--check")
    diff = run(repo)
    on_a_terminal = run_on_a_terminal(repo)
    as_json = run(repo, "--json")

    escaped = "evil\\n\\x1b[2J\\x1b]0;owned\\x07.Dockerfile"
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        f"{escaped}:1: connectedhome/app:1 → {HOST}/app:1",
        f"good.Dockerfile:1: connectedhome/app:1 → {HOST}/app:1",
        f"tag.Dockerfile:1: redis:${{V}}\\x1b[8m → {HOST}/docker-hub/library/redis:${{V}}\\x1b[8m",
    ]
    assert check.stderr.splitlines()[:2] == [
        f"ecr-sso: {escaped}:2: ${{X}}\\x1b[31m: built from variables; not rewritten",
        "ecr-sso: ok.Dockerfile:1: $\\x1b[1mBASE\\u202e: built from variables; not rewritten",
    ]
    for output in (check.stdout, check.stderr, diff.stderr, on_a_terminal, as_json.stdout):
        assert "\x1b" not in output
        assert "\x07" not in output
        assert "\u202e" not in output
    # The diff names the file as git quotes it, so `git apply` takes it; piped, its lines
    # are the file's bytes (a patch), on a terminal they are escaped.
    assert '--- "a/evil\\n\\033[2J\\033]0;owned\\a.Dockerfile"\n' in diff.stdout
    assert " FROM ${X}\x1b[31m\n" in diff.stdout
    assert " FROM ${X}\\x1b[31m\r\n" in on_a_terminal
    assert json.loads(as_json.stdout)["references"][0]["file"] == name


def test_the_diff_applies_with_git_for_an_awkward_name(repo: Path) -> None:
    name = 'tab\there "quoted" \\ é.Dockerfile'
    (repo / name).write_text(GOOD)
    committed(repo)

    diff = run(repo)
    applied = subprocess.run(
        ["git", "-C", str(repo), "apply", "-"],
        input=diff.stdout,
        capture_output=True,
        text=True,
        check=False,
    )

    assert applied.returncode == 0, applied.stderr
    assert (repo / name).read_text() == REWRITTEN

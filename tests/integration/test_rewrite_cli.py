"""`ecr-sso rewrite` as a command: the golden tree copied to a temporary folder (a git work
tree, or a plain folder with a .gitignore), the default diff, `--check`'s exit codes and
listing, `--write` and its idempotence, `--json`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Env
from ecrbed import Cli, cli_fixture  # noqa: F401 - fixture

GOLDEN = Path(__file__).parents[1] / "golden" / "rewrite"
HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


@pytest.fixture
def repo(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The golden input tree as the current folder, and our config with the team's
    organisation and a pull-through cache."""
    env.write_config('dockerhub_org = "connectedhome"\n\n[pull_through]\nprefix = "docker-hub"\n')
    folder = tmp_path / "repo"
    shutil.copytree(GOLDEN / "input", folder)
    monkeypatch.chdir(folder)
    return folder


def _git(folder: Path, *argv: str) -> None:
    subprocess.run(
        ["git", "-C", str(folder), "-c", "init.defaultBranch=main", *argv],
        check=True,
        capture_output=True,
    )


def test_default_is_a_diff_and_nothing_changes(repo: Path, cli: Cli) -> None:
    before = _tree(repo)

    result = cli("rewrite", "--registry", HOST)

    assert result.code == 0, result.err
    assert result.out == (GOLDEN / "expected.diff").read_bytes().decode()
    assert _tree(repo) == before
    assert "ecr-sso: Dockerfile:28: ${REGISTRY}/app:${VERSION}: built from variables;" in (
        result.err
    )


def test_check_lists_then_write_then_check_passes(repo: Path, cli: Cli) -> None:
    check = cli("rewrite", "--registry", HOST, "--check")

    assert check.code == 1
    assert check.out == (GOLDEN / "expected-check.txt").read_bytes().decode()
    assert check.err.endswith(
        "ecr-sso: 42 references to Docker Hub in 10 files; `ecr-sso rewrite --write`"
        " rewrites them\n"
    )

    written = cli("rewrite", "--registry", HOST, "--write")

    assert written.code == 0, written.err
    assert "rewrote Dockerfile (6 references)\n" in written.out
    assert _tree(repo) == _tree(GOLDEN / "expected")

    again = cli("rewrite", "--registry", HOST, "--write")

    assert again.code == 0
    assert again.out == ""
    assert _tree(repo) == _tree(GOLDEN / "expected")
    passed = cli("rewrite", "--registry", HOST, "--check")
    assert passed.code == 0
    assert passed.out == ""


def test_write_keeps_a_files_mode(repo: Path, cli: Cli) -> None:
    (repo / "compose.yaml").chmod(0o640)

    assert cli("rewrite", "--registry", HOST, "--write", "compose.yaml").code == 0

    assert (repo / "compose.yaml").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in repo.iterdir() if p.name.startswith(".tmp-")] == []


def test_write_through_a_symbolic_link_keeps_the_link(repo: Path, cli: Cli) -> None:
    (repo / "linked.Dockerfile").symlink_to("crlf.Dockerfile")

    assert cli("rewrite", "--registry", HOST, "--write", "linked.Dockerfile").code == 0

    assert (repo / "linked.Dockerfile").is_symlink()
    expected = (GOLDEN / "expected" / "crlf.Dockerfile").read_bytes()
    assert (repo / "crlf.Dockerfile").read_bytes() == expected


def test_json(repo: Path, cli: Cli) -> None:
    result = cli("rewrite", "--registry", HOST, "--json", "compose.yaml", "k8s")

    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["references"][0] == {
        "file": "compose.yaml",
        "kind": "compose",
        "line": 4,
        "reference": "connectedhome/app:1.4",
        "replacement": f"{HOST}/app:1.4",
        "status": "ecr",
    }
    assert {r["status"] for r in report["references"]} == {"ecr", "pull-through", "unresolved"}
    assert {r["file"] for r in report["references"]} == {"compose.yaml", "k8s/deployment.yaml"}
    assert report["written"] == []
    assert result.err == ""


def test_gitignore_is_honoured_by_git(repo: Path, cli: Cli) -> None:
    (repo / "vendor").mkdir()
    (repo / "vendor" / "Dockerfile").write_text("FROM connectedhome/vendored:1\n")
    (repo / "untracked.Dockerfile").write_text("FROM connectedhome/new:1\n")
    (repo / ".gitignore").write_text("/vendor/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "Dockerfile", ".gitignore")

    result = cli("rewrite", "--registry", HOST, "--check")

    assert result.code == 1
    assert "untracked.Dockerfile:1: connectedhome/new:1" in result.out
    assert "vendor/" not in result.out
    # Named explicitly, an ignored file is read.
    assert (
        "vendor/Dockerfile:1:"
        in cli("rewrite", "--registry", HOST, "--check", "vendor/Dockerfile").out
    )


def test_gitignore_is_honoured_without_git(
    repo: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")  # no git: our own reader
    for folder in ("build", "docs/generated", "keep"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "Dockerfile").write_text("FROM connectedhome/x:1\n")
    (repo / "keep" / "old.Dockerfile").write_text("FROM connectedhome/old:1\n")
    (repo / ".gitignore").write_text("# build output\nbuild/\n/docs/generated\n*.Dockerfile\n")
    (repo / "keep" / ".gitignore").write_text("!old.Dockerfile\n")

    result = cli("rewrite", "--registry", HOST, "--check")

    assert result.code == 1
    listed = {line.split(":", 1)[0] for line in result.out.splitlines()}
    assert "keep/Dockerfile" in listed
    assert "keep/old.Dockerfile" in listed
    assert not {"build/Dockerfile", "docs/generated/Dockerfile", "crlf.Dockerfile"} & listed


def test_bad_input_is_one_line(repo: Path, cli: Cli) -> None:
    missing = cli("rewrite", "--registry", HOST, "nowhere")
    assert (missing.code, missing.out, missing.err) == (
        2,
        "",
        "ecr-sso: nowhere: no such file or folder\n",
    )

    (repo / "compose.yaml").write_text("services:\n  app: [\n")
    broken = cli("rewrite", "--registry", HOST, "--check", "compose.yaml")
    assert broken.code == 0
    assert broken.err.startswith("ecr-sso: compose.yaml: skipped, not read as compose: line ")

    both = cli("rewrite", "--registry", HOST, "--check", "--write")
    assert both.code == 2


def test_without_a_registry_says_how_to_choose_one(repo: Path, cli: Cli) -> None:
    result = cli("rewrite", "--check")

    assert result.code == 2
    assert result.err.startswith("ecr-sso: no registry chosen: pass --profile PROFILE or")

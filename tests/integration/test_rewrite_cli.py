"""`ecr-sso rewrite` as a command: each golden case copied to a temporary folder (a git work
tree, or a plain folder with a .gitignore), the default diff, `--check`'s exit codes and
listing, `--write` and its idempotence, `--json`, exclusions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Env
from ecrbed import Cli, cli_fixture  # noqa: F401 - fixture

GOLDEN = Path(__file__).parents[1] / "golden" / "rewrite"
BASICS = GOLDEN / "basics"
HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "input").is_dir())
CONFIG = 'dockerhub_org = "connectedhome"\n\n[pull_through]\nprefix = "docker-hub"\n'


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(folder).parts
    }


@pytest.fixture
def repo(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The basic golden input tree as the current folder, and our config with the team's
    organisation and a pull-through cache."""
    env.write_config(CONFIG)
    folder = tmp_path / "repo"
    shutil.copytree(BASICS / "input", folder)
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
    assert result.out == (BASICS / "expected.diff").read_bytes().decode()
    assert _tree(repo) == before
    assert "ecr-sso: Dockerfile:28: ${REGISTRY}/app:${VERSION}: built from variables;" in (
        result.err
    )


@pytest.mark.parametrize("case", CASES)
def test_check_lists_then_write_then_check_passes(
    case: str, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    config = GOLDEN / case / "config.toml"
    env.write_config(config.read_text() if config.exists() else CONFIG)
    folder = tmp_path / case
    shutil.copytree(GOLDEN / case / "input", folder)
    monkeypatch.chdir(folder)

    check = cli("rewrite", "--registry", HOST, "--check")

    expected_check = (GOLDEN / case / "check.txt").read_bytes().decode()
    assert (check.code, check.out) == (1, expected_check)
    pending, files = (
        len(expected_check.splitlines()),
        len({line.split(":", 1)[0] for line in expected_check.splitlines()}),
    )
    assert check.err.endswith(
        f"ecr-sso: {pending} reference{'s' if pending > 1 else ''} to Docker Hub in {files}"
        f" file{'s' if files > 1 else ''}; `ecr-sso rewrite --write` rewrites them\n"
    )

    written = cli("rewrite", "--registry", HOST, "--write")

    assert written.code == 0, written.err
    assert _tree(folder) == _tree(GOLDEN / case / "expected")

    again = cli("rewrite", "--registry", HOST, "--write")

    assert (again.code, again.out) == (0, "")
    assert _tree(folder) == _tree(GOLDEN / case / "expected")
    passed = cli("rewrite", "--registry", HOST, "--check")
    assert (passed.code, passed.out) == (0, "")


def test_write_says_what_it_rewrote(repo: Path, cli: Cli) -> None:
    written = cli("rewrite", "--registry", HOST, "--write")

    assert written.code == 0, written.err
    assert "rewrote Dockerfile (8 references)\n" in written.out


def test_write_keeps_a_files_mode(repo: Path, cli: Cli) -> None:
    (repo / "compose.yaml").chmod(0o640)

    assert cli("rewrite", "--registry", HOST, "--write", "compose.yaml").code == 0

    assert (repo / "compose.yaml").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in repo.iterdir() if p.name.startswith(".tmp-")] == []


def test_write_through_a_symbolic_link_keeps_the_link(repo: Path, cli: Cli) -> None:
    (repo / "linked.Dockerfile").symlink_to("crlf.Dockerfile")

    assert cli("rewrite", "--registry", HOST, "--write", "linked.Dockerfile").code == 0

    assert (repo / "linked.Dockerfile").is_symlink()
    expected = (BASICS / "expected" / "crlf.Dockerfile").read_bytes()
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
    assert {r["status"] for r in report["references"]} == {
        "ecr",
        "pull-through",
        "unresolved",
        "built here",
    }
    assert {r["file"] for r in report["references"]} == {"compose.yaml", "k8s/deployment.yaml"}
    assert [r for r in report["references"] if r["status"] == "built here"] == [
        {
            "file": "compose.yaml",
            "kind": "compose",
            "line": 7,
            "reference": "connectedhome/web:dev",
            "replacement": None,
            "status": "built here",
        }
    ]
    assert (report["written"], report["skipped"], report["excluded"]) == ([], [], {})
    assert report["not_written"] == []
    assert result.err == ""


def test_json_kinds_are_precise(repo: Path, cli: Cli) -> None:
    result = cli("rewrite", "--registry", HOST, "--json", "Dockerfile")

    kinds = [(r["line"], r["kind"]) for r in json.loads(result.out)["references"]]
    assert kinds[:2] == [(1, "syntax-directive"), (3, "dockerfile")]


def test_excluded_files_are_counted_and_never_edited(repo: Path, env: Env, cli: Cli) -> None:
    for folder in ("vendor/lib", "pkg/testdata", "examples"):
        (repo / folder).mkdir(parents=True)
        (repo / folder / "Dockerfile").write_text("FROM connectedhome/x:1\n")
    env.write_config(CONFIG + '\n[rewrite]\nexclude = ["examples/"]\n')

    check = cli("rewrite", "--registry", HOST, "--check", "--json")
    notes = cli("rewrite", "--registry", HOST, "--check")

    report = json.loads(check.out)
    assert report["excluded"] == {"examples/": 1, "testdata/": 1, "vendor/": 1}
    assert {
        (r["file"], r["status"])
        for r in report["references"]
        if r["reference"] == "connectedhome/x:1"
    } == {
        ("vendor/lib/Dockerfile", "excluded"),
        ("pkg/testdata/Dockerfile", "excluded"),
        ("examples/Dockerfile", "excluded"),
    }
    assert "vendor/" not in notes.out
    assert (
        "ecr-sso: 3 files excluded (examples/ 1, testdata/ 1, vendor/ 1): read, never edited;"
        " --exclude adds patterns, --no-default-excludes reads vendored code and test data"
        " like the rest\n"
    ) in notes.err

    # Named on the command line, a file is read whatever the patterns say.
    named = cli("rewrite", "--registry", HOST, "--check", "vendor/lib/Dockerfile")
    assert named.out == f"vendor/lib/Dockerfile:1: connectedhome/x:1 → {HOST}/x:1\n"

    everything = cli(
        "rewrite", "--registry", HOST, "--check", "--no-default-excludes", "--exclude", "pkg/"
    )
    listed = {line.split(":", 1)[0] for line in everything.out.splitlines()}
    assert "vendor/lib/Dockerfile" in listed
    assert not {"pkg/testdata/Dockerfile", "examples/Dockerfile"} & listed


def test_strict_fails_on_what_cannot_be_rewritten(repo: Path, env: Env, cli: Cli) -> None:
    written = cli("rewrite", "--registry", HOST, "--write")
    assert written.code == 0

    lenient = cli("rewrite", "--registry", HOST, "--check")
    strict = cli("rewrite", "--registry", HOST, "--check", "--strict")

    assert (lenient.code, lenient.out) == (0, "")
    assert strict.code == 1
    assert strict.err.endswith("ecr-sso: --strict: 4 references built from variables (see above)\n")
    env.write_config('dockerhub_org = "connectedhome"\n')  # no pull-through cache
    (repo / "new.Dockerfile").write_text("FROM python:3.12\n")
    (repo / "compose.broken.yaml").write_text("services: [\n")
    assert cli("rewrite", "--registry", HOST, "--check", "new.Dockerfile").code == 0
    assert cli("rewrite", "--registry", HOST, "--check", "--strict", "new.Dockerfile").err == (
        "ecr-sso: new.Dockerfile:1: python:3.12: left on Docker Hub: no pull-through cache in"
        " our config\n"
        "ecr-sso: --strict: 1 reference left on Docker Hub (see above)\n"
    )
    broken = cli("rewrite", "--registry", HOST, "--check", "--strict", "compose.broken.yaml")
    assert broken.code == 1
    assert broken.err.endswith("ecr-sso: --strict: 1 file not read (see above)\n")
    alone = cli("rewrite", "--registry", HOST, "--strict")
    assert (alone.code, alone.err) == (2, "ecr-sso: --strict goes with --check\n")


def test_strict_ignores_what_an_excluded_file_could_not_give(
    repo: Path, env: Env, cli: Cli
) -> None:
    # Test fixtures are often not what their names say: a compose template with `{{ }}`
    # (testcontainers-go), a link that tests a symbolic-link check (argo-cd). Excluded, they
    # are the user's call and fail no gate; the same outside an excluded folder still does.
    assert cli("rewrite", "--registry", HOST, "--write").code == 0
    (repo / "pkg" / "testdata").mkdir(parents=True)
    (repo / "pkg" / "testdata" / "docker-compose.yml").write_text(
        "services:\n  {{ .Name }}: x\n  - :\n"
    )
    (repo / "pkg" / "testdata" / "linked.yaml").symlink_to("../../compose.yaml")
    (repo / "docs").mkdir()
    (repo / "docs" / "compose.yaml").write_text("services: [\n")

    excluded = cli("rewrite", "--registry", HOST, "--check", "--strict", "--exclude", "docs/")
    shown = cli("rewrite", "--registry", HOST, "--check", "--strict")

    assert "pkg/testdata/docker-compose.yml: skipped, not read as compose" in excluded.err
    assert "pkg/testdata/linked.yaml: skipped, it is a symbolic link" in excluded.err
    assert excluded.err.endswith(
        "ecr-sso: --strict: 4 references built from variables (see above)\n"
    )
    assert shown.err.endswith(
        "ecr-sso: --strict: 4 references built from variables, 1 file not read (see above)\n"
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('exclude = "docs/"', 'exclude must be a list of patterns: ["examples/", "*.tpl"]'),
        ('exclude = ["docs/\\u001b[2J"]', "exclude holds a control character"),
        ("default_excludes = 1", "default_excludes must be true or false"),
        ('exlcude = ["docs/"]', "unknown key"),
    ],
)
def test_a_bad_rewrite_table_is_one_line(
    repo: Path, env: Env, cli: Cli, table: str, message: str
) -> None:
    env.write_config(CONFIG + f"\n[rewrite]\n{table}\n")

    result = cli("rewrite", "--registry", HOST, "--check")

    assert result.code == 1  # a config error, as for any other table
    assert message in result.err
    assert len(result.err.splitlines()) == 1


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

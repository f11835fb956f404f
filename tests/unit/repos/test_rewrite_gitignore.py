"""Our `.gitignore` reader (for folders git does not list) against git's own decisions, and
its bound on patterns built to be slow."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from credhelper.repos.rewrite import gitignore

PATTERNS = """\
# a comment
*.log
!keep.log
/build/
docs/generated
**/cache/**
out/**/*.tmp
[a-c]?.txt
[!a-c]x.txt
[z-a]*
\\#hash
trailing\\\x20
a**b
lib/*/bin
"""

PATHS = [
    "x.log",
    "deep/down/y.log",
    "keep.log",
    "sub/keep.log",
    "build/app",
    "sub/build/app",
    "docs/generated",
    "sub/docs/generated",
    "cache/x",
    "a/cache/b/c",
    "cache",
    "out/x.tmp",
    "out/a/b/x.tmp",
    "out/x.tmpl",
    "ab.txt",
    "db.txt",
    "dx.txt",
    "ax.txt",
    "zebra",
    "#hash",
    "trailing ",
    "trailing",
    "aXXb",
    "a/b",
    "lib/x/bin",
    "lib/x/y/bin",
    "plain.txt",
]


def _ignored_by_ours(path: str) -> bool:
    rules = gitignore.parse(PATTERNS, "")
    parts = path.split("/")
    # Like a walk: a folder that is ignored hides what is in it.
    for depth in range(1, len(parts)):
        if gitignore.ignored(rules, "/".join(parts[:depth]), folder=True):
            return True
    return gitignore.ignored(rules, path, folder=False)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_agrees_with_git(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text(PATTERNS)
    asked = subprocess.run(
        ["git", "-C", str(tmp_path), "check-ignore", "--no-index", "--stdin", "-z"],
        input="\0".join(PATHS) + "\0",
        capture_output=True,
        text=True,
        check=False,
    )
    by_git = set(filter(None, asked.stdout.split("\0")))

    by_ours = {path for path in PATHS if _ignored_by_ours(path)}

    assert by_ours == by_git
    assert "keep.log" not in by_ours
    assert "zebra" in by_ours  # git tests a range's first end on its own: [z-a] is [z]


def test_a_path_under_a_base_folder_only() -> None:
    rules = gitignore.parse("*.tmp\n/top\n", "sub")

    assert gitignore.ignored(rules, "sub/a/x.tmp", folder=False)
    assert gitignore.ignored(rules, "sub/top", folder=False)
    assert not gitignore.ignored(rules, "other/x.tmp", folder=False)
    assert not gitignore.ignored(rules, "sub/a/top", folder=False)


def test_patterns_built_to_backtrack_stay_fast() -> None:
    rules = gitignore.parse("**/" * 200 + "z\n" + "*a" * 500 + "b\n", "")
    path = "/".join(["a"] * 300) + "/" + "a" * 255

    # Bounded by pattern length times path length: this would not finish as a regex.
    for _ in range(10):
        assert not gitignore.ignored(rules, path, folder=False)


def test_an_unclosed_bracket_matches_nothing() -> None:
    rules = gitignore.parse("[abc\n", "")

    assert not gitignore.ignored(rules, "[abc", folder=False)
    assert not gitignore.ignored(rules, "a", folder=False)

"""The files under a folder that a repository holds: asked of git when the folder is in a
git work tree (tracked files and untracked ones not ignored, as `git status` sees them),
else walked with a plain `.gitignore` reader.

The reader knows what most `.gitignore` files use: comments, `!` negation, a trailing `/`
for folders, a leading or inner `/` to anchor at the file's folder, `*`, `?`, `[...]` and
`**`. It does not read `.git/info/exclude` or the global excludes file: only git does that.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from credhelper.errors import UsageError

_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})


def files(paths: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """Every file named in `paths`, and every file under the folders among them. A file
    named explicitly is always included, as `git add FILE` would."""
    found: list[str] = []
    for path in paths:
        if os.path.isfile(path):
            found.append(path)
        elif os.path.isdir(path):
            listed = _git_listed(path, environ)
            found += listed if listed is not None else list(_walked(path))
        else:
            raise UsageError(f"{path}: no such file or folder")
    return list(dict.fromkeys(found))


def _git_listed(folder: str, environ: Mapping[str, str]) -> list[str] | None:
    git = shutil.which("git", path=environ.get("PATH", os.defpath))
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", folder, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
    except OSError:
        return None
    if done.returncode != 0:
        return None  # not a work tree (or one git refuses): walk it ourselves
    names = sorted(os.fsdecode(name) for name in done.stdout.split(b"\0") if name)
    # --cached lists files deleted from the work tree, and submodules as folders.
    paths = (os.path.join(folder, name) for name in names)
    return [path for path in paths if os.path.isfile(path) and not os.path.islink(path)]


@dataclass(frozen=True)
class _Rule:
    base: str  # the folder of the .gitignore, relative to the walk's root ("" for the root)
    pattern: re.Pattern[str]
    negated: bool
    folders_only: bool


def _walked(root: str) -> Iterator[str]:
    rules: list[_Rule] = []
    for folder, subfolders, names in os.walk(root):
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        relative = "" if relative == "." else relative
        rules += _read_rules(os.path.join(folder, ".gitignore"), relative)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if name not in _SKIPPED_DIRS
            and not os.path.islink(os.path.join(folder, name))
            and not _ignored(rules, _join(relative, name), folder=True)
        )
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not os.path.islink(path) and not _ignored(rules, _join(relative, name), False):
                yield path


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _read_rules(path: str, base: str) -> list[_Rule]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    rules = []
    for line in lines:
        pattern = line.rstrip(" ")
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern[1:] if negated else pattern.removeprefix("\\")
        folders_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        if not pattern:
            continue
        anchored = "/" in pattern
        body = _translate(pattern.lstrip("/"))
        regex = re.compile(body if anchored else f"(?:.*/)?{body}")
        rules.append(_Rule(base, regex, negated, folders_only))
    return rules


def _translate(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2 :]:
            end = glob.index("]", i + 2)
            inner = glob[i + 1 : end]
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def _ignored(rules: list[_Rule], path: str, folder: bool) -> bool:
    ignored = False
    for rule in rules:
        if rule.base and not path.startswith(rule.base + "/"):
            continue
        if rule.folders_only and not folder:
            continue
        if rule.pattern.fullmatch(path[len(rule.base) + 1 :] if rule.base else path):
            ignored = not rule.negated
    return ignored

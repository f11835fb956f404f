"""The files under a folder that a repository holds: asked of git when the folder is in a
git work tree (tracked files and untracked ones not ignored, as `git status` sees them),
else walked with our plain `.gitignore` reader (`gitignore`).

Each file is a `treefile.Place`: the folder named on the command line (followed if it is a
link) and the parts below it, which are never followed. A file named on the command line is
always included, as `git add FILE` would; when it is a link, the file it points to is the
one read and written.

git is asked in two steps, because `git ls-files --others --exclude-standard` opens every
`.gitignore` on its way and waits forever on one that is a FIFO: first the tracked files
(which reads no `.gitignore`), then, when every `.gitignore` beside them is a regular file,
the untracked ones, with a hang guard. Otherwise the untracked files come from our reader,
which never blocks.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from credhelper.errors import UsageError
from credhelper.repos.rewrite import gitignore, treefile
from credhelper.shown import shown

_SKIPPED_DIRS = frozenset({".git", ".hg", ".svn"})
#: How long `git ls-files --others` may take before it is taken to be stuck.
GIT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Listed:
    """A file to read: `shown` is its path as people read it (relative to the current
    folder when under it), `place` where it is opened, `relative` its path from the folder
    named on the command line (empty for a file named there)."""

    shown: str
    place: treefile.Place
    relative: str = ""


@dataclass
class Listing:
    """The files found, and a line for each thing that could not be looked at."""

    files: list[Listed] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def files(paths: Sequence[str], environ: Mapping[str, str]) -> Listing:
    """Every file named in `paths`, and every file under the folders among them."""
    listing = Listing()
    seen: set[treefile.Place] = set()
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            raise UsageError(f"{shown(path)}: no such file or folder") from None
        if stat.S_ISDIR(st.st_mode):
            for name, place in _folder(path, environ, listing):
                if place not in seen:
                    seen.add(place)
                    listing.files.append(Listed(_shown(name), place, "/".join(place.parts)))
        else:
            real = os.path.realpath(path)
            named = treefile.Place(os.path.dirname(real), (os.path.basename(real),))
            if named not in seen:
                seen.add(named)
                listing.files.append(Listed(_shown(path), named))
    return listing


def _shown(path: str) -> str:
    """`path` as people and `git apply` read it: relative to the current folder when under it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith(os.pardir) else os.path.normpath(path)


def _folder(
    folder: str, environ: Mapping[str, str], listing: Listing
) -> Iterator[tuple[str, treefile.Place]]:
    tracked = _git(folder, environ, ["--cached"])
    if tracked is None:
        names: Sequence[str] = list(_walked(folder, listing))
    else:
        untracked = None
        if _gitignores_regular(folder, tracked):
            untracked = _git(folder, environ, ["--others", "--exclude-standard"])
        if untracked is None:
            untracked = list(_walked(folder, listing))
        names = sorted(set(tracked) | set(untracked))
    for name in names:
        parts = tuple(name.split("/"))
        if any(part in ("", ".", "..") for part in parts):
            continue
        yield os.path.join(folder, *parts), treefile.Place(folder, parts)


def _git(folder: str, environ: Mapping[str, str], which: list[str]) -> list[str] | None:
    """The names `git ls-files` lists under `folder`; None when git is missing, the folder
    is not in a work tree, or git did not answer in time."""
    git = shutil.which("git", path=environ.get("PATH", os.defpath))
    if git is None:
        return None
    try:
        done = subprocess.run(
            [git, "-C", folder, "ls-files", "-z", *which],
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None  # not a work tree (or one git refuses): walk it ourselves
    return [os.fsdecode(name) for name in done.stdout.split(b"\0") if name]


def _gitignores_regular(folder: str, tracked: Sequence[str]) -> bool:
    """Whether the `.gitignore` of `folder` and of every folder holding a tracked file is a
    regular file or absent (git would block on a FIFO)."""
    folders = {""} | {name.rpartition("/")[0] for name in tracked}
    for sub in folders:
        try:
            st = os.lstat(os.path.join(folder, sub, ".gitignore"))
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            return False  # git skips a link with a warning, but opens a FIFO and waits
    return True


def _walked(root: str, listing: Listing) -> Iterator[str]:
    """The names under `root` that our `.gitignore` reader does not ignore."""
    rules: list[gitignore.Rule] = []
    for folder, subfolders, names in os.walk(root):
        relative = os.path.relpath(folder, root).replace(os.sep, "/")
        relative = "" if relative == "." else relative
        if ".gitignore" in names:
            rules += _read_rules(root, relative, listing)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if name not in _SKIPPED_DIRS
            and not os.path.islink(os.path.join(folder, name))
            and not gitignore.ignored(rules, _join(relative, name), folder=True)
        )
        for name in sorted(names):
            # Links are listed (git lists them too) so that reading them says why not.
            if not gitignore.ignored(rules, _join(relative, name), folder=False):
                yield _join(relative, name)


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _read_rules(root: str, relative: str, listing: Listing) -> list[gitignore.Rule]:
    name = _join(relative, ".gitignore")
    place = treefile.Place(root, tuple(name.split("/")))
    try:
        data, _ = treefile.read(place, gitignore.MAX_BYTES)
    except treefile.Gone:
        return []
    except treefile.Refused as err:
        listing.problems.append((_shown(place.path), f"not read, {err}"))
        return []
    return gitignore.parse(data.decode("utf-8", errors="replace"), relative)

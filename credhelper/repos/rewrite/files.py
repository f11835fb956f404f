"""Rewrite's use case over files: read each file of a kind we know, find its references,
plan the edits; write them back atomically when asked."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from credhelper import atomic
from credhelper.errors import UsageError
from credhelper.repos.rewrite import kinds, walk
from credhelper.repos.rewrite.plan import Change, Destination, rewrite, unified_diff

#: Files larger than this are not image-reference files (a generated bundle, a dump).
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileResult:
    """One file: its text before and after, and its Docker Hub and unresolved references.
    `problem` says why a file of a kind we read was not (not UTF-8, not YAML)."""

    path: str
    kind: str
    old: str = ""
    new: str = ""
    changes: list[Change] = field(default_factory=list)
    problem: str = ""

    @property
    def changed(self) -> bool:
        """Whether rewriting edits this file."""
        return self.new != self.old

    def diff(self) -> str:
        """The unified diff of the edits."""
        return unified_diff(self.path, self.old, self.new)


def examine(
    paths: Sequence[str], dest: Destination, environ: Mapping[str, str]
) -> list[FileResult]:
    """Every file under `paths` that holds image references, with its planned edits."""
    results = []
    for path in walk.files(paths, environ):
        shown = _shown(path)
        kind = kinds.kind_of(shown.replace(os.sep, "/"))
        if kind is None:
            continue
        result = _one(shown, kind, dest)
        if result.changes or result.problem:
            results.append(result)
    return results


def _shown(path: str) -> str:
    """`path` as people and `git apply` read it: relative to the current folder when under it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith(os.pardir) else os.path.normpath(path)


def _one(path: str, kind: str, dest: Destination) -> FileResult:
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return FileResult(path, kind)
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        return FileResult(path, kind, problem=f"cannot read: {err.strerror}")
    try:
        # No newline translation: CRLF files stay CRLF.
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return (
            FileResult(path, kind, problem="not UTF-8 text")
            if kind != kinds.YAML
            else (FileResult(path, kind))
        )
    try:
        found = kinds.scan(kind, text)
    except UsageError as err:
        return FileResult(path, kind, problem=f"not read as {kind}: {err}")
    new, changes = rewrite(text, found, dest)
    return FileResult(path, kind, text, new, changes)


def write(result: FileResult) -> None:
    """Replace the file with its rewritten text, atomically, its mode kept. A symbolic
    link named on the command line stays a link: the file it points to is replaced."""
    atomic.write_bytes(os.path.realpath(result.path), result.new.encode("utf-8"))

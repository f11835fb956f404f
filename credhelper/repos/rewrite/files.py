"""Rewrite's use case over files: read each file of a kind we know, find its references,
plan the edits; write them back when asked, each file replaced only if it is still the
one that was read (`treefile`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from credhelper.errors import UsageError
from credhelper.repos.rewrite import kinds, treefile, walk
from credhelper.repos.rewrite.plan import Change, Destination, rewrite, unified_diff

#: Files larger than this are not image-reference files (a generated bundle, a dump).
MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileResult:
    """One file: its text before and after, and its Docker Hub and unresolved references.
    `problem` says why a file of a kind we read was not (a FIFO, not UTF-8, not YAML)."""

    path: str
    kind: str
    old: str = ""
    new: str = ""
    changes: list[Change] = field(default_factory=list)
    problem: str = ""
    place: treefile.Place | None = None
    identity: treefile.Identity | None = None

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
    """Every file under `paths` that holds image references, with its planned edits, and
    every file that could not be looked at, with why."""
    listing = walk.files(paths, environ)
    results = [FileResult(path, "", problem=why) for path, why in listing.problems]
    for listed in listing.files:
        kind = kinds.kind_of(listed.shown.replace(os.sep, "/"))
        if kind is None:
            continue
        result = _one(listed, kind, dest)
        if result.changes or result.problem:
            results.append(result)
    return results


def _one(listed: walk.Listed, kind: str, dest: Destination) -> FileResult:
    path = listed.shown
    try:
        data, identity = treefile.read(listed.place, MAX_BYTES)
    except treefile.Gone:
        return FileResult(path, kind)
    except treefile.Refused as err:
        return FileResult(path, kind, problem=str(err))
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
    return FileResult(path, kind, text, new, changes, place=listed.place, identity=identity)


def write(result: FileResult) -> None:
    """Replace the file with its rewritten text, atomically, owner and mode kept, if it is
    still the file that was read; `treefile.Refused` saying why not otherwise. A symbolic
    link named on the command line stays a link: the file it pointed to is replaced."""
    if result.place is None or result.identity is None:
        raise treefile.Refused("it was not read")
    treefile.replace(result.place, result.identity, result.new.encode("utf-8"))

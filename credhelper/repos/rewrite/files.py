"""Rewrite's use case over files: list them, learn the project's facts, read each file of a
kind we know, find its references, plan the edits; write them back when asked, each file
replaced only if it is still the one that was read (`treefile`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from credhelper.errors import UsageError
from credhelper.repos.rewrite import kinds, plan, project, treefile, walk
from credhelper.repos.rewrite.excludes import Excludes
from credhelper.repos.rewrite.plan import Change, Destination, rewrite, unified_diff
from credhelper.repos.rewrite.sources import MAX_BYTES, Sources

__all__ = ["MAX_BYTES", "FileResult", "Run", "examine", "write"]

#: Dockerfiles and bake files are far smaller than this; their scanners keep every word.
_TOKENIZED_MAX = 1 << 20
_TOKENIZED = frozenset({kinds.DOCKERFILE, kinds.BAKE})


@dataclass(frozen=True)
class FileResult:
    """One file: its text before and after, and its Docker Hub, built-here, excluded and
    unresolved references. `problem` says why a file of a kind we read was not (a FIFO,
    not UTF-8, not YAML); `excluded` names the pattern that excludes it (such a file's
    problem is shown, but fails no check: excluded files are the user's call)."""

    path: str
    kind: str
    old: str = ""
    new: str = ""
    changes: list[Change] = field(default_factory=list)
    problem: str = ""
    excluded: str = ""
    place: treefile.Place | None = None
    identity: treefile.Identity | None = None

    @property
    def changed(self) -> bool:
        """Whether rewriting edits this file."""
        return self.new != self.old

    def diff(self) -> str:
        """The unified diff of the edits."""
        return unified_diff(self.path, self.old, self.new)


@dataclass
class Run:
    """The files of one run that hold references or could not be read, and how many
    files each exclusion pattern kept from being edited."""

    results: list[FileResult] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)


def examine(
    paths: Sequence[str],
    dest: Destination,
    environ: Mapping[str, str],
    excludes: Excludes | None = None,
) -> list[FileResult]:
    """Every file under `paths` that holds image references, with its planned edits, and
    every file that could not be looked at, with why."""
    return survey(paths, dest, environ, excludes or Excludes(())).results


def survey(
    paths: Sequence[str], dest: Destination, environ: Mapping[str, str], excludes: Excludes
) -> Run:
    """`examine`, with the count of excluded files by pattern."""
    listing = walk.files(paths, environ)
    run = Run([FileResult(path, "", problem=why) for path, why in listing.problems])
    by_path = {listed.shown: listed for listed in listing.files}
    sources = Sources(by_path)
    try:
        excluded = {path: excludes.pattern_for(listed.relative) for path, listed in by_path.items()}
        facts = project.learn(sources, [path for path, why in excluded.items() if why is None])
        manifests: dict[str, bool] = {}  # manifest image -> rewritten, for kustomizations
        kind_by_path = {path: kinds.kind_of(path, facts) for path in by_path}
        # Kustomizations last: they follow the manifests (see `kustomize`).
        ordered = sorted(by_path, key=lambda path: kind_by_path[path] == kinds.KUSTOMIZE)
        for path in ordered:
            listed, kind = by_path[path], kind_by_path[path]
            if kind is None:
                continue
            pattern = excluded[path] or ""
            if pattern:
                run.excluded[pattern] = run.excluded.get(pattern, 0) + 1
            result = _one(
                path=path,
                listed=listed,
                kind=kind,
                sources=sources,
                facts=facts,
                dest=dest,
                excluded=pattern,
                manifests=manifests,
            )
            sources.release(path)
            if result.kind == kinds.KUBERNETES:
                for change in result.changes:
                    rewritten = change.status in (plan.ECR, plan.PULL_THROUGH)
                    manifests[change.reference] = (
                        manifests.get(change.reference, False) or rewritten
                    )
            if result.changes or result.problem:
                run.results.append(result)
    finally:
        sources.close()
    run.results.sort(key=lambda result: result.path)
    return run


def _one(
    *,
    path: str,
    listed: walk.Listed,
    kind: str,
    sources: Sources,
    facts: project.Facts,
    dest: Destination,
    excluded: str,
    manifests: dict[str, bool],
) -> FileResult:
    read = sources.text(path)
    if read.identity is None:
        named = kind in kinds.NAMED or read.problem != "not UTF-8 text"
        problem = read.problem if named else ""
        return FileResult(path, kind, problem=problem, excluded=excluded)
    if kind in _TOKENIZED and len(read.text) > _TOKENIZED_MAX:
        # Read word by word into objects: a hostile file of one-letter words would cost
        # fifty times its size.
        too_large = f"larger than {_TOKENIZED_MAX >> 20} MiB"
        return FileResult(path, kind, problem=too_large, excluded=excluded)
    if not kinds.worth_parsing(kind, read.text):
        return FileResult(path, kind)
    try:
        kind, found = kinds.scan(kind, path, sources, facts, manifests)
    except UsageError as err:
        return FileResult(path, kind, problem=f"not read as {kind}: {err}", excluded=excluded)
    new, changes = rewrite(read.text, found, dest, built=facts.built, excluded=bool(excluded))
    return FileResult(
        path,
        kind,
        read.text,
        new,
        changes,
        excluded=excluded,
        place=listed.place,
        identity=read.identity,
    )


def write(result: FileResult) -> None:
    """Replace the file with its rewritten text, atomically, owner and mode kept, if it is
    still the file that was read; `treefile.Refused` saying why not otherwise. A symbolic
    link named on the command line stays a link: the file it pointed to is replaced."""
    if result.place is None or result.identity is None:
        raise treefile.Refused("it was not read")
    treefile.replace(result.place, result.identity, result.new.encode("utf-8"))

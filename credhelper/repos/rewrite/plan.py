"""Where each reference goes, the edited text, and its diff. Pure.

A Docker Hub image of the team's organisation (`dockerhub_org`) goes to the ECR
repository `ecr-sso url` gives it; any other Docker Hub image to the pull-through cache
path when one is configured (`HOST/PREFIX/library/python:3.12`), else it is reported and
left. An image the project builds itself (`built here`) and any reference in an excluded
file are reported and left. Images on any other registry are not ours to move. Tags and
digests are kept, as written, variables included.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from credhelper.errors import UsageError
from credhelper.repos import imageref
from credhelper.repos.rewrite.found import NEW_NAME, REGISTRY_REPOSITORY, WHOLE, Found, Span

#: Statuses of a reference found.
ECR = "ecr"  # the team's image, now in ECR
PULL_THROUGH = "pull-through"  # a public image, through the pull-through cache
LEFT = "docker-hub"  # a public image, and no pull-through cache configured
BUILT_HERE = "built here"  # the project builds this image (or it is never pulled)
UNRESOLVED = "unresolved"  # built from variables that cannot be followed
EXCLUDED = "excluded"  # in a file the user (or the defaults) excluded

_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")
_GIT_NAMED = {7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 34: '"', 92: "\\"}


@dataclass(frozen=True)
class Destination:
    """Where Docker Hub images go: the ECR registry host, the team's Docker Hub
    organisation, and the pull-through cache prefix when there is one."""

    host: str
    dockerhub_org: str | None = None
    pull_through: str | None = None


@dataclass(frozen=True)
class Change:
    """A Docker Hub (or unresolved) reference at `line` of a file, its kind, and what it
    becomes (`replacement` is empty when it is left)."""

    line: int
    reference: str
    replacement: str
    status: str
    kind: str = ""


def replacement(ref: imageref.ImageRef, dest: Destination) -> tuple[str, str] | None:
    """(what `ref` becomes, status) for a Docker Hub image; None for any other registry.
    The replacement is empty when the image is left where it is."""
    if not ref.docker_hub:
        return None
    org = dest.dockerhub_org
    if org and ref.repository.startswith(f"{org}/"):
        return imageref.to_ecr(ref, dest.host, org), ECR
    if dest.pull_through:
        return imageref.to_pull_through(ref, dest.host, dest.pull_through), PULL_THROUGH
    return "", LEFT


def repository_key(ref: imageref.ImageRef) -> str:
    """One spelling for a repository, whatever the reference says of its registry:
    `redis`, `library/redis`, `docker.io/library/redis:7` all give `docker.io/library/redis`."""
    host = "docker.io" if ref.docker_hub else (ref.host or "").lower()
    return f"{host}/{ref.repository}"


def rewrite(
    text: str,
    found: list[Found],
    dest: Destination,
    *,
    built: Collection[str] = (),
    excluded: bool = False,
) -> tuple[str, list[Change]]:
    """`text` with every reference that has a replacement replaced, and the list of
    Docker Hub, built-here, excluded and unresolved references with what became of each.
    `built` holds the `repository_key` of every image the project builds, with `:TAG`
    when its build names a tag."""
    edits: dict[Span, str] = {}
    changes: list[Change] = []
    for item in sorted(found, key=lambda item: item.start):
        line = text.count("\n", 0, item.start) + 1
        if excluded:
            changes.append(Change(line, item.text, "", EXCLUDED, item.kind))
            continue
        if item.never_pulled:
            changes.append(Change(line, item.text, "", BUILT_HERE, item.kind))
            continue
        if item.unresolved:
            # A build argument that names an image built here (skaffold's `requires`).
            status = BUILT_HERE if _is_built(item.text, built) else UNRESOLVED
            changes.append(Change(line, item.text, "", status, item.kind))
            continue
        try:
            ref = imageref.parse(item.text if item.form == WHOLE else item.name)
        except UsageError:
            continue  # a value that is no image reference (`image: logo.png.bak`, say)
        if not ref.docker_hub:
            continue
        if _built(ref, built):
            changes.append(Change(line, item.text, "", BUILT_HERE, item.kind))
            continue
        decided = replacement(ref, dest)
        if decided is None:
            continue
        new, status = decided
        shown = new
        if new and item.form != WHOLE:
            # The name alone is edited: its tag, digest or variables stay as written.
            shown = new + item.text[len(item.name) :]
        changes.append(Change(line, item.text, shown, status, item.kind))
        if new:
            edits.update(_edits(item, new))
    return _applied(text, edits), changes


def _built(ref: imageref.ImageRef, built: Collection[str]) -> bool:
    key = repository_key(ref)
    return key in built or bool(ref.tag and f"{key}:{ref.tag}" in built)


def _is_built(text: str, built: Collection[str]) -> bool:
    """Whether `text` is a Docker Hub image reference that the project builds."""
    try:
        ref = imageref.parse(text)
    except UsageError:
        return False
    return ref.docker_hub and _built(ref, built)


def _edits(item: Found, new: str) -> dict[Span, str]:
    """The text each span gets; `new` is the whole new reference (WHOLE) or the new name."""
    edits = dict.fromkeys(item.also, new)
    if item.form == REGISTRY_REPOSITORY:
        host, _, path = new.partition("/")
        edits.update({item.spans[0]: host, item.spans[1]: path})
    elif item.form == NEW_NAME:
        edits[item.spans[0]] = item.insert + new
    else:
        edits[item.spans[0]] = new
    return edits


def _applied(text: str, edits: dict[Span, str]) -> str:
    parts: list[str] = []
    position = 0
    for span in sorted(edits, key=lambda span: (span.start, span.end)):
        if span.start < position:
            continue  # two scanners saw one place: the first edit stands
        parts += [text[position : span.start], edits[span]]
        position = span.end
    parts.append(text[position:])
    return "".join(parts)


def unified_diff(path: str, old: str, new: str) -> str:
    """A `git diff`-style unified diff of one file (line endings kept as they are). A
    path with a control, quote or non-ASCII character is quoted as git quotes it (which
    `git apply` reads), so a name cannot forge a line of the patch or of the terminal."""
    lines = difflib.unified_diff(
        _LINE.findall(old), _LINE.findall(new), _patch_name("a/", path), _patch_name("b/", path)
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _patch_name(prefix: str, path: str) -> str:
    """`prefix + path` as git writes a name in a patch header: as it is when plain, else
    in double quotes with C escapes and every other byte outside printable ASCII in octal
    (git's `core.quotePath`)."""
    raw = (prefix + path).encode("utf-8", "surrogateescape")
    if all(0x20 <= byte < 0x7F and byte not in (34, 92) for byte in raw):
        return prefix + path
    quoted = "".join(
        f"\\{_GIT_NAMED[byte]}"
        if byte in _GIT_NAMED
        else (chr(byte) if 0x20 <= byte < 0x7F else f"\\{byte:03o}")
        for byte in raw
    )
    return f'"{quoted}"'

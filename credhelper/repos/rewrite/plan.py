"""Where each reference goes, the edited text, and its diff. Pure.

A Docker Hub image of the team's organisation (`dockerhub_org`) goes to the ECR
repository `ecr-sso url` gives it; any other Docker Hub image to the pull-through cache
path when one is configured (`HOST/PREFIX/library/python:3.12`), else it is reported and
left. Images on any other registry are not ours to move. Tags and digests are kept.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from credhelper.errors import UsageError
from credhelper.repos import imageref
from credhelper.repos.rewrite.found import Found, Span

#: Statuses of a reference found.
ECR = "ecr"  # the team's image, now in ECR
PULL_THROUGH = "pull-through"  # a public image, through the pull-through cache
LEFT = "docker-hub"  # a public image, and no pull-through cache configured
UNRESOLVED = "unresolved"  # built from variables

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
    """A Docker Hub (or unresolved) reference at `line` of a file, and what it becomes
    (`replacement` is empty when it is left)."""

    line: int
    reference: str
    replacement: str
    status: str


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


def rewrite(text: str, found: list[Found], dest: Destination) -> tuple[str, list[Change]]:
    """`text` with every reference that has a replacement replaced, and the list of
    Docker Hub and unresolved references with what became of each."""
    edits: dict[Span, str] = {}
    changes: list[Change] = []
    for item in sorted(found, key=lambda item: item.start):
        line = text.count("\n", 0, item.start) + 1
        if item.unresolved:
            changes.append(Change(line, item.text, "", UNRESOLVED))
            continue
        try:
            ref = imageref.parse(item.text)
        except UsageError:
            continue  # a value that is no image reference (`image: logo.png.bak`, say)
        decided = replacement(ref, dest)
        if decided is None:
            continue
        new, status = decided
        changes.append(Change(line, item.text, new, status))
        if new:
            edits.update(_edits(item, new))
    parts: list[str] = []
    position = 0
    for span in sorted(edits, key=lambda span: span.start):
        parts += [text[position : span.start], edits[span]]
        position = span.end
    parts.append(text[position:])
    return "".join(parts), changes


def _edits(item: Found, new: str) -> dict[Span, str]:
    if not item.name_only:
        return {item.spans[0]: new}
    # Helm's pair: the name changes, the tag stays in its own key.
    name = new[: len(new) - len(imageref.parse(new).suffix)]
    if len(item.spans) == 1:
        return {item.spans[0]: name}
    host, _, path = name.partition("/")
    return {item.spans[0]: host, item.spans[1]: path}


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

"""Sort image tags the way people read versions. Pure.

Version tags first, numbers compared as numbers (`1.0.2` < `1.0.12` < `2`), an optional
leading `v` ignored; a version with a suffix after `-`, `+` or `_` (`1.0.2-rc1`,
`1.0.2-slim`) comes right after the plain one, suffixes in natural order (`rc2` < `rc10`).
Then every other tag (`latest`, `main`, `sha-1a2b3c`), alphabetically.

This orders a listing; it does not decide which version is newest (semver would put
`1.0.2-rc1` before `1.0.2`; here variants stay next to their version).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_VERSION = re.compile(r"[vV]?(?P<numbers>[0-9]+(?:\.[0-9]+)*)(?:[-+_](?P<suffix>.+))?", re.ASCII)
_RUNS = re.compile(r"[0-9]+|[^0-9]+", re.ASCII)

SortKey = tuple[int, tuple[int, ...], tuple[tuple[int, int, str], ...], str]


def is_version(tag: str) -> bool:
    """Whether `tag` reads as a version (digits and dots, optionally `v` and a suffix)."""
    return _VERSION.fullmatch(tag) is not None


def sort_key(tag: str) -> SortKey:
    """The key that puts tags in the order described above."""
    match = _VERSION.fullmatch(tag)
    if match is None:
        return (1, (), (), tag)
    numbers = tuple(int(part) for part in match["numbers"].split("."))
    return (0, numbers, _natural(match["suffix"] or ""), tag)


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    # Digit runs compare as numbers and before letters; the empty suffix sorts first.
    return tuple((0, int(run), "") if run.isdigit() else (1, 0, run) for run in _RUNS.findall(text))


def sort_tags(tags: Iterable[str]) -> list[str]:
    """`tags` in version order."""
    return sorted(tags, key=sort_key)

"""What a scanner reports: where a reference is written in a file. Pure values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Characters `start` to `end` of the file's text (Python string offsets)."""

    start: int
    end: int


@dataclass(frozen=True)
class Found:
    """One image reference in a file.

    `spans` are the places whose text makes the reference: one for `image: app:1`; two for
    a Helm `registry:` + `repository:` pair, whose tag stays where it is. `text` is the
    reference as a whole (`registry/repository:tag`), `name_only` says the spans hold the
    name without tag or digest (Helm). `unresolved` is set when the reference is built from
    variables (`${REGISTRY}/app`): reported, never edited.
    """

    text: str
    spans: tuple[Span, ...]
    name_only: bool = False
    unresolved: bool = False

    @property
    def start(self) -> int:
        """Where the reference starts, for its line number."""
        return min(span.start for span in self.spans)


def is_templated(text: str) -> bool:
    """Whether `text` is built from variables: shell/Dockerfile `$X`, `${X}`, GitHub's
    `${{ }}`, Helm's and Jinja's `{{ }}`."""
    return "$" in text or "{{" in text

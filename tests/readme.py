"""Reading README.md for its tests: the marked blocks, the quick start's commands and the
output it shows, and the anchors GitHub gives its headings.

The README marks what tests read with HTML comments, invisible when rendered:
`<!-- quickstart -->` ... `<!-- /quickstart -->` around console blocks whose `$ ` lines
are commands and whose other lines are the output shown (`...` stands for anything), and
`<!-- example-team.toml -->` right before the block that must be that file, byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"

_FENCE = re.compile(r"^```[a-z]*\n(.*?)^```\n", re.MULTILINE | re.DOTALL)


def text() -> str:
    return README.read_text(encoding="utf-8")


def block_after(marker: str, readme: str | None = None) -> str:
    """The content of the fenced block right after `<!-- marker -->`."""
    readme = text() if readme is None else readme
    tag = f"<!-- {marker} -->\n"
    start = readme.index(tag) + len(tag)
    found = _FENCE.match(readme, start)
    assert found is not None, f"no fenced block right after {tag.strip()}"
    return found.group(1)


def quickstart_blocks(readme: str | None = None) -> list[str]:
    """Every console block between `<!-- quickstart -->` and `<!-- /quickstart -->`."""
    readme = text() if readme is None else readme
    sections = re.findall(r"<!-- quickstart -->\n(.*?)<!-- /quickstart -->", readme, re.DOTALL)
    blocks = [block for section in sections for block in _FENCE.findall(section)]
    assert blocks, "no <!-- quickstart --> block in README.md"
    return blocks


@dataclass(frozen=True)
class Step:
    """One `$ command` of the quick start and the output shown under it (maybe none)."""

    command: str
    shown: tuple[str, ...]

    def matches(self, output: str) -> bool:
        """Whether `output` is what the README shows: every line as written, `...` within a
        line standing for any text, a line of only `...` for any number of lines."""
        if not self.shown:
            return True
        parts = []
        for line in self.shown:
            if line == "...":
                parts.append(r"(?:[^\n]*\n)*?")
            else:
                parts.append(".*".join(map(re.escape, line.split("..."))) + r"[ \t]*\n")
        return (
            re.fullmatch("".join(parts), output if output.endswith("\n") else output + "\n")
            is not None
        )


def quickstart_steps(readme: str | None = None) -> list[Step]:
    steps: list[Step] = []
    for block in quickstart_blocks(readme):
        command: str | None = None
        shown: list[str] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    steps.append(Step(command, tuple(shown)))
                command, shown = line[2:], []
            else:
                assert command is not None, f"output before any command: {line!r}"
                shown.append(line)
        if command is not None:
            steps.append(Step(command, tuple(shown)))
    return steps


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation other than `-` and `_`
    dropped, spaces turned into `-`."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(readme: str | None = None, level: int | None = None) -> list[tuple[int, str]]:
    """(level, text) of every heading outside fenced blocks."""
    readme = _FENCE.sub("", text() if readme is None else readme)
    found = re.findall(r"^(#{1,6}) (.+)$", readme, re.MULTILINE)
    return [(len(h), t) for h, t in found if level is None or len(h) == level]

"""How commands print: aligned tables and single lines for people, JSON for scripts.

Text from outside (AWS replies, the AWS and Docker configs, file names, a registry's tags)
reaches a terminal only through `table` or `line`, which escape control and hiding
characters (`credhelper.shown`); JSON escapes them by itself."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from credhelper.shown import shown


def table(out: TextIO, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns padded to their widest cell; the last column is not padded. Every cell is
    `shown`: names, tags and messages from AWS or a file can carry terminal escapes."""
    cells = [[shown(str(h)) for h in headers]]
    cells += [["" if c is None else shown(str(c)) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])] + [row[-1]]
        out.write("  ".join(padded).rstrip() + "\n")


def line(out: TextIO, text: str) -> None:
    """`text` as one line: `shown`, so a name, tag, path or AWS message in it can neither
    move the cursor nor start a line of its own."""
    out.write(shown(text) + "\n")


def as_json(out: TextIO, value: Any) -> None:
    """Stable, indented JSON with a trailing newline."""
    out.write(json.dumps(value, indent=2, sort_keys=True, default=str) + "\n")

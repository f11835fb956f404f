"""`migrate --report FILE`: every tag's source digest, destination, result and reason, as
JSON (or CSV when FILE ends in `.csv`), written atomically (a temporary file in the same
folder, renamed over FILE: a link at FILE is replaced, not followed, and lends it no
mode). The folder is checked before the migration starts, so a long run does not end
unable to report.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from collections.abc import Sequence

from credhelper import atomic, errors
from credhelper.repos.migrate import Outcome

FIELDS = ("source", "tag", "source_digest", "destination", "result", "digest", "reason")
#: A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def check_writable(path: str) -> None:
    """UsageError now, rather than after the run, when `path` cannot be written."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise errors.UsageError(f"--report {path}: is a folder; name a file")
    if not os.path.isdir(folder):
        raise errors.UsageError(f"--report {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise errors.UsageError(f"--report {path}: the folder {folder} is not writable")


def write(path: str, outcomes: Sequence[Outcome], *, destination: str) -> None:
    """Write the report (see the module docstring)."""
    rows = [_row(o) for o in outcomes]
    if path.lower().endswith(".csv"):
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
        data = buffer.getvalue().encode()
    else:
        data = (json.dumps({"destination": destination, "tags": rows}, indent=2) + "\n").encode()
    try:
        atomic.write_bytes(path, data, mode=_mode(path))
    except OSError as err:
        raise errors.EcrSsoError(f"cannot write the report {path}: {err.strerror}") from None


def _mode(path: str) -> int:
    """The mode of the report `path` replaces: its own when it is a file, 0600 otherwise
    (a link's target is not ours, and may be writable by anyone)."""
    try:
        found = os.lstat(path)
    except OSError:
        return 0o600
    return stat.S_IMODE(found.st_mode) if stat.S_ISREG(found.st_mode) else 0o600


def _row(outcome: Outcome) -> dict[str, str]:
    return {
        "source": outcome.source,
        "tag": outcome.tag,
        "source_digest": outcome.source_digest,
        "destination": outcome.destination,
        "result": outcome.result,
        "digest": outcome.digest,
        "reason": outcome.reason,
    }


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA) else value

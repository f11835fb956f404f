"""Show a planned change as a unified diff, secrets redacted."""

from __future__ import annotations

import difflib

from credhelper.aws import config_editor as aws_config
from credhelper.setup import docker_config
from credhelper.setup.plan import FileChange
from credhelper.shown import shown


def diff(change: FileChange) -> str:
    """A unified diff of one change (empty when unchanged), with secrets redacted: the
    values of `auths` entries in Docker's config, and AWS keys in the AWS config. Each line
    is `shown` (tabs kept): the files may hold control characters, which must not reach
    the terminal raw."""
    if not change.changed:
        return ""
    old = (change.old or b"").decode("utf-8")
    new = (change.new or b"").decode("utf-8")
    if change.label == docker_config.LABEL:
        old, new = docker_config.redact(old), docker_config.redact(new)
    elif change.label == aws_config.LABEL:
        old, new = aws_config.redact(old), aws_config.redact(new)
    lines = difflib.unified_diff(
        old.splitlines(),
        new.splitlines(),
        fromfile="/dev/null" if change.old is None else change.path,
        tofile="/dev/null" if change.remove else change.path,
        lineterm="",
    )
    return "".join(_line(line) + "\n" for line in lines)


def _line(line: str) -> str:
    """A diff line `shown`, but for its tabs: docker writes config.json indented with tabs,
    and a tab cannot hide or forge anything."""
    return "\t".join(shown(part) for part in line.split("\t"))

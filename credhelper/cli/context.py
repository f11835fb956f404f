"""What every command gets: the environment, the resolved paths, and how it may talk to
the person at the terminal (or must not)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from credhelper.paths import Paths
from credhelper.shown import shown


@dataclass
class Context:
    """The run's environment. Commands print to `out` (results) and `err` (progress,
    warnings); `interactive` is False whenever stdin is not a terminal: then nothing may
    prompt, and a change that needs consent needs `--yes` instead."""

    environ: Mapping[str, str]
    paths: Paths
    out: TextIO
    err: TextIO
    interactive: bool

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Context:
        """The context of a real run, with logging to the log file set up."""
        from credhelper import log as logfile

        paths = Paths.from_environ(environ)
        logfile.setup(paths.log_dir, environ)
        stdin = sys.stdin
        return cls(
            environ=environ,
            paths=paths,
            out=sys.stdout,
            err=sys.stderr,
            interactive=stdin is not None and stdin.isatty(),
        )

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question on the terminal; False when there is no terminal."""
        if not self.interactive:
            return False
        self.err.write(f"{shown(question)} [y/N] ")
        self.err.flush()
        answer = sys.stdin.readline().strip().lower()
        return answer in ("y", "yes")

"""Which files `rewrite` reads but never edits: vendored code and test fixtures by default,
and what the user adds with `--exclude` or `exclude = [...]` under `[rewrite]` in our
config.

Patterns are `.gitignore` patterns relative to the folder being rewritten: `vendor/`
matches a folder named vendor at any depth, `/docs/examples/` only at the top, `*.tpl`
any file so named. A file named on the command line is never excluded. References in an
excluded file are reported (`excluded` in `--json`) and counted in a note, never edited,
and never fail `--check`.
"""

from __future__ import annotations

from collections.abc import Sequence

from credhelper.repos.rewrite import gitignore

#: Excluded unless `--no-default-excludes` (or `default_excludes = false`) says otherwise.
DEFAULTS = ("vendor/", "third_party/", "node_modules/", "testdata/")


class Excludes:
    """The exclusion patterns of one run."""

    def __init__(self, patterns: Sequence[str], *, defaults: bool = True) -> None:
        self.patterns = [*(DEFAULTS if defaults else ()), *patterns]
        self._rules: list[gitignore.Rule] = []
        self._sources: dict[int, str] = {}
        for pattern in self.patterns:
            for rule in gitignore.parse(pattern, ""):
                self._sources[id(rule)] = pattern
                self._rules.append(rule)

    def pattern_for(self, relative: str) -> str | None:
        """The pattern that excludes the file at `relative` (`/`-separated, from the folder
        being rewritten), or None when it is not excluded; a folder excluded excludes what
        is in it."""
        if not relative or not self._rules:
            return None
        parts = relative.split("/")
        for depth in range(1, len(parts) + 1):
            rule = gitignore.deciding(
                self._rules, "/".join(parts[:depth]), folder=depth < len(parts)
            )
            if rule is not None and not rule.negated:
                return self._sources[id(rule)]
        return None

"""`ecr-sso rewrite`: point a repository's Docker Hub image references at ECR.

Argument parsing and printing only; the scanning and planning are `credhelper.repos.rewrite`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from credhelper.cli import output, registry_args
from credhelper.cli.context import Context
from credhelper.errors import NotWritable
from credhelper.repos.rewrite import plan
from credhelper.repos.rewrite.excludes import DEFAULTS
from credhelper.shown import shown

if TYPE_CHECKING:  # the scanners (and PyYAML) are imported when the command runs
    from credhelper.repos.rewrite.files import FileResult, Run

_DESCRIPTION = f"""\
Find the images a build, a cluster or a CI run pulls, and point the Docker Hub ones at ECR:
the team's images (dockerhub_org) at the repository `ecr-sso url` gives, other Docker Hub
images at the pull-through cache when our config has a [pull_through] table (else they are
reported and left). Only the image's name changes; tags, digests, variables, comments,
quoting and line endings stay.

Read: Dockerfiles (# syntax=, FROM, COPY --from, RUN --mount=from=, the ARG defaults they
use), bake files (docker-image:// contexts), compose files and compose-shaped YAML,
Kubernetes manifests, kustomizations (images:), Helm charts (values, ci/ values, literal
images in templates, Chart.yaml annotations), GitHub Actions (container, services,
uses: docker://, and the matrix values and inputs that feed them) and GitLab CI (image,
services, the variables and matrices that feed them, files reached by include: local:).
Never an image: a stage, a named build context, an image the project builds itself or
says is never pulled (imagePullPolicy: Never): built here.
Files under {", ".join(DEFAULTS)} are excluded by default
(reported, never edited; --exclude adds patterns).

Without --write, prints a unified diff. --check changes nothing and exits 1 listing every
reference that would change (the CI gate); with --strict it also fails on references built
from variables, on Docker Hub images left for want of a pull-through cache, and on files
that could not be read. PATH defaults to the current folder; folders are walked as git
lists them (.gitignore honoured)."""


def register(subparsers: Any) -> None:
    """Add `rewrite`."""
    command = subparsers.add_parser(
        "rewrite",
        help="point Docker Hub image references in files at ECR",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[registry_args.options("the registry of this AWS profile")],
    )
    command.add_argument("paths", metavar="PATH", nargs="*", help="files or folders (default: .)")
    mode = command.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="edit the files in place")
    mode.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if anything would change"
    )
    command.add_argument(
        "--strict",
        action="store_true",
        help="with --check: fail on unresolved or left references and unreadable files too",
    )
    command.add_argument(
        "--exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="leave the files this .gitignore pattern matches as they are (repeatable;"
        " added to the defaults and to [rewrite] exclude in our config)",
    )
    command.add_argument(
        "--no-default-excludes",
        action="store_true",
        help=f"read and edit {', '.join(DEFAULTS)} like any other folder",
    )
    command.add_argument("--json", action="store_true", help="print JSON, for tools")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from credhelper.errors import UsageError
    from credhelper.repos import teamkeys
    from credhelper.repos.rewrite import files, treefile
    from credhelper.repos.rewrite.excludes import Excludes

    if args.strict and not args.check:
        raise UsageError("--strict goes with --check")
    settings = registry_args.settings(context)
    cache = teamkeys.pull_through(settings)
    host = registry_args.target(
        context, profile=args.profile, registry=args.registry, region=args.region
    ).host
    dest = plan.Destination(host, settings.dockerhub_org, cache.prefix if cache else None)
    configured = settings.rewrite
    patterns = [*(configured.exclude if configured else ()), *args.exclude]
    defaults = not args.no_default_excludes and (configured is None or configured.default_excludes)
    surveyed = files.survey(
        args.paths or ["."], dest, context.environ, Excludes(patterns, defaults=defaults)
    )
    results = surveyed.results
    pending = [(r, c) for r in results for c in r.changes if c.replacement]
    refused: dict[str, str] = {}
    if args.write:
        for result in results:
            if result.changed:
                try:
                    files.write(result)
                except treefile.Refused as err:
                    refused[result.path] = str(err)
    _print(surveyed, pending, args, context, refused)
    if not args.json:
        _notes(surveyed, context)
    if refused:
        for path, why in refused.items():
            context.err.write(f"ecr-sso: {_path(path)}: {shown(why)}\n")
        count = len(refused)
        raise NotWritable(
            f"{count} file{'' if count == 1 else 's'} not written (see above); the others"
            " were. Once the cause is gone, `ecr-sso rewrite --write` again does the rest"
        )
    if not args.check:
        return 0
    failed = False
    if pending:
        changed = len({r.path for r, _ in pending})
        context.err.write(
            f"ecr-sso: {_references(len(pending))} to Docker Hub in {_files(changed)};"
            " `ecr-sso rewrite --write` rewrites them\n"
        )
        failed = True
    if args.strict:
        failed = _strict(results, context) or failed
    return 1 if failed else 0


def _strict(results: list[FileResult], context: Context) -> bool:
    """--strict's own failures, said in one line; whether there are any."""
    statuses = [c.status for r in results for c in r.changes]
    unresolved = statuses.count(plan.UNRESOLVED)
    left = statuses.count(plan.LEFT)
    # An excluded file is the user's call (a test fixture that is a template, a link a
    # test needs): what could not be read there is said, but fails no gate.
    skipped = sum(1 for r in results if r.problem and not r.excluded)
    parts = []
    if unresolved:
        parts.append(f"{_references(unresolved)} built from variables")
    if left:
        parts.append(f"{_references(left)} left on Docker Hub")
    if skipped:
        parts.append(f"{_files(skipped)} not read")
    if parts:
        context.err.write(f"ecr-sso: --strict: {', '.join(parts)} (see above)\n")
    return bool(parts)


def _print(
    surveyed: Run,
    pending: list[tuple[FileResult, plan.Change]],
    args: argparse.Namespace,
    context: Context,
    refused: dict[str, str],
) -> None:
    """The run's result on stdout: JSON, the --check listing, the files written, or the diff."""
    results = surveyed.results
    if args.json:
        output.as_json(context.out, _json(surveyed, written=args.write, refused=refused))
    elif args.check:
        for result, change in pending:
            line = (
                f"{_where(result, change)}: {shown(change.reference)} → {shown(change.replacement)}"
            )
            context.out.write(line + "\n")
    elif args.write:
        for result in results:
            if result.changed and result.path not in refused:
                count = sum(1 for c in result.changes if c.replacement)
                context.out.write(f"rewrote {_path(result.path)} ({_references(count)})\n")
    else:
        # A patch must carry the file's bytes for `git apply`; on a terminal, where a line
        # of the file could move the cursor or hide what follows, it is shown escaped.
        terminal = context.out.isatty()
        for result in results:
            if result.changed:
                diff = result.diff()
                context.out.write(_for_terminal(diff) if terminal else diff)


def _notes(surveyed: Run, context: Context) -> None:
    """What is left, on stderr: the unreadable, the unresolved, the uncached, and a count
    of what is built here or excluded."""
    built = 0
    for result in surveyed.results:
        if result.problem:
            context.err.write(f"ecr-sso: {_path(result.path)}: skipped, {shown(result.problem)}\n")
        for change in result.changes:
            if change.status == plan.UNRESOLVED:
                reason = "built from variables; not rewritten"
            elif change.status == plan.LEFT:
                reason = "left on Docker Hub: no pull-through cache in our config"
            else:
                built += change.status == plan.BUILT_HERE
                continue
            reference = shown(change.reference)
            context.err.write(f"ecr-sso: {_where(result, change)}: {reference}: {reason}\n")
    if built:
        context.err.write(
            f"ecr-sso: {_references(built)} to images this project builds left as they are"
            " (`built here` in --json)\n"
        )
    if surveyed.excluded:
        total = sum(surveyed.excluded.values())
        by = ", ".join(f"{shown(p)} {n}" for p, n in sorted(surveyed.excluded.items()))
        context.err.write(
            f"ecr-sso: {_files(total)} excluded ({by}): read, never edited; --exclude adds"
            " patterns, --no-default-excludes reads vendored code and test data like the rest\n"
        )


def _json(surveyed: Run, *, written: bool, refused: dict[str, str]) -> dict[str, Any]:
    results = surveyed.results
    return {
        "references": [
            {
                "file": result.path,
                "kind": change.kind or result.kind,
                "line": change.line,
                "reference": change.reference,
                "replacement": change.replacement or None,
                "status": change.status,
            }
            for result in results
            for change in result.changes
        ],
        "skipped": [{"file": r.path, "reason": r.problem} for r in results if r.problem],
        "excluded": dict(sorted(surveyed.excluded.items())),
        "written": [r.path for r in results if r.changed and r.path not in refused]
        if written
        else [],
        "not_written": [{"file": path, "reason": why} for path, why in refused.items()],
    }


def _where(result: FileResult, change: plan.Change) -> str:
    return f"{_path(result.path)}:{change.line}"


def _for_terminal(diff: str) -> str:
    return "\n".join(shown(line) for line in diff.split("\n"))


def _path(path: str) -> str:
    """A file's path for the terminal: a name that is not UTF-8 shows its bytes as `\\xNN`,
    a control character as its escape."""
    return shown(path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace"))


def _references(count: int) -> str:
    return f"{count} reference" + ("" if count == 1 else "s")


def _files(count: int) -> str:
    return f"{count} file" + ("" if count == 1 else "s")

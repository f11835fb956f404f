"""`ecr-sso rewrite`: point a repository's Docker Hub image references at ECR.

Argument parsing and printing only; the scanning and planning are `credhelper.repos.rewrite`.
"""

from __future__ import annotations

import argparse
from typing import Any

from credhelper.cli import output, registry_args
from credhelper.cli.context import Context
from credhelper.errors import NotWritable
from credhelper.repos.rewrite import plan, treefile
from credhelper.repos.rewrite.files import FileResult
from credhelper.shown import shown

_DESCRIPTION = """\
Find image references in Dockerfiles and Containerfiles (FROM, COPY --from, ARG defaults a
FROM uses), compose files, Kubernetes manifests, Helm values (image, repository + tag),
GitHub Actions workflows (container, services, uses: docker://) and GitLab CI (image,
services), and point the Docker Hub ones at ECR: the team's images (dockerhub_org) at the
repository `ecr-sso url` gives, other Docker Hub images at the pull-through cache when our
config has a [pull_through] table (else they are reported and left). Only the reference
text changes; tags, digests, comments, quoting and line endings stay.

Without --write, prints a unified diff. --check changes nothing and exits 1 listing every
reference that would change (the CI gate). References built from variables (${REGISTRY}/app)
are reported on stderr and never edited. PATH defaults to the current folder; folders are
walked as git lists them (.gitignore honoured)."""


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
    command.add_argument("--json", action="store_true", help="print JSON, for tools")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from credhelper.repos import teamkeys
    from credhelper.repos.rewrite import files

    settings = registry_args.settings(context)
    cache = teamkeys.pull_through(settings)
    host = registry_args.target(
        context, profile=args.profile, registry=args.registry, region=args.region
    ).host
    dest = plan.Destination(host, settings.dockerhub_org, cache.prefix if cache else None)
    results = files.examine(args.paths or ["."], dest, context.environ)
    pending = [(r, c) for r in results for c in r.changes if c.replacement]
    refused: dict[str, str] = {}
    if args.write:
        for result in results:
            if result.changed:
                try:
                    files.write(result)
                except treefile.Refused as err:
                    refused[result.path] = str(err)
    _print(results, pending, args, context, refused)
    _notes(results, context, json_mode=args.json)
    if refused:
        for path, why in refused.items():
            context.err.write(f"ecr-sso: {_path(path)}: {why}\n")
        count = len(refused)
        raise NotWritable(
            f"{count} file{'' if count == 1 else 's'} not written; the others were. "
            "Run `ecr-sso rewrite --write` again once nothing else is changing them"
        )
    if args.check and pending:
        changed = len({r.path for r, _ in pending})
        context.err.write(
            f"ecr-sso: {_references(len(pending))} to Docker Hub in {changed} file"
            f"{'' if changed == 1 else 's'}; `ecr-sso rewrite --write` rewrites them\n"
        )
        return 1
    return 0


def _print(
    results: list[FileResult],
    pending: list[tuple[FileResult, plan.Change]],
    args: argparse.Namespace,
    context: Context,
    refused: dict[str, str],
) -> None:
    """The run's result on stdout: JSON, the --check listing, the files written, or the diff."""
    if args.json:
        output.as_json(context.out, _json(results, written=args.write, refused=refused))
    elif args.check:
        for result, change in pending:
            line = f"{_where(result, change)}: {shown(change.reference)} → {change.replacement}"
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


def _notes(results: list[FileResult], context: Context, *, json_mode: bool) -> None:
    """What is left, on stderr: the unresolved, the uncached, the unreadable."""
    if json_mode:
        return
    for result in results:
        if result.problem:
            context.err.write(f"ecr-sso: {_path(result.path)}: skipped, {shown(result.problem)}\n")
        for change in result.changes:
            if change.status == plan.UNRESOLVED:
                reason = "built from variables; not rewritten"
            elif change.status == plan.LEFT:
                reason = "left on Docker Hub: no pull-through cache in our config"
            else:
                continue
            reference = shown(change.reference)
            context.err.write(f"ecr-sso: {_where(result, change)}: {reference}: {reason}\n")


def _json(results: list[FileResult], *, written: bool, refused: dict[str, str]) -> dict[str, Any]:
    return {
        "references": [
            {
                "file": result.path,
                "kind": result.kind,
                "line": change.line,
                "reference": change.reference,
                "replacement": change.replacement or None,
                "status": change.status,
            }
            for result in results
            for change in result.changes
        ],
        "skipped": [{"file": r.path, "reason": r.problem} for r in results if r.problem],
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

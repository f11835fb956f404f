"""`ecr-sso rewrite`: point a repository's Docker Hub image references at ECR.

Argument parsing and printing only; the scanning and planning are `credhelper.repos.rewrite`.
"""

from __future__ import annotations

import argparse
from typing import Any

from credhelper.cli import output, registry_args
from credhelper.cli.context import Context
from credhelper.repos.rewrite import plan
from credhelper.repos.rewrite.files import FileResult

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
    if args.write:
        for result in results:
            if result.changed:
                files.write(result)
    _print(results, pending, args, context)
    _notes(results, context, json_mode=args.json)
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
) -> None:
    """The run's result on stdout: JSON, the --check listing, the files written, or the diff."""
    if args.json:
        output.as_json(context.out, _json(results, written=args.write))
    elif args.check:
        for result, change in pending:
            line = f"{_where(result, change)}: {change.reference} → {change.replacement}"
            context.out.write(line + "\n")
    elif args.write:
        for result in results:
            if result.changed:
                count = sum(1 for c in result.changes if c.replacement)
                context.out.write(f"rewrote {result.path} ({_references(count)})\n")
    else:
        for result in results:
            if result.changed:
                context.out.write(result.diff())


def _notes(results: list[FileResult], context: Context, *, json_mode: bool) -> None:
    """What is left, on stderr: the unresolved, the uncached, the unreadable."""
    if json_mode:
        return
    for result in results:
        if result.problem:
            context.err.write(f"ecr-sso: {result.path}: skipped, {result.problem}\n")
        for change in result.changes:
            if change.status == plan.UNRESOLVED:
                reason = "built from variables; not rewritten"
            elif change.status == plan.LEFT:
                reason = "left on Docker Hub: no pull-through cache in our config"
            else:
                continue
            context.err.write(f"ecr-sso: {_where(result, change)}: {change.reference}: {reason}\n")


def _json(results: list[FileResult], *, written: bool) -> dict[str, Any]:
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
        "written": [r.path for r in results if r.changed] if written else [],
    }


def _where(result: FileResult, change: plan.Change) -> str:
    return f"{result.path}:{change.line}"


def _references(count: int) -> str:
    return f"{count} reference" + ("" if count == 1 else "s")

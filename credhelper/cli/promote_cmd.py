"""`ecr-sso promote`: copy an image from one profile's registry to others', by digest.

Argument parsing and printing only; the work is `credhelper.repos.promote`.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from credhelper.cli import output, registry_args
from credhelper.cli.context import Context

if TYPE_CHECKING:
    from credhelper.repos.promote import Outcome


_DESCRIPTION = """\
Copy IMAGE (REPO[:TAG|@DIGEST] in the --from profile's registry) to the registry of each
--to profile. The source is resolved to its digest first and copied by digest with skopeo
(--all --preserve-digests: a multi-arch index stays the same index); both sides sign in
through ecr-sso's credential helper. A missing destination repository is created with the
source repository's tag immutability and scan-on-push. A destination tag that already
points at another digest is refused (both digests named) unless --force; one that points
at the same digest is left alone. Prints REGISTRY/REPO@DIGEST for each destination; when a
destination fails, the others are still done, listed, and the exit status is 1.

--to next: the profile after --from in the promotion order of our config:
  [promote]
  order = ["dev", "stage", "prod"]

A profile's registry is the alias our config names for it, else its account's ECR host in
its region."""


def register(subparsers: Any) -> None:
    """Add `promote`."""
    command = subparsers.add_parser(
        "promote",
        help="copy an image between profiles' registries by digest",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("image", metavar="IMAGE", help="REPO[:TAG|@DIGEST]")
    command.add_argument("--from", dest="source", metavar="PROFILE", required=True)
    command.add_argument(
        "--to",
        dest="targets",
        metavar="PROFILE[,PROFILE...]",
        action="append",
        required=True,
        help="destination profiles, or `next`",
    )
    command.add_argument("--tag", metavar="TAG", help="the tag at the destinations")
    command.add_argument("--dry-run", action="store_true", help="show what would be done")
    command.add_argument(
        "--force", action="store_true", help="move a destination tag that points elsewhere"
    )
    command.add_argument("--json", action="store_true", help="print JSON, for scripts")
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from credhelper.repos import imageref, migrate, promote, teamkeys
    from credhelper.repos.ecr import Ecr

    settings = registry_args.settings(context)
    ref = imageref.parse(args.image)
    if args.tag is not None:
        imageref.parse(f"x:{args.tag}")  # a UsageError naming it when it is no tag
    tag = promote.destination_tag(ref, args.tag)
    names = promote.destinations(
        args.targets, args.source, teamkeys.promote_order(settings), settings.path
    )
    if ref.host is not None:
        source = registry_args.target(context, profile=args.source, registry=ref.host)
    else:
        source = registry_args.profile_registry(context, args.source)
    targets = [registry_args.profile_registry(context, name) for name in names]
    skopeo_path = migrate.find_skopeo(context.environ)
    environ = migrate.skopeo_environ(context.environ)

    def progress(line: str) -> None:
        output.line(context.err, f"promote: {line}")
        context.err.flush()

    with migrate.dest_authfile(source.host, *(t.host for t in targets)) as authfile:
        skopeo = migrate.Skopeo(skopeo_path, environ, authfile, src_authfile=authfile)
        digest = promote.resolve_digest(ref, source, skopeo)
        progress(f"{source.host}/{ref.path} is {digest}")
        outcomes = promote.promote(
            ref,
            digest,
            source=source,
            targets=targets,
            tag=tag,
            skopeo=skopeo,
            ecr=Ecr,
            dry_run=args.dry_run,
            force=args.force,
            progress=progress,
        )
    return _report(outcomes, digest, args, context)


def _report(
    outcomes: list[Outcome], digest: str, args: argparse.Namespace, context: Context
) -> int:
    from credhelper.repos import promote

    def progress(line: str) -> None:
        output.line(context.err, f"promote: {line}")

    if args.json:
        output.as_json(
            context.out,
            [
                {
                    "profile": o.profile,
                    "destination": o.tagged,
                    "result": o.result,
                    "digest": o.digest or None,
                    "reason": o.reason or None,
                }
                for o in outcomes
            ],
        )
    else:
        for outcome in outcomes:
            if outcome.ok:
                output.line(context.out, outcome.pinned)
    for outcome in outcomes:
        if outcome.result == promote.UNCHANGED:
            progress(f"{outcome.profile}: {outcome.tagged} already is {digest}; nothing copied")
        elif outcome.result == promote.COPIED:
            progress(f"{outcome.profile}: copied to {outcome.tagged}")
        elif outcome.result == promote.WOULD_COPY:
            progress(f"{outcome.profile}: would copy to {outcome.tagged}")
        else:
            output.line(
                context.err, f"ecr-sso: {outcome.profile}: {outcome.result}: {outcome.reason}"
            )
    failed = [o for o in outcomes if not o.ok]
    if failed:
        done = [o.profile for o in outcomes if o.ok]
        output.line(
            context.err,
            f"ecr-sso: {len(failed)} of {len(outcomes)} destinations not promoted;"
            f" succeeded: {', '.join(done) if done else 'none'}",
        )
        return 1
    return 0

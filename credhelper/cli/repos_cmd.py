"""`ecr-sso repos`, `tags`, `create`, `delete`, `untag` and `url`: the ECR repository
commands, on the same profile map as the credential helper (`migrate` shares their registry
options: credhelper.cli.migrate_cmd).

Argument parsing and printing only: which registry (`credhelper.repos.target`), the API calls
(`credhelper.repos.ecr`) and reference translation (`credhelper.repos.imageref`) live in the
library.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from credhelper.cli import output
from credhelper.cli.context import Context
from credhelper.errors import UsageError

if TYPE_CHECKING:
    from credhelper.repos.ecr import Ecr, Image, Repository
    from credhelper.repos.imageref import ImageRef
    from credhelper.repos.target import Target
    from credhelper.settings import Settings


_TARGET_HELP = """\
registry: --profile PROFILE acts on that profile's account in its region (--region to
override); --registry HOST on an ECR host or alias, with the profile the credential helper
would use for it. Default: $ECR_SSO_PROFILE, else default_profile in our config."""


def common_parents() -> dict[str, Any]:
    """The registry options and `--json`, which every repository command shares."""
    target = argparse.ArgumentParser(add_help=False)
    where = target.add_argument_group("registry")
    where.add_argument("--profile", metavar="PROFILE", help="act on this AWS profile's registry")
    where.add_argument("--registry", metavar="HOST", help="act on this ECR host or alias")
    where.add_argument("--region", metavar="REGION", help="with --profile: another region")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON, for scripts")
    return {"parents": [target, as_json], "epilog": _TARGET_HELP}


def register(subparsers: Any) -> None:
    """Add the repository commands (`migrate` is credhelper.cli.migrate_cmd)."""
    common = common_parents()

    repos = subparsers.add_parser(
        "repos",
        help="list repositories",
        description="List the registry's repositories.",
        **common,
    )
    repos.add_argument(
        "-l",
        "--long",
        action="store_true",
        help="add URI, created, tag mutability and scan-on-push",
    )
    repos.set_defaults(handler=run_repos)

    tags = subparsers.add_parser(
        "tags",
        help="list a repository's tags, in version order",
        description="List a repository's tags: versions in numeric order (1.0.2 before"
        " 1.0.12), then the other tags alphabetically.",
        **common,
    )
    tags.add_argument("repository", metavar="REPO")
    tags.add_argument("-l", "--long", action="store_true", help="add digest, pushed-at and size")
    tags.add_argument("--untagged", action="store_true", help="list the untagged images instead")
    tags.set_defaults(handler=run_tags)

    create = subparsers.add_parser(
        "create", help="create a repository", description="Create a repository.", **common
    )
    create.add_argument("repository", metavar="REPO")
    create.add_argument("--immutable", action="store_true", help="tags cannot be overwritten")
    create.add_argument("--scan-on-push", action="store_true", help="scan images when pushed")
    create.set_defaults(handler=run_create)

    delete = subparsers.add_parser(
        "delete",
        help="delete a repository",
        description="Delete a repository. One that still holds images needs --force; the"
        " deletion is confirmed on a terminal, or needs --yes without one.",
        **common,
    )
    delete.add_argument("repository", metavar="REPO")
    delete.add_argument("--force", action="store_true", help="delete its images with it")
    delete.add_argument("-y", "--yes", action="store_true", help="do not ask")
    delete.set_defaults(handler=run_delete)

    untag = subparsers.add_parser(
        "untag",
        help="delete tags from a repository",
        description="Delete tags in batches. An image keeps its other tags; with its last"
        " tag gone, ECR deletes the image. Every tag that could not be deleted is reported,"
        " and the exit status is 1 if there was one.",
        **common,
    )
    untag.add_argument("repository", metavar="REPO")
    untag.add_argument("tags", metavar="TAG", nargs="+")
    untag.set_defaults(handler=run_untag)

    url = subparsers.add_parser(
        "url",
        help="translate image references to this ECR registry",
        description="Print the ECR reference of each IMAGE: a Docker Hub reference"
        " (ORG/NAME:TAG, with dockerhub_org from our config dropped; docker.io/...), a bare"
        " NAME:TAG, or another registry's HOST/PATH:TAG (path kept). With a [pull_through]"
        " table in our config, Docker Hub images outside dockerhub_org get their"
        " pull-through cache path (HOST/PREFIX/library/NAME:TAG for official images). Tags"
        " and digests are kept. IMAGE '-' reads references from stdin, one per line; blank"
        " lines and lines starting with # are passed through, and a line that is not a"
        " reference fails the run before anything is printed.",
        **common,
    )
    url.add_argument("images", metavar="IMAGE", nargs="+")
    url.set_defaults(handler=run_url)


# -- the handlers -----------------------------------------------------------------------------


def run_repos(args: argparse.Namespace, context: Context) -> int:
    ecr = _ecr(args, context)
    repositories = ecr.repositories()
    if args.json:
        output.as_json(context.out, [_repository_json(repo) for repo in repositories])
    elif not repositories:
        # Said, not left blank: an empty answer looks like a failure or the wrong registry.
        output.line(context.err, f"no repositories in {ecr.target.host}")
    elif args.long:
        output.table(
            context.out,
            ("NAME", "URI", "CREATED", "TAGS", "SCAN-ON-PUSH"),
            [
                (
                    repo.name,
                    repo.uri,
                    _when(repo.created_at),
                    repo.tag_mutability.lower(),
                    "yes" if repo.scan_on_push else "no",
                )
                for repo in repositories
            ],
        )
    else:
        for repo in repositories:
            output.line(context.out, repo.name)
    return 0


def run_tags(args: argparse.Namespace, context: Context) -> int:
    from credhelper.repos.tag_order import sort_key

    ecr = _ecr(args, context)
    images = ecr.images(args.repository)
    where = f"repository '{args.repository}' in {ecr.target.host}"
    untagged = sorted(
        (image for image in images if not image.tags),
        key=lambda image: image.pushed_at or datetime.min.replace(tzinfo=timezone.utc),
    )
    if args.untagged:
        if args.json:
            output.as_json(context.out, [_image_json(None, image) for image in untagged])
        elif not untagged:
            output.line(context.err, f"no untagged images in {where}")
        else:
            output.table(
                context.out,
                ("DIGEST", "PUSHED", "SIZE"),
                [(i.digest, _when(i.pushed_at), _size(i.size)) for i in untagged],
            )
        return 0
    rows = sorted(
        ((tag, image) for image in images for tag in image.tags),
        key=lambda row: sort_key(row[0]),
    )
    if args.json:
        output.as_json(context.out, [_image_json(tag, image) for tag, image in rows])
    elif not rows:
        more = (
            f"; {_images(len(untagged), 'untagged')}: `--untagged` lists them" if untagged else ""
        )
        output.line(context.err, f"no tags in {where}{more}")
    elif args.long:
        output.table(
            context.out,
            ("TAG", "DIGEST", "PUSHED", "SIZE"),
            [(tag, i.digest, _when(i.pushed_at), _size(i.size)) for tag, i in rows],
        )
    else:
        for tag, _ in rows:
            output.line(context.out, tag)
    return 0


def run_create(args: argparse.Namespace, context: Context) -> int:
    repo = _ecr(args, context).create(
        args.repository, immutable=args.immutable, scan_on_push=args.scan_on_push
    )
    if args.json:
        output.as_json(context.out, _repository_json(repo))
    else:
        output.line(context.out, repo.uri)
    return 0


def run_delete(args: argparse.Namespace, context: Context) -> int:
    ecr = _ecr(args, context)
    name = args.repository
    count = len(ecr.images(name))  # also: RepositoryNotFound before anything is asked
    if count and not args.force:
        raise UsageError(
            f"repository '{name}' in {ecr.target.host} holds {_images(count)}; pass --force"
            " to delete them with it"
        )
    if not args.yes:
        if not context.interactive:
            raise UsageError(
                f"deleting repository '{name}' needs confirmation and there is no terminal"
                " to ask on: pass --yes"
            )
        held = f" and its {_images(count)}" if count else ""
        if not context.confirm(f"Delete repository '{name}'{held} from {ecr.target.host}?"):
            context.err.write("ecr-sso: not deleted\n")
            return 1
    repo = ecr.delete(name, force=count > 0)
    if args.json:
        output.as_json(context.out, {"name": repo.name, "deletedImages": count})
    else:
        output.line(context.out, f"deleted repository {repo.name} ({_images(count)})")
    return 0


def run_untag(args: argparse.Namespace, context: Context) -> int:
    removed, failed = _ecr(args, context).untag(args.repository, args.tags)
    if args.json:
        output.as_json(
            context.out,
            {
                "untagged": removed,
                "failed": [{"tag": f.tag, "code": f.code, "reason": f.reason} for f in failed],
            },
        )
    else:
        for tag in removed:
            output.line(context.out, f"untagged {tag}")
    for failure in failed:
        output.line(context.err, f"ecr-sso: tag {failure.tag}: {failure.code}: {failure.reason}")
    if failed:
        context.err.write(f"ecr-sso: {len(failed)} of {len(set(args.tags))} tags not deleted\n")
        return 1
    return 0


def run_url(args: argparse.Namespace, context: Context) -> int:
    from credhelper.repos import imageref

    # Every reference is parsed before anything is printed: a filter must not stop halfway.
    lines: list[tuple[str, ImageRef | None]] = []  # (text, reference); None: passed through
    for image in args.images:
        if image != "-":
            lines.append((image, imageref.parse(image)))
            continue
        for number, line in enumerate(sys.stdin.read().splitlines(), start=1):
            text = line.strip()
            if not text or text.startswith("#"):
                lines.append((line, None))
                continue
            try:
                lines.append((text, imageref.parse(text)))
            except UsageError as err:
                raise UsageError(f"stdin line {number}: {err}") from None
    target = _target(args, context)
    settings = _settings(context)
    pairs = [
        (text, None if ref is None else _url(ref, target.host, settings)) for text, ref in lines
    ]
    if args.json:
        output.as_json(
            context.out, [{"source": text, "ecr": ecr} for text, ecr in pairs if ecr is not None]
        )
    else:
        for text, ecr in pairs:
            context.out.write((text if ecr is None else ecr) + "\n")
    return 0


def _url(ref: ImageRef, host: str, settings: Settings) -> str:
    """Where `ref` is in ECR: with a pull-through cache in our config, a public Docker Hub
    image is in the cache (`HOST/PREFIX/library/python:3.12`), as `ecr-sso rewrite` says."""
    from credhelper.repos import imageref, teamkeys
    from credhelper.repos.rewrite.plan import Destination, replacement

    cache = teamkeys.pull_through(settings)
    if cache is not None:
        dest = Destination(host, settings.dockerhub_org, cache.prefix)
        decided = replacement(ref, dest)
        if decided is not None:
            return decided[0]
    return imageref.to_ecr(ref, host, settings.dockerhub_org)


# -- shared parts -------------------------------------------------------------------------------


def settings(context: Context) -> Settings:
    """Our config file, read."""
    return _settings(context)


def target(
    args: argparse.Namespace,
    context: Context,
    *,
    registry: str | None = None,
    profile: str | None = None,
) -> Target:
    """The registry the command acts on; `registry`/`profile` stand in for the options."""
    if registry is not None:
        args = argparse.Namespace(**{**vars(args), "registry": registry, "region": None})
        if profile is not None and args.profile is None:
            args.profile = profile
    return _target(args, context)


def _settings(context: Context) -> Settings:
    from credhelper.settings import load

    return load(context.paths.config_file)


def _target(args: argparse.Namespace, context: Context) -> Target:
    from credhelper.aws import config as aws_config
    from credhelper.repos import ecr as ecr_api
    from credhelper.repos.target import resolve

    return resolve(
        profile=args.profile,
        registry=args.registry,
        region=args.region,
        settings=_settings(context),
        aws_profiles=aws_config.read(context.paths.aws_config_file).profiles,
        environ=context.environ,
        aws_config_file=context.paths.aws_config_file,
        caller_account=ecr_api.caller_account,
    )


def _ecr(args: argparse.Namespace, context: Context) -> Ecr:
    from credhelper.repos.ecr import Ecr

    return Ecr(_target(args, context))


def _repository_json(repo: Repository) -> dict[str, Any]:
    return {
        "name": repo.name,
        "uri": repo.uri,
        "createdAt": _when(repo.created_at) or None,
        "tagMutability": repo.tag_mutability,
        "scanOnPush": repo.scan_on_push,
    }


def _image_json(tag: str | None, image: Image) -> dict[str, Any]:
    entry: dict[str, Any] = {} if tag is None else {"tag": tag}
    entry.update(
        digest=image.digest,
        pushedAt=_when(image.pushed_at) or None,
        size=image.size,
        mediaType=image.media_type,
    )
    return entry


def _when(moment: datetime | None) -> str:
    """UTC, to the second: the same in every time zone, so scripts and people agree."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(size: int | None) -> str:
    """Bytes in decimal units, as docker prints image sizes."""
    if size is None:
        return ""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def _images(count: int, kind: str = "") -> str:
    return f"{count} {kind + ' ' if kind else ''}image" + ("" if count == 1 else "s")

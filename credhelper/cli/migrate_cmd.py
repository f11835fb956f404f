"""`ecr-sso migrate`: copy images from Docker Hub (a whole organisation, or named sources
from any registry) into ECR, within Docker Hub's pull limit, resumable, verified.

Argument parsing and printing only; the use case is credhelper.repos.migrate_session.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from credhelper.cli import output, repos_cmd
from credhelper.cli.context import Context
from credhelper.errors import UsageError

MAX_JOBS = 32
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", re.ASCII)
_AGO = re.compile(r"([0-9]{1,5})([dh])")

DESCRIPTION = """\
Copy images into ECR with `skopeo copy --all --preserve-digests`: multi-arch indexes
arrive whole, at the same digest. ECR repositories are created when missing.

What to copy: a Docker Hub organisation (--org ORG, default dockerhub_org from our
config) listed through Docker Hub's API, private repositories too when the Docker Hub
login `docker login` left can see them; or SOURCEs (a repository, or one NAME:TAG, on
Docker Hub or any registry). --repo/--exclude narrow the repositories, --tags and
--since the tags.

Docker Hub's pull limit: digests are compared with HEAD requests on both sides, which
Docker Hub does not count, so tags already in ECR cost nothing and a re-run spends no
pull; a tag whose image another tag already brings to ECR (`latest` and `1.2`) is tagged
there, not copied again. --dry-run prints the plan and its cost: the pulls it will
spend, the limit and allowance Docker Hub states, and the waiting that implies. At the
limit (or on a 429), no new copy starts; the ones in flight finish; then migrate waits
with a countdown (--wait, the default on a terminal) or stops with exit status 75 (the
default without one): `ecr-sso migrate --resume` carries on from the journal in our
state folder, which also survives Ctrl-C, SIGTERM and kill -9. --verify checks every
planned tag is in ECR at its source's digest (after the migration, or alone for the last
one)."""

EPILOG = """\
exit status: 0 done; 1 a tag failed or --verify found a difference; 2 usage;
75 stopped at the pull limit (run `ecr-sso migrate --resume`); 130/143 interrupted.
Docker Hub's endpoints: ECR_SSO_DOCKERHUB_API_URL, ECR_SSO_DOCKERHUB_REGISTRY_URL."""


def register(subparsers: Any) -> None:
    """Add `migrate`."""
    common = repos_cmd.common_parents()
    common["epilog"] = EPILOG + "\n\n" + common["epilog"]
    migrate = subparsers.add_parser(
        "migrate",
        help="copy images (a whole Docker Hub organisation) to ECR, within the pull limit",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **common,
    )
    migrate.add_argument("sources", metavar="SOURCE", nargs="*")
    what = migrate.add_argument_group("what to copy")
    what.add_argument(
        "--org", metavar="ORG", help="every repository of Docker Hub organisation ORG"
    )
    what.add_argument(
        "--repo",
        metavar="GLOB",
        action="append",
        default=[],
        help="with --org: only repositories matching GLOB (repeatable)",
    )
    what.add_argument(
        "--exclude",
        metavar="GLOB",
        action="append",
        default=[],
        help="with --org: not repositories matching GLOB (repeatable)",
    )
    what.add_argument(
        "--tags",
        metavar="GLOB",
        action="append",
        default=[],
        help="only tags matching GLOB (shell pattern; repeatable)",
    )
    what.add_argument(
        "--since",
        metavar="DATE",
        help="Docker Hub only: tags pushed since DATE (2025-01-31, 2025-01-31T12:00Z, or"
        " 30d / 12h ago)",
    )
    how = migrate.add_argument_group("how")
    how.add_argument(
        "--dry-run", action="store_true", help="print the plan and its cost; change nothing"
    )
    how.add_argument(
        "--jobs",
        metavar="N",
        type=int,
        default=4,
        help=f"copies in parallel (1-{MAX_JOBS}; default 4)",
    )
    how.add_argument(
        "--wait",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="at the pull limit, wait with a countdown (default on a terminal) or stop with"
        " exit 75",
    )
    how.add_argument(
        "--resume", action="store_true", help="carry on with the last migration's plan"
    )
    how.add_argument(
        "--verify",
        action="store_true",
        help="check every planned tag is in ECR at its source's digest",
    )
    how.add_argument(
        "--report", metavar="FILE", help="write every tag's outcome to FILE (JSON; CSV for *.csv)"
    )
    migrate.set_defaults(handler=run_migrate)


@dataclass
class _Request:
    """The arguments, checked and completed from our config and the journal."""

    org: str | None
    items: list[Any]
    selection: Any
    resumed: Any
    alone: bool
    dockerhub_org: str | None


def run_migrate(args: argparse.Namespace, context: Context) -> int:
    from credhelper.repos import migrate, migrate_report, migrate_session, ratelimit

    request = _request(args, context)
    if args.report:
        migrate_report.check_writable(args.report)
    executable = migrate.find_skopeo(context.environ)
    environ = migrate.skopeo_environ(context.environ)
    target = _destination(args, context, request.resumed)
    wait = context.interactive if args.wait is None else args.wait
    display = _display(context)
    waiter = ratelimit.Waiter(display.waiting) if wait else None
    built = migrate_session.clients(
        target,
        environ=context.environ,
        docker_config_file=context.paths.docker_config_file,
        helper_environ=environ,
        jobs=args.jobs,
    )
    hub_sources = request.org or any(i.ref.docker_hub for i in request.items)
    if built.sources.hub_login is None and hub_sources:
        _say(
            context,
            "migrate: no Docker Hub login found (run `docker login`): public repositories"
            " only, at the anonymous pull limit",
        )
    if request.alone:
        entries = request.resumed.entries
        return _verify(
            context,
            entries=entries,
            built=built,
            host=target.host,
            args=args,
            waiter=waiter,
            report=True,
        )
    if args.dry_run:
        return _dry_run(args, context, request=request, built=built, target=target, waiter=waiter)
    return _copy(
        args,
        context,
        request=request,
        built=built,
        target=target,
        executable=executable,
        environ=environ,
        waiter=waiter,
        display=display,
    )


def _dry_run(
    args: argparse.Namespace,
    context: Context,
    *,
    request: _Request,
    built: Any,
    target: Any,
    waiter: Any,
) -> int:
    from credhelper.repos import migrate_report, migrate_session
    from credhelper.repos.ecr import Ecr
    from credhelper.repos.migrate_repositories import Repositories

    plan = _plan(args, request, built, waiter)
    repositories = Repositories(Ecr(target), dry_run=True, say=lambda line: _say(context, line))
    repositories.ensure_all([i.entry.repository for i in plan.to_copy], jobs=args.jobs)
    rows = migrate_session.rows(plan, None, target.host, dry_run=True)
    _print_plan(context, rows, plan, built, args.json)
    if args.report:
        migrate_report.write(args.report, rows, destination=target.host)
    return 0


def _copy(
    args: argparse.Namespace,
    context: Context,
    *,
    request: _Request,
    built: Any,
    target: Any,
    executable: str,
    environ: Any,
    waiter: Any,
    display: Any,
) -> int:
    from credhelper.repos import journal, migrate, migrate_report, migrate_session
    from credhelper.repos.ecr import Ecr
    from credhelper.repos.migrate_repositories import Repositories

    state_dir = context.paths.state_dir
    with journal.locked(state_dir):
        repositories = Repositories(Ecr(target), dry_run=False, say=lambda line: None)
        plan = _plan(args, request, built, waiter, copying=repositories.warm)
        if request.resumed is None:
            before = journal.load(state_dir) if _exists(state_dir) else None
            if before is not None and before.ended != "complete":
                _say(
                    context, "migrate: the last migration was not finished; its journal is replaced"
                )
        writer = migrate_session.start_journal(
            state_dir,
            plan,
            target=target,
            arguments={"sources": list(args.sources), "org": request.org},
            resumed=request.resumed,
        )
        try:
            display.start(
                len(plan.to_copy) + len(plan.to_tag),
                sum(i.entry.size or 0 for i in plan.to_copy) or None,
            )
            skopeo = migrate.Skopeo(executable, environ, None, logins=built.login_for)
            repositories.say = display.note
            run = migrate_session.execute(
                plan,
                built,
                target=target,
                skopeo=skopeo,
                writer=writer,
                jobs=args.jobs,
                waiter=waiter,
                display=display,
                repositories=repositories,
            )
        finally:
            display.close()
            writer.close()
    rows = migrate_session.rows(plan, run, target.host, dry_run=False)
    _print_rows(context, rows, args.json)
    if args.report:
        migrate_report.write(args.report, rows, destination=target.host)
    if run.stop is not None:
        raise _stopped(run, rows, built)
    if args.verify:
        entries = [i.entry for i in plan.items]
        code = _verify(
            context,
            entries=entries,
            built=built,
            host=target.host,
            args=args,
            waiter=waiter,
            report=False,
        )
        if code:
            return code
    failed = [o for o in rows if o.result == migrate.FAILED]
    if failed:
        context.err.write(f"ecr-sso: {len(failed)} of {len(rows)} failed\n")
        return 1
    return 0


def _plan(
    args: argparse.Namespace,
    request: _Request,
    built: Any,
    waiter: Any,
    copying: Callable[[], None] | None = None,
) -> Any:
    from credhelper.repos import migrate_session

    if request.resumed is not None:
        return migrate_session.plan_resume(
            built, request.resumed, jobs=args.jobs, waiter=waiter, copying=copying
        )
    return migrate_session.plan_fresh(
        built,
        sources=request.items,
        org=request.org,
        dockerhub_org=request.dockerhub_org,
        selection=request.selection,
        jobs=args.jobs,
        waiter=waiter,
        copying=copying,
    )


def _stopped(run: Any, rows: list[Any], built: Any) -> Exception:
    """The one line a run stopped early ends with (the table is already out)."""
    from credhelper.repos import migrate, ratelimit

    copied = sum(1 for o in rows if o.result == migrate.COPIED)
    tagged = sum(1 for o in rows if o.result == migrate.TAGGED)
    left = f"{copied} copied, " + (f"{tagged} tagged, " if tagged else "") + f"{run.left} to go"
    if run.stop.limit:
        when = f" in about {ratelimit.duration(run.stop.wait)}" if run.stop.wait else " later"
        last = built.ledger.last
        available = max(built.ledger.available() or 0, 0)
        state = f" ({available} of {last.limit} left)" if last else ""
        return migrate.LimitReached(
            f"Docker Hub's pull limit is reached{state}: {left}; run `ecr-sso migrate"
            f" --resume`{when}"
        )
    return migrate.Interrupted(
        f"interrupted: {left}; `ecr-sso migrate --resume` carries on", run.stop.exit_code
    )


def _request(args: argparse.Namespace, context: Context) -> _Request:
    from credhelper.repos import journal, migrate
    from credhelper.repos.migrate_plan import Selection

    _check(args)
    settings = repos_cmd.settings(context)
    alone = args.verify and not (args.sources or args.org or args.resume)
    resumed = None
    if args.resume or alone:
        resumed = journal.load(context.paths.state_dir)
        if resumed is None:
            what = "resume" if args.resume else "verify"
            raise UsageError(
                f"there is no migration to {what}: run `ecr-sso migrate --org ORG` (or name"
                " SOURCEs) first"
            )
    org = args.org
    if not (args.sources or org or resumed):
        org = settings.dockerhub_org
        if not org:
            raise UsageError(
                "nothing to migrate: name SOURCEs, or pass --org ORG, or set dockerhub_org in"
                f" {settings.path}"
            )
    if org is not None and _COMPONENT.fullmatch(org) is None:
        raise UsageError(f"--org {org!r}: not a Docker Hub organisation name")
    items = migrate.sources(args.sources, settings.dockerhub_org, args.tags)
    if args.since is not None and any(not item.ref.docker_hub for item in items):
        raise UsageError(
            "--since reads Docker Hub's API: it applies to --org and Docker Hub sources only"
        )
    selection = Selection(
        tuple(args.repo), tuple(args.exclude), tuple(args.tags), _since(args.since)
    )
    return _Request(org, items, selection, resumed, alone, settings.dockerhub_org)


def _destination(args: argparse.Namespace, context: Context, resumed: Any) -> Any:
    """The ECR registry: the options', or the resumed migration's (which they must match)."""
    if resumed is None:
        return repos_cmd.target(args, context)
    host = resumed.header.destination
    if args.registry and args.registry != host:
        raise UsageError(f"--registry {args.registry}: the migration being resumed goes to {host}")
    return repos_cmd.target(args, context, registry=host, profile=resumed.header.profile)


def _say(context: Context, line: str) -> None:
    output.line(context.err, line)
    context.err.flush()


# -- printing ------------------------------------------------------------------------------------


def _print_rows(context: Context, rows: list[Any], as_json: bool) -> None:
    if as_json:
        output.as_json(context.out, [_row_json(o) for o in rows])
    else:
        output.table(
            context.out,
            ("RESULT", "SOURCE", "DESTINATION", "DIGEST OR REASON"),
            [(o.result, o.source, o.destination, o.digest or o.reason) for o in rows],
        )


def _print_plan(context: Context, rows: list[Any], plan: Any, built: Any, as_json: bool) -> None:
    from credhelper.repos import ratelimit

    present = sum(1 for o in rows if o.result == "skipped")
    to_copy = len(plan.to_copy)
    to_tag = len(plan.to_tag)
    last = built.ledger.last
    available = built.ledger.available()
    shortfall = plan.cost - (available if available is not None else plan.cost)
    waiting = ratelimit.waiting_time(shortfall, last)
    summary = {
        "repositories": len(plan.repositories),
        "tags": len(plan.items),
        "toCopy": to_copy,
        "toTag": to_tag,
        "inEcr": present,
        "pulls": plan.cost,
        "limit": last.limit if last else None,
        "window": last.window if last else None,
        "remaining": available if last else None,
        "waitSeconds": waiting if last else None,
    }
    if as_json:
        output.as_json(context.out, {"plan": summary, "tags": [_row_json(o) for o in rows]})
        return
    _print_rows(context, rows, False)
    context.err.write(
        f"plan: {len(plan.repositories)} repositor{'y' if len(plan.repositories) == 1 else 'ies'},"
        f" {len(plan.items)} tags: {to_copy} to copy,"
        + (f" {to_tag} to tag in ECR from an image copied once," if to_tag else "")
        + f" {present} already in ECR at the same digest\n"
    )
    if last is None:
        context.err.write(
            f"Docker Hub pulls to spend: {plan.cost}; Docker Hub stated no pull limit\n"
        )
        return
    fits = (
        "it fits in what is left"
        if not waiting
        else f"about {ratelimit.duration(waiting)} of waiting for the allowance to come back"
    )
    context.err.write(
        f"Docker Hub pulls to spend: {plan.cost}; limit {last.limit} per"
        f" {ratelimit.duration(last.window)}, {max(available or 0, 0)} left now: {fits}\n"
    )


def _row_json(o: Any) -> dict[str, Any]:
    return {
        "source": o.source,
        "destination": o.destination,
        "result": o.result,
        "digest": o.digest or None,
        "sourceDigest": o.source_digest or None,
        "reason": o.reason or None,
    }


def _verify(
    context: Context,
    *,
    entries: list[Any],
    built: Any,
    host: str,
    args: argparse.Namespace,
    waiter: Any,
    report: bool,
) -> int:
    from credhelper.repos import migrate_session

    differences = migrate_session.verify(entries, built, host, jobs=args.jobs, waiter=waiter)
    if args.json:
        output.as_json(
            context.out,
            {"verified": len(entries), "differences": [_row_json(o) for o in differences]},
        )
    elif differences:
        output.table(
            context.out,
            ("DIFFERENCE", "SOURCE", "DESTINATION", "REASON"),
            [(o.result, o.source, o.destination, o.reason) for o in differences],
        )
    if args.report and report:
        from credhelper.repos import migrate_report

        migrate_report.write(args.report, differences, destination=host)
    if differences:
        context.err.write(f"ecr-sso: verify: {len(differences)} of {len(entries)} tags differ\n")
        return 1
    context.err.write(
        f"migrate: verified: all {len(entries)} tags are in ECR at their source's digest\n"
    )
    return 0


# -- arguments ------------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> None:
    if not 1 <= args.jobs <= MAX_JOBS:
        raise UsageError(f"--jobs must be 1 to {MAX_JOBS}")
    if args.org and args.sources:
        raise UsageError("--org lists the sources itself: name SOURCEs or --org, not both")
    if (args.repo or args.exclude) and args.sources:
        raise UsageError(
            "--repo and --exclude choose among --org's repositories; with SOURCEs, name them"
        )
    if args.resume and (
        args.sources or args.org or args.repo or args.exclude or args.tags or args.since
    ):
        raise UsageError(
            "--resume carries on with the last plan: it takes no SOURCE, --org or filter"
        )
    if args.verify and args.dry_run:
        raise UsageError("--verify checks what was copied; --dry-run copies nothing")


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = text.strip()
    ago = _AGO.fullmatch(value)
    if ago is not None:
        amount = int(ago.group(1))
        delta = timedelta(days=amount) if ago.group(2) == "d" else timedelta(hours=amount)
        return datetime.now(timezone.utc) - delta
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since {text!r}: not a date (2025-01-31, 2025-01-31T12:00Z, or 30d / 12h ago)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _display(context: Context) -> Any:
    from credhelper.cli.migrate_progress import LineDisplay, LiveDisplay

    if context.interactive and context.err.isatty():
        return LiveDisplay(context.err)
    return LineDisplay(context.err)


def _exists(state_dir: str) -> bool:
    import os

    from credhelper.repos import journal

    return os.path.exists(os.path.join(state_dir, journal.FOLDER, journal.NAME))


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

"""`ecr-sso setup` and `ecr-sso teardown`: arguments and printing. The planning is
`credhelper.setup.plan`'s and `.teardown`'s, the writing `credhelper.setup.apply`'s."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from credhelper import editlock
from credhelper.cli import output
from credhelper.cli.context import Context
from credhelper.cli.progress import Progress
from credhelper.errors import ConsentRequired, EcrSsoError, UsageError, login_command, os_reason
from credhelper.paths import Paths
from credhelper.setup import apply as applying
from credhelper.setup import originals, purge, teamfile
from credhelper.setup import plan as setup
from credhelper.setup import teardown as removal
from credhelper.setup.diff import diff
from credhelper.setup.teamfile import Profile

SETUP_DESCRIPTION = """\
Write the AWS profiles (an [sso-session] and a [profile] per account and role), the
registry map of ecr-sso's config, and Docker's credHelpers, from a team file and/or flags.
Nothing else in those files changes. A second run with the same input changes nothing.
What an earlier setup added and the team file no longer lists is named in a note;
--prune removes it (only what setup added, and only while it holds what setup wrote).

One run at a time: a second run waits for the first, then plans from the files the
first one wrote. Every file is checked before anything is written: all are written, or
none.

Exit status: 0 done (or nothing to change), 1 failure or consent refused, 2 bad input
or a malformed file (nothing written), 3 conflict with existing values (nothing written;
--force replaces them), 4 a file or folder that cannot be written (nothing written)."""

TEARDOWN_DESCRIPTION = """\
Undo what `ecr-sso setup` did. A file nobody has changed since setup wrote it gets back
the bytes it held before setup (or is deleted, when setup created it), and setup's backups
of it go. From a file changed since, only what [managed] records is removed: setup's
profiles and sso-session (while they hold the values setup wrote and no other profile uses
the session), its credHelpers entries, its registry map entries; what the user changed is
reported and kept, unless --force, and the backups are kept and listed.

Exit status as for setup (4: a file that cannot be written; nothing written)."""


def register(subparsers: Any) -> None:
    """Add `setup` and `teardown`."""
    command = subparsers.add_parser(
        "setup",
        help="write AWS profiles, the registry map and Docker's credHelpers",
        description=SETUP_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = command.add_argument_group("what to set up")
    source.add_argument(
        "--from", dest="team_file", metavar="FILE", help="the team file (TOML; see README)"
    )
    source.add_argument(
        "--profile",
        dest="profiles",
        action="append",
        default=[],
        metavar="NAME=ACCOUNT:ROLE[:REGION]",
        help="a profile to write (repeatable); replaces the team file's profile of that name",
    )
    source.add_argument("--sso-start-url", metavar="URL", help="the IAM Identity Center start URL")
    source.add_argument("--sso-region", metavar="REGION", help="the IAM Identity Center region")
    source.add_argument(
        "--sso-session", metavar="NAME", help="the [sso-session] name (default: from the URL)"
    )
    source.add_argument(
        "--region",
        metavar="REGION",
        help="region of profiles that name none (default: the SSO region)",
    )
    source.add_argument(
        "--legacy",
        action="store_true",
        help="write sso_start_url and sso_region in each profile, no [sso-session]",
    )
    found = command.add_argument_group("discovery (needs a valid SSO login)")
    found.add_argument(
        "--discover",
        action="store_true",
        help="a profile for every account and role the SSO login can use",
    )
    found.add_argument(
        "--template",
        metavar="T",
        help="profile name template (default {account_name}-{role_name})",
    )
    found.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="GLOB",
        help="only roles whose account id, account name, role or 'account/role' match",
    )
    found.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out roles that match (as --include)",
    )
    ci = command.add_argument_group("CI")
    ci.add_argument(
        "--ci",
        action="store_true",
        help="only Docker's credHelpers for --registry hosts: no AWS config, no SSO",
    )
    ci.add_argument(
        "--registry",
        dest="registries",
        action="append",
        default=[],
        metavar="HOST",
        help="a registry host (or an alias in ecr-sso's config) for --ci (repeatable)",
    )
    _safety(command, force_help="replace entries whose values differ from what setup would write")
    command.add_argument(
        "--prune",
        action="store_true",
        help="remove what earlier setups added that the team file no longer lists",
    )
    command.add_argument(
        "--clean-auths",
        action="store_true",
        help="remove Docker auths entries of earlier logins to these registries",
    )
    command.set_defaults(handler=run_setup)

    teardown = subparsers.add_parser(
        "teardown",
        help="remove what setup added",
        description=TEARDOWN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _safety(
        teardown,
        force_help="also remove entries setup added that have been changed since (they are"
        " kept otherwise)",
    )
    teardown.add_argument(
        "--purge",
        action="store_true",
        help="also remove ecr-sso's token cache, log and state folder (the uninstall does)",
    )
    teardown.set_defaults(handler=run_teardown)


def _safety(command: argparse.ArgumentParser, *, force_help: str) -> None:
    command.add_argument(
        "--dry-run", action="store_true", help="print a diff of every file; write nothing"
    )
    command.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="change content you wrote without asking (needed when stdin is not a terminal)",
    )
    command.add_argument("--force", action="store_true", help=force_help)


# -- setup ---------------------------------------------------------------------------------


def run_setup(args: argparse.Namespace, context: Context) -> int:
    """`ecr-sso setup`: under the edit lock, so that the files are read as any other run
    left them."""
    _check_flags(args)
    with edit_lock(context):
        return _setup(args, context)


@contextmanager
def edit_lock(context: Context) -> Iterator[None]:
    """The one lock for changes to the user's files; says so when another run holds it.
    Holding it, first undo a run that was killed between renaming its files."""

    def waiting() -> None:
        context.err.write("waiting for another ecr-sso to finish changing files...\n")
        context.err.flush()

    with editlock.hold(context.paths.state_dir, waiting=waiting):
        undone = applying.recover(journal(context))
        if undone:
            output.line(
                context.err,
                "note: an earlier ecr-sso run was stopped while it wrote files; its changes"
                f" were undone: {', '.join(undone)}",
            )
        yield


def journal(context: Context) -> str:
    """Where `apply` notes the renames it is about to make."""
    return os.path.join(context.paths.state_dir, applying.JOURNAL)


def _setup(args: argparse.Namespace, context: Context) -> int:
    if args.ci:
        files = setup.read_files(context.paths, aws=False)
        hosts = setup.ci_hosts(args.registries, files.settings)
        return _carry_out(setup.plan_ci(hosts, files, force=args.force), args, context)
    team_file = teamfile.load(args.team_file) if args.team_file else None
    flagged = [teamfile.parse_profile_flag(text) for text in args.profiles]
    # Every file is read and parsed before anything is written: a malformed one stops all.
    files = setup.read_files(context.paths)
    session, start_url, sso_region = args.sso_session, args.sso_start_url, args.sso_region
    discovered: list[Profile] = []
    if args.discover:
        session, start_url, sso_region, discovered = _discover(args, context, team_file, files)
    team = teamfile.combine(
        team_file,
        session=session,
        start_url=start_url,
        sso_region=sso_region,
        profiles=flagged,
        discovered=discovered,
        default_region=args.region,
    )
    plan = setup.plan_setup(
        team, files, legacy=args.legacy, force=args.force, clean_auths=args.clean_auths
    )
    plan = removal.prune(team, plan, remove=args.prune)
    result = _carry_out(plan, args, context)
    if plan.changed and not args.dry_run and team.sso is not None:
        how = (
            login_command(team.profiles[0].name)
            if args.legacy
            else login_command(session=team.sso.session)
        )
        output.line(context.out, f"next: sign in with `{how}`")
    return result


def _check_flags(args: argparse.Namespace) -> None:
    sources = args.team_file or args.profiles or args.discover
    if args.ci:
        clashing = [
            flag
            for flag, given in (
                ("--from", args.team_file),
                ("--profile", args.profiles),
                ("--discover", args.discover),
                ("--sso-start-url", args.sso_start_url),
                ("--sso-region", args.sso_region),
                ("--sso-session", args.sso_session),
                ("--region", args.region),
                ("--legacy", args.legacy),
                ("--clean-auths", args.clean_auths),
                ("--prune", args.prune),
            )
            if given
        ]
        if clashing:
            raise UsageError(
                f"--ci writes only Docker's credHelpers; it does not take {', '.join(clashing)}"
            )
        if not args.registries:
            raise UsageError("--ci needs at least one --registry HOST")
        return
    if args.registries:
        raise UsageError("--registry is for --ci; without it, registries come from profiles")
    if not args.discover and (args.template or args.include or args.exclude):
        raise UsageError("--template, --include and --exclude need --discover")
    if not sources:
        raise UsageError(
            "nothing to set up: give --from FILE, --profile NAME=ACCOUNT:ROLE[:REGION],"
            " --discover, or --ci --registry HOST"
        )


def _discover(
    args: argparse.Namespace,
    context: Context,
    team_file: teamfile.TeamFile | None,
    files: setup.Files,
) -> tuple[str | None, str | None, str | None, list[Profile]]:
    """(session, start URL, SSO region, profiles) from the accounts and roles the cached
    SSO login can use. A session already in the AWS config completes what is not given."""
    from credhelper.setup import discover

    base = team_file or teamfile.TeamFile()
    session = args.sso_session or base.session
    start_url = args.sso_start_url or base.start_url
    sso_region = args.sso_region or base.sso_region
    if (start_url is None or sso_region is None) and files.aws is not None:
        known = setup.sso_session_of(files.aws, session)
        if known is not None:
            session, start_url, sso_region = known[0], start_url or known[1], sso_region or known[2]
    if session is None and start_url is None:
        raise UsageError(
            "--discover needs an SSO session: --sso-session NAME (one in the AWS config),"
            " or --sso-start-url and --sso-region"
        )
    token, token_region = discover.load_access_token(context.paths, session, start_url)
    with Progress(context.err, "listing roles:", enabled=context.interactive) as shown:
        found = discover.discover(
            token,
            token_region,
            template=args.template or discover.DEFAULT_TEMPLATE,
            include=args.include,
            exclude=args.exclude,
            progress=(lambda done, total: shown.update(done, total, "accounts"))
            if context.interactive
            else None,
            login_hint=login_command(session=session),
            skipped=lambda why: output.line(context.err, f"note: {why}"),
        )
    if not found:
        raise UsageError("discovery found no account and role to set up (check the filters)")
    return (
        session,
        start_url,
        sso_region or token_region,
        setup.discovered_profiles(found, args.region),
    )


# -- teardown ------------------------------------------------------------------------------


def run_teardown(args: argparse.Namespace, context: Context) -> int:
    """`ecr-sso teardown`, under the edit lock: each file nobody changed since setup wrote
    it is given back as it was before setup (deleted if setup created it); from the
    others, our entries are removed."""
    paths = context.paths
    with edit_lock(context):
        files = setup.read_files(paths)
        record = originals.load(paths)
        plan, outcomes = originals.restore(
            removal.plan_teardown(files, force=args.force), paths, record
        )
        written = _write(plan, args, context)
        if args.dry_run or (written is None and not record.files and not args.purge):
            return 0
        by_path = {outcome.path: outcome for outcome in outcomes}
        for item in written or []:
            output.line(context.out, _teardown_line(item, by_path.get(item.path)))
        cleanup = originals.finish(
            paths, record, outcomes, {w.path: w.backup for w in written or [] if w.backup}
        )
        purge.forget_logins(paths, _sessions_gone(files, paths), cleanup)
        if args.purge:
            purge.purge(paths, cleanup)
    for path in cleanup.removed:
        output.line(context.out, f"removed {path}")
    for path, why in cleanup.kept:
        output.line(context.out, f"kept {path}: {why}")
    return 0


def _teardown_line(written: applying.Written, outcome: originals.Outcome | None) -> str:
    if outcome is None:
        saved = f" (previous version: {written.backup})" if written.backup else ""
        return f"wrote {written.path}{saved}"
    if outcome.deleted:
        return f"removed {written.path} (setup created it)"
    if outcome.restored and outcome.forgot:
        return (
            f"restored {written.path} to what it held before setup, without the auths entries"
            " --clean-auths removed"
        )
    if outcome.restored:
        return f"restored {written.path} to what it held before setup"
    return (
        f"removed ecr-sso's entries from {written.path}: it was changed after setup, so it is"
        f" not put back to its earlier bytes (previous version: {written.backup})"
    )


def _sessions_gone(files: setup.Files, paths: Paths) -> list[str]:
    """The sso-sessions setup had added that the AWS config no longer defines."""
    from credhelper.aws import config_editor

    recorded = list(files.settings.managed.sso_sessions)
    if not recorded:
        return []
    try:
        aws = config_editor.read(paths.aws_config_file)
        return [name for name in recorded if not aws.session_sections(name)]
    except EcrSsoError:
        return []


# -- shared ----------------------------------------------------------------------------------


def _carry_out(plan: setup.Plan, args: argparse.Namespace, context: Context) -> int:
    """Setup's writing: show the plan, write it, and note what was written, so that
    teardown can give each file back as it was."""
    absent = originals.absent_folders(context.paths, [change.path for change in plan.files])
    written = _write(plan, args, context)
    for item in written or []:
        saved = f" (previous version: {item.backup})" if item.backup else " (new)"
        output.line(context.out, f"wrote {item.path}{saved}")
    if written:
        done = [originals.Done(w.path, w.old, w.new, w.backup, w.forget) for w in written]
        try:
            originals.note_setup(context.paths, done, absent)
        except OSError as err:
            output.line(
                context.err,
                f"note: could not record the files as they were before setup"
                f" ({os_reason(err)}); teardown will remove ecr-sso's entries"
                " from them rather than give their earlier bytes back",
            )
    return 0


def _write(
    plan: setup.Plan, args: argparse.Namespace, context: Context
) -> list[applying.Written] | None:
    """Show the plan; stop on conflicts; print diffs (--dry-run), or get consent where
    needed and write. None when nothing was written."""
    out, err = context.out, context.err
    for note in plan.notes:
        output.line(err, f"note: {note}")
    for conflict in plan.conflicts:
        output.line(err, f"conflict: {conflict}")
    setup.check_conflicts(plan)
    if not plan.changed:
        out.write("nothing to change\n")
        return None
    if args.dry_run:
        for change in plan.files:
            out.write(diff(change))
        out.write("dry run: nothing was written\n")
        return None
    if plan.consent and not args.yes:
        _consent(plan, context)
    for action in dict.fromkeys(plan.actions + plan.consent):
        output.line(out, action)
    return applying.apply(plan, journal=journal(context))


def _consent(plan: setup.Plan, context: Context) -> None:
    err = context.err
    err.write("These changes touch content you wrote or rely on:\n")
    for line in plan.consent:
        output.line(err, f"  {line}")
    if not context.interactive:
        raise ConsentRequired(
            "these changes need your consent, and stdin is not a terminal to ask on; nothing"
            " was changed. Run again with --yes (--dry-run shows the changes)"
        )
    if not context.confirm("Make these changes?"):
        raise ConsentRequired("nothing was changed")

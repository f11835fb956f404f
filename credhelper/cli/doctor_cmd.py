"""`ecr-sso doctor`: checks, each red or green with the command that fixes it."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from credhelper.cli.context import Context
from credhelper.cli.output import as_json
from credhelper.shown import shown


def register(commands: Any) -> None:
    """Add `doctor`."""
    parser = commands.add_parser(
        "doctor",
        help="say what is wrong with this machine's setup, and how to fix it",
        description=(
            "Check that docker can find and use the ecr-sso helper: the helper on PATH,"
            " Docker's credHelpers, the AWS profiles and SSO logins, file permissions,"
            " the AWS endpoints and the clock. Exit status 0 when all is well, 1 otherwise."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument(
        "--offline", action="store_true", help="skip the checks that need the network"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from credhelper.doctor import run_checks

    checks = run_checks(context.paths, context.environ, network=not args.offline)
    healthy = all(check.ok for check in checks)
    if args.json:
        as_json(context.out, {"healthy": healthy, "checks": [c.as_dict() for c in checks]})
        return 0 if healthy else 1
    # Colour only for a person looking at a terminal: `doctor > file` or `| less` gets
    # plain text, whatever stdin is (https://no-color.org: any NO_COLOR turns it off).
    color = _isatty(context.out) and context.environ.get("NO_COLOR") is None
    for check in checks:
        mark = "ok " if check.ok else "BAD"
        if color:
            mark = f"\033[32m{mark}\033[0m" if check.ok else f"\033[31m{mark}\033[0m"
        context.out.write(f"[{mark}] {shown(check.name)}: {shown(check.detail)}\n")
        if not check.ok and check.fix:
            context.out.write(f"      fix: {shown(check.fix)}\n")
    context.out.write("all good\n" if healthy else "some checks failed\n")
    return 0 if healthy else 1


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False

"""`ecr-sso`: the companion command. Argument parsing and printing only; the work is done
by the modules it calls, and errors become exit codes in exactly one place (`main`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from credhelper.errors import EcrSsoError
from credhelper.version import version

DESCRIPTION = """\
Set a machine up for Amazon ECR behind AWS SSO, and look after it.

Docker runs `docker-credential-ecr-sso` for every pull and push to a registry whose
`credHelpers` entry in Docker's config.json says "ecr-sso"; this command prepares that."""


def parser() -> argparse.ArgumentParser:
    """The full argument parser (one subparser per command as they are added)."""
    top = argparse.ArgumentParser(
        prog="ecr-sso",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"ecr-sso {version()}")
    top.add_subparsers(dest="command", metavar="COMMAND")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns (and exits with) the command's status."""
    args = parser().parse_args(argv)
    try:
        if args.command is None:
            parser().print_help()
            return 0
    except EcrSsoError as err:
        print(f"ecr-sso: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    return 0

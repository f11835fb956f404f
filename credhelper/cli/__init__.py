"""`ecr-sso`: the companion command. Argument parsing and printing only; the work is done
by the library modules the commands call, and errors become exit codes in exactly one
place (`main`).

Each command group lives in its own module of this package, named `*_cmd.py`, with an
`ORDER` number (its place in --help) and a `register(subparsers)` function that adds its
subcommands and sets `handler` to a function `(args, context) -> int`. They are found by
name, so adding a command group touches no shared file.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from credhelper.cli.context import Context
from credhelper.errors import EcrSsoError
from credhelper.version import version

log = logging.getLogger("credhelper")

DESCRIPTION = """\
Set a machine up for Amazon ECR behind AWS SSO, and look after it.

Docker runs `docker-credential-ecr-sso` for every pull and push to a registry whose
`credHelpers` entry in Docker's config.json says "ecr-sso"; this command prepares that."""


def command_modules() -> list[ModuleType]:
    """Every `*_cmd` module of this package, in `ORDER`."""
    import importlib
    import pkgutil

    found = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name.endswith("_cmd")
    ]
    return sorted(found, key=lambda module: (getattr(module, "ORDER", 100), module.__name__))


def parser() -> argparse.ArgumentParser:
    """The full argument parser, one subparser per command."""
    top = argparse.ArgumentParser(
        prog="ecr-sso",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"ecr-sso {version()}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    for module in command_modules():
        module.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run the command, turn our errors into a message and exit code."""
    if sys.platform == "win32" or os.name == "nt":
        from credhelper.windows import REFUSAL

        print(REFUSAL, file=sys.stderr)
        return 1
    top = parser()
    args = top.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        top.print_help()
        return 0
    try:
        context = Context.from_environ(os.environ)
        return int(handler(args, context))
    except EcrSsoError as err:
        log.warning("ecr-sso %s failed: %s", args.command, err)
        print(f"ecr-sso: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("ecr-sso: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`ecr-sso ... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as err:  # the one place an unexpected failure becomes a line
        log.exception("ecr-sso %s: unexpected error", args.command)
        print(
            f"ecr-sso: internal error ({type(err).__name__}: {err}); the traceback is in"
            " the log (`ecr-sso doctor` shows the log folder)",
            file=sys.stderr,
        )
        return 1

"""`ecr-sso`: the companion command. Argument parsing and printing only; the work is done
by the library modules the commands call, and errors become exit codes in exactly one
place (`main`).

Each command group lives in its own module of this package, named `*_cmd.py`, with a
`register(subparsers)` function that adds its subcommands and sets `handler` to a function
`(args, context) -> int`. `command_groups()` lists them, in the order --help shows them: a
reader (and a type checker) sees every command from here.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from credhelper.cli.context import Context
from credhelper.errors import EcrSsoError
from credhelper.shown import shown
from credhelper.version import version

log = logging.getLogger("credhelper")

DESCRIPTION = """\
Set a machine up for Amazon ECR behind AWS SSO, and look after it.

Docker runs `docker-credential-ecr-sso` for every pull and push to a registry whose
`credHelpers` entry in Docker's config.json says "ecr-sso"; this command prepares that."""


def command_groups() -> tuple[ModuleType, ...]:
    """The command groups, in --help's order: setup, sign-in, repositories, leaving Docker
    Hub, diagnosis, completion. Imported when the parser is built, not when this package
    is, so that `main` can refuse an unsupported platform before any of them loads."""
    from credhelper.cli import (
        completion_cmd,
        doctor_cmd,
        login_cmd,
        migrate_cmd,
        promote_cmd,
        pullthrough_cmd,
        registries_cmd,
        repos_cmd,
        rewrite_cmd,
        setup_cmd,
    )

    return (
        setup_cmd,
        registries_cmd,
        login_cmd,
        repos_cmd,
        migrate_cmd,
        rewrite_cmd,
        promote_cmd,
        pullthrough_cmd,
        doctor_cmd,
        completion_cmd,
    )


def parser() -> argparse.ArgumentParser:
    """The full argument parser, one subparser per command."""
    return _parsers()[0]


def _parsers() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The full parser, and each command's own parser by name."""
    top = argparse.ArgumentParser(
        prog="ecr-sso",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"ecr-sso {version()}")
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    for group in command_groups():
        group.register(commands)
    return top, dict(commands.choices)


def parse(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and `argv` parsed by it. A usage error exits 2 (argparse's code, as
    `UsageError`'s) and shows the usage of the command it belongs to: a mistyped command
    gets the closest one suggested, an unknown flag the usage of its own subcommand, not
    the top-level one."""
    top, commands = _parsers()
    # The top level has options without values only, so the first word is the command.
    word = next((a for a in argv if not a.startswith("-")), None)
    if word is not None and word not in commands:
        close = difflib.get_close_matches(word, list(commands), n=1)
        if close:
            top.error(f"argument COMMAND: invalid choice: {word!r} (did you mean {close[0]}?)")
    args, extras = top.parse_known_args(argv)
    if extras:
        owner = (commands.get(args.command) if args.command else None) or top
        owner.error(f"unrecognized arguments: {shown(' '.join(extras))}{_flag_hint(owner, extras)}")
    return top, args


def _flag_hint(parser: argparse.ArgumentParser, extras: Sequence[str]) -> str:
    """ " (did you mean --long?)" for the mistyped flags among `extras` that are close to
    one of `parser`'s options; empty when none is."""
    # argparse offers no public way to list a parser's options; `_actions` is the one.
    options = [flag for action in parser._actions for flag in action.option_strings]
    found = []
    for extra in extras:
        if not extra.startswith("--"):
            continue
        typed = extra.partition("=")[0]
        close = difflib.get_close_matches(typed, options, n=1)
        if close:
            found.append((shown(typed), close[0]))
    if not found:
        return ""
    if len(found) == 1:
        return f" (did you mean {found[0][1]}?)"
    return f" (did you mean {', '.join(f'{match} for {typed}' for typed, match in found)}?)"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, run the command, turn our errors into a message and exit code."""
    if sys.platform == "win32" or os.name == "nt":
        from credhelper.windows import REFUSAL

        print(REFUSAL, file=sys.stderr)
        return 1
    top, args = parse(sys.argv[1:] if argv is None else list(argv))
    handler = getattr(args, "handler", None)
    if handler is None:
        top.print_help()
        return 0
    try:
        context = Context.from_environ(os.environ)
        return int(handler(args, context))
    except EcrSsoError as err:
        log.warning("ecr-sso %s failed: %s", args.command, err)
        print(f"ecr-sso: {shown(str(err))}", file=sys.stderr)
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
            f"ecr-sso: internal error ({type(err).__name__}: {shown(str(err))}); run it again with"
            " ECR_SSO_LOG=debug for its traceback in the log (`ecr-sso doctor` shows the"
            " log folder)",
            file=sys.stderr,
        )
        return 1

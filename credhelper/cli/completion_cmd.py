"""`ecr-sso completion SHELL`: print the shell completion script (see credhelper.completion)."""

from __future__ import annotations

import argparse
from typing import Any

from credhelper.cli.context import Context

SHELLS = ("bash", "zsh", "fish")


def register(commands: Any) -> None:
    """Add `completion`."""
    parser = commands.add_parser(
        "completion",
        help="print the shell completion script for bash, zsh or fish",
        description=(
            "Print a completion script for SHELL: commands, options, and the profile and"
            " sso-session names in the AWS config. install/install.sh installs it; by hand:"
            " bash: ecr-sso completion bash > ~/.local/share/bash-completion/completions/ecr-sso;"
            " zsh: ecr-sso completion zsh > DIR/_ecr-sso with DIR on your fpath;"
            " fish: ecr-sso completion fish > ~/.config/fish/completions/ecr-sso.fish"
        ),
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, context: Context) -> int:
    from credhelper import completion
    from credhelper.cli import parser

    context.out.write(completion.script(args.shell, completion.describe(parser())))
    return 0

"""`docker-credential-ecr-sso`: the executable docker, buildx, skopeo and podman run.

It reads the request, lets the stdlib-only fast path answer a cache hit, and otherwise
hands over to the full helper. Nothing heavier than `os` and `sys` is imported before the
fast path has had its chance.
"""

from __future__ import annotations

import os
import sys

from credhelper.helper import fastpath

# protocol.MAX_INPUT, repeated so the hit path need not import protocol (and json); a test
# keeps the two equal.
MAX_INPUT = 64 * 1024

_READS_STDIN = ("get", "store", "erase")


def main() -> None:
    """Run one protocol action and exit with its status."""
    if sys.platform == "win32" or os.name == "nt":
        from credhelper.windows import REFUSAL

        sys.stdout.write(f"{REFUSAL}\n")
        sys.exit(1)
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    data = _read_stdin() if action in _READS_STDIN else b""
    if action == "get":
        out = fastpath.answer(data, os.environ)
        if out is not None:
            sys.stdout.write(out)
            sys.stdout.flush()
            sys.exit(0)
    from credhelper.helper.full import run

    sys.exit(run(action, data))


def _read_stdin() -> bytes:
    stream = sys.stdin.buffer if sys.stdin is not None else None
    if stream is None:
        return b""
    try:
        # One byte over the limit is enough to refuse the input; never read megabytes.
        return stream.read(MAX_INPUT + 1)
    except OSError:
        return b""

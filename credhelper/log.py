"""The debug log: a size-bounded file in the user log dir, level from `ECR_SSO_LOG`.

Nothing is ever written to stderr: docker would show it mid-pull. botocore's own loggers are
capped at WARNING whatever the level, because at DEBUG they write request headers and
response bodies, which hold SSO access tokens and ECR passwords.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping

from credhelper import atomic

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "off": logging.CRITICAL + 1,
}
MAX_BYTES = 1_000_000
FILE_NAME = "ecr-sso.log"


def setup(log_dir: str, environ: Mapping[str, str]) -> str:
    """Send our records to the log file; return its path."""
    logging.raiseExceptions = False  # a broken log file must not break a pull
    level = LEVELS.get(environ.get("ECR_SSO_LOG", "warning").strip().lower(), logging.WARNING)
    path = os.path.join(log_dir, FILE_NAME)
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    try:
        atomic.ensure_private_dir(log_dir)
        _rotate(path)
        _create_private(path)
        handler: logging.Handler = logging.FileHandler(path, delay=True, encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
        )
    except OSError:
        handler = logging.NullHandler()
    root.addHandler(handler)
    logging.getLogger("credhelper").setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "keyring"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return path


def _create_private(path: str) -> None:
    """Create the log 0600 from the start (FileHandler would create it with the umask's
    mode, 0644 for most): it names registries, profiles and roles. A log left readable by
    an older version is made private too; it is our own file in our own folder."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        loose = os.fstat(fd).st_mode & 0o077
    finally:
        os.close(fd)
    if loose:
        os.chmod(path, 0o600)


def _rotate(path: str) -> None:
    """Keep the log under MAX_BYTES with one older copy. Done once at start rather than by
    logging.handlers, whose import (pickle, socket, queue) would slow every cold `get`; a
    run writes a few lines, so the bound holds to within one run."""
    with contextlib.suppress(OSError):
        if os.path.getsize(path) > MAX_BYTES:
            os.replace(path, path + ".1")

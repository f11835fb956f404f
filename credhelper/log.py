"""The log: a size-bounded file in the user log dir, level from `ECR_SSO_LOG`.

The log is for people: by default a failure is one line there (what failed, for which
host and profile, what to do), written by the executable that reports it. Tracebacks, and
the records of botocore and the other libraries (which repeat the same failure, botocore
with a traceback of each failed token refresh), appear only with `ECR_SSO_LOG=debug`.

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
from credhelper.errors import ConfigError
from credhelper.shown import shown

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "off": logging.CRITICAL + 1,
}
MAX_BYTES = 1_000_000
FILE_NAME = "ecr-sso.log"
_OURS = "credhelper"
_LIBRARIES = ("botocore", "boto3", "urllib3", "keyring")


class _OneLine(logging.Formatter):
    """A record without its traceback: the message alone is the line, `shown`, so that an
    AWS message or a file name in it cannot split it or act on the terminal of whoever
    reads the log."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = shown(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        return self.formatMessage(record)


def _ours(record: logging.LogRecord) -> bool:
    return record.name == _OURS or record.name.startswith(_OURS + ".")


def level_of(environ: Mapping[str, str]) -> int:
    """The level `ECR_SSO_LOG` names (default warning); a value we do not know is refused,
    rather than silently logging less (or more) than the person asked for."""
    text = environ.get("ECR_SSO_LOG", "").strip().lower() or "warning"
    level = LEVELS.get(text)
    if level is None:
        raise ConfigError(
            f"ECR_SSO_LOG (environment variable) must be one of {', '.join(LEVELS)},"
            f" not {environ.get('ECR_SSO_LOG', '')!r}"
        )
    return level


def setup(log_dir: str, environ: Mapping[str, str]) -> str:
    """Send our records to the log file; return its path. An invalid `ECR_SSO_LOG` is a
    ConfigError, raised once the log is set up at the default level (so the failure it
    causes is logged, and nothing reaches stderr)."""
    logging.raiseExceptions = False  # a broken log file must not break a pull
    invalid: ConfigError | None = None
    try:
        level = level_of(environ)
    except ConfigError as err:
        level, invalid = logging.WARNING, err
    path = os.path.join(log_dir, FILE_NAME)
    root = logging.getLogger()
    root.setLevel(logging.WARNING)
    try:
        atomic.ensure_private_dir(log_dir)
        _rotate(path)
        _create_private(path)
        handler: logging.Handler = logging.FileHandler(path, delay=True, encoding="utf-8")
        layout = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
        if level <= logging.DEBUG:
            handler.setFormatter(logging.Formatter(layout))
        else:
            handler.setFormatter(_OneLine(layout))
            handler.addFilter(_ours)
    except OSError:
        handler = logging.NullHandler()
    root.addHandler(handler)
    logging.getLogger(_OURS).setLevel(level)
    for noisy in _LIBRARIES:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    if invalid is not None:
        raise invalid
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

"""Remove what ecr-sso keeps for itself (`teardown --purge`, which the uninstall runs):
the token cache (tokens, route files, locks, sign-in client registrations, and tokens kept
in the keyring), the log, and the state folder; and the SSO sign-ins of the sso-sessions
teardown removed. Only what ecr-sso makes is removed, by name: a folder that also holds
something else is kept, and said to be.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable

from credhelper import private
from credhelper.editlock import NAME as LOCK_NAME
from credhelper.errors import EcrSsoError
from credhelper.paths import Paths
from credhelper.setup.apply import JOURNAL
from credhelper.setup.originals import FOLDER as RECORD_FOLDER
from credhelper.setup.originals import Cleanup
from credhelper.shown import shown

#: What the token cache folder holds (see credhelper.helper.tokens, .fastpath, .autologin
#: and credhelper.sso.flows).
CACHE_ENTRIES = ("tokens", "routes", "locks", "sso-registrations", "keyring-index")
LOG_FILES = ("ecr-sso.log", "ecr-sso.log.1")


def forget_logins(paths: Paths, sessions: Iterable[str], cleanup: Cleanup) -> None:
    """Remove the SSO sign-in (`~/.aws/sso/cache/<sha1>.json`) of each of `sessions`, the
    sso-sessions teardown removed: no profile can use it any more."""
    from credhelper.sso.logins import token_path

    for session in sessions:
        path = token_path(paths, session)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            cleanup.removed.append(f"{path} (the sign-in of sso-session {session})")


def purge(paths: Paths, cleanup: Cleanup) -> None:
    """Remove the token cache, the log and the state folder (see the module docstring),
    each only when the helper would trust it (`private.untrusted_folder`): a folder others
    can write, or another user's, may hold what is not ours, and is left as it is."""
    cache_parts = (*private.CACHE_FOLDERS, "sso-registrations")
    if _trusted(paths.cache_dir, cache_parts, "the token cache", cleanup):
        # The keyring's index is in the cache folder: trusted only with it.
        _forget_keyring_tokens(paths, cleanup)
        for name in CACHE_ENTRIES:
            _remove(os.path.join(paths.cache_dir, name), cleanup)
        _remove_folder(paths.cache_dir, "the token cache", cleanup)
    if _trusted(paths.log_dir, (), "the log", cleanup):
        for name in LOG_FILES:
            _remove(os.path.join(paths.log_dir, name), cleanup)
        _remove_folder(paths.log_dir, "the log", cleanup)
    # The state folder holds the edit lock teardown holds: checked before it got here.
    _remove(os.path.join(paths.state_dir, RECORD_FOLDER), cleanup)
    _remove(os.path.join(paths.state_dir, JOURNAL), cleanup, quiet=True)
    _remove(os.path.join(paths.state_dir, LOCK_NAME), cleanup, quiet=True)
    # On macOS the state folder is also the data folder, where the installer's
    # environment lives: the uninstall removes that, then the folder.
    with contextlib.suppress(OSError):
        os.rmdir(paths.state_dir)
        cleanup.removed.append(paths.state_dir)


def _trusted(folder: str, parts: tuple[str, ...], what: str, cleanup: Cleanup) -> bool:
    """Whether `folder` and its `parts` are ours alone; when not, say so and keep it."""
    found = private.untrusted_folder(folder, parts)
    if found is None:
        return True
    where, why = found
    inside = "" if where == folder else f" has {shown(where)}, which"
    cleanup.kept.append(
        (folder, f"{what} folder{inside} is {why}, so ecr-sso neither uses nor cleans it")
    )
    return False


def _forget_keyring_tokens(paths: Paths, cleanup: Cleanup) -> None:
    from credhelper.helper.tokens import KeyringCache

    cache = KeyringCache(paths.cache_dir)
    keys = cache.keys()
    if not keys:
        return
    try:
        for key in keys:
            cache.delete(key)
    except (EcrSsoError, OSError) as err:
        cleanup.kept.append((f"{len(keys)} ECR tokens in the keyring", str(err)))
        return
    cleanup.removed.append(f"{len(keys)} ECR tokens from the keyring")


def _remove(path: str, cleanup: Cleanup, *, quiet: bool = False) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            return
        except OSError as err:
            cleanup.kept.append((path, f"cannot remove it: {err.strerror}"))
            return
    if not quiet:
        cleanup.removed.append(path)


def _remove_folder(path: str, what: str, cleanup: Cleanup) -> None:
    if not os.path.isdir(path):
        return
    try:
        os.rmdir(path)
    except OSError:
        cleanup.kept.append((path, f"{what} folder holds files ecr-sso did not make"))
        return
    cleanup.removed.append(path)

"""`teardown --purge` removes ecr-sso's own entries only from folders the helper trusts:
ours, and writable by us alone. A token cache folder shared with others (a 0777 folder,
another user's folder) is not ecr-sso's to clean: what is in it may be someone else's."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from conftest import Env
from localuser import give
from setup_fixtures import ecr_sso

ENTRIES = ("tokens/their-token", "routes/their.host", "locks/their.lock", "sso-registrations/r")


def fill(cache: Path) -> dict[Path, bytes]:
    """A cache folder as another run of ecr-sso left it; its files and their bytes."""
    files = {}
    for entry in ENTRIES:
        path = cache / entry
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not yours: " + entry.encode())
        files[path] = path.read_bytes()
    return files


def everything(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_purge_leaves_a_cache_folder_others_can_write(env: Env, tmp_path: Path) -> None:
    shared = tmp_path / "shared-cache"
    files = fill(shared)
    shared.chmod(0o777)

    result = ecr_sso("teardown", "--yes", "--purge", env={"ECR_SSO_CACHE_DIR": str(shared)})

    assert result.returncode == 0, result.stderr
    assert everything(shared) == files
    assert (
        f"kept {shared}: the token cache folder is writable by others (mode 0777), so ecr-sso"
        " neither uses nor cleans it"
    ) in result.stdout.splitlines()
    assert not any(str(shared) in line for line in result.stdout.splitlines() if "removed" in line)


def test_purge_leaves_another_users_cache_folder(
    env: Env,
    tmp_path: Path,
    other_user: pwd.struct_passwd,
) -> None:
    """Root (who could delete anything) purging with ECR_SSO_CACHE_DIR at another user's
    cache: their tokens stay."""
    theirs = tmp_path / "their-cache"
    files = fill(theirs)
    theirs.chmod(0o700)
    give(theirs, other_user)

    result = ecr_sso("teardown", "--yes", "--purge", env={"ECR_SSO_CACHE_DIR": str(theirs)})

    assert result.returncode == 0, result.stderr
    assert everything(theirs) == files
    assert (
        f"kept {theirs}: the token cache folder is owned by another user (uid"
        f" {other_user.pw_uid}), so ecr-sso neither uses nor cleans it"
    ) in result.stdout.splitlines()


def test_purge_still_removes_our_own(env: Env) -> None:
    fill(env.cache_dir)
    for folder in [env.cache_dir, *env.cache_dir.rglob("*")]:
        if folder.is_dir():
            folder.chmod(0o700)

    result = ecr_sso("teardown", "--yes", "--purge")

    assert result.returncode == 0, result.stderr
    assert not env.cache_dir.exists()
    assert os.path.isdir(env.cache_dir.parent)

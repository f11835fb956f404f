"""`rewrite --write` never writes outside the tree it read: a link swapped in after the read
is replaced, not followed; a folder that became a link is refused; a file changed since the
read is not overwritten; owner and mode are kept; the replacement is atomic.

These drive `files.examine` and `files.write` directly, because the swap has to happen
between the two (the command runs them back to back)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from credhelper.repos.rewrite import files, treefile
from credhelper.repos.rewrite.plan import Destination

HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
DEST = Destination(HOST, "connectedhome", "docker-hub")
BEFORE = "FROM connectedhome/app:1\n"
AFTER = f"FROM {HOST}/app:1\n"
OUTSIDE = "FROM connectedhome/outside:1\n"
# Looked up before the tests take git (and everything else) off PATH.
CHATTR = shutil.which("chattr", path=os.pathsep.join(["/usr/bin", "/bin", "/usr/sbin", "/sbin"]))


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository folder (no git) as the current folder, and a file outside it."""
    folder = tmp_path / "repo"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "Dockerfile").write_text(BEFORE)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "Dockerfile").write_text(OUTSIDE)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", "/nonexistent")  # no git: the plain walk
    return folder


def _examined() -> files.FileResult:
    (result,) = files.examine(["."], DEST, dict(os.environ))
    assert result.changed
    return result


def test_a_link_swapped_in_after_the_read_is_replaced_not_followed(tree: Path) -> None:
    result = _examined()
    outside = tree.parent / "outside" / "Dockerfile"
    (tree / "sub" / "Dockerfile").unlink()
    (tree / "sub" / "Dockerfile").symlink_to(outside)

    with pytest.raises(treefile.Refused, match="symbolic link"):
        files.write(result)

    assert outside.read_text() == OUTSIDE
    assert (tree / "sub" / "Dockerfile").is_symlink()
    assert sorted(os.listdir(tree / "sub")) == ["Dockerfile"]  # no temporary file left


def test_a_folder_swapped_for_a_link_after_the_read_is_refused(tree: Path) -> None:
    result = _examined()
    (tree / "sub" / "Dockerfile").unlink()
    (tree / "sub").rmdir()
    (tree / "sub").symlink_to(tree.parent / "outside")

    with pytest.raises(treefile.Refused, match=r"a folder on its path \(sub\) is a symbolic link"):
        files.write(result)

    assert (tree.parent / "outside" / "Dockerfile").read_text() == OUTSIDE
    assert sorted(os.listdir(tree.parent / "outside")) == ["Dockerfile"]


def test_a_file_changed_after_the_read_is_not_overwritten(tree: Path) -> None:
    result = _examined()
    (tree / "sub" / "Dockerfile").write_text(BEFORE + "# edited meanwhile\n")

    with pytest.raises(treefile.Refused, match="changed after it was read"):
        files.write(result)

    assert (tree / "sub" / "Dockerfile").read_text() == BEFORE + "# edited meanwhile\n"


def test_a_file_replaced_by_another_of_the_same_size_is_not_overwritten(tree: Path) -> None:
    result = _examined()
    path = tree / "sub" / "Dockerfile"
    times = path.stat()
    path.unlink()
    path.write_text(BEFORE.replace("app", "xyz"))
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))

    with pytest.raises(treefile.Refused, match="changed after it was read"):
        files.write(result)


def test_mode_is_kept(tree: Path) -> None:
    path = tree / "sub" / "Dockerfile"
    path.chmod(0o751)
    result = _examined()

    files.write(result)

    assert path.read_text() == AFTER
    assert stat.S_IMODE(path.stat().st_mode) == 0o751


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_owner_is_kept(tree: Path) -> None:
    path = tree / "sub" / "Dockerfile"
    os.chown(path, 4242, 4343)
    path.chmod(0o664)
    result = _examined()

    files.write(result)

    st = path.stat()
    assert (path.read_text(), st.st_uid, st.st_gid) == (AFTER, 4242, 4343)
    assert stat.S_IMODE(st.st_mode) == 0o664


def test_a_link_named_on_the_command_line_is_followed_once(tree: Path, tmp_path: Path) -> None:
    (tree / "linked.Dockerfile").symlink_to(tree / "sub" / "Dockerfile")
    (result,) = files.examine(["linked.Dockerfile"], DEST, dict(os.environ))

    files.write(result)

    assert (tree / "linked.Dockerfile").is_symlink()
    assert (tree / "sub" / "Dockerfile").read_text() == AFTER


def test_a_file_the_system_will_not_let_go_of_is_refused_and_no_temporary_file_stays(
    tree: Path,
) -> None:
    path = tree / "sub" / "Dockerfile"
    if CHATTR is None:
        pytest.skip("chattr is not installed")
    made = subprocess.run([CHATTR, "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("no immutable files here (chattr needs CAP_LINUX_IMMUTABLE and ext4)")
    try:
        result = _examined()

        with pytest.raises(treefile.Refused, match="cannot be replaced: Operation not permitted"):
            files.write(result)

        assert path.read_text() == BEFORE
        assert sorted(os.listdir(tree / "sub")) == ["Dockerfile"]
    finally:
        subprocess.run([CHATTR, "-i", str(path)], capture_output=True, check=False)

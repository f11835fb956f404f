"""The migration journal read back: a line torn by a crash is ignored, a damaged or forged
one is refused with one line, a re-planned tag replaces its plan, and a file that is not
private is not used."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from credhelper.repos import journal
from credhelper.repos.journal import Entry, Header, JournalError, Writer

DIGEST = "sha256:" + "a" * 64
MOVED = "sha256:" + "b" * 64


def _entry(tag: str, digest: str = DIGEST) -> Entry:
    return Entry(
        shown="connectedhome/app",
        registry="docker.io",
        path="connectedhome/app",
        tag=tag,
        repository="app",
        digest=digest,
        cost=3,
        docker_hub=True,
    )


def _start(state: Path) -> Writer:
    where = journal.folder(str(state))
    header = Header("111111111111.dkr.ecr.eu-west-1.amazonaws.com", "dev", journal.now())
    return Writer.start(where, header, [_entry("1.0"), _entry("2.0")])


def test_written_then_read_back(tmp_path: Path) -> None:
    writer = _start(tmp_path)
    writer.done(_entry("1.0"), "copied", digest=DIGEST)
    writer.replanned(_entry("2.0", MOVED))
    writer.end("stopped")
    writer.close()

    loaded = journal.load(str(tmp_path))

    assert loaded is not None
    assert loaded.header.profile == "dev"
    assert loaded.outcomes == {
        ("connectedhome/app", "1.0"): {"result": "copied", "digest": DIGEST, "reason": ""}
    }
    assert [e.digest for e in loaded.entries] == [DIGEST, MOVED]
    assert loaded.ended == "stopped"
    path = tmp_path / "migrate" / "journal.jsonl"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "migrate").stat().st_mode & 0o777) == "0o700"


def test_a_line_torn_by_a_crash_is_ignored(tmp_path: Path) -> None:
    _start(tmp_path).close()
    path = tmp_path / "migrate" / "journal.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"kind":"done","shown":"connectedhome/app","ta')

    loaded = journal.load(str(tmp_path))

    assert loaded is not None
    assert loaded.outcomes == {}


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b'{"kind":"done","shown":"connectedhome/other","tag":"1.0","result":"copied"}',
        b'{"kind":"done","shown":"connectedhome/app","tag":"1.0","result":"deleted"}',
        b'{"kind":"done","shown":"connectedhome/app","tag":"1.0","result":"copied","digest":"md5:x"}',
        b'{"kind":"surprise"}',
        # Deeper than the JSON parser's recursion: not a traceback.
        pytest.param(b"[" * 100_000, id="deep"),
    ],
)
def test_a_damaged_line_is_refused(tmp_path: Path, line: bytes) -> None:
    _start(tmp_path).close()
    path = tmp_path / "migrate" / "journal.jsonl"
    with path.open("ab") as handle:
        handle.write(line + b"\n")

    with pytest.raises(JournalError) as raised:
        journal.load(str(tmp_path))

    assert str(raised.value) == (
        f"the journal {path} is damaged at line 2; not used: run without --resume to start"
        " afresh (what is already in ECR is not copied again)"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tag", "1.0 --src-creds=x"),
        ("path", "../../etc"),
        ("registry", "host/with/slash"),
        ("digest", "sha256:short"),
        ("shown", "elsewhere/entirely"),
    ],
)
def test_a_forged_plan_is_refused(tmp_path: Path, field: str, value: str) -> None:
    writer = _start(tmp_path)
    writer.close()
    path = tmp_path / "migrate" / "journal.jsonl"
    first = json.loads(path.read_text().splitlines()[0])
    first["entries"][0][field] = value
    path.write_text(json.dumps(first) + "\n")

    with pytest.raises(JournalError, match="is damaged at line 1"):
        journal.load(str(tmp_path))


def test_a_journal_others_may_write_is_not_used(tmp_path: Path) -> None:
    _start(tmp_path).close()
    path = tmp_path / "migrate" / "journal.jsonl"
    os.chmod(path, 0o666)  # noqa: S103 - the point: a file others may write

    with pytest.raises(JournalError, match="is not a private file of yours"):
        journal.load(str(tmp_path))


def test_no_journal_is_none(tmp_path: Path) -> None:
    assert journal.load(str(tmp_path)) is None


def test_one_migration_at_a_time(tmp_path: Path) -> None:
    with (
        journal.locked(str(tmp_path)),
        pytest.raises(JournalError, match="another ecr-sso migrate is running"),
        journal.locked(str(tmp_path)),
    ):
        pass

"""`ecr-sso migrate`'s parts that need no skopeo: tag selection, source checks, skopeo's
error line."""

from __future__ import annotations

import pytest

from credhelper.errors import UsageError
from credhelper.repos import migrate

# -- the parts without skopeo ---------------------------------------------------------------------


def test_select_tags_by_glob() -> None:
    tags = ["1.0.2", "1.0.12", "2.0", "latest", "1.0.2-rc1"]

    assert migrate.select(tags, []) == tags
    assert migrate.select(tags, ["1.*"]) == ["1.0.2", "1.0.12", "1.0.2-rc1"]
    assert migrate.select(tags, ["*-rc*", "latest"]) == ["latest", "1.0.2-rc1"]
    assert migrate.select(tags, ["LATEST"]) == []  # tags are case-sensitive


def test_sources_are_checked_before_anything_runs() -> None:
    found = migrate.sources(
        ["connectedhome/app", "docker.io/connectedhome/db:1", "ghcr.io/o/x"], "connectedhome", []
    )

    assert [(s.name, s.repository, s.shown) for s in found] == [
        ("docker.io/connectedhome/app", "app", "connectedhome/app"),
        ("docker.io/connectedhome/db", "db", "docker.io/connectedhome/db"),
        ("ghcr.io/o/x", "o/x", "ghcr.io/o/x"),
    ]
    digest = "sha256:" + "a" * 64
    for bad, message in [
        ("app:1", "app:1: --tags applies to sources given without a tag"),
        (f"app@{digest}", f"app@{digest}: a source pinned by digest needs a tag to copy to"),
        ("Bad Name", "not an image reference: 'Bad Name' (it contains white space)"),
    ]:
        with pytest.raises(UsageError) as raised:
            migrate.sources([bad], None, ["1.*"] if bad == "app:1" else [])
        assert str(raised.value).startswith(message)


def test_skopeos_error_in_one_line() -> None:
    stderr = (
        'time="2026-01-01T00:00:00Z" level=warning msg="something minor"\n'
        'time="2026-01-01T00:00:00Z" level=fatal msg="Error reading manifest 1 in'
        ' host/app: manifest unknown: \\"1\\" is not known"\n'
    )

    assert migrate.one_line(stderr) == (
        'Error reading manifest 1 in host/app: manifest unknown: "1" is not known'
    )
    assert migrate.one_line("plain failure\n\n") == "plain failure"
    assert migrate.one_line("") == ""

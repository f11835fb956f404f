"""`migrate --report`: JSON or CSV, atomic, a spreadsheet formula never starts a cell, and
an unwritable place is said before the run."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from credhelper.errors import UsageError
from credhelper.repos import migrate_report
from credhelper.repos.hubapi import Endpoints
from credhelper.repos.migrate import Outcome


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    row = Outcome("docker.io/o/a:1", "1", "host/a:1", "failed", reason='=HYPERLINK("x")')

    migrate_report.write(str(path), [row], destination="host")

    (read,) = list(csv.DictReader(path.open()))
    assert read["reason"] == '\'=HYPERLINK("x")'
    assert read["result"] == "failed"


def test_a_link_at_the_path_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    link = tmp_path / "report.json"
    link.symlink_to(target)

    migrate_report.write(str(link), [], destination="host")

    assert target.read_text() == "keep me"
    assert not link.is_symlink()
    assert '"tags": []' in link.read_text()


def test_a_link_lends_the_report_neither_its_target_nor_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "anyones.txt"
    target.write_text("keep me")
    target.chmod(0o666)  # someone else's file, writable by all, that a link points to
    link = tmp_path / "report.csv"
    link.symlink_to(target)

    migrate_report.write(str(link), [], destination="host")

    assert target.read_text() == "keep me"
    assert link.stat().st_mode & 0o777 == 0o600


def test_an_existing_report_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    path.chmod(0o644)

    migrate_report.write(str(path), [], destination="host")

    assert path.stat().st_mode & 0o777 == 0o644
    assert '"tags": []' in path.read_text()


def test_unwritable_places_are_said_first(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is a folder; name a file"):
        migrate_report.check_writable(str(tmp_path))
    with pytest.raises(UsageError, match="does not exist"):
        migrate_report.check_writable(str(tmp_path / "no" / "r.json"))


@pytest.mark.parametrize(
    "value",
    ["ftp://hub.example", "https://user:pw@hub.example", "https://hub.example/v2", "hub.example"],
)
def test_docker_hub_endpoints_must_be_plain_urls(value: str) -> None:
    with pytest.raises(UsageError, match="ECR_SSO_DOCKERHUB_API_URL must be an http"):
        Endpoints.from_environ({"ECR_SSO_DOCKERHUB_API_URL": value})


@pytest.mark.parametrize("name", ["ECR_SSO_DOCKERHUB_API_URL", "ECR_SSO_DOCKERHUB_REGISTRY_URL"])
def test_plain_http_is_for_this_machine_only(name: str) -> None:
    # The Docker Hub password goes to these: never in the clear over a network.
    with pytest.raises(UsageError) as raised:
        Endpoints.from_environ({name: "http://hub.example.com"})
    assert str(raised.value) == (
        f"{name} may be plain http only for this machine (127.0.0.0/8, ::1);"
        " it is 'http://hub.example.com': use https"
    )
    for loopback in ("http://127.0.0.1:5000", "http://127.1.2.3", "http://[::1]:8080"):
        Endpoints.from_environ({name: loopback})


def test_docker_hub_endpoints() -> None:
    default = Endpoints.from_environ({})
    assert (default.api, default.registry, default.registry_host) == (
        "https://hub.docker.com",
        "https://registry-1.docker.io",
        "docker.io",
    )
    moved = Endpoints.from_environ({"ECR_SSO_DOCKERHUB_REGISTRY_URL": "http://127.0.0.1:5000/"})
    assert (moved.registry, moved.registry_host) == ("http://127.0.0.1:5000", "127.0.0.1:5000")

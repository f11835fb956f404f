"""`ecr-sso migrate --org`: a whole Docker Hub organisation into ECR within the pull limit.

- "Docker Hub" is `FakeHub` (tests/fakehub.py): a real docker-registry behind the token
  dance, the pull limit (manifest GETs counted, HEADs not, 429 with Retry-After past the
  allowance) and the repository-listing API, reached through ECR_SSO_DOCKERHUB_API_URL and
  ECR_SSO_DOCKERHUB_REGISTRY_URL. Its one user's password is only in Docker's config.json
  (`auths["https://index.docker.io/v1/"]`, as `docker login` leaves it).
- "ECR" is a docker-registry whose one user is `AWS` with moto's token password, behind an
  alias in our config, reached only through our credential helper; the ECR API is moto's.
  Its access log counts what arrives (`PUT /v2/<repo>/manifests/<tag>`).
- Every image is written by hand as an OCI layout (no network): `app` has three multi-arch
  tags (amd64 + arm64: 3 manifest GETs each), `db` two plain ones (1 GET each), and the
  private `secret` one plain one.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BIN_DIR, Env
from ecrbed import (  # noqa: F401 - fixtures
    ACCOUNT,
    PROFILE,
    REGION,
    Cli,
    EcrBed,
    cli_fixture,
    ecr_fixture,
    ecr_front_fixture,
)
from fakehub import FakeHub
from realclients import (
    Registry,
    RegistryFactory,
    make_oci_index_layout,
    make_oci_layout,
    user_registries_conf,
    write_docker_auths,
    write_insecure_registries,
)

pytestmark = pytest.mark.real_client

ORG = "connectedhome"
ECR_PASSWORD = f"{ACCOUNT}-auth-token"
#: repository → tag → multi-arch?
TAGS = {
    "app": {"1.0": True, "1.1": True, "2.0": True},
    "db": {"1": False, "2": False},
    "secret": {"1": False},
}
ALL = [(repo, tag) for repo, tags in TAGS.items() for tag in tags]
COST = {
    (repo, tag): 3 if multi else 1 for repo, tags in TAGS.items() for tag, multi in tags.items()
}
TOTAL_COST = sum(COST.values())  # 9 + 2 + 1 = 12


@dataclass
class Bed:
    hub: FakeHub
    backend: Registry
    dest: Registry
    env: Env
    tmp: Path
    digests: dict[tuple[str, str], str]

    def push(self, repo: str, tag: str, *, multi: bool, content: bytes = b"") -> str:
        folder = self.tmp / f"img-{repo}-{tag}-{secrets.token_hex(4)}"
        if multi:
            note = content or f"{repo}:{tag}\n".encode()
            layout = make_oci_index_layout(folder, tag, note=note)
        else:
            layout = make_oci_layout(folder, tag, {"f": content or f"{repo}:{tag}\n".encode()})
        self.backend.push(layout, f"{ORG}/{repo}:{tag}")
        (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
        self.digests[(repo, tag)] = entry["digest"]
        return str(entry["digest"])

    def puts(self, repo: str, tag: str) -> int:
        """How many times ECR was sent the manifest of `repo:tag` (its access log)."""
        return self.dest.log().count(f'"PUT /v2/{repo}/manifests/{tag} ')

    def ecr_digest(self, repo: str, tag: str) -> str | None:
        import base64
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{self.dest.url}/v2/{repo}/manifests/{tag}",
            method="HEAD",
            headers={"Accept": ", ".join(_ACCEPT)},
        )
        basic = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return str(reply.headers["Docker-Content-Digest"])
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise

    def delete(self, repo: str, tag: str) -> None:
        import base64
        import urllib.request

        digest = self.ecr_digest(repo, tag)
        request = urllib.request.Request(
            f"{self.dest.url}/v2/{repo}/manifests/{digest}", method="DELETE"
        )
        basic = base64.b64encode(f"AWS:{ECR_PASSWORD}".encode()).decode()
        request.add_header("Authorization", f"Basic {basic}")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def journal(self) -> list[dict[str, object]]:
        path = self.env.home / ".local" / "state" / "ecr-sso" / "migrate" / "journal.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]

    def environ(self) -> dict[str, str]:
        return dict(os.environ)


_ACCEPT = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


@pytest.fixture
def bed(
    ecr: EcrBed,
    env: Env,
    registry_factory: RegistryFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Bed]:
    password = secrets.token_urlsafe(12)
    backend = registry_factory(auth=False)
    dest = registry_factory(username="AWS", password=ECR_PASSWORD)
    hub = FakeHub(
        backend.host, username="hubuser", password=password, private={f"{ORG}/secret"}
    ).start()
    write_docker_auths(
        env.docker_config_dir, {"https://index.docker.io/v1/": ("hubuser", password)}
    )
    ecr.config(
        f'dockerhub_org = "{ORG}"\n'
        f'[aliases."{dest.host}"]\naccount = "{ACCOUNT}"\nregion = "{REGION}"\n'
        f'profile = "{PROFILE}"\n'
    )
    write_insecure_registries(user_registries_conf(env.home), (hub.registry_host, dest.host))
    monkeypatch.setenv("ECR_SSO_DOCKERHUB_API_URL", hub.api_url)
    monkeypatch.setenv("ECR_SSO_DOCKERHUB_REGISTRY_URL", hub.registry_url)
    setup = Bed(hub, backend, dest, env, tmp_path, {})
    for repo, tags in TAGS.items():
        for tag, multi in tags.items():
            setup.push(repo, tag, multi=multi)
    try:
        yield setup
    finally:
        hub.stop()


def _rows(out: str) -> dict[str, list[str]]:
    header, *rows = out.splitlines()
    assert header.split()[:3] == ["RESULT", "SOURCE", "DESTINATION"]
    found = {}
    for row in rows:
        fields = row.split()
        source = next(f for f in fields if f.startswith(f"{ORG}/"))
        found[source] = fields
    return found


def test_the_whole_organisation_migrates_then_a_rerun_spends_nothing(
    bed: Bed, ecr: EcrBed, cli: Cli
) -> None:
    result = cli("migrate", "--registry", bed.dest.host)

    assert result.code == 0, result.out + result.err
    rows = _rows(result.out)
    assert set(rows) == {f"{ORG}/{repo}:{tag}" for repo, tag in ALL}
    for repo, tag in ALL:
        row = rows[f"{ORG}/{repo}:{tag}"]
        assert row[0] == "copied"
        assert row[2] == f"{bed.dest.host}/{repo}:{tag}"
        assert row[3] == bed.digests[(repo, tag)]
        assert bed.ecr_digest(repo, tag) == bed.digests[(repo, tag)]
        assert bed.puts(repo, tag) == 1
    assert sorted(ecr.names()) == ["app", "db", "secret"]
    # moto's ECR tokens are born expired, so every run of our helper fetches one: the one
    # fetch is migrate's own; skopeo was handed that login and never ran the helper.
    assert ecr.front.count("GetAuthorizationToken") == 1
    # Exactly what the copies need: an index and its two images, or one manifest.
    assert bed.hub.gets() == TOTAL_COST
    assert bed.hub.refused_gets == 0
    assert "copied connectedhome/app:1.0 to" in result.err  # one line per tag, no terminal

    bed.hub.reset_counts()
    tokens = len(bed.hub.token_requests)
    again = cli("migrate", "--registry", bed.dest.host)

    assert again.code == 0, again.err
    assert {row[0] for row in _rows(again.out).values()} == {"skipped"}
    assert bed.hub.gets() == 0
    assert len(bed.hub.manifest_heads) == len(ALL)
    # One token per repository, however many of its tags are looked at at the same time.
    assert len(bed.hub.token_requests) - tokens == len(TAGS)
    assert all(bed.puts(repo, tag) == 1 for repo, tag in ALL)


def test_the_dry_run_says_what_it_will_cost(bed: Bed, ecr: EcrBed, cli: Cli) -> None:
    bed.hub.set_allowance(10, limit=100)
    # db:1 is in ECR already, at the same digest.
    assert cli("migrate", "--registry", bed.dest.host, f"{ORG}/db:1").code == 0
    bed.hub.reset_counts()

    dry = cli("migrate", "--registry", bed.dest.host, "--dry-run")

    assert dry.code == 0, dry.err
    rows = _rows(dry.out)
    assert rows[f"{ORG}/db:1"][0] == "skipped"
    assert [rows[f"{ORG}/{r}:{t}"][:2] for r, t in ALL if (r, t) != ("db", "1")] == [
        ["would", "copy"]
    ] * 5
    assert "would create repository app in" in dry.err
    assert (
        "plan: 3 repositories, 6 tags: 5 to copy, 1 already in ECR at the same digest\n" in dry.err
    )
    # 11 pulls, 9 left of 100 per 6 h: 2 more come back in 2 x 216 s.
    assert (
        "Docker Hub pulls to spend: 11; limit 100 per 6 h, 9 left now: about 7 min 12 s of"
        " waiting for the allowance to come back\n"
    ) in dry.err
    assert bed.hub.gets() == 0
    assert ecr.names() == ["db"]

    as_json = cli("migrate", "--registry", bed.dest.host, "--dry-run", "--json")

    plan = json.loads(as_json.out)["plan"]
    assert plan == {
        "repositories": 3,
        "tags": 6,
        "toCopy": 5,
        "toTag": 0,
        "inEcr": 1,
        "pulls": 11,
        "limit": 100,
        "window": 21600,
        "remaining": 9,
        "waitSeconds": 432,
    }


def test_the_allowance_runs_out_then_resume_copies_every_tag_exactly_once(
    bed: Bed, cli: Cli
) -> None:
    bed.hub.set_allowance(7, limit=7)

    first = cli("migrate", "--registry", bed.dest.host)

    assert first.code == 75, first.out + first.err
    assert first.err.splitlines()[-1] == (
        "ecr-sso: Docker Hub's pull limit is reached (1 of 7 left): 2 copied, 4 to go; run"
        " `ecr-sso migrate --resume` in about 1 h 42 min"
    )
    rows = _rows(first.out)
    assert [rows[f"{ORG}/app:{t}"][0] for t in ("1.0", "1.1", "2.0")] == [
        "copied",
        "copied",
        "not",
    ]
    assert bed.hub.gets() == 6
    assert bed.hub.refused_gets == 0  # stopped before Docker Hub had to say no
    done = [r for r in bed.journal() if r["kind"] == "done"]
    assert sorted((r["shown"], r["tag"], r["result"]) for r in done) == [
        (f"{ORG}/app", "1.0", "copied"),
        (f"{ORG}/app", "1.1", "copied"),
    ]

    bed.hub.set_allowance(100, limit=100)
    resumed = cli("migrate", "--resume")

    assert resumed.code == 0, resumed.out + resumed.err
    rows = _rows(resumed.out)
    assert {rows[f"{ORG}/{r}:{t}"][0] for r, t in ALL} == {"copied"}
    assert bed.hub.gets() == TOTAL_COST  # no pull spent twice
    for repo, tag in ALL:
        assert bed.ecr_digest(repo, tag) == bed.digests[(repo, tag)]
        assert bed.puts(repo, tag) == 1, (repo, tag)
    assert bed.journal()[-1]["status"] == "complete"

    nothing = cli("migrate", "--resume")
    assert nothing.code == 0
    assert bed.hub.gets() == TOTAL_COST


def test_a_tag_moved_at_docker_hub_since_the_plan_is_planned_again(bed: Bed, cli: Cli) -> None:
    bed.hub.set_allowance(7, limit=7)
    assert cli("migrate", "--registry", bed.dest.host).code == 75
    planned = bed.digests[("app", "2.0")]
    moved = bed.push("app", "2.0", multi=True, content=b"rebuilt\n")
    assert moved != planned
    bed.hub.set_allowance(100, limit=100)

    resumed = cli("migrate", "--resume")

    assert resumed.code == 0, resumed.out + resumed.err
    assert _rows(resumed.out)[f"{ORG}/app:2.0"][3] == moved
    assert bed.ecr_digest("app", "2.0") == moved
    replans = [r for r in bed.journal() if r["kind"] == "replanned"]
    assert [(r["entry"]["tag"], r["entry"]["digest"]) for r in replans] == [("2.0", moved)]


def test_kill_9_mid_run_then_resume_loses_nothing(bed: Bed, cli: Cli) -> None:
    hold = bed.hub.hold(f"/manifests/{bed.digests[('db', '1')]}")
    process = subprocess.Popen(
        [str(BIN_DIR / "ecr-sso"), "migrate", "--registry", bed.dest.host, "--jobs", "1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=bed.environ(),
        start_new_session=True,
    )
    try:
        assert hold.arrived.wait(120), "the copy of db:1 never started"
        os.killpg(process.pid, signal.SIGKILL)  # ecr-sso and the skopeo in flight
        process.wait(30)
    finally:
        hold.release.set()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(30)
    assert process.returncode == -signal.SIGKILL
    done = [(r["tag"], r["result"]) for r in bed.journal() if r["kind"] == "done"]
    assert done == [("1.0", "copied"), ("1.1", "copied"), ("2.0", "copied")]
    assert bed.ecr_digest("db", "1") is None

    resumed = cli("migrate", "--resume")

    assert resumed.code == 0, resumed.out + resumed.err
    for repo, tag in ALL:
        assert bed.ecr_digest(repo, tag) == bed.digests[(repo, tag)]
        assert bed.puts(repo, tag) == 1, (repo, tag)
    rows = _rows(resumed.out)
    assert rows[f"{ORG}/app:1.0"][0] == "copied"  # by the first run, as the journal says
    assert rows[f"{ORG}/db:1"][0] == "copied"


def test_verify_finds_a_tag_deleted_from_ecr(bed: Bed, cli: Cli) -> None:
    assert cli("migrate", "--registry", bed.dest.host).code == 0
    ok = cli("migrate", "--verify")
    assert ok.code == 0, ok.err
    assert ok.err == "migrate: verified: all 6 tags are in ECR at their source's digest\n"
    bed.delete("db", "2")
    bed.hub.reset_counts()

    found = cli("migrate", "--verify")

    assert found.code == 1
    header, row = found.out.splitlines()
    assert header.split() == ["DIFFERENCE", "SOURCE", "DESTINATION", "REASON"]
    assert row.split()[:3] == ["missing", f"{ORG}/db:2", f"{bed.dest.host}/db:2"]
    assert found.err == "ecr-sso: verify: 1 of 6 tags differ\n"
    assert bed.hub.gets() == 0  # HEADs only


def test_waits_at_the_limit_with_wait_and_carries_on(bed: Bed, cli: Cli) -> None:
    # The stated window makes the wait 1 s; the allowance comes back on the look after the
    # wait, not by the clock, so a slow machine changes nothing.
    bed.hub.window = 1
    bed.hub.refill_by_time = False
    bed.hub.refill_on_second_look = True
    bed.hub.set_allowance(7, limit=7)

    result = cli("migrate", "--registry", bed.dest.host, "--wait", "--jobs", "2")

    assert result.code == 0, result.out + result.err
    assert "migrate: Docker Hub's pull limit: waiting 1 s (Ctrl-C stops;" in result.err
    assert {row[0] for row in _rows(result.out).values()} == {"copied"}
    assert bed.hub.refused_gets == 0


def test_a_report_in_json_and_csv(bed: Bed, cli: Cli, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    assert cli("migrate", "--registry", bed.dest.host, "--report", str(report)).code == 0
    data = json.loads(report.read_text())
    assert data["destination"] == bed.dest.host
    first = data["tags"][0]
    assert first == {
        "source": f"{ORG}/app:1.0",
        "tag": "1.0",
        "source_digest": bed.digests[("app", "1.0")],
        "destination": f"{bed.dest.host}/app:1.0",
        "result": "copied",
        "digest": bed.digests[("app", "1.0")],
        "reason": "",
    }
    assert oct(report.stat().st_mode & 0o777) == "0o600"

    csv_path = tmp_path / "report.csv"
    assert cli("migrate", "--registry", bed.dest.host, "--report", str(csv_path)).code == 0
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "source,tag,source_digest,destination,result,digest,reason"
    assert len(lines) == 1 + len(ALL)
    assert all(",skipped," in line for line in lines[1:])

    missing = cli("migrate", "--report", str(tmp_path / "nowhere" / "r.json"))
    assert missing.code == 2
    assert missing.err == (
        f"ecr-sso: --report {tmp_path}/nowhere/r.json: the folder {tmp_path}/nowhere does"
        " not exist\n"
    )


def test_filters_and_the_private_repository(bed: Bed, env: Env, cli: Cli) -> None:
    bed.hub.pushed[(f"{ORG}/app", "2.0")] = __import__("datetime").datetime(
        2026, 1, 2, tzinfo=__import__("datetime").timezone.utc
    )

    narrowed = cli(
        "migrate", "--registry", bed.dest.host, "--dry-run", "--exclude", "db", "--tags", "*.0"
    )
    assert sorted(_rows(narrowed.out)) == [f"{ORG}/app:1.0", f"{ORG}/app:2.0"]
    since = cli("migrate", "--registry", bed.dest.host, "--dry-run", "--since", "2026-01-01")
    assert sorted(_rows(since.out)) == [f"{ORG}/app:2.0"]
    only = cli("migrate", "--registry", bed.dest.host, "--dry-run", "--repo", "sec*")
    assert sorted(_rows(only.out)) == [f"{ORG}/secret:1"]

    # Signed out of Docker Hub: the private repository is not listed, and it is said why.
    (env.docker_config_dir / "config.json").write_text("{}")
    anonymous = cli("migrate", "--registry", bed.dest.host, "--dry-run")
    assert anonymous.code == 0, anonymous.err
    assert f"{ORG}/secret:1" not in _rows(anonymous.out)
    assert "no Docker Hub login found (run `docker login`)" in anonymous.err


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("html", "answered a web page, not JSON (a proxy or sign-in page?)"),
        ("cut", "the answer was cut short"),
        ("loop", "goes round in a loop; stopped"),
        ("foreign", "points to another host (http://127.0.0.1:"),
    ],
)
def test_a_hostile_listing_stops_with_one_line(bed: Bed, cli: Cli, mode: str, message: str) -> None:
    bed.hub.api_mode = mode

    result = cli("migrate", "--registry", bed.dest.host, "--dry-run")

    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith("ecr-sso: Docker Hub")
    assert message in result.err
    assert len(result.err.splitlines()) == 1
    assert bed.hub.foreign_requests == []  # the token never went to another host


def test_a_429_in_flight_puts_the_tag_back_and_stops(bed: Bed, cli: Cli) -> None:
    bed.hub.set_allowance(7, limit=7)
    bed.hub.retry_after = 5
    hold = bed.hub.hold(f"/manifests/{bed.digests[('app', '1.0')]}")

    def spend_it_elsewhere() -> None:
        # Someone else on the same account pulls while the first copy is in flight.
        if hold.arrived.wait(120):
            bed.hub.set_allowance(0, limit=7)
        hold.release.set()

    helper = threading.Thread(target=spend_it_elsewhere)
    helper.start()
    try:
        first = cli("migrate", "--registry", bed.dest.host, "--jobs", "1")
    finally:
        hold.release.set()
        helper.join()

    assert first.code == 75, first.out + first.err
    assert first.err.splitlines()[-1].startswith(
        "ecr-sso: Docker Hub's pull limit is reached (0 of 7 left): 0 copied, 6 to go; run"
        " `ecr-sso migrate --resume` in about"
    )
    assert bed.hub.refused_gets >= 1
    assert [r for r in bed.journal() if r["kind"] == "done"] == []  # not failed: put back

    bed.hub.set_allowance(100, limit=100)
    resumed = cli("migrate", "--resume")

    assert resumed.code == 0, resumed.out + resumed.err
    for repo, tag in ALL:
        assert bed.ecr_digest(repo, tag) == bed.digests[(repo, tag)]
        assert bed.puts(repo, tag) == 1, (repo, tag)


def test_a_429_on_a_head_waits_out_retry_after_or_stops(bed: Bed, cli: Cli) -> None:
    bed.hub.retry_after = 1
    bed.hub.refuse_heads = 1

    stopped = cli("migrate", "--registry", bed.dest.host, "--dry-run", "--no-wait")

    assert stopped.code == 75
    assert stopped.err.splitlines()[-1] == (
        "ecr-sso: Docker Hub answered 429 (too many requests) while planning; try again in"
        " 1 s, or pass --wait"
    )

    bed.hub.refuse_heads = 1
    waited = cli("migrate", "--registry", bed.dest.host, "--dry-run", "--wait")

    assert waited.code == 0, waited.err
    assert "migrate: Docker Hub answered 429: waiting 1 s" in waited.err
    assert len(_rows(waited.out)) == len(ALL)


def test_without_an_ecr_sign_in_nothing_is_copied_and_one_line_says_why(
    bed: Bed, env: Env, cli: Cli
) -> None:
    for token in env.sso_cache_dir.iterdir():
        token.unlink()  # signed out of SSO: the helper can give no ECR login

    result = cli("migrate", "--registry", bed.dest.host)

    assert result.code == 1, result.out + result.err
    assert result.out == ""
    assert result.err == (
        f"ecr-sso: no ECR sign-in for {bed.dest.host}: the SSO login for profile 'dev' is"
        " missing or expired; run `ecr-sso login dev`\n"
    )
    assert bed.hub.gets() == 0
    assert all(bed.puts(repo, tag) == 0 for repo, tag in ALL)


def test_a_second_tag_of_an_image_is_tagged_in_ecr_not_copied_again(bed: Bed, cli: Cli) -> None:
    # `latest` is `2.0` and `stable` is `1`, as Docker Hub organisations often have them.
    assert (
        bed.push("app", "latest", multi=True, content=b"app:2.0\n") == bed.digests[("app", "2.0")]
    )
    assert bed.push("db", "stable", multi=False, content=b"db:1\n") == bed.digests[("db", "1")]

    dry = cli("migrate", "--registry", bed.dest.host, "--dry-run")

    assert dry.code == 0, dry.err
    rows = _rows(dry.out)
    assert rows[f"{ORG}/app:latest"][:2] == ["would", "tag"]
    assert rows[f"{ORG}/db:stable"][:2] == ["would", "tag"]
    assert (
        "plan: 3 repositories, 8 tags: 6 to copy, 2 to tag in ECR from an image copied once,"
        " 0 already in ECR at the same digest\n" in dry.err
    )
    assert f"Docker Hub pulls to spend: {TOTAL_COST};" in dry.err  # the tags cost nothing

    result = cli("migrate", "--registry", bed.dest.host)

    assert result.code == 0, result.out + result.err
    rows = _rows(result.out)
    for repo, tag, image in (("app", "latest", "2.0"), ("db", "stable", "1")):
        digest = bed.digests[(repo, image)]
        assert rows[f"{ORG}/{repo}:{tag}"][0] == "tagged"
        assert rows[f"{ORG}/{repo}:{tag}"][3] == digest
        assert bed.ecr_digest(repo, tag) == digest
        assert bed.puts(repo, tag) == 1
        assert bed.puts(repo, image) == 1
        assert (
            f"migrate: tagged {bed.dest.host}/{repo}:{tag}, the image of :{image}, copied once"
            f" ({digest})\n" in result.err
        )
    assert bed.hub.gets() == TOTAL_COST  # each image pulled once
    tagged = [r for r in bed.journal() if r["kind"] == "done" and r["result"] == "tagged"]
    assert sorted(r["tag"] for r in tagged) == ["latest", "stable"]

    # A tag added later to an image ECR already holds: tagged there, no pull at all.
    bed.push("db", "old", multi=False, content=b"db:2\n")
    bed.hub.reset_counts()

    again = cli("migrate", "--registry", bed.dest.host)

    assert again.code == 0, again.out + again.err
    assert _rows(again.out)[f"{ORG}/db:old"][0] == "tagged"
    assert bed.ecr_digest("db", "old") == bed.digests[("db", "2")]
    assert bed.hub.gets() == 0


def test_a_repository_ecr_will_not_make_fails_its_tags_and_spends_no_pull(
    bed: Bed, ecr: EcrBed, cli: Cli
) -> None:
    ecr.front.denied.add("CreateRepository")

    refused = cli("migrate", "--registry", bed.dest.host, "--jobs", "2")

    assert refused.code == 1, refused.out + refused.err
    rows = _rows(refused.out)
    assert {rows[f"{ORG}/{repo}:{tag}"][0] for repo, tag in ALL} == {"failed"}
    assert (
        f"access denied: profile 'dev' (role Developer) may not ecr:CreateRepository on"
        f" repository 'app' in {bed.dest.host}\n"
    ) in refused.out
    assert ecr.front.count("CreateRepository") == 3  # once per repository, not per tag
    assert bed.hub.gets() == 0  # no copy started, so no pull spent
    assert refused.err.splitlines()[-1] == "ecr-sso: 6 of 6 failed"

    ecr.front.denied.clear()
    again = cli("migrate", "--registry", bed.dest.host)

    assert again.code == 0, again.out + again.err
    assert {row[0] for row in _rows(again.out).values()} == {"copied"}
    assert bed.hub.gets() == TOTAL_COST

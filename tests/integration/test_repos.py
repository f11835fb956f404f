"""`ecr-sso repos`, `tags`, `create`, `delete`, `untag` against moto's ECR in server mode,
behind a front that pages its listings two items at a time (see ecrbed.py), signed in as
the SSO profile `dev` through the fake AWS. Exit codes and messages are asserted exactly."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess

import pytest
from conftest import BIN_DIR, SSO
from ecrbed import (  # noqa: F401 - fixtures
    ACCOUNT,
    HOST,
    ROLE,
    Cli,
    EcrBed,
    cli_fixture,
    ecr_denied_fixture,
    ecr_fixture,
    ecr_front_fixture,
)
from fakeaws import FakeAWS

# -- repos --------------------------------------------------------------------------------------


def test_repos_lists_every_page_by_name(ecr: EcrBed, cli: Cli) -> None:
    for name in ("web", "api", "team/tool", "db", "cache"):
        ecr.repository(name)

    result = cli("repos")

    assert (result.code, result.err) == (0, "")
    assert result.lines == ["api", "cache", "db", "team/tool", "web"]
    # Five repositories, two per page: a client that ignored nextToken would show two.
    assert ecr.front.count("DescribeRepositories") == 3
    (first, *rest) = [c.params for c in ecr.front.calls if c.operation == "DescribeRepositories"]
    assert first == {"registryId": ACCOUNT}
    assert all("nextToken" in params for params in rest)


def test_repos_long_and_json(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("api")
    ecr.repository(
        "locked", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True}
    )

    long = cli("repos", "-l")
    as_json = cli("repos", "--json")

    assert long.code == 0
    header, api, locked = long.lines
    assert header.split() == ["NAME", "URI", "CREATED", "TAGS", "SCAN-ON-PUSH"]
    assert api.split()[:2] == ["api", f"{HOST}/api"]
    assert api.split()[3:] == ["mutable", "no"]
    assert locked.split()[3:] == ["immutable", "yes"]
    # Columns are aligned: every row's URI starts where the header's does.
    assert {row.index(HOST) for row in (api, locked)} == {header.index("URI")}
    entries = json.loads(as_json.out)
    assert [e["name"] for e in entries] == ["api", "locked"]
    assert entries[1] == {
        "name": "locked",
        "uri": f"{HOST}/locked",
        "createdAt": entries[1]["createdAt"],
        "tagMutability": "IMMUTABLE",
        "scanOnPush": True,
    }
    assert entries[1]["createdAt"].endswith("Z")


def test_repos_of_another_profile_and_region(ecr: EcrBed, cli: Cli) -> None:
    """--profile and --region choose the registry (moto keeps regions apart, by the
    signing region); --registry names the same one the default profile does."""
    ecr.repository("in-dev")

    other_region = cli("repos", "--profile", "dev", "--region", "us-east-1")
    same = cli("repos", "--registry", HOST)

    assert (other_region.code, other_region.lines) == (0, [])
    assert (same.code, same.lines) == (0, ["in-dev"])


# -- tags ---------------------------------------------------------------------------------------


def test_tags_in_version_order_across_pages(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    ecr.image("app", "1.0.12", "latest", layer="a")
    ecr.image("app", "1.0.2", layer="b")
    ecr.image("app", "main", "1.0.2-rc1", layer="c")
    ecr.image("app", "v1.1", layer="d")
    ecr.image("app", "2", layer="e")
    ecr.image("app", layer="untagged")

    result = cli("tags", "app")

    assert (result.code, result.err) == (0, "")
    assert result.lines == ["1.0.2", "1.0.2-rc1", "1.0.12", "v1.1", "2", "latest", "main"]
    assert ecr.front.count("DescribeImages") == 3  # six images, two per page


def test_tags_long_shows_digest_pushed_and_size(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    first = ecr.image("app", "1.0.2", "stable", layer="a")
    second = ecr.image("app", "1.0.12", layer="b", size=999)

    result = cli("tags", "app", "-l")
    as_json = json.loads(cli("tags", "app", "--json").out)

    assert result.code == 0
    assert result.lines[0].split() == ["TAG", "DIGEST", "PUSHED", "SIZE"]
    rows = [line.split() for line in result.lines[1:]]
    assert [(r[0], r[1]) for r in rows] == [("1.0.2", first), ("1.0.12", second), ("stable", first)]
    assert all(r[2].endswith("Z") for r in rows)
    assert [e["tag"] for e in as_json] == ["1.0.2", "1.0.12", "stable"]
    assert as_json[0]["digest"] == first
    assert [e["size"] for e in as_json] == [12_345_678, 999, 12_345_678]
    assert [" ".join(r[3:]) for r in rows] == ["12.3 MB", "999 B", "12.3 MB"]


def test_tags_untagged_lists_only_untagged_images(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    ecr.image("app", "1", layer="tagged")
    loose = ecr.image("app", layer="loose")

    result = cli("tags", "app", "--untagged")
    as_json = json.loads(cli("tags", "app", "--untagged", "--json").out)

    assert result.code == 0
    assert [line.split()[0] for line in result.lines] == ["DIGEST", loose]
    assert [entry["digest"] for entry in as_json] == [loose]
    assert "tag" not in as_json[0]


def test_tags_of_an_unknown_repository(ecr: EcrBed, cli: Cli) -> None:
    result = cli("tags", "nope")

    assert result.code == 1
    assert result.out == ""
    assert result.err == f"ecr-sso: repository 'nope' does not exist in {HOST}\n"


# -- create and delete -----------------------------------------------------------------------------


def test_create_prints_the_uri_and_sets_the_options(ecr: EcrBed, cli: Cli) -> None:
    result = cli("create", "team/tool", "--immutable", "--scan-on-push")

    assert (result.code, result.out, result.err) == (0, f"{HOST}/team/tool\n", "")
    (repo,) = ecr.client.describe_repositories(registryId=ACCOUNT)["repositories"]
    assert repo["repositoryName"] == "team/tool"
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["imageScanningConfiguration"] == {"scanOnPush": True}


def test_create_an_existing_repository_fails(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")

    result = cli("create", "app")

    assert result.code == 1
    assert result.err == f"ecr-sso: repository 'app' already exists in {HOST}\n"


def test_create_an_invalid_name_says_what_ecr_said(ecr: EcrBed, cli: Cli) -> None:
    result = cli("create", "Not Valid")

    assert result.code == 2
    assert result.err.startswith(
        "ecr-sso: ECR refused CreateRepository: Invalid parameter at 'repositoryName'"
    )
    assert ecr.names() == []


def test_delete_an_empty_repository_with_yes(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("old")

    result = cli("delete", "old", "--yes")

    assert (result.code, result.out, result.err) == (0, "deleted repository old (0 images)\n", "")
    assert ecr.names() == []


def test_delete_refuses_a_repository_with_images_without_force(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    for n in range(3):
        ecr.image("app", f"1.{n}", layer=str(n))

    refused = cli("delete", "app", "--yes")

    assert refused.code == 2
    assert refused.err == (
        f"ecr-sso: repository 'app' in {HOST} holds 3 images; pass --force to delete them with it\n"
    )
    assert ecr.names() == ["app"]

    forced = cli("delete", "app", "--yes", "--force")

    assert (forced.code, forced.out) == (0, "deleted repository app (3 images)\n")
    assert ecr.names() == []


def test_delete_without_a_terminal_needs_yes(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("old")

    result = cli("delete", "old")

    assert result.code == 2
    assert result.err == (
        "ecr-sso: deleting repository 'old' needs confirmation and there is no terminal to"
        " ask on: pass --yes\n"
    )
    assert ecr.names() == ["old"]


def test_delete_an_unknown_repository(ecr: EcrBed, cli: Cli) -> None:
    result = cli("delete", "nope", "--yes")

    assert result.code == 1
    assert result.err == f"ecr-sso: repository 'nope' does not exist in {HOST}\n"


@pytest.mark.parametrize(("answer", "code", "left"), [("y\n", 0, []), ("n\n", 1, ["app"])])
def test_delete_asks_on_a_terminal(ecr: EcrBed, answer: str, code: int, left: list[str]) -> None:
    """The real executable with a pseudo-terminal as stdin: it asks on stderr, reads the
    answer typed there (written before it asks: a terminal keeps typed-ahead input)."""
    ecr.repository("app")
    ecr.image("app", "1", layer="x")
    primary, secondary = pty.openpty()
    try:
        os.write(primary, answer.encode())
        done = subprocess.run(
            [str(BIN_DIR / "ecr-sso"), "delete", "app", "--force"],
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(secondary)
        os.close(primary)

    assert done.returncode == code, done.stderr
    assert done.stderr.startswith(f"Delete repository 'app' and its 1 image from {HOST}? [y/N] ")
    assert ecr.names() == left
    if code:
        assert done.stderr.endswith("ecr-sso: not deleted\n")
    else:
        assert done.stdout == "deleted repository app (1 image)\n"


# -- untag ---------------------------------------------------------------------------------------


def test_untag_reports_each_failed_tag_and_exits_1(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    ecr.image("app", "1.0", "keep", layer="a")
    ecr.image("app", "2.0", layer="b")

    result = cli("untag", "app", "1.0", "nope", "2.0", "gone")

    assert result.code == 1
    assert result.lines == ["untagged 1.0", "untagged 2.0"]
    assert result.err.splitlines() == [
        "ecr-sso: tag nope: ImageNotFound: Requested image not found",
        "ecr-sso: tag gone: ImageNotFound: Requested image not found",
        "ecr-sso: 2 of 4 tags not deleted",
    ]
    # The image tagged `keep` stays; the one that lost its only tag is gone.
    assert ecr.tags("app") == ["keep"]


def test_untag_all_found_exits_0_and_json(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    ecr.image("app", "1", "2", layer="a")

    result = cli("untag", "app", "1", "2", "--json")

    assert (result.code, result.err) == (0, "")
    assert json.loads(result.out) == {"untagged": ["1", "2"], "failed": []}
    assert ecr.tags("app") == []


def test_untag_more_than_one_batch(ecr: EcrBed, cli: Cli) -> None:
    """BatchDeleteImage takes at most 100 ids (the front refuses more, as ECR does)."""
    ecr.repository("app")
    tags = [f"t{n}" for n in range(105)]
    ecr.image("app", *tags, layer="a")

    result = cli("untag", "app", *tags)

    assert (result.code, result.err) == (0, "")
    assert len(result.lines) == 105
    batches = [c.params["imageIds"] for c in ecr.front.calls if c.operation == "BatchDeleteImage"]
    assert [len(batch) for batch in batches] == [100, 5]
    assert ecr.tags("app") == []


def test_untag_in_an_unknown_repository(ecr: EcrBed, cli: Cli) -> None:
    result = cli("untag", "nope", "1")

    assert result.code == 1
    assert result.err == f"ecr-sso: repository 'nope' does not exist in {HOST}\n"


# -- which registry, and failures ---------------------------------------------------------------


def test_no_registry_chosen(ecr: EcrBed, cli: Cli) -> None:
    ecr.env.write_config("")

    result = cli("repos")

    assert result.code == 2
    assert result.err == (
        "ecr-sso: no registry chosen: pass --profile PROFILE or --registry HOST, or set"
        f' default_profile = "PROFILE" in {ecr.env.config_file}\n'
    )
    assert ecr.front.calls == []


def test_ecr_sso_profile_wins_over_the_default(
    ecr: EcrBed, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECR_SSO_PROFILE", "prod")  # account 222222222222, us-east-1

    result = cli("url", "app:1")

    assert result.lines == ["222222222222.dkr.ecr.us-east-1.amazonaws.com/app:1"]


def test_access_denied_names_the_role_and_the_action(ecr_denied: FakeAWS, cli: Cli) -> None:
    result = cli("repos")

    assert result.code == 1
    assert result.err == (
        f"ecr-sso: access denied: profile 'dev' (role {ROLE}) may not ecr:DescribeRepositories"
        f" on the registry in {HOST}\n"
    )
    (call,) = [c for c in ecr_denied.calls if c.operation == "DescribeRepositories"]
    assert ecr_denied.caller(call.akid or "") == (ACCOUNT, ROLE)
    assert call.params == {"registryId": ACCOUNT}


def test_an_expired_sign_in_says_to_sign_in_again(ecr: EcrBed, cli: Cli, sso: SSO) -> None:
    sso.expire()

    result = cli("repos")

    assert result.code == 1
    assert result.err.startswith("ecr-sso: the SSO login for profile 'dev' is missing or expired;")
    assert ecr.front.calls == []


def test_an_unknown_profile(ecr: EcrBed, cli: Cli) -> None:
    result = cli("repos", "--profile", "nobody")

    assert result.code == 1
    assert result.err == (
        f"ecr-sso: AWS profile 'nobody' is not in {ecr.env.aws_config}; run `ecr-sso setup`,"
        " or pass --registry HOST\n"
    )


def test_a_host_that_is_not_ecr(ecr: EcrBed, cli: Cli) -> None:
    result = cli("repos", "--registry", "registry.example:5000")

    assert result.code == 2
    assert result.err == (
        "ecr-sso: registry.example:5000 is not an ECR registry; to use a host in front of one,"
        ' add [aliases."registry.example:5000"] with its account and region to'
        f" {ecr.env.config_file}\n"
    )


def test_an_alias_acts_on_its_account_and_region(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("app")
    ecr.config(
        f'[aliases."mirror.example:5000"]\naccount = "{ACCOUNT}"\nregion = "eu-west-1"\n'
        'profile = "dev"\n'
    )

    listed = cli("repos", "--registry", "mirror.example:5000")
    url = cli("url", "--registry", "mirror.example:5000", "app:1")

    assert (listed.code, listed.lines) == (0, ["app"])
    assert url.lines == ["mirror.example:5000/app:1"]


def test_region_with_registry_is_a_usage_error(ecr: EcrBed, cli: Cli) -> None:
    result = cli("repos", "--registry", HOST, "--region", "us-east-1")

    assert result.code == 2
    assert result.err == (
        "ecr-sso: --region goes with --profile: a registry host names its region\n"
    )


def test_an_unreachable_ecr_fails_in_one_line(
    ecr: EcrBed, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", url)

        result = cli("repos")

    assert result.code == 1
    assert result.err == (
        f"ecr-sso: cannot reach AWS at {url} for {HOST} with profile 'dev'"
        " (network, proxy or VPN?)\n"
    )


@pytest.mark.parametrize(
    "reply",
    [{"repositories": []}, {"repositories": [{"repositoryName": "other"}]}, {}],
    ids=["empty", "another repository", "no list"],
)
def test_a_lookup_answered_without_the_repository_is_not_found(
    ecr: EcrBed, reply: dict[str, object]
) -> None:
    """AWS answers a lookup of a missing repository with RepositoryNotFoundException; a
    reply that simply lacks it (moto across accounts, a proxy) means the same, not an
    internal error."""
    from credhelper.cli.context import Context
    from credhelper.cli.registry_args import target
    from credhelper.repos.ecr import Ecr, RepositoryNotFound

    ecr.repository("app")
    ecr.front.canned["DescribeRepositories"] = (200, reply)
    api = Ecr(target(Context.from_environ(os.environ), profile="dev", registry=None))

    assert api.exists("app") is False
    with pytest.raises(RepositoryNotFound) as raised:
        api.repository("app")
    assert str(raised.value) == f"repository 'app' does not exist in {HOST}"


def test_an_empty_registry_says_so_in_one_line(ecr: EcrBed, cli: Cli) -> None:
    """Not a blank answer or a bare header: one line on stderr (stdout stays empty for
    scripts), exit 0; --json is still an empty list."""
    for argv in (("repos",), ("repos", "-l")):
        result = cli(*argv)
        assert (result.code, result.out) == (0, "")
        assert result.err == f"no repositories in {HOST}\n"
    assert cli("repos", "--json").out == "[]\n"


def test_a_repository_without_tags_says_so_in_one_line(ecr: EcrBed, cli: Cli) -> None:
    ecr.repository("empty")
    ecr.repository("app")
    ecr.image("app", layer="untagged-1")
    ecr.image("app", layer="untagged-2")

    empty = cli("tags", "empty")
    long = cli("tags", "empty", "-l")
    untagged_none = cli("tags", "empty", "--untagged")
    only_untagged = cli("tags", "app")

    for result in (empty, long):
        assert (result.code, result.out) == (0, "")
        assert result.err == f"no tags in repository 'empty' in {HOST}\n"
    assert (untagged_none.code, untagged_none.out) == (0, "")
    assert untagged_none.err == f"no untagged images in repository 'empty' in {HOST}\n"
    assert (only_untagged.code, only_untagged.out) == (0, "")
    assert only_untagged.err == (
        f"no tags in repository 'app' in {HOST}; 2 untagged images: `--untagged` lists them\n"
    )
    assert cli("tags", "empty", "--json").out == "[]\n"

"""`ecr-sso migrate` as one use case: plan (fresh, or the journal's for `--resume`),
create the ECR repositories, copy within the limit, verify. The command module parses
and prints; everything it needs is built and decided here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import urllib3

from credhelper import errors
from credhelper.repos import dockerhub_login, ecr_login, httpclient, journal, migrate, ratelimit
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.hubapi import Endpoints
from credhelper.repos.journal import Entry, Header, Loaded, Writer
from credhelper.repos.migrate import (
    COPIED,
    FAILED,
    SKIPPED,
    TAGGED,
    WOULD_COPY,
    WOULD_TAG,
    Outcome,
)
from credhelper.repos.migrate_plan import (
    BROKEN,
    COPY,
    PRESENT,
    TAG,
    OrganisationUnlisted,
    Plan,
    Planned,
    Selection,
    Sources,
    Waits,
    base_url,
    compare,
    list_organisation,
    list_sources,
    share_copies,
)
from credhelper.repos.migrate_repositories import Repositories
from credhelper.repos.migrate_run import Display, Runner, RunResult, image_of, outcome
from credhelper.repos.registry_api import Registry
from credhelper.repos.target import Target

#: A tag an earlier run (of a resumed migration) finished; its result is in `reason`.
DONE = "done"
#: Results `--verify` reports.
MISSING = "missing"
DIFFERENT = "different"
GONE = "gone at source"


@dataclass(frozen=True)
class Clients:
    """Everything that talks to a registry, built once per run."""

    endpoints: Endpoints
    sources: Sources
    dest: Registry
    dest_login: ecr_login.HelperLogin
    ledger: ratelimit.Ledger
    http: urllib3.PoolManager

    def login_for(self, host: str) -> Login | None:
        """The login skopeo is handed for `host`: ECR's from our helper, a source's as
        found in Docker's config; None leaves skopeo to its own lookup."""
        if host == self.dest_login.host:
            return self.dest_login.current()
        return self.sources.logins.get(host)


@dataclass
class Done:
    """What the run did, in plan order, and why it stopped early (if it did)."""

    outcomes: list[Outcome]
    plan: Plan
    run: RunResult | None = None
    created: list[str] = field(default_factory=list)
    journal: str = ""


def clients(
    target: Target,
    *,
    environ: Mapping[str, str],
    docker_config_file: str,
    helper_environ: Mapping[str, str],
    jobs: int,
) -> Clients:
    """The source registries (with the logins Docker's config holds) and the ECR registry
    (signed in through our credential helper, asked once and again every few minutes)."""
    endpoints = Endpoints.from_environ(environ)
    http = httpclient.pool(max(jobs * 2, 8))
    ledger = ratelimit.Ledger()
    hub_login = dockerhub_login.find(docker_config_file, environ)
    sources = Sources(
        endpoints,
        docker_config_file=docker_config_file,
        environ=environ,
        http=http,
        ledger=ledger,
        hub_login=hub_login,
    )
    dest_login = ecr_login.HelperLogin(
        target.host, lambda: ecr_login.ask_helper(target.host, helper_environ)
    )
    dest_login.prefetch()  # a process of its own: it runs while the listing does
    dest = Registry(base_url(target.host, http), None, http=http, login_source=dest_login.current)
    return Clients(endpoints, sources, dest, dest_login, ledger, http)


# -- planning -------------------------------------------------------------------------------


def plan_fresh(
    built: Clients,
    *,
    sources: Sequence[migrate.Source],
    org: str | None,
    dockerhub_org: str | None,
    selection: Selection,
    jobs: int,
    waiter: ratelimit.Waiter | None,
    copying: Callable[[], None] | None = None,
) -> Plan:
    """List the tags (organisation or SOURCE arguments) and compare both sides
    (`copying`: see `compare`)."""
    if org is not None:
        try:
            entries, failures = list_organisation(
                built.sources, org, dockerhub_org, selection, jobs=jobs
            )
        except OrganisationUnlisted as failed:
            raise errors.EcrSsoError(failed.reason) from None
        if not entries and not failures:
            raise errors.EcrSsoError(
                f"Docker Hub organisation {org} has no repository to migrate{_narrowed(selection)}"
            )
    else:
        entries, failures = list_sources(built.sources, sources, dockerhub_org, selection)
    items = compare(
        entries,
        sources=built.sources,
        dest=built.dest,
        waits=Waits(built.ledger, waiter),
        jobs=jobs,
        copying=copying,
    )
    return Plan(share_copies(items), failures)


def plan_resume(
    built: Clients,
    loaded: Loaded,
    *,
    jobs: int,
    waiter: ratelimit.Waiter | None,
    copying: Callable[[], None] | None = None,
) -> Plan:
    """The journal's plan, less what is done; what is left compared again (a tag moved
    at its source since is planned afresh)."""
    left = [
        e
        for e in loaded.entries
        if loaded.outcomes.get(e.key, {}).get("result") not in (COPIED, SKIPPED, TAGGED)
    ]
    fresh = compare(
        [_unpinned(e) for e in left],
        sources=built.sources,
        dest=built.dest,
        waits=Waits(built.ledger, waiter),
        jobs=jobs,
        copying=copying,
    )
    items: list[Planned] = []
    by_key = {item.entry.key: item for item in fresh}
    for entry in loaded.entries:
        if entry.key in by_key:
            items.append(by_key[entry.key])
        else:
            done = loaded.outcomes[entry.key]
            items.append(Planned(entry, DONE, dest_digest=done["digest"], reason=done["result"]))
    return Plan(share_copies(items, in_ecr=(PRESENT, DONE)), [])


def _unpinned(entry: Entry) -> Entry:
    """A planned digest that the user did not pin is looked up again by tag."""
    return entry if entry.pinned else replace(entry, digest="")


def _narrowed(selection: Selection) -> str:
    return " with these filters" if selection.repos or selection.exclude else ""


# -- doing ------------------------------------------------------------------------------------


def start_journal(
    state_dir: str,
    plan: Plan,
    *,
    target: Target,
    arguments: dict[str, Any],
    resumed: Loaded | None,
) -> Writer:
    """The journal for this run: a new one with the plan, or the last one reopened (a tag
    whose digest moved at its source since is recorded as planned again)."""
    where = journal.folder(state_dir)
    if resumed is not None:
        writer = Writer.reopen(where)
        before = {entry.key: entry for entry in resumed.entries}
        for item in plan.items:
            if item.state != DONE and before[item.entry.key] != item.entry:
                writer.replanned(item.entry)
    else:
        header = Header(target.host, target.profile, journal.now(), arguments)
        writer = Writer.start(where, header, [item.entry for item in plan.items])
    for item in plan.items:
        if item.state == PRESENT:
            writer.done(item.entry, SKIPPED, digest=item.dest_digest)
        elif item.state == BROKEN:
            writer.done(item.entry, FAILED, reason=item.reason)
    return writer


def execute(
    plan: Plan,
    built: Clients,
    *,
    target: Target,
    skopeo: migrate.Skopeo,
    writer: Writer,
    jobs: int,
    waiter: ratelimit.Waiter | None,
    display: Display,
    repositories: Repositories,
) -> RunResult:
    runner = Runner(
        skopeo=skopeo,
        dest_host=target.host,
        dest=built.dest,
        sources=built.sources,
        writer=writer,
        ledger=built.ledger,
        jobs=jobs,
        waiter=waiter,
        display=display,
        repositories=repositories,
    )
    return runner.run(plan.items)


def rows(plan: Plan, run: RunResult | None, dest_host: str, *, dry_run: bool) -> list[Outcome]:
    """Every tag's row in plan order, then the sources that could not be listed."""
    found: list[Outcome] = []
    for item in plan.items:
        entry = item.entry
        if run is not None and entry.key in run.outcomes:
            found.append(run.outcomes[entry.key])
        elif item.state == PRESENT:
            found.append(outcome(dest_host, entry, SKIPPED, digest=item.dest_digest))
        elif item.state == BROKEN:
            found.append(outcome(dest_host, entry, FAILED, reason=item.reason))
        elif item.state == DONE:
            found.append(outcome(dest_host, entry, item.reason, digest=item.dest_digest))
        elif item.state == TAG and dry_run:
            found.append(outcome(dest_host, entry, WOULD_TAG, reason=image_of(item)))
        elif item.state == COPY and dry_run:
            found.append(outcome(dest_host, entry, WOULD_COPY))
        elif item.state in (COPY, TAG):
            found.append(outcome(dest_host, entry, "not copied", reason="stopped before its turn"))
    return found + plan.failures


# -- verifying --------------------------------------------------------------------------------


def verify(
    entries: Sequence[Entry],
    built: Clients,
    dest_host: str,
    *,
    jobs: int,
    waiter: ratelimit.Waiter | None,
) -> list[Outcome]:
    """Each planned tag looked at on both sides now (HEAD): the ones that differ, with
    what is wrong: MISSING in ECR, DIFFERENT digest, GONE at the source."""
    items = compare(
        [_unpinned(e) for e in entries],
        sources=built.sources,
        dest=built.dest,
        waits=Waits(built.ledger, waiter),
        jobs=jobs,
    )
    found = []
    for item in items:
        if item.state == PRESENT:
            continue
        entry = item.entry
        if item.state == BROKEN:
            found.append(
                outcome(
                    dest_host,
                    entry,
                    GONE if "not found" in item.reason else FAILED,
                    reason=item.reason,
                )
            )
        elif not item.dest_digest:
            found.append(
                outcome(
                    dest_host, entry, MISSING, reason=f"not in ECR; the source has {entry.digest}"
                )
            )
        else:
            found.append(
                outcome(
                    dest_host,
                    entry,
                    DIFFERENT,
                    digest=item.dest_digest,
                    reason=f"ECR has {item.dest_digest}, the source {entry.digest}",
                )
            )
    return found

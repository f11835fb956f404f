"""What a migration will do, decided before anything is copied: which tags, where each
goes, which are already in ECR at the same digest, and what the rest costs in Docker Hub
pulls.

Tags come from Docker Hub's API for the organisation (`--org`) and for Docker Hub
sources (no pull spent), from the registry's tag list for other sources. Digests come
from HEAD requests on both sides (`Docker-Content-Digest`): Docker Hub does not count a
HEAD as a pull, so a re-run with nothing new spends none. A copy costs one manifest GET,
plus one per image of an index (the API says how many), the upper bound of what Docker
Hub counts. Tags of one image (`latest` and `1.2`) are copied once: the others are tagged
in ECR (`share_copies`), at no cost.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime

import urllib3

from credhelper.repos import dockerhub_login, imageref, ratelimit
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.httpclient import HttpError
from credhelper.repos.hubapi import Endpoints, HubApi, HubRepository, HubTag
from credhelper.repos.journal import Entry
from credhelper.repos.migrate import FAILED, LimitReached, Outcome, Source, select
from credhelper.repos.registry_api import Head, Registry, TooManyRequests
from credhelper.repos.tag_order import sort_tags

COPY = "copy"
PRESENT = "present"
BROKEN = "broken"
#: The image is in ECR's repository under another tag (or will be, once the tag `after`
#: is copied): tagging it there is enough, no second copy, no Docker Hub pull.
TAG = "tag"
#: Children assumed for an index whose images no listing counted (the common amd64+arm64).
GUESSED_CHILDREN = 2
#: How often one look may meet a 429 and wait before the run gives up on it.
MAX_WAITS = 20


@dataclass(frozen=True)
class Selection:
    """How `--repo`, `--exclude`, `--tags` and `--since` narrow the organisation."""

    repos: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    since: datetime | None = None

    def repository(self, name: str, path: str) -> bool:
        def hit(globs: Sequence[str]) -> bool:
            return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(path, g) for g in globs)

        return (not self.repos or hit(self.repos)) and not hit(self.exclude)

    def tag(self, tag: HubTag) -> bool:
        if self.tags and not select([tag.name], self.tags):
            return False
        return self.since is None or (tag.pushed is not None and tag.pushed >= self.since)


@dataclass(frozen=True)
class Planned:
    """One tag and what to do with it: COPY, PRESENT (in ECR at the same digest), TAG (in
    ECR as `image_of`, or to be once the tag keyed `after` is copied) or BROKEN (`reason`
    says why it cannot be done)."""

    entry: Entry
    state: str
    dest_digest: str = ""
    reason: str = ""
    index: bool = False
    image_of: str = ""  # TAG: the ECR tag that has (or will have) the same image
    after: tuple[str, str] | None = None  # TAG: the key of the copy it waits for


@dataclass
class Plan:
    """The tags in order, and the sources that could not be listed at all."""

    items: list[Planned]
    failures: list[Outcome]

    @property
    def to_copy(self) -> list[Planned]:
        return [item for item in self.items if item.state == COPY]

    @property
    def to_tag(self) -> list[Planned]:
        return [item for item in self.items if item.state == TAG]

    @property
    def cost(self) -> int:
        return sum(item.entry.cost for item in self.to_copy)

    @property
    def repositories(self) -> list[str]:
        return list(dict.fromkeys(item.entry.shown for item in self.items))


class Waits:
    """What a look that met a 429 does: wait (with the countdown) and look again, or stop
    the run with the resume hint."""

    def __init__(self, ledger: ratelimit.Ledger, waiter: ratelimit.Waiter | None) -> None:
        self.ledger = ledger
        self.waiter = waiter

    def call(self, look: Callable[[], Head]) -> Head:
        for _ in range(MAX_WAITS):
            try:
                return look()
            except TooManyRequests as limited:
                seconds = limited.wait or ratelimit.refill_wait(self.ledger.last)
                if self.waiter is None:
                    raise LimitReached(
                        f"Docker Hub answered 429 (too many requests) while planning; try again"
                        f" in {ratelimit.duration(seconds)}, or pass --wait"
                    ) from None
                self.waiter.wait(seconds, "Docker Hub answered 429")
        raise LimitReached("Docker Hub kept answering 429 (too many requests); try again later")


class Sources:
    """The registries tags come from, each signed in with the login found for it, and
    Docker Hub's API; every answer's rate-limit headers go to one ledger."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        docker_config_file: str,
        environ: Mapping[str, str],
        http: urllib3.PoolManager,
        ledger: ratelimit.Ledger,
        hub_login: Login | None,
    ) -> None:
        self.endpoints = endpoints
        self.docker_config_file = docker_config_file
        self.environ = environ
        self.http = http
        self.ledger = ledger
        self.hub_login = hub_login
        self.logins: dict[str, Login] = {}
        if hub_login is not None:
            self.logins[endpoints.registry_host] = hub_login
        self._registries: dict[str, Registry] = {}
        self._hub: HubApi | None = None

    def hub(self) -> HubApi:
        if self._hub is None:
            self._hub = HubApi(self.endpoints, self.hub_login, http=self.http)
        return self._hub

    def registry(self, host: str) -> Registry:
        """The client for source registry `host` (as skopeo names it)."""
        if host not in self._registries:
            if host == self.endpoints.registry_host:
                self._registries[host] = Registry(
                    self.endpoints.registry, self.hub_login, http=self.http, ledger=self.ledger
                )
            else:
                login = dockerhub_login.find_for(self.docker_config_file, self.environ, (host,))
                if login is not None:
                    self.logins[host] = login
                self._registries[host] = Registry(
                    base_url(host, self.http), login, http=self.http, ledger=self.ledger
                )
        return self._registries[host]


def base_url(host: str, http: urllib3.PoolManager) -> str:
    """`https://HOST`, or `http://HOST` for a registry on this machine that does not speak
    TLS (Docker too treats 127.0.0.0/8 as plain HTTP); anything else must be HTTPS."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", 1)[0] + "]"
    local = name in ("localhost", "[::1]") or name.startswith("127.")
    if not local:
        return f"https://{host}"
    try:
        http.request("GET", f"https://{host}/v2/", retries=False, redirect=False, timeout=5.0)
    except urllib3.exceptions.HTTPError:
        return f"http://{host}"
    return f"https://{host}"


# -- listing ------------------------------------------------------------------------------


def list_organisation(
    sources: Sources, org: str, dockerhub_org: str | None, selection: Selection, *, jobs: int = 1
) -> tuple[list[Entry], list[Outcome]]:
    """Every selected tag of every selected repository of Docker Hub organisation `org`;
    the repositories' tags are listed `jobs` at a time (a call or more each), in order."""
    try:
        repositories = sources.hub().repositories(org)
    except HttpError as failed:
        raise OrganisationUnlisted(failed.reason) from None
    chosen = [repo for repo in repositories if selection.repository(repo.name, repo.path)]

    def listed(repo: HubRepository) -> tuple[list[Entry], list[Outcome]]:
        ref = imageref.ImageRef(None, repo.path)
        return _hub_entries(
            sources, ref, repo.path, dockerhub_org, selection, none_is_failure=False
        )

    entries: list[Entry] = []
    failures: list[Outcome] = []
    with ThreadPoolExecutor(
        max_workers=max(1, min(jobs, len(chosen) or 1)), thread_name_prefix="list"
    ) as pool:
        for found, failure in pool.map(listed, chosen):
            entries += found
            failures += failure
    return entries, failures


class OrganisationUnlisted(Exception):
    """Docker Hub's API would not list the organisation; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def list_sources(
    sources: Sources, items: Sequence[Source], dockerhub_org: str | None, selection: Selection
) -> tuple[list[Entry], list[Outcome]]:
    """The tags of each SOURCE argument: the one it names, or every selected one."""
    entries: list[Entry] = []
    failures: list[Outcome] = []
    for item in items:
        ref = item.ref
        if ref.docker_hub:
            found, failure = _hub_entries(sources, ref, item.shown, dockerhub_org, selection)
            entries += found
            failures += failure
            continue
        host = ref.host or ""
        base = _entry(item.shown, host, ref.path, item.repository)
        if ref.tag:
            entries.append(
                replace(base, tag=ref.tag, digest=ref.digest or "", pinned=bool(ref.digest))
            )
            continue
        try:
            tags = sources.registry(host).tags(ref.path)
        except HttpError as failed:
            failures.append(_failure(item.shown, host, item.repository, failed.reason))
            continue
        chosen = sort_tags(select(tags, selection.tags))
        if not chosen:
            failures.append(_failure(item.shown, host, item.repository, _none_left(selection)))
        entries += [replace(base, tag=tag) for tag in chosen]
    return entries, failures


def _hub_entries(
    sources: Sources,
    ref: imageref.ImageRef,
    shown: str,
    dockerhub_org: str | None,
    selection: Selection,
    *,
    none_is_failure: bool = True,
) -> tuple[list[Entry], list[Outcome]]:
    """The tags of a Docker Hub repository, from the API. A repository of the organisation
    with no tag left by the filters is simply not in the plan; a named SOURCE is a failure."""
    repository = imageref.ecr_repository(ref, dockerhub_org)
    host = sources.endpoints.registry_host
    base = _entry(shown, host, ref.repository, repository, docker_hub=True)
    namespace, _, name = ref.repository.partition("/")
    try:
        listed = sources.hub().tags(namespace, name)
    except HttpError as failed:
        return [], [_failure(shown, host, repository, failed.reason)]
    if ref.tag:
        wanted = [t for t in listed if t.name == ref.tag] or [HubTag(ref.tag, None, None, None, 1)]
        chosen = wanted[:1]
    else:
        by_name = {t.name: t for t in listed if selection.tag(t)}
        chosen = [by_name[name] for name in sort_tags(list(by_name))]
    if not chosen:
        return [], [
            _failure(shown, host, repository, _none_left(selection))
        ] if none_is_failure else []
    return [
        replace(
            base,
            tag=tag.name,
            digest=ref.digest or "",
            pinned=bool(ref.digest),
            cost=1 + tag.images if tag.images > 1 else 1,
            size=tag.size,
        )
        for tag in chosen
    ], []


def _entry(shown: str, host: str, path: str, repository: str, *, docker_hub: bool = False) -> Entry:
    return Entry(
        shown=shown, registry=host, path=path, tag="", repository=repository, docker_hub=docker_hub
    )


def _failure(shown: str, host: str, repository: str, reason: str) -> Outcome:
    return Outcome(shown, "-", f"{host}/{repository}", FAILED, reason=reason)


def _none_left(selection: Selection) -> str:
    if selection.tags:
        return f"no tag matches {' or '.join(selection.tags)}"
    if selection.since is not None:
        return f"no tag pushed since {selection.since:%Y-%m-%d %H:%M}Z"
    return "no tags"


# -- comparing ----------------------------------------------------------------------------


def compare(
    entries: Sequence[Entry],
    *,
    sources: Sources,
    dest: Registry,
    waits: Waits,
    jobs: int,
    copying: Callable[[], None] | None = None,
) -> list[Planned]:
    """HEAD each tag on both sides (in parallel, in order kept): COPY, PRESENT or BROKEN.
    A pinned digest stays pinned; otherwise the entry takes the source's digest now.
    `copying` is called (from a HEAD thread, maybe more than once) when a tag is found
    to need a copy, so what the copies will need can be got ready meanwhile."""

    def one(entry: Entry) -> Planned:
        found = compare_one(entry, sources=sources, dest=dest, waits=waits)
        if copying is not None and found.state == COPY:
            copying()
        return found

    with ThreadPoolExecutor(
        max_workers=max(1, min(jobs * 2, 16)), thread_name_prefix="head"
    ) as pool:
        return list(pool.map(one, entries))


def compare_one(entry: Entry, *, sources: Sources, dest: Registry, waits: Waits) -> Planned:
    registry = sources.registry(entry.registry)
    try:
        found = waits.call(lambda: registry.head(entry.path, entry.digest or entry.tag))
    except HttpError as failed:
        return Planned(entry, BROKEN, reason=failed.reason)
    if not found.exists:
        what = entry.digest or entry.tag
        return Planned(
            entry, BROKEN, reason=f"{entry.registry}/{entry.path}:{what} not found at the source"
        )
    digest = entry.digest or found.digest or ""
    cost = entry.cost
    if found.is_index and cost <= 1:
        cost = 1 + GUESSED_CHILDREN
    elif not found.is_index:
        cost = 1
    entry = replace(entry, digest=digest, cost=cost)
    try:
        there = dest.head(entry.repository, entry.tag)
    except HttpError as failed:
        return Planned(entry, BROKEN, reason=failed.reason, index=found.is_index)
    have = there.digest or "" if there.exists else ""
    if digest and have == digest:
        return Planned(entry, PRESENT, dest_digest=have, index=found.is_index)
    return Planned(entry, COPY, dest_digest=have, index=found.is_index)


def share_copies(items: Sequence[Planned], *, in_ecr: Sequence[str] = (PRESENT,)) -> list[Planned]:
    """Tags of one image copied once: a COPY whose digest its ECR repository already holds
    (a tag in a state of `in_ecr` with that digest), or which an earlier COPY of the plan
    brings there, becomes a TAG of that image. Docker Hub's `latest` and `1.2` are then
    one copy and one tag in ECR, and one set of pulls, not two."""
    there: dict[tuple[str, str], Planned] = {}
    for item in items:
        if item.state in in_ecr and item.dest_digest:
            there.setdefault((item.entry.repository, item.dest_digest), item)
    first: dict[tuple[str, str], Planned] = {}
    shared: list[Planned] = []
    for item in items:
        key = (item.entry.repository, item.entry.digest)
        if item.state != COPY or not item.entry.digest:
            shared.append(item)
        elif key in there:
            shared.append(replace(item, state=TAG, image_of=there[key].entry.tag, after=None))
        elif key in first:
            copy = first[key]
            shared.append(replace(item, state=TAG, image_of=copy.entry.tag, after=copy.entry.key))
        else:
            first[key] = item
            shared.append(item)
    return shared

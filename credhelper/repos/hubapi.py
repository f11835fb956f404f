"""Docker Hub's own API (not the registry): an organisation's repositories and a
repository's tags, with their last push, size and images. Listing costs no pull.

Where Docker Hub is: `ECR_SSO_DOCKERHUB_API_URL` (default https://hub.docker.com) for this
API and `ECR_SSO_DOCKERHUB_REGISTRY_URL` (default https://registry-1.docker.io) for its
registry, as `AWS_ENDPOINT_URL_*` points botocore elsewhere: a mirror, a proxy, a test.

Every page is checked before it is believed: JSON, not a web page; whole, not cut short;
`results` a list of objects. `next` is followed only on the API's own host and scheme
(the token goes with it, so never anywhere else), each page once, and at most as many
pages as the first page's `count` needs, and never more than MAX_PAGES (a listing with no
`count`, or a count too large to be true, still ends). A tag whose name Docker's grammar
does not allow is left out: it would name no image, and it reaches a terminal and a
journal.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import urllib3

from credhelper.errors import UsageError
from credhelper.repos import httpclient
from credhelper.repos.dockerhub_login import Login
from credhelper.repos.httpclient import HttpError
from credhelper.shown import shown

API_URL = "https://hub.docker.com"
REGISTRY_URL = "https://registry-1.docker.io"
API_VARIABLE = "ECR_SSO_DOCKERHUB_API_URL"
REGISTRY_VARIABLE = "ECR_SSO_DOCKERHUB_REGISTRY_URL"
PAGE_SIZE = 100
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*", re.ASCII)
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII)
#: Pages beyond what `count` needs that a listing may take (items added meanwhile).
EXTRA_PAGES = 2
#: Pages one listing may take whatever it says: 100,000 repositories or tags of a repository.
MAX_PAGES = 1000


@dataclass(frozen=True)
class Endpoints:
    """Where Docker Hub's API and registry answer."""

    api: str = API_URL
    registry: str = REGISTRY_URL

    @property
    def registry_host(self) -> str:
        """The registry as skopeo names it: `docker.io` for the real one (so skopeo's own
        registries.conf mirrors for docker.io still apply), else the configured host."""
        if self.registry.rstrip("/") == REGISTRY_URL:
            return "docker.io"
        return urlsplit(self.registry).netloc

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Endpoints:
        """The endpoints, from the environment over the defaults; UsageError for a value
        that is not an http(s) URL of a host."""
        return cls(
            api=_url(environ, API_VARIABLE, API_URL),
            registry=_url(environ, REGISTRY_VARIABLE, REGISTRY_URL),
        )


def _url(environ: Mapping[str, str], name: str, default: str) -> str:
    value = (environ.get(name) or "").strip()
    if not value:
        return default
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or parts.path not in ("", "/")
    ):
        raise UsageError(
            f"{name} must be an http(s) URL of a host, like {default}; it is {shown(value)!r}"
        )
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise UsageError(
            f"{name} may be plain http only for this machine (127.0.0.0/8, ::1); it is"
            f" {shown(value)!r}: use https"
        )
    return value.rstrip("/")


def _loopback(host: str) -> bool:
    """Whether `host` is an address of this machine, where plain HTTP (and the Docker Hub
    password in it) never crosses a network: Docker's own rule for insecure registries."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HubRepository:
    """A repository of the organisation."""

    namespace: str
    name: str
    private: bool
    last_updated: datetime | None

    @property
    def path(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class HubTag:
    """A tag as the API describes it: `images` is how many platform images it holds
    (1 for a plain image), `size` its compressed size when known."""

    name: str
    digest: str | None
    pushed: datetime | None
    size: int | None
    images: int


class HubApi:
    """Docker Hub's API at `endpoints.api`, signed in as `login` when given."""

    def __init__(
        self, endpoints: Endpoints, login: Login | None, *, http: urllib3.PoolManager
    ) -> None:
        self.base = endpoints.api
        self.login = login
        self.http = http
        self._token: str | None = None

    def sign_in(self) -> None:
        """Trade the login for an API token (`POST /v2/auth/token`); without a login,
        the API is read anonymously (public repositories only)."""
        if self.login is None or self._token is not None:
            return
        body = json.dumps({"identifier": self.login.username, "secret": self.login.token}).encode()
        answer = httpclient.call(
            self.http,
            "POST",
            f"{self.base}/v2/auth/token",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            body=body,
            limit=1024 * 1024,
        )
        if answer.status != 200:
            message = httpclient.server_message(answer)
            raise HttpError(
                f"Docker Hub refused the sign-in of {shown(self.login.username)} (from"
                f" {self.login.source}): {answer.status}{' ' + message if message else ''}",
                answer.status,
            )
        data = httpclient.json_body(answer, "Docker Hub's sign-in")
        token = data.get("access_token") or data.get("token") if isinstance(data, dict) else None
        if not httpclient.usable_token(token):
            raise HttpError("Docker Hub's sign-in answered no token")
        self._token = token

    def repositories(self, namespace: str) -> list[HubRepository]:
        """Every repository of `namespace` the login may see, by name."""
        found = []
        for item in self._pages(
            f"/v2/namespaces/{namespace}/repositories", f"{namespace}'s repositories"
        ):
            name = item.get("name")
            if not isinstance(name, str) or _COMPONENT.fullmatch(name) is None:
                raise HttpError(
                    f"Docker Hub listed a repository of {namespace} with a name that is not"
                    f" one: {shown(str(name))!r}"
                )
            found.append(
                HubRepository(
                    namespace=namespace,
                    name=name,
                    private=item.get("is_private") is True,
                    last_updated=_when(item.get("last_updated")),
                )
            )
        unique = {repo.name: repo for repo in found}
        return sorted(unique.values(), key=lambda repo: repo.name)

    def tags(self, namespace: str, name: str) -> list[HubTag]:
        """Every tag of `namespace/name`."""
        found = []
        for item in self._pages(
            f"/v2/namespaces/{namespace}/repositories/{name}/tags", f"{namespace}/{name}'s tags"
        ):
            tag = item.get("name")
            if not isinstance(tag, str) or _TAG.fullmatch(tag) is None:
                continue
            images = item.get("images")
            platforms = (
                [i for i in images if isinstance(i, dict)] if isinstance(images, list) else []
            )
            size = item.get("full_size")
            digest = item.get("digest")
            found.append(
                HubTag(
                    name=tag,
                    digest=digest if isinstance(digest, str) and digest else None,
                    pushed=_when(item.get("tag_last_pushed")) or _when(item.get("last_updated")),
                    size=size if isinstance(size, int) and size >= 0 else None,
                    images=max(len(platforms), 1),
                )
            )
        return list({tag.name: tag for tag in found}.values())

    def _pages(self, path: str, what: str) -> list[dict[str, object]]:
        self.sign_in()
        url = f"{self.base}{path}?page_size={PAGE_SIZE}"
        items: list[dict[str, object]] = []
        seen: set[str] = set()
        allowed = MAX_PAGES
        count: int | None = None
        while url:
            if url in seen:
                raise HttpError(f"Docker Hub's listing of {what} goes round in a loop; stopped")
            if len(seen) >= allowed:
                bound = "it counted" if allowed < MAX_PAGES else f"ecr-sso reads ({MAX_PAGES})"
                raise HttpError(
                    f"Docker Hub's listing of {what} has more pages than {bound}; stopped"
                )
            if httpclient.origin(url) != httpclient.origin(self.base):
                raise HttpError(
                    f"Docker Hub's listing of {what} points to another host"
                    f" ({httpclient.origin(url)}); not followed"
                )
            seen.add(url)
            headers = {"Accept": "application/json"}
            if self._token is not None:
                headers["Authorization"] = f"Bearer {self._token}"
            try:
                answer = httpclient.call(self.http, "GET", url, headers=headers)
            except HttpError as failed:
                raise HttpError(f"Docker Hub's listing of {what}: {failed.reason}") from None
            if answer.status == 404:
                raise HttpError(
                    f"Docker Hub has no {what} (404): check the name, and the login", 404
                )
            if answer.status != 200:
                message = httpclient.server_message(answer)
                raise HttpError(
                    f"Docker Hub's listing of {what} failed: {answer.status}"
                    + (f" {message}" if message else ""),
                    answer.status,
                )
            data = httpclient.json_body(answer, f"Docker Hub's listing of {what}")
            results = data.get("results") if isinstance(data, dict) else None
            if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
                raise HttpError(f"Docker Hub's listing of {what} is not a list of results")
            items += results
            if count is None:
                counted = data.get("count")
                if isinstance(counted, int) and counted >= 0:
                    count = counted
                    needed = -(-counted // max(len(results), 1)) + EXTRA_PAGES
                    allowed = min(needed, MAX_PAGES)
            following = data.get("next")
            url = following if isinstance(following, str) else ""
        if count is not None and len(items) < count:
            raise HttpError(
                f"Docker Hub's listing of {what} ended after {len(items)} of the {count} it"
                " counted (cut short?); run it again"
            )
        return items


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)

"""The ECR API calls of the repository commands. Every listing follows
`nextToken` to the end; every botocore failure becomes one of our errors, one line long.

Sessions come from `aws.make_session`, so these calls have the same bounded timeouts and
retries as the credential helper's, and the same translation of sign-in, credential and
network failures. Only the failures particular to these operations are translated here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from credhelper import errors
from credhelper.aws import client as aws
from credhelper.repos.target import Target

log = logging.getLogger(__name__)

#: BatchDeleteImage takes at most this many image ids per call.
BATCH_DELETE_MAX = 100

_DENIED = ("AccessDeniedException", "AccessDenied")
T = TypeVar("T")


class RepositoryNotFound(errors.EcrSsoError):
    """The repository does not exist in the registry (or the caller may not see it)."""


class RepositoryExists(errors.EcrSsoError):
    """CreateRepository found the name taken."""


class RepositoryNotEmpty(errors.EcrSsoError):
    """DeleteRepository without force found images in the repository."""


@dataclass(frozen=True)
class Repository:
    name: str
    uri: str
    created_at: datetime | None
    tag_mutability: str
    scan_on_push: bool


@dataclass(frozen=True)
class Image:
    """One image (manifest or index) in a repository; `tags` is empty for untagged ones."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime | None
    size: int | None
    media_type: str | None


@dataclass(frozen=True)
class TagFailure:
    """A tag BatchDeleteImage did not remove, with ECR's reason."""

    tag: str
    code: str
    reason: str


class Ecr:
    """The ECR API of one target registry. The client is made on first use; pass one in
    to reuse a session."""

    def __init__(self, target: Target, client: Any = None) -> None:
        self.target = target
        self._client = client
        self._session: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._session = aws.make_session(self.target.profile)
            self._client = self._call(
                lambda: aws.make_client(self._session, self.target.registry), None
            )
        return self._client

    # -- reading ----------------------------------------------------------------------

    def repositories(self) -> list[Repository]:
        """Every repository of the registry, by name."""
        pages = self._pages(
            "describe_repositories", "repositories", None, registryId=self.target.account
        )
        found = [_repository(item) for item in pages]
        return sorted(found, key=lambda repo: repo.name)

    def repository(self, name: str) -> Repository:
        """One repository; RepositoryNotFound when there is none by that name."""
        reply = self._call(
            lambda: self.client.describe_repositories(
                registryId=self.target.account, repositoryNames=[name]
            ),
            name,
        )
        # AWS raises RepositoryNotFoundException for a missing name; a reply that just
        # lacks it (an empty list, another name) says the same.
        items = reply.get("repositories") if isinstance(reply, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("repositoryName") == name:
                return _repository(item)
        raise RepositoryNotFound(f"repository '{name}' does not exist in {self.target.host}")

    def exists(self, name: str) -> bool:
        try:
            self.repository(name)
        except RepositoryNotFound:
            return False
        return True

    def images(self, name: str) -> list[Image]:
        """Every image of repository `name`, tagged or not. Filtering is done here, not
        with the API's tagStatus filter: one listing answers both questions."""
        pages = self._pages(
            "describe_images",
            "imageDetails",
            name,
            registryId=self.target.account,
            repositoryName=name,
        )
        return [_image(item) for item in pages]

    # -- changing ----------------------------------------------------------------------

    def create(
        self, name: str, *, immutable: bool = False, scan_on_push: bool = False
    ) -> Repository:
        reply = self._call(
            lambda: self.client.create_repository(
                registryId=self.target.account,
                repositoryName=name,
                imageTagMutability="IMMUTABLE" if immutable else "MUTABLE",
                imageScanningConfiguration={"scanOnPush": scan_on_push},
            ),
            name,
        )
        return _repository(reply["repository"])

    def delete(self, name: str, *, force: bool) -> Repository:
        """Delete repository `name`; with `force`, its images too."""
        reply = self._call(
            lambda: self.client.delete_repository(
                registryId=self.target.account, repositoryName=name, force=force
            ),
            name,
        )
        return _repository(reply["repository"])

    def untag(self, name: str, tags: Sequence[str]) -> tuple[list[str], list[TagFailure]]:
        """Remove `tags` from repository `name` (an image loses only that tag; its last
        tag gone, ECR deletes the image). Returns the tags removed and those that failed."""
        removed: list[str] = []
        failed: list[TagFailure] = []
        unique = list(dict.fromkeys(tags))
        for start in range(0, len(unique), BATCH_DELETE_MAX):
            batch = unique[start : start + BATCH_DELETE_MAX]
            call = partial(
                self.client.batch_delete_image,
                registryId=self.target.account,
                repositoryName=name,
                imageIds=[{"imageTag": tag} for tag in batch],
            )
            reply = self._call(call, name)
            removed += [i["imageTag"] for i in reply.get("imageIds", []) if "imageTag" in i]
            for failure in reply.get("failures", []):
                failed.append(
                    TagFailure(
                        tag=failure.get("imageId", {}).get("imageTag", "?"),
                        code=failure.get("failureCode", ""),
                        reason=failure.get("failureReason", ""),
                    )
                )
        return removed, failed

    # -- plumbing ----------------------------------------------------------------------

    def _pages(
        self, operation: str, key: str, repository: str | None, **params: Any
    ) -> list[dict[str, Any]]:
        def every_page() -> list[dict[str, Any]]:
            paginator = self.client.get_paginator(operation)
            return [item for page in paginator.paginate(**params) for item in page.get(key, [])]

        return self._call(every_page, repository)

    def _call(self, call: Callable[[], T], repository: str | None) -> T:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return call()
        except (BotoCoreError, ClientError) as err:
            raise translate(err, self.target, repository, self._session) from None


def translate(
    err: Exception, target: Target, repository: str | None = None, session: Any = None
) -> errors.EcrSsoError:
    """One actionable line for a failed ECR API call."""
    response = getattr(err, "response", None)
    if not isinstance(response, dict):
        return aws.translate(err, target.registry, target.profile, session)
    code = response.get("Error", {}).get("Code", "")
    operation = getattr(err, "operation_name", "") or "the request"
    where = f"repository '{repository}'" if repository else "the registry"
    if code == "RepositoryNotFoundException":
        return RepositoryNotFound(f"repository '{repository}' does not exist in {target.host}")
    if code == "RepositoryAlreadyExistsException":
        return RepositoryExists(f"repository '{repository}' already exists in {target.host}")
    if code == "RepositoryNotEmptyException":
        return RepositoryNotEmpty(
            f"repository '{repository}' in {target.host} still holds images; pass --force to"
            " delete them with it"
        )
    if code in _DENIED:
        return errors.AccessDenied(
            f"access denied: {target.who} may not ecr:{operation} on {where} in {target.host}"
        )
    if code == "InvalidParameterException":
        message = response.get("Error", {}).get("Message", "")
        return errors.UsageError(f"ECR refused {operation}: {message}")
    return aws.translate(err, target.registry, target.profile, session)


def caller_account(profile: str, region: str) -> str:
    """The account of `profile`'s credentials (STS GetCallerIdentity), for profiles whose
    account the AWS config does not name."""
    from credhelper.aws.sts import caller_identity

    try:
        return caller_identity(profile, region).account
    except errors.AccessDenied:
        raise errors.AccessDenied(
            f"access denied: profile '{profile}' may not call sts:GetCallerIdentity; pass"
            " --registry HOST instead"
        ) from None


def _repository(item: dict[str, Any]) -> Repository:
    return Repository(
        name=item["repositoryName"],
        uri=item.get("repositoryUri", ""),
        created_at=item.get("createdAt"),
        tag_mutability=item.get("imageTagMutability", ""),
        scan_on_push=bool(item.get("imageScanningConfiguration", {}).get("scanOnPush")),
    )


def _image(item: dict[str, Any]) -> Image:
    return Image(
        digest=item["imageDigest"],
        tags=tuple(item.get("imageTags") or ()),
        pushed_at=item.get("imagePushedAt"),
        size=item.get("imageSizeInBytes"),
        media_type=item.get("imageManifestMediaType"),
    )

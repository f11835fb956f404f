"""Promote an image from one account's registry to others', by digest.

The source is resolved to its manifest digest first (`skopeo inspect --raw`, the sha256 of
the bytes the registry serves), and that digest is what is copied (`skopeo copy --all
--preserve-digests`): an index stays the same index, every architecture with it, and a tag
moved at the source in the meantime cannot slip a different image through. Both sides sign
in through our credential helper (one private auth file naming it for every host).

Per destination: its repository is created when missing, with the source repository's tag
immutability and scan-on-push; a tag already pointing at the same digest is left alone
(nothing copied); a tag pointing at another digest is refused unless `force`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from credhelper import errors
from credhelper.repos.ecr import Ecr, Repository
from credhelper.repos.imageref import ImageRef
from credhelper.repos.migrate import Skopeo, SkopeoFailed
from credhelper.repos.target import Target

COPIED = "copied"
UNCHANGED = "unchanged"
REFUSED = "refused"
FAILED = "failed"
WOULD_COPY = "would copy"
NEXT = "next"
DEFAULT_TAG = "latest"

# How registries (docker-registry, ECR) say a tag or repository is not there.
_ABSENT = re.compile(r"manifest unknown|name unknown|not found|does not exist", re.IGNORECASE)


@dataclass(frozen=True)
class Outcome:
    """What happened at one destination. `digest` is the image now at (or, in a dry run,
    bound for) the destination tag."""

    profile: str
    host: str
    repository: str
    tag: str
    result: str
    digest: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        """Whether the destination has (or would have) the image."""
        return self.result in (COPIED, UNCHANGED, WOULD_COPY)

    @property
    def pinned(self) -> str:
        """`HOST/REPO@sha256:…`."""
        return f"{self.host}/{self.repository}@{self.digest}"

    @property
    def tagged(self) -> str:
        """`HOST/REPO:TAG`."""
        return f"{self.host}/{self.repository}:{self.tag}"


def destinations(texts: Sequence[str], source: str, order: Sequence[str], where: str) -> list[str]:
    """The profiles `--to` names (comma-separated, repeatable); `next` is the profile after
    `source` in the promotion order (`[promote] order` in the config at `where`)."""
    found: list[str] = []
    for text in texts:
        for name in (part.strip() for part in text.split(",")):
            if not name:
                continue
            found.append(_next(source, order, where) if name == NEXT else name)
    if not found:
        raise errors.UsageError("--to names no profile")
    if source in found:
        raise errors.UsageError(f"--to names the source profile '{source}'")
    return list(dict.fromkeys(found))


def _next(source: str, order: Sequence[str], where: str) -> str:
    if not order:
        raise errors.UsageError(
            f'--to next needs the promotion order in {where}: [promote] order = ["dev", "prod"]'
        )
    if source not in order:
        raise errors.UsageError(f"--to next: '{source}' is not in [promote] order in {where}")
    position = order.index(source)
    if position == len(order) - 1:
        raise errors.UsageError(f"--to next: '{source}' is last in [promote] order in {where}")
    return order[position + 1]


def destination_tag(ref: ImageRef, tag: str | None) -> str:
    """The tag the image gets at each destination: --tag, else the source's tag."""
    chosen = tag or ref.tag or (None if ref.digest else DEFAULT_TAG)
    if chosen is None:
        raise errors.UsageError(
            f"{ref}: an image named by digest needs --tag TAG for the destinations"
        )
    return chosen


def resolve_digest(ref: ImageRef, source: Target, skopeo: Skopeo) -> str:
    """The manifest digest the source names (checked to exist when given)."""
    name = f"{source.host}/{ref.path}"
    wanted = f"{name}@{ref.digest}" if ref.digest else f"{name}:{ref.tag or DEFAULT_TAG}"
    try:
        digest = skopeo.digest(wanted, dest=False)
    except SkopeoFailed as failed:
        raise errors.EcrSsoError(f"cannot read {wanted}: {failed.reason}") from None
    if ref.digest and digest != ref.digest:
        # The registry served other bytes than the digest names: never copy those.
        raise errors.EcrSsoError(f"{wanted}: the registry served a manifest of digest {digest}")
    return digest


def promote(
    ref: ImageRef,
    digest: str,
    *,
    source: Target,
    targets: Sequence[Target],
    tag: str,
    skopeo: Skopeo,
    ecr: Callable[[Target], Ecr],
    dry_run: bool = False,
    force: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Outcome]:
    """Put `digest` (of `ref` in `source`) at `tag` in every target; an outcome each."""
    repository = ref.path
    source_repo: list[Repository] = []  # read once, when a destination needs creating

    def settings() -> Repository:
        if not source_repo:
            source_repo.append(ecr(source).repository(repository))
        return source_repo[0]

    outcomes = []
    for target in targets:
        base = Outcome(target.profile or "", target.host, repository, tag, FAILED)
        try:
            outcomes.append(
                _one(
                    base,
                    digest,
                    source=source,
                    skopeo=skopeo,
                    dest_ecr=ecr(target),
                    settings=settings,
                    dry_run=dry_run,
                    force=force,
                    progress=progress,
                )
            )
        except SkopeoFailed as failed:
            outcomes.append(_with(base, FAILED, reason=failed.reason))
        except errors.EcrSsoError as err:
            outcomes.append(_with(base, FAILED, reason=str(err)))
    return outcomes


def _one(
    base: Outcome,
    digest: str,
    *,
    source: Target,
    skopeo: Skopeo,
    dest_ecr: Ecr,
    settings: Callable[[], Repository],
    dry_run: bool,
    force: bool,
    progress: Callable[[str], None],
) -> Outcome:
    if not dest_ecr.exists(base.repository):
        model = settings()
        immutable = model.tag_mutability.upper().startswith("IMMUTABLE")
        if dry_run:
            progress(f"would create repository {base.repository} in {base.host}")
        else:
            dest_ecr.create(base.repository, immutable=immutable, scan_on_push=model.scan_on_push)
            progress(f"created repository {base.repository} in {base.host}")
    current = _current(skopeo, base.tagged)
    if current == digest:
        return _with(base, UNCHANGED, digest=digest)
    if current is not None and not force:
        return _with(
            base,
            REFUSED,
            reason=f"{base.tagged} points at {current}, not {digest}; --force moves it",
        )
    if dry_run:
        return _with(base, WOULD_COPY, digest=digest)
    progress(f"copying {digest} to {base.tagged}")
    written = skopeo.copy(f"{source.host}/{base.repository}@{digest}", base.tagged)
    if written and written != digest:
        return _with(base, FAILED, reason=f"skopeo wrote {written}, not {digest}")
    return _with(base, COPIED, digest=digest)


def _current(skopeo: Skopeo, tagged: str) -> str | None:
    """The digest a destination tag points at; None when there is no such tag."""
    try:
        return skopeo.digest(tagged, dest=True)
    except SkopeoFailed as failed:
        if _ABSENT.search(failed.reason):
            return None
        raise


def _with(base: Outcome, result: str, *, digest: str = "", reason: str = "") -> Outcome:
    return Outcome(base.profile, base.host, base.repository, base.tag, result, digest, reason)

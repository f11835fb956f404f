"""Copy images from Docker Hub (or any registry) into ECR with skopeo, tag by tag.

skopeo does the copying (`skopeo copy --all --preserve-digests`): it keeps multi-arch
indexes whole and fails rather than change a digest. Credentials:
- source: skopeo's own lookup (its auth.json files, then Docker's config.json, with
  `credHelpers`), so whatever `docker login` or `skopeo login` left works;
- destination: our credential helper, always. skopeo gets a private auth file whose only
  entry is `"credHelpers": {"<registry host>": "ecr-sso"}`, so it runs
  `docker-credential-ecr-sso` for the ECR host whatever the user's Docker config says.
  Transport settings (an insecure or mirrored registry) come from skopeo's own
  registries.conf, as for any skopeo command.

A tag already in ECR with the same manifest digest (sha256 of the raw manifest, read with
`skopeo inspect --raw` on both sides) is skipped, so a second run copies nothing.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from credhelper import atomic, errors
from credhelper.repos import imageref
from credhelper.repos.ecr import Ecr
from credhelper.repos.imageref import ImageRef

log = logging.getLogger(__name__)

SKOPEO = "skopeo"
HELPER = "docker-credential-ecr-sso"
HELPER_NAME = "ecr-sso"  # what `credHelpers` names: docker-credential-<name>
INSTALL_SKOPEO = (
    "skopeo is not installed, and migrate copies images with it: install it with"
    " `apt-get install skopeo` (Debian, Ubuntu), `dnf install skopeo` (Fedora),"
    " `brew install skopeo` (macOS), or see"
    " https://github.com/containers/skopeo/blob/main/install.md"
)
RETRY_TIMES = "3"

COPIED = "copied"
SKIPPED = "skipped"
FAILED = "failed"
WOULD_COPY = "would copy"

_FATAL = re.compile(r'level=fatal msg="(?P<msg>(?:[^"\\]|\\.)*)"')


class ToolMissing(errors.EcrSsoError):
    """A program migrate needs is not installed."""


class SkopeoFailed(Exception):
    """One skopeo run failed; `reason` is its error in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Source:
    """One SOURCE argument: the image reference and the ECR repository it goes to."""

    ref: ImageRef
    repository: str

    @property
    def name(self) -> str:
        """The source repository as skopeo addresses it (Docker Hub spelled out)."""
        if self.ref.docker_hub:
            return f"docker.io/{self.ref.repository}"
        return f"{self.ref.host}/{self.ref.path}"

    @property
    def shown(self) -> str:
        """The source repository as the user wrote it."""
        return (f"{self.ref.host}/" if self.ref.host else "") + self.ref.path


@dataclass(frozen=True)
class Outcome:
    """What happened to one tag (or, with tag "-", to a whole source)."""

    source: str
    tag: str
    destination: str
    result: str
    digest: str = ""
    reason: str = ""


def sources(texts: Sequence[str], dockerhub_org: str | None, globs: Sequence[str]) -> list[Source]:
    """Parse every SOURCE before anything is copied; a bad one is a UsageError."""
    found = []
    for text in texts:
        ref = imageref.parse(text)
        if ref.digest and not ref.tag:
            raise errors.UsageError(
                f"{text}: a source pinned by digest needs a tag to copy to (NAME:TAG@DIGEST)"
            )
        if ref.tag and globs:
            raise errors.UsageError(f"{text}: --tags applies to sources given without a tag")
        found.append(Source(ref, imageref.ecr_repository(ref, dockerhub_org)))
    return found


def select(tags: Sequence[str], globs: Sequence[str]) -> list[str]:
    """The tags matching any of `globs` (all of them when there are none)."""
    if not globs:
        return list(tags)
    return [tag for tag in tags if any(fnmatch.fnmatchcase(tag, glob) for glob in globs)]


def find_skopeo(environ: Mapping[str, str]) -> str:
    """The skopeo executable on PATH; ToolMissing saying how to install it otherwise."""
    found = shutil.which(SKOPEO, path=environ.get("PATH", os.defpath))
    if found is None:
        raise ToolMissing(INSTALL_SKOPEO)
    return found


def skopeo_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with our credential helper reachable on PATH: the one installed next to
    this ecr-sso first, so skopeo signs in with the same version and settings."""
    env = dict(environ)
    path = env.get("PATH", os.defpath)
    for folder in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        if folder and os.access(os.path.join(folder, HELPER), os.X_OK):
            env["PATH"] = folder + os.pathsep + path
            return env
    if shutil.which(HELPER, path=path) is None:
        raise ToolMissing(
            f"{HELPER} is not on PATH, and skopeo runs it to sign in to ECR: add the folder"
            " ecr-sso is installed in to PATH"
        )
    return env


class Skopeo:
    """skopeo, with every destination call signed in through our helper."""

    def __init__(
        self,
        executable: str,
        environ: Mapping[str, str],
        dest_authfile: str,
        src_authfile: str | None = None,
    ) -> None:
        self.executable = executable
        self.environ = dict(environ)
        self.dest_authfile = dest_authfile
        # When the source is ECR too (promote): its sign-in through our helper as well.
        self.src_authfile = src_authfile

    def list_tags(self, name: str, *, dest: bool) -> list[str]:
        """The tags of repository `name` (`host/path`)."""
        out = self._run(["list-tags", *self._auth(dest), f"docker://{name}"])
        try:
            tags = json.loads(out).get("Tags") or []
        except (ValueError, AttributeError):
            raise SkopeoFailed("skopeo list-tags printed something other than JSON") from None
        return [str(tag) for tag in tags]

    def digest(self, ref: str, *, dest: bool) -> str:
        """The manifest digest of `ref` (`host/path:tag`): sha256 of its raw manifest."""
        raw = self._run(["inspect", "--raw", *self._auth(dest), f"docker://{ref}"])
        return "sha256:" + hashlib.sha256(raw).hexdigest()

    def copy(self, source: str, dest: str) -> str:
        """Copy `source` to `dest` (both `host/path:tag` or `@digest`), every image of an
        index; return the digest written."""
        with tempfile.TemporaryDirectory(prefix="ecr-sso-") as folder:
            digest_file = os.path.join(folder, "digest")
            self._run(
                [
                    "copy",
                    "--all",
                    "--preserve-digests",
                    "--digestfile",
                    digest_file,
                    "--dest-authfile",
                    self.dest_authfile,
                    *(["--src-authfile", self.src_authfile] if self.src_authfile else []),
                    f"docker://{source}",
                    f"docker://{dest}",
                ]
            )
            try:
                with open(digest_file, encoding="ascii") as handle:
                    return handle.read().strip()
            except OSError:
                return ""

    def _auth(self, dest: bool) -> list[str]:
        if dest:
            return ["--authfile", self.dest_authfile]
        return ["--authfile", self.src_authfile] if self.src_authfile else []

    def _run(self, argv: list[str]) -> bytes:
        command = [self.executable, argv[0], "--retry-times", RETRY_TIMES, *argv[1:]]
        log.debug("running %s", " ".join(command))
        try:
            done = subprocess.run(
                command,
                env=self.environ,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
            )
        except OSError as err:
            raise SkopeoFailed(f"cannot run skopeo: {err.strerror}") from None
        if done.returncode != 0:
            reason = one_line(done.stderr.decode(errors="replace"))
            log.info("skopeo %s failed: %s", argv[0], reason)
            raise SkopeoFailed(reason or f"skopeo {argv[0]} exited with {done.returncode}")
        return done.stdout


def one_line(stderr: str) -> str:
    """skopeo's error, without its log-format wrapping."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        match = _FATAL.search(line)
        if match is not None:
            return match["msg"].replace('\\"', '"').replace("\\\\", "\\")
    return lines[-1].strip() if lines else ""


@contextlib.contextmanager
def dest_authfile(host: str, *more: str) -> Iterator[str]:
    """A private auth file telling skopeo to ask our helper for the credentials of `host`
    (and of `more` hosts). It holds no secret: only the helper's name."""
    with tempfile.TemporaryDirectory(prefix="ecr-sso-auth-") as folder:
        path = os.path.join(folder, "auth.json")
        helpers = dict.fromkeys((host, *more), HELPER_NAME)
        atomic.write_bytes(path, json.dumps({"credHelpers": helpers}).encode())
        yield path


def migrate(
    items: Sequence[Source],
    *,
    ecr: Ecr,
    skopeo: Skopeo,
    globs: Sequence[str] = (),
    dry_run: bool = False,
    progress: Callable[[str], None] = lambda line: None,
) -> list[Outcome]:
    """Copy every source's tags into ECR; an outcome per tag. ECR API failures (denied,
    signed out) end the run with our error; skopeo failures are the tag's outcome."""
    host = ecr.target.host
    outcomes: list[Outcome] = []
    for item in items:
        dest_name = f"{host}/{item.repository}"
        try:
            tags = _tags(item, skopeo, globs)
        except SkopeoFailed as failed:
            outcomes.append(Outcome(item.shown, "-", dest_name, FAILED, reason=failed.reason))
            continue
        if not tags:
            reason = f"no tag matches {' or '.join(globs)}" if globs else "no tags"
            outcomes.append(Outcome(item.shown, "-", dest_name, FAILED, reason=reason))
            continue
        created = False
        if not ecr.exists(item.repository):
            created = True
            if dry_run:
                progress(f"would create repository {item.repository} in {host}")
            else:
                ecr.create(item.repository)
                progress(f"created repository {item.repository} in {host}")
        try:
            present = set() if created else set(skopeo.list_tags(dest_name, dest=True))
        except SkopeoFailed as failed:
            outcomes += [
                Outcome(item.shown, tag, f"{dest_name}:{tag}", FAILED, reason=failed.reason)
                for tag in tags
            ]
            continue
        for tag in tags:
            outcomes.append(
                _one(
                    item,
                    tag,
                    dest_name=dest_name,
                    present=present,
                    skopeo=skopeo,
                    dry_run=dry_run,
                    progress=progress,
                )
            )
    return outcomes


def _tags(item: Source, skopeo: Skopeo, globs: Sequence[str]) -> list[str]:
    if item.ref.tag:
        return [item.ref.tag]
    from credhelper.repos.tag_order import sort_tags

    return sort_tags(select(skopeo.list_tags(item.name, dest=False), globs))


def _one(
    item: Source,
    tag: str,
    *,
    dest_name: str,
    present: set[str],
    skopeo: Skopeo,
    dry_run: bool,
    progress: Callable[[str], None],
) -> Outcome:
    source = f"{item.name}@{item.ref.digest}" if item.ref.digest else f"{item.name}:{tag}"
    dest = f"{dest_name}:{tag}"
    shown = f"{item.shown}:{tag}"
    try:
        if tag in present:
            want = item.ref.digest or skopeo.digest(source, dest=False)
            have = skopeo.digest(dest, dest=True)
            if want == have:
                return Outcome(shown, tag, dest, SKIPPED, digest=have)
        if dry_run:
            return Outcome(shown, tag, dest, WOULD_COPY)
        progress(f"copying {shown} to {dest}")
        digest = skopeo.copy(source, dest)
    except SkopeoFailed as failed:
        return Outcome(shown, tag, dest, FAILED, reason=failed.reason)
    return Outcome(shown, tag, dest, COPIED, digest=digest)

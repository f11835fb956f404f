"""`migrate`'s parts: the SOURCE arguments, and skopeo, the copier.

skopeo does the copying (`skopeo copy --all --preserve-digests`): it keeps multi-arch
indexes whole and fails rather than change a digest. Credentials, for each run, in an
auth file that exists in memory only (a memfd on Linux; elsewhere a private file removed
when the run ends), holding only the hosts that run needs:
- source: the login migrate found for the source registry (Docker's config: `credHelpers`,
  `credsStore`, `auths`), so the copies pull as the same account whose allowance the plan
  read; without one, skopeo's own lookup;
- destination: ECR's login from our credential helper, the one migrate's own requests use
  (`credhelper.repos.ecr_login`: asked once, again every few minutes), so no skopeo run
  starts the helper. Without such a login (promote), skopeo gets a private auth file whose
  only entry is `"credHelpers": {"<registry host>": "ecr-sso"}` and runs
  `docker-credential-ecr-sso` for the ECR host whatever the user's Docker config says.
Transport settings (an insecure or mirrored registry) come from skopeo's own
registries.conf, as for any skopeo command.

The plan, the copies in parallel and the journal are `migrate_plan` and `migrate_run`.
"""

from __future__ import annotations

import base64
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
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from credhelper import atomic, errors
from credhelper.repos import imageref
from credhelper.repos.dockerhub_login import Login
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
#: Put in ECR as a second tag of an image copied once (the same digest at the source).
TAGGED = "tagged"
WOULD_COPY = "would copy"
WOULD_TAG = "would tag"
#: What a tag's journal record may say it ended as.
RESULTS = (COPIED, SKIPPED, FAILED, TAGGED)

_FATAL = re.compile(r'level=fatal msg="(?P<msg>(?:[^"\\]|\\.)*)"')
_LIMITED = re.compile(r"toomanyrequests|too many requests|\b429\b", re.IGNORECASE)


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
    """What happened to one tag (or, with tag "-", to a whole source). `digest` is what
    ECR holds (or would hold) under the tag, `source_digest` what the source had."""

    source: str
    tag: str
    destination: str
    result: str
    digest: str = ""
    reason: str = ""
    source_digest: str = ""


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


def rate_limited(reason: str) -> bool:
    """Whether skopeo failed because the source's pull limit was reached (429)."""
    return _LIMITED.search(reason) is not None


class Skopeo:
    """skopeo, signed in: with `logins`, each run is handed the logins it needs (source
    and destination) in an auth file in memory; otherwise the destination through our
    helper (`dest_authfile`). The copies in flight can be stopped from another thread
    (`stop_all`)."""

    def __init__(
        self,
        executable: str,
        environ: Mapping[str, str],
        dest_authfile: str | None,
        src_authfile: str | None = None,
        *,
        logins: Callable[[str], Login | None] | None = None,
    ) -> None:
        self.executable = executable
        self.environ = dict(environ)
        self.dest_authfile = dest_authfile
        # When the source is ECR too (promote): its sign-in through our helper as well.
        self.src_authfile = src_authfile
        # migrate: the login for a host (None: skopeo's own lookup for it).
        self.logins = logins
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[bytes]] = set()
        self._stopped = False

    def stop_all(self) -> None:
        """End every skopeo in flight (SIGTERM) and start no more."""
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for process in running:
            with contextlib.suppress(OSError):
                process.terminate()

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

    def copy(
        self,
        source: str,
        dest: str,
        *,
        source_host: str | None = None,
        dest_host: str | None = None,
    ) -> str:
        """Copy `source` to `dest` (both `host/path:tag` or `@digest`), every image of an
        index; return the digest written. With `logins`, the logins of `source_host` and
        `dest_host` go with it."""
        found = self._logins_for(source_host, dest_host)
        with (
            tempfile.TemporaryDirectory(prefix="ecr-sso-") as folder,
            memory_authfile(found, folder) as (authfile, fds),
        ):
            src_auth = authfile if source_host in found else self.src_authfile
            dest_auth = authfile if dest_host in found else self.dest_authfile
            digest_file = os.path.join(folder, "digest")
            self._run(
                [
                    "copy",
                    "--all",
                    "--preserve-digests",
                    "--digestfile",
                    digest_file,
                    *(["--dest-authfile", dest_auth] if dest_auth else []),
                    *(["--src-authfile", src_auth] if src_auth else []),
                    f"docker://{source}",
                    f"docker://{dest}",
                ],
                fds,
            )
            try:
                with open(digest_file, encoding="ascii") as handle:
                    return handle.read().strip()
            except OSError:
                return ""

    def _logins_for(self, *hosts: str | None) -> dict[str, Login]:
        found: dict[str, Login] = {}
        if self.logins is None:
            return found
        for host in hosts:
            if host is None:
                continue
            try:
                login = self.logins(host)
            except errors.EcrSsoError as err:
                raise SkopeoFailed(str(err)) from None
            if login is not None:
                found[host] = login
        return found

    def _auth(self, dest: bool) -> list[str]:
        if dest:
            return ["--authfile", self.dest_authfile] if self.dest_authfile else []
        return ["--authfile", self.src_authfile] if self.src_authfile else []

    def _run(self, argv: list[str], fds: tuple[int, ...] = ()) -> bytes:
        command = [self.executable, argv[0], "--retry-times", RETRY_TIMES, *argv[1:]]
        log.debug("running %s", " ".join(command))
        with self._lock:
            if self._stopped:
                raise SkopeoFailed("stopped before it started")
            try:
                process = subprocess.Popen(
                    command,
                    env=self.environ,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    pass_fds=fds,
                )
            except OSError as err:
                raise SkopeoFailed(f"cannot run skopeo: {err.strerror}") from None
            self._running.add(process)
        try:
            stdout, stderr = process.communicate()
        finally:
            with self._lock:
                self._running.discard(process)
        if process.returncode != 0:
            reason = one_line(stderr.decode(errors="replace"))
            log.info("skopeo %s failed: %s", argv[0], reason)
            raise SkopeoFailed(reason or f"skopeo {argv[0]} exited with {process.returncode}")
        return stdout


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


@contextlib.contextmanager
def memory_authfile(
    logins: Mapping[str, Login], folder: str
) -> Iterator[tuple[str, tuple[int, ...]]]:
    """`logins` as an auth file for one skopeo run, and the descriptors to pass it: a
    memfd on Linux (it exists in memory only, and dies with the processes however they
    end), named `/dev/fd/N`; elsewhere a file in `folder` (private, the caller's to
    remove). ("", ()) when there is no login to hand over."""
    if not logins:
        yield "", ()
        return
    auths = {
        host: {"auth": base64.b64encode(f"{login.username}:{login.token}".encode()).decode()}
        for host, login in logins.items()
    }
    data = json.dumps({"auths": auths}).encode()
    memfd = getattr(os, "memfd_create", None)
    if memfd is None or not os.path.isdir("/dev/fd"):
        path = os.path.join(folder, "auth.json")
        atomic.write_bytes(path, data, mode=0o600)
        yield path, ()
        return
    fd = memfd("ecr-sso-auth", getattr(os, "MFD_CLOEXEC", 0))
    try:
        os.write(fd, data)
        yield f"/dev/fd/{fd}", (fd,)
    finally:
        os.close(fd)


#: EX_TEMPFAIL: try again later. What a stop at Docker Hub's pull limit exits with.
EXIT_LATER = 75


class LimitReached(errors.EcrSsoError):
    """The source's pull limit stopped the run, and waiting was not asked for; the
    journal holds what is done, `migrate --resume` does the rest."""

    exit_code = EXIT_LATER


class Interrupted(errors.EcrSsoError):
    """Ctrl-C or SIGTERM ended the run; the copies in flight were stopped."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code

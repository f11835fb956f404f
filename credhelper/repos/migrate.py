"""`migrate`'s parts: the SOURCE arguments, and skopeo, the copier.

skopeo does the copying (`skopeo copy --all --preserve-digests`): it keeps multi-arch
indexes whole and fails rather than change a digest. Credentials:
- source: the login migrate found for the source registry (Docker's config: `credHelpers`,
  `credsStore`, `auths`), handed to skopeo in an auth file that exists in memory only (a
  memfd on Linux; elsewhere a private file removed at the end), so the copies pull as the
  same account whose allowance the plan read; without one, skopeo's own lookup;
- destination: our credential helper, always. skopeo gets a private auth file whose only
  entry is `"credHelpers": {"<registry host>": "ecr-sso"}`, so it runs
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
from collections.abc import Iterator, Mapping, Sequence
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
WOULD_COPY = "would copy"

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
    """skopeo, with every destination call signed in through our helper. The copies in
    flight can be stopped from another thread (`stop_all`)."""

    def __init__(
        self,
        executable: str,
        environ: Mapping[str, str],
        dest_authfile: str,
        src_authfile: str | None = None,
        *,
        source_auth: SourceAuth | None = None,
    ) -> None:
        self.executable = executable
        self.environ = dict(environ)
        self.dest_authfile = dest_authfile
        # When the source is ECR too (promote): its sign-in through our helper as well.
        self.src_authfile = src_authfile
        # migrate: the logins found for source registries, by host.
        self.source_auth = source_auth
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

    def copy(self, source: str, dest: str, *, source_host: str | None = None) -> str:
        """Copy `source` to `dest` (both `host/path:tag` or `@digest`), every image of an
        index; return the digest written. With `source_host`, the login found for it."""
        src_auth = self.src_authfile
        fds: tuple[int, ...] = ()
        if source_host is not None and self.source_auth is not None:
            found = self.source_auth.path_for(source_host)
            if found is not None:
                src_auth, fds = found
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

    def _auth(self, dest: bool) -> list[str]:
        if dest:
            return ["--authfile", self.dest_authfile]
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


class SourceAuth:
    """The logins found for source registries, as one auth file skopeo can read: a memfd
    (Linux: it exists in memory only, and dies with the process however it ends) passed
    to each skopeo as `/dev/fd/N`; elsewhere a private file, removed by `close`. Each host
    in the file gets only its own login; a host without one is not in it (skopeo then
    keeps its own lookup)."""

    def __init__(self, logins: Mapping[str, Login]) -> None:
        self.hosts = frozenset(logins)
        auths = {
            host: {"auth": base64.b64encode(f"{login.username}:{login.token}".encode()).decode()}
            for host, login in logins.items()
        }
        data = json.dumps({"auths": auths}).encode()
        self._fd: int | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._path = ""
        if not logins:
            return
        memfd = getattr(os, "memfd_create", None)
        if memfd is not None and os.path.isdir("/dev/fd"):
            self._fd = memfd("ecr-sso-source-auth", getattr(os, "MFD_CLOEXEC", 0))
            os.write(self._fd, data)
            self._path = f"/dev/fd/{self._fd}"
        else:
            self._folder = tempfile.TemporaryDirectory(prefix="ecr-sso-auth-")
            self._path = os.path.join(self._folder.name, "auth.json")
            atomic.write_bytes(self._path, data, mode=0o600)

    def path_for(self, host: str) -> tuple[str, tuple[int, ...]] | None:
        """The auth file and the descriptors to pass, when `host` has a login."""
        if host not in self.hosts:
            return None
        return self._path, (() if self._fd is None else (self._fd,))

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __enter__(self) -> SourceAuth:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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

"""Real clients and a real registry for tests: skopeo, Debian's docker-registry, dockerd.

These fixtures drive the same programs a user runs, on this machine only: the registry
listens on 127.0.0.1, dockerd on a unix socket under the test's temporary directory, and
every image is written by hand as an OCI layout, so nothing here needs the network.

A test that uses them must be marked ``pytest.mark.real_client`` (the fixtures check it),
so that ``pytest -m "not real_client"`` is a reliable fast run. When a tool is missing the
test is skipped on a developer's machine and fails under CI, which must run them all.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import http.client
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "Dockerd",
    "Registry",
    "RegistryFactory",
    "dockerd",
    "make_oci_index_layout",
    "make_oci_layout",
    "registry_factory",
    "require_tool",
    "run_tool",
    "write_docker_auths",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"

# How long a server may take to answer its readiness check; generous for a cold CI machine.
STARTUP_DEADLINE_S = 30.0
STOP_TIMEOUT_S = 20.0


# --- tools -------------------------------------------------------------------------------


# Read once, when the tests start: each test's environment has CI removed (conftest's
# `env`), so that the product behaves alike on a developer's machine and in CI.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason: str) -> None:
    """Skip on a developer's machine; fail under CI, where every real-client test must run."""
    if IN_CI:
        pytest.fail(f"{reason} (CI is set, so real-client tests must run)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """Return the path of executable ``name``; skip the test if missing (fail under CI)."""
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} not found on PATH (bash tests/run installs it as root)")
    assert path is not None
    return path


def _require_marker(request: pytest.FixtureRequest) -> None:
    # Applying the marker from a fixture would be too late for `-m` selection, so insist
    # that the test carries it itself.
    if request.node.get_closest_marker("real_client") is None:
        pytest.fail(
            f"{request.node.nodeid} uses a real-client fixture: mark it pytest.mark.real_client",
            pytrace=False,
        )


def _redact(text: str, hidden: Iterable[str]) -> str:
    for secret in hidden:
        if secret:
            text = text.replace(secret, "***")
    return text


def run_tool(
    argv: list[str],
    *,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
    timeout: float = 120.0,
    hidden: Iterable[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing text output; on failure (when ``check``), fail the test.

    The failure message shows argv, exit code, stdout and stderr with every string in
    ``hidden`` replaced by ``***``, so a password never reaches a test report.
    """
    proc = subprocess.run(
        argv,
        env=dict(env) if env is not None else None,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        hidden = list(hidden)
        pytest.fail(
            _redact(
                f"command failed with exit {proc.returncode}: {argv!r}\n"
                f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
                hidden,
            ),
            pytrace=False,
        )
    return proc


def _stop(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    """Terminate a process we started in its own session; kill its group if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # Our process started its own session, so its group id is its pid: this ends only
        # what it spawned (dockerd's containerd), nothing else.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def _log_tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return text[-limit:]


def _wait_until(
    ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str, log: Path
) -> bool:
    """Poll ``ready`` until it holds (True) or the process exits (False).

    Past the startup deadline the process is stopped and the test fails, showing its log.
    """
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while proc.poll() is None:
        if ready():
            return True
        if time.monotonic() > deadline:
            _stop(proc)
            pytest.fail(
                f"{what} not ready after {STARTUP_DEADLINE_S:.0f}s; its log:\n{_log_tail(log)}",
                pytrace=False,
            )
        time.sleep(0.05)  # a polling interval, not synchronisation
    return False


def _exited_early(proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    pytest.fail(
        f"{what} exited with {proc.returncode} before it was ready; its log:\n{_log_tail(log)}",
        pytrace=False,
    )


# --- OCI image layouts, written by hand -----------------------------------------------------


def _write_blob(layout: Path, data: bytes, media_type: str) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / digest).write_bytes(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _layer_tar(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            data = files[name]
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _write_image(layout: Path, files: Mapping[str, bytes], arch: str) -> dict[str, Any]:
    """Write one single-layer image's blobs; return its manifest's descriptor."""
    tar = _layer_tar(files)
    layer = _write_blob(layout, gzip.compress(tar, mtime=0), OCI_LAYER_GZIP)
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
    }
    config_desc = _write_blob(layout, _json_bytes(config), OCI_CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc,
        "layers": [layer],
    }
    return _write_blob(layout, _json_bytes(manifest), OCI_MANIFEST)


def _tag_layout(layout: Path, tag: str, descriptor: dict[str, Any]) -> None:
    """Point ``tag`` in the layout's index.json at ``descriptor`` (other tags are kept)."""
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    index_path = layout / "index.json"
    index: dict[str, Any] = {"schemaVersion": 2, "manifests": []}
    if index_path.exists():
        index = json.loads(index_path.read_text())
    kept = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) != tag]
    kept.append({**descriptor, "annotations": {REF_NAME: tag}})
    index["manifests"] = kept
    index_path.write_text(json.dumps(index, indent=1))


def make_oci_layout(dest: Path, tag: str, files: Mapping[str, bytes], arch: str = "amd64") -> Path:
    """Write a one-layer linux/``arch`` image tagged ``tag`` into OCI layout ``dest``.

    ``files`` maps paths inside the image to their contents. No network, deterministic
    digests (same input, same image). Returns ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    _tag_layout(dest, tag, _write_image(dest, files, arch))
    return dest


def make_oci_index_layout(
    dest: Path, tag: str, arches: Iterable[str] = ("amd64", "arm64"), *, note: bytes = b""
) -> Path:
    """Write a multi-arch image index tagged ``tag``: one small linux image per arch.

    Each image holds ``/arch.txt`` with its arch name (and ``note``, so that indexes can
    differ too), so the images differ. Returns ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    entries = []
    for arch in arches:
        desc = _write_image(dest, {"arch.txt": f"{arch}\n".encode() + note}, arch)
        entries.append({**desc, "platform": {"architecture": arch, "os": "linux"}})
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    _tag_layout(dest, tag, _write_blob(dest, _json_bytes(index), OCI_INDEX))
    return dest


def _layout_entry(layout: Path, tag: str | None) -> dict[str, Any]:
    manifests = json.loads((layout / "index.json").read_text())["manifests"]
    if tag is None:
        if len(manifests) != 1:
            raise ValueError(f"{layout} holds {len(manifests)} images: name the source tag")
        return dict(manifests[0])
    for entry in manifests:
        if entry.get("annotations", {}).get(REF_NAME) == tag:
            return dict(entry)
    raise ValueError(f"{layout} has no tag {tag!r}")


def write_docker_auths(config_dir: Path, creds: Mapping[str, tuple[str, str]]) -> Path:
    """Write ``config_dir/config.json`` with a plain ``auths`` entry per host; return it."""
    config_dir.mkdir(parents=True, exist_ok=True)
    auths = {
        host: {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}
        for host, (user, password) in creds.items()
    }
    path = config_dir / "config.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"auths": auths}, fh)
    return path


def write_insecure_registries(conf: Path, hosts: Iterable[str]) -> Path:
    """Write a containers `registries.conf` at `conf` that lets skopeo and podman talk plain
    HTTP to `hosts` (the local registries); return it."""
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(
        "".join(f'[[registry]]\nlocation = "{host}"\ninsecure = true\n' for host in hosts)
    )
    return conf


def user_registries_conf(home: Path) -> Path:
    """Where skopeo and podman look for a user's `registries.conf` under `home`."""
    return home / ".config" / "containers" / "registries.conf"


# --- a real registry ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Registry:
    """A running docker-registry 2.8 on 127.0.0.1, optionally behind htpasswd basic auth."""

    host: str  # "127.0.0.1:PORT", as Docker and skopeo name it
    username: str | None
    password: str | None = field(repr=False)
    root: Path
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)
    _skopeo_home: Path = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def ref(self, name: str) -> str:
        """``name:tag`` (or ``name@digest``) in this registry: ``127.0.0.1:PORT/name:tag``."""
        return f"{self.host}/{name}"

    def log(self) -> str:
        return _log_tail(self.log_path, limit=1 << 20)

    def skopeo_env(self) -> dict[str, str]:
        """An environment in which skopeo sees no auth file, helper or user config."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "XDG_"))}
        env.pop("DOCKER_CONFIG", None)
        home = self._skopeo_home
        env.update(HOME=str(home), DOCKER_CONFIG=str(home / "docker"))
        return env

    def push(
        self,
        layout: Path,
        name_tag: str,
        *,
        src_tag: str | None = None,
        all_images: bool | None = None,
    ) -> None:
        """Copy image ``src_tag`` of OCI ``layout`` to ``name_tag`` here, with skopeo.

        ``src_tag`` may be left out when the layout holds one image. ``all_images`` (skopeo
        ``--all``) defaults to true exactly when the source is an image index. The
        credentials go through an auth file, not argv, and skopeo reads nothing of the
        test's own Docker config, so seeding never calls a credential helper.
        """
        entry = _layout_entry(layout, src_tag)
        tag = entry["annotations"][REF_NAME]
        if all_images is None:
            all_images = entry.get("mediaType") == OCI_INDEX
        argv = [
            require_tool("skopeo"),
            "--policy",
            str(self._skopeo_home / "policy.json"),
            "copy",
            "--dest-tls-verify=false",
        ]
        if self.username is not None and self.password is not None:
            argv += ["--dest-authfile", str(self._skopeo_home / "auth.json")]
        if all_images:
            argv.append("--all")
        argv += [f"oci:{layout}:{tag}", f"docker://{self.ref(name_tag)}"]
        run_tool(argv, env=self.skopeo_env(), hidden=[self.password or ""])

    def store(self, layout: Path, name_tag: str, *, src_tag: str | None = None) -> str:
        """Put image ``src_tag`` of OCI ``layout`` (every image of an index) at ``name_tag``
        by writing the registry's own filesystem storage, which it serves as is: no skopeo,
        no HTTP, so a benchmark can seed hundreds of images in seconds. ``push`` stays the
        way tests put what they then check (a real client's upload). Returns the digest.

        The layout is docker-registry 2.x's (registry/storage/paths.go): blobs under
        ``blobs/sha256/<2 hex>/<hex>/data``, and per repository a ``link`` file holding the
        digest for each layer and config (``_layers``), each manifest (``_manifests/
        revisions``) and the tag (``_manifests/tags/<tag>/current`` and its ``index``).
        With no blob descriptor cache configured (``RegistryFactory`` sets none), a running
        registry sees the files at once.
        """
        entry = _layout_entry(layout, src_tag)
        name, _, tag = name_tag.rpartition(":")
        v2 = self.root / "storage" / "docker" / "registry" / "v2"
        repo = v2 / "repositories" / name

        def link(folder: Path, digest: str) -> None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "link").write_text(digest)

        def blob(digest: str) -> bytes:
            hexa = digest.split(":", 1)[1]
            data = (layout / "blobs" / "sha256" / hexa).read_bytes()
            target = v2 / "blobs" / "sha256" / hexa[:2] / hexa
            target.mkdir(parents=True, exist_ok=True)
            (target / "data").write_bytes(data)
            return data

        def manifest(digest: str) -> None:
            document = json.loads(blob(digest))
            link(repo / "_manifests" / "revisions" / "sha256" / digest.split(":", 1)[1], digest)
            for child in document.get("manifests", []):
                manifest(child["digest"])
            for part in [document.get("config"), *document.get("layers", [])]:
                if part:
                    blob(part["digest"])
                    link(
                        repo / "_layers" / "sha256" / part["digest"].split(":", 1)[1],
                        part["digest"],
                    )

        digest = str(entry["digest"])
        manifest(digest)
        tags = repo / "_manifests" / "tags" / tag
        link(tags / "index" / "sha256" / digest.split(":", 1)[1], digest)
        link(tags / "current", digest)
        return digest

    def answers(self) -> bool:
        """Whether ``GET /v2/`` answers as it should: 401 with auth, else 200."""
        try:
            with urllib.request.urlopen(f"{self.url}/v2/", timeout=2) as resp:
                return bool(resp.status == 200)
        except urllib.error.HTTPError as exc:
            return exc.code == 401 and self.username is not None
        except OSError:
            return False

    def stop(self) -> None:
        _stop(self.process)


class RegistryFactory:
    """Starts registries on demand (each call a new one) and stops them all at teardown."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._started: list[Registry] = []

    def __call__(
        self, username: str = "AWS", password: str | None = None, *, auth: bool = True
    ) -> Registry:
        """Start a registry; with ``auth``, one htpasswd user (random password if None)."""
        binary = require_tool("docker-registry")
        root = Path(tempfile.mkdtemp(prefix="registry", dir=self._base))
        user: str | None = None
        pw: str | None = None
        htpasswd_path = root / "htpasswd"
        if auth:
            user, pw = username, password if password is not None else secrets.token_urlsafe(18)
            # -i reads the password from stdin, so it stays out of any process listing.
            run_tool(
                [require_tool("htpasswd"), "-iBc", str(htpasswd_path), user],
                input=pw,
                hidden=[pw],
            )
        skopeo_home = root / "skopeo-home"
        (skopeo_home / "docker").mkdir(parents=True)
        (skopeo_home / "policy.json").write_text(
            json.dumps({"default": [{"type": "insecureAcceptAnything"}]})
        )
        # Attempts, because a free port can be taken between choosing and binding it.
        for attempt in range(3):
            port = _free_port()
            host = f"127.0.0.1:{port}"
            if user is not None and pw is not None:
                token = base64.b64encode(f"{user}:{pw}".encode()).decode()
                auth_json = {"auths": {host: {"auth": token}}}
                fd = os.open(
                    skopeo_home / "auth.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600
                )
                with os.fdopen(fd, "w") as fh:
                    json.dump(auth_json, fh)
            config: dict[str, Any] = {
                "version": 0.1,
                "log": {"level": "info", "formatter": "text", "accesslog": {"disabled": False}},
                "storage": {
                    "filesystem": {"rootdirectory": str(root / "storage")},
                    "delete": {"enabled": True},
                },
                "http": {"addr": host, "secret": secrets.token_hex(16)},
            }
            if auth:
                config["auth"] = {"htpasswd": {"realm": "ecr-sso-test", "path": str(htpasswd_path)}}
            config_path = root / "config.yml"  # YAML is a superset of JSON
            config_path.write_text(json.dumps(config, indent=1))
            log_path = root / f"registry.{attempt}.log"
            env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [binary, "serve", str(config_path)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            registry = Registry(host, user, pw, root, log_path, proc, skopeo_home)
            self._started.append(registry)
            what = f"docker-registry on {host}"
            if _wait_until(registry.answers, proc, what, log_path):
                return registry
            if "address already in use" not in registry.log():
                _exited_early(proc, what, log_path)
        pytest.fail("docker-registry could not bind a free port three times", pytrace=False)
        raise AssertionError  # unreachable: pytest.fail raises

    def stop_all(self) -> None:
        for registry in reversed(self._started):
            registry.stop()


@pytest.fixture
def registry_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RegistryFactory]:
    """``registry_factory(username="AWS", password=None, *, auth=True) -> Registry``.

    Each call starts one more registry on a free 127.0.0.1 port with storage, config,
    htpasswd file and log in a fresh temporary directory; all stop at the test's end.
    """
    _require_marker(request)
    require_tool("docker-registry")
    factory = RegistryFactory(tmp_path_factory.mktemp("registries"))
    try:
        yield factory
    finally:
        factory.stop_all()


# --- a real dockerd ---------------------------------------------------------------------------


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._socket_path)
        self.sock = sock


def _ping(socket_path: Path) -> bool:
    conn = _UnixHTTPConnection(str(socket_path), timeout=2.0)
    try:
        conn.request("GET", "/_ping")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@dataclass
class Dockerd:
    """A running Debian dockerd on a private unix socket, with its own state dirs."""

    host: str  # "unix:///…/docker.sock", for DOCKER_HOST
    root: Path
    log_path: Path
    client_config: Path  # DOCKER_CONFIG used when the caller's environment names none
    docker_bin: str
    process: subprocess.Popen[bytes] = field(repr=False)

    def env(self, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """``env`` (default: os.environ) aimed at this daemon, with a private DOCKER_CONFIG."""
        out = dict(os.environ if env is None else env)
        out.pop("DOCKER_CONTEXT", None)
        out.pop("DOCKER_TLS_VERIFY", None)
        out.pop("DOCKER_CERT_PATH", None)
        out["DOCKER_HOST"] = self.host
        out.setdefault("DOCKER_CONFIG", str(self.client_config))
        return out

    def docker(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        input: str | None = None,
        check: bool = True,
        timeout: float = 120.0,
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``docker`` CLI against this daemon; output captured as text.

        ``env`` is the whole environment (as for subprocess), default os.environ; it gets
        DOCKER_HOST set, and DOCKER_CONFIG only if it names none, so the CLI never reads a
        real ~/.docker. With ``check`` a non-zero exit fails the test, showing the output.
        """
        return run_tool(
            [self.docker_bin, *args],
            env=self.env(env),
            input=input,
            check=check,
            timeout=timeout,
        )


def _short_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bool]:
    """A directory for dockerd's sockets: unix socket paths must stay under 108 bytes.

    containerd puts ``containerd/containerd.sock.ttrpc`` under the exec root, so keep the
    base short; fall back to a fresh /tmp directory (removed at teardown) when it is not.
    """
    base = tmp_path_factory.mktemp("dockerd")
    if len(str(base)) <= 50:
        return base, False
    return Path(tempfile.mkdtemp(prefix="dkd", dir="/tmp")), True


def start_dockerd(base: Path) -> Dockerd:
    """Start a private dockerd with its sockets and data under `base` (keep it short:
    unix socket paths must stay under 108 bytes); stop it with `stop_dockerd`."""
    binary = require_tool("dockerd")
    docker_bin = require_tool("docker")
    if sys.platform != "linux" or os.geteuid() != 0:
        skip_or_fail("dockerd needs root on Linux")
    sock = base / "docker.sock"
    daemon_json = base / "daemon.json"
    daemon_json.write_text("{}")  # never read a machine's /etc/docker/daemon.json
    home = base / "home"
    client_config = base / "client-config"
    home.mkdir()
    client_config.mkdir()
    log_path = base / "dockerd.log"
    argv = [
        binary,
        "--config-file",
        str(daemon_json),
        "--iptables=false",
        "--ip-masq=false",
        "--bridge=none",
        "--storage-driver=vfs",
        "--data-root",
        str(base / "data"),
        "--exec-root",
        str(base / "x"),
        "--pidfile",
        str(base / "dockerd.pid"),
        "-H",
        f"unix://{sock}",
    ]
    # Started before any test's own environment isolation, so give it a private one.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "XDG_"))}
    env["HOME"] = str(home)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    daemon = Dockerd(f"unix://{sock}", base, log_path, client_config, docker_bin, proc)
    if not _wait_until(lambda: _ping(sock), proc, "dockerd", log_path):
        _stop(proc)
        _exited_early(proc, "dockerd", log_path)
    return daemon


def stop_dockerd(daemon: Dockerd) -> None:
    """Stop a dockerd from `start_dockerd`."""
    _stop(daemon.process)


@pytest.fixture(scope="session")
def dockerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dockerd]:
    """The session's dockerd, started on first use: ``.host``, ``.docker(*args, env=...)``.

    Images pulled by one test stay for the next: give repositories names unique per test.
    """
    base, remove_base = _short_base(tmp_path_factory)
    try:
        daemon = start_dockerd(base)
        try:
            yield daemon
        finally:
            stop_dockerd(daemon)
    finally:
        if remove_base:
            shutil.rmtree(base, ignore_errors=True)

"""Benchmark of `ecr-sso migrate --org` against `skopeo sync`, measured in the same run.

Both copy the same Docker Hub stand-in organisation (tests/fakehub.py: a docker-registry
behind the token dance and the pull limit, its manifest GETs counted) into two empty,
identical docker-registry destinations, then run again with nothing new:

- `ecr-sso migrate` into "ECR" (an alias in our config, signed in through our credential
  helper with an SSO profile from the fake AWS, its token cached before the timed runs as
  after a first `docker pull`, since sync's password is in its auth file; moto's ECR API
  for the repositories, which migrate creates);
- `skopeo sync --all --preserve-digests` (one process, a YAML source naming every
  repository) into the other.

Fixtures: 4 repositories x 6 multi-arch tags (the issue's), and 20 x 10. Printed: wall
times, the ratio first-run migrate / sync (target <= 0.5x), and the source manifest GETs
of each run (target for migrate's re-run: 0).

Each fixture is measured in `--rounds` rounds (default 3), each from scratch (new
registries, stand-in and ECR), migrate first in one round and sync first in the next; the
ratio is taken within each round, and the median printed, beside each round's.

Run: `.venv/bin/python bench/migrate_bench.py [--sizes 4x6,20x10] [--jobs 4] [--rounds 3]`. Needs
skopeo and docker-registry (Debian packages); no network, no AWS account.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import SSO, Env, home_locations
from fakeaws import FakeAWS
from fakehub import FakeHub
from realclients import (
    Registry,
    RegistryFactory,
    make_oci_index_layout,
    user_registries_conf,
    write_docker_auths,
    write_insecure_registries,
)

BIN = Path(sys.executable).parent
ACCOUNT = "111111111111"
REGION = "eu-west-1"
ORG = "benchorg"


def environ_for(home: Path, fake: FakeAWS, ecr: str, hub: FakeHub) -> tuple[Env, dict[str, str]]:
    env = Env.under(home)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ECR_SSO_"))}
    environ.update(
        home_locations(home),
        XDG_RUNTIME_DIR=str(home / "run"),
        AWS_EC2_METADATA_DISABLED="true",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        AWS_ENDPOINT_URL_SSO=fake.url,
        AWS_ENDPOINT_URL_SSO_OIDC=fake.url,
        AWS_ENDPOINT_URL_ECR=ecr,
        ECR_SSO_DOCKERHUB_API_URL=hub.api_url,
        ECR_SSO_DOCKERHUB_REGISTRY_URL=hub.registry_url,
    )
    (home / "run").mkdir(mode=0o700, parents=True)
    return env, environ


class _Router(ThreadingHTTPServer):
    """ECR's endpoint for the run: GetAuthorizationToken from the fake AWS (its tokens
    are valid for hours, so the helper caches them as it would ECR's), everything else
    (the repository API) from moto, whose tokens are born expired."""

    block_on_close = False
    daemon_threads = True

    def __init__(self, fake: str, moto: str) -> None:
        super().__init__(("127.0.0.1", 0), _RouterHandler)
        self.fake = urlsplit(fake)
        self.moto = urlsplit(moto)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _RouterHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Router

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = self.headers.get("X-Amz-Target", "").endswith(".GetAuthorizationToken")
        upstream = self.server.fake if token else self.server.moto
        connection = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=60)
        hop = {"host", "content-length", "connection", "transfer-encoding"}
        sent = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        connection.request("POST", self.path, body=body, headers=sent)
        reply = connection.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for name, value in reply.getheaders():
            if name.lower() not in hop:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        connection.close()

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


def timed(argv: list[str], environ: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=environ, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{argv[0]} {argv[1]} failed:\n{done.stdout.decode()}{done.stderr.decode()}"
        )
    return elapsed


def sign_in(host: str, environ: dict[str, str]) -> None:
    """Both tools start signed in to "ECR": sync holds its password in its auth file;
    migrate's helper gets a token cached, as after a user's first `docker pull`."""
    signed_in = subprocess.run(
        [str(BIN / "docker-credential-ecr-sso"), "get"],
        input=host.encode(),
        env=environ,
        capture_output=True,
        check=False,
    )
    if signed_in.returncode != 0:
        raise SystemExit(f"the helper could not sign in: {signed_in.stdout.decode()}")


def seed(backend: Registry, base: Path, repos: int, tags: int) -> None:
    """The organisation's images, written into the stand-in registry's storage."""
    started = time.perf_counter()
    for r in range(repos):
        for t in range(tags):
            layout = make_oci_index_layout(
                base / f"img-{r}-{t}", f"1.{t}", note=f"{r}/{t}\n".encode()
            )
            backend.store(layout, f"{ORG}/repo{r}:1.{t}")
    print(
        f"{repos}x{tags}: {repos * tags} multi-arch images written into the stand-in's"
        f" storage in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def bench(size: str, jobs: int, base: Path, *, sync_first: bool) -> dict[str, float]:
    repos, tags = (int(n) for n in size.split("x"))
    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    registries = RegistryFactory(base)
    password = secrets.token_urlsafe(12)
    ecr_password = FakeAWS.password(ACCOUNT, "Developer")
    try:
        backend = registries(auth=False)
        dest_migrate = registries(username="AWS", password=ecr_password)
        dest_sync = registries(username="AWS", password=ecr_password)
        hub = FakeHub(
            backend.host, username="hub", password=password, allowance=100_000, api_page_size=100
        ).start()
        with FakeAWS() as fake:
            router = _Router(fake.url, f"http://{host}:{port}")
            threading.Thread(target=router.serve_forever, daemon=True).start()
            env, environ = environ_for(base / "home", fake, router.url, hub)
            env.home.mkdir(exist_ok=True)
            SSO(env, fake).login()
            write_docker_auths(
                env.docker_config_dir, {"https://index.docker.io/v1/": ("hub", password)}
            )
            env.write_config(
                f'dockerhub_org = "{ORG}"\ndefault_profile = "dev"\n'
                f'[aliases."{dest_migrate.host}"]\naccount = "{ACCOUNT}"\nregion = "{REGION}"\n'
                'profile = "dev"\n'
            )
            sign_in(dest_migrate.host, environ)
            write_insecure_registries(
                user_registries_conf(env.home),
                (hub.registry_host, dest_migrate.host, dest_sync.host),
            )
            seed(backend, base, repos, tags)
            sync_yaml = base / "sync.yaml"
            sync_yaml.write_text(
                json.dumps(
                    {
                        hub.registry_host: {
                            "images": {f"{ORG}/repo{r}": [] for r in range(repos)},
                            "credentials": {"username": "hub", "password": password},
                            "tls-verify": False,
                        }
                    }
                )
            )
            sync_auth = base / "sync-auth.json"
            write_docker_auths(
                sync_auth.parent / "sync-docker", {dest_sync.host: ("AWS", ecr_password)}
            )
            policy = base / "policy.json"
            policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
            migrate = [
                str(BIN / "ecr-sso"),
                "migrate",
                "--registry",
                dest_migrate.host,
                "--jobs",
                str(jobs),
            ]
            sync = [
                "skopeo",
                "--policy",
                str(policy),
                "sync",
                "--all",
                "--preserve-digests",
                "--src",
                "yaml",
                "--dest",
                "docker",
                "--dest-tls-verify=false",
                "--dest-authfile",
                str(sync_auth.parent / "sync-docker" / "config.json"),
                str(sync_yaml),
                f"{dest_sync.host}/{ORG}",
            ]
            figures: dict[str, float] = {}
            runs = [("migrate first", migrate), ("sync first", sync)]
            agains = [("migrate again", migrate), ("sync again", sync)]
            if sync_first:  # every other round, so a drift in load favours neither
                runs.reverse()
                agains.reverse()
            for name, argv in runs + agains:
                hub.reset_counts()
                figures[name] = timed(argv, environ)
                figures[name + " GETs"] = hub.gets()
            router.shutdown()
        hub.stop()
    finally:
        registries.stop_all()
        moto.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="4x6,20x10", help="REPOSxTAGS, comma-separated")
    parser.add_argument("--jobs", type=int, default=4, help="migrate --jobs")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds per fixture, each from scratch (median)"
    )
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results: dict[str, list[dict[str, float]]] = {}
    for size in args.sizes.split(","):
        for number in range(args.rounds):
            with tempfile.TemporaryDirectory(prefix="migrate-bench-") as tmp:
                found = bench(size, args.jobs, Path(tmp), sync_first=number % 2 == 1)
            results.setdefault(size, []).append(found)
            ratio = found["migrate first"] / found["sync first"]
            print(f"{size} round {number + 1}: first run {ratio:.2f}x", flush=True)
    print()
    print(
        f"median of {args.rounds} round(s), each ratio taken within its round; load average"
        f" {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    head = f"{'fixture':<8} {'run':<7} {'migrate':>9} {'sync':>9} {'ratio':>7}"
    print(f"{head}  {'GETs migrate/sync':>18}  ratios")
    for size, rounds in results.items():
        for run in ("first", "again"):
            m = statistics.median(f[f"migrate {run}"] for f in rounds)
            s = statistics.median(f[f"sync {run}"] for f in rounds)
            ratios = [f[f"migrate {run}"] / f[f"sync {run}"] for f in rounds]
            gets = (
                f"{max(f[f'migrate {run} GETs'] for f in rounds):.0f}"
                f" / {max(f[f'sync {run} GETs'] for f in rounds):.0f}"
            )
            each = " ".join(f"{r:.2f}" for r in ratios)
            print(
                f"{size:<8} {run:<7} {m:8.2f}s {s:8.2f}s {statistics.median(ratios):6.2f}x"
                f"  {gets:>18}  {each}"
            )
    print("targets: first run <= 0.5x skopeo sync's time; re-run 0 source manifest GETs")


if __name__ == "__main__":
    main()

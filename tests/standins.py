"""Run the test stand-ins as one long-lived process, for `install/demo.sh`.

    python tests/standins.py --dir DIR --account 642976147714 --role Administrator

starts the fake AWS (SSO portal, SSO-OIDC with its /authorize page, ECR, ECR Public), a
`docker-registry` standing in for the account's ECR registry (user `AWS`, the password the
fake hands that role), pushes a small image `demo/hello:1` to it, and — as root, where
Debian's dockerd is installed — a private dockerd. It then writes `DIR/env.sh` with the
variables that point clients at them and waits until it is terminated (SIGTERM, SIGINT,
or with --stop-on-eof its stdin closing), when it stops everything it started.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakeaws import FakeAWS
from fakeoidc import SignInAWS
from realclients import (
    Dockerd,
    RegistryFactory,
    make_oci_layout,
    start_dockerd,
    stop_dockerd,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="where to write env.sh")
    parser.add_argument("--account", required=True, help="the registry's account")
    parser.add_argument("--role", required=True, help="the role whose token opens it")
    parser.add_argument("--no-dockerd", action="store_true", help="do not start dockerd")
    parser.add_argument(
        "--stop-on-eof", action="store_true", help="also stop when standard input closes"
    )
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.stop_on_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    fake = SignInAWS().start()
    registries = RegistryFactory(args.dir)
    daemon: Dockerd | None = None
    dockerd_base: str | None = None
    try:
        registry = registries(username="AWS", password=FakeAWS.password(args.account, args.role))
        layout = make_oci_layout(args.dir / "image", "1", {"hello.txt": b"hello from ecr-sso\n"})
        registry.push(layout, "demo/hello:1")
        exports = {
            **{f"AWS_ENDPOINT_URL_{s}": fake.url for s in ("SSO", "SSO_OIDC", "ECR", "ECR_PUBLIC")},
            "DEMO_REGISTRY": registry.host,
        }
        if not args.no_dockerd and os.geteuid() == 0 and shutil.which("dockerd"):
            # Unix socket paths must stay short: a fresh folder in /tmp.
            dockerd_base = tempfile.mkdtemp(prefix="dkd", dir="/tmp")
            daemon = start_dockerd(Path(dockerd_base))
            exports["DOCKER_HOST"] = daemon.host
        env_file = args.dir / "env.sh"
        temp = env_file.with_suffix(".tmp")
        temp.write_text("".join(f"export {k}='{v}'\n" for k, v in exports.items()))
        temp.replace(env_file)  # the demo waits for this file: it appears whole
        stop.wait()
    finally:
        if daemon is not None:
            stop_dockerd(daemon)
        if dockerd_base is not None:
            shutil.rmtree(dockerd_base, ignore_errors=True)
        registries.stop_all()
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the test stand-ins as one long-lived process, for `install/demo.sh`.

    python tests/standins.py --dir DIR --registry dev=642976147714:Administrator \\
        --registry stage=998135273239:Administrator ...

starts:

- the fake AWS: the SSO portal, SSO-OIDC with its /authorize page, ECR's
  GetAuthorizationToken and its pull-through cache operations;
- moto (in server mode) for the rest of ECR (repositories, images) and Secrets Manager,
  behind a front that sends each ECR operation to the one that answers it;
- a `docker-registry` per `--registry NAME=ACCOUNT:ROLE`, standing in for that account's
  ECR registry (user `AWS`, the password the fake hands that role), plain HTTP, named
  insecure in `DIR/registries.conf` (for skopeo, podman and buildah, which read it as
  `~/.config/containers/registries.conf`); the first one holds a small image
  `demo/hello:1`, which moto's ECR lists too;
- as root, where Debian's dockerd is installed, a private dockerd.

It then writes `DIR/env.sh` with the variables that point clients at them and waits until
it is terminated (SIGTERM, SIGINT, SIGHUP, or with --stop-on-eof its stdin closing), when it
stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ecrbed import EcrFront
from fakeaws import FakeAWS
from fakeoidc import SignInAWS
from fakepullthrough import PullThroughFake
from realclients import (
    Dockerd,
    RegistryFactory,
    make_oci_layout,
    start_dockerd,
    stop_dockerd,
    write_insecure_registries,
)

IMAGE = "demo/hello"
TAG = "1"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, type=Path, help="where to write env.sh")
    parser.add_argument(
        "--registry",
        action="append",
        required=True,
        metavar="NAME=ACCOUNT:ROLE",
        help="a registry standing in for ACCOUNT's, opened by ROLE's token (repeatable)",
    )
    parser.add_argument("--no-dockerd", action="store_true", help="do not start dockerd")
    parser.add_argument(
        "--stop-on-eof", action="store_true", help="also stop when standard input closes"
    )
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    wanted = [_registry_arg(text) for text in args.registry]

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    if args.stop_on_eof:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

    from moto.server import ThreadedMotoServer

    fake = SignInAWS().start()
    pull_through = PullThroughFake(fake).install()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_url = "http://{}:{}".format(*moto.get_host_and_port())
    routes = dict.fromkeys((*pull_through.operations, "GetAuthorizationToken"), fake.url)
    front = EcrFront(moto_url, routes=routes, per_account=True).start()
    front.page_size = 100  # AWS's page; the front's small test page is for the tests
    registries = RegistryFactory(args.dir)
    daemon: Dockerd | None = None
    dockerd_base: str | None = None
    try:
        exports = {
            **{f"AWS_ENDPOINT_URL_{s}": fake.url for s in ("SSO", "SSO_OIDC", "ECR_PUBLIC")},
            "AWS_ENDPOINT_URL_ECR": front.url,
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_url,
        }
        made = []
        for name, account, role in wanted:
            made.append(registries(username="AWS", password=FakeAWS.password(account, role)))
            exports[f"DEMO_REGISTRY_{name.upper()}"] = made[-1].host
        hosts = [registry.host for registry in made]
        exports["DEMO_REGISTRY"] = hosts[0]
        layout = make_oci_layout(args.dir / "image", TAG, {"hello.txt": b"hello from ecr-sso\n"})
        made[0].push(layout, f"{IMAGE}:{TAG}")
        _list_in_ecr(front.url, wanted[0][1], layout)
        write_insecure_registries(args.dir / "registries.conf", hosts)
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
        front.stop()
        moto.stop()
        fake.stop()
    return 0


def _registry_arg(text: str) -> tuple[str, str, str]:
    name, _, rest = text.partition("=")
    account, _, role = rest.partition(":")
    if not (name and account and role):
        raise SystemExit(f"standins.py: --registry {text!r}: expected NAME=ACCOUNT:ROLE")
    return name, account, role


def _list_in_ecr(ecr_url: str, account: str, layout: Path) -> None:
    """The image pushed to the first registry, as ECR's API (moto, behind the front) lists
    it: the repository and the tag, with the same manifest."""
    import botocore.session

    client = botocore.session.Session().create_client(
        "ecr",
        region_name="eu-west-1",
        endpoint_url=ecr_url,
        aws_access_key_id="standins",
        aws_secret_access_key="standins",  # moto checks no signature
    )
    client.create_repository(registryId=account, repositoryName=IMAGE)
    (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
    blob = layout / "blobs" / "sha256" / entry["digest"].removeprefix("sha256:")
    client.put_image(
        registryId=account,
        repositoryName=IMAGE,
        imageManifest=blob.read_text(),
        imageManifestMediaType=entry["mediaType"],
        imageTag=TAG,
    )


if __name__ == "__main__":
    sys.exit(main())

"""The destination the rewrite's golden cases are written for, and where an image lands
there, worked out from imageref's two moves alone: an oracle for the tests that check the
planner's choice (not a copy of plan.py)."""

from __future__ import annotations

from credhelper.repos import imageref
from credhelper.repos.rewrite.plan import Destination

HOST = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
ORG = "connectedhome"
PULL_THROUGH = "docker-hub"
DEST = Destination(HOST, ORG, PULL_THROUGH)


def moved(image: str) -> str:
    """`image` as the rewrite moves it to DEST: a Docker Hub image of the team's
    organisation to its ECR repository, any other Docker Hub image through the
    pull-through cache; an image elsewhere stays as it is."""
    ref = imageref.parse(image)
    if not ref.docker_hub:
        return image
    if ref.repository.startswith(f"{ORG}/"):
        return imageref.to_ecr(ref, HOST, ORG)
    return imageref.to_pull_through(ref, HOST, PULL_THROUGH)

# syntax=111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/docker/dockerfile:1

ARG GO_VERSION
ARG MODOUTDATED_VERSION=v0.9.0

FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/golang:${GO_VERSION}-alpine AS base
RUN apk add --no-cache git rsync
WORKDIR /src

FROM base AS vendored
RUN --mount=target=/context \
    --mount=target=.,type=tmpfs  \
    --mount=target=/go/pkg/mod,type=cache <<EOT
  set -e
  rsync -a /context/. .
  go mod tidy
EOT

FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/psampaz/go-mod-outdated:${MODOUTDATED_VERSION} AS go-mod-outdated
FROM base AS outdated
RUN --mount=target=.,rw \
  --mount=from=go-mod-outdated,source=/home/go-mod-outdated,target=/usr/bin/go-mod-outdated \
  go list -mod=readonly -u -m -json all | go-mod-outdated -update -direct

# syntax=111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/docker/dockerfile:1
ARG GO_VERSION=1.23
FROM 111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/golang:${GO_VERSION}-alpine AS lint
COPY --from=golangci /usr/bin/golangci-lint /usr/bin/golangci-lint

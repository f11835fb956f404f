# syntax=docker/dockerfile:1
ARG GO_VERSION=1.23
FROM golang:${GO_VERSION}-alpine AS lint
COPY --from=golangci /usr/bin/golangci-lint /usr/bin/golangci-lint

# The base image's name and digest given apart, so a release job can pass either.
ARG FROM_IMAGE_NAME=111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/centos:7
ARG FROM_IMAGE_DIGEST=@sha256:be65f488b7764ad3638f236b7b515b3678369a5124c47b8d32916d6487418ea4
ARG FROM_IMAGE=$FROM_IMAGE_NAME$FROM_IMAGE_DIGEST
FROM $FROM_IMAGE
RUN yum install -y gcc

variable "GO_VERSION" {
  default = null
}
variable "IMAGE_TARGET" {
  default = ""
}

target "_common" {
  args = {
    GO_VERSION = GO_VERSION
    BUILDKIT_CONTEXT_KEEP_GIT_DIR = 1
  }
}

# Named build contexts: FROM and COPY --from use these names, not images.
target "binaries" {
  inherits = ["_common"]
  target = "binaries"
  contexts = {
    binary_dir = "./out/binaries/"
    "alpine" = "docker-image://111122223333.dkr.ecr.eu-west-1.amazonaws.com/docker-hub/library/alpine:3.20"   // the Dockerfile's FROM alpine, pinned here
  }
  output = ["./bin"]
}

target "integration-tests" {
  inherits = ["_common"]
  contexts = IMAGE_TARGET != "" ? {
    "binaries" = "target:binaries"
  } : null
}

target "image-local" {
  inherits = ["binaries"]
  tags = [IMAGE_TARGET != "" && IMAGE_TARGET != "rootless" ? "connectedhome/buildkitd:local-${IMAGE_TARGET}" : "connectedhome/buildkitd:local"]
}

target "vendor" {
  dockerfile = "./hack/dockerfiles/vendor.Dockerfile"
  /* a comment with "contexts = { not = "docker-image://busybox" }" inside */
  output = ["type=cacheonly"]
}

variable "RUNNER_IMAGES_REGISTRY" {
  default = "registry.gitlab.com/group/base-images"
}

variable "RUNNER_IMAGES_VERSION" {
  default = "0.0.48"
}

target "ubuntu" {
  contexts = {
    binary_dir = "../out/binaries/"
  }
  args = {
    # The Dockerfile's FROM $BASE_IMAGE: another registry, so nothing to do there.
    BASE_IMAGE = "${RUNNER_IMAGES_REGISTRY}/runner:${RUNNER_IMAGES_VERSION}-ubuntu"
  }
}

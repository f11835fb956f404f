#!/bin/sh
# The whole ecr-sso story on a machine with no AWS account, against the local stand-ins
# the tests use: a pull that fails without the helper; set up from the example team file;
# sign in (the browser step is played by a small script); ask the helper for the registry's
# credentials as docker does (the password shown redacted); the same pull, now through the
# helper, with skopeo (and docker, when dockerd can run here); the status. Each step is
# printed as a person would type it.
#
#   python3 -m venv .venv && .venv/bin/pip install -e '.[test]'   # once
#   install/demo.sh
#
# Everything happens in a temporary home; your own files are never read or written.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
python="$repo/.venv/bin/python"
[ -x "$python" ] || {
    echo "demo.sh: run this first: python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" >&2
    exit 1
}
command -v skopeo >/dev/null 2>&1 && command -v docker-registry >/dev/null 2>&1 || {
    echo "demo.sh: needs skopeo and docker-registry (Debian: apt-get install skopeo docker-registry apache2-utils)" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/ecr-sso-demo.XXXXXX")
standins_pid=""
cleanup() {
    [ -z "$standins_pid" ] || { kill "$standins_pid" 2>/dev/null && wait "$standins_pid" 2>/dev/null; } || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A person's laptop, in a folder: nothing from the real environment leaks in, and CI's
# "no sign-in here" rule does not apply to the person the demo plays.
for name in $(env | sed -n 's/^\(AWS_[A-Z0-9_]*\|ECR_SSO_[A-Z0-9_]*\|DOCKER_[A-Z0-9_]*\|XDG_[A-Z_]*\)=.*/\1/p'); do
    unset "$name"
done
unset CI REGISTRY_AUTH_FILE || true
export HOME="$work/home"
mkdir -p "$HOME"
export AWS_EC2_METADATA_DISABLED=true
export BROWSER="$repo/tests/fakebrowser.py"
export PATH="$repo/.venv/bin:$PATH"

account=642976147714
role=Administrator
"$python" "$repo/tests/standins.py" --dir "$work/standins" --account "$account" --role "$role" \
    >"$work/standins.log" 2>&1 &
standins_pid=$!
tries=0
until [ -f "$work/standins/env.sh" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ] || ! kill -0 "$standins_pid" 2>/dev/null; then
        echo "demo.sh: the stand-ins did not start:" >&2
        cat "$work/standins.log" >&2
        exit 1
    fi
    sleep 0.1
done
# shellcheck disable=SC1091
. "$work/standins/env.sh"

step() {
    printf '\n$ %s\n' "$*"
    "$@"
}

# A step that is meant to fail: its error is shown, and the demo goes on.
failing_step() {
    printf '\n$ %s\n' "$*"
    if "$@" 2>&1; then
        echo "demo.sh: expected this step to fail" >&2
        exit 1
    fi
    echo "(failed, as expected: docker, skopeo and podman have no credentials for this registry)"
}

echo "ecr-sso demo: AWS is played by local stand-ins ($AWS_ENDPOINT_URL_ECR),"
echo "the dev account's registry by a docker-registry at $DEMO_REGISTRY."

# The example team file, plus an alias: the local registry stands in for dev's ECR.
cp "$repo/install/example-team.toml" "$work/team.toml"
cat >>"$work/team.toml" <<EOF

[[aliases]]
host = "$DEMO_REGISTRY"
profile = "dev"
EOF

pull="skopeo copy --quiet --src-tls-verify=false docker://$DEMO_REGISTRY/demo/hello:1"
# shellcheck disable=SC2086 # $pull is split into words on purpose
failing_step $pull "oci:$work/before:1"
step ecr-sso setup --from "$work/team.toml" --yes
step ecr-sso login dev
# What docker asks the helper before the pull; the password is a live ECR token.
printf '\n$ echo %s | docker-credential-ecr-sso get   # password redacted\n' "$DEMO_REGISTRY"
answer=$(echo "$DEMO_REGISTRY" | docker-credential-ecr-sso get)
printf '%s\n' "$answer" | sed 's/"Secret":"[^"]*"/"Secret":"<redacted>"/'
# shellcheck disable=SC2086
step $pull "oci:$work/hello:1"
if [ -n "${DOCKER_HOST:-}" ]; then
    step docker pull "$DEMO_REGISTRY/demo/hello:1"
else
    printf '\n(docker pull skipped: no dockerd can run here; skopeo used the same helper)\n'
fi
step ecr-sso status
printf '\nDone: the pull went through docker-credential-ecr-sso with the dev profile'"'"'s token.\n'

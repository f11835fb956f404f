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
#   install/demo.sh --keep        # then leave the stand-ins running, to try every command
#   install/demo.sh --stop DIR    # stop what --keep left running, and remove DIR
#
# Everything happens in a temporary home; your own files are never read or written.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
python="$repo/.venv/bin/python"

usage() {
    sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# --stop DIR: the stand-ins' process (checked to be ours) is asked to stop, which stops
# everything it started; then the folder goes.
stop_kept() {
    dir=$1
    [ -f "$dir/standins.pid" ] || {
        echo "demo.sh: $dir is not a folder demo.sh --keep left (no standins.pid in it)" >&2
        exit 2
    }
    pid=$(cat "$dir/standins.pid")
    # The process is ours if it still runs standins.py (its number may be another's by
    # now). Its whole command line: ps cuts it to COLUMNS without -ww.
    if [ -r "/proc/$pid/cmdline" ]; then
        args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    else
        args=$(ps -ww -p "$pid" -o args= 2>/dev/null || true)
    fi
    if kill -0 "$pid" 2>/dev/null && printf '%s' "$args" | grep -q 'tests/standins\.py'; then
        kill -TERM "$pid"
        tries=0
        while kill -0 "$pid" 2>/dev/null; do
            tries=$((tries + 1))
            if [ "$tries" -gt 600 ]; then
                echo "demo.sh: the stand-ins (process $pid) did not stop within a minute" >&2
                exit 1
            fi
            sleep 0.1
        done
        echo "stopped the stand-ins (process $pid)"
    else
        echo "the stand-ins (process $pid) had already stopped"
    fi
    rm -rf "$dir"
    echo "removed $dir"
}

keep=0
case "${1:-}" in
    "") ;;
    --keep) keep=1 ;;
    --stop)
        [ $# -eq 2 ] || { echo "demo.sh: --stop needs the folder that --keep printed" >&2; exit 2; }
        stop_kept "$2"
        exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

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
kept=0
cleanup() {
    [ "$kept" = 0 ] || return 0
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

# The three accounts of install/example-team.toml, each with a registry of its own.
"$python" "$repo/tests/standins.py" --dir "$work/standins" \
    --registry dev=642976147714:Administrator --registry stage=998135273239:Administrator \
    --registry prod=883291977974:Administrator >"$work/standins.log" 2>&1 &
standins_pid=$!
echo "$standins_pid" >"$work/standins.pid"
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
# skopeo, podman and buildah reach the plain-HTTP registries (and only those) as insecure.
mkdir -p "$HOME/.config/containers"
cp "$work/standins/registries.conf" "$HOME/.config/containers/registries.conf"

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

# The example team file, plus an alias per account: the local registries stand in for
# their ECR registries.
cp "$repo/install/example-team.toml" "$work/team.toml"
for profile in dev stage prod; do
    eval "host=\$DEMO_REGISTRY_$(echo "$profile" | tr '[:lower:]' '[:upper:]')"
    printf '\n[[aliases]]\nhost = "%s"\nprofile = "%s"\n' "$host" "$profile" >>"$work/team.toml"
done

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
[ "$keep" = 1 ] || exit 0

# --keep: the stand-ins stay up, and a shell file holds what points a shell at them.
quoted() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
    echo "unset CI REGISTRY_AUTH_FILE AWS_PROFILE AWS_DEFAULT_PROFILE AWS_REGION AWS_DEFAULT_REGION"
    echo "unset AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY"
    echo "unset AWS_SESSION_TOKEN ECR_SSO_CONFIG ECR_SSO_CACHE_DIR ECR_SSO_PROFILE DOCKER_CONFIG"
    echo "unset XDG_CONFIG_HOME XDG_CACHE_HOME XDG_DATA_HOME XDG_STATE_HOME"
    echo "export HOME=$(quoted "$HOME")"
    echo "export PATH=$(quoted "$repo/.venv/bin"):\"\$PATH\""
    echo "export BROWSER=$(quoted "$BROWSER") AWS_EC2_METADATA_DISABLED=true"
    cat "$work/standins/env.sh"
} >"$work/shell.sh"
kept=1
cat <<EOF

The stand-ins keep running (process $standins_pid). To try ecr-sso against them, paste
these lines into another terminal (they point HOME at the demo's home, in that shell only):

$(cat "$work/shell.sh")

(or: . $work/shell.sh)

Then try, as the dev profile (the default) unless --profile says otherwise:

  ecr-sso repos                              # moto plays ECR's API
  ecr-sso tags demo/hello
  ecr-sso create team/tool
  ecr-sso promote demo/hello:1 --from dev --to stage
  ecr-sso pull-through setup --profile dev   # asks for a Docker Hub login: any will do
  ecr-sso pull-through status --profile dev
  skopeo inspect docker://\$DEMO_REGISTRY_STAGE/demo/hello:1

When you are done, stop them and remove the demo's home:

  install/demo.sh --stop $work
EOF

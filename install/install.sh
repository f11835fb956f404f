#!/bin/sh
# Install ecr-sso for this user: an isolated Python environment, and the two commands
# (docker-credential-ecr-sso, ecr-sso) linked into a bin directory. No sudo.
#
#   install/install.sh                          # from this checkout
#   install/install.sh --team team.toml         # ... then set the machine up for the team
#   install/install.sh --ci --registry HOST     # a CI runner: credHelpers only, no SSO
#   install/install.sh --version 0.2.0          # a release from the package index
#   install/install.sh --uninstall              # remove it, and what setup added
#
# Run it again to upgrade in place; nothing else changes.
set -eu
# A loose umask (002, 000) would leave the environment, the commands and the completion
# files writable by the group or by everyone, and whoever can write them runs code as you:
# never looser than 022 here.
umask "$(printf '%04o' "$(( 0$(umask) | 022 ))")"

PROG=install.sh
say() { printf '%s\n' "$*"; }
die() { printf '%s: %s\n' "$PROG" "$*" >&2; exit 1; }

usage() {
    cat <<'EOF'
Usage: install/install.sh [options]

Installs ecr-sso into its own Python environment (pipx when present, else a venv in
the user data directory) and links docker-credential-ecr-sso and ecr-sso into a bin
directory that should be on PATH.

Options:
  --bin-dir DIR      where to link the commands (default: ~/.local/bin)
  --version V        install release V from the package index, not this checkout
  --team FILE        then run `ecr-sso setup --from FILE --yes` and `ecr-sso doctor`
  --ci               a CI runner: with --registry, write only Docker's credHelpers;
                     the helper then uses the runner's own AWS credentials
  --registry HOST    a registry for --ci (repeatable)
  --no-pipx          use a plain venv even when pipx is available
  --uninstall        run `ecr-sso teardown --purge` (files setup created are deleted,
                     files it changed get their earlier bytes back unless you
                     changed them since: then only its entries go; its token
                     cache, log and state go), remove the environment, the links
                     and the empty folders the install created; lists what it
                     removed and what it kept, and why
  -h, --help         this text
EOF
}

bin_dir="${HOME}/.local/bin"
version=""
team=""
ci=0
registries=""
use_pipx=1
uninstall=0
while [ $# -gt 0 ]; do
    case "$1" in
        --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a directory"; bin_dir=$2; shift 2 ;;
        --version) [ $# -ge 2 ] || die "--version needs a version"; version=$2; shift 2 ;;
        --team) [ $# -ge 2 ] || die "--team needs a file"; team=$2; shift 2 ;;
        --ci) ci=1; shift ;;
        --registry)
            [ $# -ge 2 ] || die "--registry needs a host"
            registries="$registries $2"; shift 2 ;;
        --no-pipx) use_pipx=0; shift ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done
[ -z "$registries" ] || [ "$ci" = 1 ] || die "--registry goes with --ci"
[ "$ci" = 0 ] || [ -n "$registries" ] || die "--ci needs at least one --registry HOST"
[ -z "$team" ] || [ -f "$team" ] || die "team file not found: $team"
case "$team" in ""|/*) ;; *) team="$(pwd)/$team" ;; esac

# Windows (Git Bash/MSYS, Cygwin): the same line the commands print there (credhelper/windows.py).
case "$(uname -s)" in
    MINGW*|MSYS*|CYGWIN*)
        die "ecr-sso does not run on Windows yet: that needs an .exe launcher for docker to start, and a token store other than the Windows Credential Manager, whose 2,560-byte limit ECR tokens exceed" ;;
esac

here=$(cd "$(dirname "$0")/.." && pwd)

# No package cache in the user's home: pip keeps the wheel it builds from a checkout named
# like NAME-VERSION (a fresh `git clone` is `ecr-sso`) in ~/.cache/pip, and uv (which pipx
# installs with when it has it) keeps every package in ~/.cache/uv; an uninstall must leave
# the home as it found it. The variables reach pip and uv under pipx as well.
PIP_NO_CACHE_DIR=1
UV_NO_CACHE=1
PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_CACHE_DIR UV_NO_CACHE PIP_DISABLE_PIP_VERSION_CHECK

# The user data directory, as platformdirs defines it (doctor and the tests check that
# this agrees with platformdirs.user_data_dir("ecr-sso")).
data_home() {
    case "${XDG_DATA_HOME:-}" in
        /*) printf '%s/ecr-sso' "$XDG_DATA_HOME"; return ;;
    esac
    case "$(uname -s)" in
        Darwin) printf '%s/Library/Application Support/ecr-sso' "$HOME" ;;
        *) printf '%s/.local/share/ecr-sso' "$HOME" ;;
    esac
}
venv="$(data_home)/venv"
commands="docker-credential-ecr-sso ecr-sso"

find_python() {
    for candidate in ${PYTHON:-} python3 python3.13 python3.12 python3.11 python3.10; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# A link of ours points into our environment; anything else in the bin dir is the user's.
remove_our_links() {
    for name in $commands; do
        link="$bin_dir/$name"
        if [ -L "$link" ]; then
            case "$(readlink "$link")" in
                "$venv"/*|*/pipx/venvs/ecr-sso/*) rm -f "$link"; say "removed $link" ;;
            esac
        fi
    done
}

# The helper runs on every pull: started `python -IS` it skips `site` (a quarter of a bare
# start) and finds its package beside itself (see the script's comment). pip writes a plain
# `#!/path/python` first line; one interpreter argument is all a shebang may carry, hence
# `-IS`. Any other first line (pip's /bin/sh trampoline for long paths) is left alone.
start_helper_without_site() {
    first=$(head -n 1 "$1")
    case "$first" in
        *" "* | *"	"*) return 0 ;;
        "#!/"*python*) ;;
        *) return 0 ;;
    esac
    { printf '%s -IS\n' "$first" && tail -n +2 "$1"; } >"$1.tmp.$$" \
        && chmod 755 "$1.tmp.$$" && mv -f "$1.tmp.$$" "$1" || rm -f "$1.tmp.$$"
}

# The folders an install may create (directly, or through ecr-sso: its config, cache,
# state and log folders, the AWS and Docker config folders). Those absent before the first
# install are noted, so that the uninstall removes them again when they are empty.
created_list="$(data_home)/folders-before-install"
candidate_folders() {
    for dir in "$HOME/.local" "$HOME/.local/bin" "$bin_dir" "$HOME/.local/share" \
        "$HOME/.local/state" "$HOME/.cache" "$HOME/.config" "$(dirname "$(data_home)")" \
        "$(data_home)" "$HOME/.aws" "$HOME/.aws/sso" "$HOME/.aws/sso/cache" "$HOME/.docker" \
        "$HOME/Library" "$HOME/Library/Caches" "$HOME/Library/Logs" \
        "$HOME/Library/Application Support" \
        ${XDG_CONFIG_HOME:+"$XDG_CONFIG_HOME"} ${XDG_CACHE_HOME:+"$XDG_CACHE_HOME"} \
        ${XDG_STATE_HOME:+"$XDG_STATE_HOME"} ${XDG_DATA_HOME:+"$XDG_DATA_HOME"}; do
        printf '%s\n' "$dir"
    done | { cat; completion_folders; } | while IFS= read -r dir; do
        case "$dir" in "$HOME"/*) printf '%s\n' "$dir" ;; esac
    done
}

# The folders completion files go in, and their parents, for the uninstall's cleanup.
completion_folders() {
    completion_files | while read -r _ file; do
        printf '%s\n' "$(dirname "$(dirname "$file")")" "$(dirname "$file")"
    done
}

# Shell completion where each shell looks for a user's own (only for shells on PATH).
# zsh has no such folder by default: the advice says how to add ours to fpath.
completion_files() {
    data=${XDG_DATA_HOME:-}
    case "$data" in /*) ;; *) data="$HOME/.local/share" ;; esac
    config=${XDG_CONFIG_HOME:-}
    case "$config" in /*) ;; *) config="$HOME/.config" ;; esac
    printf '%s\n' "bash $data/bash-completion/completions/ecr-sso" \
        "zsh $data/zsh/site-functions/_ecr-sso" "fish $config/fish/completions/ecr-sso.fish"
}

install_completions() {
    completion_files | while read -r shell file; do
        command -v "$shell" >/dev/null 2>&1 || continue
        mkdir -p "$(dirname "$file")"
        # Written beside its final name, then renamed: never a half-written script.
        "$1" completion "$shell" >"$file.tmp.$$" && mv -f "$file.tmp.$$" "$file" || {
            rm -f "$file.tmp.$$"
            say "note: could not write $file"
            continue
        }
        say "installed $shell completion in $file"
        if [ "$shell" = zsh ]; then
            say "  (zsh: add  fpath+=(\"$(dirname "$file")\")  before compinit in ~/.zshrc)"
        fi
    done
}

# Only files we wrote (their first line says so); a user's own stay.
remove_completions() {
    completion_files | while read -r _ file; do
        if [ -f "$file" ] && grep -q 'generated by `ecr-sso completion' "$file"; then
            rm -f "$file"
            say "removed $file"
        fi
    done
}

if [ "$uninstall" = 1 ]; then
    # Ours first: the venv's, else the link in the bin dir (a pipx install's), which need
    # not be on PATH; then whatever ecr-sso PATH finds.
    ecr=""
    for candidate in "$venv/bin/ecr-sso" "$bin_dir/ecr-sso"; do
        if [ -x "$candidate" ]; then ecr=$candidate; break; fi
    done
    [ -n "$ecr" ] || ecr=$(command -v ecr-sso 2>/dev/null || true)
    if [ -n "$ecr" ]; then
        "$ecr" teardown --yes --purge </dev/null \
            || say "note: ecr-sso teardown failed (above); your files keep what setup added"
    fi
    remove_our_links
    remove_completions
    if command -v pipx >/dev/null 2>&1 && pipx list --short 2>/dev/null | grep -q '^ecr-sso '; then
        pipx uninstall ecr-sso >/dev/null && say "removed the pipx environment"
    fi
    if [ -d "$venv" ]; then
        rm -rf "$venv"
        say "removed $venv"
    fi
    created=""
    if [ -f "$created_list" ]; then
        created=$(cat "$created_list")
        rm -f "$created_list"
    fi
    # Deepest first; rmdir removes only an empty folder, so anything else stays.
    printf '%s\n' "$(data_home)" "$created" | awk 'NF { print length($0) "\t" $0 }' \
        | sort -rn | cut -f2- | while IFS= read -r dir; do
            if [ -d "$dir" ] && rmdir "$dir" 2>/dev/null; then
                say "removed $dir (empty)"
            fi
        done
    say "ecr-sso is uninstalled; what was removed, and what was kept and why, is listed above."
    exit 0
fi

python=$(find_python) || die "ecr-sso needs Python 3.10 or newer; install it (e.g. apt-get install python3, brew install python) or set PYTHON=/path/to/python3"

if [ -n "$version" ]; then
    source_spec="ecr-sso==$version"
elif [ -f "$here/pyproject.toml" ]; then
    source_spec="$here"
else
    die "not in an ecr-sso checkout; pass --version V to install from the package index"
fi

if [ ! -d "$(data_home)" ]; then
    absent=$(candidate_folders | while IFS= read -r dir; do [ -d "$dir" ] || printf '%s\n' "$dir"; done)
    mkdir -p "$(data_home)"
    printf '%s\n' "$absent" | awk 'NF' >"$created_list"
fi
mkdir -p "$bin_dir"
if [ "$use_pipx" = 1 ] && command -v pipx >/dev/null 2>&1; then
    say "installing ecr-sso with pipx from $source_spec"
    PIPX_BIN_DIR="$bin_dir" pipx install --force --python "$python" "$source_spec" >/dev/null
    pipx_venv="$(pipx environment --value PIPX_LOCAL_VENVS)/ecr-sso"
    for name in $commands; do
        # pipx exposes console scripts; make sure the helper script is linked too.
        [ -e "$bin_dir/$name" ] || ln -sf "$pipx_venv/bin/$name" "$bin_dir/$name"
    done
    ecr="$bin_dir/ecr-sso"
else
    if [ ! -x "$venv/bin/python" ]; then
        say "creating $venv"
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv" || {
            rm -rf "$venv"
            die "$python cannot create a virtual environment; on Debian or Ubuntu: apt-get install python3-venv"
        }
    fi
    say "installing ecr-sso into $venv from $source_spec"
    "$venv/bin/python" -m pip install --quiet --no-cache-dir --upgrade "$source_spec" \
        || die "pip install failed (see above)"
    if [ "$source_spec" = "$here" ]; then
        # pip keeps an installed version that equals the checkout's, even when the code
        # changed; reinstall ecr-sso itself (not its dependencies) so a rerun upgrades.
        "$venv/bin/python" -m pip install --quiet --no-cache-dir --force-reinstall --no-deps "$here" \
            || die "pip install failed (see above)"
    fi
    for name in $commands; do
        target="$venv/bin/$name"
        [ -x "$target" ] || die "the install did not provide $name"
        ln -sf "$target" "$bin_dir/$name"
    done
    start_helper_without_site "$venv/bin/docker-credential-ecr-sso"
    ecr="$venv/bin/ecr-sso"
fi
say "linked $commands into $bin_dir"
say "$("$ecr" --version)"
install_completions "$ecr"

case ":${PATH}:" in
    *":$bin_dir:"*) ;;
    *)
        say ""
        say "warning: $bin_dir is not on your PATH, and docker finds the helper through PATH."
        say "Add this line to your shell's startup file (~/.profile, ~/.bashrc or ~/.zshrc):"
        say "    export PATH=\"$bin_dir:\$PATH\""
        ;;
esac

if [ "$ci" = 1 ]; then
    # shellcheck disable=SC2086 # registries are words on purpose
    set -- $registries
    args=""
    for host in "$@"; do args="$args --registry $host"; done
    # shellcheck disable=SC2086
    "$ecr" setup --ci $args --yes </dev/null
fi
if [ -n "$team" ]; then
    "$ecr" setup --from "$team" --yes </dev/null
    "$ecr" doctor </dev/null || say "ecr-sso doctor found problems (above); fix them and run it again"
fi

# shellcheck shell=bash
# Sourced by the asset scripts: an arm64-only apt view that never touches the
# host's apt state (its own lists and cache directories under $ARM64_APT_DIR).
#
#   . scripts/arm64-apt.sh
#   arm64_apt_update                      # once
#   arm64_download DIR PKG...             # .debs into DIR
#   arm64_depends PKG                     # first "Depends:" package name
#
# By default the view reads the host's sources.list(.d) for the mirrors (the
# host's release, Debian 12). With ARM64_APT_SUITE set (e.g. `trixie`) before
# sourcing, it reads only its own list instead: that suite's `main` from
# $ARM64_APT_MIRROR (default http://deb.debian.org/debian), signed by the
# host's debian-archive-keyring, in a directory of its own.

: "${XENCFG_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/xencfg}"
: "${ARM64_APT_MIRROR:=http://deb.debian.org/debian}"
if [ -n "${ARM64_APT_SUITE:-}" ]; then
    ARM64_APT_DIR="$XENCFG_CACHE/arm64-apt-$ARM64_APT_SUITE"
else
    ARM64_APT_DIR="$XENCFG_CACHE/arm64-apt"
fi

arm64_apt_opts() {
    printf '%s\n' \
        -oAPT::Architecture=arm64 -oAPT::Architectures=arm64 \
        "-oDir::State::Lists=$ARM64_APT_DIR/lists" \
        "-oDir::Cache=$ARM64_APT_DIR/cache" \
        "-oDir::State::status=$ARM64_APT_DIR/status" \
        -oDebug::NoLocking=1 -oAPT::Sandbox::User=root -qq
    if [ -n "${ARM64_APT_SUITE:-}" ]; then
        printf '%s\n' \
            "-oDir::Etc::SourceList=$ARM64_APT_DIR/sources.list" \
            "-oDir::Etc::SourceParts=$ARM64_APT_DIR/sources.list.d"
    fi
}

arm64_apt_update() {
    mkdir -p "$ARM64_APT_DIR/lists/partial" "$ARM64_APT_DIR/cache/archives/partial"
    : > "$ARM64_APT_DIR/status"
    if [ -n "${ARM64_APT_SUITE:-}" ]; then
        mkdir -p "$ARM64_APT_DIR/sources.list.d"
        echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg]" \
            "$ARM64_APT_MIRROR $ARM64_APT_SUITE main" > "$ARM64_APT_DIR/sources.list"
    fi
    local opts
    mapfile -t opts < <(arm64_apt_opts)
    apt-get "${opts[@]}" update
}

# arm64_download DIR PKG... : download the named packages' .debs into DIR.
arm64_download() {
    local dir=$1; shift
    local opts
    mapfile -t opts < <(arm64_apt_opts)
    mkdir -p "$dir"
    (cd "$dir" && apt-get "${opts[@]}" download "$@")
}

# arm64_depends PKG : the first package PKG depends on (resolves metapackages
# such as linux-image-cloud-arm64 to the versioned kernel package).
arm64_depends() {
    local opts
    mapfile -t opts < <(arm64_apt_opts)
    apt-cache "${opts[@]}" depends "$1" | awk '/Depends:/ { print $2; exit }'
}

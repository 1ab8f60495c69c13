# Shared by the scripts in this folder. Sourced, not run.
# shellcheck shell=bash

GKPASS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

say() { printf '%s\n' "$*" >&2; }

# contains GREP-ARGS...: `producer | contains PATTERN` is `producer | grep -q PATTERN` that reads its input to the
# end. grep -q exits at the first match; a producer still writing then dies of SIGPIPE and, under pipefail, the
# pipeline fails although the pattern was found (the packaged man page check failed in CI this way once the page
# outgrew the pipe buffer).
contains() { grep "$@" >/dev/null; }

# require_apt PKG...: install the Debian packages that are missing when we are root; otherwise print the exact apt
# line to run and stop. Never touches a package that is already installed.
require_apt() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | contains 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        say "installing: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        say "missing Debian packages. Run:"
        say "  sudo apt-get install -y ${missing[*]}"
        exit 1
    fi
}

require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        say "swift is not on PATH: install Swift 6.3 (https://www.swift.org/install/linux/) and retry"
        exit 1
    fi
}

# Packages the build needs (the C libraries behind the shims) and the tests need (headless keyring, oracles).
BUILD_PACKAGES=(pkg-config libcurl4-openssl-dev libsecret-1-dev)
TEST_PACKAGES=(ca-certificates openssl gnome-keyring libsecret-tools dbus-daemon dbus-bin python3 python3-cryptography curl wget weechat-headless weechat-plugins irssi bash zsh fish tmux)

# quietly COMMAND...: runs it, showing its output only when it fails. (SwiftPM warns about the -pthread that glib's
# pkg-config file adds for libsecret; the warning is harmless and would bury the demo's output.)
quietly() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

# quiet_build ARGS...: swift build, quietly.
quiet_build() { quietly swift build "$@"; }

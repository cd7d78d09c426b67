#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# setup.sh - install what is missing (Debian 12), configure and build netbe in a build dir.
# Usage: scripts/setup.sh BUILDDIR [meson setup options...]
# Sourced by run.sh and test.sh; installing packages needs root (or sudo).

NETBE_PACKAGES=(meson ninja-build pkg-config gcc libc6-dev libglib2.0-dev libinih-dev
                libslirp-dev iproute2 iputils-ping python3 clang libclang-rt-14-dev
                libcap2-bin procps qemu-system-x86 libseccomp-dev strace busybox-static xz-utils
                clang-format liburing-dev libpcap-dev libjson-glib-dev libsystemd-dev
                tcpdump) # tcpdump: tests read capture files back with it (test dependency)

netbe_install_missing() {
    local missing=()
    for p in "${NETBE_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || {
            echo "setup: missing packages (${missing[*]}); run as root: apt-get install ${missing[*]}" >&2
            return 1
        }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Configure (or reconfigure) BUILDDIR with the given options and build it.
netbe_build() {
    local builddir=$1
    shift
    if [ -f "$builddir/build.ninja" ]; then
        meson configure "$builddir" "$@" >/dev/null || return 1
    else
        meson setup "$builddir" "$@" >"$builddir.setup.log" 2>&1 || {
            cat "$builddir.setup.log" >&2
            return 1
        }
    fi
    ninja -C "$builddir" >/dev/null || return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    cd "$(dirname "$0")/.."
    netbe_install_missing
    netbe_build "${1:-build}" "${@:2}"
fi

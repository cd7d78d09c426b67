#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh - set up and build netbe, then run netbe-host on conf/default.ini (no root needed
# once the packages are there). Extra arguments go to netbe-host.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
netbe_install_missing
netbe_build build
# netbe-host looks in its install folder only; running from the build tree is explicit
export NETBE_PLUGIN_PATH="$PWD/build/plugins"
exec build/host/netbe-host -c conf/default.ini "$@"

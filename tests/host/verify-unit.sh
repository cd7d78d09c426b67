#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# verify-unit.sh - systemd-analyze verify the netbe-host@ unit (built with the build's
# binaries); any complaint (an unknown key, a bad value, a missing binary) fails.
set -u
unit=$1
dir=$(mktemp -d)
cp "$unit" "$dir/netbe-host@.service"
out=$(systemd-analyze verify "$dir/netbe-host@.service" 2>&1)
rc=$?
rm -rf "$dir"
if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "$out"
    exit 1
fi
echo "netbe-host@.service: systemd-analyze verify says nothing"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-format.sh - every tracked C file is as clang-format (.clang-format) writes it; names
# the files that are not and shows the first lines of their diff. Exit 1 if any differs.
set -uo pipefail
cd "$(dirname "$0")/.."
bad=0
for f in $(git ls-files '*.c' '*.h'); do
    if ! clang-format --style=file "$f" | diff -u "$f" - >/tmp/netbe-format.diff; then
        echo "check-format: $f is not clang-formatted (clang-format -i $f):"
        head -20 /tmp/netbe-format.diff
        bad=$((bad + 1))
    fi
done
rm -f /tmp/netbe-format.diff
[ "$bad" -eq 0 ] && echo "check-format: $(git ls-files '*.c' '*.h' | wc -l) files clang-formatted"
[ "$bad" -eq 0 ]

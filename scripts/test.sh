#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test.sh - set up, then build and run the whole test suite twice, as CI does: a -Werror
# build, and an AddressSanitizer+UndefinedBehaviorSanitizer build. Ends with the line
# "total: N passed, N failed, N skipped"; exits non-zero on any failure. Every skipped test
# point is named; with CI=true a skip counts as a failure (tests/run-suite.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
netbe_install_missing || exit 1

passed=0 failed=0 skipped=0 rc=0
: >failures.log
run_build() {
    local name=$1
    shift
    echo "== $name: build ($*)"
    if ! netbe_build "$name" -Dwerror=true "$@"; then
        echo "== $name: build FAILED"
        ninja -C "$name" 2>&1 | tail -40
        failed=$((failed + 1)) rc=1
        return
    fi
    local line
    line=$(tests/run-suite.sh "$name" --num-processes 1 2>&1 | tee "$name/suite.log" | tail -1)
    grep -E '^ *[0-9]+/[0-9]+ ' "$name/suite.log" || true
    grep -E '^(not ok|Bail out)' "$name/meson-logs/testlog.txt" || true
    # what each failure said just before it, repeated above the total line (CI shows the end)
    awk 'BEGIN {k = 0; c = 0} /^(not ok|Bail out)/ {for (i = c; i > 0; i--) print "   " last[(k - i + 8) % 8]; \
         print; print "--"} {last[k] = substr($0, 1, 300); k = (k + 1) % 8; if (c < 8) c++}' \
        "$name/meson-logs/testlog.txt" | sed "s|^|$name: |" >>failures.log
    grep -E '^(skipped|FAILED \(skipped in CI\)): ' "$name/suite.log" || true
    echo "== $name: $line"
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
        skipped=$((skipped + BASH_REMATCH[3]))
        [ "${BASH_REMATCH[2]}" -eq 0 ] || rc=1
    else
        failed=$((failed + 1)) rc=1
    fi
}

# a check of the tree: one test, its log in NAME.log
run_check() {
    local name=$1
    shift
    if "$@" >"$name.log" 2>&1; then
        echo "== $name: $(tail -1 "$name.log")"
        passed=$((passed + 1))
    else
        echo "== $name: FAILED"
        head -40 "$name.log"
        failed=$((failed + 1)) rc=1
    fi
}
run_check format scripts/check-format.sh # the tree is as clang-format writes it (.clang-format)
run_check spdx scripts/check-spdx.sh     # every source file names its licence (COPYING)
run_check docs scripts/check-docs.py     # the public headers' kernel-doc is complete

run_build build-werror
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:print_summary=1:fast_unwind_on_malloc=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
# GLib 2.74's slice allocator hides what it hands out (lists, hash tables, json-glib's nodes)
# from LeakSanitizer: with plain malloc a leak of them fails the run too
export G_SLICE=always-malloc
run_build build-asan -Db_sanitize=address,undefined -Db_lundef=false
unset ASAN_OPTIONS UBSAN_OPTIONS G_SLICE
# libFuzzer on the parsers of untrusted input (guest rings, socket stream), bounded in time
run_fuzzer() {
    local target=$1 seconds=$2 corpus=$3
    mkdir -p "build-fuzz/corpus-$target"
    if (cd build-fuzz && UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1 \
            NETBE_PLUGIN_PATH="$PWD/plugins" NETBE_BUILD_ROOT="$PWD" NETBE_SOURCE_ROOT="$PWD/.." \
            "./$(find . -name "$target" -type f -perm -u+x | head -1)" \
            -max_total_time="$seconds" -timeout=10 -max_len=65536 -print_final_stats=1 \
            "corpus-$target" "../$corpus" > "$target.log" 2>&1); then
        echo "== fuzz $target: ok, $(grep -o 'stat::number_of_executed_units: [0-9]*' \
             "build-fuzz/$target.log" | grep -o '[0-9]*$' || echo '?') inputs in ${seconds}s"
        passed=$((passed + 1))
    else
        echo "== fuzz $target: FAILED (build-fuzz/$target.log)"
        tail -30 "build-fuzz/$target.log"
        failed=$((failed + 1)) rc=1
    fi
}
echo "== build-fuzz: build (clang, libFuzzer, ASan+UBSan)"
if CC=clang netbe_build build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false; then
    # every tests/*/NAME.fuzz file names a libFuzzer target NAME: "seconds=N corpus=DIR"
    for spec in tests/*/*.fuzz; do
        seconds=$(grep -o 'seconds=[0-9]*' "$spec" | cut -d= -f2)
        corpus=$(grep -o 'corpus=[^ ]*' "$spec" | cut -d= -f2)
        run_fuzzer "$(basename "$spec" .fuzz)" "${seconds:-30}" "${corpus:?$spec: no corpus=}"
    done
else
    echo "== build-fuzz: build FAILED"
    failed=$((failed + 1)) rc=1
fi

if [ -s failures.log ]; then
    echo "== the failures, with the lines their tests logged before them (failures.log):"
    tail -60 failures.log
fi
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $rc

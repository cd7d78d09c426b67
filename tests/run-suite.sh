#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run-suite.sh - run the meson test suite in a build dir and print the closing
# "N passed, N failed, N skipped" line, counting every TAP test point. Every skipped point
# is named; under CI=true (CI runs as root, with everything installed) a skip is a failure:
# a test that needs root must not hide there.
# Usage: tests/run-suite.sh BUILDDIR [meson test args...]
set -u
builddir=${1:?usage: run-suite.sh BUILDDIR [meson test args]}
shift
meson test -C "$builddir" --print-errorlogs "$@"
rc=$?
python3 - "$builddir/meson-logs/testlog.json" "$rc" "${CI:-}" <<'PY'
import json, re, sys
passed = failed = skipped = 0
path, rc, ci = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "true"


def skip(test, point, reason):
    """Count a skipped point; in CI it fails."""
    global skipped, failed
    where = f"{test}: {point}" if point else test
    if ci:
        failed += 1
        print(f"FAILED (skipped in CI): {where}: {reason}", file=sys.stderr)
    else:
        skipped += 1
        print(f"skipped: {where}: {reason}", file=sys.stderr)


try:
    entries = [json.loads(l) for l in open(path) if l.strip()]
except OSError:
    entries = []
for e in entries:
    points = 0
    for line in (e.get("stdout") or "").splitlines():
        m = re.match(r"^(not ok|ok)\b(.*)$", line)
        if not m:
            continue
        points += 1
        rest = m.group(2)
        sk = re.search(r"#\s*skip\S*\s*(.*)$", rest, re.I)
        if sk:
            skip(e.get("name"), rest.split("#")[0].strip(), sk.group(1).strip() or "no reason")
        elif m.group(1) == "ok" or re.search(r"#\s*todo", rest, re.I):
            passed += 1
        else:
            failed += 1
    result = e.get("result", "")
    if points == 0:
        # no TAP points: count the program itself
        if result == "OK":
            passed += 1
        elif result == "SKIP":
            skip(e.get("name"), None, "the whole program skipped")
        else:
            failed += 1
    elif result not in ("OK", "SKIP", "EXPECTEDFAIL"):
        # crashed or timed out after some points: that is a failure of its own
        failed += 1
        print(f"{e.get('name')}: {result} after {points} test points", file=sys.stderr)
if not entries:
    failed += 1
    print("no test ran (missing testlog.json)", file=sys.stderr)
elif rc != 0 and failed == 0:
    failed += 1
    print(f"meson test exited {rc} (a build step failed?)", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or rc else 0)
PY

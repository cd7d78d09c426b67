#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-spdx.sh - every tracked source file (C, headers, meson, shell, python, ini, any
# script with a shebang) names its licence on its first line, or on the line after its
# shebang, with the identifier COPYING gives its directory: LGPL-2.1-or-later under
# include/ core/ plugins/ examples/, GPL-2.0-or-later elsewhere. Fuzz corpora are data, not
# source, and are not checked. Names each file that is wrong; exit 1 if any is.
# --list prints the files it checks and exits.
set -uo pipefail
cd "$(dirname "$0")/.."

# the licence COPYING gives a path
licence_of() {
    case $1 in
    include/* | core/* | plugins/* | examples/*) echo LGPL-2.1-or-later ;;
    *) echo GPL-2.0-or-later ;;
    esac
}

# its first two bytes are "#!"
has_shebang() {
    [ "$(head -c 2 "$1" | tr -d '\0')" = '#!' ]
}

# tracked source files, by name or by shebang
sources() {
    git ls-files | while IFS= read -r f; do
        case $f in
        */fuzz-corpus*/*) continue ;;
        *.c | *.h | *.c.in | *.sh | *.py | *.ini | meson.build | */meson.build | meson_options.txt)
            echo "$f" ;;
        *) has_shebang "$f" && echo "$f" ;;
        esac
    done
}

if [ "${1:-}" = --list ]; then
    sources
    exit 0
fi

bad=0 n=0
while IFS= read -r f; do
    n=$((n + 1))
    lic=$(licence_of "$f")
    line=1
    has_shebang "$f" && line=2
    text=$(sed -n "${line}p" "$f")
    # "// ..." in C, "/* ... */" in headers, "# ..." in meson/shell/python, "; ..." in ini
    if ! [[ $text =~ ^(//|/\*|#|\;)\ SPDX-License-Identifier:\ ([^ ]+)( \*/)?$ ]]; then
        echo "check-spdx: $f:$line: no 'SPDX-License-Identifier: $lic' line"
        bad=$((bad + 1))
    elif [ "${BASH_REMATCH[2]}" != "$lic" ]; then
        echo "check-spdx: $f:$line: says ${BASH_REMATCH[2]}, COPYING gives $lic"
        bad=$((bad + 1))
    fi
done < <(sources)
[ "$bad" -eq 0 ] && echo "check-spdx: $n files carry their SPDX line"
[ "$bad" -eq 0 ]

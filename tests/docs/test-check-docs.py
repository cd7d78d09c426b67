#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""test-check-docs.py - scripts/check-docs.py on headers written here: a good one passes and
counts every symbol in it; each bad one fails and names FILE:LINE and the symbol. Speaks TAP.

    test-check-docs.py CHECK_DOCS_SCRIPT
"""
import os
import subprocess
import sys
import tempfile

# A header using every form the public headers use; check-docs must find all 14 symbols.
GOOD = r"""/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* good.h - every declaration documented. */
#ifndef GOOD_H
#define GOOD_H
#include <stdarg.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Threads: a plain comment that documents no symbol.
 */

/**
 * typedef Thing - an opaque handle.
 */
typedef struct Thing Thing;

/**
 * enum Mode - how a thing runs.
 * @MODE_A: the first way
 * @MODE_B: the second way, with a value
 */
typedef enum Mode {
    MODE_A = 0,
    MODE_B = 1 << 1, /* an inline comment is no documentation */
} Mode;

/**
 * struct Stats - counters.
 * @a: first
 * @b: second, declared with @a
 * @c: a pointer declared with them
 * @cb: a function pointer field
 * @u32: a member of an anonymous union
 * @u64: the other member
 * @mac: an array
 */
typedef struct Stats {
    uint64_t a, b, *c;
    void (*cb)(void *opaque, unsigned vq);
    union {
        uint32_t u32;
        uint64_t u64;
    };
    uint8_t mac[6];
} Stats;

/**
 * struct Tagged - a struct that is not a typedef.
 * @x: its only field
 */
struct Tagged {
    int x;
};

/**
 * typedef ThingFunc - a callback.
 * @t: the thing
 * @len: bytes
 *
 * Return: bytes taken.
 */
typedef long (*ThingFunc)(Thing *t, unsigned len);

/**
 * typedef NotifyFunc - a callback that returns nothing.
 * @opaque: its data
 */
typedef void (*NotifyFunc)(void *opaque);

/**
 * thing_new() - create a thing.
 *
 * Return: a thing.
 */
NETBE_API Thing *thing_new(void);

/**
 * thing_free() - free a thing.
 * @t: the thing; NULL is ignored
 */
NETBE_API void thing_free(Thing *t);

/**
 * thing_set() - set a mac and a callback, over
 *   two lines of summary.
 * @t: the thing
 * @mac: six bytes
 * @func: called
 *   with a description on two lines
 * @errp: gets the error
 *
 * Return:
 *   true on success.
 */
NETBE_API bool thing_set(Thing *t, const uint8_t mac[6], ThingFunc func,
                         void **errp) __attribute__((warn_unused_result));

/**
 * thing_log() - printf into the thing's log.
 * @t: the thing
 * @fmt: the format
 * @...: its arguments
 */
NETBE_API void thing_log(Thing *t, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/**
 * thing_ptrs() - pointers to pointers.
 * @t: the thing
 * @s: a struct by tag
 *
 * Return: names.
 */
NETBE_API const char *const *thing_ptrs(const Thing *t, struct stat *s);

/**
 * thing_count() - an inline function.
 * @t: the thing
 *
 * Return: 0.
 */
static inline unsigned thing_count(Thing *t)
{
    (void)t;
    return 0;
}

/* Macros need no comment. */
#define THING_MAX 16
#define THING_HAS(t, f) ((t) != 0 && (f))

/**
 * THING_DOC() - a documented macro is checked too.
 * @t: the thing
 * @f: a flag
 */
#define THING_DOC(t, f) ((t) && (f))

/**
 * thing_last() - the last declaration, after macros.
 * @t: the thing
 *
 * Return: its mode.
 */
NETBE_API Mode thing_last(Thing *t);

#ifdef __cplusplus
}
#endif
#endif
"""

GOOD_SYMBOLS = 14

# (case, header, expected problem, its line): each header has exactly that problem
BAD = [
    ("missing-arg", """
/**
 * f() - two arguments, one documented.
 * @a: the first
 *
 * Return: a sum.
 */
int f(int a, int b);
""", "f(): @b is not documented", 8),
    ("extra-arg", """
/**
 * f() - one argument, two documented.
 * @a: the first
 * @c: not an argument
 */
void f(int a);
""", "f(): @c is documented but is not a parameter", 7),
    ("missing-return", """
/**
 * f() - returns a value without saying what.
 * @a: the first
 */
const char *f(int a);
""", "f(): returns a value but has no 'Return:' section", 6),
    ("duplicate-arg", """
/**
 * f() - one argument documented twice.
 * @a: the first
 * @a: the first again
 */
void f(int a);
""", "f(): @a is documented twice", 7),
    ("void-with-return", """
/**
 * f() - returns nothing but says it does.
 *
 * Return: nothing.
 */
void f(void);
""", "f(): returns void but has a 'Return:' section", 7),
    ("undocumented-field", """
/**
 * struct S - one field documented.
 * @a: the first
 */
typedef struct S {
    int a;
    unsigned b; /* an inline comment is not enough */
} S;
""", "struct S: @b is not documented", 6),
    ("extra-field", """
/**
 * struct S - a field that went away.
 * @a: the first
 * @gone: removed
 */
struct S {
    int a;
};
""", "struct S: @gone is documented but is not a field", 7),
    ("undocumented-enumerator", """
/**
 * enum E - one of two.
 * @E_A: the first
 */
typedef enum E { E_A, E_B = 2 } E;
""", "enum E: @E_B is not documented", 6),
    ("plain-comment", """
/* f() - a plain comment: no kernel-doc. */
int f(void);
""", "f(): no kernel-doc comment (the comment above it is not opened by /**)", 3),
    ("no-comment", """
int f(void);
""", "f(): no kernel-doc comment", 2),
    ("wrong-name", """
/**
 * g() - documents another function.
 *
 * Return: 0.
 */
int f(void);
""", "f(): the comment above it documents function g", 7),
    ("no-summary", """
/**
 * f()
 *
 * Return: 0.
 */
int f(void);
""", "f(): the comment's first line is 'f()', not 'f() - summary'", 7),
    ("empty-arg", """
/**
 * f() - an empty description.
 * @a:
 */
void f(int a);
""", "f(): @a has an empty description", 6),
    ("unnamed-arg", """
/**
 * f() - an argument without a name.
 * @a: the first
 */
void f(int a, Thing *);
""", "f(): parameter 2 has no name to document", 6),
    ("typedef-undocumented", """
/**
 * f() - documented; the typedef after a macro is not.
 */
void f(void);
#define X 1
typedef struct T T;
""", "typedef T: no kernel-doc comment", 7),
    ("macro-arg", """
/**
 * M() - a documented macro with an argument missing.
 * @a: the first
 */
#define M(a, b) ((a) + (b))
""", "M(): @b is not documented", 6),
]


def run(script, path):
    r = subprocess.run([sys.executable, script, path], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def main():
    script = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="check-docs-")
    print(f"1..{1 + len(BAD)}")
    n = 0

    good = os.path.join(tmp, "good.h")
    with open(good, "w") as f:
        f.write(GOOD)
    rc, out = run(script, good)
    n += 1
    # fails if the good header is refused, or if the scanner misses symbols (a lint that
    # sees nothing would pass anything)
    want = f"check-docs: {GOOD_SYMBOLS} symbols in 1 headers documented"
    if rc == 0 and want in out:
        print(f"ok {n} - good header passes, {GOOD_SYMBOLS} symbols checked")
    else:
        print(f"not ok {n} - good header: exit {rc}, wanted '{want}'")
        print("# " + out.replace("\n", "\n# "))

    for case, text, problem, line in BAD:
        path = os.path.join(tmp, case + ".h")
        with open(path, "w") as f:
            f.write(text)
        rc, out = run(script, path)
        n += 1
        # fails if the header passes, or the problem is not named with its FILE:LINE
        want = f"{path}:{line}: {problem}"
        problems = [ln for ln in out.splitlines() if not ln.startswith("check-docs:")]
        if rc == 1 and problems == [want]:
            print(f"ok {n} - {case}: fails naming {want}")
        else:
            print(f"not ok {n} - {case}: exit {rc}, wanted exactly '{want}'")
            print("# " + out.replace("\n", "\n# "))
        os.unlink(path)
    os.unlink(good)
    os.rmdir(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())

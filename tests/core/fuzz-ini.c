// SPDX-License-Identifier: GPL-2.0-or-later
/* fuzz-ini.c - fuzz the config reader (core/ini-read.c, compiled in for coverage) and the
 * config loader (libnetbe's netbe_runtime_load_config_file on a memfd, so NUL bytes reach
 * it), in a check-only runtime (opens nothing) with the built plugins of NETBE_PLUGIN_PATH.
 * libFuzzer entry point; tests/virtio/fuzz-replay.c runs it with any compiler.
 *
 * What must hold for any input: no crash, leak or sanitizer report; every message is
 * "FILE:LINE: ..." with LINE inside the text, or "FILE: ..." for the text as a whole (or
 * a plugin-path message); what the reader accepts is clean (UTF-8, no control characters,
 * stripped) and reads back the same when written out again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "ini-read.h"
#include "netbe/netbe.h"

static G_NORETURN void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz-ini: %s: %s\n", what, detail ? detail : "");
    abort();
}

static void silent(const char *domain, GLogLevelFlags level, const char *msg, void *data)
{
}

/* Number of lines of @size bytes of text, as the reader counts them. */
static int count_lines(const uint8_t *data, size_t size)
{
    int n = size && data[size - 1] != '\n';

    for (size_t i = 0; i < size; i++) {
        n += data[i] == '\n';
    }
    return n;
}

/* Every line of @msg: "FILE:LINE: " with 1 <= LINE <= @nlines, or "FILE: ", or (from the
 * loader, @plugins) a plugin message. */
static void check_messages(const char *msg, const char *file, int nlines, bool plugins)
{
    g_auto(GStrv) lines = g_strsplit(msg, "\n", -1);
    size_t flen = strlen(file);

    if (!*msg) {
        fail("empty error message", file);
    }
    for (int i = 0; lines[i]; i++) {
        const char *p = lines[i] + flen + 1;
        char *end;
        long n;

        if (plugins && (g_str_has_prefix(lines[i], "plugin ") ||
                        g_str_has_prefix(lines[i], "no plugins found"))) {
            continue;
        }
        if (strncmp(lines[i], file, flen) != 0 || lines[i][flen] != ':') {
            fail("message without its file", lines[i]);
        }
        if (*p == ' ') {
            continue;
        }
        n = strtol(p, &end, 10);
        if (*end != ':' || n < 1 || n > nlines) {
            fail("message with a line outside the text", lines[i]);
        }
    }
}

/* Text the reader let through: UTF-8, no control characters, no blanks around it. */
static void check_clean(const char *s, bool may_be_empty, const char *what)
{
    size_t len = strlen(s);

    if (!g_utf8_validate(s, -1, NULL) || (!may_be_empty && !len) ||
        (len && (g_ascii_isspace(s[0]) || g_ascii_isspace(s[len - 1])))) {
        fail(what, s);
    }
    for (const char *p = s; *p; p++) {
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f) {
            fail(what, s);
        }
    }
}

/* Write sections out again; "key =value" so that a value starting with ';' stays a value. */
static GString *write_out(GPtrArray *sections)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < sections->len; i++) {
        NetbeIniSection *s = g_ptr_array_index(sections, i);

        g_string_append_printf(out, "[%s]\n", s->name);
        for (guint k = 0; k < s->opts->values->len; k++) {
            NetbeOptionValue *v = g_ptr_array_index(s->opts->values, k);

            g_string_append_printf(out, "%s =%s\n", v->key, v->value);
        }
    }
    return out;
}

/* Same sections, keys and values in the same order (line numbers aside). */
static void check_same(GPtrArray *a, GPtrArray *b)
{
    if (a->len != b->len) {
        fail("written-out text reads back with another number of sections", NULL);
    }
    for (guint i = 0; i < a->len; i++) {
        NetbeIniSection *sa = g_ptr_array_index(a, i), *sb = g_ptr_array_index(b, i);

        if (strcmp(sa->name, sb->name) != 0 || sa->opts->values->len != sb->opts->values->len) {
            fail("section reads back different", sa->name);
        }
        for (guint k = 0; k < sa->opts->values->len; k++) {
            NetbeOptionValue *va = g_ptr_array_index(sa->opts->values, k);
            NetbeOptionValue *vb = g_ptr_array_index(sb->opts->values, k);

            if (strcmp(va->key, vb->key) != 0 || strcmp(va->value, vb->value) != 0) {
                fail("key reads back different", va->key);
            }
        }
    }
}

/* The reader alone: messages, cleanliness and a stable round trip. */
static void fuzz_reader(const uint8_t *data, size_t size)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) errors2 = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *sections = netbe_ini_read((const char *)data, size, "fuzz.ini", errors);
    g_autoptr(GString) again = NULL;
    GPtrArray *sections2;

    for (guint i = 0; i < errors->len; i++) {
        check_messages(g_ptr_array_index(errors, i), "fuzz.ini", count_lines(data, size), false);
    }
    if (!sections) {
        if (!errors->len) {
            fail("text refused without a message", NULL);
        }
        return;
    }
    for (guint i = 0; i < sections->len; i++) {
        NetbeIniSection *s = g_ptr_array_index(sections, i);

        check_clean(s->name, false, "section name");
        for (guint k = 0; k < s->opts->values->len; k++) {
            NetbeOptionValue *v = g_ptr_array_index(s->opts->values, k);

            check_clean(v->key, false, "key");
            check_clean(v->value, true, "value");
            if (strpbrk(v->key, "=:")) {
                fail("key with '=' or ':'", v->key);
            }
        }
    }
    again = write_out(sections);
    sections2 = netbe_ini_read(again->str, again->len, "again.ini", errors2);
    if (again->len && (!sections2 || errors2->len > errors->len)) {
        fail("written-out text does not read back", again->str);
    }
    if (sections2) {
        check_same(sections, sections2);
        g_ptr_array_unref(sections2);
    }
    g_ptr_array_unref(sections);
}

/* The loader, as netbe-host --check runs it, on the bytes in a memfd. */
static void fuzz_loader(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.ini", MFD_CLOEXEC);
    g_autofree char *path = g_strdup_printf("/proc/self/fd/%d", fd);
    NetbeRuntime *rt = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);
    g_autoptr(GError) err = NULL;

    if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
        fail("memfd", g_strerror(errno));
    }
    netbe_runtime_set_plugin_path(rt, g_getenv("NETBE_PLUGIN_PATH"));
    if (!netbe_runtime_load_config_file(rt, path, &err)) {
        check_messages(err->message, path, count_lines(data, size), true);
    } else if (size == 0) {
        fail("an empty file loaded", path);
    }
    netbe_runtime_free(rt);
    close(fd);
}

/* Once: quiet logs, and a runtime that keeps the plugins loaded between inputs. */
static void setup(void)
{
    static NetbeRuntime *holder;
    g_autoptr(GError) err = NULL;
    g_autofree char *list = NULL;

    if (holder) {
        return;
    }
    if (!g_getenv("NETBE_PLUGIN_PATH")) {
        fail("NETBE_PLUGIN_PATH is not set", "give the built plugins (BUILDDIR/plugins)");
    }
    g_log_set_handler("netbe", G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG, silent,
                      NULL);
    holder = netbe_runtime_new(NULL, NETBE_RUNTIME_CHECK_ONLY);
    netbe_runtime_set_plugin_path(holder, g_getenv("NETBE_PLUGIN_PATH"));
    list = netbe_runtime_list_plugins(holder, &err);
    if (!list) {
        fail("cannot load the plugins", err->message);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    fuzz_reader(data, size);
    fuzz_loader(data, size);
    return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-options.c - netbe-plugin-check: every option refuses bad values through a real config,
 * with an error that names FILE:LINE and the key. */
#include <string.h>
#include "pc.h"

typedef enum PcRefusal {
    PC_REFUSED,   /* with FILE:LINE and a key of the config */
    PC_ACCEPTED,  /* the config loaded */
    PC_UNLOCATED, /* refused, but the error does not point at a key's line */
} PcRefusal;

/* Whether @msg has "FILE:N: [netdev.pc] KEY" where line N of @text is "KEY = ...". */
static bool names_a_key_line(const char *msg, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GRegex) re = g_regex_new(
        "plugin-check\\.ini:([0-9]+): \\[netdev\\." PC_NETDEV "\\] ([A-Za-z0-9_]+)", 0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    bool found = false;

    g_regex_match(re, msg, 0, &m);
    while (!found && g_match_info_matches(m)) {
        g_autofree char *line = g_match_info_fetch(m, 1);
        g_autofree char *key = g_match_info_fetch(m, 2);
        guint64 n = g_ascii_strtoull(line, NULL, 10);
        g_autofree char *prefix = g_strdup_printf("%s = ", key);

        found = n >= 1 && n <= g_strv_length(lines) && g_str_has_prefix(lines[n - 1], prefix);
        g_match_info_next(m, NULL);
    }
    return found;
}

/* Load @key = @value; *msg gets the error. */
static PcRefusal try_value(PcCtx *c, const char *key, const char *value, char **msg)
{
    int line;
    g_autofree char *text = pc_config_text(c, key, value, &line);
    g_autoptr(GError) err = NULL;
    NetbeRuntime *rt = pc_runtime_new(c, NETBE_RUNTIME_CHECK_ONLY);
    g_autofree char *want =
        g_strdup_printf(PC_CONFIG_NAME ":%d: [netdev." PC_NETDEV "] %s", line, key);
    bool loaded = netbe_runtime_load_config_string(rt, text, PC_CONFIG_NAME, &err);

    netbe_runtime_free(rt);
    if (loaded) {
        return PC_ACCEPTED;
    }
    *msg = g_strdup(err->message);
    /* another key of the config may be the one to blame (two options that conflict) */
    return strstr(err->message, want) || names_a_key_line(err->message, text) ? PC_REFUSED
                                                                              : PC_UNLOCATED;
}

/* One report line for @key: the schema's bad values, then those given with --bad-option. */
static void check_key(PcCtx *c, const char *key, char **schema_values, GPtrArray *given)
{
    g_autofree char *check = g_strdup_printf("option:%s", key);
    GString *fail = g_string_new(NULL), *note = g_string_new(NULL);
    unsigned refused = 0, n_schema = schema_values ? g_strv_length(schema_values) : 0;

    pc_step(check);
    for (unsigned i = 0; i < n_schema + given->len; i++) {
        const char *value =
            i < n_schema ? schema_values[i] : g_ptr_array_index(given, i - n_schema);
        const NetbeOptionSpec *spec = NULL;
        g_autofree char *msg = NULL;

        for (const NetbeOptionSpec *s = c->desc->options; s && s->name; s++) {
            spec = strcmp(s->name, key) == 0 ? s : spec;
        }
        switch (try_value(c, key, value, &msg)) {
        case PC_REFUSED:
            refused++;
            break;
        case PC_ACCEPTED:
            if (i >= n_schema || spec->type != NETBE_OPT_STRING) {
                g_string_append_printf(fail, "; '%s' was accepted", value);
            } else {
                g_string_append_printf(note, "; the probe string was accepted");
            }
            break;
        case PC_UNLOCATED:
            g_string_append_printf(fail, "; '%s' was refused without FILE:LINE and the key: %s",
                                   value, msg);
            break;
        }
    }
    if (fail->len) {
        pc_result(PC_FAIL, check, "%s", fail->str + 2);
    } else if (refused) {
        pc_result(PC_PASS, check, "%u bad values refused with FILE:LINE and the key%s", refused,
                  note->str);
    } else {
        pc_result(PC_SKIP, check, "no value to try%s", note->str);
    }
    g_string_free(fail, true);
    g_string_free(note, true);
}

void pc_check_options(PcCtx *c)
{
    g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
    g_autofree char *base = pc_config_text(c, NULL, NULL, NULL);
    NetbeBackend *be;
    NetbeRuntime *rt;

    pc_step("options");
    rt = pc_instance_new(c, base, &be, NULL);

    if (!rt) {
        pc_result(PC_SKIP, "options", "init fails with the given options (see 'init')");
        return;
    }
    netbe_runtime_free(rt);

    for (const NetbeOptionSpec *s = c->desc->options; s && s->name; s++) {
        g_auto(GStrv) values = pc_bad_values(s);
        g_autoptr(GPtrArray) given = g_ptr_array_new();

        for (guint i = 0; i < c->bad_options->len; i++) {
            const PcOption *o = g_ptr_array_index(c->bad_options, i);

            if (strcmp(o->key, s->name) == 0) {
                g_ptr_array_add(given, o->value);
            }
        }
        check_key(c, s->name, values, given);
        g_hash_table_add(done, (char *)s->name);
    }
    for (guint i = 0; i < c->bad_options->len; i++) {
        const PcOption *o = g_ptr_array_index(c->bad_options, i);
        g_autoptr(GPtrArray) given = g_ptr_array_new();

        if (g_hash_table_contains(done, o->key)) {
            continue;
        }
        for (guint j = i; j < c->bad_options->len; j++) {
            const PcOption *p = g_ptr_array_index(c->bad_options, j);

            if (strcmp(o->key, p->key) == 0) {
                g_ptr_array_add(given, p->value);
            }
        }
        check_key(c, o->key, NULL, given);
        g_hash_table_add(done, o->key);
    }
}

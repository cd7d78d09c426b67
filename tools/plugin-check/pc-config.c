// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-config.c - netbe-plugin-check: the configs it writes, its runtimes, and the values each
 * option schema entry must refuse. */
#include <inttypes.h>
#include <string.h>
#include "pc.h"

/* A string no address, name or path option should take. */
#define PC_BAD_STRING "netbe-plugin-check: not a valid value for anything"

char *pc_config_text(const PcCtx *c, const char *key, const char *value, int *key_line)
{
    GString *t = g_string_new("# written by netbe-plugin-check\n");
    int line = 4;

    g_string_append_printf(t, "[netdev.%s]\ntype = %s\n", PC_NETDEV, c->desc->name);
    for (guint i = 0; i < c->options->len; i++) {
        const PcOption *o = g_ptr_array_index(c->options, i);

        if (!key || g_strcmp0(o->key, key) != 0) {
            g_string_append_printf(t, "%s = %s\n", o->key, o->value);
            line++;
        }
    }
    if (key) {
        g_string_append_printf(t, "%s = %s\n", key, value);
    }
    if (key_line) {
        *key_line = line;
    }
    return g_string_free(t, false);
}

NetbeRuntime *pc_runtime_new(const PcCtx *c, NetbeRuntimeFlags flags)
{
    NetbeRuntime *rt = netbe_runtime_new(NULL, flags);

    netbe_runtime_set_plugin_path(rt, c->plugin_dir);
    return rt;
}

NetbeRuntime *pc_instance_new(const PcCtx *c, const char *text, NetbeBackend **be, GError **errp)
{
    NetbeRuntime *rt = pc_runtime_new(c, NETBE_RUNTIME_CHECK_ONLY);

    if (!netbe_runtime_load_config_string(rt, text, PC_CONFIG_NAME, errp)) {
        netbe_runtime_free(rt);
        return NULL;
    }
    *be = pc_find_backend(c, rt);
    g_assert(*be);
    return rt;
}

NetbeBackend *pc_find_backend(const PcCtx *c, NetbeRuntime *rt)
{
    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);

        if (strcmp(be->plugin->desc->name, c->desc->name) == 0) {
            return be;
        }
    }
    return NULL;
}

/* Bounds of INT and SIZE entries: both 0 means none. */
static void add_out_of_bounds(const NetbeOptionSpec *spec, GPtrArray *v)
{
    if (spec->min == 0 && spec->max == 0) {
        return;
    }
    if (spec->max < INT64_MAX) {
        g_ptr_array_add(v, g_strdup_printf("%" PRId64, spec->max + 1));
    }
    if (spec->min > INT64_MIN) {
        g_ptr_array_add(v, g_strdup_printf("%" PRId64, spec->min - 1));
    }
}

char **pc_bad_values(const NetbeOptionSpec *spec)
{
    GPtrArray *v = g_ptr_array_new();

    switch (spec->type) {
    case NETBE_OPT_INT:
        g_ptr_array_add(v, g_strdup("not-a-number"));
        add_out_of_bounds(spec, v);
        break;
    case NETBE_OPT_SIZE:
        g_ptr_array_add(v, g_strdup("12q"));
        add_out_of_bounds(spec, v);
        break;
    case NETBE_OPT_BOOL:
        g_ptr_array_add(v, g_strdup("maybe"));
        break;
    case NETBE_OPT_ENUM:
        g_ptr_array_add(v, g_strdup("no-such-choice"));
        break;
    case NETBE_OPT_STRING:
        g_ptr_array_add(v, g_strdup(PC_BAD_STRING));
        break;
    }
    g_ptr_array_add(v, NULL);
    return (char **)g_ptr_array_free(v, false);
}

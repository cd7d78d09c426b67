// SPDX-License-Identifier: GPL-2.0-or-later
/* control-metrics.c - the runtime's counters in Prometheus' text exposition format (0.0.4):
 * one family per counter of the structured stats, labelled by netdev and queue. */
#include <inttypes.h>
#include <string.h>
#include "control.h"

/* What the known keys mean; a key not listed here gets a generic help line. */
static const struct {
    const char *key;
    const char *help;
} metric_help[] = {
    {"tx_frames", "Frames the frontend handed to the netdev."},
    {"tx_bytes", "Bytes the frontend handed to the netdev."},
    {"tx_drops", "Frames for the netdev that were dropped."},
    {"tx_queued", "Frames for the netdev waiting in netbe's queue now."},
    {"rx_frames", "Frames the netdev passed to its frontend."},
    {"rx_bytes", "Bytes the netdev passed to its frontend."},
    {"rx_drops", "Frames from the netdev that were dropped."},
    {"rx_queued", "Frames from the netdev waiting in netbe's queue now."},
};

static const char *help_of(const char *key)
{
    for (size_t i = 0; i < G_N_ELEMENTS(metric_help); i++) {
        if (strcmp(metric_help[i].key, key) == 0) {
            return metric_help[i].help;
        }
    }
    return NULL;
}

/* Levels ("*_queued") are gauges; the other numbers only grow: counters, named *_total. */
static bool is_gauge(const char *key)
{
    return g_str_has_suffix(key, "_queued");
}

/* A label value with \, " and newlines escaped, as the format wants. */
static void append_label(GString *out, const char *value)
{
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, *p);
        } else if (*p == '\n') {
            g_string_append(out, "\\n");
        } else {
            g_string_append_c(out, *p);
        }
    }
}

/* An unsigned number of @v, or false if it is no number. */
static bool variant_number(GVariant *v, uint64_t *out)
{
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
        *out = g_variant_get_uint64(v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
        *out = g_variant_get_uint32(v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT64)) {
        *out = MAX(g_variant_get_int64(v), 0);
    } else {
        return false;
    }
    return true;
}

/* The family of @key: HELP, TYPE, then one sample per queue of @queues. */
static void append_family(GString *out, GVariant *queues, const char *key)
{
    const char *help = help_of(key);
    bool gauge = is_gauge(key);
    g_autofree char *name = g_strdup_printf("netbe_netdev_%s%s", key, gauge ? "" : "_total");
    gsize n = g_variant_n_children(queues);

    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name,
                           help ? help : "A netbe netdev queue counter.", name,
                           gauge ? "gauge" : "counter");
    for (gsize i = 0; i < n; i++) {
        g_autoptr(GVariant) q = g_variant_get_child_value(queues, i);
        g_autoptr(GVariant) v = g_variant_lookup_value(q, key, NULL);
        const char *netdev = NULL;
        guint32 queue = 0;
        uint64_t num;

        if (!v || !variant_number(v, &num) || !g_variant_lookup(q, "netdev", "&s", &netdev)) {
            continue;
        }
        g_variant_lookup(q, "queue", "u", &queue);
        g_string_append_printf(out, "%s{netdev=\"", name);
        append_label(out, netdev);
        g_string_append_printf(out, "\",queue=\"%u\"} %" PRIu64 "\n", queue, num);
    }
}

char *control_metrics_text(GVariant *stats)
{
    g_autoptr(GVariant) queues = g_variant_lookup_value(stats, "queues", G_VARIANT_TYPE("aa{sv}"));
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    GString *out = g_string_new(NULL);

    if (!queues) {
        return g_string_free(out, false);
    }
    /* the families: every numeric key any queue has, in the order they first appear */
    for (gsize i = 0; i < g_variant_n_children(queues); i++) {
        g_autoptr(GVariant) q = g_variant_get_child_value(queues, i);
        GVariantIter it;
        const char *key;
        GVariant *v;

        g_variant_iter_init(&it, q);
        while (g_variant_iter_next(&it, "{&sv}", &key, &v)) {
            uint64_t num;

            if (strcmp(key, "queue") != 0 && variant_number(v, &num) &&
                !g_ptr_array_find_with_equal_func(keys, key, g_str_equal, NULL)) {
                g_ptr_array_add(keys, g_strdup(key));
            }
            g_variant_unref(v);
        }
    }
    for (guint i = 0; i < keys->len; i++) {
        append_family(out, queues, g_ptr_array_index(keys, i));
    }
    return g_string_free(out, false);
}

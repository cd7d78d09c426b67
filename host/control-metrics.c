// SPDX-License-Identifier: GPL-2.0-or-later
/* control-metrics.c - the runtime's counters in Prometheus' text exposition format (0.0.4):
 * one family per number of the structured stats, labelled by netdev (and queue). */
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
    {"limited", "1 while the netdev has a rate limit."},
    {"rx_waits", "Times the netdev's rx rate limit held reading back."},
    {"rx_wait_ns", "Time the netdev's rx rate limit held reading back."},
    {"tx_waits", "Times the netdev's tx rate limit held the frontend back."},
    {"tx_wait_ns", "Time the netdev's tx rate limit held the frontend back."},
};

/*
 * MetricList - an array of the stats tree and how its entries become samples.
 * @array:  the key of the aa{sv} in the stats
 * @prefix: of the family names
 * @labels: the keys that label a sample (strings or numbers), NULL-terminated
 */
typedef struct MetricList {
    const char *array;
    const char *prefix;
    const char *labels[3];
} MetricList;

static const MetricList metric_lists[] = {
    {"queues", "netbe_netdev_", {"netdev", "queue", NULL}},
    {"rate_limits", "netbe_netdev_rate_limit_", {"netdev", NULL}},
};

static const char *help_of(const char *key)
{
    for (size_t i = 0; i < G_N_ELEMENTS(metric_help); i++) {
        if (strcmp(metric_help[i].key, key) == 0) {
            return metric_help[i].help;
        }
    }
    return "A netbe counter.";
}

/* Levels ("*_queued") and flags are gauges; the other numbers only grow: counters. */
static bool is_gauge(const char *key, GVariant *v)
{
    return g_str_has_suffix(key, "_queued") || g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN);
}

/* A valid metric name part: [a-zA-Z0-9_] only (what the core's keys are). */
static bool name_ok(const char *key)
{
    for (const char *p = key; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_') {
            return false;
        }
    }
    return *key;
}

/* The value of @v as a sample's number; false if it is none. Nanoseconds become seconds. */
static bool sample_value(const char *key, GVariant *v, GString *out)
{
    uint64_t n;

    if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
        n = g_variant_get_uint64(v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
        n = g_variant_get_uint32(v);
    } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
        n = g_variant_get_boolean(v);
    } else {
        return false;
    }
    if (g_str_has_suffix(key, "_ns")) {
        g_string_append_printf(out, "%" PRIu64 ".%09" PRIu64, n / 1000000000, n % 1000000000);
    } else {
        g_string_append_printf(out, "%" PRIu64, n);
    }
    return true;
}

/* The family name of @key: its prefix, "_ns" as "_seconds", "_total" on counters. */
static char *family_name(const MetricList *ml, const char *key, bool gauge)
{
    g_autofree char *base = g_str_has_suffix(key, "_ns")
                                ? g_strdup_printf("%.*s_seconds", (int)strlen(key) - 3, key)
                                : g_strdup(key);

    return g_strdup_printf("%s%s%s", ml->prefix, base, gauge ? "" : "_total");
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

/* {netdev="x",queue="0"} of entry @e. */
static void append_labels(GString *out, const MetricList *ml, GVariant *e)
{
    g_string_append_c(out, '{');
    for (int i = 0; ml->labels[i]; i++) {
        g_autoptr(GVariant) v = g_variant_lookup_value(e, ml->labels[i], NULL);
        g_autofree char *text = NULL;

        if (v && g_variant_is_of_type(v, G_VARIANT_TYPE_STRING)) {
            text = g_variant_dup_string(v, NULL);
        } else if (v) {
            text = g_variant_print(v, false);
        }
        g_string_append_printf(out, "%s%s=\"", i ? "," : "", ml->labels[i]);
        append_label(out, text ? text : "");
        g_string_append_c(out, '"');
    }
    g_string_append_c(out, '}');
}

/* The family of @key over the entries of @list: HELP, TYPE, one sample per entry. */
static void append_family(GString *out, const MetricList *ml, GVariant *list, const char *key,
                          bool gauge)
{
    g_autofree char *name = family_name(ml, key, gauge);

    g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help_of(key), name,
                           gauge ? "gauge" : "counter");
    for (gsize i = 0; i < g_variant_n_children(list); i++) {
        g_autoptr(GVariant) e = g_variant_get_child_value(list, i);
        g_autoptr(GVariant) v = g_variant_lookup_value(e, key, NULL);
        gsize mark = out->len;

        g_string_append(out, name);
        append_labels(out, ml, e);
        g_string_append_c(out, ' ');
        if (!v || !sample_value(key, v, out)) {
            g_string_truncate(out, mark); /* this entry has no such number */
            continue;
        }
        g_string_append_c(out, '\n');
    }
}

/* Is @key a label of @ml? */
static bool is_label(const MetricList *ml, const char *key)
{
    for (int i = 0; ml->labels[i]; i++) {
        if (strcmp(ml->labels[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* Every family of list @ml of @stats: each numeric key any entry has, in the order they first
 * appear. */
static void append_list(GString *out, const MetricList *ml, GVariant *stats)
{
    g_autoptr(GVariant) list = g_variant_lookup_value(stats, ml->array, G_VARIANT_TYPE("aa{sv}"));
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GString) probe = g_string_new(NULL);

    for (gsize i = 0; list && i < g_variant_n_children(list); i++) {
        g_autoptr(GVariant) e = g_variant_get_child_value(list, i);
        GVariantIter it;
        const char *key;
        GVariant *v;

        g_variant_iter_init(&it, e);
        while (g_variant_iter_next(&it, "{&sv}", &key, &v)) {
            if (!is_label(ml, key) && name_ok(key) && sample_value(key, v, probe) &&
                !g_ptr_array_find_with_equal_func(keys, key, g_str_equal, NULL)) {
                g_ptr_array_add(keys, g_strdup(key));
                append_family(out, ml, list, key, is_gauge(key, v));
            }
            g_variant_unref(v);
        }
    }
}

char *control_metrics_text(GVariant *stats)
{
    GString *out = g_string_new(NULL);

    for (size_t i = 0; i < G_N_ELEMENTS(metric_lists); i++) {
        append_list(out, &metric_lists[i], stats);
    }
    return g_string_free(out, false);
}

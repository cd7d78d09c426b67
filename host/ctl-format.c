// SPDX-License-Identifier: GPL-2.0-or-later
/* ctl-format.c - netbe-ctl's readable text for what the control socket returns: a
 * formatter per command, JSON for the others; and the text of an event line. */
#include <stdbool.h>
#include <string.h>
#include "ctl-format.h"

static const char *str_of(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n)
               : "-";
}

static gint64 int_of(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    return n && JSON_NODE_HOLDS_VALUE(n) ? json_node_get_int(n) : 0;
}

/* The objects of array @key of @o, or NULL. */
static JsonArray *array_of(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    return n && JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
}

/* The i-th object of @a, or NULL if it is none. */
static JsonObject *object_at(JsonArray *a, guint i)
{
    JsonNode *n = json_array_get_element(a, i);

    return JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static void vhost_user_text(GString *out, JsonObject *dev)
{
    gint64 pid = int_of(dev, "vmm_pid"), pairs = int_of(dev, "queue_pairs");
    JsonArray *rings = array_of(dev, "rings");

    if (!pid) {
        g_string_append_printf(out, "  vhost-user %s: no VMM connected\n", str_of(dev, "socket"));
        return;
    }
    g_string_append_printf(
        out,
        "  vhost-user %s: VMM pid %" G_GINT64_FORMAT ", features %s, %" G_GINT64_FORMAT
        " queue pair%s running, link %s, TX polled up to %" G_GINT64_FORMAT " us\n",
        str_of(dev, "socket"), pid, str_of(dev, "features"), pairs, pairs == 1 ? "" : "s",
        str_of(dev, "link"), int_of(dev, "poll_us"));
    for (guint i = 0; rings && i < json_array_get_length(rings); i++) {
        JsonObject *r = object_at(rings, i);

        if (r) {
            g_string_append_printf(
                out,
                "    vring %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " kicks, %" G_GINT64_FORMAT
                " interrupts, %" G_GINT64_FORMAT " chains, %" G_GINT64_FORMAT " drops%s\n",
                int_of(r, "vring"), int_of(r, "kicks"), int_of(r, "interrupts"),
                int_of(r, "chains"), int_of(r, "drops"),
                json_object_get_boolean_member_with_default(r, "broken", false) ? ", broken" : "");
        }
    }
}

/* A netdev's capture and rate limits, a line each when it has them. */
static void netdev_traffic_text(GString *out, JsonObject *nd)
{
    JsonArray *limits = array_of(nd, "rate_limit");

    if (json_object_has_member(nd, "capture")) {
        g_string_append_printf(out, "       capturing to %s: %" G_GINT64_FORMAT " frames\n",
                               str_of(nd, "capture"), int_of(nd, "capture_frames"));
    }
    if (limits) {
        g_string_append(out, "       rate limit:");
        for (guint i = 0; i < json_array_get_length(limits); i++) {
            g_string_append_printf(out, " %s", json_array_get_string_element(limits, i));
        }
        g_string_append_c(out, '\n');
    }
}

static void status_text(GString *out, JsonObject *o)
{
    JsonArray *a;

    for (guint i = 0; (a = array_of(o, "netdevs")) && i < json_array_get_length(a); i++) {
        JsonObject *nd = object_at(a, i);

        if (nd) {
            g_string_append_printf(
                out, "netdev %-12s type %-8s queues %-3" G_GINT64_FORMAT " %-14s frontend %s%s\n",
                str_of(nd, "id"), str_of(nd, "type"), int_of(nd, "queues"), str_of(nd, "state"),
                str_of(nd, "frontend"),
                strcmp(str_of(nd, "link"), "down") == 0 ? ", link down" : "");
            netdev_traffic_text(out, nd);
        }
    }
    for (guint i = 0; (a = array_of(o, "hubs")) && i < json_array_get_length(a); i++) {
        JsonObject *hub = object_at(a, i);

        if (hub) {
            g_string_append_printf(out, "hub    %-12s ports %-3" G_GINT64_FORMAT " %s\n",
                                   str_of(hub, "id"), int_of(hub, "ports"), str_of(hub, "state"));
        }
    }
    for (guint i = 0; (a = array_of(o, "devices")) && i < json_array_get_length(a); i++) {
        JsonObject *dev = object_at(a, i);
        const char *state;

        if (!dev) {
            continue;
        }
        state = str_of(dev, "state");
        g_string_append_printf(
            out, "device %-12s netdev %-12s %s%s\n", str_of(dev, "id"), str_of(dev, "netdev"),
            json_object_get_boolean_member_with_default(dev, "netdev_deleted", false) ? "(deleted) "
                                                                                      : "",
            strcmp(state, "waiting") == 0 ? "waiting for its driver" : state);
        if (strcmp(str_of(dev, "transport"), "vhost-user") == 0) {
            vhost_user_text(out, dev);
        }
    }
}

/* After the counters: the waits of each netdev that has or had a rate limit. */
static void rate_limits_text(GString *out, JsonObject *o)
{
    JsonArray *a = array_of(o, "rate_limits");

    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *r = object_at(a, i);

        if (r) {
            g_string_append_printf(
                out,
                "rate limit %-12s rx waited %" G_GINT64_FORMAT
                " times %.3f ms, tx waited %" G_GINT64_FORMAT " times %.3f ms%s\n",
                str_of(r, "netdev"), int_of(r, "rx_waits"), int_of(r, "rx_wait_ns") / 1e6,
                int_of(r, "tx_waits"), int_of(r, "tx_wait_ns") / 1e6,
                json_object_get_boolean_member_with_default(r, "limited", false)
                    ? ""
                    : " (no limit now)");
        }
    }
}

static void stats_text(GString *out, JsonObject *o)
{
    JsonArray *a = array_of(o, "queues");

    g_string_append_printf(out, "%-12s %5s %12s %14s %9s %12s %14s %9s\n", "netdev", "queue",
                           "tx_frames", "tx_bytes", "tx_drops", "rx_frames", "rx_bytes",
                           "rx_drops");
    for (guint i = 0; a && i < json_array_get_length(a); i++) {
        JsonObject *q = object_at(a, i);

        if (q) {
            g_string_append_printf(
                out,
                "%-12s %5" G_GINT64_FORMAT " %12" G_GINT64_FORMAT " %14" G_GINT64_FORMAT
                " %9" G_GINT64_FORMAT " %12" G_GINT64_FORMAT " %14" G_GINT64_FORMAT
                " %9" G_GINT64_FORMAT "\n",
                str_of(q, "netdev"), int_of(q, "queue"), int_of(q, "tx_frames"),
                int_of(q, "tx_bytes"), int_of(q, "tx_drops"), int_of(q, "rx_frames"),
                int_of(q, "rx_bytes"), int_of(q, "rx_drops"));
        }
    }
    rate_limits_text(out, o);
}

static void capture_text(GString *out, JsonObject *o)
{
    g_string_append_printf(out, "capturing %s to %s\n", str_of(o, "netdev"), str_of(o, "file"));
}

static void capture_stop_text(GString *out, JsonObject *o)
{
    g_string_append_printf(out, "capture of %s stopped: %" G_GINT64_FORMAT " frames\n",
                           str_of(o, "netdev"), int_of(o, "frames"));
}

/* The live commands (host/control-live.c): "SUMMARY: name=value ...". */
static void summary_text(GString *out, JsonObject *o)
{
    JsonObjectIter it;
    const char *key;
    JsonNode *v;

    g_string_append(out, str_of(o, "summary"));
    json_object_iter_init_ordered(&it, o);
    while (json_object_iter_next_ordered(&it, &key, &v)) {
        if (strcmp(key, "summary") != 0 && JSON_NODE_HOLDS_VALUE(v) &&
            json_node_get_value_type(v) == G_TYPE_STRING && *json_node_get_string(v)) {
            g_string_append_printf(out, " %s=%s", key, json_node_get_string(v));
        }
    }
    g_string_append_c(out, '\n');
}

/* "rate limit of ID: key=value ..." or "... none". */
static void rate_limit_text(GString *out, JsonObject *o)
{
    JsonNode *l = json_object_get_member(o, "limits");
    JsonObjectIter it;
    const char *key;
    JsonNode *v;
    bool any = false;

    g_string_append_printf(out, "rate limit of %s:", str_of(o, "netdev"));
    if (l && JSON_NODE_HOLDS_OBJECT(l)) {
        json_object_iter_init_ordered(&it, json_node_get_object(l));
        while (json_object_iter_next_ordered(&it, &key, &v)) {
            g_autofree char *text = json_to_string(v, false);

            g_string_append_printf(out, " %s=%s", key, text);
            any = true;
        }
    }
    g_string_append(out, any ? "\n" : " none\n");
}

static void migrate_text(GString *out, JsonObject *o)
{
    JsonNode *ms = json_object_get_member(o, "downtime_ms");

    g_string_append_printf(
        out,
        "migrated: downtime %.3f ms, %" G_GINT64_FORMAT " backends, %" G_GINT64_FORMAT
        " fds, %" G_GINT64_FORMAT " queued frames, %" G_GINT64_FORMAT " devices\n",
        ms && JSON_NODE_HOLDS_VALUE(ms) ? json_node_get_double(ms) : 0.0, int_of(o, "backends"),
        int_of(o, "fds"), int_of(o, "frames"), int_of(o, "devices"));
}

static void quit_text(GString *out, JsonObject *o)
{
    g_string_append(out, "quitting\n");
}

static void hello_text(GString *out, JsonObject *o)
{
    JsonArray *cmds = array_of(o, "commands");

    g_string_append_printf(out, "netbe %s, control protocol %" G_GINT64_FORMAT "\ncommands:",
                           str_of(o, "version"), int_of(o, "protocol"));
    for (guint i = 0; cmds && i < json_array_get_length(cmds); i++) {
        g_string_append_printf(out, " %s", json_array_get_string_element(cmds, i));
    }
    g_string_append_c(out, '\n');
}

/* help: "NAME ARG [OPTIONAL]: what it does" per command. */
static void help_text(GString *out, JsonArray *cmds)
{
    for (guint i = 0; i < json_array_get_length(cmds); i++) {
        JsonObject *c = object_at(cmds, i);
        JsonArray *args = c ? array_of(c, "arguments") : NULL;

        if (!c) {
            continue;
        }
        g_string_append(out, str_of(c, "name"));
        for (guint j = 0; args && j < json_array_get_length(args); j++) {
            JsonObject *a = object_at(args, j);
            bool req = a && json_object_get_boolean_member_with_default(a, "required", false);

            if (a) {
                g_string_append_printf(out, req ? " %s" : " [%s]", str_of(a, "name"));
            }
        }
        g_string_append_printf(out, ": %s\n", str_of(c, "help"));
    }
}

/* The text formatters of objects returned by commands; other returns print as JSON. */
static const struct {
    const char *command;
    void (*format)(GString *out, JsonObject *ret);
} formatters[] = {
    {"status", status_text},
    {"stats", stats_text},
    {"migrate", migrate_text},
    {"quit", quit_text},
    {"hello", hello_text},
    {"capture", capture_text},
    {"capture-stop", capture_stop_text},
    {"rate-limit", rate_limit_text},
    {"netdev-add", summary_text},
    {"netdev-del", summary_text},
    {"hub-port-add", summary_text},
    {"hub-port-del", summary_text},
    {"link", summary_text},
    {"hostfwd-add", summary_text},
    {"hostfwd-del", summary_text},
    {"reload", summary_text},
};

char *ctl_format_return(const char *command, JsonNode *ret)
{
    GString *out = g_string_new(NULL);
    g_autoptr(JsonGenerator) gen = NULL;
    g_autofree char *json = NULL;

    if (JSON_NODE_HOLDS_VALUE(ret) && json_node_get_value_type(ret) == G_TYPE_STRING) {
        g_string_append(out, json_node_get_string(ret)); /* metrics: text already */
        return g_string_free(out, false);
    }
    if (JSON_NODE_HOLDS_ARRAY(ret) && strcmp(command, "help") == 0) {
        help_text(out, json_node_get_array(ret));
        return g_string_free(out, false);
    }
    for (size_t i = 0; JSON_NODE_HOLDS_OBJECT(ret) && i < G_N_ELEMENTS(formatters); i++) {
        if (strcmp(formatters[i].command, command) == 0) {
            formatters[i].format(out, json_node_get_object(ret));
            return g_string_free(out, false);
        }
    }
    if (JSON_NODE_HOLDS_OBJECT(ret) && json_object_get_size(json_node_get_object(ret)) == 0) {
        return g_string_free(out, false); /* done, nothing to say */
    }
    gen = json_generator_new();
    json_generator_set_pretty(gen, true);
    json_generator_set_root(gen, ret);
    json = json_generator_to_data(gen, NULL);
    g_string_append_printf(out, "%s\n", json);
    return g_string_free(out, false);
}

char *ctl_format_event(JsonObject *ev)
{
    JsonNode *data = json_object_get_member(ev, "data");
    JsonNode *ts_node = json_object_get_member(ev, "timestamp");
    JsonObject *ts =
        ts_node && JSON_NODE_HOLDS_OBJECT(ts_node) ? json_node_get_object(ts_node) : NULL;
    GString *out = g_string_new(NULL);
    g_autoptr(GDateTime) when = NULL;

    if (ts) {
        when = g_date_time_new_from_unix_local(int_of(ts, "seconds"));
    }
    if (when) {
        g_autofree char *hms = g_date_time_format(when, "%F %T");

        g_string_append_printf(out, "%s.%06" G_GINT64_FORMAT " ", hms, int_of(ts, "microseconds"));
    }
    g_string_append(out, str_of(ev, "event"));
    if (data && JSON_NODE_HOLDS_OBJECT(data)) {
        JsonObjectIter it;
        const char *key;
        JsonNode *v;

        json_object_iter_init_ordered(&it, json_node_get_object(data));
        while (json_object_iter_next_ordered(&it, &key, &v)) {
            g_autofree char *text =
                JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                    ? g_strdup(json_node_get_string(v))
                    : json_to_string(v, false);

            g_string_append_printf(out, " %s=%s", key, text);
        }
    }
    g_string_append_c(out, '\n');
    return g_string_free(out, false);
}

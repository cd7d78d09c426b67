// SPDX-License-Identifier: GPL-2.0-or-later
/* control-traffic.c - control commands on a netdev's traffic: capture, capture-stop,
 * rate-limit. */
#include <math.h>
#include <string.h>
#include "control-traffic.h"

JsonNode *control_capture(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    const char *path = control_arg_string(args, "file", NULL);
    gint64 count = control_arg_int(args, "count", 0);
    double seconds = control_arg_number(args, "seconds", 0);
    g_autoptr(JsonBuilder) b = json_builder_new();

    if (!g_path_is_absolute(path)) {
        g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                    "capture: '%s' is not an absolute path (netbe-host writes the file itself, "
                    "from its own working directory)",
                    path);
        return NULL;
    }
    if (json_object_has_member(args, "count") && count <= 0) {
        g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                    "capture: --count '%" G_GINT64_FORMAT "' (allowed: a number above 0)", count);
        return NULL;
    }
    if (json_object_has_member(args, "seconds") && !(isfinite(seconds) && seconds > 0)) {
        g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                    "capture: --seconds '%g' (allowed: a number above 0)", seconds);
        return NULL;
    }
    if (!netbe_runtime_capture_start(call->rt, id, path, count, seconds, errp)) {
        return NULL;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "netdev");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "count");
    json_builder_add_int_value(b, count);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, seconds);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *control_capture_stop(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    g_autoptr(JsonBuilder) b = json_builder_new();
    uint64_t frames = 0;

    if (!netbe_runtime_capture_stop(call->rt, id, &frames, errp)) {
        return NULL;
    }
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "netdev");
    json_builder_add_string_value(b, id);
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, frames);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

JsonNode *control_rate_limit(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    g_autofree const char **words = control_arg_words(args, "limits", "rate-limit", errp);
    g_auto(GStrv) now = NULL;
    JsonObject *limits, *ret;
    JsonNode *node;

    if (!words || !netbe_runtime_set_rate_limit(call->rt, id, words, errp) ||
        !(now = netbe_runtime_get_rate_limit(call->rt, id, errp))) {
        return NULL;
    }
    limits = json_object_new();
    for (int i = 0; now[i]; i++) {
        char *eq = strchr(now[i], '=');
        gint64 n;

        *eq = '\0';
        if (g_ascii_string_to_signed(eq + 1, 10, 0, G_MAXINT64, &n, NULL)) {
            json_object_set_int_member(limits, now[i], n);
        } else {
            json_object_set_string_member(limits, now[i], eq + 1);
        }
    }
    ret = json_object_new();
    json_object_set_string_member(ret, "netdev", id);
    json_object_set_object_member(ret, "limits", limits);
    node = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(node, ret);
    return node;
}

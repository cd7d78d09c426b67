// SPDX-License-Identifier: GPL-2.0-or-later
/* control-live.c - control commands that change a running netbe-host: netdevs, hub ports,
 * links, hostfwd rules, reload. */
#include <string.h>
#include "control-live.h"
#include "host-notify.h"

/* {"NAME1":"VALUE1"[,"NAME2":"VALUE2"],"summary":"..."}: what a command acted on, and one
 * line netbe-ctl prints. */
static JsonNode *reply_of(const char *summary, const char *name1, const char *value1,
                          const char *name2, const char *value2)
{
    JsonObject *o = json_object_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_object_set_string_member(o, name1, value1);
    if (name2) {
        json_object_set_string_member(o, name2, value2);
    }
    json_object_set_string_member(o, "summary", summary);
    json_node_take_object(node, o);
    return node;
}

JsonNode *control_netdev_add(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    g_autofree const char **words = control_arg_words(args, "options", "netdev-add", errp);

    if (!words || !netbe_runtime_netdev_add(call->rt, id, words, errp)) {
        return NULL;
    }
    return reply_of("netdev added and connected", "netdev", id, NULL, NULL);
}

JsonNode *control_netdev_del(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);

    return netbe_runtime_netdev_del(call->rt, id, errp)
               ? reply_of("netdev deleted", "netdev", id, NULL, NULL)
               : NULL;
}

JsonNode *control_hub_port_add(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *hub = control_arg_string(args, "hub", NULL);
    const char *netdev = control_arg_string(args, "netdev", NULL);

    return netbe_runtime_hub_port_add(call->rt, hub, netdev, errp)
               ? reply_of("port added", "hub", hub, "netdev", netdev)
               : NULL;
}

JsonNode *control_hub_port_del(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *hub = control_arg_string(args, "hub", NULL);
    const char *netdev = control_arg_string(args, "netdev", NULL);

    return netbe_runtime_hub_port_del(call->rt, hub, netdev, errp)
               ? reply_of("port removed", "hub", hub, "netdev", netdev)
               : NULL;
}

JsonNode *control_link(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    const char *state = control_arg_string(args, "state", NULL);
    bool up = g_strcmp0(state, "up") == 0;

    if (!up && g_strcmp0(state, "down") != 0) {
        g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_INVALID_ARGUMENT,
                    "link: state '%s' (allowed: up, down)", state);
        return NULL;
    }
    return netbe_runtime_set_link(call->rt, id, up, errp)
               ? reply_of(up ? "link up" : "link down", "id", id, "link", state)
               : NULL;
}

JsonNode *control_hostfwd_add(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    const char *rule = control_arg_string(args, "rule", NULL);

    return netbe_runtime_hostfwd_add(call->rt, id, rule, errp)
               ? reply_of("forwarding", "netdev", id, "rule", rule)
               : NULL;
}

JsonNode *control_hostfwd_del(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *id = control_arg_string(args, "id", NULL);
    const char *rule = control_arg_string(args, "rule", NULL);

    return netbe_runtime_hostfwd_del(call->rt, id, rule, errp)
               ? reply_of("forwarding stopped", "netdev", id, "rule", rule)
               : NULL;
}

JsonNode *control_reload(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *file = control_arg_string(args, "file", NULL);

    if (!host_reload(call->rt, file, "control socket", errp)) { /* RELOADING=1 .. READY=1 */
        return NULL;
    }
    return reply_of("reloaded", "file", file ? file : "", NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* control-cmd.c - the commands of netbe-host's control socket: one handler and one table
 * line each (control.h says how to write one). */
#include <string.h>
#include "control-live.h"
#include "control-traffic.h"
#include "control.h"

#ifndef NETBE_VERSION
#define NETBE_VERSION "unknown"
#endif

/* {"protocol":2,"version":"0.1.0","commands":["hello",...]}: what this host speaks. */
static JsonNode *cmd_hello(ControlCall *call, JsonObject *args, GError **errp)
{
    JsonObject *o = json_object_new();
    JsonArray *names = json_array_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    for (unsigned i = 0; i < control_command_count; i++) {
        json_array_add_string_element(names, control_commands[i].name);
    }
    json_object_set_int_member(o, "protocol", CONTROL_PROTOCOL);
    json_object_set_string_member(o, "version", NETBE_VERSION);
    json_object_set_array_member(o, "commands", names);
    json_node_take_object(node, o);
    return node;
}

static JsonNode *cmd_help(ControlCall *call, JsonObject *args, GError **errp)
{
    return control_commands_describe();
}

static JsonNode *cmd_status(ControlCall *call, JsonObject *args, GError **errp)
{
    return control_return_variant(netbe_runtime_status_variant(call->rt));
}

static JsonNode *cmd_stats(ControlCall *call, JsonObject *args, GError **errp)
{
    return control_return_variant(netbe_runtime_stats_variant(call->rt));
}

/* The counters in Prometheus' text format, as one JSON string. */
static JsonNode *cmd_metrics(ControlCall *call, JsonObject *args, GError **errp)
{
    g_autoptr(GVariant) stats = netbe_runtime_stats_variant(call->rt);
    g_autofree char *text = control_metrics_text(stats);
    JsonNode *node = json_node_new(JSON_NODE_VALUE);

    json_node_set_string(node, text);
    return node;
}

static JsonNode *cmd_subscribe(ControlCall *call, JsonObject *args, GError **errp)
{
    if (!control_client_subscribe(call->client)) {
        g_set_error_literal(errp, CONTROL_ERROR, CONTROL_ERROR_BUSY,
                            "this connection is subscribed already");
        return NULL;
    }
    return NULL;
}

static JsonNode *cmd_quit(ControlCall *call, JsonObject *args, GError **errp)
{
    netbe_runtime_quit(call->rt);
    return NULL;
}

/* Hand every deferred backend to the destination at "path"; on success, quit. */
static JsonNode *cmd_migrate(ControlCall *call, JsonObject *args, GError **errp)
{
    const char *path = control_arg_string(args, "path", NULL);
    g_autoptr(GError) err = NULL;
    NetbeMigStats st = {0};
    g_autoptr(JsonBuilder) b = json_builder_new();

    if (!control_server_options(call->srv)->migrate(call->rt, path, &st, &err)) {
        g_warning("%s; still running here", err->message);
        g_set_error(errp, CONTROL_ERROR, CONTROL_ERROR_FAILED, "%s; the source keeps running",
                    err->message);
        return NULL;
    }
    g_message("handed over to %s: downtime %.3f ms", path, st.downtime_ns / 1e6);
    netbe_runtime_quit(call->rt);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "downtime_ms");
    json_builder_add_double_value(b, st.downtime_ns / 1e6);
    json_builder_set_member_name(b, "backends");
    json_builder_add_int_value(b, st.backends);
    json_builder_set_member_name(b, "devices");
    json_builder_add_int_value(b, st.devices);
    json_builder_set_member_name(b, "fds");
    json_builder_add_int_value(b, st.fds);
    json_builder_set_member_name(b, "frames");
    json_builder_add_int_value(b, st.frames);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

const ControlCommand control_commands[] = {
    {"hello", cmd_hello, {{NULL}}, "the protocol version, netbe's version and the commands"},
    {"help", cmd_help, {{NULL}}, "every command with its arguments"},
    {"status", cmd_status, {{NULL}}, "netdevs, hubs and devices with their state"},
    {"stats", cmd_stats, {{NULL}}, "per netdev and queue counters"},
    {"metrics", cmd_metrics, {{NULL}}, "the counters in Prometheus' text format"},
    {"subscribe", cmd_subscribe, {{NULL}}, "send events on this connection from now on"},
    {"quit", cmd_quit, {{NULL}}, "shut down cleanly"},
    {"migrate",
     cmd_migrate,
     {{"path", CONTROL_ARG_STRING, true, "the destination's socket (netbe-host --incoming)"}},
     "hand the backends over to another netbe-host, then exit"},
    {"capture",
     control_capture,
     {{"id", CONTROL_ARG_STRING, true, "a netdev, hub port or device"},
      {"file", CONTROL_ARG_STRING, true, "the pcap file, an absolute path netbe-host writes"},
      {"count", CONTROL_ARG_INT, false, "stop after this many frames"},
      {"seconds", CONTROL_ARG_NUMBER, false, "stop after this long"}},
     "write a netdev's frames, both ways, to a pcap file"},
    {"capture-stop",
     control_capture_stop,
     {{"id", CONTROL_ARG_STRING, true, "the netdev or device"}},
     "stop a capture"},
    {"rate-limit",
     control_rate_limit,
     {{"id", CONTROL_ARG_STRING, true, "the netdev"},
      {"limits", CONTROL_ARG_ARRAY, false, "KEY=VALUE words, the ini's keys; none: show"}},
     "change or show a netdev's rate limits"},
    {"netdev-add",
     control_netdev_add,
     {{"id", CONTROL_ARG_STRING, true, "the new netdev's id"},
      {"options", CONTROL_ARG_ARRAY, true,
       "KEY=VALUE words: type=PLUGIN and its keys, as in the ini"}},
     "add a netdev and connect it"},
    {"netdev-del",
     control_netdev_del,
     {{"id", CONTROL_ARG_STRING, true, "the netdev"}},
     "remove a netdev (a hub port goes with it; a device keeps its link down)"},
    {"hub-port-add",
     control_hub_port_add,
     {{"hub", CONTROL_ARG_STRING, true, "the hub"},
      {"netdev", CONTROL_ARG_STRING, true, "a netdev without a frontend"}},
     "make a netdev a port of a running hub"},
    {"hub-port-del",
     control_hub_port_del,
     {{"hub", CONTROL_ARG_STRING, true, "the hub"},
      {"netdev", CONTROL_ARG_STRING, true, "the port's netdev"}},
     "take a netdev out of a hub"},
    {"link",
     control_link,
     {{"id", CONTROL_ARG_STRING, true, "a netdev or device"},
      {"state", CONTROL_ARG_STRING, true, "up or down"}},
     "take a link up or down (frames stop both ways, a guest sees it)"},
    {"hostfwd-add",
     control_hostfwd_add,
     {{"id", CONTROL_ARG_STRING, true, "a user netdev"},
      {"rule", CONTROL_ARG_STRING, true, "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT"}},
     "forward a host port to the guest"},
    {"hostfwd-del",
     control_hostfwd_del,
     {{"id", CONTROL_ARG_STRING, true, "a user netdev"},
      {"rule", CONTROL_ARG_STRING, true,
       "the rule, or its host side [tcp|udp]:[HOSTADDR]:HOSTPORT"}},
     "stop forwarding a host port"},
    {"reload",
     control_reload,
     {{"file", CONTROL_ARG_STRING, false, "another ini file (default: the one loaded)"}},
     "re-read the config and apply what changed (a file with an error changes nothing)"},
};
const unsigned control_command_count = G_N_ELEMENTS(control_commands);

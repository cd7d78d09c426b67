// SPDX-License-Identifier: LGPL-2.1-or-later
/* live.c - changes to a running runtime: netdevs, hub ports, links and plugin commands. */
#include <errno.h>
#include <string.h>
#include "netbe-priv.h"
#include "netbe/virtio-net.h"

bool netbe_live_check_runtime(NetbeRuntime *rt, const char *cmd, GError **errp)
{
    const char *why = NULL;

    if (rt->handed_over) {
        why = "this runtime handed its backends over";
    } else if (!rt->configured) {
        why = "this runtime has no config yet";
    } else if (rt->flags & NETBE_RUNTIME_CHECK_ONLY) {
        why = "this runtime only checks";
    } else if (rt->in_datapath) {
        why = "called from a callback netbe runs while it hands frames to a frontend: defer "
              "it to the loop (g_idle_add)";
    }

    if (why) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EPERM, "%s: %s; nothing changes", cmd, why);
    }
    return !why;
}

NetbeDevice *netbe_live_device_of(NetbeRuntime *rt, const NetbeBackend *be)
{
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        if (dev->backend == be) {
            return dev;
        }
    }
    return NULL;
}

NetbeHub *netbe_live_hub_of(NetbeRuntime *rt, const NetbeBackend *be)
{
    for (guint i = 0; i < rt->hubs->len; i++) {
        NetbeHub *hub = g_ptr_array_index(rt->hubs, i);

        for (unsigned p = 0; p < netbe_hub_port_count(hub); p++) {
            if (netbe_hub_port(hub, p) == be) {
                return hub;
            }
        }
    }
    return NULL;
}

NetbeHub *netbe_runtime_find_hub(NetbeRuntime *rt, const char *id)
{
    for (guint i = 0; i < rt->hubs->len; i++) {
        NetbeHub *hub = g_ptr_array_index(rt->hubs, i);

        if (strcmp(netbe_hub_id(hub), id) == 0) {
            return hub;
        }
    }
    return NULL;
}

/* The netdev @id, or NULL with "@cmd: no netdev 'ID' (allowed: ...)". */
static NetbeBackend *live_find_backend(NetbeRuntime *rt, const char *cmd, const char *id,
                                       GError **errp)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, id);
    GString *ids;

    if (be) {
        return be;
    }
    ids = g_string_new(NULL);
    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *b = g_ptr_array_index(rt->backends, i);

        g_string_append_printf(ids, "%s%s", ids->len ? ", " : "", b->id);
    }
    g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT, "%s: no netdev '%s' (allowed: %s)", cmd, id,
                ids->len ? ids->str : "none");
    g_string_free(ids, true);
    return NULL;
}

/* A plugin that names syscalls the sandbox did not allow would be killed by it. */
static bool live_syscalls_allowed(NetbeRuntime *rt, NetbeBackend *be, GError **errp)
{
    const char *const *extra = netbe_backend_extra_syscalls(be);
    GString *missing = g_string_new(NULL);
    bool ok;

    for (guint i = 0; rt->allowed_syscalls && extra && extra[i]; i++) {
        if (!g_strv_contains((const char *const *)rt->allowed_syscalls, extra[i])) {
            g_string_append_printf(missing, "%s%s", missing->len ? ", " : "", extra[i]);
        }
    }
    ok = missing->len == 0;
    if (!ok) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EPERM,
                    "netdev '%s' (%s): the plugin makes syscalls the sandbox set up at start "
                    "does not allow (%s); put the netdev in the config and restart",
                    be->id, netbe_backend_plugin_name(be), missing->str);
    }
    g_string_free(missing, true);
    return ok;
}

bool netbe_live_connect_backend(NetbeRuntime *rt, NetbeBackend *be, GError **errp)
{
    if (!live_syscalls_allowed(rt, be, errp)) {
        return false;
    }
    if (be->connect == NETBE_CONNECT_IMMEDIATE && !netbe_backend_connect(be, errp)) {
        return false;
    }
    g_ptr_array_add(rt->backends, be);
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
    return true;
}

bool netbe_runtime_netdev_add(NetbeRuntime *rt, const char *id, const char *const *key_values,
                              GError **errp)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *section = NULL;
    NetbeOptions *o;
    NetbeBackend *be;

    if (!netbe_live_check_runtime(rt, "netdev-add", errp)) {
        return false;
    }
    if (!netbe_config_id_is_valid(id)) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EINVAL,
                    "netdev-add:1: [netdev.%s]: bad id '%s' (allowed: 1-64 of A-Z a-z 0-9 _ -)", id,
                    id);
        return false;
    }
    if (netbe_runtime_find_backend(rt, id)) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EEXIST,
                    "netdev-add:1: [netdev.%s]: netdev '%s' exists already (netdev-del it first)",
                    id, id);
        return false;
    }
    section = g_strdup_printf("netdev.%s", id);
    o = netbe_options_new("netdev-add", section, 1); /* the file "netdev-add", lines: words */
    netbe_options_add_words(o, key_values, errors);
    if (errors->len) {
        netbe_options_free(o);
        netbe_errors_to_gerror(errors, NETBE_CONFIG_ERROR, errp);
        return false;
    }
    be = netbe_config_new_backend(rt, o, id, rt->queue_limit, errors);
    if (errors->len) {
        netbe_backend_free(be);
        netbe_errors_to_gerror(errors, NETBE_CONFIG_ERROR, errp);
        return false;
    }
    if (!netbe_live_connect_backend(rt, be, errp)) {
        g_prefix_error(errp, "netdev-add: ");
        netbe_backend_free(be);
        return false;
    }
    g_debug("netdev '%s' (%s) added", id, netbe_backend_plugin_name(be));
    return true;
}

void netbe_live_remove_backend(NetbeRuntime *rt, NetbeBackend *be)
{
    NetbeHub *hub = netbe_live_hub_of(rt, be);
    NetbeDevice *dev = netbe_live_device_of(rt, be);

    if (hub) {
        netbe_hub_remove_port(hub, be);
    }
    g_ptr_array_remove(rt->backends, be);
    for (unsigned q = 0; q < be->nqueues; q++) {
        g_debug("netdev '%s' goes: queue %u drops %u frames it held", be->id, q,
                netbe_frame_queue_length(&be->queues[q].txq) +
                    netbe_frame_queue_length(&be->queues[q].rxq));
    }
    netbe_backend_retire(be); /* frames it held are counted as drops */
    if (dev) {
        /* QEMU keeps a NIC whose netdev went, with its link down: so do we */
        be->retired = true;
        if (dev->vnet) {
            netbe_vnet_set_link(dev, false);
        }
        g_ptr_array_add(rt->retired, be);
    } else {
        netbe_backend_free(be);
    }
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
}

bool netbe_runtime_netdev_del(NetbeRuntime *rt, const char *id, GError **errp)
{
    NetbeBackend *be;

    if (!netbe_live_check_runtime(rt, "netdev-del", errp) ||
        !(be = live_find_backend(rt, "netdev-del", id, errp))) {
        return false;
    }
    netbe_live_remove_backend(rt, be);
    g_debug("netdev '%s' deleted", id);
    return true;
}

void netbe_live_remove_device(NetbeRuntime *rt, NetbeDevice *dev)
{
    NetbeBackend *be = dev->backend;

    g_ptr_array_remove(rt->devices, dev);
    netbe_device_free(dev);
    if (be && be->retired && g_ptr_array_remove(rt->retired, be)) {
        netbe_backend_free(be);
    } else if (be) {
        netbe_backend_detach(be);
    }
}

/* The hub @hub_id and netdev @netdev_id, or false with @errp set. */
static bool live_find_port(NetbeRuntime *rt, const char *cmd, const char *hub_id,
                           const char *netdev_id, NetbeHub **hub, NetbeBackend **be, GError **errp)
{
    if (!netbe_live_check_runtime(rt, cmd, errp)) {
        return false;
    }
    *hub = netbe_runtime_find_hub(rt, hub_id);
    if (!*hub) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT, "%s: no hub '%s'", cmd, hub_id);
        return false;
    }
    *be = live_find_backend(rt, cmd, netdev_id, errp);
    return *be != NULL;
}

bool netbe_runtime_hub_port_add(NetbeRuntime *rt, const char *hub_id, const char *netdev_id,
                                GError **errp)
{
    NetbeHub *hub, *other;
    NetbeBackend *be;
    NetbeDevice *dev;

    if (!live_find_port(rt, "hub-port-add", hub_id, netdev_id, &hub, &be, errp)) {
        return false;
    }
    other = netbe_live_hub_of(rt, be);
    dev = netbe_live_device_of(rt, be);
    if (other || dev) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EBUSY,
                    "hub-port-add: netdev '%s' is already used by %s%s%s (a netdev has one "
                    "frontend)",
                    netdev_id, other ? "[hub." : "[device.", other ? netbe_hub_id(other) : dev->id,
                    "]");
        return false;
    }
    if (!netbe_hub_add_port_live(hub, be, errp)) {
        g_prefix_error(errp, "hub-port-add: ");
        return false;
    }
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
    return true;
}

bool netbe_runtime_hub_port_del(NetbeRuntime *rt, const char *hub_id, const char *netdev_id,
                                GError **errp)
{
    NetbeHub *hub;
    NetbeBackend *be;

    if (!live_find_port(rt, "hub-port-del", hub_id, netdev_id, &hub, &be, errp)) {
        return false;
    }
    if (!netbe_hub_remove_port(hub, be)) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT,
                    "hub-port-del: netdev '%s' is no port of "
                    "hub '%s'",
                    netdev_id, hub_id);
        return false;
    }
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
    return true;
}

bool netbe_runtime_set_link(NetbeRuntime *rt, const char *id, bool up, GError **errp)
{
    NetbeBackend *be = netbe_runtime_find_backend(rt, id);
    NetbeDevice *dev = NULL;

    if (!netbe_live_check_runtime(rt, "link", errp)) {
        return false;
    }
    for (guint i = 0; !be && i < rt->devices->len; i++) {
        NetbeDevice *d = g_ptr_array_index(rt->devices, i);

        if (strcmp(d->id, id) == 0) {
            dev = d;
        }
    }
    if (!be && !dev) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENOENT, "link: no netdev or device '%s'", id);
        return false;
    }
    if (dev && dev->backend->retired && up) {
        g_set_error(errp, NETBE_CONFIG_ERROR, ENODEV,
                    "link: device '%s' lost its netdev '%s' (netdev-del): its link stays down", id,
                    dev->backend->id);
        return false;
    }
    be = be ? be : dev->backend;
    dev = dev ? dev : netbe_live_device_of(rt, be);
    netbe_backend_set_link(be, up); /* link-changed for the netdev, on a change */
    if (dev && dev->vnet) {         /* a model not made yet starts with the backend's link */
        netbe_vnet_set_link(dev, up);
    }
    g_debug("link of '%s' %s", id, up ? "up" : "down");
    return true;
}

/* A runtime command for the plugin of netdev @id: "@cmd @arg". */
static bool live_plugin_command(NetbeRuntime *rt, const char *cmd, const char *id, const char *arg,
                                GError **errp)
{
    GError *err = NULL;
    NetbeBackend *be;

    if (!netbe_live_check_runtime(rt, cmd, errp) || !(be = live_find_backend(rt, cmd, id, errp))) {
        return false;
    }
    if (netbe_backend_control(be, cmd, arg, &err)) {
        return true;
    }
    if (err->code == ENOTSUP) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTSUP,
                    "%s: netdev '%s' (%s) has no %s (a user netdev has)", cmd, id,
                    netbe_backend_plugin_name(be), cmd);
    } else {
        g_set_error(errp, err->domain, err->code, "%s: netdev '%s' (%s): %s", cmd, id,
                    netbe_backend_plugin_name(be), err->message);
    }
    g_error_free(err);
    return false;
}

bool netbe_runtime_hostfwd_add(NetbeRuntime *rt, const char *netdev_id, const char *rule,
                               GError **errp)
{
    return live_plugin_command(rt, "hostfwd-add", netdev_id, rule, errp);
}

bool netbe_runtime_hostfwd_del(NetbeRuntime *rt, const char *netdev_id, const char *rule,
                               GError **errp)
{
    return live_plugin_command(rt, "hostfwd-del", netdev_id, rule, errp);
}

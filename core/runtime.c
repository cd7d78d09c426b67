// SPDX-License-Identifier: LGPL-2.1-or-later
/* runtime.c - the runtime: owns the context, plugins, backends and frontends. */
#include <errno.h>
#include <string.h>
#include "ini-read.h"
#include "netbe-priv.h"

G_DEFINE_QUARK(netbe - plugin - error - quark, netbe_plugin_error)

NetbeRuntime *netbe_runtime_new(GMainContext *ctx, NetbeRuntimeFlags flags)
{
    NetbeRuntime *rt = g_new0(NetbeRuntime, 1);

    /* not G_MAIN_CONTEXT_FLAGS_OWNERLESS_POLLING: it makes GLib signal the wakeup fd
     * during every dispatch, a spurious second wakeup per event for a foreign loop;
     * netbe's own entry points wake the fd themselves (netbe_loop_fd_note_change) */
    rt->ctx = ctx ? g_main_context_ref(ctx) : g_main_context_new();
    rt->loop = g_main_loop_new(rt->ctx, false);
    rt->flags = flags;
    rt->plugins = g_ptr_array_new_with_free_func((GDestroyNotify)netbe_plugin_free);
    rt->backends = g_ptr_array_new();
    rt->hubs = g_ptr_array_new();
    rt->devices = g_ptr_array_new();
    rt->retired = g_ptr_array_new();
    rt->queue_limit = 1024;
    rt->handover_uids = g_array_new(false, false, sizeof(uid_t));
    rt->handover_locks = g_array_new(false, false, sizeof(int));
    rt->io = netbe_io_engine_new(NETBE_IO_AUTO);
    return rt;
}

void netbe_runtime_set_plugin_path(NetbeRuntime *rt, const char *path)
{
    g_free(rt->plugin_path_override);
    rt->plugin_path_override = g_strdup(path);
}

/* Free frontends, then backends (cleanup), then plugins: the order of dependence. */
static void runtime_clear(NetbeRuntime *rt)
{
    for (guint i = 0; i < rt->devices->len; i++) {
        netbe_device_free(g_ptr_array_index(rt->devices, i));
    }
    g_ptr_array_set_size(rt->devices, 0);
    for (guint i = 0; i < rt->retired->len; i++) { /* after the devices that used them */
        netbe_backend_free(g_ptr_array_index(rt->retired, i));
    }
    g_ptr_array_set_size(rt->retired, 0);
    for (guint i = 0; i < rt->hubs->len; i++) {
        netbe_hub_free(g_ptr_array_index(rt->hubs, i));
    }
    g_ptr_array_set_size(rt->hubs, 0);
    for (guint i = rt->backends->len; i-- > 0;) {
        netbe_backend_free(g_ptr_array_index(rt->backends, i));
    }
    g_ptr_array_set_size(rt->backends, 0);
    if (!rt->reload_check) { /* a reload's check borrows the plugins of the runtime it checks for */
        g_ptr_array_set_size(rt->plugins, 0);
    }
}

/* Apply @len bytes of config text (a file's, or a string) to a runtime with no config. */
static bool runtime_load_config(NetbeRuntime *rt, const char *text, size_t len, const char *name,
                                GError **errp)
{
    if (rt->configured) {
        g_set_error(errp, NETBE_CONFIG_ERROR, EEXIST, "%s: this runtime has a config already",
                    name);
        return false;
    }
    runtime_clear(rt);
    if (!netbe_config_apply(rt, text, len, name, errp)) {
        runtime_clear(rt);
        return false;
    }
    rt->configured = true;
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
    return true;
}

bool netbe_runtime_load_config_string(NetbeRuntime *rt, const char *text, const char *name,
                                      GError **errp)
{
    return runtime_load_config(rt, text, strlen(text), name, errp);
}

bool netbe_runtime_load_config_file(NetbeRuntime *rt, const char *path, GError **errp)
{
    size_t len = 0;
    g_autofree char *text = netbe_ini_read_file(path, &len, errp);

    if (!text || !runtime_load_config(rt, text, len, path, errp)) {
        return false;
    }
    rt->config_path = g_strdup(path);
    return true;
}

bool netbe_runtime_start(NetbeRuntime *rt, GError **errp)
{
    if (rt->flags & NETBE_RUNTIME_CHECK_ONLY) {
        return true;
    }
    netbe_io_engine_name(rt->io); /* set up now: a sandbox may close io_uring_setup later */
    for (guint i = 0; i < rt->hubs->len; i++) {
        if (!netbe_hub_start(g_ptr_array_index(rt->hubs, i), errp)) {
            return false;
        }
    }
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        if (dev->vhost_user && !netbe_vu_server_start(dev, errp)) {
            return false;
        }
    }
    rt->running = true;
    netbe_loop_fd_note_change(rt->loop_fd, rt->ctx);
    return true;
}

void netbe_runtime_run(NetbeRuntime *rt)
{
    g_main_loop_run(rt->loop);
}

void netbe_runtime_quit(NetbeRuntime *rt)
{
    g_main_loop_quit(rt->loop);
}

bool netbe_runtime_iterate(NetbeRuntime *rt, bool may_block)
{
    return g_main_context_iteration(rt->ctx, may_block);
}

int netbe_runtime_get_fd(NetbeRuntime *rt)
{
    if (!rt->loop_fd) {
        rt->loop_fd = netbe_loop_fd_new(rt->ctx, NULL);
    }
    return rt->loop_fd ? netbe_loop_fd_get(rt->loop_fd) : -1;
}

void netbe_runtime_dispatch(NetbeRuntime *rt)
{
    if (rt->loop_fd) {
        netbe_loop_fd_dispatch(rt->loop_fd);
    } else {
        while (g_main_context_iteration(rt->ctx, false)) {
        }
    }
}

/* Close every vhost-user server; @handed_over: another process serves their VMMs now. */
static void runtime_close_vhost_user(NetbeRuntime *rt, bool handed_over)
{
    for (guint i = 0; i < rt->devices->len; i++) {
        NetbeDevice *dev = g_ptr_array_index(rt->devices, i);

        netbe_vu_server_free(dev->vu, handed_over);
    }
}

void netbe_runtime_stop(NetbeRuntime *rt)
{
    runtime_close_vhost_user(rt, false);
    for (guint i = 0; i < rt->devices->len; i++) {
        netbe_device_stop(g_ptr_array_index(rt->devices, i));
    }
    for (guint i = 0; i < rt->hubs->len; i++) {
        netbe_hub_stop(g_ptr_array_index(rt->hubs, i));
    }
}

void netbe_runtime_release(NetbeRuntime *rt)
{
    runtime_close_vhost_user(rt, true);
    netbe_runtime_stop(rt);
    rt->handed_over = true;
    for (guint i = rt->backends->len; i-- > 0;) {
        netbe_backend_release(g_ptr_array_index(rt->backends, i));
    }
}

void netbe_runtime_free(NetbeRuntime *rt)
{
    if (!rt) {
        return;
    }
    netbe_runtime_stop(rt);
    runtime_clear(rt);
    g_ptr_array_unref(rt->plugins);
    g_ptr_array_unref(rt->backends);
    g_ptr_array_unref(rt->hubs);
    g_ptr_array_unref(rt->devices);
    g_ptr_array_unref(rt->retired);
    g_free(rt->config_path);
    g_free(rt->runtime_spec);
    g_strfreev(rt->allowed_syscalls);
    netbe_loop_fd_free(rt->loop_fd);
    /* let destroyed sources go before the context does (a reload's check runs inside a
     * dispatch of the context it shares: it must not dispatch it again) */
    while (!rt->reload_check && g_main_context_iteration(rt->ctx, false)) {
    }
    g_main_loop_unref(rt->loop);
    g_main_context_unref(rt->ctx);
    g_free(rt->plugin_path_override);
    mig_lock_drop_all(rt);
    g_array_unref(rt->handover_locks);
    netbe_io_engine_free(rt->io);
    g_array_unref(rt->handover_uids);
    netbe_events_free(rt);
    g_free(rt);
}

GMainContext *netbe_runtime_get_context(NetbeRuntime *rt)
{
    return rt->ctx;
}

uint64_t netbe_runtime_needed_caps(NetbeRuntime *rt)
{
    uint64_t caps = 0;

    for (guint i = 0; i < rt->backends->len; i++) {
        NetbeBackend *be = g_ptr_array_index(rt->backends, i);

        caps |= netbe_backend_needed_caps(be);
    }
    return caps;
}

const char **netbe_runtime_extra_syscalls(NetbeRuntime *rt)
{
    GPtrArray *names = g_ptr_array_new();

    for (guint i = 0; i < rt->backends->len; i++) {
        const char *const *extra = netbe_backend_extra_syscalls(g_ptr_array_index(rt->backends, i));

        for (guint j = 0; extra && extra[j]; j++) {
            if (!g_ptr_array_find_with_equal_func(names, extra[j], g_str_equal, NULL)) {
                g_ptr_array_add(names, (gpointer)extra[j]);
            }
        }
    }
    g_ptr_array_add(names, NULL);
    g_strfreev(rt->allowed_syscalls); /* what the sandbox allows: netdev-add checks it */
    rt->allowed_syscalls = g_strdupv((char **)names->pdata);
    return (const char **)g_ptr_array_free(names, false);
}

/* Plugins of a runtime with no config yet come straight from the plugin path. */
static bool runtime_ensure_plugins(NetbeRuntime *rt, GError **errp)
{
    g_autoptr(GPtrArray) errors = g_ptr_array_new_with_free_func(g_free);

    if (rt->configured || rt->plugins->len) {
        return true;
    }
    if (!netbe_plugins_load_path(rt->plugins,
                                 rt->plugin_path_override ? rt->plugin_path_override
                                                          : NETBE_DEFAULT_PLUGIN_PATH,
                                 errors)) {
        netbe_errors_to_gerror(errors, NETBE_PLUGIN_ERROR, errp);
        return false;
    }
    return true;
}

char *netbe_runtime_list_plugins(NetbeRuntime *rt, GError **errp)
{
    GString *out = g_string_new(NULL);

    if (!runtime_ensure_plugins(rt, errp)) {
        g_string_free(out, true);
        return NULL;
    }
    for (guint i = 0; i < rt->plugins->len; i++) {
        const NetbePlugin *p = g_ptr_array_index(rt->plugins, i);

        g_string_append_printf(out, "%-10s %s (ABI %u, %s)\n", p->desc->name,
                               p->desc->summary ? p->desc->summary : "", p->desc->abi_version,
                               p->path);
    }
    return g_string_free(out, false);
}

char *netbe_runtime_plugin_help(NetbeRuntime *rt, const char *name, GError **errp)
{
    const NetbePlugin *p;
    GString *out;

    if (!runtime_ensure_plugins(rt, errp)) {
        return NULL;
    }
    p = netbe_plugins_find(rt->plugins, name);
    if (!p) {
        g_set_error(errp, NETBE_PLUGIN_ERROR, ENOENT, "no plugin '%s' in the plugin path", name);
        return NULL;
    }
    out = g_string_new(NULL);
    g_string_append_printf(out, "%s: %s\n%s\n\n[netdev.ID] keys:\n  %-12s %s\n", p->desc->name,
                           p->desc->summary ? p->desc->summary : "", p->path, "type",
                           p->desc->name);
    netbe_schema_describe(p->desc->options, out);
    return g_string_free(out, false);
}

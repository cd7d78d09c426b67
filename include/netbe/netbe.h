/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netbe.h - the runtime and embedding API of libnetbe. */
#ifndef NETBE_NETBE_H
#define NETBE_NETBE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <stdint.h>
#include <glib.h>

#include "netbe/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Threads: a runtime and everything it owns belong to the thread that iterates its
 * GMainContext. Call these functions from that thread only, except
 * netbe_runtime_quit(), which is safe from any thread and from signal handlers
 * installed with g_unix_signal_add().
 */

typedef struct NetbeRuntime NetbeRuntime;
typedef struct NetbeDevice NetbeDevice;

/* Error domains, one per module. Codes are errno values where one fits, else -1. */
#define NETBE_CONFIG_ERROR (netbe_config_error_quark())
#define NETBE_PLUGIN_ERROR (netbe_plugin_error_quark())
#define NETBE_BACKEND_ERROR (netbe_backend_error_quark())
NETBE_API GQuark netbe_config_error_quark(void);
NETBE_API GQuark netbe_plugin_error_quark(void);
NETBE_API GQuark netbe_backend_error_quark(void);

typedef enum NetbeRuntimeFlags {
    NETBE_RUNTIME_DEFAULT = 0,
    /* Validate only: plugins run init, but nothing is connected or started. */
    NETBE_RUNTIME_CHECK_ONLY = 1 << 0,
} NetbeRuntimeFlags;

/*
 * netbe_runtime_new() - create a runtime.
 * @ctx: the GMainContext to run on, or NULL for a private one
 * @flags: NetbeRuntimeFlags
 * Return: a runtime; free with netbe_runtime_free().
 */
NETBE_API NetbeRuntime *netbe_runtime_new(GMainContext *ctx, NetbeRuntimeFlags flags);

/*
 * netbe_runtime_set_plugin_path() - directories to load plugins from, ':'-separated.
 * Overrides [runtime] plugin_path of configs loaded afterwards. Relative entries are
 * taken from the current directory.
 */
NETBE_API void netbe_runtime_set_plugin_path(NetbeRuntime *rt, const char *path);

/*
 * netbe_runtime_load_config_file() - parse, validate and apply an ini file: load
 * plugins, create and init backends, create frontends, connect immediate ones.
 * Return: false with every error of the file in @errp (one per line, as
 * "FILE:LINE: [section] key: problem (allowed: ...)"); nothing is left half-built.
 */
NETBE_API bool netbe_runtime_load_config_file(NetbeRuntime *rt, const char *path, GError **errp);

/* Same, from a string; @name is used in place of the file name in messages. */
NETBE_API bool netbe_runtime_load_config_string(NetbeRuntime *rt, const char *text,
                                                const char *name, GError **errp);

/*
 * netbe_runtime_start() - start the frontends netbe runs by itself (hubs). Deferred
 * hubs connect their backends here. Devices start when their VMM starts them.
 */
NETBE_API bool netbe_runtime_start(NetbeRuntime *rt, GError **errp);

/* Run the context until netbe_runtime_quit(). */
NETBE_API void netbe_runtime_run(NetbeRuntime *rt);
/* Ask netbe_runtime_run() to return; safe from any thread. */
NETBE_API void netbe_runtime_quit(NetbeRuntime *rt);
/* One iteration of the context. Return: true if something was dispatched. */
NETBE_API bool netbe_runtime_iterate(NetbeRuntime *rt, bool may_block);

/*
 * netbe_runtime_get_fd() - an fd that becomes readable whenever the runtime has
 * work (fd events or timers). A foreign epoll/poll loop watches it for POLLIN and
 * calls netbe_runtime_dispatch(); it is level-triggered: readable until dispatched.
 * netbe's own calls keep the fd current; if you attach GLib sources of your own to
 * the runtime's context from outside a dispatch, call g_main_context_wakeup() after.
 * Return: the fd (owned by the runtime), or -1 on error.
 */
NETBE_API int netbe_runtime_get_fd(NetbeRuntime *rt);
/* Do the work that made the fd readable, without blocking. */
NETBE_API void netbe_runtime_dispatch(NetbeRuntime *rt);

/* Stop every frontend and disconnect every backend; the runtime can be freed. */
NETBE_API void netbe_runtime_stop(NetbeRuntime *rt);
/* Stop (if needed) and free everything, unloading plugins. NULL is ignored. */
NETBE_API void netbe_runtime_free(NetbeRuntime *rt);

NETBE_API GMainContext *netbe_runtime_get_context(NetbeRuntime *rt);
/*
 * netbe_user_lookup() - a user given by name or as a numeric uid.
 * @gid: gets the user's primary group (the uid itself for an unknown number); may be NULL
 * Return: true with *uid set; false with @errp set if there is no such user.
 */
NETBE_API bool netbe_user_lookup(const char *user, uid_t *uid, gid_t *gid, GError **errp);
/*
 * netbe_unix_listen() - a non-blocking, close-on-exec UNIX stream socket listening at
 * @path, its file created with @mode. A socket file nobody listens on (left by a crash) is
 * replaced; a live one, or a file that is not a socket, is refused.
 * @what: names the socket in messages ("control socket")
 * @made: gets the stat of the file bind() made (to remove only that one later)
 * Return: the fd, or -1 with @errp set.
 */
NETBE_API int netbe_unix_listen(const char *what, const char *path, mode_t mode, int backlog,
                                struct stat *made, GError **errp);

/* ---- Least privilege: what a host that drops privileges must keep ---- */

/*
 * netbe_runtime_needed_caps() - the Linux capabilities the backends still need, summed
 * over the backends whose plugin says (needed_caps, plugin ABI 2): for a backend_connect()
 * that has not run yet (a deferred device) or for work the plugin does later by itself.
 * Ask once the immediate backends are connected (after netbe_runtime_start() or an
 * incoming handover), before dropping privileges.
 * Return: a mask of (1 << CAP_*) bits (linux/capability.h); 0 when none is needed.
 */
NETBE_API uint64_t netbe_runtime_needed_caps(NetbeRuntime *rt);

/*
 * netbe_runtime_extra_syscalls() - the syscalls that the plugins of the configured
 * backends name beyond those of the runtime and the shipped plugins (extra_syscalls,
 * plugin ABI 2), each once, for a host that installs a seccomp filter.
 * Return: a NULL-terminated array of names owned by the plugins; free the array (not the
 * names) with g_free() while the runtime lives.
 */
NETBE_API const char **netbe_runtime_extra_syscalls(NetbeRuntime *rt);

/* ---- Introspection ---- */

/* Loaded plugins: one line each, "name  summary  (file)". Caller frees. */
NETBE_API char *netbe_runtime_list_plugins(NetbeRuntime *rt, GError **errp);
/* The option schema of plugin @name as help text. Caller frees. */
NETBE_API char *netbe_runtime_plugin_help(NetbeRuntime *rt, const char *name, GError **errp);
/* Status (objects and their states) as text or JSON. Caller frees. */
NETBE_API char *netbe_runtime_status(NetbeRuntime *rt, bool json);
/* Per backend and queue counters as text or JSON. Caller frees. */
NETBE_API char *netbe_runtime_stats(NetbeRuntime *rt, bool json);

typedef struct NetbeQueueStats {
    uint64_t tx_frames, tx_bytes, tx_drops; /* frontend -> backend */
    uint64_t rx_frames, rx_bytes, rx_drops; /* backend -> frontend */
    uint32_t tx_queued, rx_queued;          /* frames held in netbe's queues now */
} NetbeQueueStats;

/* Counters of netdev @id, queue @queue. Return: false if there is no such queue. */
NETBE_API bool netbe_runtime_get_queue_stats(NetbeRuntime *rt, const char *netdev_id,
                                             unsigned queue, NetbeQueueStats *out);

/* ---- Devices ([device.ID]) ---- */

/* The device with this id, or NULL. */
NETBE_API NetbeDevice *netbe_runtime_find_device(NetbeRuntime *rt, const char *id);
/*
 * netbe_device_start() - the device's driver is ready (virtio DRIVER_OK): a deferred
 * device connects its backend now, unless a handover brought it.
 */
NETBE_API bool netbe_device_start(NetbeDevice *dev, GError **errp);
/* True once the device's backend is connected or adopted. */
NETBE_API bool netbe_device_is_connected(const NetbeDevice *dev);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_NETBE_H */

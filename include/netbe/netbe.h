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

/**
 * typedef NetbeRuntime - a runtime: the plugins, backends and frontends of one config, run
 * on one GMainContext. Opaque; create with netbe_runtime_new().
 */
typedef struct NetbeRuntime NetbeRuntime;
/**
 * typedef NetbeDevice - a device frontend ([device.ID] in the config) that a VMM drives.
 * Opaque; owned by its runtime, found with netbe_runtime_find_device().
 */
typedef struct NetbeDevice NetbeDevice;

/* Error domains, one per module. Codes are errno values where one fits, else -1. */
#define NETBE_CONFIG_ERROR (netbe_config_error_quark())
#define NETBE_PLUGIN_ERROR (netbe_plugin_error_quark())
#define NETBE_BACKEND_ERROR (netbe_backend_error_quark())
/**
 * netbe_config_error_quark() - the error domain of config errors (NETBE_CONFIG_ERROR).
 *
 * Return: the domain's quark.
 */
NETBE_API GQuark netbe_config_error_quark(void);
/**
 * netbe_plugin_error_quark() - the error domain of plugin loading (NETBE_PLUGIN_ERROR).
 *
 * Return: the domain's quark.
 */
NETBE_API GQuark netbe_plugin_error_quark(void);
/**
 * netbe_backend_error_quark() - the error domain of backends (NETBE_BACKEND_ERROR).
 *
 * Return: the domain's quark.
 */
NETBE_API GQuark netbe_backend_error_quark(void);

/**
 * enum NetbeRuntimeFlags - how a runtime runs, for netbe_runtime_new().
 * @NETBE_RUNTIME_DEFAULT: load, connect and run
 * @NETBE_RUNTIME_CHECK_ONLY: validate only: plugins run init, but nothing is connected or
 *   started
 */
typedef enum NetbeRuntimeFlags {
    NETBE_RUNTIME_DEFAULT = 0,
    NETBE_RUNTIME_CHECK_ONLY = 1 << 0,
} NetbeRuntimeFlags;

/**
 * netbe_runtime_new() - create a runtime.
 * @ctx: the GMainContext to run on, or NULL for a private one
 * @flags: NetbeRuntimeFlags
 *
 * Return: a runtime; free with netbe_runtime_free().
 */
NETBE_API NetbeRuntime *netbe_runtime_new(GMainContext *ctx, NetbeRuntimeFlags flags);

/**
 * netbe_runtime_set_plugin_path() - directories to load plugins from.
 * @rt: the runtime
 * @path: directories, ':'-separated; relative entries are taken from the current directory
 *
 * Overrides [runtime] plugin_path of configs loaded afterwards.
 */
NETBE_API void netbe_runtime_set_plugin_path(NetbeRuntime *rt, const char *path);

/**
 * netbe_runtime_load_config_file() - parse, validate and apply an ini file.
 * @rt: the runtime
 * @path: the ini file
 * @errp: gets every error of the file
 *
 * Loads plugins, creates and inits backends, creates frontends, connects immediate ones.
 *
 * Return: true once applied; false with every error of the file in @errp (one per line, as
 * "FILE:LINE: [section] key: problem (allowed: ...)"); nothing is left half-built.
 */
NETBE_API bool netbe_runtime_load_config_file(NetbeRuntime *rt, const char *path, GError **errp);

/**
 * netbe_runtime_load_config_string() - netbe_runtime_load_config_file() on a string.
 * @rt: the runtime
 * @text: the ini text
 * @name: used in place of the file name in messages
 * @errp: gets every error of the text
 *
 * Return: as netbe_runtime_load_config_file().
 */
NETBE_API bool netbe_runtime_load_config_string(NetbeRuntime *rt, const char *text,
                                                const char *name, GError **errp);

/**
 * netbe_runtime_start() - start the frontends netbe runs by itself.
 * @rt: the runtime
 * @errp: gets the error
 *
 * Starts the hubs (deferred hubs connect their backends here) and the vhost-user servers
 * of vhost-user devices. Devices start when their VMM starts them. In check-only mode
 * (NETBE_RUNTIME_CHECK_ONLY) nothing starts.
 *
 * Return: true once started; false with @errp set when a hub or server cannot start.
 */
NETBE_API bool netbe_runtime_start(NetbeRuntime *rt, GError **errp);

/* ---- Live changes: what QEMU's netdev_add / netdev_del / set_link / hostfwd_add do ----
 *
 * Each call checks everything first and changes nothing when it fails. Errors about the
 * arguments read as the ini's do, with the command in place of FILE and the position of
 * the argument in place of LINE: "netdev-add:2: [netdev.net9] ifname: ..." is about the
 * second KEY=VALUE; messages about the netdev as a whole say 1. A runtime that handed its
 * backends over (netbe_runtime_migrate_to()) refuses every change, and so does a call made
 * from a callback netbe runs while it hands frames to a frontend (defer it to the loop). A
 * handover runs to its end inside netbe_runtime_migrate_to(), so no change can interleave
 * with one.
 */

/**
 * netbe_runtime_netdev_add() - add a netdev, as a [netdev.ID] section would, and connect it.
 * @rt: the runtime
 * @id: the new netdev's id (1-64 of A-Z a-z 0-9 _ -), not in use
 * @key_values: "KEY=VALUE" strings, NULL-terminated: "type=tap", then the keys of the
 *   plugin's schema and the core's (queue_limit, batch), checked as in an ini file
 * @errp: gets every error, one per line
 *
 * The plugin must be one the runtime loaded with its config. The netdev connects at once
 * (it has no frontend yet: give it one with netbe_runtime_hub_port_add()). A plugin that
 * needs a Linux capability the process no longer has, or a syscall the host said it would
 * not allow (netbe_runtime_extra_syscalls() asked before), is refused with that reason.
 *
 * Return: true once the netdev is connected; false with @errp set, nothing changed.
 */
NETBE_API bool netbe_runtime_netdev_add(NetbeRuntime *rt, const char *id,
                                        const char *const *key_values, GError **errp);
/**
 * netbe_runtime_netdev_del() - remove a netdev and close what it holds.
 * @rt: the runtime
 * @id: the netdev
 * @errp: gets the error
 *
 * A hub port goes with it. A device that uses it stays, as a QEMU NIC does when its
 * netdev is deleted: its link goes down (a virtio-net guest sees VIRTIO_NET_S_LINK_UP
 * clear) and its frames are dropped and counted until the device goes. Frames netbe holds
 * for the netdev are dropped and counted in its queues' tx_drops and rx_drops.
 *
 * Return: false with @errp set if there is no such netdev.
 */
NETBE_API bool netbe_runtime_netdev_del(NetbeRuntime *rt, const char *id, GError **errp);
/**
 * netbe_runtime_hub_port_add() - make a netdev that has no frontend a port of a hub.
 * @rt: the runtime
 * @hub: the hub's id ([hub.ID])
 * @netdev: the netdev's id
 * @errp: gets the error
 *
 * The port speaks the hub's vnet header (or the hub agrees on one anew) and forwards at
 * once if the hub runs; a netdev not connected yet connects first.
 *
 * Return: false with @errp set, nothing changed, if either is unknown or the netdev has
 * a frontend already.
 */
NETBE_API bool netbe_runtime_hub_port_add(NetbeRuntime *rt, const char *hub, const char *netdev,
                                          GError **errp);
/**
 * netbe_runtime_hub_port_del() - take a netdev out of a hub; it stays, without a frontend.
 * @rt: the runtime
 * @hub: the hub's id
 * @netdev: the port's netdev
 * @errp: gets the error
 *
 * Frames netbe holds for the hub from that port are dropped and counted (rx_drops).
 *
 * Return: false with @errp set if the netdev is no port of that hub.
 */
NETBE_API bool netbe_runtime_hub_port_del(NetbeRuntime *rt, const char *hub, const char *netdev,
                                          GError **errp);
/**
 * netbe_runtime_set_link() - set the link of a netdev or a device up or down.
 * @rt: the runtime
 * @id: a netdev's or a device's id (a netdev's when both have it)
 * @up: link up
 * @errp: gets the error
 *
 * A netdev and the device that uses it share one link, as in QEMU's set_link: while it is
 * down, frames in both directions are dropped and counted (the netdev's tx_drops and
 * rx_drops; an fd is still read, so the kernel's queue does not fill), and a virtio-net
 * guest sees VIRTIO_NET_S_LINK_UP clear with a config interrupt (embedded devices; a
 * vhost-user device shows it in its config space, which the VMM reads on GET_CONFIG).
 *
 * Return: false with @errp set if there is no such netdev or device.
 */
NETBE_API bool netbe_runtime_set_link(NetbeRuntime *rt, const char *id, bool up, GError **errp);
/**
 * netbe_runtime_hostfwd_add() - forward a host port to the guest of a user netdev.
 * @rt: the runtime
 * @netdev_id: a netdev whose plugin takes runtime commands (&NetbePluginDesc.control):
 *   the user plugin
 * @rule: a rule as in the user plugin's hostfwd option:
 *   "[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT", an IPv6 address in brackets
 *   ("tcp:[::1]:2222-[fd00::15]:22")
 * @errp: gets the error
 *
 * Return: true once the host port listens; false with @errp set, nothing changed.
 */
NETBE_API bool netbe_runtime_hostfwd_add(NetbeRuntime *rt, const char *netdev_id, const char *rule,
                                         GError **errp);
/**
 * netbe_runtime_hostfwd_del() - stop forwarding a host port (as netbe_runtime_hostfwd_add()).
 * @rt: the runtime
 * @netdev_id: the netdev
 * @rule: the rule as it was added or configured (its host side decides: protocol, address
 *   and port)
 * @errp: gets the error
 *
 * Return: false with @errp set if the netdev forwards no such host port.
 */
NETBE_API bool netbe_runtime_hostfwd_del(NetbeRuntime *rt, const char *netdev_id, const char *rule,
                                         GError **errp);
/**
 * netbe_runtime_reload() - re-read the config and apply what changed.
 * @rt: the runtime
 * @path: the ini file, or NULL for the file the runtime loaded
 *   (netbe_runtime_load_config_file()); a regular file (a pipe, whose open would block the
 *   runtime, or a device is refused)
 * @errp: gets every error of the file, as netbe_runtime_load_config_file() reports them
 *
 * The whole file is checked first, as at start (plugins run init, nothing connects); a
 * file with any error changes nothing. Then netdevs, hubs and devices are compared by id
 * with what runs (netdevs added live included): one that is the same, key for key, is not
 * touched: its connections stay and its counters go on; a netdev whose rate-limit keys alone
 * changed takes the new limits in place. A removed one goes (as
 * netbe_runtime_netdev_del()); a changed netdev is replaced (its counters start at 0), and
 * so is a device whose section or netdev changed; a hub keeps its unchanged ports, loses
 * and gains the others. Added netdevs connect before anything is removed, so that a
 * failure there still changes nothing; a replaced netdev connects after its old instance
 * closed (it may need the same TAP or port), and if that fails the error says so and the
 * netdev stays unconnected. [runtime] must stay the same (it needs a restart), and an
 * embedded device a VMM found (netbe_runtime_find_device()) cannot be removed or replaced.
 *
 * Return: true once applied; false with @errp set.
 */
NETBE_API bool netbe_runtime_reload(NetbeRuntime *rt, const char *path, GError **errp);

/**
 * netbe_runtime_run() - run the context until netbe_runtime_quit().
 * @rt: the runtime
 */
NETBE_API void netbe_runtime_run(NetbeRuntime *rt);
/**
 * netbe_runtime_quit() - ask netbe_runtime_run() to return; safe from any thread.
 * @rt: the runtime
 */
NETBE_API void netbe_runtime_quit(NetbeRuntime *rt);
/**
 * netbe_runtime_iterate() - one iteration of the context.
 * @rt: the runtime
 * @may_block: wait for something to dispatch
 *
 * Return: true if something was dispatched.
 */
NETBE_API bool netbe_runtime_iterate(NetbeRuntime *rt, bool may_block);

/**
 * netbe_runtime_get_fd() - an fd that becomes readable whenever the runtime has work.
 * @rt: the runtime
 *
 * The fd is readable on fd events or timers. A foreign epoll/poll loop watches it for
 * POLLIN and calls netbe_runtime_dispatch(); it is level-triggered: readable until
 * dispatched. netbe's own calls keep the fd current; if you attach GLib sources of your
 * own to the runtime's context from outside a dispatch, call g_main_context_wakeup() after.
 *
 * Return: the fd (owned by the runtime), or -1 on error.
 */
NETBE_API int netbe_runtime_get_fd(NetbeRuntime *rt);
/**
 * netbe_runtime_dispatch() - do the work that made the fd readable, without blocking.
 * @rt: the runtime
 */
NETBE_API void netbe_runtime_dispatch(NetbeRuntime *rt);

/**
 * netbe_runtime_stop() - stop every frontend and disconnect every backend.
 * @rt: the runtime, which can be freed afterwards
 */
NETBE_API void netbe_runtime_stop(NetbeRuntime *rt);
/**
 * netbe_runtime_free() - stop (if needed) and free everything, unloading plugins.
 * @rt: the runtime; NULL is ignored
 */
NETBE_API void netbe_runtime_free(NetbeRuntime *rt);

/**
 * netbe_runtime_get_context() - the GMainContext the runtime runs on.
 * @rt: the runtime
 *
 * Return: the context given to netbe_runtime_new(), or the runtime's private one; owned
 * by the runtime.
 */
NETBE_API GMainContext *netbe_runtime_get_context(NetbeRuntime *rt);
/**
 * netbe_user_lookup() - a user given by name or as a numeric uid.
 * @user: a user name or a number
 * @uid: gets the uid
 * @gid: gets the user's primary group (the uid itself for an unknown number); may be NULL
 * @errp: gets the error
 *
 * Return: true with *uid set; false with @errp set if there is no such user.
 */
NETBE_API bool netbe_user_lookup(const char *user, uid_t *uid, gid_t *gid, GError **errp);
/**
 * netbe_unix_listen() - a UNIX stream socket listening at @path.
 * @what: names the socket in messages ("control socket")
 * @path: the socket file
 * @mode: the permissions the socket file is created with
 * @backlog: for listen()
 * @made: gets the stat of the file bind() made (to remove only that one later)
 * @errp: gets the error
 *
 * The socket is non-blocking and close-on-exec. A socket file nobody listens on (left by
 * a crash) is replaced; a live one, or a file that is not a socket, is refused.
 *
 * Return: the fd, or -1 with @errp set.
 */
NETBE_API int netbe_unix_listen(const char *what, const char *path, mode_t mode, int backlog,
                                struct stat *made, GError **errp);
/**
 * netbe_unix_path_usable() - whether netbe_unix_listen() could take @path now, asked
 * before work that should not start when it cannot (a second host on a live control
 * socket refuses before it opens any backend).
 * @what: names the socket in messages ("control socket")
 * @path: the socket file
 * @errp: gets the reason it cannot
 *
 * Nothing is created or removed; netbe_unix_listen() checks again when it binds.
 *
 * Return: true if @path is absent or a socket nobody listens on; false with @errp set if
 * a live process listens on it, it is not a socket, or it cannot be probed.
 */
NETBE_API bool netbe_unix_path_usable(const char *what, const char *path, GError **errp);

/* ---- Least privilege: what a host that drops privileges must keep ---- */

/**
 * netbe_runtime_needed_caps() - the Linux capabilities the backends still need.
 * @rt: the runtime
 *
 * Summed over the backends whose plugin says (needed_caps, plugin ABI 2): for a
 * backend_connect() that has not run yet (a deferred device) or for work the plugin does
 * later by itself. Ask once the immediate backends are connected (after
 * netbe_runtime_start() or an incoming handover), before dropping privileges.
 *
 * Return: a mask of (1 << CAP_*) bits (linux/capability.h); 0 when none is needed.
 */
NETBE_API uint64_t netbe_runtime_needed_caps(NetbeRuntime *rt);

/**
 * netbe_runtime_extra_syscalls() - the syscalls the configured backends' plugins add.
 * @rt: the runtime
 *
 * The syscalls that the plugins of the configured backends name beyond those of the
 * runtime and the shipped plugins (extra_syscalls, plugin ABI 2), each once, for a host
 * that installs a seccomp filter.
 *
 * From this call on, netbe_runtime_netdev_add() and netbe_runtime_reload() refuse a netdev
 * whose plugin names a syscall that was not in the list (a filter built from it would kill
 * the process).
 *
 * Return: a NULL-terminated array of names owned by the plugins; free the array (not the
 * names) with g_free() while the runtime lives.
 */
NETBE_API const char **netbe_runtime_extra_syscalls(NetbeRuntime *rt);

/* ---- Introspection ---- */

/**
 * netbe_runtime_list_plugins() - the plugins in the plugin path, loading them.
 * @rt: the runtime
 * @errp: gets the error
 *
 * Return: one line per plugin, "NAME SUMMARY (ABI N, FILE)"; the caller frees it. NULL
 * with @errp set when the plugins cannot be loaded.
 */
NETBE_API char *netbe_runtime_list_plugins(NetbeRuntime *rt, GError **errp);
/**
 * netbe_runtime_plugin_help() - the option schema of a plugin as help text.
 * @rt: the runtime
 * @name: the plugin (the ini "type")
 * @errp: gets the error
 *
 * Return: the text; the caller frees it. NULL with @errp set when there is no such plugin
 * or the plugins cannot be loaded.
 */
NETBE_API char *netbe_runtime_plugin_help(NetbeRuntime *rt, const char *name, GError **errp);
/**
 * netbe_runtime_status_variant() - the runtime's objects and their states, for a host to
 * show (netbe-host turns it into JSON with json_gvariant_serialize()).
 * @rt: the runtime
 *
 * The tree, a{sv}: "netdevs" (aa{sv}: id, type, queues, state, frontend), "hubs" (aa{sv}: id,
 * ports, state), "devices" (aa{sv}: id, netdev, state; a vhost-user device adds transport,
 * socket, vmm_pid (maybe int32), features, protocol_features, queue_pairs, link and rings
 * (aa{sv}: vring, kicks, interrupts, chains, drops, broken)). Keys are only ever added.
 *
 * Return: the tree (not floating); the caller unrefs it.
 */
NETBE_API GVariant *netbe_runtime_status_variant(NetbeRuntime *rt);
/**
 * netbe_runtime_stats_variant() - the counters of every backend and queue.
 * @rt: the runtime
 *
 * The tree, a{sv}: "queues" (aa{sv}, one per netdev and queue: netdev, queue, tx_frames,
 * tx_bytes, tx_drops, tx_queued, rx_frames, rx_bytes, rx_drops, rx_queued; the *_queued are
 * levels, the others counters), "rate_limits" (aa{sv}, one per netdev that has or had a rate
 * limit: netdev, limited, rx_waits, rx_wait_ns, tx_waits, tx_wait_ns). Keys are only ever
 * added.
 *
 * Return: the tree (not floating); the caller unrefs it.
 */
NETBE_API GVariant *netbe_runtime_stats_variant(NetbeRuntime *rt);

/**
 * struct NetbeQueueStats - the counters of one queue of a backend.
 * @tx_frames: frames frontend -> backend
 * @tx_bytes: bytes frontend -> backend
 * @tx_drops: frames frontend -> backend dropped
 * @rx_frames: frames backend -> frontend
 * @rx_bytes: bytes backend -> frontend
 * @rx_drops: frames backend -> frontend dropped
 * @tx_queued: frames frontend -> backend held in netbe's queues now
 * @rx_queued: frames backend -> frontend held in netbe's queues now
 */
typedef struct NetbeQueueStats {
    uint64_t tx_frames, tx_bytes, tx_drops;
    uint64_t rx_frames, rx_bytes, rx_drops;
    uint32_t tx_queued, rx_queued;
} NetbeQueueStats;

/**
 * netbe_runtime_get_queue_stats() - the counters of one queue of a backend.
 * @rt: the runtime
 * @netdev_id: the backend's id ([netdev.ID])
 * @queue: the queue
 * @out: gets the counters
 *
 * Return: false if there is no such queue.
 */
NETBE_API bool netbe_runtime_get_queue_stats(NetbeRuntime *rt, const char *netdev_id,
                                             unsigned queue, NetbeQueueStats *out);

/* ---- Capture ---- */

/**
 * netbe_runtime_capture_start() - write the frames of a netdev to a pcap file, both
 * directions, from now on.
 * @rt: the runtime
 * @id: a netdev's id ([netdev.ID], also a hub's port), or a device's id (its netdev)
 * @path: the file: created or truncated (mode 0644 before the umask) by this process with
 *   its own rights, e.g. after netbe-host dropped its privileges
 * @max_frames: stop by itself after this many frames; 0: no limit
 * @max_seconds: stop by itself after this long; 0: no limit (at most 1e6)
 * @errp: gets the error
 *
 * The file uses link type Ethernet (DLT_EN10MB) and a snap length of 65535: each frame as
 * it left or entered the backend, without a virtio-net header, stamped when it passed, cut
 * to the snap length only if longer. It is flushed every second and closed when the capture
 * stops (netbe_runtime_capture_stop(), a limit, or when the backend is released). While no
 * capture runs, the data path pays one branch on a pointer.
 *
 * Return: true once capturing; false with @errp set: no such id (ENOENT), a capture runs on
 * that netdev already (EBUSY), a limit out of range (EINVAL), the file cannot be opened (its
 * errno; the message names the uid).
 */
NETBE_API bool netbe_runtime_capture_start(NetbeRuntime *rt, const char *id, const char *path,
                                           uint64_t max_frames, double max_seconds, GError **errp);
/**
 * netbe_runtime_capture_stop() - stop a capture and close its file.
 * @rt: the runtime
 * @id: as for netbe_runtime_capture_start()
 * @frames: gets the number of frames the file holds; may be NULL
 * @errp: gets the error
 *
 * Return: true; false with @errp set when there is no such id or no capture runs (ENOENT).
 */
NETBE_API bool netbe_runtime_capture_stop(NetbeRuntime *rt, const char *id, uint64_t *frames,
                                          GError **errp);
/**
 * netbe_runtime_capture_running() - whether a capture runs on a netdev or device.
 * @rt: the runtime
 * @id: as for netbe_runtime_capture_start()
 * @frames: gets the number of frames written so far, when one runs; may be NULL
 *
 * Return: true while a capture runs; false when none does or there is no such id.
 */
NETBE_API bool netbe_runtime_capture_running(NetbeRuntime *rt, const char *id, uint64_t *frames);

/* ---- Rate limits ---- */

/**
 * netbe_runtime_set_rate_limit() - change the rate limits of a netdev while it runs.
 * @rt: the runtime
 * @netdev_id: the netdev's id ([netdev.ID])
 * @key_values: NULL-terminated "key=value" strings with the keys of the ini
 *   (rx_bytes_per_sec=1250000, tx_frames_burst=64, ...); NULL or empty: no change
 * @errp: gets the error
 *
 * Keys not given keep their values; a *_per_sec of 0 turns that bucket off (its burst keys
 * go with it). Checked as the ini is: an error names the key and the word's position
 * ("rate-limit:N: [netdev.ID] key: ..."), and then nothing changes. Queues waiting for
 * tokens check again under the new limits at once; a bucket that was off starts full.
 *
 * Return: true once applied; false with @errp set (NETBE_CONFIG_ERROR) for an unknown
 * netdev (ENOENT) or an invalid key or value (EINVAL).
 */
NETBE_API bool netbe_runtime_set_rate_limit(NetbeRuntime *rt, const char *netdev_id,
                                            const char *const *key_values, GError **errp);
/**
 * netbe_runtime_get_rate_limit() - the rate limits of a netdev in effect.
 * @rt: the runtime
 * @netdev_id: the netdev's id
 * @errp: gets the error
 *
 * Return: a NULL-terminated array of "key=value" (free with g_strfreev()), bursts given
 * with their effective size, empty when unlimited; NULL with @errp set for an unknown
 * netdev.
 */
NETBE_API char **netbe_runtime_get_rate_limit(NetbeRuntime *rt, const char *netdev_id,
                                              GError **errp);

/**
 * struct NetbeRateLimitStats - how often and how long a netdev's rate limits held it back.
 * @limited: a limit is set now
 * @rx_waits: times the backend stopped reading (or a producer was held back) for tokens
 * @rx_wait_ns: time it spent so, in all (a wait going on included)
 * @tx_waits: times the frontend had to wait to send for tokens
 * @tx_wait_ns: time it spent so, in all
 *
 * "rx" are the frames the backend receives from its network and hands to the frontend,
 * "tx" those the frontend sends out through it. The counters go on when limits change.
 */
typedef struct NetbeRateLimitStats {
    bool limited;
    uint64_t rx_waits, rx_wait_ns;
    uint64_t tx_waits, tx_wait_ns;
} NetbeRateLimitStats;

/**
 * netbe_runtime_get_rate_limit_stats() - the rate limit counters of a netdev.
 * @rt: the runtime
 * @netdev_id: the netdev's id
 * @out: gets the counters
 *
 * Return: false if there is no such netdev.
 */
NETBE_API bool netbe_runtime_get_rate_limit_stats(NetbeRuntime *rt, const char *netdev_id,
                                                  NetbeRateLimitStats *out);

/* ---- Events ---- */

/* What the runtime emits; each event's data is an a{sv} with the fields named here. */
#define NETBE_EVENT_NETDEV_UP "netdev-up"                 /* netdev, type: connected */
#define NETBE_EVENT_NETDEV_DOWN "netdev-down"             /* netdev, type: released */
#define NETBE_EVENT_PEER_CONNECTED "peer-connected"       /* netdev, peer */
#define NETBE_EVENT_PEER_DISCONNECTED "peer-disconnected" /* netdev, peer, reason */
#define NETBE_EVENT_LINK_CHANGED "link-changed"           /* device or netdev, link (up|down) */
#define NETBE_EVENT_HANDOVER_STARTED "handover-started"   /* role (source|destination), peer */
#define NETBE_EVENT_HANDOVER_FINISHED "handover-finished" /* role, ok, downtime_ms or error */
#define NETBE_EVENT_VMM_ATTACHED "vmm-attached"           /* device, pid */
#define NETBE_EVENT_VMM_DETACHED "vmm-detached"           /* device, pid, reason */

/**
 * typedef NetbeEventFn - called for each event of a runtime, in order, on its thread
 * @name:    the event, one of NETBE_EVENT_* (or a host's own)
 * @data:    its fields, an a{sv}; borrowed (ref it to keep it)
 * @time_us: when it happened, g_get_real_time()
 * @opaque:  what netbe_runtime_subscribe() was given
 *
 * It must not block; it may subscribe and unsubscribe (itself too).
 */
typedef void (*NetbeEventFn)(const char *name, GVariant *data, gint64 time_us, void *opaque);

/**
 * netbe_runtime_subscribe() - call @fn for every event @rt emits from now on.
 * @rt:     the runtime
 * @fn:     the subscriber
 * @opaque: passed to @fn
 *
 * Return: the subscription's id (never 0), for netbe_runtime_unsubscribe().
 */
NETBE_API unsigned netbe_runtime_subscribe(NetbeRuntime *rt, NetbeEventFn fn, void *opaque);
/**
 * netbe_runtime_unsubscribe() - end a subscription; @fn is not called for it any more.
 * @rt: the runtime
 * @id: what netbe_runtime_subscribe() returned; 0 and unknown ids are ignored
 */
NETBE_API void netbe_runtime_unsubscribe(NetbeRuntime *rt, unsigned id);
/**
 * netbe_runtime_emit_event_variant() - hand an event to every subscriber, in order.
 * @rt:   the runtime
 * @name: the event (NETBE_EVENT_* or a host's own name)
 * @data: its fields, an a{sv}; a floating reference is taken
 */
NETBE_API void netbe_runtime_emit_event_variant(NetbeRuntime *rt, const char *name, GVariant *data);
/**
 * netbe_runtime_emit_event() - the same, the fields given as pairs.
 * @rt:        the runtime
 * @name:      the event
 * @first_key: the first field's name
 * @...:       its value (a GVariant *, a floating reference is taken), then more pairs of
 *             name and value, then NULL
 *
 * Example: netbe_runtime_emit_event(rt, NETBE_EVENT_LINK_CHANGED, "netdev",
 * g_variant_new_string(id), "link", g_variant_new_string("down"), NULL).
 */
NETBE_API void netbe_runtime_emit_event(NetbeRuntime *rt, const char *name, const char *first_key,
                                        ...) G_GNUC_NULL_TERMINATED;

/* ---- Devices ([device.ID]) ---- */

/**
 * netbe_runtime_find_device() - the device with this id.
 * @rt: the runtime
 * @id: the device's id ([device.ID])
 *
 * Finding a device binds its device model to its backend (once), on the runtime's thread.
 *
 * Return: the device (owned by the runtime), or NULL.
 */
NETBE_API NetbeDevice *netbe_runtime_find_device(NetbeRuntime *rt, const char *id);
/**
 * netbe_device_start() - the device's driver is ready (virtio DRIVER_OK).
 * @dev: the device
 * @errp: gets the error
 *
 * A deferred device connects its backend now, unless a handover brought it. Starting a
 * started device does nothing.
 *
 * Return: true once started; false with @errp set when the backend cannot connect or the
 * runtime is in check-only mode.
 */
NETBE_API bool netbe_device_start(NetbeDevice *dev, GError **errp);
/**
 * netbe_device_is_connected() - whether the device's backend is connected.
 * @dev: the device
 *
 * Return: true once the device's backend is connected or adopted.
 */
NETBE_API bool netbe_device_is_connected(const NetbeDevice *dev);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_NETBE_H */

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* netbe-priv.h - internal types shared by the modules of libnetbe. */
#ifndef NETBE_PRIV_H
#define NETBE_PRIV_H

#include "netbe/netbe.h"
#include "netbe/plugin.h"
#include "frame-queue.h"
#include "io-engine.h"
#include "options-priv.h"
#include "queue-io.h"
#include "capture.h"
#include "rate-limit.h"

/* Set by the build: the install folder of the plugins, only (core/meson.build). */
#ifndef NETBE_DEFAULT_PLUGIN_PATH
#define NETBE_DEFAULT_PLUGIN_PATH "/usr/lib/netbe/plugins"
#endif

/* Largest virtio-net header (struct virtio_net_hdr_v1_hash). */
#define NETBE_VNET_HDR_MAX 20
/* Largest frame netbe moves: 64 KiB of GSO payload and headers (QEMU's NET_BUFSIZE). */
#define NETBE_FRAME_MAX (65536 + 4096)
/* Frames the core hands a peer from a queue fd in one batch, unless the netdev says (batch);
 * a virtio-net peer ends each batch with one used-ring update and interrupt. */
#define NETBE_RX_BATCH_DEFAULT 64
/* Frames the core reads from a queue fd per wakeup, in batches, before the main loop runs
 * again (vhost-net's weight). Each return to the loop is a poll() of every watched fd: done
 * every 64 frames it cost netbe-host more than 30 ns a frame. */
#define NETBE_RX_WEIGHT 256

/*
 * The data path's look at a backend's rate limit and capture (a load and a branch each).
 * A build with -DNETBE_BENCH_NO_HOOKS compiles them out: bench-forward --hooks compares the
 * same source with and without them.
 */
#ifdef NETBE_BENCH_NO_HOOKS
#define NETBE_HOOK_RATE(be) ((NetbeRateLimit *)NULL)
#define NETBE_HOOK_CAPTURE(be) ((NetbeCapture *)NULL)
#else
#define NETBE_HOOK_RATE(be) ((be)->rate)
#define NETBE_HOOK_CAPTURE(be) ((be)->capture)
#endif

/* Bytes of @iovcnt entries of @iov. */
static inline size_t netbe_iov_size(const struct iovec *iov, int iovcnt)
{
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    return len;
}

typedef enum NetbeConnectMode {
    NETBE_CONNECT_IMMEDIATE = 0, /* at config load */
    NETBE_CONNECT_DEFERRED,      /* when the frontend starts, unless a handover brought it */
} NetbeConnectMode;

/* A loaded plugin file. */
typedef struct NetbePlugin {
    char *path;   /* file it came from */
    void *handle; /* dlopen handle */
    const NetbePluginDesc *desc;
} NetbePlugin;

/*
 * The frontend side of a backend: hub port or device. Calls come from the core
 * on the runtime thread.
 * rx_pull: pull up to budget frames with netbe_backend_recv(); return how many.
 * rx_push: take one frame the backend produced; return its length, 0 if it cannot
 *          now (the core queues it and waits for netbe_backend_rx_flush()).
 * tx_ready: the backend's tx queue drained; sending may continue.
 */
typedef struct NetbePeerOps {
    unsigned (*rx_pull)(void *peer, NetbeBackend *be, unsigned queue, unsigned budget);
    ssize_t (*rx_push)(void *peer, NetbeBackend *be, unsigned queue, const struct iovec *iov,
                       int iovcnt);
    void (*tx_ready)(void *peer, NetbeBackend *be, unsigned queue);
} NetbePeerOps;

typedef struct NetbeBackendQueue {
    NetbeQueueStats stats;
    NetbeQueueIo io;     /* the queue fd, for fd backends (core/queue-io.c) */
    GSource *release;    /* tx_ready due after the fd broke */
    NetbeFrameQueue txq; /* frames for the backend that it could not take yet */
    NetbeFrameQueue rxq; /* frames for the peer that it could not take yet */
    bool polling;        /* what we last told the plugin via poll() */
    bool rx_throttled;   /* polling off because rxq is full */
    bool rx_limited;     /* polling off until the rx rate limit has tokens again */
} NetbeBackendQueue;

struct NetbeBackend {
    NetbeRuntime *rt;
    char *id;
    const NetbePlugin *plugin;
    const NetbePluginDesc *desc;
    NetbeOptions *opts;
    unsigned nqueues;
    NetbeBackendQueue *queues;
    unsigned queue_limit;
    unsigned rx_batch;        /* frames read from a queue fd per wakeup */
    bool initialized;         /* init() was called: cleanup() is due */
    bool connected;           /* backend_connect() or load() succeeded */
    bool started;             /* the peer wants frames */
    bool link_down;           /* set_link down: frames both ways are dropped and counted */
    bool retired;             /* netdev-del'd while a device used it: released, kept for it */
    uint8_t *drain_buf;       /* link down: frames read from a queue fd to be dropped */
    NetbeConnectMode connect; /* set by the frontend that uses this backend */
    unsigned vnet_hdr_len;
    const NetbePeerOps *peer_ops;
    void *peer;
    char *peer_name; /* "[hub.h0]" for messages */
    void *priv;
    NetbeCapture *capture;    /* a pcap capture runs (core/capture.c); NULL: none */
    NetbeRateLimit *rate;     /* rate limits (core/rate-limit.c); NULL: none */
    uint64_t rate_waits[2];   /* NetbeRateDir: times a direction had to wait for tokens */
    uint64_t rate_wait_ns[2]; /* and for how long in all */
};

typedef struct NetbeHub NetbeHub;

/*
 * struct NetbeDeviceModel - what the device core calls of a device model (virtio-net): the
 * model calls back only through the public device API, so the two do not depend on each
 * other's internals.
 * @name:   the config's model = value
 * @bind:   attach the model to the device's backend (once; no-op without one)
 * @stop:   stop it (and its backend)
 * @free:   free the model's state
 * @pause:  stop touching guest memory and the backend (handover); @resume: go on
 * @save:   the model's handover state; @load: adopt it
 */
typedef struct NetbeDeviceModel {
    const char *name;
    void (*bind)(NetbeDevice *dev);
    void (*stop)(NetbeDevice *dev);
    void (*free)(NetbeDevice *dev);
    void (*pause)(NetbeDevice *dev);
    void (*resume)(NetbeDevice *dev);
    bool (*save)(NetbeDevice *dev, NetbeMigWriter *w, GError **errp);
    bool (*load)(NetbeDevice *dev, NetbeMigReader *r, GError **errp);
} NetbeDeviceModel;

/* core/virtio/vnet-model.c */
extern const NetbeDeviceModel netbe_virtio_net_model;

/* poll_us of a vhost-user device that does not set it (QEMU's IOThread polls up to 32 us) */
#define NETBE_VHOST_USER_POLL_US 32

struct NetbeDevice {
    NetbeRuntime *rt;
    char *id;
    char *model;
    NetbeBackend *backend;
    NetbeConnectMode connect;
    uint8_t mac[6];
    unsigned queues;
    unsigned mtu;
    unsigned rx_queue_size, tx_queue_size;
    unsigned poll_us; /* TX rings spin this long for the driver before waiting for a kick */
    bool started;
    const NetbeDeviceModel *ops; /* the model's entry points */
    struct VnetDev *vnet;        /* the virtio-net model's state (core/virtio), made at bind */
    bool vhost_user;             /* transport = vhost-user: netbe serves it on socket_path */
    char *socket_path;
    bool socket_owner_set; /* socket_user: the socket file is chown()ed to it */
    uid_t socket_uid;
    gid_t socket_gid;
    struct VuServer *vu; /* its server (core/vhost-user), while the runtime runs */
    char *spec;          /* its section as config_spec() writes it, for reload */
};

typedef struct NetbeLoopFd NetbeLoopFd;

struct NetbeRuntime {
    GMainContext *ctx;
    GMainLoop *loop;
    NetbeRuntimeFlags flags;
    char *plugin_path_override;
    bool configured;
    GPtrArray *plugins;  /* NetbePlugin* */
    GPtrArray *backends; /* NetbeBackend*, config order */
    GPtrArray *hubs;     /* NetbeHub* */
    GPtrArray *devices;  /* NetbeDevice* */
    NetbeLoopFd *loop_fd;
    GArray *handover_uids;        /* uid_t trusted as handover peers besides 0 and euid */
    unsigned handover_timeout_ms; /* one attempt's deadline; 0 = MIG_DEFAULT_TIMEOUT_MS */
    GArray *handover_locks;       /* int: serving locks this runtime holds (mig-lock.c) */
    NetbeIoEngine *io;            /* batched queue writes ([runtime] io) */
    unsigned queue_limit;         /* [runtime] queue_limit, for netdevs added live */
    char *config_path;            /* the file loaded, for reload; NULL: from a string */
    char *runtime_spec;           /* [runtime] as loaded (config_spec()), reload compares */
    bool reload_check;            /* a reload's check: borrows the plugins and the context */
    bool handed_over;             /* netbe_runtime_release() ran: nothing changes any more */
    bool running;                 /* netbe_runtime_start() ran: hubs a reload adds start */
    unsigned in_datapath;         /* frames are being handed to a frontend: no live change */
    GPtrArray *retired;           /* NetbeBackend* netdev-del'd under a device (live.c) */
    char **allowed_syscalls;      /* netbe_runtime_extra_syscalls() was asked: the sandbox's */
    struct NetbeEvents *events;   /* subscribers (events.c), NULL until the first */
};

/* plugin-loader.c */
bool netbe_plugins_load_path(GPtrArray *plugins, const char *path, GPtrArray *errors);
const NetbePlugin *netbe_plugins_find(GPtrArray *plugins, const char *name);
void netbe_plugin_free(NetbePlugin *p);
/* One plugin file by its path, with the same checks (netbe-plugin-check). Return: the plugin,
 * or NULL with a message added to @errors. */
NetbePlugin *netbe_plugin_load_one(const char *path, GPtrArray *errors);

/* backend.c */
NetbeBackend *netbe_backend_new(NetbeRuntime *rt, const char *id, const NetbePlugin *plugin,
                                NetbeOptions *opts, unsigned queue_limit, unsigned rx_batch);
bool netbe_backend_init(NetbeBackend *be, GError **errp);
bool netbe_backend_connect(NetbeBackend *be, GError **errp);
void netbe_backend_free(NetbeBackend *be);
void netbe_backend_attach(NetbeBackend *be, const NetbePeerOps *ops, void *peer,
                          const char *peer_name);
void netbe_backend_start(NetbeBackend *be);
void netbe_backend_stop(NetbeBackend *be);
/* Stop and clean up (closing its fds); the instance stays, inert, until freed. */
void netbe_backend_release(NetbeBackend *be);
void netbe_backend_set_rx_enabled(NetbeBackend *be, unsigned queue, bool enable);
/* Link down: frames both ways are dropped and counted; up: they pass again. */
void netbe_backend_set_link(NetbeBackend *be, bool up);
/* The frontend goes: stop, drop (and count) the frames held for it, forget it. */
void netbe_backend_detach(NetbeBackend *be);
/* Release and drop (counting) everything held: netdev-del. */
void netbe_backend_retire(NetbeBackend *be);
/* The plugin's control entry point (ABI 4). Return: false with @errp, code ENOTSUP when the
 * plugin has no such command (or none at all). */
bool netbe_backend_control(NetbeBackend *be, const char *cmd, const char *arg, GError **errp);
ssize_t netbe_backend_recv(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt);
/* The next frame where it is in memory already (a stream queue's buffer), valid until the
 * next receive on the queue. Return: its length, 0 none, -ENOTSUP: use netbe_backend_recv(). */
ssize_t netbe_backend_recv_ref(NetbeBackend *be, unsigned queue, const void **frame);
/* The next frame where it is in memory, left in place: its length tells a frontend what to
 * gather; netbe_backend_consume() takes it (@len bytes). -ENOTSUP: not in memory (TAP). */
ssize_t netbe_backend_peek_ref(NetbeBackend *be, unsigned queue, const void **frame);
void netbe_backend_consume(NetbeBackend *be, unsigned queue, size_t len);
/* queue-io.c -> backend.c: the queue fd is readable; it broke (closed already). */
void netbe_backend_queue_readable(NetbeBackend *be, unsigned queue);
void netbe_backend_queue_broken(NetbeBackend *be, unsigned queue, const char *op, int err);
/* rate-limit.c -> backend.c: queue @queue may pass frames in direction @d again. */
void netbe_backend_rate_resume(NetbeBackend *be, NetbeRateDir d, unsigned queue);
/* Frames readable on @queue: the peer pulls up to the backend's batch of them now. */
unsigned netbe_backend_rx_ready(NetbeBackend *be, unsigned queue, unsigned budget);
/* An fd backend: its plugin has no send() (the core does the queue I/O). */
bool netbe_backend_has_queue_fds(const NetbeBackend *be);
ssize_t netbe_backend_send(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt,
                           bool queue_if_busy);
void netbe_backend_rx_flush(NetbeBackend *be, unsigned queue);
/* A frame the peer read but could not deliver goes back to the backend's rx queue (first
 * out when the peer can take frames; carried by a handover). Return: its length, -errno. */
ssize_t netbe_backend_requeue_rx(NetbeBackend *be, unsigned queue, const struct iovec *iov,
                                 int iovcnt);
/*
 * netbe_backend_send_batch() - up to NETBE_IO_BATCH_MAX frames (@iovs[i], @cnts[i] entries)
 * to the backend in order, many per syscall where the queue and engine allow.
 * @queue_if_busy: copy what the backend cannot take now into its tx queue (hub)
 * Return: frames taken (sent, queued or dropped and counted).
 */
unsigned netbe_backend_send_batch(NetbeBackend *be, unsigned queue, struct iovec *const *iovs,
                                  const int *cnts, unsigned n, bool queue_if_busy);
/* Negotiation, with the plugin's optional entry points treated as "nothing offered". */
void netbe_backend_get_caps(NetbeBackend *be, NetbeCaps *caps);
bool netbe_backend_set_vnet_hdr_len(NetbeBackend *be, unsigned len, GError **errp);
bool netbe_backend_set_offloads(NetbeBackend *be, uint32_t offloads, GError **errp);
/* Least privilege: the plugin's needed_caps() (0 before init) and extra_syscalls. */
uint64_t netbe_backend_needed_caps(NetbeBackend *be);
const char *const *netbe_backend_extra_syscalls(const NetbeBackend *be);
/* The plugin's name ("tap"), for messages. */
const char *netbe_backend_plugin_name(const NetbeBackend *be);
/* Attach or detach a queue (multiqueue): the plugin's set_queue_enabled, and the core's I/O. */
bool netbe_backend_set_queue_enabled(NetbeBackend *be, unsigned queue, bool enabled, GError **errp);
NetbeBackend *netbe_runtime_find_backend(NetbeRuntime *rt, const char *id);

/* runtime.c: stop every frontend and release every backend (after a handover). */
void netbe_runtime_release(NetbeRuntime *rt);
/* migrate/mig-lock.c: close every serving lock @rt holds (it is freed). */
void mig_lock_drop_all(NetbeRuntime *rt);

/* hub.c */
NetbeHub *netbe_hub_new(NetbeRuntime *rt, const char *id, NetbeConnectMode mode);
bool netbe_hub_add_port(NetbeHub *hub, NetbeBackend *be);
/* A port for a hub that may run: speaks the hub's header (or the hub agrees anew), connects
 * if the hub is immediate or started, and forwards if it is started. */
bool netbe_hub_add_port_live(NetbeHub *hub, NetbeBackend *be, GError **errp);
/* Take @be out (detached); false if it is no port. */
bool netbe_hub_remove_port(NetbeHub *hub, NetbeBackend *be);
/* Forget the ports without touching them: a reload's checked hub, whose ports run elsewhere. */
void netbe_hub_forget_ports(NetbeHub *hub);
bool netbe_hub_start(NetbeHub *hub, GError **errp);
/* Agree on the vnet header the ports use (before and after they connect). */
void netbe_hub_negotiate(NetbeHub *hub);
void netbe_hub_stop(NetbeHub *hub);
void netbe_hub_free(NetbeHub *hub);
const char *netbe_hub_id(const NetbeHub *hub);
NetbeConnectMode netbe_hub_connect_mode(const NetbeHub *hub);
unsigned netbe_hub_port_count(const NetbeHub *hub);
NetbeBackend *netbe_hub_port(const NetbeHub *hub, unsigned i);
bool netbe_hub_is_started(const NetbeHub *hub);

/* device.c */
NetbeDevice *netbe_device_new(NetbeRuntime *rt, const char *id);
void netbe_device_stop(NetbeDevice *dev);
void netbe_device_free(NetbeDevice *dev);
/* core/virtio: bind the model (attach to the backend), stop it, free it. */
struct VnetDev;
void netbe_vnet_bind(NetbeDevice *dev);
void vnet_dev_stop(struct VnetDev *vd);
void vnet_dev_free(struct VnetDev *vd);

/* vhost-user/: a device's vhost-user server (transport = vhost-user). */
struct VuServer;
/* Listen on the device's socket (binds its virtio-net model). */
bool netbe_vu_server_start(NetbeDevice *dev, GError **errp);
/* Close it. @handed_over: another process serves the VMM now: only let go of our fds;
 * else reset the device (the VMM sees the back-end go) and remove the socket file. */
void netbe_vu_server_free(struct VuServer *s, bool handed_over);
/* Live handover of the transport (vu-migrate.c): its record, and pause / resume of its
 * watches (nothing is read from the VMM while paused, nor before resume on a target). */
bool netbe_vu_save(NetbeDevice *dev, NetbeMigWriter *w, GError **errp);
bool netbe_vu_load(NetbeDevice *dev, NetbeMigReader *r, GError **errp);
void netbe_vu_pause(NetbeDevice *dev);
void netbe_vu_resume(NetbeDevice *dev);
/* Add the device's vhost-user state to its status (an a{sv} being built in @b). */
void netbe_vu_status(const NetbeDevice *dev, GVariantBuilder *b);
/* config.c */
bool netbe_config_apply(NetbeRuntime *rt, const char *text, size_t len, const char *name,
                        GError **errp);
/* An id a section may have: 1-64 of A-Z a-z 0-9 _ -. */
bool netbe_config_id_is_valid(const char *id);
/*
 * netbe_config_new_backend() - a backend from the options of a [netdev.ID] section (owned
 * from now on): checked against the core's and the plugin's schema, then init.
 * @queue_limit: the runtime's default (a netdev's own queue_limit key wins)
 * @errors: gets the "FILE:LINE: ..." problems
 * Return: the backend (not in rt->backends), also when init failed (its error added); NULL
 * when the options are wrong.
 */
NetbeBackend *netbe_config_new_backend(NetbeRuntime *rt, NetbeOptions *opts, const char *id,
                                       unsigned queue_limit, GPtrArray *errors);
/* The values of @o as sorted "key=value" lines: equal specs, equal sections. */
char *netbe_config_spec(const NetbeOptions *o);

/* live.c: the frontend that uses @be now (at most one of them), or NULL. */
NetbeDevice *netbe_live_device_of(NetbeRuntime *rt, const NetbeBackend *be);
NetbeHub *netbe_live_hub_of(NetbeRuntime *rt, const NetbeBackend *be);
NetbeHub *netbe_runtime_find_hub(NetbeRuntime *rt, const char *id);
/* Remove @be (netdev-del) and @dev (its frontend gone): reload shares them. */
void netbe_live_remove_backend(NetbeRuntime *rt, NetbeBackend *be);
void netbe_live_remove_device(NetbeRuntime *rt, NetbeDevice *dev);
/* Connect @be and add it to the runtime, after the sandbox check. */
bool netbe_live_connect_backend(NetbeRuntime *rt, NetbeBackend *be, GError **errp);
/* Refuse changes to a runtime that handed over or has no config (@cmd names the call). */
bool netbe_live_check_runtime(NetbeRuntime *rt, const char *cmd, GError **errp);

/* loop-fd.c */
NetbeLoopFd *netbe_loop_fd_new(GMainContext *ctx, GError **errp);
int netbe_loop_fd_get(NetbeLoopFd *lf);
void netbe_loop_fd_dispatch(NetbeLoopFd *lf);
void netbe_loop_fd_free(NetbeLoopFd *lf);
/* An fd set changed outside dispatch: make the foreign loop resync (NULL lf: no-op). */
void netbe_loop_fd_note_change(NetbeLoopFd *lf, GMainContext *ctx);
/*
 * netbe_loop_fd_note_unblocked() - a source GLib does not block while it runs
 * (g_source_set_can_recurse) is being dispatched: it left GLib's wakeup fd alone, so the
 * foreign loop's dispatch need not acknowledge it. Call from its dispatch (NULL lf: no-op).
 */
void netbe_loop_fd_note_unblocked(NetbeLoopFd *lf);

/* events.c: free the subscriber list (the runtime goes). */
typedef struct NetbeEvents NetbeEvents;
void netbe_events_free(NetbeRuntime *rt);
/* netdev-up (connected) or netdev-down (released) of @be, for the subscribers. */
void netbe_backend_state_event(NetbeBackend *be, bool up);
struct NetbeMigStats;
/* handover-started and handover-finished (@err NULL: it worked, @st says how) of @role,
 * "source" or "destination". */
void netbe_handover_started_event(NetbeRuntime *rt, const char *role, const char *peer);
void netbe_handover_finished_event(NetbeRuntime *rt, const char *role,
                                   const struct NetbeMigStats *st, const GError *err);

/* Join errors (char*) into one GError message. */
void netbe_errors_to_gerror(GPtrArray *errors, GQuark domain, GError **errp);

#endif /* NETBE_PRIV_H */

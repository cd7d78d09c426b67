/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.h - the ABI between libnetbe and a network backend plugin (.so). */
#ifndef NETBE_PLUGIN_H
#define NETBE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <glib.h>

#include "netbe/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Versioning: NETBE_PLUGIN_ABI is the version this header describes. Structs are
 * append-only: a new field goes at the end with a "since ABI N" comment and the
 * version is bumped. The host accepts plugins built for NETBE_PLUGIN_ABI_MIN up to
 * NETBE_PLUGIN_ABI and refuses others with a message that names both versions.
 */
#define NETBE_PLUGIN_ABI 2
#define NETBE_PLUGIN_ABI_MIN 1

/* The one symbol a plugin exports; see NETBE_PLUGIN_DEFINE(). */
#define NETBE_PLUGIN_QUERY_SYMBOL "netbe_plugin_query"

/* Opaque handles owned by the runtime. */
typedef struct NetbeBackend NetbeBackend;
typedef struct NetbeOptions NetbeOptions;
typedef struct NetbeFdWatch NetbeFdWatch;
typedef struct NetbeMigWriter NetbeMigWriter;
typedef struct NetbeMigReader NetbeMigReader;

/* ---- Option schema: drives config validation and --help-plugin ---- */

typedef enum NetbeOptionType {
    NETBE_OPT_STRING = 0,
    NETBE_OPT_INT,  /* decimal or 0x hex, checked against min..max */
    NETBE_OPT_BOOL, /* on/off, yes/no, true/false, 1/0 */
    NETBE_OPT_ENUM, /* one of choices[] */
    NETBE_OPT_SIZE, /* bytes, optional suffix k/K, m/M, g/G; checked against min..max */
} NetbeOptionType;

#define NETBE_OPT_REQUIRED (1u << 0)

typedef struct NetbeOptionSpec {
    const char *name;
    NetbeOptionType type;
    const char *default_value;  /* as written in an ini file; NULL: none */
    const char *help;           /* one line, shown by --help-plugin */
    int64_t min, max;           /* INT and SIZE; both 0: no bounds */
    const char *const *choices; /* ENUM: NULL-terminated */
    uint32_t flags;             /* NETBE_OPT_REQUIRED */
} NetbeOptionSpec;

/* Schema entries with designated initializers (clean under -Wextra). */
#define NETBE_OPTION_STRING(n, def, h)                                                             \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_STRING, .default_value = (def), .help = (h)                 \
    }
#define NETBE_OPTION_BOOL(n, def, h)                                                               \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_BOOL, .default_value = (def), .help = (h)                   \
    }
#define NETBE_OPTION_INT(n, def, h, lo, hi)                                                        \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_INT, .default_value = (def), .help = (h), .min = (lo),      \
        .max = (hi)                                                                                \
    }
#define NETBE_OPTION_SIZE(n, def, h, lo, hi)                                                       \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_SIZE, .default_value = (def), .help = (h), .min = (lo),     \
        .max = (hi)                                                                                \
    }
#define NETBE_OPTION_ENUM(n, def, h, ch)                                                           \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_ENUM, .default_value = (def), .help = (h), .choices = (ch)  \
    }
#define NETBE_OPTION_END                                                                           \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* ---- Capabilities and offloads (vnet header negotiation) ---- */

#define NETBE_CAP_VNET_HDR (1u << 0)    /* frames may carry a virtio-net header */
#define NETBE_CAP_MULTIQUEUE (1u << 1)  /* more than one queue pair */
#define NETBE_CAP_MIGRATE_FDS (1u << 2) /* save/load hand over live fds */

#define NETBE_OFFLOAD_CSUM (1u << 0)
#define NETBE_OFFLOAD_TSO4 (1u << 1)
#define NETBE_OFFLOAD_TSO6 (1u << 2)
#define NETBE_OFFLOAD_ECN (1u << 3)
#define NETBE_OFFLOAD_UFO (1u << 4)
#define NETBE_OFFLOAD_USO4 (1u << 5)
#define NETBE_OFFLOAD_USO6 (1u << 6)

typedef struct NetbeCaps {
    uint32_t flags;      /* NETBE_CAP_* */
    uint32_t offloads;   /* NETBE_OFFLOAD_* the backend can take in a vnet header */
    uint32_t max_queues; /* queues this instance has */
} NetbeCaps;

/* ---- The descriptor ---- */

/*
 * Entry points. Every one takes the backend handle; private state is at
 * netbe_backend_priv(be), zeroed, state_size bytes. All run on the runtime's
 * context thread.
 */
typedef struct NetbePluginDesc {
    uint32_t abi_version;           /* NETBE_PLUGIN_ABI the plugin was built with */
    uint32_t struct_size;           /* sizeof(NetbePluginDesc) the plugin was built with */
    const char *name;               /* the ini "type", e.g. "tap" */
    const char *summary;            /* one line */
    const NetbeOptionSpec *options; /* terminated by an entry with name == NULL */
    size_t state_size;              /* bytes of private state per backend */

    /* Validate and store options; call netbe_backend_set_queues(). No side effects
     * on the host: opens, binds, connects nothing. Safe in --check mode. */
    bool (*init)(NetbeBackend *be, const NetbeOptions *opts, GError **errp);
    /* Acquire the external resource (open the TAP, connect the socket). Called at
     * most once per instance by the runtime, never after load() succeeded. */
    bool (*backend_connect)(NetbeBackend *be, GError **errp);
    /* Release everything. Called once for every instance whose init() ran, also when
     * init() or backend_connect() failed: it must work on a half-built instance. */
    void (*cleanup)(NetbeBackend *be);

    /* Frontend -> backend. Returns bytes taken, 0 when busy (the plugin then calls
     * netbe_backend_tx_ready() once it can take frames again), or -errno to drop. */
    ssize_t (*send)(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt);
    /* Optional, for fd backends: read one frame into iov. Returns its length, 0 if
     * none is pending, -errno on error (the frame is lost and counted). */
    ssize_t (*recv)(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt);
    /* Enable or disable reading on a queue: backpressure, and pause for handover. */
    void (*poll)(NetbeBackend *be, unsigned queue, bool enable);

    /* Optional negotiation with a virtio-net frontend. */
    void (*get_caps)(NetbeBackend *be, NetbeCaps *caps);
    bool (*set_vnet_hdr_len)(NetbeBackend *be, unsigned len, GError **errp);
    bool (*set_offloads)(NetbeBackend *be, uint32_t offloads, GError **errp);
    bool (*set_queue_enabled)(NetbeBackend *be, unsigned queue, bool enabled, GError **errp);

    /* Optional, for live handover (include/netbe/migrate.h). save() writes the
     * state and fds of a connected, paused backend; load() adopts them instead of
     * backend_connect(). */
    bool (*save)(NetbeBackend *be, NetbeMigWriter *w, GError **errp);
    bool (*load)(NetbeBackend *be, NetbeMigReader *r, GError **errp);
    /* end of ABI 1 */

    /* ---- since ABI 2: least privilege (netbe-host --user, --sandbox) ---- */
    /*
     * Optional. The Linux capabilities this instance still needs from now on, as a mask of
     * NETBE_LINUX_CAP(CAP_...) bits: for backend_connect() if it has not run yet (a TAP
     * opened by ifname: CAP_NET_ADMIN; a listen on a port below 1024: CAP_NET_BIND_SERVICE),
     * and for what the plugin does later by itself (reconnects, reopened listeners).
     * 0 when everything it needs is open or was passed in. Called after init(), any number
     * of times; it must not have side effects. NULL: the instance never needs any.
     */
    uint64_t (*needed_caps)(NetbeBackend *be);
    /*
     * Optional. Names of the syscalls (as libseccomp and strace spell them: "getcpu") the
     * plugin makes besides those netbe's sandbox allows for the runtime and the shipped
     * plugins; NULL-terminated. The host allows them for the whole process (any arguments).
     * A name the host's libseccomp does not know is an error at start-up. NULL: none.
     */
    const char *const *extra_syscalls;
    /* end of ABI 2 */
} NetbePluginDesc;

/* One capability bit in a needed_caps() mask; @cap is a CAP_* number (linux/capability.h). */
#define NETBE_LINUX_CAP(cap) (UINT64_C(1) << (cap))

/*
 * NETBE_PLUGIN_DESC_HAS() - whether descriptor @d was built with field @field: an older
 * plugin's descriptor is shorter (struct_size), and the host must not read past it.
 */
#define NETBE_PLUGIN_DESC_HAS(d, field)                                                            \
    ((d)->struct_size >= offsetof(NetbePluginDesc, field) + sizeof((d)->field))

/* The type of the exported query function. */
typedef const NetbePluginDesc *(*NetbePluginQueryFunc)(uint32_t host_abi);

/* Export desc (a NetbePluginDesc) as this plugin's descriptor. */
#define NETBE_PLUGIN_DEFINE(desc)                                                                  \
    __attribute__((visibility("default"))) const NetbePluginDesc *netbe_plugin_query(              \
        uint32_t host_abi);                                                                        \
    const NetbePluginDesc *netbe_plugin_query(uint32_t host_abi)                                   \
    {                                                                                              \
        (void)host_abi;                                                                            \
        return &(desc);                                                                            \
    }

/* ---- Services libnetbe gives plugins ---- */

/* Private state of this backend (state_size bytes, zeroed at creation). */
NETBE_API void *netbe_backend_priv(NetbeBackend *be);
/* The netdev id from the config ("net0"). */
NETBE_API const char *netbe_backend_id(const NetbeBackend *be);
/* Set the number of queues (1..NETBE_MAX_QUEUES); call from init. */
NETBE_API bool netbe_backend_set_queues(NetbeBackend *be, unsigned queues, GError **errp);
NETBE_API unsigned netbe_backend_get_queues(const NetbeBackend *be);
/* The main context everything runs on. */
NETBE_API GMainContext *netbe_backend_context(NetbeBackend *be);

#define NETBE_MAX_QUEUES 256

/* Option values, validated against the schema; defaults applied. */
NETBE_API const char *netbe_options_get_string(const NetbeOptions *o, const char *key);
NETBE_API int64_t netbe_options_get_int(const NetbeOptions *o, const char *key);
NETBE_API bool netbe_options_get_bool(const NetbeOptions *o, const char *key);
/* True when key was written in the config (not just defaulted). */
NETBE_API bool netbe_options_is_set(const NetbeOptions *o, const char *key);
/* Build an error "FILE:LINE: [section] key: message" for key (or the section). */
NETBE_API void netbe_options_error(const NetbeOptions *o, GError **errp, const char *key,
                                   const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Append the same "FILE:LINE: [section] key: message" as a line to @errors: for a plugin
 * that reports every problem of its section in one run (then g_set_error_literal() with
 * errors->str). */
NETBE_API void netbe_options_add_error(const NetbeOptions *o, GString *errors, const char *key,
                                       const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* fd watches on the runtime's context, cheap to re-arm. */
typedef void (*NetbeFdFunc)(int fd, GIOCondition revents, void *opaque);
NETBE_API NetbeFdWatch *netbe_fd_watch_new(NetbeBackend *be, int fd, GIOCondition events,
                                           NetbeFdFunc func, void *opaque);
NETBE_API void netbe_fd_watch_set_events(NetbeFdWatch *w, GIOCondition events);
NETBE_API void netbe_fd_watch_free(NetbeFdWatch *w);

/*
 * Data path, backend -> runtime.
 * rx_ready: frames are readable on queue; the peer pulls up to budget of them
 *   through desc->recv right now. Returns how many it took; fewer than budget
 *   with frames still pending means the peer is full and has called poll(false).
 * deliver: push one frame the backend produced (no recv). Returns its length if
 *   taken or queued, -ENOBUFS if dropped (queue limit; counted).
 * tx_ready: a send() that returned 0 may be retried now.
 */
NETBE_API unsigned netbe_backend_rx_ready(NetbeBackend *be, unsigned queue, unsigned budget);
NETBE_API ssize_t netbe_backend_deliver(NetbeBackend *be, unsigned queue, const struct iovec *iov,
                                        int iovcnt);
NETBE_API void netbe_backend_tx_ready(NetbeBackend *be, unsigned queue);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_PLUGIN_H */

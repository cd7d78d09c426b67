/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* plugin.h - the ABI between libnetbe and a network backend plugin (.so). */
#ifndef NETBE_PLUGIN_H
#define NETBE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <glib.h>

#include "netbe/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Versioning: NETBE_PLUGIN_ABI is the version this header describes. Structs are
 * append-only within a version line: a new field goes at the end with a "since ABI N"
 * comment and the version is bumped. The host accepts plugins built for
 * NETBE_PLUGIN_ABI_MIN up to NETBE_PLUGIN_ABI and refuses others with a message that names
 * both versions. ABI 3 moved queue I/O into the core (the descriptor lost recv and
 * changed load); plugins built for ABI 1 or 2 are refused.
 */
#define NETBE_PLUGIN_ABI 3
#define NETBE_PLUGIN_ABI_MIN 3

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

/* Static capabilities, in NetbePluginDesc.caps; the core acts on them. */
#define NETBE_CAP_MULTIQUEUE (1u << 1) /* instances may have more than one queue */
#define NETBE_CAP_HANDOVER (1u << 2)   /* save() and load(): a live instance can move */
/* Per instance, from get_caps(). */
#define NETBE_CAP_VNET_HDR (1u << 0) /* frames may carry a virtio-net header */

#define NETBE_OFFLOAD_CSUM (1u << 0)
#define NETBE_OFFLOAD_TSO4 (1u << 1)
#define NETBE_OFFLOAD_TSO6 (1u << 2)
#define NETBE_OFFLOAD_ECN (1u << 3)
#define NETBE_OFFLOAD_UFO (1u << 4)
#define NETBE_OFFLOAD_USO4 (1u << 5)
#define NETBE_OFFLOAD_USO6 (1u << 6)

/**
 * struct NetbeCaps - what one backend instance offers a virtio-net frontend
 * @flags:    NETBE_CAP_VNET_HDR if frames may carry a virtio-net header
 * @offloads: NETBE_OFFLOAD_* the backend can take in a vnet header
 */
typedef struct NetbeCaps {
    uint32_t flags;
    uint32_t offloads;
} NetbeCaps;

/* ---- Queue fds: the core does the I/O ---- */

/**
 * enum NetbeFraming - how frames sit on a queue fd
 * @NETBE_FRAMING_PACKET: one read or write is one frame (TAP, datagram and seqpacket sockets)
 * @NETBE_FRAMING_STREAM: a byte stream; every frame follows a prefix that the plugin's
 *                        &struct NetbeStreamFraming describes
 */
typedef enum NetbeFraming {
    NETBE_FRAMING_PACKET = 0,
    NETBE_FRAMING_STREAM,
} NetbeFraming;

/* Longest frame prefix a stream framing may use. */
#define NETBE_STREAM_PREFIX_MAX 16

/**
 * struct NetbeStreamFraming - the framing hook of byte-stream queues
 * @prefix_len:   bytes before every frame, 1..NETBE_STREAM_PREFIX_MAX
 * @max_frame:    longest frame the stream may carry (a longer one breaks the queue)
 * @frame_len:    the length of the frame that follows @prefix (@prefix_len bytes of
 *                untrusted input); return it, or -EPROTO if the prefix is malformed
 * @write_prefix: write the @prefix_len bytes that announce a frame of @len bytes
 *
 * QEMU's stream netdevs use a 4-byte big-endian length: prefix_len 4, frame_len
 * returning the u32, write_prefix storing it.
 */
typedef struct NetbeStreamFraming {
    unsigned prefix_len;
    size_t max_frame;
    ssize_t (*frame_len)(const uint8_t *prefix);
    void (*write_prefix)(uint8_t *prefix, size_t len);
} NetbeStreamFraming;

/**
 * struct NetbeQueueFd - a queue fd as a plugin hands it to the core
 * @fd:       the fd; the core owns it from then on: it watches it, reads and writes it,
 *            closes it at release or when it breaks, and moves it in a handover
 * @hdr_len:  virtio-net header bytes the fd carries before every frame: 0, or for a TAP
 *            with IFF_VNET_HDR its TUNSETVNETHDRSZ (10 by default). When the frontend
 *            uses none, the core adds a zero header on writes and drops it on reads;
 *            once set_vnet_hdr_len(L > 0) succeeded, the core takes every queue fd of
 *            the backend to carry L-byte headers.
 * @framing:  %NETBE_FRAMING_PACKET, or %NETBE_FRAMING_STREAM with the plugin's
 *            &NetbePluginDesc.stream_framing
 * @dest:     for an unconnected datagram socket, where frames go (sendto); NULL: write()
 * @dest_len: bytes of @dest
 */
typedef struct NetbeQueueFd {
    int fd;
    unsigned hdr_len;
    NetbeFraming framing;
    const struct sockaddr *dest;
    socklen_t dest_len;
} NetbeQueueFd;

/* ---- The descriptor ---- */

/**
 * struct NetbePluginDesc - what a plugin is and its entry points
 * @abi_version:      NETBE_PLUGIN_ABI the plugin was built with
 * @struct_size:      sizeof(NetbePluginDesc) the plugin was built with
 * @name:             the ini "type", e.g. "tap"
 * @summary:          one line
 * @options:          the option schema, terminated by an entry with name == NULL
 * @state_size:       bytes of private state per backend (netbe_backend_priv(), zeroed)
 * @caps:             NETBE_CAP_MULTIQUEUE, NETBE_CAP_HANDOVER: the core refuses more than
 *                    one queue without the first, and hands an instance over only with
 *                    the second (which needs @save and @load)
 * @state_version:    version of what @save writes; @load is told the writer's
 * @init:             validate and store options; call netbe_backend_set_queues(). No side
 *                    effects on the host: opens, binds, connects nothing. Safe in --check
 * @backend_connect:  acquire the external resource (open the TAP, connect the socket); an
 *                    fd backend hands its queue fds to the core with
 *                    netbe_backend_set_queue_fd(). Called at most once per instance by the
 *                    runtime, never after @load succeeded
 * @cleanup:          release everything the plugin holds (the core closes the queue fds).
 *                    Called once for every instance whose @init ran, also when @init or
 *                    @backend_connect failed: it must work on a half-built instance
 * @send:             producer backends only (no queue fds): one frame from the frontend;
 *                    return bytes taken, 0 when busy (then call netbe_backend_tx_ready()
 *                    once frames can come again), or -errno to drop it
 * @poll:             producer backends only: start (@enable) or stop producing frames on a
 *                    queue with netbe_backend_deliver() (backpressure, pause for handover)
 * @queue_broken:     optional, fd backends: the core found queue @queue's fd broken (error
 *                    @err, or 0 at end of stream) and closed it; the plugin may reconnect
 *                    and hand a new fd with netbe_backend_set_queue_fd()
 * @stream_framing:   how frames sit on the plugin's %NETBE_FRAMING_STREAM queue fds; NULL
 *                    if it has none
 * @get_caps:         optional: NETBE_CAP_VNET_HDR and offloads of this instance (before
 *                    connect what it expects, after connect what it has); NULL: none
 * @set_vnet_hdr_len: optional: the frontend's header length (0, 10, 12 or 20); with L > 0
 *                    the queue fds carry L-byte headers from then on
 * @set_offloads:     optional: NETBE_OFFLOAD_* the frontend accepts in frames it receives
 * @set_queue_enabled: optional: attach or detach a queue (virtio-net multiqueue)
 * @save:             with NETBE_CAP_HANDOVER: write the plugin's own state of a connected,
 *                    paused backend (the core carries the queue fds and their shape)
 * @load:             with NETBE_CAP_HANDOVER: adopt that state instead of
 *                    @backend_connect; the queue fds are in place already
 *                    (netbe_backend_get_queue_fd()); @version is the writer's
 *                    @state_version: refuse one you cannot read
 * @needed_caps:      optional: the Linux capabilities this instance still needs from now
 *                    on, as NETBE_LINUX_CAP(CAP_...) bits: for @backend_connect if it has not
 *                    run yet, and for what the plugin does later by itself (reconnects).
 *                    Called after @init, any number of times, without side effects
 * @extra_syscalls:   optional: names of the syscalls (as libseccomp spells them) the plugin
 *                    makes besides those netbe's sandbox allows; NULL-terminated
 *
 * All entry points run on the runtime's context thread and take the backend handle.
 */
typedef struct NetbePluginDesc {
    uint32_t abi_version;
    uint32_t struct_size;
    const char *name;
    const char *summary;
    const NetbeOptionSpec *options;
    size_t state_size;
    uint32_t caps;
    uint32_t state_version;

    bool (*init)(NetbeBackend *be, const NetbeOptions *opts, GError **errp);
    bool (*backend_connect)(NetbeBackend *be, GError **errp);
    void (*cleanup)(NetbeBackend *be);

    ssize_t (*send)(NetbeBackend *be, unsigned queue, const struct iovec *iov, int iovcnt);
    void (*poll)(NetbeBackend *be, unsigned queue, bool enable);
    void (*queue_broken)(NetbeBackend *be, unsigned queue, int err);
    const NetbeStreamFraming *stream_framing;

    void (*get_caps)(NetbeBackend *be, NetbeCaps *caps);
    bool (*set_vnet_hdr_len)(NetbeBackend *be, unsigned len, GError **errp);
    bool (*set_offloads)(NetbeBackend *be, uint32_t offloads, GError **errp);
    bool (*set_queue_enabled)(NetbeBackend *be, unsigned queue, bool enabled, GError **errp);

    bool (*save)(NetbeBackend *be, NetbeMigWriter *w, GError **errp);
    bool (*load)(NetbeBackend *be, NetbeMigReader *r, uint32_t version, GError **errp);

    uint64_t (*needed_caps)(NetbeBackend *be);
    const char *const *extra_syscalls;
    /* end of ABI 3 */
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

/**
 * netbe_backend_set_queue_fd() - hand queue @queue's fd to the core, which does its I/O from
 * now on (reads when the frontend wants frames, writes, waits for POLLOUT when the fd is
 * full, counts, closes it when it breaks and calls &NetbePluginDesc.queue_broken).
 * @be:    the backend
 * @queue: 0..netbe_backend_get_queues() - 1
 * @qfd:   the fd and the shape of a frame on it (copied; @qfd->fd is the core's now, also
 *         when this fails)
 * @errp:  the reason on failure
 *
 * A queue that has an fd already gets the new one (the old one is closed).
 * Return: false (the fd closed) if @qfd is not valid: framing, header length, hook.
 */
NETBE_API bool netbe_backend_set_queue_fd(NetbeBackend *be, unsigned queue, const NetbeQueueFd *qfd,
                                          GError **errp);
/**
 * netbe_backend_get_queue_fd() - queue @queue's fd, for ioctls (the core still owns it)
 * @be:    the backend
 * @queue: the queue
 * Return: the fd, or -1 when the queue has none (not connected, broken).
 */
NETBE_API int netbe_backend_get_queue_fd(NetbeBackend *be, unsigned queue);
/**
 * netbe_backend_close_queue_fd() - close queue @queue's fd (the plugin disconnects it);
 * &NetbePluginDesc.queue_broken is not called. No-op without an fd.
 * @be:    the backend
 * @queue: the queue
 */
NETBE_API void netbe_backend_close_queue_fd(NetbeBackend *be, unsigned queue);

/* fd watches on the runtime's context, cheap to re-arm. */
typedef void (*NetbeFdFunc)(int fd, GIOCondition revents, void *opaque);
NETBE_API NetbeFdWatch *netbe_fd_watch_new(NetbeBackend *be, int fd, GIOCondition events,
                                           NetbeFdFunc func, void *opaque);
NETBE_API void netbe_fd_watch_set_events(NetbeFdWatch *w, GIOCondition events);
NETBE_API void netbe_fd_watch_free(NetbeFdWatch *w);

/**
 * netbe_backend_deliver() - a producer backend pushes one frame it made to the frontend
 * @be:     the backend
 * @queue:  the queue
 * @iov:    the frame (with a vnet header if one was negotiated), copied if it must wait
 * @iovcnt: entries of @iov
 * Return: its length if taken or queued, -ENOBUFS if dropped (queue limit; counted).
 * While the queue is full, the core stops the backend with &NetbePluginDesc.poll.
 */
NETBE_API ssize_t netbe_backend_deliver(NetbeBackend *be, unsigned queue, const struct iovec *iov,
                                        int iovcnt);
/**
 * netbe_backend_tx_ready() - a producer's &NetbePluginDesc.send that returned 0 may be
 * retried now
 * @be:    the backend
 * @queue: the queue
 */
NETBE_API void netbe_backend_tx_ready(NetbeBackend *be, unsigned queue);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_PLUGIN_H */

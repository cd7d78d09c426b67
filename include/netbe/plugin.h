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
 * changed load); plugins built for ABI 1 or 2 are refused. ABI 4 appended control; a
 * plugin built for ABI 3 still loads (the host reads only the fields its struct_size holds).
 */
#define NETBE_PLUGIN_ABI 4
#define NETBE_PLUGIN_ABI_MIN 3

/* The one symbol a plugin exports; see NETBE_PLUGIN_DEFINE(). */
#define NETBE_PLUGIN_QUERY_SYMBOL "netbe_plugin_query"

/* Opaque handles owned by the runtime. */
/**
 * typedef NetbeBackend - one backend instance ([netdev.ID]); every entry point gets it
 */
typedef struct NetbeBackend NetbeBackend;
/**
 * typedef NetbeOptions - the option values of one [netdev.ID] section, checked against the
 * core's and the plugin's schema; read them with netbe_options_get_string() and friends
 */
typedef struct NetbeOptions NetbeOptions;
/**
 * typedef NetbeFdWatch - a watch on a plugin's fd, from netbe_fd_watch_new()
 */
typedef struct NetbeFdWatch NetbeFdWatch;
/**
 * typedef NetbeMigWriter - a handover record being written (netbe/migrate.h)
 */
typedef struct NetbeMigWriter NetbeMigWriter;
/**
 * typedef NetbeMigReader - a handover record being read (netbe/migrate.h)
 */
typedef struct NetbeMigReader NetbeMigReader;

/* ---- Option schema: drives config validation and --help-plugin ---- */

/**
 * enum NetbeOptionType - what values an option takes
 * @NETBE_OPT_STRING: any text, as written
 * @NETBE_OPT_INT:    a 64-bit integer as strtoll() reads it with base 0: decimal, 0x hex, or
 *                    octal after a leading 0 ("010" is 8); checked against min..max
 * @NETBE_OPT_BOOL:   on/off, yes/no, true/false, 1/0, in any case
 * @NETBE_OPT_ENUM:   exactly one of &NetbeOptionSpec.choices (case matters)
 * @NETBE_OPT_SIZE:   bytes: an integer as for %NETBE_OPT_INT, optionally followed by one
 *                    suffix k/K, m/M or g/G (times 1024, 1024^2, 1024^3); checked against
 *                    min..max after the suffix. Only a suffixed value must not be negative:
 *                    give bounds to refuse negative ones.
 */
typedef enum NetbeOptionType {
    NETBE_OPT_STRING = 0,
    NETBE_OPT_INT,
    NETBE_OPT_BOOL,
    NETBE_OPT_ENUM,
    NETBE_OPT_SIZE,
} NetbeOptionType;

/* In NetbeOptionSpec.flags: the key must be written (config error "required key is
 * missing" otherwise); --help-plugin says "required" instead of a default. */
#define NETBE_OPT_REQUIRED (1u << 0)

/**
 * struct NetbeOptionSpec - one key of an option schema
 * @name:          the key in the ini section; the core's netdev keys (type, queue_limit,
 *                 batch) come first, so a plugin key of one of those names is never used
 * @type:          what values it takes
 * @default_value: what netbe_options_get_string() and friends return when the key is not
 *                 written, as written in an ini file; NULL: none. It is not validated.
 * @help:          one line, shown by --help-plugin
 * @min:           %NETBE_OPT_INT and %NETBE_OPT_SIZE: the smallest value allowed
 * @max:           the largest; @min and @max both 0: no bounds
 * @choices:       %NETBE_OPT_ENUM: the values allowed, NULL-terminated; required for it
 * @flags:         %NETBE_OPT_REQUIRED, or 0
 */
typedef struct NetbeOptionSpec {
    const char *name;
    NetbeOptionType type;
    const char *default_value;
    const char *help;
    int64_t min, max;
    const char *const *choices;
    uint32_t flags;
} NetbeOptionSpec;

/* Schema entries with designated initializers (clean under -Wextra). */
/**
 * NETBE_OPTION_STRING() - a schema entry for a %NETBE_OPT_STRING key
 * @n:   the key
 * @def: its default as written in an ini file, or NULL
 * @h:   one line of help
 */
#define NETBE_OPTION_STRING(n, def, h)                                                             \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_STRING, .default_value = (def), .help = (h)                 \
    }
/**
 * NETBE_OPTION_BOOL() - a schema entry for a %NETBE_OPT_BOOL key
 * @n:   the key
 * @def: its default ("on", "off", ...), or NULL
 * @h:   one line of help
 */
#define NETBE_OPTION_BOOL(n, def, h)                                                               \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_BOOL, .default_value = (def), .help = (h)                   \
    }
/**
 * NETBE_OPTION_INT() - a schema entry for a %NETBE_OPT_INT key
 * @n:   the key
 * @def: its default as written in an ini file, or NULL
 * @h:   one line of help
 * @lo:  the smallest value allowed
 * @hi:  the largest (@lo and @hi both 0: no bounds)
 */
#define NETBE_OPTION_INT(n, def, h, lo, hi)                                                        \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_INT, .default_value = (def), .help = (h), .min = (lo),      \
        .max = (hi)                                                                                \
    }
/**
 * NETBE_OPTION_SIZE() - a schema entry for a %NETBE_OPT_SIZE key
 * @n:   the key
 * @def: its default as written in an ini file ("64k"), or NULL
 * @h:   one line of help
 * @lo:  the smallest number of bytes allowed
 * @hi:  the largest (@lo and @hi both 0: no bounds)
 */
#define NETBE_OPTION_SIZE(n, def, h, lo, hi)                                                       \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_SIZE, .default_value = (def), .help = (h), .min = (lo),     \
        .max = (hi)                                                                                \
    }
/**
 * NETBE_OPTION_ENUM() - a schema entry for a %NETBE_OPT_ENUM key
 * @n:   the key
 * @def: its default (one of @ch), or NULL
 * @h:   one line of help
 * @ch:  the values allowed, NULL-terminated (const char *const[])
 */
#define NETBE_OPTION_ENUM(n, def, h, ch)                                                           \
    {                                                                                              \
        .name = (n), .type = NETBE_OPT_ENUM, .default_value = (def), .help = (h), .choices = (ch)  \
    }
/* The entry that ends a schema. */
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
 * @max_frame:    longest frame the stream may carry, 64..69632 (64 KiB + 4 KiB), counting
 *                the vnet header the fd carries: a longer one read breaks the queue, a
 *                longer one to write is dropped (-EMSGSIZE)
 * @frame_len:    the length of the frame that follows @prefix (@prefix_len bytes of
 *                untrusted input); return it, or -EPROTO if the prefix is malformed: a
 *                negative length or one over @max_frame breaks the queue (EPROTO). Called
 *                any number of times for one prefix: no side effects
 * @write_prefix: write the @prefix_len bytes that announce a frame of @len bytes
 *
 * netbe_backend_set_queue_fd() refuses a stream queue fd when these are out of range or a
 * hook is NULL. QEMU's stream netdevs use a 4-byte big-endian length: prefix_len 4,
 * frame_len returning the u32, write_prefix storing it.
 */
typedef struct NetbeStreamFraming {
    unsigned prefix_len;
    size_t max_frame;
    ssize_t (*frame_len)(const uint8_t *prefix);
    void (*write_prefix)(uint8_t *prefix, size_t len);
} NetbeStreamFraming;

/**
 * struct NetbeQueueFd - a queue fd as a plugin hands it to the core
 * @fd:       the fd; the core owns it from then on: it makes it non-blocking, watches it,
 *            reads and writes it, closes it at release or when it breaks, and moves it in
 *            a handover
 * @hdr_len:  virtio-net header bytes the fd carries before every frame: 0, 10, 12 or 20;
 *            for a TAP with IFF_VNET_HDR its TUNSETVNETHDRSZ (10 by default). When the
 *            frontend uses none, the core adds a zero header on writes and drops it on
 *            reads. Once set_vnet_hdr_len(L > 0) succeeded, the core takes the queue fds
 *            the backend has then to carry L-byte headers, and an fd handed later must
 *            carry L as well (another length is only warned about, and its frames come
 *            out wrong).
 * @framing:  %NETBE_FRAMING_PACKET, or %NETBE_FRAMING_STREAM with the plugin's
 *            &NetbePluginDesc.stream_framing
 * @dest:     for an unconnected datagram socket (%NETBE_FRAMING_PACKET only), where frames
 *            go (sendmsg() to it; copied); NULL: write()
 * @dest_len: bytes of @dest, at most sizeof(struct sockaddr_storage); 0 without @dest
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
 * @abi_version:      NETBE_PLUGIN_ABI the plugin was built with; the host refuses one
 *                    outside NETBE_PLUGIN_ABI_MIN..NETBE_PLUGIN_ABI
 * @struct_size:      sizeof(NetbePluginDesc) the plugin was built with; the host refuses
 *                    one shorter than its ABI's descriptor
 * @name:             the ini "type", e.g. "tap"; required
 * @summary:          one line, or NULL
 * @options:          the option schema, terminated by an entry with name == NULL
 *                    (NETBE_OPTION_END); NULL: no keys of its own
 * @state_size:       bytes of private state per backend (netbe_backend_priv(), zeroed);
 *                    0: none
 * @caps:             NETBE_CAP_MULTIQUEUE, NETBE_CAP_HANDOVER: the core refuses more than
 *                    one queue without the first, and hands an instance over only with
 *                    the second (which needs @save and @load, and they need it)
 * @state_version:    version of what @save writes; @load is told the writer's
 * @init:             required: validate and store options (called only once they passed
 *                    the schema); call netbe_backend_set_queues() for more than the one
 *                    queue an instance starts with. No side effects on the host: opens,
 *                    binds, connects nothing. Safe in --check
 * @backend_connect:  required: acquire the external resource (open the TAP, connect the
 *                    socket); an fd backend hands its queue fds to the core with
 *                    netbe_backend_set_queue_fd(). Called by the runtime until it succeeds
 *                    once: after a failure it may be called again on the same instance
 *                    (a device or hub started again), without @cleanup between; never
 *                    after it or @load succeeded
 * @cleanup:          required: release everything the plugin holds (the core closes the
 *                    queue fds, after this). Called once for every instance whose @init
 *                    ran, also when @init or @backend_connect failed: it must work on a
 *                    half-built instance
 * @send:             producer backends only (no queue fds; with @poll): one frame from the
 *                    frontend (with a vnet header if one was negotiated); return bytes
 *                    taken, 0 when busy (then call netbe_backend_tx_ready() once frames can
 *                    come again), or -errno to drop it
 * @poll:             producer backends only (with @send): start (@enable) or stop
 *                    producing frames on a queue with netbe_backend_deliver()
 *                    (backpressure, pause for handover)
 * @queue_broken:     optional, fd backends only: the core found queue @queue's fd broken
 *                    (errno @err, EPROTO for a bad stream prefix, or 0 when a read
 *                    returned 0: the end of the stream or device) and closed it; the
 *                    plugin may reconnect and hand a new fd with
 *                    netbe_backend_set_queue_fd()
 * @stream_framing:   fd backends only: how frames sit on the plugin's
 *                    %NETBE_FRAMING_STREAM queue fds; NULL if it has none
 * @get_caps:         optional: NETBE_CAP_VNET_HDR and offloads of this instance (before
 *                    connect what it expects, after connect what it has) into @caps,
 *                    which the core zeroed; NULL: none
 * @set_vnet_hdr_len: optional: the frontend's header length (0, 10, 12 or 20); with L > 0
 *                    the queue fds carry L-byte headers from then on. NULL: the core
 *                    refuses every length but 0
 * @set_offloads:     optional: NETBE_OFFLOAD_* the frontend accepts in frames it receives;
 *                    NULL: the core refuses every set but 0
 * @set_queue_enabled: optional: attach or detach a queue (virtio-net multiqueue); after it
 *                    succeeded (or without it) the core stops or resumes the I/O on that
 *                    queue's fd
 * @save:             with NETBE_CAP_HANDOVER: write the plugin's own state of a connected,
 *                    paused backend (the core carries the queue fds, their shape and
 *                    buffered bytes, and the frames it holds)
 * @load:             with NETBE_CAP_HANDOVER: adopt that state instead of
 *                    @backend_connect; the queue fds are in place already
 *                    (netbe_backend_get_queue_fd()); @version is the @state_version of
 *                    the plugin that saved: refuse one you cannot read. On failure the
 *                    core closes those queue fds
 * @needed_caps:      optional: the Linux capabilities this instance still needs from now
 *                    on, as NETBE_LINUX_CAP(CAP_...) bits: for @backend_connect if it has
 *                    not run yet, and for what the plugin does later by itself
 *                    (reconnects). Called after @init, any number of times, without side
 *                    effects
 * @extra_syscalls:   optional: names of the syscalls (as libseccomp spells them) the plugin
 *                    makes besides those netbe's sandbox allows; NULL-terminated
 * @control:          optional, since ABI 4: a runtime command for this instance, from the
 *                    operator or the embedding VMM, after @init (connected or not): @cmd
 *                    names it, @arg is its argument (may be NULL). The commands the core
 *                    sends: "hostfwd-add" and "hostfwd-del" with a rule as the user
 *                    plugin's hostfwd option writes it. Return true once done; false with
 *                    @errp set and nothing changed; an unknown @cmd: false with
 *                    the code ENOTSUP (the core then says the plugin has no such
 *                    command). NULL: no commands
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

    bool (*control)(NetbeBackend *be, const char *cmd, const char *arg, GError **errp);
    /* end of ABI 4 */
} NetbePluginDesc;

/**
 * NETBE_LINUX_CAP() - one capability bit in a &NetbePluginDesc.needed_caps mask (a uint64_t)
 * @cap: a CAP_* number (linux/capability.h)
 */
#define NETBE_LINUX_CAP(cap) (UINT64_C(1) << (cap))

/**
 * NETBE_PLUGIN_DESC_HAS() - whether descriptor @d was built with field @field
 * @d:     a const NetbePluginDesc *
 * @field: a field of NetbePluginDesc
 *
 * An older plugin's descriptor is shorter (struct_size), and the host must not read past
 * it. True when @d's struct_size covers all of @field.
 */
#define NETBE_PLUGIN_DESC_HAS(d, field)                                                            \
    ((d)->struct_size >= offsetof(NetbePluginDesc, field) + sizeof((d)->field))

/**
 * typedef NetbePluginQueryFunc - the type of the exported query function
 * (NETBE_PLUGIN_QUERY_SYMBOL); NETBE_PLUGIN_DEFINE() writes one
 * @host_abi: the host's NETBE_PLUGIN_ABI
 *
 * Return: the plugin's descriptor, which must live as long as the plugin is loaded; NULL:
 * the host refuses the plugin ("returned no descriptor").
 */
typedef const NetbePluginDesc *(*NetbePluginQueryFunc)(uint32_t host_abi);

/**
 * NETBE_PLUGIN_DEFINE() - export @desc as this plugin's descriptor
 * @desc: a NetbePluginDesc with static storage (its address is returned)
 *
 * Defines netbe_plugin_query() with default visibility; it ignores the host's ABI.
 */
#define NETBE_PLUGIN_DEFINE(desc)                                                                  \
    __attribute__((visibility("default"))) const NetbePluginDesc *netbe_plugin_query(              \
        uint32_t host_abi);                                                                        \
    const NetbePluginDesc *netbe_plugin_query(uint32_t host_abi)                                   \
    {                                                                                              \
        (void)host_abi;                                                                            \
        return &(desc);                                                                            \
    }

/* ---- Services libnetbe gives plugins ---- */

/**
 * netbe_backend_priv() - the private state of this backend
 * @be: the backend
 *
 * Return: &NetbePluginDesc.state_size bytes, zeroed at creation and freed by the core after
 * &NetbePluginDesc.cleanup; NULL when state_size is 0.
 */
NETBE_API void *netbe_backend_priv(NetbeBackend *be);
/**
 * netbe_backend_id() - the netdev id from the config
 * @be: the backend
 *
 * Return: the id ("net0" for [netdev.net0]), owned by the backend.
 */
NETBE_API const char *netbe_backend_id(const NetbeBackend *be);
/**
 * netbe_backend_set_queues() - set the number of queues; call from &NetbePluginDesc.init
 * @be:     the backend
 * @queues: 1..NETBE_MAX_QUEUES; more than 1 needs NETBE_CAP_MULTIQUEUE
 * @errp:   the reason on failure
 *
 * An instance has one queue from its creation. The queues are made anew: fds they had are
 * closed and frames they held dropped.
 *
 * Return: true; false when @queues is out of range, is more than 1 without
 * NETBE_CAP_MULTIQUEUE (EINVAL), or the backend is connected already (EBUSY).
 */
NETBE_API bool netbe_backend_set_queues(NetbeBackend *be, unsigned queues, GError **errp);
/**
 * netbe_backend_get_queues() - the number of queues
 * @be: the backend
 *
 * Return: 1..NETBE_MAX_QUEUES, as netbe_backend_set_queues() set it.
 */
NETBE_API unsigned netbe_backend_get_queues(const NetbeBackend *be);
/**
 * netbe_backend_context() - the main context everything runs on
 * @be: the backend
 *
 * Return: the runtime's context (no new reference): attach the plugin's own sources to it.
 */
NETBE_API GMainContext *netbe_backend_context(NetbeBackend *be);

/* Most queues a backend may have. */
#define NETBE_MAX_QUEUES 256

/*
 * Option values, validated against the schema before &NetbePluginDesc.init runs; defaults
 * applied. Strings returned are owned by the options, which live as long as the backend.
 */
/**
 * netbe_options_get_string() - an option's value as written
 * @o:   the options
 * @key: the key
 *
 * Return: the value from the config, else the schema's default, else NULL.
 */
NETBE_API const char *netbe_options_get_string(const NetbeOptions *o, const char *key);
/**
 * netbe_options_get_int() - a %NETBE_OPT_INT or %NETBE_OPT_SIZE option's value
 * @o:   the options
 * @key: the key
 *
 * Return: the value from the config, else the schema's default, parsed as the key's type
 * says (a SIZE with its suffix applied); 0 when the key is in no schema, has neither a
 * value nor a default, or what it has does not parse as a number (a default is not
 * validated; a key of another type).
 */
NETBE_API int64_t netbe_options_get_int(const NetbeOptions *o, const char *key);
/**
 * netbe_options_get_bool() - a %NETBE_OPT_BOOL option's value
 * @o:   the options
 * @key: the key
 *
 * Return: true when the value from the config, else the schema's default, is a true word
 * (on, yes, true, 1); false otherwise, also without a value or default.
 */
NETBE_API bool netbe_options_get_bool(const NetbeOptions *o, const char *key);
/**
 * netbe_options_is_set() - whether @key was written in the config
 * @o:   the options
 * @key: the key
 *
 * Return: true when @key was written in the config, false when it is only defaulted.
 */
NETBE_API bool netbe_options_is_set(const NetbeOptions *o, const char *key);
/**
 * netbe_options_error() - set a config error for @key (or the section)
 * @o:    the options
 * @errp: gets the error (NETBE_CONFIG_ERROR, EINVAL); may be NULL
 * @key:  the key the error is about, or NULL for the section
 * @fmt:  printf() format of the message
 * @...:  its arguments
 *
 * The message is "FILE:LINE: [section] key: message", LINE being the key's line, or the
 * section's when @key is NULL ("FILE:LINE: [section]: message") or not written. An error
 * from &NetbePluginDesc.init that starts with FILE is shown as it is.
 */
NETBE_API void netbe_options_error(const NetbeOptions *o, GError **errp, const char *key,
                                   const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/**
 * netbe_options_add_error() - append a config error line for @key (or the section)
 * @o:      the options
 * @errors: gets the line, after a "\n" if it holds some already
 * @key:    the key the error is about, or NULL for the section
 * @fmt:    printf() format of the message
 * @...:    its arguments
 *
 * The line is the same "FILE:LINE: [section] key: message" as netbe_options_error()
 * makes: for a plugin that reports every problem of its section in one run (then
 * g_set_error_literal() with errors->str).
 */
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
 * A queue that has an fd already gets the new one (the old one is closed, also when @qfd
 * is not valid). Reading starts when the backend starts (at once if it has).
 *
 * Return: true; false (the fd closed; EINVAL) for a queue out of range, a producer plugin
 * (it has &NetbePluginDesc.send), or a @qfd that is not valid: no fd, header length,
 * framing, stream hook, destination, or an fd that cannot be made non-blocking.
 */
NETBE_API bool netbe_backend_set_queue_fd(NetbeBackend *be, unsigned queue, const NetbeQueueFd *qfd,
                                          GError **errp);
/**
 * netbe_backend_get_queue_fd() - queue @queue's fd, for ioctls (the core still owns it)
 * @be:    the backend
 * @queue: the queue
 *
 * Return: the fd, or -1 when the queue has none (not connected, broken) or is out of range.
 */
NETBE_API int netbe_backend_get_queue_fd(NetbeBackend *be, unsigned queue);
/**
 * netbe_backend_close_queue_fd() - close queue @queue's fd (the plugin disconnects it)
 * @be:    the backend
 * @queue: the queue
 *
 * &NetbePluginDesc.queue_broken is not called; stream bytes read ahead or not yet written
 * are dropped. No-op without an fd or for a queue out of range.
 */
NETBE_API void netbe_backend_close_queue_fd(NetbeBackend *be, unsigned queue);

/* fd watches on the runtime's context, cheap to re-arm. */
/**
 * typedef NetbeFdFunc - called when a watched fd is ready
 * @fd:      the fd
 * @revents: what it is ready for: some of the events asked, or G_IO_ERR, G_IO_HUP,
 *           G_IO_NVAL, which come whatever was asked
 * @opaque:  as given to netbe_fd_watch_new()
 *
 * Level-triggered: called again on every iteration of the context while the fd stays
 * ready.
 */
typedef void (*NetbeFdFunc)(int fd, GIOCondition revents, void *opaque);
/**
 * netbe_fd_watch_new() - watch @fd on the backend's context
 * @be:     the backend
 * @fd:     the fd; the watch never closes it: free the watch before closing it
 * @events: G_IO_IN, G_IO_OUT, or both; 0 for none yet
 * @func:   called on the runtime's context thread when @fd is ready
 * @opaque: for @func
 *
 * Return: the watch; the plugin frees it with netbe_fd_watch_free(), at the latest in
 * &NetbePluginDesc.cleanup (the core does not).
 */
NETBE_API NetbeFdWatch *netbe_fd_watch_new(NetbeBackend *be, int fd, GIOCondition events,
                                           NetbeFdFunc func, void *opaque);
/**
 * netbe_fd_watch_set_events() - change what a watch waits for (cheap)
 * @w:      the watch
 * @events: G_IO_IN, G_IO_OUT, both, or 0; G_IO_ERR and G_IO_HUP still come with 0 (a
 *          hung-up fd calls its function on every iteration): free the watch to stop them
 */
NETBE_API void netbe_fd_watch_set_events(NetbeFdWatch *w, GIOCondition events);
/**
 * netbe_fd_watch_free() - stop and free a watch; its function is not called after this
 * @w: the watch, or NULL
 */
NETBE_API void netbe_fd_watch_free(NetbeFdWatch *w);

/**
 * netbe_backend_deliver() - a producer backend pushes one frame it made to the frontend
 * @be:     the backend
 * @queue:  the queue
 * @iov:    the frame (with a vnet header if one was negotiated), copied if it must wait
 * @iovcnt: entries of @iov
 *
 * While the queue is full, the core stops the backend with &NetbePluginDesc.poll.
 *
 * Return: its length if taken or queued; -ENOBUFS if dropped (queue limit, or the backend
 * is not started or has no frontend; counted); -EINVAL for a queue out of range or an
 * empty frame (not counted).
 */
NETBE_API ssize_t netbe_backend_deliver(NetbeBackend *be, unsigned queue, const struct iovec *iov,
                                        int iovcnt);
/**
 * netbe_backend_tx_ready() - a producer's &NetbePluginDesc.send that returned 0 may be
 * retried now
 * @be:    the backend
 * @queue: the queue (no-op out of range)
 *
 * The core first offers &NetbePluginDesc.send the frames it holds for the queue, in order, then
 * lets the frontend send again once they are all gone.
 */
NETBE_API void netbe_backend_tx_ready(NetbeBackend *be, unsigned queue);

/**
 * netbe_backend_peer_event() - a backend's peer came or went: the runtime tells its event
 * subscribers (peer-connected, peer-disconnected; see netbe.h)
 * @be:        the backend
 * @peer:      who, as the log names it ("127.0.0.1:40012")
 * @connected: it came (true) or went (false)
 * @reason:    why it went ("closed the connection", an errno text), or NULL
 *
 * For plugins whose netdev serves one peer at a time (a stream socket); a libnetbe call of ABI 4,
 * no descriptor change.
 */
NETBE_API void netbe_backend_peer_event(NetbeBackend *be, const char *peer, bool connected,
                                        const char *reason);

#ifdef __cplusplus
}
#endif
#endif /* NETBE_PLUGIN_H */

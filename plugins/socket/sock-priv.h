/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sock-priv.h - state and internal functions shared by the files of the socket plugin. */
#ifndef NETBE_SOCK_PRIV_H
#define NETBE_SOCK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"

/* Longest stream frame: what QEMU's stream netdevs take (NET_BUFSIZE: 64 KiB GSO + 4 KiB). */
#define SOCK_FRAME_MAX (65536 + 4096)
/* Stream framing: a 4-byte big-endian length before every frame. */
#define SOCK_LEN_SIZE 4
/* A client connection its peer ends within this many ms is brief (a busy server refusing us):
 * after one, the next brief ones log at debug level. */
#define SOCK_BRIEF_MS 1000

/* The transport chosen by the options. */
typedef enum SockMode {
    SOCK_MODE_LISTEN = 0, /* stream server: listen = */
    SOCK_MODE_CONNECT,    /* stream client: connect = */
    SOCK_MODE_DGRAM,      /* udp = + localaddr =, or local = + remote = */
    SOCK_MODE_FD,         /* fd = : inherited, connected; stream or datagram */
} SockMode;

/*
 * struct SockAddr - a parsed address.
 * @ss, @len: the socket address
 * @text: as the user wrote it, for messages
 * @unix_path: filesystem path of an AF_UNIX address (NULL: abstract or not unix)
 */
typedef struct SockAddr {
    struct sockaddr_storage ss;
    socklen_t len;
    char *text;
    char *unix_path;
} SockAddr;

/*
 * struct SockState - private state of one socket backend (netbe_backend_priv()). The data
 * socket, once connected, is the core's (queue 0): it does all I/O on it and reports it
 * broken (sock_queue_broken()); the plugin keeps the sockets that carry no frames (the
 * listener, a connect in progress). Every fd starts at -1 and every pointer at NULL, so
 * sock_cleanup() works on a half-built instance.
 */
typedef struct SockState {
    NetbeBackend *be;
    const char *id; /* netdev id, for messages */
    SockMode mode;
    bool stream;    /* stream framing (listen, connect, stream fd) */
    SockAddr addr;  /* listen / connect / dgram remote address */
    SockAddr local; /* dgram local address */
    bool has_addr, has_local;
    unsigned reconnect_s; /* client: seconds before a new attempt, 0 = never */
    int inherited_fd;     /* fd = N, -1 if not given */

    /* server */
    int listen_fd;
    NetbeFdWatch *listen_watch;
    bool listen_unlink; /* we created addr.unix_path: remove it at cleanup */
    bool local_unlink;  /* same for the dgram local path */
    uint64_t refused;   /* extra connections refused while a peer is up */

    /* client: a non-blocking connect in progress (handed to the core once it completes) */
    int connect_fd;
    NetbeFdWatch *connect_watch;

    char *peer_text;       /* "127.0.0.1:5555" of the connected peer, for logs */
    gint64 up_since;       /* monotonic time the connection came up */
    bool warned_connect;   /* a failed connect attempt was logged already */
    unsigned brief_streak; /* client: brief connections in a row (logged at debug after one) */
    GSource *retry_timer;  /* reconnect, or accept again after an error */

    /* live handover (sock-handover.c) */
    bool saved;                 /* source: save() ran; unless we resume, the unix paths
                                 * are the destination's now: cleanup leaves them */
    bool adopted_listen_unlink; /* destination: the source created the path; ours to */
    bool adopted_local_unlink;  /* remove once we run (not if the handover fails) */
    GSource *handover_settle;   /* idle: the first dispatch after save() or load() */
} SockState;

/* sock-addr.c */
bool sock_addr_parse(SockAddr *a, const char *text, bool bind_side, char **problem);
void sock_addr_clear(SockAddr *a);
char *sock_addr_format(const struct sockaddr *sa, socklen_t len);
bool sock_unix_path_claim(const SockAddr *a, int type, GError **errp);
int sock_open(int family, int type, GError **errp, const char *what);
void sock_set_nodelay(int fd);

/* sock-conn.c */
bool sock_conn_start(SockState *s, GError **errp);
bool sock_conn_hand(SockState *s, int fd, char *peer, GError **errp);
void sock_queue_broken(NetbeBackend *be, unsigned queue, int err);
void sock_conn_close(SockState *s);
void sock_schedule_retry(SockState *s, unsigned ms);
void sock_listen_event(int lfd, GIOCondition revents, void *opaque);
void sock_connect_event(int fd, GIOCondition revents, void *opaque);

/* Whether the core has the data socket (frames flow): the one truth about "up". */
static inline bool sock_is_up(const SockState *s)
{
    return netbe_backend_get_queue_fd(s->be, 0) >= 0;
}

/* sock-framing.c: QEMU's stream framing, the core's hook */
extern const NetbeStreamFraming sock_stream_framing;

/* sock-dgram.c */
bool sock_dgram_open(SockState *s, GError **errp);

/* sock-handover.c: live handover (include/netbe/migrate.h) */
#define SOCK_STATE_VERSION 2
bool sock_save(SockState *s, NetbeMigWriter *w, GError **errp);
bool sock_load(SockState *s, NetbeMigReader *r, uint32_t version, GError **errp);
void sock_handover_cancel(SockState *s);

/* sock-fdcheck.c: is a handed-over fd the socket this netdev's configuration describes? */
bool sock_fdcheck_listener(const SockState *s, int fd, GError **errp);
bool sock_fdcheck_data(const SockState *s, int fd, int listen_fd, bool stream, bool connecting,
                       GError **errp);

#endif /* NETBE_SOCK_PRIV_H */

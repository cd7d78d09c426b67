/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sock-priv.h - state and internal functions shared by the files of the socket plugin. */
#ifndef NETBE_SOCK_PRIV_H
#define NETBE_SOCK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include "netbe/netbe.h"
#include "netbe/plugin.h"

/* Largest frame: 64 KiB GSO payload plus the largest vnet header (as the hub). */
#define SOCK_FRAME_MAX (65536 + 20)
/* Stream framing: a 4-byte big-endian length before every frame. */
#define SOCK_LEN_SIZE 4
/* Stream receive buffer: several frames per read(), and always room for a whole one. */
#define SOCK_RX_BUF_SIZE (256 * 1024)
/* Frames handed to the peer per rx_ready() call. */
#define SOCK_RX_BUDGET 64
/* Retry delay for a busy unconnected unix datagram peer (poll() cannot tell us). */
#define SOCK_DGRAM_RETRY_MS 2

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
 * struct SockState - private state of one socket backend (netbe_backend_priv()).
 * Every fd starts at -1 and every pointer at NULL, so sock_cleanup() works on a
 * half-built instance.
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

    /* the data socket */
    int fd;
    NetbeFdWatch *watch;
    GIOCondition events; /* what watch is armed for */
    bool connecting;     /* non-blocking connect in progress */
    bool up;             /* frames can flow */
    bool polling;        /* the runtime wants frames (poll()) */
    bool tx_wait;        /* a send returned busy: call tx_ready when writable */
    char *peer_text;     /* "127.0.0.1:5555" of the connected peer, for logs */
    uint64_t down_drops; /* frames dropped because the stream was not up */
    bool warned_send;    /* a datagram send error was logged already */
    bool warned_connect; /* a failed connect attempt was logged already */
    bool rx_any;         /* this connection brought some bytes */
    bool quiet;          /* client: peers closed on us without a byte; log at debug */

    /* stream receive: bytes read, frames parsed out of them in place */
    uint8_t *rx_buf;
    size_t rx_head, rx_tail;
    bool rx_broken;      /* framing lost (oversized length): drop the connection */
    uint32_t rx_bad_len; /* the length that broke it, for the log */
    bool rx_eof;         /* the peer closed: drop the connection once drained */
    GSource *kick;       /* idle: frames are buffered and the peer wants them */

    /* stream send: the unsent tail of a partly written frame */
    uint8_t *tx_buf;
    size_t tx_off, tx_len;

    GSource *retry_timer; /* reconnect, or a busy unix datagram peer */

    /* live handover (sock-handover.c) */
    bool saved;                 /* source: save() ran; unless we resume, the unix paths
                                 * are the destination's now: cleanup leaves them */
    bool adopted_listen_unlink; /* destination: the source created the path; ours to */
    bool adopted_local_unlink;  /* remove once we run (not if the handover fails) */
    bool adopted_idle;          /* destination: adopted, not run yet: no reads, writes, accepts
                                 * or reconnects until the commit (the source may resume) */
    unsigned adopted_retry_ms;  /* the reconnect attempt to schedule then, +1 (0: none) */
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
void sock_conn_lost(SockState *s, const char *why);
void sock_conn_event(int fd, GIOCondition revents, void *opaque);
void sock_conn_close(SockState *s);
void sock_update_events(SockState *s);
void sock_schedule_kick(SockState *s);
void sock_schedule_retry(SockState *s, unsigned ms);
void sock_listen_event(int lfd, GIOCondition revents, void *opaque);

/* sock-stream.c */
ssize_t sock_stream_send(SockState *s, const struct iovec *iov, int iovcnt);
ssize_t sock_stream_recv(SockState *s, const struct iovec *iov, int iovcnt);
void sock_stream_readable(SockState *s);
void sock_stream_deliver_buffered(SockState *s);
bool sock_stream_has_frame(const SockState *s);
bool sock_stream_flush_tail(SockState *s, int *err);
void sock_stream_reset(SockState *s);

/* sock-dgram.c */
ssize_t sock_dgram_send(SockState *s, const struct iovec *iov, int iovcnt);
ssize_t sock_dgram_recv(SockState *s, const struct iovec *iov, int iovcnt);
bool sock_dgram_open(SockState *s, GError **errp);

/* sock-handover.c: live handover (include/netbe/migrate.h) */
bool sock_save(SockState *s, NetbeMigWriter *w, GError **errp);
bool sock_load(SockState *s, NetbeMigReader *r, GError **errp);
void sock_handover_running(SockState *s);

/* sock-fdcheck.c: is a handed-over fd the socket this netdev's configuration describes? */
bool sock_fdcheck_listener(const SockState *s, int fd, GError **errp);
bool sock_fdcheck_data(const SockState *s, int fd, int listen_fd, bool stream, bool connecting,
                       GError **errp);

/* Total length of an iovec. */
static inline size_t sock_iov_size(const struct iovec *iov, int iovcnt)
{
    size_t len = 0;

    for (int i = 0; i < iovcnt; i++) {
        len += iov[i].iov_len;
    }
    return len;
}

#endif /* NETBE_SOCK_PRIV_H */

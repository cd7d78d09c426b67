// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-handover.c - live handover of a socket netdev: its record (save), checks, adoption (load).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "netbe/migrate.h"
#include "sock-priv.h"

/*
 * The record, after the core's part (fields in this order):
 *   u32 version, u8 transport (SockMode), string addr, string local (as configured,
 *   "" when none), u32 flags (SOCK_MIG_F_*), u32 ms until the next reconnect attempt,
 *   u64 frames dropped while down, string peer (for logs), bytes received but not yet
 *   delivered (stream), bytes of a partly written frame not yet sent (stream),
 *   then the fds: the listening socket (listen), the data socket (when open).
 */
#define SOCK_MIG_VERSION 1
/* Longest address or peer text taken from a stream. */
#define SOCK_MIG_TEXT_MAX 512
/* Longest reconnect delay (the option's maximum), in ms. */
#define SOCK_MIG_RETRY_MAX_MS (86400u * 1000u)

enum {
    SOCK_MIG_F_LISTEN_FD = 1u << 0,      /* a listening socket comes with the record */
    SOCK_MIG_F_DATA_FD = 1u << 1,        /* a data socket comes (after the listening one) */
    SOCK_MIG_F_STREAM = 1u << 2,         /* stream framing and buffers */
    SOCK_MIG_F_UP = 1u << 3,             /* frames flow */
    SOCK_MIG_F_CONNECTING = 1u << 4,     /* client: a non-blocking connect in progress */
    SOCK_MIG_F_TX_WAIT = 1u << 5,        /* the core waits for tx_ready */
    SOCK_MIG_F_RETRY = 1u << 6,          /* client: a reconnect attempt is due */
    SOCK_MIG_F_WARNED_CONNECT = 1u << 7, /* log state, as in SockState */
    SOCK_MIG_F_QUIET = 1u << 8,
    SOCK_MIG_F_RX_ANY = 1u << 9,
    SOCK_MIG_F_WARNED_SEND = 1u << 10,
    SOCK_MIG_F_LISTEN_UNLINK = 1u << 11, /* the source created the listen unix path */
    SOCK_MIG_F_LOCAL_UNLINK = 1u << 12,  /* ... the local datagram unix path */
    SOCK_MIG_F_ALL = (1u << 13) - 1,
};

/* Flags that copy a bool of SockState as it is, both ways. */
static const struct {
    uint32_t flag;
    size_t offset;
} sock_mig_bools[] = {
    {SOCK_MIG_F_UP, offsetof(SockState, up)},
    {SOCK_MIG_F_CONNECTING, offsetof(SockState, connecting)},
    {SOCK_MIG_F_WARNED_CONNECT, offsetof(SockState, warned_connect)},
    {SOCK_MIG_F_QUIET, offsetof(SockState, quiet)},
    {SOCK_MIG_F_RX_ANY, offsetof(SockState, rx_any)},
    {SOCK_MIG_F_WARNED_SEND, offsetof(SockState, warned_send)},
};

static const char *const sock_mode_names[] = {
    [SOCK_MODE_LISTEN] = "listen",
    [SOCK_MODE_CONNECT] = "connect",
    [SOCK_MODE_DGRAM] = "datagram",
    [SOCK_MODE_FD] = "fd",
};

/* The record without its fds, as read (strings owned, bytes point into the reader). */
typedef struct SockMigState {
    uint32_t version;
    uint8_t mode;
    char *addr, *local, *peer;
    uint32_t flags;
    uint32_t retry_ms;
    uint64_t down_drops;
    const void *rx, *tx;
    uint32_t rx_len, tx_len;
} SockMigState;

static bool *state_bool(SockState *s, size_t offset)
{
    return (bool *)((char *)s + offset);
}

/* Milliseconds until the pending reconnect attempt. */
static uint32_t retry_remaining_ms(SockState *s)
{
    gint64 left = g_source_get_ready_time(s->retry_timer) - g_get_monotonic_time();

    return left <= 0 ? 0 : (uint32_t)MIN(left / 1000, (gint64)SOCK_MIG_RETRY_MAX_MS);
}

static uint32_t save_flags(SockState *s)
{
    uint32_t flags = 0;

    for (size_t i = 0; i < G_N_ELEMENTS(sock_mig_bools); i++) {
        if (*state_bool(s, sock_mig_bools[i].offset)) {
            flags |= sock_mig_bools[i].flag;
        }
    }
    flags |= s->listen_fd >= 0 ? SOCK_MIG_F_LISTEN_FD : 0;
    flags |= s->fd >= 0 ? SOCK_MIG_F_DATA_FD : 0;
    flags |= s->stream ? SOCK_MIG_F_STREAM : 0;
    /* a busy unix datagram peer is retried by a timer: on the destination, by POLLOUT */
    flags |= s->up && (s->tx_wait || (s->mode == SOCK_MODE_DGRAM && s->retry_timer))
                 ? SOCK_MIG_F_TX_WAIT
                 : 0;
    flags |= s->mode == SOCK_MODE_CONNECT && s->fd < 0 && s->retry_timer ? SOCK_MIG_F_RETRY : 0;
    flags |= s->listen_unlink ? SOCK_MIG_F_LISTEN_UNLINK : 0;
    flags |= s->local_unlink ? SOCK_MIG_F_LOCAL_UNLINK : 0;
    return flags;
}

/*
 * sock_save() - the record of a connected, paused netdev, and its fds (borrowed: the stream
 * sends copies). Nothing changes here but @s->saved: once the handover commits, the unix
 * paths belong to the destination, so our cleanup leaves them; resuming clears it.
 * Return: false with @errp set if the state cannot be written.
 */
bool sock_save(SockState *s, NetbeMigWriter *w, GError **errp)
{
    uint32_t flags = save_flags(s);
    bool buffers = s->stream && s->up && s->rx_buf;

    if (s->mode == SOCK_MODE_LISTEN && s->listen_fd < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTCONN, "not listening: nothing to hand over");
        return false;
    }
    netbe_mig_put_u32(w, SOCK_MIG_VERSION);
    netbe_mig_put_u8(w, (uint8_t)s->mode);
    netbe_mig_put_string(w, s->has_addr ? s->addr.text : "");
    netbe_mig_put_string(w, s->has_local ? s->local.text : "");
    netbe_mig_put_u32(w, flags);
    netbe_mig_put_u32(w, flags & SOCK_MIG_F_RETRY ? retry_remaining_ms(s) : 0);
    netbe_mig_put_u64(w, s->down_drops);
    netbe_mig_put_string(w, s->peer_text && strlen(s->peer_text) <= SOCK_MIG_TEXT_MAX ? s->peer_text
                                                                                      : "");
    netbe_mig_put_bytes(w, buffers ? s->rx_buf + s->rx_head : (const uint8_t *)"",
                        buffers ? (uint32_t)(s->rx_tail - s->rx_head) : 0);
    netbe_mig_put_bytes(w, buffers ? s->tx_buf + s->tx_off : (const uint8_t *)"",
                        buffers ? (uint32_t)s->tx_len : 0);
    if ((s->listen_fd >= 0 && !netbe_mig_put_fd(w, s->listen_fd)) ||
        (s->fd >= 0 && !netbe_mig_put_fd(w, s->fd))) {
        g_set_error(errp, NETBE_BACKEND_ERROR, E2BIG, "cannot attach the sockets to the record");
        return false;
    }
    g_debug("netdev '%s': saved for handover: flags 0x%x, %zu bytes received and %zu unsent "
            "buffered",
            s->id, flags, buffers ? s->rx_tail - s->rx_head : 0, buffers ? s->tx_len : 0);
    s->saved = true;
    return true;
}

/* Read the fields (not the fds). Return: false if one is missing or mistagged. */
static bool read_fields(NetbeMigReader *r, SockMigState *st)
{
    return netbe_mig_get_u8(r, &st->mode) && netbe_mig_get_string(r, &st->addr) &&
           netbe_mig_get_string(r, &st->local) && netbe_mig_get_u32(r, &st->flags) &&
           netbe_mig_get_u32(r, &st->retry_ms) && netbe_mig_get_u64(r, &st->down_drops) &&
           netbe_mig_get_string(r, &st->peer) && netbe_mig_get_bytes(r, &st->rx, &st->rx_len) &&
           netbe_mig_get_bytes(r, &st->tx, &st->tx_len);
}

/* The transport and addresses the record describes are this netdev's. Return: a problem. */
static char *transport_problem(const SockState *s, const SockMigState *st)
{
    const char *addr = s->has_addr ? s->addr.text : "", *local = s->has_local ? s->local.text : "";
    bool stream = st->flags & SOCK_MIG_F_STREAM;

    if (st->mode >= G_N_ELEMENTS(sock_mode_names)) {
        return g_strdup_printf("unknown transport %u", st->mode);
    }
    if (st->mode != s->mode) {
        return g_strdup_printf("the source's transport is %s, this netdev's is %s (configs "
                               "differ)",
                               sock_mode_names[st->mode], sock_mode_names[s->mode]);
    }
    if (strcmp(st->addr, addr) != 0 || strcmp(st->local, local) != 0) {
        return g_strdup_printf("the source's addresses are '%s' / '%s', this netdev's '%s' / "
                               "'%s' (configs differ)",
                               st->addr, st->local, addr, local);
    }
    if (s->mode != SOCK_MODE_FD && stream != (s->mode != SOCK_MODE_DGRAM)) {
        return g_strdup_printf("a %s %s socket", stream ? "stream" : "datagram",
                               sock_mode_names[s->mode]);
    }
    return NULL;
}

/* The first rule the flags, delays and buffers break, or NULL. */
static const char *state_problem(const SockState *s, const SockMigState *st)
{
    uint32_t f = st->flags;
    bool up = f & SOCK_MIG_F_UP, connecting = f & SOCK_MIG_F_CONNECTING;

    if (f & ~SOCK_MIG_F_ALL) {
        return "unknown flags";
    }
    if (!!(f & SOCK_MIG_F_LISTEN_FD) != (s->mode == SOCK_MODE_LISTEN)) {
        return "a listening socket only and always comes with listen =";
    }
    if ((up && connecting) || (connecting && s->mode != SOCK_MODE_CONNECT)) {
        return "connecting is for a client that is not up yet";
    }
    if (!!(f & SOCK_MIG_F_DATA_FD) != (up || connecting)) {
        return "a data socket comes exactly when the netdev is up or connecting";
    }
    if (s->mode == SOCK_MODE_DGRAM && !up) {
        return "a datagram netdev is always up";
    }
    if ((f & SOCK_MIG_F_TX_WAIT) && !up) {
        return "waiting to send while down";
    }
    if (f & SOCK_MIG_F_RETRY) {
        if (s->mode != SOCK_MODE_CONNECT || up || connecting) {
            return "a reconnect is due only for a client that is down";
        }
        if (!s->reconnect_s) {
            return "the source was reconnecting, but reconnect = 0 here";
        }
        if (st->retry_ms > SOCK_MIG_RETRY_MAX_MS) {
            return "reconnect delay out of range";
        }
    } else if (st->retry_ms) {
        return "a reconnect delay without a reconnect";
    }
    if (st->rx_len > SOCK_RX_BUF_SIZE || st->tx_len > SOCK_FRAME_MAX + SOCK_LEN_SIZE) {
        return "buffered bytes exceed the buffers";
    }
    if ((st->rx_len || st->tx_len) && !(up && (f & SOCK_MIG_F_STREAM))) {
        return "buffered bytes without a stream that is up";
    }
    if ((f & SOCK_MIG_F_LISTEN_UNLINK) && !(s->mode == SOCK_MODE_LISTEN && s->addr.unix_path)) {
        return "a listen path to remove, but listen = is not a unix path";
    }
    if ((f & SOCK_MIG_F_LOCAL_UNLINK) && !(s->mode == SOCK_MODE_DGRAM && s->local.unix_path)) {
        return "a local path to remove, but local = is not a unix path";
    }
    if (strlen(st->addr) > SOCK_MIG_TEXT_MAX || strlen(st->local) > SOCK_MIG_TEXT_MAX ||
        strlen(st->peer) > SOCK_MIG_TEXT_MAX) {
        return "address text too long";
    }
    return NULL;
}

/* Take the fds the flags announce; more than that is an error. Return: false, @errp set. */
static bool take_fds(NetbeMigReader *r, const SockMigState *st, int *lfd, int *dfd, GError **errp)
{
    int extra;

    if ((st->flags & SOCK_MIG_F_LISTEN_FD) && (*lfd = netbe_mig_get_fd(r)) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: the listening socket is "
                    "announced but did not come");
        return false;
    }
    if ((st->flags & SOCK_MIG_F_DATA_FD) && (*dfd = netbe_mig_get_fd(r)) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: the data socket is "
                    "announced but did not come");
        return false;
    }
    extra = netbe_mig_get_fd(r);
    if (extra >= 0) {
        close(extra);
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: more fds than the flags "
                    "announce (0x%x)",
                    st->flags);
        return false;
    }
    return true;
}

/* Non-blocking (already so: the file is shared with the source) and close-on-exec. */
static bool prepare_fd(int fd, GError **errp)
{
    int flags;

    if (fd < 0) {
        return true;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "socket state: fd %d: %s", fd,
                    g_strerror(errno));
        return false;
    }
    return true;
}

/* Make the checked state and fds ours; cannot fail. */
static void adopt(SockState *s, const SockMigState *st, int lfd, int dfd)
{
    for (size_t i = 0; i < G_N_ELEMENTS(sock_mig_bools); i++) {
        *state_bool(s, sock_mig_bools[i].offset) = st->flags & sock_mig_bools[i].flag;
    }
    s->stream = st->flags & SOCK_MIG_F_STREAM;
    s->down_drops = st->down_drops;
    s->adopted_listen_unlink = st->flags & SOCK_MIG_F_LISTEN_UNLINK;
    s->adopted_local_unlink = st->flags & SOCK_MIG_F_LOCAL_UNLINK;
    s->inherited_fd = -1; /* fd = N named the source's fd; the stream brought the socket */
    if (s->mode != SOCK_MODE_DGRAM && !s->rx_buf) {
        s->rx_buf = g_malloc(SOCK_RX_BUF_SIZE);
        s->tx_buf = g_malloc(SOCK_FRAME_MAX + SOCK_LEN_SIZE);
    }
    s->adopted_idle = true; /* until sock_handover_running() */
    if (lfd >= 0) {
        s->listen_fd = lfd;
        s->listen_watch = netbe_fd_watch_new(s->be, lfd, 0, sock_listen_event, s);
    }
    if (dfd >= 0) {
        s->fd = dfd;
        s->peer_text = g_strdup(st->peer[0] ? st->peer : s->addr.text ? s->addr.text : "peer");
        sock_stream_reset(s);
        if (st->rx_len) {
            memcpy(s->rx_buf, st->rx, st->rx_len);
            s->rx_tail = st->rx_len;
        }
        if (st->tx_len) {
            memcpy(s->tx_buf, st->tx, st->tx_len);
            s->tx_len = st->tx_len;
        }
        s->tx_wait = st->flags & SOCK_MIG_F_TX_WAIT;
        s->events = 0;
        s->watch = netbe_fd_watch_new(s->be, dfd, 0, sock_conn_event, s);
        sock_update_events(s);
    }
    s->adopted_retry_ms = st->flags & SOCK_MIG_F_RETRY ? st->retry_ms + 1 : 0;
}

/* The address @fd is bound to, for the log (a :0 config shows the real port). */
static char *local_text(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        return g_strdup("(unknown)");
    }
    return sock_addr_format((struct sockaddr *)&ss, len);
}

/*
 * sock_load() - adopt a handed-over netdev instead of connecting: check the record
 * (untrusted) and every fd against this netdev's config, then take them with the bytes
 * received but not yet delivered and the unsent tail of a partly written frame.
 * Return: false with the first problem in @errp; the fds taken are closed then (the
 * reader closes the others) and the netdev is as before.
 */
bool sock_load(SockState *s, NetbeMigReader *r, GError **errp)
{
    SockMigState st = {0};
    g_autofree char *problem = NULL, *where = NULL;
    const char *rule;
    int lfd = -1, dfd = -1;
    bool ok = false;

    if (s->fd >= 0 || s->listen_fd >= 0 || s->retry_timer) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBUSY,
                    "already connected: cannot adopt the "
                    "handed-over sockets as well");
        goto out;
    }
    if (netbe_mig_get_u32(r, &st.version) && st.version != SOCK_MIG_VERSION) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: version %u, this plugin "
                    "reads version %u",
                    st.version, SOCK_MIG_VERSION);
        goto out;
    }
    if (st.version != SOCK_MIG_VERSION || !read_fields(r, &st)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: malformed record (a field "
                    "is missing, short or of another type)");
        goto out;
    }
    problem = transport_problem(s, &st);
    rule = problem ? NULL : state_problem(s, &st);
    if (problem || rule) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "socket state (flags 0x%x): %s", st.flags,
                    problem ? problem : rule);
        goto out;
    }
    if (!take_fds(r, &st, &lfd, &dfd, errp) || (lfd >= 0 && !sock_fdcheck_listener(s, lfd, errp)) ||
        (dfd >= 0 && !sock_fdcheck_data(s, dfd, lfd, st.flags & SOCK_MIG_F_STREAM,
                                        st.flags & SOCK_MIG_F_CONNECTING, errp)) ||
        !prepare_fd(lfd, errp) || !prepare_fd(dfd, errp)) {
        goto out;
    }
    adopt(s, &st, lfd, dfd);
    where = lfd >= 0 ? local_text(lfd) : NULL;
    g_message("netdev '%s': took over the %s transport from the handover: %s%s%s%s%s (%u bytes "
              "received and %u unsent carried over)",
              s->id, sock_mode_names[s->mode], lfd >= 0 ? "listener on " : "", where ? where : "",
              lfd >= 0 && dfd >= 0 ? ", " : "", dfd >= 0 ? "peer " : "",
              dfd >= 0                        ? s->peer_text
              : lfd >= 0                      ? ""
              : (st.flags & SOCK_MIG_F_RETRY) ? "down, reconnecting"
                                              : "down",
              st.rx_len, st.tx_len);
    ok = true;
out:
    if (!ok) {
        if (lfd >= 0) {
            close(lfd);
        }
        if (dfd >= 0) {
            close(dfd);
        }
    }
    g_free(st.addr);
    g_free(st.local);
    g_free(st.peer);
    return ok;
}

/*
 * sock_handover_running() - the runtime polls us: a saved source resumed (its unix paths
 * are its own again), or an adopted netdev runs, after the commit: only now it accepts,
 * reads, writes the unsent tail and reconnects, and the paths the source created are its
 * to remove at cleanup (a handover that fails before leaves all that to the source).
 */
void sock_handover_running(SockState *s)
{
    s->saved = false;
    if (!s->adopted_idle) {
        return;
    }
    s->adopted_idle = false;
    s->listen_unlink |= s->adopted_listen_unlink;
    s->local_unlink |= s->adopted_local_unlink;
    s->adopted_listen_unlink = s->adopted_local_unlink = false;
    if (s->listen_watch) {
        netbe_fd_watch_set_events(s->listen_watch, G_IO_IN);
    }
    if (s->adopted_retry_ms) {
        sock_schedule_retry(s, s->adopted_retry_ms - 1);
        s->adopted_retry_ms = 0;
    }
    sock_update_events(s);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-handover.c - live handover of a socket netdev: its own record (save), checks, adoption
 * (load); the core carries the data socket and the stream bytes it buffered. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "netbe/migrate.h"
#include "sock-priv.h"

/*
 * The record (SOCK_STATE_VERSION), after the core's part (which brings the data socket of
 * queue 0, when there is one), fields in this order:
 *   u8 transport (SockMode), string addr, string local (as configured, "" when none),
 *   u32 flags (SOCK_MIG_F_*), u32 ms until the next reconnect attempt, string peer (for
 *   logs), then the fds: the listening socket (listen), the socket of a connect in progress.
 */
/* Longest address or peer text taken from a stream. */
#define SOCK_MIG_TEXT_MAX 512
/* Longest reconnect delay (the option's maximum), in ms. */
#define SOCK_MIG_RETRY_MAX_MS (86400u * 1000u)

enum {
    SOCK_MIG_F_LISTEN_FD = 1u << 0,      /* a listening socket comes with the record */
    SOCK_MIG_F_CONNECT_FD = 1u << 1,     /* client: the socket of a connect in progress comes */
    SOCK_MIG_F_STREAM = 1u << 2,         /* stream framing */
    SOCK_MIG_F_RETRY = 1u << 3,          /* client: a reconnect attempt is due */
    SOCK_MIG_F_WARNED_CONNECT = 1u << 4, /* log state, as in SockState */
    SOCK_MIG_F_BRIEF = 1u << 5,          /* the last client connection was brief */
    SOCK_MIG_F_BRIEF_AGAIN = 1u << 6,    /* ... and the one before */
    SOCK_MIG_F_LISTEN_UNLINK = 1u << 7,  /* the source created the listen unix path */
    SOCK_MIG_F_LOCAL_UNLINK = 1u << 8,   /* ... the local datagram unix path */
    SOCK_MIG_F_ALL = (1u << 9) - 1,
};

static const char *const sock_mode_names[] = {
    [SOCK_MODE_LISTEN] = "listen",
    [SOCK_MODE_CONNECT] = "connect",
    [SOCK_MODE_DGRAM] = "datagram",
    [SOCK_MODE_FD] = "fd",
};

/* The record without its fds, as read (strings owned). */
typedef struct SockMigState {
    uint8_t mode;
    char *addr, *local, *peer;
    uint32_t flags;
    uint32_t retry_ms;
} SockMigState;

/*
 * The first dispatch after save() or load(): the runtime runs again. A source that saved
 * runs again only if the handover failed (it resumed): its unix paths are its own again. A
 * destination runs only once the handover committed: the paths the source created are its
 * to remove at cleanup (a handover that fails releases it before: the source keeps them).
 */
static gboolean handover_settled(gpointer opaque)
{
    SockState *s = opaque;

    g_source_unref(s->handover_settle);
    s->handover_settle = NULL;
    s->saved = false;
    s->listen_unlink |= s->adopted_listen_unlink;
    s->local_unlink |= s->adopted_local_unlink;
    s->adopted_listen_unlink = s->adopted_local_unlink = false;
    return G_SOURCE_REMOVE;
}

static void handover_settle_later(SockState *s)
{
    if (s->handover_settle) {
        return;
    }
    s->handover_settle = g_idle_source_new();
    g_source_set_priority(s->handover_settle, G_PRIORITY_HIGH);
    g_source_set_callback(s->handover_settle, handover_settled, s, NULL);
    g_source_set_name(s->handover_settle, "netbe-socket-handover");
    g_source_attach(s->handover_settle, netbe_backend_context(s->be));
}

/* sock_handover_cancel() - cleanup: the runtime never ran again after save() or load(). */
void sock_handover_cancel(SockState *s)
{
    if (s->handover_settle) {
        g_source_destroy(s->handover_settle);
        g_source_unref(s->handover_settle);
        s->handover_settle = NULL;
    }
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

    flags |= s->listen_fd >= 0 ? SOCK_MIG_F_LISTEN_FD : 0;
    flags |= s->connect_fd >= 0 ? SOCK_MIG_F_CONNECT_FD : 0;
    flags |= s->stream ? SOCK_MIG_F_STREAM : 0;
    flags |= s->mode == SOCK_MODE_CONNECT && !sock_is_up(s) && s->connect_fd < 0 && s->retry_timer
                 ? SOCK_MIG_F_RETRY
                 : 0;
    flags |= s->warned_connect ? SOCK_MIG_F_WARNED_CONNECT : 0;
    flags |= s->brief_streak > 0 ? SOCK_MIG_F_BRIEF : 0;
    flags |= s->brief_streak > 1 ? SOCK_MIG_F_BRIEF_AGAIN : 0;
    flags |= s->listen_unlink ? SOCK_MIG_F_LISTEN_UNLINK : 0;
    flags |= s->local_unlink ? SOCK_MIG_F_LOCAL_UNLINK : 0;
    return flags;
}

/*
 * sock_save() - the record of a connected, paused netdev, and its fds besides the data
 * socket (borrowed: the stream sends copies). Nothing changes here but @s->saved: once the
 * handover commits, the unix paths belong to the destination, so our cleanup leaves them;
 * resuming clears it.
 * Return: false with @errp set if the state cannot be written.
 */
bool sock_save(SockState *s, NetbeMigWriter *w, GError **errp)
{
    uint32_t flags = save_flags(s);
    const char *peer = sock_is_up(s) && s->peer_text ? s->peer_text : "";

    if (s->mode == SOCK_MODE_LISTEN && s->listen_fd < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, ENOTCONN, "not listening: nothing to hand over");
        return false;
    }
    netbe_mig_put_u8(w, (uint8_t)s->mode);
    netbe_mig_put_string(w, s->has_addr ? s->addr.text : "");
    netbe_mig_put_string(w, s->has_local ? s->local.text : "");
    netbe_mig_put_u32(w, flags);
    netbe_mig_put_u32(w, flags & SOCK_MIG_F_RETRY ? retry_remaining_ms(s) : 0);
    netbe_mig_put_string(w, strlen(peer) <= SOCK_MIG_TEXT_MAX ? peer : "");
    if ((s->listen_fd >= 0 && !netbe_mig_put_fd(w, s->listen_fd)) ||
        (s->connect_fd >= 0 && !netbe_mig_put_fd(w, s->connect_fd))) {
        g_set_error(errp, NETBE_BACKEND_ERROR, E2BIG, "cannot attach the sockets to the record");
        return false;
    }
    g_debug("netdev '%s': saved for handover: flags 0x%x", s->id, flags);
    s->saved = true;
    handover_settle_later(s);
    return true;
}

/* Read the fields (not the fds). Return: false if one is missing or mistagged. */
static bool read_fields(NetbeMigReader *r, SockMigState *st)
{
    return netbe_mig_get_u8(r, &st->mode) && netbe_mig_get_string(r, &st->addr) &&
           netbe_mig_get_string(r, &st->local) && netbe_mig_get_u32(r, &st->flags) &&
           netbe_mig_get_u32(r, &st->retry_ms) && netbe_mig_get_string(r, &st->peer);
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

/* The first rule the flags and delays break, with the data socket @up or not, or NULL. */
static const char *state_problem(const SockState *s, const SockMigState *st, bool up)
{
    uint32_t f = st->flags;
    bool connecting = f & SOCK_MIG_F_CONNECT_FD;

    if (f & ~SOCK_MIG_F_ALL) {
        return "unknown flags";
    }
    if (!!(f & SOCK_MIG_F_LISTEN_FD) != (s->mode == SOCK_MODE_LISTEN)) {
        return "a listening socket only and always comes with listen =";
    }
    if (connecting && (up || s->mode != SOCK_MODE_CONNECT)) {
        return "connecting is for a client that is not up yet";
    }
    if (s->mode == SOCK_MODE_DGRAM && !up) {
        return "a datagram netdev always comes with its socket";
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
    if ((f & SOCK_MIG_F_BRIEF_AGAIN) && !(f & SOCK_MIG_F_BRIEF)) {
        return "a second brief connection without a first";
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
static bool take_fds(NetbeMigReader *r, const SockMigState *st, int *lfd, int *cfd, GError **errp)
{
    int extra;

    if ((st->flags & SOCK_MIG_F_LISTEN_FD) && (*lfd = netbe_mig_get_fd(r)) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: the listening socket is announced but did not come");
        return false;
    }
    if ((st->flags & SOCK_MIG_F_CONNECT_FD) && (*cfd = netbe_mig_get_fd(r)) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: the connecting socket is announced but did not come");
        return false;
    }
    extra = netbe_mig_get_fd(r);
    if (extra >= 0) {
        close(extra);
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: more fds than the flags announce (0x%x)", st->flags);
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

/* Check every fd against this netdev's config: the listener and the connect in progress
 * from the record, the data socket the core brought (@dfd). */
static bool check_fds(const SockState *s, const SockMigState *st, int lfd, int cfd, int dfd,
                      GError **errp)
{
    bool stream = st->flags & SOCK_MIG_F_STREAM;

    return (lfd < 0 || sock_fdcheck_listener(s, lfd, errp)) &&
           (cfd < 0 || sock_fdcheck_data(s, cfd, -1, true, true, errp)) &&
           (dfd < 0 || sock_fdcheck_data(s, dfd, lfd, stream, false, errp)) &&
           prepare_fd(lfd, errp) && prepare_fd(cfd, errp) && prepare_fd(dfd, errp);
}

/* Make the checked state and fds ours; cannot fail. Nothing runs before the runtime does,
 * after the commit: a handover that fails releases us first. */
static void adopt(SockState *s, const SockMigState *st, int lfd, int cfd, bool up)
{
    s->stream = st->flags & SOCK_MIG_F_STREAM;
    s->warned_connect = st->flags & SOCK_MIG_F_WARNED_CONNECT;
    s->brief_streak = !!(st->flags & SOCK_MIG_F_BRIEF) + !!(st->flags & SOCK_MIG_F_BRIEF_AGAIN);
    s->adopted_listen_unlink = st->flags & SOCK_MIG_F_LISTEN_UNLINK;
    s->adopted_local_unlink = st->flags & SOCK_MIG_F_LOCAL_UNLINK;
    s->inherited_fd = -1; /* fd = N named the source's fd; the stream brought the socket */
    if (lfd >= 0) {
        s->listen_fd = lfd;
        s->listen_watch = netbe_fd_watch_new(s->be, lfd, G_IO_IN, sock_listen_event, s);
    }
    if (cfd >= 0) {
        s->connect_fd = cfd;
        s->connect_watch = netbe_fd_watch_new(s->be, cfd, G_IO_OUT, sock_connect_event, s);
    }
    if (up) {
        s->peer_text = g_strdup(st->peer[0] ? st->peer : s->addr.text ? s->addr.text : "peer");
        s->up_since = g_get_monotonic_time();
    }
    if (st->flags & SOCK_MIG_F_RETRY) {
        sock_schedule_retry(s, st->retry_ms);
    }
    handover_settle_later(s);
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

/* Log what was taken over. */
static void log_adopted(SockState *s, const SockMigState *st, int lfd, bool up)
{
    g_autofree char *where = lfd >= 0 ? local_text(lfd) : NULL;

    g_message("netdev '%s': took over the %s transport from the handover: %s%s%s%s%s", s->id,
              sock_mode_names[s->mode], lfd >= 0 ? "listener on " : "", where ? where : "",
              lfd >= 0 && up ? ", " : "", up ? "peer " : "",
              up                               ? s->peer_text
              : lfd >= 0                       ? ""
              : s->connect_fd >= 0             ? "connecting"
              : (st->flags & SOCK_MIG_F_RETRY) ? "down, reconnecting"
                                               : "down");
}

/*
 * sock_load() - adopt a handed-over netdev instead of connecting: check the record
 * (untrusted, written by a plugin of state @version) and every fd against this netdev's
 * config (the data socket, if any, is in place in the core already), then take them.
 * Return: false with the first problem in @errp; the fds taken are closed then (the core
 * closes the data socket, the reader the others) and the netdev is as before.
 */
bool sock_load(SockState *s, NetbeMigReader *r, uint32_t version, GError **errp)
{
    SockMigState st = {0};
    g_autofree char *problem = NULL;
    int lfd = -1, cfd = -1, dfd = netbe_backend_get_queue_fd(s->be, 0);
    const char *rule;
    bool ok = false;

    if (version != SOCK_STATE_VERSION) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: version %u, this plugin reads version %u", version,
                    SOCK_STATE_VERSION);
        return false;
    }
    if (s->listen_fd >= 0 || s->connect_fd >= 0 || s->retry_timer) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBUSY,
                    "already connected: cannot adopt the handed-over sockets as well");
        return false;
    }
    if (!read_fields(r, &st)) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EPROTO,
                    "socket state: malformed record (a field is missing, short or of another "
                    "type)");
        goto out;
    }
    problem = transport_problem(s, &st);
    rule = problem ? NULL : state_problem(s, &st, dfd >= 0);
    if (problem || rule) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL, "socket state (flags 0x%x): %s", st.flags,
                    problem ? problem : rule);
        goto out;
    }
    if (!take_fds(r, &st, &lfd, &cfd, errp) || !check_fds(s, &st, lfd, cfd, dfd, errp)) {
        goto out;
    }
    adopt(s, &st, lfd, cfd, dfd >= 0);
    log_adopted(s, &st, lfd, dfd >= 0);
    ok = true;
out:
    if (!ok) {
        if (lfd >= 0) {
            close(lfd);
        }
        if (cfd >= 0) {
            close(cfd);
        }
    }
    g_free(st.addr);
    g_free(st.local);
    g_free(st.peer);
    return ok;
}

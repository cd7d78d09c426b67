// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-conn.c - socket lifecycle: listen and accept, connect and reconnect, inherited fds. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "sock-priv.h"

static bool connect_begin(SockState *s, GError **errp);

static gboolean retry_fire(gpointer opaque)
{
    SockState *s = opaque;
    g_autoptr(GError) err = NULL;

    g_source_unref(s->retry_timer);
    s->retry_timer = NULL;
    if (s->mode == SOCK_MODE_LISTEN) {
        netbe_fd_watch_set_events(s->listen_watch, G_IO_IN); /* after an accept error */
    } else if (s->mode == SOCK_MODE_CONNECT && s->connect_fd < 0 && !sock_is_up(s) &&
               !connect_begin(s, &err)) {
        if (!s->warned_connect) {
            g_message("netdev '%s': %s; retrying every %u s", s->id, err->message, s->reconnect_s);
            s->warned_connect = true;
        } else {
            g_debug("netdev '%s': %s", s->id, err->message);
        }
        sock_schedule_retry(s, s->reconnect_s * 1000);
    }
    return G_SOURCE_REMOVE;
}

/* sock_schedule_retry() - run the mode's retry (reconnect, accept again) in @ms. */
void sock_schedule_retry(SockState *s, unsigned ms)
{
    if (s->retry_timer) {
        return;
    }
    s->retry_timer = g_timeout_source_new(ms);
    g_source_set_callback(s->retry_timer, retry_fire, s, NULL);
    g_source_set_name(s->retry_timer, "netbe-socket-retry");
    g_source_attach(s->retry_timer, netbe_backend_context(s->be));
}

/* Forget a connect attempt in progress (its socket closed). */
static void connect_abandon(SockState *s)
{
    netbe_fd_watch_free(s->connect_watch);
    s->connect_watch = NULL;
    if (s->connect_fd >= 0) {
        close(s->connect_fd);
        s->connect_fd = -1;
    }
}

/* sock_conn_close() - close the data socket (the core's) or the connect attempt. */
void sock_conn_close(SockState *s)
{
    connect_abandon(s);
    netbe_backend_close_queue_fd(s->be, 0);
    g_free(s->peer_text);
    s->peer_text = NULL;
}

/*
 * sock_conn_hand() - @fd is connected to @peer (taken): hand it to the core, which carries
 * frames on it from now on.
 * Return: false with @errp set (@fd closed) if the core refused it.
 */
bool sock_conn_hand(SockState *s, int fd, char *peer, GError **errp)
{
    NetbeQueueFd qfd = {
        .fd = fd,
        .framing = s->stream ? NETBE_FRAMING_STREAM : NETBE_FRAMING_PACKET,
    };

    if (s->mode == SOCK_MODE_DGRAM) {
        qfd.dest = (const struct sockaddr *)&s->addr.ss; /* unconnected: sendto */
        qfd.dest_len = s->addr.len;
    }
    if (s->stream) {
        sock_set_nodelay(fd);
    }
    g_free(s->peer_text);
    s->peer_text = peer;
    if (!netbe_backend_set_queue_fd(s->be, 0, &qfd, errp)) {
        return false;
    }
    s->warned_connect = false;
    s->refused = 0;
    s->up_since = g_get_monotonic_time();
    if (s->stream) {
        netbe_backend_peer_event(s->be, s->peer_text, true, NULL);
    }
    return true;
}

/* A stream connection came up on @fd (taken), to @peer (taken). */
static void conn_up(SockState *s, int fd, char *peer)
{
    g_autoptr(GError) err = NULL;

    if (!sock_conn_hand(s, fd, peer, &err)) {
        g_warning("netdev '%s': %s", s->id, err->message);
        return;
    }
    /* a server that takes us and closes at once, again and again, fills no log */
    g_log(G_LOG_DOMAIN, s->brief_streak > 1 ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_MESSAGE,
          "netdev '%s': connected to %s", s->id, peer);
}

/* Why the core found the data socket broken, for the log. */
static const char *broken_reason(int err)
{
    if (err == 0) {
        return "closed the connection";
    }
    if (err == EPROTO) {
        return "bad frame length";
    }
    return g_strerror(err);
}

/* A client lost its peer: reconnect after reconnect seconds, or stay down. */
static void client_lost(SockState *s, const char *peer, const char *why)
{
    bool brief = g_get_monotonic_time() - s->up_since < (gint64)SOCK_BRIEF_MS * 1000;
    bool quiet = s->brief_streak > 0; /* the first brief one was logged */

    if (!s->reconnect_s) {
        g_message("netdev '%s': peer %s went away (%s); not reconnecting (reconnect = 0)", s->id,
                  peer, why);
        return;
    }
    /* a server that takes us and closes at once (busy with another peer) must not fill
     * the log every reconnect seconds: after the first time, debug */
    g_log(G_LOG_DOMAIN, quiet ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_MESSAGE,
          "netdev '%s': peer %s went away (%s); reconnecting in %u s%s", s->id, peer, why,
          s->reconnect_s,
          brief && !quiet ? " (it closed at once; while it does, this is logged at debug level)"
                          : "");
    s->brief_streak = brief ? MIN(s->brief_streak + 1, 2u) : 0;
    sock_schedule_retry(s, s->reconnect_s * 1000);
}

/*
 * sock_queue_broken() - the core found the data socket broken (@err, 0: the peer closed,
 * EPROTO: a frame length beyond SOCK_FRAME_MAX) and closed it. Listen again (server),
 * reconnect after reconnect seconds (client), or stay down (client without reconnect,
 * inherited fd, datagram socket). Counters live in the core and continue.
 */
void sock_queue_broken(NetbeBackend *be, unsigned queue, int err)
{
    SockState *s = netbe_backend_priv(be);
    g_autofree char *peer = g_steal_pointer(&s->peer_text);
    const char *why = broken_reason(err);

    (void)queue;
    if (!peer) {
        peer = g_strdup("(unknown)");
    }
    if (s->stream) {
        netbe_backend_peer_event(be, peer, false, why);
    }
    if (err == EPROTO && s->stream) {
        g_warning("netdev '%s': dropping the connection to %s: it sent a frame length over %d "
                  "bytes, the framing is lost",
                  s->id, peer, SOCK_FRAME_MAX);
    }
    switch (s->mode) {
    case SOCK_MODE_LISTEN:
        g_message("netdev '%s': peer %s went away (%s); waiting for a new peer on %s", s->id, peer,
                  why, s->addr.text);
        break;
    case SOCK_MODE_CONNECT:
        client_lost(s, peer, why);
        break;
    case SOCK_MODE_DGRAM:
        g_warning("netdev '%s': the datagram socket to %s failed (%s); the netdev stays down",
                  s->id, peer, why);
        break;
    case SOCK_MODE_FD:
        g_message("netdev '%s': peer %s went away (%s); an inherited fd cannot be reopened, "
                  "the netdev stays down",
                  s->id, peer, why);
        break;
    }
}

/* A non-blocking connect finished (writable or error). */
static void connect_finish(SockState *s)
{
    int err = 0, fd = s->connect_fd;
    socklen_t len = sizeof(err);

    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err == 0) {
        netbe_fd_watch_free(s->connect_watch);
        s->connect_watch = NULL;
        s->connect_fd = -1;
        conn_up(s, fd, g_strdup(s->addr.text));
        return;
    }
    connect_abandon(s);
    if (!s->reconnect_s) {
        g_warning("netdev '%s': cannot connect to %s: %s; not retrying (reconnect = 0)", s->id,
                  s->addr.text, g_strerror(err));
        return;
    }
    if (!s->warned_connect) {
        g_message("netdev '%s': cannot connect to %s: %s; retrying every %u s", s->id, s->addr.text,
                  g_strerror(err), s->reconnect_s);
        s->warned_connect = true;
    }
    sock_schedule_retry(s, s->reconnect_s * 1000);
}

/* sock_connect_event() - the connect in progress completed or failed. */
void sock_connect_event(int fd, GIOCondition revents, void *opaque)
{
    (void)fd;
    (void)revents;
    connect_finish(opaque);
}

/* Refuse a connection while a peer is up: accept it and close it at once. */
static void refuse(SockState *s, int fd, const struct sockaddr_storage *ss, socklen_t len)
{
    g_autofree char *who = sock_addr_format((const struct sockaddr *)ss, len);

    if (s->refused++ == 0) {
        g_message("netdev '%s': refused a connection from %s: peer %s is connected "
                  "(one peer at a time)",
                  s->id, who, s->peer_text);
    } else {
        g_debug("netdev '%s': refused a connection from %s", s->id, who);
    }
    close(fd);
}

/* sock_listen_event() - the listening socket is readable: take the new peer, or refuse it
 * if one is up. */
void sock_listen_event(int lfd, GIOCondition revents, void *opaque)
{
    SockState *s = opaque;

    (void)revents;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
                /* out of fds or memory: the connection stays pending and the socket
                 * readable, so stop watching it for a second instead of spinning */
                g_message("netdev '%s': accept on %s: %s; trying again in 1 s", s->id, s->addr.text,
                          g_strerror(errno));
                netbe_fd_watch_set_events(s->listen_watch, 0);
                sock_schedule_retry(s, 1000);
            }
            return;
        }
        if (sock_is_up(s)) {
            refuse(s, fd, &ss, len);
            continue;
        }
        conn_up(s, fd, sock_addr_format((const struct sockaddr *)&ss, len));
    }
}

/* The address a socket is bound to, for the log (port 0 becomes the real port). */
static char *bound_text(int fd, const SockAddr *a)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (a->ss.ss_family != AF_UNIX && getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        return sock_addr_format((struct sockaddr *)&ss, len);
    }
    return g_strdup(a->text);
}

/* Listen on the address; on failure nothing is left open (a retry starts afresh). */
static bool listen_start(SockState *s, GError **errp)
{
    int one = 1;
    g_autofree char *where = NULL;
    const char *step = "bind";

    if (!sock_unix_path_claim(&s->addr, SOCK_STREAM, errp)) {
        return false;
    }
    s->listen_fd = sock_open(s->addr.ss.ss_family, SOCK_STREAM, errp, "listen");
    if (s->listen_fd < 0) {
        return false;
    }
    if (s->addr.ss.ss_family != AF_UNIX) {
        setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (bind(s->listen_fd, (struct sockaddr *)&s->addr.ss, s->addr.len) < 0) {
        goto fail;
    }
    s->listen_unlink = s->addr.unix_path != NULL;
    step = "listen";
    if (listen(s->listen_fd, 4) < 0) {
        goto fail;
    }
    where = bound_text(s->listen_fd, &s->addr);
    g_message("netdev '%s': listening on %s", s->id, where);
    s->listen_watch = netbe_fd_watch_new(s->be, s->listen_fd, G_IO_IN, sock_listen_event, s);
    return true;
fail:
    g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot listen on %s: %s: %s", s->addr.text, step,
                g_strerror(errno));
    close(s->listen_fd);
    s->listen_fd = -1;
    return false;
}

/* Start a connect attempt. Return: false (nothing left open) if it failed at once. */
static bool connect_begin(SockState *s, GError **errp)
{
    int fd = sock_open(s->addr.ss.ss_family, SOCK_STREAM, errp, "connect");

    if (fd < 0) {
        return false;
    }
    if (connect(fd, (struct sockaddr *)&s->addr.ss, s->addr.len) == 0) {
        conn_up(s, fd, g_strdup(s->addr.text));
        return true;
    }
    if (errno == EINPROGRESS || errno == EAGAIN) {
        s->connect_fd = fd;
        s->connect_watch = netbe_fd_watch_new(s->be, fd, G_IO_OUT, sock_connect_event, s);
        return true;
    }
    g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot connect to %s: %s", s->addr.text,
                g_strerror(errno));
    close(fd);
    return false;
}

/* Adopt fd = N: check that it is an open socket, find its type, hand it to the core. */
static bool fd_adopt(SockState *s, GError **errp)
{
    int fd = s->inherited_fd, type = 0;
    socklen_t len = sizeof(type);
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char *peer;

    if (fcntl(fd, F_GETFD) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EBADF,
                    "fd %d is not open (was it passed to this process?)", fd);
        return false;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "fd %d is not a socket: %s", fd,
                    g_strerror(errno));
        return false;
    }
    if (type != SOCK_STREAM && type != SOCK_DGRAM) {
        g_set_error(errp, NETBE_BACKEND_ERROR, EINVAL,
                    "fd %d is a socket of type %d (allowed: stream or datagram)", fd, type);
        return false;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    s->stream = type == SOCK_STREAM;
    if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0) {
        g_autofree char *addr = sock_addr_format((struct sockaddr *)&ss, sslen);

        peer = g_strdup_printf("%s (fd %d, %s)", addr, fd, s->stream ? "stream" : "datagram");
    } else {
        peer = g_strdup_printf("fd %d (%s)", fd, s->stream ? "stream" : "datagram");
    }
    s->inherited_fd = -1; /* the core's now, also if it refuses it */
    if (!sock_conn_hand(s, fd, peer, errp)) {
        return false;
    }
    g_message("netdev '%s': connected to %s", s->id, peer);
    return true;
}

/*
 * sock_conn_start() - backend_connect: bind, listen, connect or adopt, as the options
 * say. A client's connect completes in the background; with reconnect > 0 a peer that
 * is not there yet is retried instead of failing.
 * Return: false with @errp set if the transport cannot be set up.
 */
bool sock_conn_start(SockState *s, GError **errp)
{
    GError *err = NULL;

    if (s->listen_fd >= 0 || s->connect_fd >= 0 || sock_is_up(s) || s->retry_timer) {
        return true;
    }
    switch (s->mode) {
    case SOCK_MODE_LISTEN:
        return listen_start(s, errp);
    case SOCK_MODE_CONNECT:
        if (connect_begin(s, &err)) {
            return true;
        }
        if (!s->reconnect_s) {
            g_propagate_error(errp, err);
            return false;
        }
        g_message("netdev '%s': %s; retrying every %u s", s->id, err->message, s->reconnect_s);
        g_error_free(err);
        s->warned_connect = true;
        sock_schedule_retry(s, s->reconnect_s * 1000);
        return true;
    case SOCK_MODE_DGRAM:
        return sock_dgram_open(s, errp);
    case SOCK_MODE_FD:
        return fd_adopt(s, errp);
    }
    return false;
}

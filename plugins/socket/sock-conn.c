// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-conn.c - socket lifecycle: listen and accept, connect and reconnect, inherited fds. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "sock-priv.h"

static bool connect_begin(SockState *s, GError **errp);

/*
 * sock_update_events() - arm the data socket's watch for what is wanted now:
 * writable while connecting or while a send waits; readable while the runtime
 * polls and the receive buffer has room.
 */
void sock_update_events(SockState *s)
{
    GIOCondition ev = 0;

    if (!s->watch) {
        return;
    }
    if (s->adopted_idle) {
        ev = 0; /* handed over to us, not committed yet: the source may still resume */
    } else if (s->connecting) {
        ev = G_IO_OUT;
    } else {
        bool room = !s->stream || s->rx_tail - s->rx_head < SOCK_RX_BUF_SIZE;

        if (s->up && s->polling && room && !s->rx_eof) {
            ev |= G_IO_IN;
        }
        if (s->tx_wait || s->tx_len) {
            ev |= G_IO_OUT;
        }
    }
    if (ev != s->events) {
        s->events = ev;
        netbe_fd_watch_set_events(s->watch, ev);
    }
}

static gboolean kick_fire(gpointer opaque)
{
    SockState *s = opaque;

    g_source_unref(s->kick);
    s->kick = NULL;
    if (!s->up) {
        netbe_backend_tx_ready(s->be, 0); /* frames the core queued meet -ENOTCONN */
    } else if (s->stream) {
        sock_stream_deliver_buffered(s);
    }
    return G_SOURCE_REMOVE;
}

/*
 * sock_schedule_kick() - come back from the main loop soon: to hand buffered frames
 * to a peer that polls again, or to drain the core's queue after the stream went down.
 * Never done synchronously, as the caller may be inside the core's send loop.
 */
void sock_schedule_kick(SockState *s)
{
    if (s->kick) {
        return;
    }
    s->kick = g_idle_source_new();
    g_source_set_priority(s->kick, G_PRIORITY_DEFAULT);
    g_source_set_callback(s->kick, kick_fire, s, NULL);
    g_source_set_name(s->kick, "netbe-socket-kick");
    g_source_attach(s->kick, netbe_backend_context(s->be));
}

static gboolean retry_fire(gpointer opaque)
{
    SockState *s = opaque;
    g_autoptr(GError) err = NULL;

    g_source_unref(s->retry_timer);
    s->retry_timer = NULL;
    if (s->mode == SOCK_MODE_DGRAM) {
        netbe_backend_tx_ready(s->be, 0); /* a busy unix datagram peer: try again */
    } else if (s->mode == SOCK_MODE_LISTEN) {
        netbe_fd_watch_set_events(s->listen_watch, G_IO_IN); /* after an accept error */
    } else if (s->mode == SOCK_MODE_CONNECT && s->fd < 0 && !connect_begin(s, &err)) {
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

/* sock_schedule_retry() - run the mode's retry (reconnect, datagram resend, accept) in @ms. */
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

/* sock_conn_close() - close the data socket and forget its buffered bytes. */
void sock_conn_close(SockState *s)
{
    netbe_fd_watch_free(s->watch);
    s->watch = NULL;
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (s->kick) {
        g_source_destroy(s->kick);
        g_source_unref(s->kick);
        s->kick = NULL;
    }
    s->up = s->connecting = s->tx_wait = false;
    g_free(s->peer_text);
    s->peer_text = NULL;
    sock_stream_reset(s);
}

/* Start using @fd, connected to @peer (taken): frames flow from now on. */
static void conn_attach(SockState *s, int fd, char *peer)
{
    if (s->watch) {
        netbe_fd_watch_free(s->watch); /* the watch of the connect attempt */
        s->watch = NULL;
    }
    s->fd = fd;
    s->up = true;
    s->connecting = false;
    s->warned_connect = false;
    s->refused = 0;
    g_free(s->peer_text);
    s->peer_text = peer;
    sock_stream_reset(s);
    if (s->stream) {
        sock_set_nodelay(fd);
    }
    s->rx_any = false;
    if (s->down_drops) {
        g_log(G_LOG_DOMAIN, s->quiet ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_MESSAGE,
              "netdev '%s': connected to %s (%" G_GUINT64_FORMAT
              " frames were dropped while it was down)",
              s->id, peer, s->down_drops);
    } else {
        g_log(G_LOG_DOMAIN, s->quiet ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_MESSAGE,
              "netdev '%s': connected to %s", s->id, peer);
    }
    s->down_drops = 0;
    s->events = 0;
    s->watch = netbe_fd_watch_new(s->be, fd, 0, sock_conn_event, s);
    sock_update_events(s);
}

/*
 * sock_conn_lost() - the stream peer is gone: close, then listen again (server),
 * reconnect after reconnect seconds (client), or stay down (client without
 * reconnect, inherited fd). Counters live in the core and continue.
 * @why: the cause, for the log
 */
void sock_conn_lost(SockState *s, const char *why)
{
    g_autofree char *peer = g_strdup(s->peer_text ? s->peer_text : "(unknown)");

    sock_conn_close(s);
    switch (s->mode) {
    case SOCK_MODE_LISTEN:
        g_message("netdev '%s': peer %s went away (%s); waiting for a new peer on %s", s->id, peer,
                  why, s->addr.text);
        break;
    case SOCK_MODE_CONNECT:
        if (s->reconnect_s) {
            /* a server that takes us and closes at once (busy with another peer) must
             * not fill the log every reconnect seconds: the second time is debug */
            g_log(G_LOG_DOMAIN, s->quiet ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_MESSAGE,
                  "netdev '%s': peer %s went away (%s); reconnecting in %u s%s", s->id, peer, why,
                  s->reconnect_s,
                  s->rx_any || s->quiet
                      ? ""
                      : " (it sent nothing; until it does, this is logged at debug level)");
            s->quiet = !s->rx_any;
            sock_schedule_retry(s, s->reconnect_s * 1000);
        } else {
            g_message("netdev '%s': peer %s went away (%s); not reconnecting (reconnect = 0)",
                      s->id, peer, why);
        }
        break;
    default:
        g_message("netdev '%s': peer %s went away (%s); an inherited fd cannot be reopened, "
                  "the netdev stays down",
                  s->id, peer, why);
        break;
    }
    sock_schedule_kick(s); /* frames the core holds for us are dropped and counted */
}

/* A non-blocking connect finished (writable or error). */
static void connect_finish(SockState *s)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err == 0) {
        conn_attach(s, s->fd, g_strdup(s->addr.text));
        return;
    }
    sock_conn_close(s);
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

/*
 * sock_conn_event() - events on the data socket: connect completion, writable
 * (flush the unsent tail, then let the core send again), readable, hang-up.
 */
void sock_conn_event(int fd, GIOCondition revents, void *opaque)
{
    SockState *s = opaque;
    int err = 0;

    if (s->connecting) {
        connect_finish(s);
        return;
    }
    if (revents & G_IO_OUT) {
        if (s->stream && s->tx_len && !sock_stream_flush_tail(s, &err)) {
            if (err) {
                sock_conn_lost(s, g_strerror(err));
                return;
            }
        } else {
            s->tx_wait = false;
            sock_update_events(s);
            netbe_backend_tx_ready(s->be, 0);
            if (s->fd != fd) {
                return;
            }
        }
    }
    if (revents & G_IO_IN) {
        if (s->stream) {
            sock_stream_readable(s);
        } else {
            netbe_backend_rx_ready(s->be, 0, SOCK_RX_BUDGET);
        }
        return;
    }
    if (revents & (G_IO_HUP | G_IO_ERR)) {
        socklen_t len = sizeof(err);

        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len); /* also clears it */
        if (s->stream || (revents & G_IO_HUP)) {
            sock_conn_lost(s, err ? g_strerror(err) : "hang-up");
        } else if (err) {
            g_debug("netdev '%s': socket error %s", s->id, g_strerror(err));
        }
    }
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
        if (s->fd >= 0) {
            refuse(s, fd, &ss, len);
            continue;
        }
        conn_attach(s, fd, sock_addr_format((const struct sockaddr *)&ss, len));
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
        conn_attach(s, fd, g_strdup(s->addr.text));
        return true;
    }
    if (errno == EINPROGRESS || errno == EAGAIN) {
        s->fd = fd;
        s->connecting = true;
        s->events = G_IO_OUT;
        s->watch = netbe_fd_watch_new(s->be, fd, G_IO_OUT, sock_conn_event, s);
        return true;
    }
    g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot connect to %s: %s", s->addr.text,
                g_strerror(errno));
    close(fd);
    return false;
}

/* Adopt fd = N: check that it is an open socket and find its type. */
static bool fd_adopt(SockState *s, GError **errp)
{
    int fd = s->inherited_fd, type = 0, flags;
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
    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "fd %d: cannot make it non-blocking: %s", fd,
                    g_strerror(errno));
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
    s->inherited_fd = -1; /* ours now: closed with the connection */
    conn_attach(s, fd, peer);
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

    if (s->listen_fd >= 0 || s->fd >= 0 || s->retry_timer) {
        return true;
    }
    if (s->mode != SOCK_MODE_DGRAM && !s->rx_buf) {
        /* stream capable: an fd may turn out to be one */
        s->rx_buf = g_malloc(SOCK_RX_BUF_SIZE);
        s->tx_buf = g_malloc(SOCK_FRAME_MAX + SOCK_LEN_SIZE);
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

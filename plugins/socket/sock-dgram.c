// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-dgram.c - datagram data path: one frame per UDP or unix datagram. */
#include <errno.h>
#include <string.h>
#include "sock-priv.h"

/*
 * sock_dgram_open() - bind the local address (udp + localaddr, or local) and start
 * receiving; frames go to the remote address with sendmsg().
 * Return: false with @errp set if the socket cannot be bound.
 */
bool sock_dgram_open(SockState *s, GError **errp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    g_autofree char *where = NULL;

    if (!sock_unix_path_claim(&s->local, SOCK_DGRAM, errp)) {
        return false;
    }
    s->fd = sock_open(s->local.ss.ss_family, SOCK_DGRAM, errp, "bind");
    if (s->fd < 0) {
        return false;
    }
    if (bind(s->fd, (struct sockaddr *)&s->local.ss, s->local.len) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot bind %s: %s", s->local.text,
                    g_strerror(errno));
        close(s->fd);
        s->fd = -1; /* nothing left open: a retry starts afresh */
        return false;
    }
    s->local_unlink = s->local.unix_path != NULL;
    if (s->local.ss.ss_family != AF_UNIX && getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0) {
        where = sock_addr_format((struct sockaddr *)&ss, len);
    }
    g_message("netdev '%s': datagrams on %s to %s", s->id, where ? where : s->local.text,
              s->addr.text);
    s->up = true;
    s->peer_text = g_strdup(s->addr.text);
    s->events = 0;
    s->watch = netbe_fd_watch_new(s->be, s->fd, 0, sock_conn_event, s);
    sock_update_events(s);
    return true;
}

/*
 * sock_dgram_send() - one frame, one datagram, to the remote address (or the
 * inherited socket's peer).
 * Return: frame length, 0 busy (retried when writable), -errno when dropped (a
 * refusing or missing peer is logged once until sending works again).
 */
ssize_t sock_dgram_send(SockState *s, const struct iovec *iov, int iovcnt)
{
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
    ssize_t n;

    if (s->mode == SOCK_MODE_DGRAM) {
        mh.msg_name = &s->addr.ss;
        mh.msg_namelen = s->addr.len;
    }
    do {
        n = sendmsg(s->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n >= 0) {
        if (s->warned_send) {
            g_message("netdev '%s': sending to %s works again", s->id, s->peer_text);
            s->warned_send = false;
        }
        return n;
    }
    if (errno == EAGAIN) {
        if (s->mode == SOCK_MODE_DGRAM && s->addr.ss.ss_family == AF_UNIX) {
            /* a full unconnected unix peer does not make us unwritable: poll a bit later */
            sock_schedule_retry(s, SOCK_DGRAM_RETRY_MS);
        } else {
            s->tx_wait = true;
            sock_update_events(s);
        }
        return 0;
    }
    n = -errno;
    if (n == -EMSGSIZE) {
        g_debug("netdev '%s': a %zu-byte frame is too long for %s", s->id,
                sock_iov_size(iov, iovcnt), s->peer_text);
    } else if (!s->warned_send) {
        g_message("netdev '%s': cannot send to %s: %s; dropping frames until it works", s->id,
                  s->peer_text, g_strerror((int)-n));
        s->warned_send = true;
    }
    return n;
}

/*
 * sock_dgram_recv() - read one datagram straight into the peer's iovec.
 * Return: its length, 0 if none is pending, -EMSGSIZE if it did not fit,
 * -EINVAL for an empty one, -EAGAIN after a transient socket error (not a frame).
 */
ssize_t sock_dgram_recv(SockState *s, const struct iovec *iov, int iovcnt)
{
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = iovcnt};
    ssize_t n;

    do {
        n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN) {
            g_debug("netdev '%s': receive: %s", s->id, g_strerror(errno));
            return -EAGAIN;
        }
        return 0;
    }
    if (mh.msg_flags & MSG_TRUNC) {
        return -EMSGSIZE;
    }
    return n ? n : -EINVAL;
}

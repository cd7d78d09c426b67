// SPDX-License-Identifier: LGPL-2.1-or-later
/* sock-dgram.c - datagram transports: bind the local address, hand the socket to the core. */
#include <errno.h>
#include <unistd.h>
#include "sock-priv.h"

/*
 * sock_dgram_open() - bind the local address (udp + localaddr, or local) and hand the
 * socket to the core: one frame per datagram, sent to the remote address (sendto), received
 * from any sender (as QEMU).
 * Return: false with @errp set if the socket cannot be bound.
 */
bool sock_dgram_open(SockState *s, GError **errp)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    g_autofree char *where = NULL;
    int fd;

    if (!sock_unix_path_claim(&s->local, SOCK_DGRAM, errp)) {
        return false;
    }
    fd = sock_open(s->local.ss.ss_family, SOCK_DGRAM, errp, "bind");
    if (fd < 0) {
        return false;
    }
    if (bind(fd, (struct sockaddr *)&s->local.ss, s->local.len) < 0) {
        g_set_error(errp, NETBE_BACKEND_ERROR, errno, "cannot bind %s: %s", s->local.text,
                    g_strerror(errno));
        close(fd); /* nothing left open: a retry starts afresh */
        return false;
    }
    s->local_unlink = s->local.unix_path != NULL;
    if (s->local.ss.ss_family != AF_UNIX && getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        where = sock_addr_format((struct sockaddr *)&ss, len);
    }
    if (!sock_conn_hand(s, fd, g_strdup(s->addr.text), errp)) {
        return false;
    }
    g_message("netdev '%s': datagrams on %s to %s", s->id, where ? where : s->local.text,
              s->addr.text);
    return true;
}

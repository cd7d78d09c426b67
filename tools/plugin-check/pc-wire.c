// SPDX-License-Identifier: GPL-2.0-or-later
/* pc-wire.c - netbe-plugin-check: the far end of an fd plugin's queue (a socket's peer, or
 * the TAP device's interface), where frames are written and read back. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/ethernet.h>
#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "pc-peer.h"
#include "pc-wire.h"

#define PC_WIRE_BUF (65536 + 64)

static bool queue_has_fd(void *opaque)
{
    return netbe_backend_get_queue_fd(opaque, 0) >= 0;
}

/* A listening socket among the fds backend_connect opened, or -1. */
static int find_listener(GHashTable *before)
{
    g_autoptr(GHashTable) now = pc_fds_snapshot();
    GHashTableIter it;
    gpointer key, value;

    g_hash_table_iter_init(&it, now);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        int fd = GPOINTER_TO_INT(key), on = 0;
        socklen_t len = sizeof(on);

        if (!g_hash_table_contains(before, key) && g_str_has_prefix(value, "socket:") &&
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on) {
            return fd;
        }
    }
    return -1;
}

/* Connect to the plugin's listening socket and wait for the queue fd it hands the core. */
static bool connect_listener(NetbeRuntime *rt, NetbeBackend *be, int lfd, PcWire *w, char **why)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int type = 0;
    socklen_t tlen = sizeof(type);

    if (getsockname(lfd, (struct sockaddr *)&ss, &len) < 0 ||
        getsockopt(lfd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0) {
        *why = g_strdup_printf("its listening socket: %s", g_strerror(errno));
        return false;
    }
    w->fd = socket(ss.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (w->fd < 0 || (connect(w->fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)) {
        *why = g_strdup_printf("connecting to its listening socket: %s", g_strerror(errno));
        return false;
    }
    if (!pc_run_until(rt, queue_has_fd, be, 2000)) {
        *why = g_strdup("it listens, but handed no queue fd within 2 s of a peer connecting");
        return false;
    }
    w->what = g_strdup("a peer the check connected to the plugin's listening socket");
    return true;
}

/* Bring interface @name up and open an AF_PACKET socket on it. */
static bool open_ether(const char *name, PcWire *w, char **why)
{
    struct ifreq ifr = {0};
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
    int ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
    if (ctl < 0 || ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0) {
        *why = g_strdup_printf("interface %s: %s", name, g_strerror(errno));
        goto fail;
    }
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(ctl, SIOCSIFFLAGS, &ifr) < 0 || ioctl(ctl, SIOCGIFINDEX, &ifr) < 0) {
        *why = g_strdup_printf("bringing %s up: %s", name, g_strerror(errno));
        goto fail;
    }
    sll.sll_ifindex = ifr.ifr_ifindex;
    w->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
    if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        *why = g_strdup_printf("a packet socket on %s: %s", name, g_strerror(errno));
        goto fail;
    }
    close(ctl);
    w->kind = PC_WIRE_ETHER;
    w->what = g_strdup_printf("a packet socket on the TAP's interface %s", name);
    return true;
fail:
    if (ctl >= 0) {
        close(ctl);
    }
    return false;
}

/* The far end of a datagram queue fd: bind where its frames go, talk to where it is bound. */
static bool open_datagram_peer(NetbeBackend *be, int qfd, PcWire *w, char **why)
{
    const NetbeQueueIo *io = &be->queues[0].io;
    struct sockaddr_storage far, near;
    socklen_t far_len = sizeof(far), near_len = sizeof(near);
    int type = 0;
    socklen_t tlen = sizeof(type);

    if (getsockopt(qfd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_DGRAM ||
        getsockname(qfd, (struct sockaddr *)&near, &near_len) < 0) {
        return false;
    }
    if (io->dest_len) {
        memcpy(&far, &io->dest, io->dest_len);
        far_len = io->dest_len;
    } else if (getpeername(qfd, (struct sockaddr *)&far, &far_len) < 0) {
        return false;
    }
    if (far_len <= sizeof(sa_family_t) || near_len <= sizeof(sa_family_t)) {
        return false; /* an unnamed end (a socket pair): nothing to bind or send to */
    }
    w->fd = socket(far.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (w->fd < 0 || bind(w->fd, (struct sockaddr *)&far, far_len) < 0 ||
        connect(w->fd, (struct sockaddr *)&near, near_len) < 0) {
        *why = g_strdup_printf("queue 0 is a datagram socket, but its far end cannot be taken "
                               "by the check: %s",
                               g_strerror(errno));
        pc_wire_close(w);
        return false;
    }
    if (far.ss_family == AF_UNIX && ((struct sockaddr_un *)&far)->sun_path[0]) {
        w->path = g_strdup(((struct sockaddr_un *)&far)->sun_path);
    }
    w->kind = PC_WIRE_PACKET;
    w->what = g_strdup("a socket the check bound where the plugin's datagrams go");
    return true;
}

bool pc_wire_find(NetbeRuntime *rt, NetbeBackend *be, GHashTable *before, PcWire *w, char **why)
{
    int qfd = netbe_backend_get_queue_fd(be, 0);
    struct ifreq ifr = {0};
    g_autofree char *proc = NULL, *link = NULL;
    int lfd;

    *w = (PcWire){.fd = -1, .framing = be->desc->stream_framing};
    *why = NULL;
    if (qfd < 0 && (lfd = find_listener(before)) >= 0 && !connect_listener(rt, be, lfd, w, why)) {
        return false;
    }
    qfd = netbe_backend_get_queue_fd(be, 0);
    if (w->fd >= 0) {
        w->kind =
            be->queues[0].io.framing == NETBE_FRAMING_STREAM ? PC_WIRE_STREAM : PC_WIRE_PACKET;
        return true;
    }
    if (qfd < 0) {
        *why = g_strdup("queue 0 has no fd and the plugin listens on nothing");
        return false;
    }
    if (ioctl(qfd, TUNGETIFF, &ifr) == 0 && (ifr.ifr_flags & IFF_TAP)) {
        return open_ether(ifr.ifr_name, w, why);
    }
    if (open_datagram_peer(be, qfd, w, why)) {
        return true;
    }
    if (*why) {
        return false;
    }
    proc = g_strdup_printf("/proc/self/fd/%d", qfd);
    link = g_file_read_link(proc, NULL);
    *why = g_strdup_printf("queue 0's fd is %s, whose far end the check cannot reach (a "
                           "listening socket, a datagram socket or a TAP can be looped)",
                           link ? link : "?");
    return false;
}

void pc_wire_close(PcWire *w)
{
    if (w->fd >= 0) {
        close(w->fd);
    }
    w->fd = -1;
    if (w->path) {
        unlink(w->path);
    }
    g_clear_pointer(&w->path, g_free);
    g_clear_pointer(&w->what, g_free);
}

/* Write all of @len bytes, waiting for POLLOUT up to a second at a time. */
static bool write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        struct pollfd pfd = {fd, POLLOUT, 0};

        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EAGAIN && poll(&pfd, 1, 1000) == 1) {
            continue;
        } else {
            return false;
        }
    }
    return true;
}

bool pc_wire_write(PcWire *w, const uint8_t *frame, size_t len)
{
    uint8_t prefix[NETBE_STREAM_PREFIX_MAX];

    if (w->kind == PC_WIRE_STREAM) {
        w->framing->write_prefix(prefix, len);
        return write_all(w->fd, prefix, w->framing->prefix_len) && write_all(w->fd, frame, len);
    }
    return send(w->fd, frame, len, 0) == (ssize_t)len;
}

/* Read exactly @len bytes of a stream before @deadline (monotonic µs). */
static bool read_exact(int fd, uint8_t *p, size_t len, gint64 deadline)
{
    while (len) {
        int left = (int)((deadline - g_get_monotonic_time()) / 1000);
        struct pollfd pfd = {fd, POLLIN, 0};
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, left) != 1) {
            return false;
        }
        n = read(fd, p, len);
        if (n <= 0 && !(n < 0 && errno == EAGAIN)) {
            return false;
        }
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
    }
    return true;
}

/* Read one frame into @buf before @deadline. Return: its length, or -1. */
static ssize_t read_frame(PcWire *w, uint8_t *buf, gint64 deadline)
{
    uint8_t prefix[NETBE_STREAM_PREFIX_MAX];
    struct pollfd pfd = {w->fd, POLLIN, 0};
    int left = (int)((deadline - g_get_monotonic_time()) / 1000);
    ssize_t len;

    if (w->kind == PC_WIRE_STREAM) {
        if (!read_exact(w->fd, prefix, w->framing->prefix_len, deadline)) {
            return -1;
        }
        len = w->framing->frame_len(prefix);
        return len >= 0 && len <= PC_WIRE_BUF && read_exact(w->fd, buf, (size_t)len, deadline) ? len
                                                                                               : -1;
    }
    for (;;) {
        struct sockaddr_ll from;
        socklen_t flen = sizeof(from);

        if (left <= 0 || poll(&pfd, 1, left) != 1) {
            return -1;
        }
        len = recvfrom(w->fd, buf, PC_WIRE_BUF, 0, (struct sockaddr *)&from, &flen);
        /* a packet socket also sees what it sent itself */
        if (len >= 0 && !(w->kind == PC_WIRE_ETHER && from.sll_pkttype == PACKET_OUTGOING)) {
            return len;
        }
        left = (int)((deadline - g_get_monotonic_time()) / 1000);
    }
}

bool pc_wire_expect(PcWire *w, const uint8_t *frame, size_t len, int ms)
{
    g_autofree uint8_t *buf = g_malloc(PC_WIRE_BUF);
    gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
    ssize_t n;

    while ((n = read_frame(w, buf, deadline)) >= 0) {
        if ((size_t)n >= len && memcmp(buf, frame, len) == 0) {
            return true;
        }
    }
    return false;
}
